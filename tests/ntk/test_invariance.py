"""Tests of symcorr.ntk.invariance: the paired Monte Carlo test of the law of the NTK under a group
(paper section 5), each passing symmetry with its breaking counterpart, and agreement with the prover.

Every statistical check fixes its seed; tolerances are Holm family-wise alpha = 0.01 and |z| > 10 for
the breaking cases.
"""

import math

import pytest
import sympy as sp
import torch

from symcorr import zoo
from symcorr.distributions import Normal
from symcorr.errors import SpecError
from symcorr.ntk import NTKInvarianceResult, ntk_expectation, ntk_invariance_test
from symcorr.verdicts import Expectation, Side


X2 = torch.tensor([[0.3, -0.5], [1.0, 0.2], [-0.4, 0.8]], dtype=torch.float64)
XT = torch.tensor([[0.3, -0.5], [1.0, 0.2]], dtype=torch.float64)


def test_output_rotations_are_an_ntk_symmetry_and_a_readout_mean_breaks_them():
    """E[Theta_ab] = delta_ab Theta-bar and the law of Theta is conjugation invariant (Holm, alpha 0.01,
    orders 1 and 2); a read-out mean mu_a mu_b term breaks it."""
    ok = ntk_invariance_test(zoo.erf_net(2, 8, 3), "SO", "output", XT, networks=3000, seed=3)
    assert ok.invariant, ok.markdown()
    bad = ntk_invariance_test(zoo.erf_net(2, 8, 3, readout_mean=0.3), "SO", "output", XT, networks=3000, seed=3)
    assert not bad.invariant and bad.statistic > 10, bad.markdown()


def test_input_rotations_are_an_ntk_symmetry_and_anisotropic_first_layer_breaks_them():
    ok = ntk_invariance_test(zoo.erf_net(2, 8, 2), "SO", "input", XT, networks=3000, seed=4)
    assert ok.invariant, ok.markdown()
    aniso = zoo.erf_net(2, 8, 2).replace_layer(0, weight=Normal(0, 0.5, col_cov=[[1, 0], [0, 3]]))
    bad = ntk_invariance_test(aniso, "SO", "input", XT, networks=3000, seed=4)
    assert not bad.invariant and bad.statistic > 10, bad.markdown()


def test_cos_net_ntk_is_not_translation_invariant_and_the_breaking_sits_in_the_W0_block():
    """Predicted failure (paper section 5): the translation is absorbed by a shear, not an orthogonal map.
    Without the W0 block (the kernel of training only b0, W1, b1) the law is translation invariant."""
    net = zoo.cos_net(2, 8, 2)
    full = ntk_invariance_test(net, "translations", "input", XT, networks=3000, seed=5, orders=(1,))
    assert not full.invariant and full.statistic > 10, full.markdown()
    rest = ntk_invariance_test(net, "translations", "input", XT, networks=3000, seed=5,
                               blocks=["b0", "W1", "b1"])
    assert rest.invariant, rest.markdown()
    # the expectation says why: E[Theta^{W0}] carries x . x', which a translation changes
    exp = ntk_expectation(net)
    c = torch.tensor([0.7, -1.1], dtype=torch.float64)
    moved = exp.evaluate(XT + c)
    here = exp.evaluate(XT)
    assert float((moved - here).abs().max()) > 0.1
    blocks_here, blocks_moved = exp.blocks(XT[0].tolist(), XT[1].tolist()), exp.blocks(
        (XT[0] + c).tolist(), (XT[1] + c).tolist())
    for name in ("b0", "W1", "b1"):
        assert float(sp.N(blocks_here[name] - blocks_moved[name])) == pytest.approx(0, abs=1e-12)
    assert abs(float(sp.N(blocks_here["W0"] - blocks_moved["W0"]))) > 0.1


def test_explicit_elements_and_group_membership_are_validated():
    net = zoo.erf_net(2, 4, 2)
    with pytest.raises(SpecError, match="not an element"):
        ntk_invariance_test(net, "SO", "input", XT, networks=10, seed=0, elements=torch.eye(2) * 2)
    with pytest.raises(SpecError, match="shape"):
        ntk_invariance_test(net, "SO", "input", XT, networks=10, seed=0, elements=torch.eye(3))
    with pytest.raises(SpecError, match="translations act on inputs"):
        ntk_invariance_test(net, "translations", "output", XT, networks=10, seed=0)
    # explicit translation vectors: the zero shift is trivially invariant (every difference is exactly 0)
    res = ntk_invariance_test(net, "translations", "input", XT, networks=100, seed=0,
                              elements=torch.zeros(1, 2))
    assert res.invariant and res.statistic == 0
    with pytest.raises(SpecError, match="shape"):
        ntk_invariance_test(net, "translations", "input", XT, networks=10, seed=0, elements=torch.zeros(1, 3))
    many = torch.randn(12, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with pytest.raises(SpecError, match="exceed the limit"):
        ntk_invariance_test(zoo.erf_net(2, 4, 4), "SO", "output", many, networks=10, seed=0)


def test_too_small_ensembles_are_refused():
    """One network gave a proven symmetry max|z| = 5e13 ("broken"); a test needs at least 100 networks."""
    with pytest.raises(SpecError, match="too few for a statistical test"):
        ntk_invariance_test(zoo.erf_net(2, 4, 2), "SO", "output", XT, networks=99, seed=0)


def test_validation_errors():
    net = zoo.erf_net(2, 4, 2)
    with pytest.raises(SpecError, match="d_out|output dimension|dimension"):
        ntk_invariance_test(net, "SO(3)", "output", X2, networks=10, seed=0)
    with pytest.raises(SpecError, match="'on'"):
        ntk_invariance_test(net, "SO", "sideways", XT, networks=10, seed=0)


PROVER_CASES = [
    (zoo.erf_net(2, 8, 3), "SO", "output", "proven"),
    (zoo.erf_net(2, 8, 3, readout_mean=0.3), "SO", "output", "refuted"),
    (zoo.erf_net(2, 8, 2), "SO", "input", "proven"),
    (zoo.erf_net(2, 8, 2).replace_layer(0, weight=Normal(0, 0.5, col_cov=[[1, 0], [0, 3]])), "SO", "input",
     "refuted"),
    (zoo.cos_net(2, 8, 2), "translations", "input", "refuted"),
    (zoo.cos_net(2, 8, 2), "SO", "input", "proven"),
]


@pytest.mark.parametrize("network,group,on,verdict", PROVER_CASES)
def test_prover_ntk_verdicts_agree_with_monte_carlo(network, group, on, verdict):
    """prove_invariance(..., correlator="ntk") and the paired Monte Carlo test reach the same verdict
    (3000 networks, Holm alpha = 0.01; every refuted case is rejected with max |z| > 10)."""
    from symcorr.duality import prove_invariance
    proof = prove_invariance(network, group, on=on, correlator="ntk")
    assert proof.verdict == verdict, proof.markdown()
    mc = ntk_invariance_test(network, group, on, XT, networks=3000, seed=8,
                             orders=(1,) if group == "translations" else (1, 2))
    assert mc.invariant == (verdict == "proven"), mc.markdown()
    if verdict == "refuted":
        assert mc.statistic > 10
    if group == "translations":  # the function density is invariant all the same
        assert prove_invariance(network, group, on=on, correlator="function").verdict == "proven"


# ----------------------------------------------------------------------------------------------------
# typed verdicts and the NaN rule (symcorr.montecarlo.statistics.HolmVerdict)
# ----------------------------------------------------------------------------------------------------
def test_verdicts_are_typed_and_sides_parsed():
    net = zoo.erf_net(2, 4, 2)
    ok = ntk_invariance_test(net, "SO", "output", XT, networks=200, seed=1, orders=(1,))
    assert ok.on is Side.OUTPUT and ok.verdict is Expectation.INVARIANT and ok.verdict == "invariant"
    bad = ntk_invariance_test(zoo.erf_net(2, 4, 2, readout_mean=0.5), "SO", "output", XT, networks=200, seed=1,
                              orders=(1,))
    assert bad.verdict is Expectation.BROKEN and bad.verdict == "broken" and bad.rejected
    assert ntk_invariance_test(net, "SO", Side.INPUT, XT, networks=200, seed=1, orders=(1,)).on is Side.INPUT


def _result_with(z1: torch.Tensor) -> NTKInvarianceResult:
    """An NTKInvarianceResult assembled from given order-1 z-scores (one group element)."""
    from symcorr.montecarlo.statistics import holm_adjust, two_sided_p
    z = {1: z1.reshape(1, -1)}
    return NTKInvarianceResult(group="SO(2)", on=Side.OUTPUT, orders=(1,), networks=10,
                               elements=torch.eye(2)[None], alpha=0.01, difference={1: z[1].clone()},
                               se={1: torch.ones_like(z[1])}, z=z,
                               p_holm={1: holm_adjust(two_sided_p(z[1])).reshape(z[1].shape)},
                               labels={1: [f"s{i}" for i in range(z1.numel())]})


def test_a_nan_statistic_is_undecided_never_invariant():
    """Before the NaN rule a NaN z gave a NaN p-value, `p <= alpha` was False and the result said
    "invariant"; now it is undecided, with the reason in the summary."""
    fine = _result_with(torch.tensor([0.3, -1.2, 0.8], dtype=torch.float64))
    assert fine.verdict is Expectation.INVARIANT and fine.reason is None
    nan = _result_with(torch.tensor([0.3, math.nan, 0.8], dtype=torch.float64))
    assert nan.verdict is Expectation.UNDECIDED and nan.verdict != "invariant"
    assert not nan.invariant and not nan.rejected and not bool(nan)
    assert nan.undecided_tests == 1 and "NaN" in nan.reason
    assert "undecided" in nan.summary() and nan.reason in nan.markdown()
    # a NaN next to an overwhelming signal is still undecided: the estimate itself is broken
    loud = _result_with(torch.tensor([40.0, math.nan], dtype=torch.float64))
    assert loud.verdict is Expectation.UNDECIDED
