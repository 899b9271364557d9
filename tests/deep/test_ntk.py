"""symcorr.deep.ntk: the infinite-width NTK of deep networks, in both parameterisations, against today's exact
single-hidden-layer E[Theta], an independent library (neural-tangents), quadrature and Monte Carlo of the
empirical NTK at large width (tolerances in standard errors, with wrong predictions rejected)."""

import json
import math
from pathlib import Path

import pytest
import sympy as sp
import torch

from symcorr import Dense, Laplace, Network, Normal, size_symbol, zoo
from symcorr.deep import InfiniteWidthGram, NTKRecursion
from symcorr.errors import SpecError
from symcorr.ntk import ntk_expectation, ntk_moments
from symcorr.symbolic import apply_relations
from symcorr.symbolic.inputs import InnerProduct

N, M, D = size_symbol("N"), size_symbol("M"), size_symbol("D")
PEER = json.loads((Path(__file__).parent / "data" / "peer_kernels.json").read_text())
PX, PY = [sp.Rational(3, 10), sp.Rational(-1, 2)], [1, sp.Rational(1, 5)]
X3 = torch.tensor([[0.3, -0.5], [1.0, 0.2], [-0.4, 0.8]], dtype=torch.float64)

ONE_HIDDEN = [
    zoo.erf_net(2, N, 2, sigma_w0=sp.Rational(6, 5), sigma_b0=sp.Rational(7, 10), sigma_w1=2, sigma_b1=sp.Rational(1, 2)),
    zoo.relu_net(2, N, 2), zoo.relu_net(2, 8, 2, sigma_b0=None),
    zoo.gauss_net(2, N, 1, sigma_w0=sp.Rational(1, 2), sigma_b0=sp.Rational(1, 2)),
    zoo.cos_net(2, N, 2), zoo.cos_net(2, 8, 2, phase=Normal(0, 1)),
    zoo.erf_net(2, 8, 2).replace_layer(0, weight=Normal(0, sp.Rational(1, 2), col_cov=[[1, 0], [0, 3]])),
]


@pytest.mark.parametrize("parameterisation", ["standard", "ntk"])
@pytest.mark.parametrize("network", ONE_HIDDEN, ids=lambda n: f"{n.name}-{n.widths[0]}")
def test_one_hidden_layer_equals_todays_exact_expectation(network, parameterisation):
    """For one hidden layer the recursion is today's exact E[Theta] at every width: the difference simplifies
    to 0 (symbolic width N or a number; both parameterisations)."""
    if parameterisation == "ntk" and network.weight(0).law.col_cov is not None:
        with pytest.raises(SpecError, match="structured covariance"):
            NTKRecursion(network, parameterisation)
        return
    exact = ntk_expectation(network, parameterisation)
    deep = NTKRecursion(network, parameterisation)
    for x, y in ((PX, PY), (PX, PX)):
        assert sp.simplify(deep.expr(x, y) - exact.expr(x, y)) == 0
    # and numerically on a grid (generated torch code), against today's evaluate at the same pairs
    concrete = network.subs({N: 8}) if N in network.free_symbols else network
    gram = InfiniteWidthGram(concrete, parameterisation)
    want = ntk_expectation(concrete, parameterisation).evaluate(X3)[:, :, 0, 0]
    torch.testing.assert_close(gram.evaluate(X3, X3).ntk.values, want, rtol=1e-12, atol=1e-12)
    # with Y = None the coincident pairs take the one-point functions: the exact value at x = y (the pair
    # formulas at rho = 1 lose half the digits, e.g. arccos of 1 - 1e-16 in relu's E[step step])
    sym = gram.evaluate(X3).ntk.values
    for i in range(3):
        xi = [sp.Rational(v) for v in X3[i].tolist()]
        exact_value = float(sp.N(ntk_expectation(concrete, parameterisation).expr(xi, xi), 30))
        assert float(sym[i, i]) == pytest.approx(exact_value, rel=1e-14)
    off = ~torch.eye(3, dtype=torch.bool)
    torch.testing.assert_close(sym[off], want[off], rtol=1e-12, atol=1e-12)


def test_the_comparison_sees_a_wrong_parameterisation():
    """Failing counterpart: the NTK-parameterisation recursion is not the standard exact expectation."""
    net = zoo.relu_net(2, N, 2)
    assert sp.simplify(NTKRecursion(net, "ntk").expr(PX, PY) - ntk_expectation(net, "standard").expr(PX, PY)) != 0


def _peer_network(case):
    d = len(PEER["x"][0])
    w, ws, bs, act = case["width"], case["w_std"], case["b_std"], case["activation"]
    layers = [Dense(w, act, weight=Normal(0, ws ** 2 / d), bias=Normal(0, bs ** 2))]
    layers += [Dense(w, act, weight=Normal(0, ws ** 2 / w), bias=Normal(0, bs ** 2)) for _ in range(case["hidden"] - 1)]
    layers.append(Dense(1, weight=Normal(0, ws ** 2 / w), bias=Normal(0, bs ** 2)))
    return Network(d, layers)


@pytest.mark.parametrize("case", PEER["cases"], ids=lambda c: f"{c['activation']}-{c['hidden']}-{c['parameterization']}")
def test_deep_ntk_equals_neural_tangents(case):
    """NNGP and NTK of 2-5 hidden ReLU / Erf layers in both parameterisations equal neural-tangents' analytic
    kernels to 1e-12 (the standard cases: width 64 and 32, every block with its width factor)."""
    x = torch.tensor(PEER["x"], dtype=torch.float64)
    y = torch.tensor(PEER["y"], dtype=torch.float64)
    result = InfiniteWidthGram(_peer_network(case), case["parameterization"]).evaluate(x, y)
    torch.testing.assert_close(result.nngp.values, torch.tensor(case["nngp"], dtype=torch.float64), rtol=1e-12, atol=0)
    torch.testing.assert_close(result.ntk.values, torch.tensor(case["ntk"], dtype=torch.float64), rtol=1e-12, atol=0)
    assert float(result.ntk.errors.max()) < 1e-11 * float(result.ntk.values.abs().max())
    # the symbolic recursion at one pair (exact rationals of the binary points), evaluated
    if case["hidden"] <= 3:
        xs = [sp.Rational(v) for v in PEER["x"][0]]
        ys = [sp.Rational(v) for v in PEER["y"][1]]
        value = float(sp.N(NTKRecursion(_peer_network(case), case["parameterization"]).expr(xs, ys), 20))
        assert value == pytest.approx(case["ntk"][0][1], rel=1e-12)


def test_a_wrong_standard_width_factor_is_seen_by_the_peer_comparison():
    """Failing counterpart: the standard NTK of the same layers but a different width (65 for 64) is off."""
    case = next(c for c in PEER["cases"] if c["parameterization"] == "standard" and c["activation"] == "relu")
    wrong = dict(case, width=case["width"] + 1)
    x = torch.tensor(PEER["x"], dtype=torch.float64)
    y = torch.tensor(PEER["y"], dtype=torch.float64)
    got = InfiniteWidthGram(_peer_network(wrong), "standard").evaluate(x, y).ntk.values
    assert not torch.allclose(got, torch.tensor(case["ntk"], dtype=torch.float64), rtol=1e-3)


def _three_layers(d=D):
    return Network(d, [Dense(N, "relu", weight=Normal(0, 2 / d), bias=Normal(0, sp.Rational(1, 10))),
                       Dense(M, "erf", weight=Normal(0, 1 / N), bias=Normal(0, sp.Rational(1, 5))),
                       Dense(1, weight=Normal(0, 3 / M), bias=Normal(0, sp.Rational(1, 2)))])


def _numeric(expr, values: dict):
    """An expression in inner products x_i^T x_j of matrix symbols, at explicit vectors."""
    sub = {}
    for atom in expr.atoms(InnerProduct):
        left, right = atom.args[0].args  # MatMul(Transpose(u), v)
        u, v = values[left.args[0].name], values[right.name]
        sub[atom] = sp.Float(float(sum(a * b for a, b in zip(u, v))), 30)
    return float(sp.N(expr.xreplace(sub), 20))


@pytest.mark.parametrize("parameterisation", ["ntk", "standard"])
def test_symbolic_points_and_input_dimension_for_three_layers(parameterisation):
    """A 3-layer net with symbolic input dimension D, widths N, M and points x1, x2: nested closed forms in
    the inner products; invariant under a rotation of both points exactly (structurally, no simplification),
    not under a translation; at explicit points it equals the numeric grid."""
    net = _three_layers()
    rec = NTKRecursion(net, parameterisation)
    x1, x2 = sp.MatrixSymbol("x1", D, 1), sp.MatrixSymbol("x2", D, 1)
    theta = rec.expr(x1, x2)
    R = sp.MatrixSymbol("R", D, D)
    rotated = apply_relations(rec.expr(R * x1, R * x2), [sp.Eq(R.T * R, sp.Identity(D))])
    assert rotated - theta == 0
    # explicit points in D = 3 (the widths stay symbols: in the NTK parameterisation they have gone)
    u, v = [0.5, -1.0, 0.25], [0.3, 0.4, -0.2]
    widths = {N: 16, M: 16} if parameterisation == "standard" else {}
    value = _numeric(theta.subs(widths).subs(D, 3), {"x1": u, "x2": v})
    c = sp.MatrixSymbol("c", D, 1)
    moved = _numeric(rec.expr(x1 + c, x2 + c).subs(widths).subs(D, 3), {"x1": u, "x2": v, "c": [1.0, 0.0, -0.5]})
    assert abs(moved - value) > 1e-3 * abs(value)
    concrete = _three_layers(3).subs({N: 16, M: 16})
    grid = InfiniteWidthGram(concrete, parameterisation).evaluate(torch.tensor([u], dtype=torch.float64),
                                                                  torch.tensor([v], dtype=torch.float64))
    assert value == pytest.approx(float(grid.ntk.values[0, 0]), rel=1e-12)


def _scipy_pair(f, g, k11, k12, k22):
    from scipy import integrate

    s1, s2 = math.sqrt(k11), math.sqrt(k22)
    rho = k12 / (s1 * s2)
    c = math.sqrt(max(1 - rho * rho, 0.0))
    pdf = lambda a: math.exp(-a * a / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    return integrate.dblquad(lambda b, a: f(s1 * a) * g(s2 * (rho * a + c * b)) * pdf(a) * pdf(b),
                             -11, 11, -11, 11, epsabs=1e-13, epsrel=1e-13)[0]


def _scipy_diag(f, k):
    from scipy import integrate

    return integrate.quad(lambda a: f(math.sqrt(k) * a) ** 2 * math.exp(-a * a / 2) / math.sqrt(2 * math.pi),
                          -11, 11, epsabs=1e-14)[0]


ACTIVATIONS = {
    "tanh": (math.tanh, lambda z: 1 - math.tanh(z) ** 2),
    "gelu": (lambda z: z * (1 + math.erf(z / math.sqrt(2))) / 2,
             lambda z: (1 + math.erf(z / math.sqrt(2))) / 2 + z * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)),
}


@pytest.mark.parametrize("name", ["tanh", "gelu"])
def test_quadrature_activations_carry_honest_errors(name):
    """tanh and GELU have no closed forms: every layer is Gauss-Hermite quadrature.  The NNGP and NTK of a
    2-hidden-layer net (NTK parameterisation) differ from an independent recursion by adaptive scipy
    quadrature by less than the reported error, and the error is small."""
    phi, dphi = ACTIVATIONS[name]
    cw, cb = 1.5, 0.2
    net = Network(1, [Dense(8, name, weight=Normal(0, cw), bias=Normal(0, cb)),
                      Dense(8, name, weight=Normal(0, cw / 8), bias=Normal(0, cb)),
                      Dense(1, weight=Normal(0, cw / 8), bias=Normal(0, cb))])
    pts = [0.4, -1.1]
    result = InfiniteWidthGram(net, "ntk").evaluate(torch.tensor([[p] for p in pts], dtype=torch.float64))
    # the same recursion by scipy: K0 = cb + cw x y, Theta0 = K0; then two layers
    k = [[cb + cw * p * q for q in pts] for p in pts]
    theta = [row[:] for row in k]
    for _ in range(2):
        f = [[_scipy_diag(phi, k[i][i]) if i == j else _scipy_pair(phi, phi, k[i][i], k[i][j], k[j][j])
              for j in range(2)] for i in range(2)]
        fd = [[_scipy_diag(dphi, k[i][i]) if i == j else _scipy_pair(dphi, dphi, k[i][i], k[i][j], k[j][j])
               for j in range(2)] for i in range(2)]
        k = [[cb + cw * f[i][j] for j in range(2)] for i in range(2)]
        theta = [[k[i][j] + cw * fd[i][j] * theta[i][j] for j in range(2)] for i in range(2)]
    for got, truth in ((result.nngp, k), (result.ntk, theta)):
        diff = (got.values - torch.tensor(truth, dtype=torch.float64)).abs()
        assert bool((diff <= got.errors).all()), (diff, got.errors)
        assert bool((got.errors < 1e-3 * got.values.abs()).all()), got.errors  # and useful: below 0.1%


def test_quadrature_errors_are_not_a_blanket():
    """Failing counterpart: the same comparison rejects the erf recursion for a tanh net (the errors would
    have to be large to hide it)."""
    net = Network(1, [Dense(8, "tanh", weight=Normal(0, 1.5), bias=Normal(0, 0.2)),
                      Dense(1, weight=Normal(0, 1.5 / 8), bias=Normal(0, 0.2))])
    erf = net.replace_layer(0, activation="erf")
    x = torch.tensor([[0.4], [-1.1]], dtype=torch.float64)
    tanh_values = InfiniteWidthGram(net, "ntk").evaluate(x).ntk
    erf_values = InfiniteWidthGram(erf, "ntk").evaluate(x).ntk.values
    assert bool(((tanh_values.values - erf_values).abs() > 100 * tanh_values.errors).all())


def _deep_relu(width, hidden=2):
    layers = [Dense(width, "relu", weight=Normal(0, 1), bias=Normal(0, sp.Rational(1, 10)))]
    layers += [Dense(width, "relu", weight=Normal(0, sp.Rational(2, width)), bias=Normal(0, sp.Rational(1, 10)))
               for _ in range(hidden - 1)]
    layers.append(Dense(1, weight=Normal(0, sp.Rational(1, width)), bias=Normal(0, sp.Rational(1, 10))))
    return Network(2, layers)


def test_monte_carlo_of_the_empirical_ntk_agrees_at_large_width():
    """Two hidden ReLU layers of width 128, 2000 networks, NTK parameterisation: E[Theta] of the empirical
    NTK (symcorr.ntk.ntk_moments, layerwise back-propagation) equals the infinite-width recursion within 4
    s.e. in every entry (s.e. ~0.5%, the O(1/N) correction below it); a prediction 3% off is rejected."""
    x = torch.tensor([[1.0, 0.0], [0.6, -0.8], [-0.3, 0.5]], dtype=torch.float64)
    net = _deep_relu(128)
    mc = ntk_moments(net, x, networks=2000, seed=5, order=1, parameterisation="ntk")
    mean, se = mc.mean[..., 0, 0], mc.se[..., 0, 0]
    predicted = ntk_expectation(net, "ntk").gram(x, limit=True)
    assert float(((mean - predicted) / se).abs().max()) < 4
    assert float(((mean - 1.03 * predicted) / se).abs().max()) > 4
    # the kernel of the other parameterisation is a different object: far off
    standard = ntk_expectation(net, "standard").gram(x, limit=True)
    assert float(((mean - standard) / se).abs().max()) > 100


@pytest.mark.slow
@pytest.mark.parametrize("parameterisation", ["ntk", "standard"])
def test_monte_carlo_three_hidden_layers_both_parameterisations(parameterisation):
    """Three hidden layers (ReLU, width 256), 2000 networks: within 4 s.e., and 3% off rejected."""
    x = torch.tensor([[1.0, 0.0], [0.6, -0.8], [-0.3, 0.5]], dtype=torch.float64)
    net = _deep_relu(256, hidden=3)
    mc = ntk_moments(net, x, networks=2000, seed=11, order=1, parameterisation=parameterisation)
    mean, se = mc.mean[..., 0, 0], mc.se[..., 0, 0]
    predicted = ntk_expectation(net, parameterisation).gram(x, limit=True)
    assert float(((mean - predicted) / se).abs().max()) < 4
    assert float(((mean - 1.03 * predicted) / se).abs().max()) > 4


@pytest.mark.parametrize("network,where", [
    (Network(2, [Dense(4, "relu"), Dense(4, "relu"), Dense(1, "tanh")]), r"layers\[2\].activation"),
    (Network(2, [Dense(4, "relu"), Dense(4, "relu"), Dense(1, weight=Normal(0.5, 0.25))]), r"layers\[2\].weight.mean"),
    (Network(2, [Dense(4, "relu", weight=Laplace(0, 1)), Dense(4, "relu"), Dense(1)]), r"layers\[0\]"),
])
def test_the_scope_is_stated_with_the_field(network, where):
    with pytest.raises(SpecError, match=where):
        NTKRecursion(network, "ntk")


def test_parameterisation_is_checked():
    with pytest.raises(SpecError, match="parameterisation"):
        NTKRecursion(_deep_relu(4), "mean-field")
