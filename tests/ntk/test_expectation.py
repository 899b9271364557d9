"""Tests of symcorr.ntk.expectation: the exact E[Theta] at initialisation against Monte Carlo, its
symbolic closed forms, the infinite-width limit, and agreement with the symbolic and prover frames
(paper sections 3.7, 5).

Every statistical check fixes its seed and states its tolerance in standard errors, and has a failing
counterpart that the same comparison rejects.
"""

import pytest
import sympy as sp
import torch

from symcorr import zoo
from symcorr.activations import get_activation
from symcorr.distributions import Laplace, Normal
from symcorr.errors import SpecError
from symcorr.ntk import NTKExpectation, gaussian_pair_expectations, ntk_expectation, ntk_moments
from symcorr.ntk.expectation import _pair_symbolic
from symcorr.spec import Dense, Network, size_symbol


X2 = torch.tensor([[0.3, -0.5], [1.0, 0.2], [-0.4, 0.8]], dtype=torch.float64)


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
                    # the points as exact binary rationals: SymPy evaluates the closed form at them to 15
                    # digits (Float points would round while the expression is built, ~1e-9 at rho = 1)
                    xp, xq = ([sp.Rational(v) for v in pts[i].tolist()] for i in (p, q))
                    val = float(sp.N(net_exp.expr(xp, xq, a, a)))
                    assert val == pytest.approx(float(num[p, q, a, a]), rel=1e-10)
    k11, k12, k22 = sp.symbols("k11 k12 k22", positive=True)
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


def test_validation_errors():
    # a deeper network has the infinite-width NTK (gp_limit, gram(limit=True)) but no exact finite-width E[Theta]
    deep = ntk_expectation(Network(2, [Dense(3, "erf"), Dense(3, "erf"), Dense(1)]))
    for exact in (lambda: deep.expr([0.1, 0.2], [0.3, 0.4]), lambda: deep.evaluate(X2), deep.latex,
                  lambda: deep.gram(X2, limit=False)):
        with pytest.raises(SpecError, match="depth"):
            exact()
    with pytest.raises(SpecError, match="W0"):
        ntk_expectation(zoo.erf_net(2, 4).replace_layer(0, weight=Laplace(0, 1)))
    with pytest.raises(SpecError, match="parameterisation"):
        ntk_expectation(zoo.erf_net(2, 4), "mean-field")


# ----------------------------------------------------------------------------------------------------
# agreement with the symbolic correlators (developer A) and the prover engine (developer B)
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


# ----------------------------------------------------------------------------------------------------
# the infinite-width NTK for every depth (gp_limit, gram)
# ----------------------------------------------------------------------------------------------------
def _deep_net(width=size_symbol("N")):
    return Network(2, [Dense(width, "relu", weight=Normal(0, sp.Rational(1, 2)), bias=Normal(0, sp.Rational(1, 10))),
                       Dense(width, "erf", weight=Normal(0, 2 / width), bias=Normal(0, sp.Rational(1, 10))),
                       Dense(2, weight=Normal(0, 1 / width), bias=Normal(0, sp.Rational(1, 4)))])


@pytest.mark.parametrize("parameterisation", ["standard", "ntk"])
def test_gp_limit_of_one_hidden_layer_is_todays_expression(parameterisation):
    n = size_symbol("N")
    net = zoo.erf_net(2, n, 2)
    exact = ntk_expectation(net, parameterisation)
    assert sp.simplify(exact.gp_limit(PX, PY) - exact.expr(PX, PY)) == 0
    assert exact.gp_limit(PX, PY, 0, 1) == 0
    # a read-out variance 3/(N + 1): the NTK parameterisation takes N -> oo, the standard one keeps the width
    odd = net.replace_layer(1, weight=Normal(0, 3 / (n + 1)))
    lim = ntk_expectation(odd, "ntk").gp_limit(PX, PY)
    assert n not in lim.free_symbols
    assert sp.simplify(lim - ntk_expectation(net.replace_layer(1, weight=Normal(0, 3 / n)), "ntk").expr(PX, PY)) == 0
    std = ntk_expectation(odd, "standard")
    assert sp.simplify(std.gp_limit(PX, PY) - std.expr(PX, PY)) == 0


def test_gp_limit_with_a_readout_mean():
    n = size_symbol("N")
    net = zoo.relu_net(2, n, 2, readout_mean=sp.Rational(3, 10))
    with pytest.raises(SpecError, match="grows with the width"):
        ntk_expectation(net, "ntk").gp_limit(PX, PY)
    with pytest.raises(SpecError, match="weight.mean"):
        ntk_expectation(net.subs({n: 8}), "ntk").gp_limit(PX, PY)
    std = ntk_expectation(net, "standard")
    assert std.gp_limit(PX, PY) == std.expr(PX, PY)


def test_gram_of_one_hidden_layer_equals_evaluate():
    for par in ("standard", "ntk"):
        exact = ntk_expectation(zoo.erf_net(2, 8, 2, sigma_w0=1.2, sigma_b0=0.7), par)
        full = exact.evaluate(X2)
        torch.testing.assert_close(exact.gram(X2), full[:, :, 0, 0])
        torch.testing.assert_close(exact.gram(X2, limit=True), full[:, :, 0, 0], rtol=1e-13, atol=1e-14)
        assert torch.equal(exact.gram(X2, limit=True, indices=(0, 1)), torch.zeros(3, 3, dtype=torch.float64))
    # a read-out mean: the standard "limit" keeps the explicit widths (the exact E[Theta]); the NTK one refuses
    mean = zoo.relu_net(2, 8, 2, readout_mean=0.3)
    torch.testing.assert_close(ntk_expectation(mean).gram(X2, limit=True, indices=(0, 1)),
                               ntk_expectation(mean).evaluate(X2)[:, :, 0, 1])
    with pytest.raises(SpecError, match="weight mean"):
        ntk_expectation(mean, "ntk").gram(X2, limit=True)


@pytest.mark.parametrize("parameterisation", ["standard", "ntk"])
def test_deep_gp_limit_and_gram_agree(parameterisation):
    n = size_symbol("N")
    deep = ntk_expectation(_deep_net(), parameterisation)
    assert deep.gp_limit(PX, PY, 0, 1) == 0
    concrete = ntk_expectation(_deep_net(16), parameterisation)
    grid, errors = concrete.gram_with_error(X2, limit=True)
    assert float(errors.max()) < 1e-12 * float(grid.abs().max())
    for i in range(3):
        for j in range(3):
            p, q = ([sp.Rational(v) for v in X2[k].tolist()] for k in (i, j))
            sym = deep.gp_limit(p, q)
            if parameterisation == "standard":
                sym = sym.subs(n, 16)
            assert float(sp.N(sym, 30)) == pytest.approx(float(grid[i, j]), rel=1e-12)
    assert torch.equal(concrete.gram(X2, limit=True, indices=(1, 0)), torch.zeros(3, 3, dtype=torch.float64))


def test_gram_at_finite_width_one_hidden_layer_is_exact_and_width_free_in_the_ntk_parameterisation():
    """gram(limit=False) is the exact E[Theta] at the network's width: at width 2 it agrees with Monte Carlo
    (6000 networks, seed 5, every entry within 4.5 s.e.), and in the NTK parameterisation (N Var(W1) = 1,
    no read-out mean) it is the same at widths 1, 2 and 40 and equals limit=True; in the standard one the
    W1 block grows with the width (failing counterpart of the width independence)."""
    grams = {w: ntk_expectation(zoo.erf_net(2, w, 1, sigma_w0=1.2, sigma_b0=0.7), "ntk").gram(X2) for w in (1, 2, 40)}
    for w in (1, 40):
        torch.testing.assert_close(grams[w], grams[2], rtol=1e-13, atol=1e-14)
    net = zoo.erf_net(2, 2, 1, sigma_w0=1.2, sigma_b0=0.7)
    torch.testing.assert_close(ntk_expectation(net, "ntk").gram(X2, limit=True), grams[2], rtol=1e-12, atol=1e-13)
    mc = ntk_moments(net, X2, networks=6000, seed=5, order=1, parameterisation="ntk")
    assert float(((mc.mean[:, :, 0, 0] - grams[2]) / mc.se[:, :, 0, 0]).abs().max()) < 4.5
    std = {w: ntk_expectation(zoo.erf_net(2, w, 1, sigma_w0=1.2, sigma_b0=0.7)).gram(X2) for w in (2, 40)}
    assert float((std[40] - std[2]).abs().min()) > 1.0


def test_deep_networks_have_no_finite_width_ntk_here():
    """More than one hidden layer: gram(limit=False) refuses (no finite-width E[Theta] exists here) and
    points to limit=True, which works; it never returns the limit silently."""
    deep = ntk_expectation(_deep_net(8), "ntk")
    with pytest.raises(SpecError, match=r"depth 3.*not implemented.*limit=True"):
        deep.gram(X2)
    with pytest.raises(SpecError, match="limit=True"):
        deep.gram_with_error(X2, limit=False, indices=(0, 1))
    assert deep.gram(X2, limit=True).shape == (3, 3)
