"""decide_invariance: typed steps and verdicts without prose, and engines that fail are visible, open and
never decide (injected with monkeypatch)."""

import pytest
import sympy as sp

from symcorr import Dense, Laplace, Network, Normal, size_symbol, zoo
from symcorr.duality import decide_invariance, prove_invariance, symmetry_group
from symcorr.duality import decision as dmod
from symcorr.duality import render
from symcorr.duality.absorb import Absorption
from symcorr.duality.decision import (AbsorptionStep, ChangeOfVariablesStep, GpLimitStep, GpRole, InvarianceDecision,
                                      LawStep, NtkStep, Route, WitnessStep)
from symcorr.duality.moments import TwoLayerModel
from symcorr.errors import SpecError
from symcorr.groups import Orthogonal, SpecialOrthogonal
from symcorr.verdicts import CorrelatorKind, ProofVerdict, Side, StepStatus

N, D = size_symbol("N"), size_symbol("D")
HALF = sp.Rational(1, 2)


def _raise(exc):
    def fn(*args, **kwargs):
        raise exc
    return fn


# ----------------------------------------------------------------------------------------------------
# the decision object
# ----------------------------------------------------------------------------------------------------
def test_a_parameter_space_proof_is_typed_steps():
    d = decide_invariance(zoo.erf_net(D, N, 2), "SO", "input")
    assert isinstance(d, InvarianceDecision)
    assert d.verdict is ProofVerdict.PROVEN and d.route is Route.PARAMETER_MAP
    assert d.on is Side.INPUT and d.correlator is CorrelatorKind.FUNCTION
    assert [type(s) for s in d.steps] == [AbsorptionStep, ChangeOfVariablesStep, LawStep]
    assert all(s.status is StepStatus.ESTABLISHED for s in d.steps)
    assert isinstance(d.absorption.absorption, Absorption) and d.failures == () and d.witness is None
    assert not hasattr(d, "residual")                       # the residual search is the catalogue's


def test_routes_and_step_statuses():
    ntk = decide_invariance(zoo.cos_net(2, N, 1), "translations", "input", "ntk")
    assert ntk.verdict is ProofVerdict.REFUTED and ntk.route is Route.WITNESS
    assert isinstance(ntk.ntk, NtkStep) and ntk.ntk.status is StepStatus.FAILS
    assert ntk.laws[0].status is StepStatus.ESTABLISHED and ntk.witness_search.status is StepStatus.FAILS
    gp = decide_invariance(zoo.gauss_net(1, N, 1), "translations", "input", finite_width=False)
    assert gp.verdict is ProofVerdict.PROVEN and gp.route is Route.GP_KERNEL
    assert gp.gp_limit.role is GpRole.DECIDES and gp.gp_limit.status is StepStatus.ESTABLISHED
    finite = decide_invariance(zoo.gauss_net(1, N, 1), "translations", "input", values={N: 2})
    assert finite.contrast.role is GpRole.CONTRAST and finite.contrast.status is StepStatus.INFO
    out = decide_invariance(zoo.erf_net(2, 3, 2), "translations", "output")
    assert out.route is Route.STRUCTURAL and out.impossibility.status is StepStatus.FAILS
    # cos without bias is even: x -> -x is absorbed by the identity map although W0 -> -W0 fails
    even = decide_invariance(Network(1, [Dense(3, "cos", weight=Normal(1, 1)), Dense(1, weight=Normal(0, 1))]),
                             "O", "input")
    assert even.verdict is ProofVerdict.PROVEN and even.route is Route.GENERATORS
    assert even.laws[0].status is StepStatus.FAILS and even.parameter_witness is not None
    assert even.generators.complete and even.generators.elements[0].map.negated == ()
    # with a biased, asymmetric hidden layer and a deep net no map applies and no engine finds a witness
    deep = decide_invariance(Network(1, [Dense(3, "cos", weight=Normal(1, 1), bias=Normal(1, 1)), Dense(3, "tanh"),
                                         Dense(1, weight=Normal(0, 1))]), "O", "input")
    assert deep.verdict is ProofVerdict.UNDECIDED and deep.route is Route.NONE
    assert deep.laws[0].status is StepStatus.FAILS and deep.parameter_witness is not None
    assert deep.generators is not None and not deep.generators.complete
    assert deep.witness_search.orders == (1, 2, 4) and deep.witness_search.status is StepStatus.OPEN


def test_plain_strings_are_parsed_at_the_entry():
    d = decide_invariance(zoo.erf_net(2, 3, 1), "SO", Side.OUTPUT, "NTK ")
    assert d.on is Side.OUTPUT and d.correlator is CorrelatorKind.NTK
    with pytest.raises(SpecError, match="'on' must be one of 'input', 'output'"):
        decide_invariance(zoo.erf_net(2, 3, 1), "SO", "sideways")


def test_the_proof_renders_the_decision():
    proof = prove_invariance(zoo.relu_net(3, N, 4, readout_mean=[1, 1, 0, 0]), "SO", "output")
    assert proof.decision.verdict is proof.verdict is ProofVerdict.REFUTED
    assert [s.markdown() for s in render.proof_steps(proof.decision)] == [s.markdown() for s in proof.steps]
    assert proof.witness is proof.decision.witness


def test_search_witness_false_says_no_search_was_run():
    d = decide_invariance(zoo.erf_net(2, 3, 1).replace_layer(0, weight=Laplace(0, 1)), "SO", "input",
                          search_witness=False)
    assert d.verdict is ProofVerdict.UNDECIDED and d.witness_search is None
    assert "no function-space witness was searched for" in render.proof_steps(d)[-1].body


STANDARD = [
    (zoo.erf_net(D, N, 2), "SO", "input", {}),
    (zoo.relu_net(3, N, 4, readout_mean=[1, 1, 0, 0]), "SO", "output", {}),
    (zoo.gauss_net(1, N, 1), "translations", "input", {"values": {N: 2}}),
    (zoo.gauss_net(1, N, 1), "translations", "input", {"finite_width": False}),
    (zoo.cos_net(2, N, 1), "translations", "input", {"correlator": "ntk"}),
    (zoo.erf_net(2, 3, 1).replace_layer(0, weight=Laplace(0, 1)), "SO", "input", {"finite_width": False}),
    (Network(3, [Dense(3, "erf", weight=Normal([[1, 0, 0]] * 3, sp.Rational(1, 3)), bias=Normal(0, 1)),
                 Dense(1, weight=Normal(0, sp.Rational(1, 3)))]), "O", "input", {"finite_width": False}),
    (Network(2, [Dense(1, "tanh", weight=Laplace(0, 1), bias=Normal(0, sp.Rational(1, 100))),
                 Dense(1, weight=Normal(0, 1))]), "SO", "input", {"orders": [2]}),
    (zoo.erf_net(2, 3, 2), "translations", "output", {}),
]


@pytest.mark.parametrize("net, group, on, kw", STANDARD, ids=range(len(STANDARD)))
def test_no_engine_fails_on_the_standard_cases(net, group, on, kw):
    """The one catch-all (engines.run_engine) must not be hiding a bug: nothing fails on these."""
    d = decide_invariance(net, group, on, **kw)
    assert d.failures == ()
    assert not any(s.title == "Engine failure" or "Could not decide" in s.body for s in render.proof_steps(d))


# ----------------------------------------------------------------------------------------------------
# failing engines: visible, open, never evidence
# ----------------------------------------------------------------------------------------------------
def test_a_failing_law_check_is_an_open_step_and_never_proves(monkeypatch):
    net = zoo.erf_net(D, N, 2)
    assert decide_invariance(net, "SO", "input").verdict is ProofVerdict.PROVEN
    monkeypatch.setattr(dmod, "block_invariance", _raise(RuntimeError("injected")))
    proof = prove_invariance(net, "SO", "input")
    density = next(s for s in proof.steps if s.title.startswith("Density"))
    assert density.status is StepStatus.OPEN
    assert "`symcorr.duality.invariance`" in density.body and "RuntimeError: injected" in density.body
    assert proof.verdict == "undecided" and proof.decision.failures[0].task == "the law of W0"
    assert symmetry_group(net, "input") is None              # nothing is proven from a failure


def test_a_failing_absorption_is_an_open_step(monkeypatch):
    monkeypatch.setattr(dmod, "absorb", _raise(TypeError("injected")))
    proof = prove_invariance(zoo.erf_net(2, 3, 1), "SO", "input", residual=False)
    assert proof.steps[0].title == "Absorb" and proof.steps[0].status is StepStatus.OPEN
    assert "TypeError: injected" in proof.steps[0].body and proof.verdict == "undecided"


def test_a_failing_gp_kernel_engine_leaves_an_infinite_width_claim_undecided(monkeypatch):
    net = zoo.gauss_net(1, N, 1)
    monkeypatch.setattr(TwoLayerModel, "gp_kernel", _raise(ArithmeticError("injected")))
    proof = prove_invariance(net, "translations", "input", finite_width=False)
    gp = next(s for s in proof.steps if s.title == "GP limit")
    assert gp.status is StepStatus.OPEN and "ArithmeticError: injected" in gp.body
    assert proof.verdict == "undecided"


def test_a_failing_witness_search_is_visible(monkeypatch):
    monkeypatch.setattr(dmod, "witness_search", _raise(ValueError("injected")))
    proof = prove_invariance(zoo.erf_net(2, 3, 1).replace_layer(0, weight=Laplace(0, 1)), "SO", "input",
                             residual=False)
    assert proof.verdict == "undecided"
    failed = next(s for s in proof.steps if s.title == "Engine failure")
    assert "`symcorr.duality.witness`" in failed.body and "ValueError: injected" in failed.body


def test_a_declining_witness_search_is_not_a_failure(monkeypatch):
    from symcorr.duality.engines import Unsupported

    monkeypatch.setattr(dmod, "witness_search", _raise(Unsupported("not for me")))
    d = decide_invariance(zoo.erf_net(2, 3, 1).replace_layer(0, weight=Laplace(0, 1)), "SO", "input")
    assert d.verdict is ProofVerdict.UNDECIDED and d.failures == () and d.witness_search.witness is None


def test_a_refutation_needs_a_witness():
    step = AbsorptionStep(None)
    with pytest.raises(ValueError, match="witness"):
        InvarianceDecision(None, Orthogonal(2), Side.INPUT, CorrelatorKind.FUNCTION, True, ProofVerdict.REFUTED,
                           Route.WITNESS, step, witness_search=WitnessStep(None, (2,)))
    assert GpLimitStep(GpRole.DECIDES, None).status is StepStatus.OPEN
    assert SpecialOrthogonal(2) == decide_invariance(zoo.erf_net(2, 3, 1), "SO", "input").group


# ----------------------------------------------------------------------------------------------------
# issue 13: more parameter maps (one generator at a time), with variants whose extra condition fails
# ----------------------------------------------------------------------------------------------------
import torch  # noqa: E402

from symcorr import Uniform  # noqa: E402
from symcorr.duality.absorb import MapKind  # noqa: E402
from symcorr.duality.invariance import LawReason  # noqa: E402
from symcorr.groups import Parity, Permutations, Translations  # noqa: E402
from symcorr.montecarlo import invariance_test  # noqa: E402


def _erf(w0, w1, bias=None, d=2):
    return Network(d, [Dense(N, "erf", weight=w0, bias=bias), Dense(1, weight=w1)])


def test_issue_case_2_x_to_minus_x_through_an_odd_activation():
    """W0 has a mean, so W0 -> -W0 fails; erf is odd and there is no hidden bias, so (W1) -> (-W1) absorbs
    x -> -x when the law of W1 is symmetric."""
    d = decide_invariance(_erf(Normal(1, 1), Normal(0, 1 / N)), "parity", "input")
    assert d.verdict is ProofVerdict.PROVEN and d.route is Route.GENERATORS
    assert d.laws[0].status is StepStatus.FAILS                       # the standard map's step is kept
    (elem,) = d.generators.elements
    assert elem.map.kind is MapKind.SIGN_CHAIN and elem.map.negated == ("W1",)
    # the extra condition fails: W1 has a mean -> refuted with an exact witness, never proven
    bad = decide_invariance(_erf(Normal(1, 1), Normal(HALF, 1 / N)), "parity", "input", values={N: 3})
    assert bad.verdict is ProofVerdict.REFUTED and bad.witness is not None
    # ... or the hidden bias has an asymmetric law: the chain cannot negate it
    biased = decide_invariance(_erf(Normal(1, 1), Normal(0, 1 / N), bias=Normal(1, 1)), "parity", "input",
                               values={N: 3})
    assert biased.verdict is not ProofVerdict.PROVEN


def test_f_to_minus_f_through_an_odd_activation_with_a_symmetric_first_layer():
    """The read-out has a mean (the standard map (W1) -> (-W1) fails) but -f = W1 tanh(-W0 x)."""
    net = Network(2, [Dense(N, "tanh", weight=Normal(0, 1)), Dense(1, weight=Normal(HALF, 1 / N))])
    d = decide_invariance(net, "O", "output")
    assert d.verdict is ProofVerdict.PROVEN and d.generators.elements[0].map.negated == ("W0",)
    assert decide_invariance(net, "O", "output", correlator="ntk").verdict is ProofVerdict.PROVEN  # orthogonal map
    relu = Network(2, [Dense(N, "relu", weight=Normal(0, 1)), Dense(1, weight=Normal(HALF, 1 / N))])
    assert decide_invariance(relu, "O", "output", values={N: 2}).verdict is ProofVerdict.REFUTED


def test_issue_case_3_a_half_circle_phase_through_the_gauge():
    net = zoo.cos_net(2, N, 1, phase=Uniform(0, sp.pi))
    d = decide_invariance(net, "translations", "input")
    assert d.verdict is ProofVerdict.PROVEN and d.route is Route.PARAMETER_MAP
    check = d.laws[0].check
    assert check.reason is LawReason.HALF_PERIOD_PHASE and check.gauge.status is True and check.period == sp.pi
    # the NTK is not proven: the shear is not orthogonal
    assert decide_invariance(net, "translations", "input", correlator="ntk").verdict is not ProofVerdict.PROVEN
    # the gauge needs a read-out law symmetric under single-column sign flips
    mean = zoo.cos_net(2, N, 1, phase=Uniform(0, sp.pi), readout_mean=sp.Rational(1, 3))
    m = decide_invariance(mean, "translations", "input", values={N: 2})
    assert m.verdict is not ProofVerdict.PROVEN and m.laws[0].status is StepStatus.FAILS
    corr = Network(2, [Dense(2, "cos", bias=Uniform(0, sp.pi)),
                       Dense(1, weight=Normal(0, HALF, col_cov=[[1, HALF], [HALF, 1]]))])
    assert decide_invariance(corr, "translations", "input").verdict is not ProofVerdict.PROVEN
    # a phase on a third of the period is not covered
    third = zoo.cos_net(2, N, 1, phase=Uniform(0, 2 * sp.pi / 3))
    assert decide_invariance(third, "translations", "input", values={N: 2}).verdict is not ProofVerdict.PROVEN


def test_a_hidden_neuron_permutation_absorbs_a_permuted_mean():
    net = Network(2, [Dense(2, "erf", weight=Normal([[1, 0], [0, 1]], 1)), Dense(1, weight=Normal(0, HALF))])
    d = decide_invariance(net, "permutations", "input")
    assert d.verdict is ProofVerdict.PROVEN and d.generators.elements[0].map.kind is MapKind.NEURON_PERMUTATION
    unequal = Network(2, [Dense(2, "erf", weight=Normal([[1, 0], [0, 2]], 1)), Dense(1, weight=Normal(0, HALF))])
    assert decide_invariance(unequal, "permutations", "input").verdict is not ProofVerdict.PROVEN


def test_monte_carlo_agrees_with_the_new_proofs_and_rejects_the_broken_variants():
    """Calibrated invariance tests (Holm, 1%): the proven symmetries are not rejected, the variants whose
    extra condition fails are (fixed seeds; readout estimator)."""
    torch.set_num_threads(1)
    x = torch.tensor([[0.4, -0.3], [1.0, 0.5], [-0.2, 0.9]], dtype=torch.float64)
    minus = -torch.eye(2, dtype=torch.float64)
    good = _erf(Normal(1, 1), Normal(0, sp.Rational(1, 4))).subs({N: 4})
    assert invariance_test(good, Parity(2), "input", x, orders=(1, 2), networks=20000, elements=minus, seed=3).invariant
    bad = _erf(Normal(1, 1), Normal(HALF, sp.Rational(1, 4))).subs({N: 4})
    assert invariance_test(bad, Parity(2), "input", x, orders=(1, 2), networks=20000, elements=minus, seed=3).rejected
    half = zoo.cos_net(2, 6, 1, phase=Uniform(0, sp.pi))
    assert invariance_test(half, Translations(2), "input", x, orders=(1, 2, 4), networks=20000, group_samples=3,
                           seed=2).invariant
    short = zoo.cos_net(2, 6, 1, phase=Uniform(0, 2))
    assert invariance_test(short, Translations(2), "input", x, orders=(1, 2, 4), networks=20000, group_samples=3,
                           seed=2).rejected
    perm = Network(2, [Dense(2, "erf", weight=Normal([[1, 0], [0, 1]], 1)), Dense(1, weight=Normal(0, HALF))])
    swap = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    assert invariance_test(perm, Permutations(2), "input", x, orders=(1, 2), networks=20000, elements=swap,
                           seed=4).invariant
    unequal = Network(2, [Dense(2, "erf", weight=Normal([[1, 0], [0, 2]], 1)), Dense(1, weight=Normal(0, HALF))])
    assert invariance_test(unequal, Permutations(2), "input", x, orders=(1, 2), networks=20000, elements=swap,
                           seed=4).rejected
