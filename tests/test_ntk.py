"""Tests of symcorr.ntk: empirical NTK, its exact expectation, and its symmetries (paper sections 3.7, 5).

Every statistical check fixes its seed and states its tolerance in standard errors; each symmetry that
passes has a breaking counterpart that the same test rejects.
"""

import math

import pytest
import sympy as sp
import torch

from symcorr import zoo
from symcorr.distributions import Laplace, Normal
from symcorr.errors import SpecError
from symcorr.montecarlo import Ensemble
from symcorr.ntk import (NTKExpectation, empirical_ntk, gaussian_pair_expectations, ntk_expectation,
                         ntk_invariance_test, ntk_moments)
from symcorr.activations import get_activation
from symcorr.spec import Dense, Network, size_symbol



X2 = torch.tensor([[0.3, -0.5], [1.0, 0.2], [-0.4, 0.8]], dtype=torch.float64)
XT = torch.tensor([[0.3, -0.5], [1.0, 0.2]], dtype=torch.float64)


def _brute_force_ntk(network, params, x, x2):
    """Reference: one network at a time, full Jacobian of the flattened parameters (a loop, tests only)."""
    n = network.check_parameters(params)
    names = list(network.blocks)
    out = []
    for m in range(n):
        flat = torch.cat([params[k][m].reshape(-1) for k in names])
        shapes = [params[k][m].shape for k in names]

        def f(theta, pts):
            parts, i = {}, 0
            for k, s in zip(names, shapes):
                size = int(torch.tensor(s).prod()) if len(s) else 1
                parts[k] = theta[i:i + size].reshape(1, *s)
                i += size
            return network.forward(parts, pts)[0]  # (P, d)

        j1 = torch.autograd.functional.jacobian(lambda t: f(t, x), flat)  # (P, d, params)
        j2 = torch.autograd.functional.jacobian(lambda t: f(t, x2), flat)
        out.append(torch.einsum("pai,qbi->pqab", j1, j2))
    return torch.stack(out)


# ----------------------------------------------------------------------------------------------------
# empirical NTK
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("network", [
    zoo.erf_net(2, 5, 3), zoo.relu_net(2, 4, 2), zoo.gauss_net(2, 4, 2, sigma_w0=0.5, sigma_b0=0.5),
    zoo.cos_net(2, 4, 2), zoo.tanh_net(2, 3, 1, sigma_b1=None),
    Network(2, [Dense(4, "gauss", bias=Normal(0, 0.25)), Dense(3, "relu"), Dense(3, "tanh", bias=Normal(0, 1)),
                Dense(2, "erf")]),
])
def test_layerwise_autograd_and_brute_force_agree(network):
    params = network.sample(3, seed=11)
    x2 = X2[:2] * 0.7
    ref = _brute_force_ntk(network, params, X2, x2)
    for method in ("layerwise", "autograd"):
        got = empirical_ntk(network, params, X2, x2, method=method)
        assert got.shape == (3, 3, 2, network.output_dim, network.output_dim)
        torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-12)


def test_autograd_handles_a_deep_gauss_layer_and_layerwise_refuses():
    net = Network(2, [Dense(4, "tanh", bias=Normal(0, 1)), Dense(3, "gauss", bias=Normal(0, 0.1)), Dense(2)])
    params = net.sample(2, seed=3)
    ref = _brute_force_ntk(net, params, X2, X2)
    torch.testing.assert_close(empirical_ntk(net, params, X2), ref, rtol=1e-10, atol=1e-12)
    with pytest.raises(SpecError, match="autograd"):
        empirical_ntk(net, params, X2, method="layerwise")


def test_blocks_sum_to_the_kernel_and_ntk_parameterisation_rescales_by_variance():
    net = zoo.erf_net(2, 6, 2, sigma_w0=1.5, sigma_b0=0.5, sigma_w1=2.0, sigma_b1=0.3)
    params = net.sample(4, seed=5)
    parts = empirical_ntk(net, params, X2, per_block=True)
    torch.testing.assert_close(sum(parts.values()), empirical_ntk(net, params, X2))
    ntk_parts = empirical_ntk(net, params, X2, per_block=True, parameterisation="ntk")
    variances = {"W0": 1.5 ** 2 / 2, "b0": 0.25, "W1": 4.0 / 6, "b1": 0.09}
    for name, v in variances.items():
        torch.testing.assert_close(ntk_parts[name], v * parts[name])
    only = empirical_ntk(net, params, X2, blocks=["W1", "b1"])
    torch.testing.assert_close(only, parts["W1"] + parts["b1"])
    # symmetric in (x, a) <-> (x', b)
    full = empirical_ntk(net, params, X2)
    torch.testing.assert_close(full, full.permute(0, 2, 1, 4, 3))


def test_validation_errors():
    net = zoo.erf_net(2, 4, 2)
    params = net.sample(2, seed=0)
    with pytest.raises(SpecError, match="x"):
        empirical_ntk(net, params, torch.zeros(3, 5))
    with pytest.raises(SpecError, match="parameterisation"):
        empirical_ntk(net, params, X2, parameterisation="mean-field")
    with pytest.raises(SpecError, match="method"):
        empirical_ntk(net, params, X2, method="finite-differences")
    with pytest.raises(SpecError, match="block"):
        empirical_ntk(net, params, X2, blocks=["W7"])
    with pytest.raises(SpecError, match="networks"):
        ntk_moments(net, X2, networks=0, seed=0)
    with pytest.raises(SpecError, match="depth"):
        ntk_expectation(Network(2, [Dense(3, "erf"), Dense(3, "erf"), Dense(1)]))
    with pytest.raises(SpecError, match="W0"):
        ntk_expectation(zoo.erf_net(2, 4).replace_layer(0, weight=Laplace(0, 1)))
    with pytest.raises(SpecError, match="d_out|output dimension|dimension"):
        ntk_invariance_test(net, "SO(3)", "output", X2, networks=10, seed=0)
    n = size_symbol("N")
    with pytest.raises(SpecError, match="N"):
        empirical_ntk(zoo.erf_net(2, n, 1), params, X2)


# ----------------------------------------------------------------------------------------------------
# exact expectation and the infinite-width NTK
# ----------------------------------------------------------------------------------------------------
NETS = [
    zoo.erf_net(2, 8, 2, sigma_w0=1.2, sigma_b0=0.7),
    zoo.relu_net(2, 8, 2),
    zoo.gauss_net(2, 8, 2, sigma_w0=0.5, sigma_b0=0.5),
    zoo.cos_net(2, 8, 2),
    zoo.cos_net(2, 8, 2, phase=Normal(0, 1)),
    zoo.tanh_net(2, 8, 2),
    zoo.relu_net(2, 8, 3, readout_mean=0.3, sigma_b1=None),
    zoo.erf_net(2, 8, 2).replace_layer(0, weight=Normal(0, 0.5, col_cov=[[1, 0], [0, 3]])),
]


@pytest.mark.parametrize("parameterisation", ["standard", "ntk"])
@pytest.mark.parametrize("network", NETS, ids=lambda n: n.name or "net")
def test_expectation_matches_monte_carlo(network, parameterisation):
    if parameterisation == "ntk" and network.weight(0).law.col_cov is not None:
        with pytest.raises(SpecError, match="structured covariance"):
            ntk_expectation(network, parameterisation)
        return
    """E[Theta] is exact at every width; Monte Carlo with 6000 networks agrees within 4.5 s.e. in every
    entry (about 36 entries per case, so a false alarm has probability < 1e-3 per case)."""
    mc = ntk_moments(network, X2, networks=6000, seed=17, order=1, parameterisation=parameterisation)
    exact = ntk_expectation(network, parameterisation).evaluate(X2)
    z = (mc.mean - exact) / mc.se
    assert float(z.abs().max()) < 4.5, z
    # per block as well
    blocks = ntk_expectation(network, parameterisation).evaluate(X2, per_block=True)
    assert set(blocks) == set(mc.block_mean)
    for name, mean in mc.block_mean.items():
        se = mc.block_se[name]
        exact_entries = se == 0  # deterministic entries (b1 block, off-diagonal W1 entries): compare exactly
        torch.testing.assert_close(mean[exact_entries], blocks[name][exact_entries])
        zb = (mean - blocks[name])[~exact_entries] / se[~exact_entries]
        assert bool((zb.abs() < 4.5).all()), (name, zb)


def test_wrong_formula_is_rejected_by_the_same_comparison():
    """Failing counterpart: the NTK-parameterisation formula does not describe the standard ensemble,
    and the ReLU formula does not describe an erf ensemble (|z| far beyond 4.5)."""
    net = zoo.relu_net(2, 8, 2)
    mc = ntk_moments(net, X2, networks=6000, seed=17, order=1)
    wrong = ntk_expectation(net, "ntk").evaluate(X2)
    assert float(((mc.mean - wrong) / mc.se).abs().max()) > 20
    erf = ntk_moments(zoo.erf_net(2, 8, 2), X2, networks=6000, seed=17, order=1)
    assert float(((erf.mean - ntk_expectation(net).evaluate(X2)) / erf.se).abs().max()) > 20


def test_symbolic_expression_matches_numeric_and_has_the_documented_closed_forms():
    x, y = sp.symbols("x y", real=True)
    relu = NTKExpectation(zoo.relu_net(1, 4, 1, sigma_b0=None, sigma_b1=None), "ntk")
    # ReLU without biases, x, x' > 0 in 1-D: theta = 0, so E[phi' phi'] = 1/2, E[phi phi'] = x x'/2
    e = sp.simplify(relu.expr([x], [y]).subs({x: sp.Rational(1, 2), y: 2}))
    assert e == sp.Rational(1, 2) * 1 + sp.Rational(1, 2) * 1   # W1: k/2 = 1/2 ; W0: x x' E = 1 * 1/2
    # erf: exact derivative-kernel formula, and agreement with the torch evaluation at generic points
    erf = ntk_expectation(zoo.erf_net(2, 5, 2, sigma_w0=1.2, sigma_b0=0.7))
    for net_exp in [erf, relu, ntk_expectation(zoo.cos_net(2, 5, 2)), ntk_expectation(zoo.gauss_net(2, 5, 1)),
                    ntk_expectation(zoo.cos_net(2, 5, 2, phase=Normal(0, 1)), "ntk")]:
        d_in = net_exp.laws.in_dim
        pts = X2[:, :d_in].abs() + 0.1
        num = net_exp.evaluate(pts)
        for p in range(pts.shape[0]):
            for q in range(pts.shape[0]):
                for a in range(net_exp.laws.out_dim):
                    val = float(sp.N(net_exp.expr(pts[p].tolist(), pts[q].tolist(), a, a)))
                    assert val == pytest.approx(float(num[p, q, a, a]), rel=1e-10)
    k11, k12, k22 = sp.symbols("k11 k12 k22", positive=True)
    from symcorr.ntk import _pair_symbolic
    _, dd = _pair_symbolic(get_activation("erf"), k11, k12, k22, False)
    assert sp.simplify(dd - 4 / (sp.pi * sp.sqrt((1 + 2 * k11) * (1 + 2 * k22) - 4 * k12 ** 2))) == 0
    _, dd = _pair_symbolic(get_activation("relu"), k11, k12, k22, False)
    assert sp.simplify(dd - (sp.pi - sp.acos(k12 / sp.sqrt(k11 * k22))) / (2 * sp.pi)) == 0
    assert "x \\cdot x'" in erf.latex()


def test_width_scaling_standard_versus_ntk_parameterisation():
    """Standard parameterisation: the W1 term is N E[phi phi'] (grows like N); NTK parameterisation:
    independent of N (the infinite-width NTK)."""
    n = size_symbol("N")
    x, y = [sp.Rational(1, 3), sp.Rational(-1, 2)], [sp.Rational(2, 3), sp.Rational(1, 5)]
    std = ntk_expectation(zoo.erf_net(2, n, 1)).expr(x, y)
    ntk = ntk_expectation(zoo.erf_net(2, n, 1), "ntk").expr(x, y)
    assert n not in ntk.free_symbols
    assert sp.degree(sp.expand(std), n) == 1
    assert sp.simplify(std.coeff(n) - ntk_expectation(zoo.erf_net(2, n, 1)).blocks(x, y)["W1"] / n) == 0
    # at N = 1 the two differ only by the block variances: sigma = 1, d_in = 2 -> W0 block halves
    s1 = ntk_expectation(zoo.erf_net(2, 1, 1)).blocks(x, y)
    n1 = ntk_expectation(zoo.erf_net(2, 1, 1), "ntk").blocks(x, y)
    assert sp.simplify(n1["W0"] - s1["W0"] / 2) == 0 and sp.simplify(n1["W1"] - s1["W1"]) == 0


def test_ntk_concentrates_on_the_infinite_width_kernel():
    """NTK parameterisation: Var(Theta) = O(1/N); from N = 32 to 128 the variance drops by 4 (within
    4 s.e. of the ratio, s.e. from the fourth moments by the delta method)."""
    x = XT[:1]
    variances = {}
    for n in (32, 128):
        net = zoo.erf_net(2, n, 1)
        theta = empirical_ntk(net, net.sample(3000, seed=n), x, parameterisation="ntk")[:, 0, 0, 0, 0]
        c = theta - theta.mean()
        var = float((c ** 2).mean())
        rel_se = math.sqrt(max(float((c ** 4).mean()) / var ** 2 - 1, 0) / len(theta))
        variances[n] = (var, rel_se)
    ratio = variances[32][0] / variances[128][0]
    se = ratio * math.hypot(variances[32][1], variances[128][1])
    assert abs(ratio - 4) < 4 * se, (ratio, se)
    assert ratio > 2  # the failing alternative (no concentration) would give ratio ~ 1


def test_gauss_hermite_quadrature_matches_closed_forms():
    k11 = torch.tensor([0.7, 1.3]); k22 = torch.tensor([1.1, 0.4]); k12 = torch.tensor([0.2, -0.5])
    k11, k12, k22 = (t.to(torch.float64) for t in (k11, k12, k22))
    for name in ("erf", "relu", "cos"):
        act = get_activation(name)
        exact = gaussian_pair_expectations(act, k11, k12, k22)
        custom = act.__class__(name + "_q", act._sympy_fn, act._torch_fn)  # same function, no rule
        quad = gaussian_pair_expectations(custom, k11, k12, k22)
        tol = 1e-3 if name == "relu" else 1e-9  # relu' has a kink: quadrature converges slowly
        torch.testing.assert_close(quad[0], exact[0], rtol=tol, atol=tol)
        torch.testing.assert_close(quad[1], exact[1], rtol=max(tol, 2e-2 if name == "relu" else tol),
                                   atol=max(tol, 2e-2 if name == "relu" else tol))


# ----------------------------------------------------------------------------------------------------
# streaming accumulators and the test machinery
# ----------------------------------------------------------------------------------------------------
def test_ntk_moments_use_the_montecarlo_ensemble_and_second_order_layout():
    net = zoo.erf_net(2, 4, 2)
    mom = ntk_moments(net, XT, networks=50, seed=2, chunk=16)
    params = next(Ensemble(net, 50, seed=2, estimator="direct").chunks()).params
    theta = empirical_ntk(net, params, XT)
    torch.testing.assert_close(mom.mean, theta.mean(0))
    torch.testing.assert_close(mom.second[0, 1, 0, 1, 1, 0, 1, 1], (theta[:, 0, 1, 0, 1] * theta[:, 1, 0, 1, 1]).mean())
    torch.testing.assert_close(mom.se[1, 1, 0, 0], theta[:, 1, 1, 0, 0].std() / math.sqrt(50))
    assert "E[Theta_ab" in mom.markdown()


# ----------------------------------------------------------------------------------------------------
# symmetries of the NTK (paper section 5): each passing case with its breaking counterpart
# ----------------------------------------------------------------------------------------------------
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
    res = ntk_invariance_test(net, "translations", "input", XT, networks=10, seed=0,
                              elements=torch.zeros(1, 2))
    assert res.invariant and res.statistic == 0
    with pytest.raises(SpecError, match="shape"):
        ntk_invariance_test(net, "translations", "input", XT, networks=10, seed=0, elements=torch.zeros(1, 3))
    many = torch.randn(12, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with pytest.raises(SpecError, match="exceed the limit"):
        ntk_invariance_test(zoo.erf_net(2, 4, 4), "SO", "output", many, networks=10, seed=0)


# ----------------------------------------------------------------------------------------------------
# agreement with the symbolic correlators (developer A) and the prover (developer B)
# ----------------------------------------------------------------------------------------------------
CROSS_NETS = [
    zoo.erf_net(2, 8, 2, sigma_w0=sp.Rational(6, 5), sigma_b0=sp.Rational(7, 10), sigma_w1=2,
                sigma_b1=sp.Rational(1, 2)),
    zoo.relu_net(2, 8, 2), zoo.gauss_net(2, 8, 1, sigma_w0=sp.Rational(1, 2), sigma_b0=sp.Rational(1, 2)),
    zoo.cos_net(2, 8, 2), zoo.cos_net(2, 8, 2, phase=Normal(0, 1)),
]
PX, PY = [sp.Rational(3, 10), sp.Rational(-1, 2)], [1, sp.Rational(1, 5)]


@pytest.mark.parametrize("network", CROSS_NETS, ids=lambda n: n.name)
def test_readout_block_is_the_symbolic_two_point_function(network):
    """K(x, x') = sigma_b1^2 + Var(W1) E[Theta^{W1}(x, x')], exactly (symcorr.symbolic.kernel)."""
    from symcorr.symbolic import kernel
    k = kernel(network)(PX, PY)
    w1 = ntk_expectation(network).blocks(PX, PY)["W1"]
    assert sp.simplify(k - (network.bias(1).law.var + network.weight(1).law.var * w1)) == 0
    # and the failing counterpart: the NTK-parameterisation block is not the read-out term of K at N = 8
    w1_ntk = ntk_expectation(network, "ntk").blocks(PX, PY)["W1"]
    assert sp.simplify(k - (network.bias(1).law.var + network.weight(1).law.var * w1_ntk)) != 0


@pytest.mark.parametrize("network", CROSS_NETS[:4] + [zoo.relu_net(2, 8, 3, readout_mean=sp.Rational(3, 10))],
                         ids=lambda n: n.name)
def test_expected_ntk_equals_the_prover_engine(network):
    from symcorr.duality.moments import TwoLayerModel
    model = TwoLayerModel(network)
    for a, b in [(0, 0), (0, network.output_dim - 1)]:
        theirs = model.ntk_mean(PX, PY, a, b)
        assert theirs.expr is not None
        assert sp.simplify(theirs.expr - ntk_expectation(network).expr(PX, PY, a, b)) == 0


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
