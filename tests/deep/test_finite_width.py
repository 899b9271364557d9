"""symcorr.deep.finite_width: the 1/n corrections of deep networks.

Exact checks: the depth-2 (single hidden layer) 1/N terms of today's exact correlators, the exact
finite-width four-point function of deep linear networks (the Wishart result, separate widths), the exact
E[g(G-hat)] of a quadratic activation (the 1/2 and the unordered covariance entries of the delta method),
symbolic = numeric frames.  Monte Carlo: the 1/N coefficient of the connected four-point function and of
the two-point correction, fitted by weighted least squares (a/N + b/N^2) to estimates at several widths
from sampled networks (the Gaussian read-out integrated out, nothing of the prediction assumed), agrees
with the prediction within 4 s.e., and the same fit rejects the recursion without its propagation term,
without the width ratio n_l/n_{l-1}, and the shift without its 1/2.  Seeds fixed."""

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
import torch

from symcorr import Dense, Network, Normal, Rademacher, size_symbol
from symcorr.activations import Activation
from symcorr.deep.finite_width import FiniteWidth, finite_width_gram
from symcorr.deep.nngp import NNGP
from symcorr.errors import SpecError
from symcorr.experiments.finite_width import fit_inverse_width
from symcorr.montecarlo import estimate_connected, estimate_correlators
from symcorr.symbolic import GaussianExpectation, correlator, kernel

N = size_symbol("N")
X2 = torch.tensor([[1.0, 0.0], [0.6, -0.8]], dtype=torch.float64)
X4 = torch.tensor([[1.0, 0.0], [0.6, -0.8], [0.0, 1.0], [-0.5, 0.5]], dtype=torch.float64)


def _net(act, widths, c_w=sp.Rational(3, 2), c_b=sp.Rational(1, 10), d_in=2, d_out=1) -> Network:
    """Hidden widths ``widths`` (numbers or expressions), Var(W^l) = c_w / fan_in, biases N(0, c_b)."""
    bias = None if c_b == 0 else Normal(0, c_b)
    layers, fan_in = [], d_in
    for w in widths:
        layers.append(Dense(w, act, weight=Normal(0, c_w / fan_in), bias=bias))
        fan_in = w
    layers.append(Dense(d_out, weight=Normal(0, c_w / fan_in), bias=bias))
    return Network(d_in, layers)


# ----------------------------------------------------------------------------------------------------
# exact checks
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("act", ["erf", "relu", "cos", "gauss", "tanh"])
def test_depth_two_reproduces_the_exact_one_over_n_terms(act):
    """One hidden layer: the recursion's first term is the exact single-layer connected part
    sigma^4 (m4 - k k) / N, and its two-point function has no 1/N term (today's exact formulas)."""
    net = Network(1, [Dense(N, act, weight=Normal(0, 1), bias=Normal(0, sp.Rational(1, 4))),
                      Dense(2, weight=Normal(0, 3 / N), bias=Normal(0, sp.Rational(1, 3)))])
    x = [[sp.Rational(1, 2)], [-1], [sp.Rational(1, 3)], [2]]
    fw, exact = FiniteWidth(net), correlator(net, 4)
    assert exact.is_exact
    a = sp.Symbol("a", integer=True)
    for idx, full in (((0, 0, 0, 0), True), ((0, 1, 0, 1), False), ((a, a, 1, 1), True)):
        lead, ((width, c),) = fw.expansion(x, idx, connected=True)
        want = exact.inverse_width_coefficients(x, idx, connected=True)
        assert width == N and lead == 0 and set(want) <= {-1}
        assert _equal(c, want.get(-1, 0))
        if full:
            lead, ((_, c),) = fw.expansion(x, idx, connected=False)
            want = exact.inverse_width_coefficients(x, idx)
            assert _equal(lead, want[0]) and _equal(c, want.get(-1, 0))
    lead, ((_, c),) = fw.expansion(x[:2], (0, 0))
    assert c == 0 and _equal(lead, kernel(net)(x[0], x[1]))


def _equal(u, v) -> bool:
    """Exact equality of two expressions: structurally after expansion, else with ``simplify``."""
    diff = sp.expand(u - v)
    return diff == 0 or sp.simplify(diff) == 0


def test_depth_two_check_detects_a_wrong_vertex():
    net = Network(1, [Dense(N, "erf", weight=Normal(0, 1), bias=Normal(0, 1)), Dense(1, weight=Normal(0, 3 / N))])
    x = [[sp.Rational(1, 2)], [-1], [sp.Rational(1, 3)], [2]]
    _, ((_, c),) = FiniteWidth(net).expansion(x, (0, 0, 0, 0), connected=True)
    want = correlator(net, 4).inverse_width_coefficients(x, (0, 0, 0, 0), connected=True)[-1]
    assert abs(float(sp.N(2 * c - want))) > 1e-3  # e.g. a doubled C_W^2 would be seen


def test_deep_linear_network_matches_the_exact_wishart_four_point_function():
    """f = W2 W1 W0 x with separate widths n1, n2: Cov(G-hat_ab, G-hat_cd) = (1/n1 + 1/n2)(K_ac K_bd +
    K_ad K_bc) at order 1/n exactly (Gaussian matrices), and no 1/n shift; symbolic and numeric frames."""
    n1, n2 = size_symbol("n1"), size_symbol("n2")
    c0, c1, c2 = sp.Rational(3, 2), sp.Rational(1, 2), 2
    net = Network(2, [Dense(n1, weight=Normal(0, c0 / 2)), Dense(n2, weight=Normal(0, c1 / n1)),
                      Dense(3, weight=Normal(0, c2 / n2))])
    x = [[1, 0], [sp.Rational(1, 2), -1], [0, sp.Rational(2, 3)], [-1, 1]]

    def K(i, j):
        return c2 * c1 * c0 / 2 * sp.Matrix(x[i]).dot(sp.Matrix(x[j]))

    pairings = [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2))]
    want = sum(K(a, c) * K(b, d) + K(a, d) * K(b, c) for (a, b), (c, d) in pairings)
    fw = FiniteWidth(net)
    lead, corr = fw.expansion(x, (0, 0, 0, 0), connected=True)
    assert [w for w, _ in corr] == [n1, n2] and all(_equal(c, want) for _, c in corr)
    _, corr = fw.expansion(x, (0, 0, 1, 1), connected=True)  # one pairing survives the output deltas
    assert all(_equal(c, K(0, 2) * K(1, 3) + K(0, 3) * K(1, 2)) for _, c in corr)
    assert all(c == 0 for _, c in fw.expansion(x[:2], (1, 1))[1])
    values = fw.values(torch.tensor([[float(v) for v in p] for p in x], dtype=torch.float64))
    got, err = values.connected((0, 1, 2, 3))
    assert torch.allclose(got[:, 0], torch.full((2,), float(want), dtype=torch.float64), rtol=1e-12)
    assert float(err.max()) < 1e-10
    assert float(values.shift.abs().max()) < 1e-14


def test_quadratic_activation_shift_is_the_exact_expectation_of_g():
    """phi(z) = z^2: g(G) = G_11 G_22 + 2 G_12^2 is quadratic, so E[g(G-hat)] - g(K) = Cov(G_11, G_22) +
    2 Var(G_12) exactly -- the delta method's (1/2) sum over ordered pairs of the unordered entries
    (11), (12), (22); on the diagonal g = 3 G^2 gives 3 Var(G_11).  Isserlis moments by hand."""
    square = Activation.custom("square", lambda z: z ** 2)
    n1, n2, c1, c2 = 10, 7, 0.5, 2.0
    net = Network(1, [Dense(n1, square, weight=Normal(0, sp.Rational(3, 2)), bias=Normal(0, sp.Rational(1, 4))),
                      Dense(n2, square, weight=Normal(0, sp.Rational(1, 2) / n1)),
                      Dense(1, weight=Normal(0, sp.Integer(2) / n2))])
    x = torch.tensor([[0.7], [-0.4]], dtype=torch.float64)
    k0 = 0.25 + 1.5 * x @ x.T

    def isserlis(idx):
        if not idx:
            return 1.0
        return sum(float(k0[idx[0], idx[i]]) * isserlis(idx[1:i] + idx[i + 1:]) for i in range(1, len(idx)))

    def cov1(a, b, c, d):  # Cov(G1_ab, G1_cd) = c1^2 (E[s_a s_b s_c s_d] - E[s_a s_b] E[s_c s_d]) / n1
        return c1 ** 2 * (isserlis([a, a, b, b, c, c, d, d]) - isserlis([a, a, b, b]) * isserlis([c, c, d, d])) / n1

    shift, shift_err, _, _ = FiniteWidth(net).values(x).at_widths()
    assert float(shift[0, 0, 1]) == pytest.approx(c2 * (cov1(0, 0, 1, 1) + 2 * cov1(0, 1, 0, 1)), rel=1e-12)
    assert float(shift[0, 0, 0]) == pytest.approx(c2 * 3 * cov1(0, 0, 0, 0), rel=1e-12)
    assert float(shift[0, 0, 1]) != pytest.approx(c2 * (2 * cov1(0, 0, 1, 1) + 4 * cov1(0, 1, 0, 1)), rel=1e-3)
    assert float(shift_err.max()) < 1e-10


def _numbers(exprs):
    """Floats of SymPy expressions whose unevaluated Gaussian expectations are integrated once each (adaptive
    or Gauss-Hermite quadrature of symcorr.symbolic, independent of the torch tables), and the largest
    quadrature error among them."""
    atoms = set().union(*(sp.sympify(e).atoms(GaussianExpectation) for e in exprs))
    numeric = {a: a.numeric() for a in atoms}
    at = {a: sp.Float(v, 20) for a, (v, _) in numeric.items()}
    worst = max([float(e) for _, e in numeric.values()], default=0.0)
    return [float(sp.sympify(e).xreplace(at).evalf(20)) for e in exprs], worst


def _frames_agree(act, widths):
    net = _net(act, widths)
    x = [[1, 0], [sp.Rational(3, 5), -sp.Rational(4, 5)]]
    terms = FiniteWidth(net).terms(x)
    values = FiniteWidth(net).values(torch.tensor([[1.0, 0.0], [0.6, -0.8]], dtype=torch.float64))
    S = len(widths)
    assert terms.widths == tuple(widths)
    cov = [terms.covariance[s][e, f] for s in range(S) for e in range(3) for f in range(3)]
    shift = [terms.shift[s][i, j] for s in range(S) for i in range(2) for j in range(2)]
    want, quad = _numbers(cov + shift)
    got = torch.cat([values.covariance[:, 0].reshape(-1), values.shift[:, 0].reshape(-1)])
    err = torch.cat([values.covariance_error[:, 0].reshape(-1), values.shift_error[:, 0].reshape(-1)])
    diff = (got - torch.tensor(want, dtype=torch.float64)).abs()
    assert bool((diff <= err + 100 * quad + 1e-12).all()), (diff, err, quad)
    assert float(torch.tensor(want).abs().max()) > 0.1


@pytest.mark.parametrize("act,widths", [("cos", [N, 2 * N]), ("erf", [N, 2 * N]), ("relu", [2 * N, N])])
def test_symbolic_and_numeric_frames_agree(act, widths):
    """Every per-layer coefficient of the vertex and of the shift at two points, SymPy (nested closed forms)
    against torch (generated code / quadrature), within the numeric error estimate."""
    _frames_agree(act, widths)


@pytest.mark.slow
@pytest.mark.parametrize("act", ["cos", "erf", "relu"])
def test_symbolic_and_numeric_frames_agree_for_three_hidden_layers(act):
    _frames_agree(act, [N, 2 * N, N])  # evaluating the nested ReLU closed forms takes about a minute


def test_four_distinct_points_need_quadrature_and_carry_its_error():
    """ReLU at four distinct points: the four-point moments are quadratures (no closed form at three or more
    points), symbolic values are unevaluated Gaussian expectations; the numeric error covers a finer
    symbolic quadrature of the same coefficient."""
    net = _net("relu", [N, N])
    fw = FiniteWidth(net)
    values = fw.values(X4)
    got, err = values.connected((0, 1, 2, 3))
    assert float(err.sum()) > 1e-8  # quadrature, not rounding
    x = [[1, 0], [sp.Rational(3, 5), -sp.Rational(4, 5)], [0, 1], [-sp.Rational(1, 2), sp.Rational(1, 2)]]
    _, corr = fw.expansion(x, (0, 0, 0, 0), connected=True)
    assert any(c.has(GaussianExpectation) for _, c in corr)
    want, quad = _numbers([c for _, c in corr])
    for s in range(len(corr)):
        assert abs(float(got[s, 0]) - want[s]) <= float(err[s, 0]) + 100 * quad + 1e-9


def test_gram_is_the_vectorised_two_point_function():
    net = _net("erf", [N, N], c_b=sp.Rational(1, 5))
    X = torch.tensor([[1.0, 0.0], [0.6, -0.8], [0.0, 1.0]], dtype=torch.float64)
    Y = torch.tensor([[0.6, -0.8], [2.0, 0.5]], dtype=torch.float64)
    value, err = finite_width_gram(net, X, Y, widths={N: 20})
    limit, _ = finite_width_gram(net, X, Y, limit=True)
    assert value.shape == (3, 2) and limit.shape == (3, 2)
    k = NNGP(net.subs({N: 20})).metrics_torch(torch.cat([X, Y])).values[-1][:3, 3:]
    assert torch.allclose(limit, k, rtol=0, atol=1e-14)
    for i in range(3):
        for j in range(2):
            if bool((X[i] == Y[j]).all()):
                res = FiniteWidth(net).values(X[i:i + 1])
                want = res.kernel[0, 0, 0] + res.at_widths({N: 20})[0][0, 0, 0]
            else:
                res = FiniteWidth(net).values(torch.stack([X[i], Y[j]]))
                want = res.kernel[0, 0, 1] + res.at_widths({N: 20})[0][0, 0, 1]
            assert abs(float(value[i, j] - want)) <= 1e-13
            # erf's four-point moments at two points are quadratures (their error enters at 1/N)
            assert 0 < float(err[i, j]) < 1e-4
    assert (value - limit).abs().max() > 1e-4  # the correction is there
    square, _ = finite_width_gram(net.subs({N: 20}), X)
    assert torch.allclose(square, square.T, atol=1e-14)
    with pytest.raises(SpecError, match="widths"):
        finite_width_gram(net, X, Y)


@pytest.mark.parametrize("change,match", [
    (dict(index=2, activation="tanh"), "read-out applies"),
    (dict(index=1, weight=Rademacher(1 / sp.sqrt(N))), "Gaussian hidden-layer weights"),
    (dict(index=2, weight=Normal(sp.Rational(1, 10), 1 / N)), "zero-mean read-out"),
    (dict(index=1, weight=Normal(0, 1 / (N + 1))), "C_W / fan_in exactly"),
    (dict(index=0, weight=Normal(0, 1 / N)), "first layer's laws depend on a hidden width"),
])
def test_what_the_recursion_refuses(change, match):
    net = _net("erf", [N, N])
    index = change.pop("index")
    with pytest.raises(SpecError, match=match):
        FiniteWidth(net.replace_layer(index, **change))


def test_symbolic_frame_refuses_activations_without_closed_form_derivatives():
    net = _net("tanh", [N, N])
    with pytest.raises(SpecError, match=r"layers\[1\].activation.*available numerically"):
        FiniteWidth(net).terms([[1, 0], [0, 1]])
    assert FiniteWidth(net).values(X2).covariance.shape == (2, 1, 3, 3)  # the numeric frame has it
    with pytest.raises(SpecError, match="distinct"):
        FiniteWidth(net).values(torch.cat([X2, X2[:1]]))


def test_import_order_does_not_matter():
    """symcorr.symbolic registers the deep expansion from symcorr.deep, which builds on symcorr.symbolic:
    whichever module is imported first, the correlator of a deep net has its expansion."""
    code = ("import {m}\nfrom symcorr.symbolic.deep_expansion import _FACTORY\nassert _FACTORY\n"
            "from symcorr.symbolic import correlator\n")
    for module in ("symcorr.deep.layer_tables",):  # the order that first broke (symcorr.deep.nngp: the same)
        proc = subprocess.run([sys.executable, "-c", code.format(m=module)], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr


# ----------------------------------------------------------------------------------------------------
# Monte Carlo
# ----------------------------------------------------------------------------------------------------
def _monte_carlo(act, multiples, widths, x, networks, seed, *, slots=None, entry=None, c_w=sp.Rational(3, 2),
                 c_b=sp.Rational(1, 10)):
    """Estimates at each width N (hidden widths ``multiples * N``), from sampled networks with the Gaussian
    read-out integrated out: the connected four-point function at ``slots`` (``estimate_connected``) or
    the two-point function minus the NNGP kernel at ``entry`` (``estimate_correlators``)."""
    values, errors = [], []
    k = NNGP(_net(act, [m for m in multiples], c_w, c_b)).metrics_torch(x).values[-1]
    for w in widths:
        net = _net(act, [m * w for m in multiples], c_w, c_b)
        if slots is not None:
            est = estimate_connected(net, x, torch.tensor([slots]), networks=networks, seed=seed + w,
                                     estimator="readout")
            values.append(float(est.mean[0]))
            errors.append(float(est.se[0]))
        else:
            est = estimate_correlators(net, x, (2,), networks=networks, seed=seed + w, estimator="readout")[2]
            v, se = est.get(entry)
            values.append(v - float(k[entry]))
            errors.append(se)
    fit = fit_inverse_width(widths, values, errors)
    return fit.a, fit.se_a, fit.chi2


def _connected_predictions(act, multiples, x, slots, c_w=sp.Rational(3, 2), c_b=sp.Rational(1, 10)):
    """The predicted 1/N coefficient of G4c (hidden widths alpha_s N) and two wrong ones: the vertex without
    its propagation term (the last layer's local term alone) and without the width ratio n_l/n_{l-1}
    (every source divided by the last width)."""
    values = FiniteWidth(_net(act, [N * m for m in multiples], c_w, c_b)).values(x)
    coeff, err = values.connected(slots)
    coeff, err = coeff[:, 0].numpy(), err[:, 0].numpy()
    alpha = np.array(multiples, dtype=float)
    return ((coeff / alpha).sum(), (err / alpha).sum(), {"no propagation": coeff[-1] / alpha[-1],
                                                         "no width ratio": coeff.sum() / alpha[-1]})


@pytest.mark.parametrize("act,multiples,widths,slots,networks,rejects", [
    # n1 = 2N, n2 = N: the width ratio n_l/n_{l-1} matters
    ("erf", (2, 1), (12, 16, 24, 32), (0, 0, 1, 1), 8000, ("no propagation", "no width ratio")),
    ("relu", (1, 1, 1), (12, 16, 24, 32), (0, 1, 0, 1), 6000, ("no propagation",)),
    ("tanh", (1, 2, 1), (12, 16, 24), (0, 0, 1, 1), 5000, ("no propagation",)),
])
def test_connected_four_point_coefficient_agrees_with_monte_carlo(act, multiples, widths, slots, networks, rejects):
    pred, pred_err, wrong = _connected_predictions(act, multiples, X2, slots)
    a, se, chi2 = _monte_carlo(act, multiples, widths, X2, networks, seed=11, slots=slots)
    assert pred_err < 0.01 * se
    assert abs(a - pred) < 4 * se, (a, se, pred)
    assert chi2 < 20  # 2-4 degrees of freedom: the 1/N + 1/N^2 model describes the estimates
    for name in rejects:  # the same fit rejects the wrong recursions
        assert abs(a - wrong[name]) > 4 * se, (name, a, se, wrong[name])


def test_two_point_correction_agrees_with_monte_carlo():
    """tanh, three hidden layers, C_W = 2, no biases, at one point: the 1/N shift of G2 (from the Hessian
    term of the delta method, propagated) against Monte Carlo; the shift without its 1/2 (double counting
    the covariance entries) and without the Hessian term (no shift) are rejected."""
    multiples, c_w, c_b = (1, 1, 1), sp.Integer(2), 0
    values = FiniteWidth(_net("tanh", [N] * 3, c_w, c_b)).values(X2[:1])
    pred = float(values.shift[:, 0, 0, 0].sum())
    a, se, chi2 = _monte_carlo("tanh", multiples, (12, 16, 24, 32), X2[:1], 30000, seed=5, entry=(0, 0),
                               c_w=c_w, c_b=c_b)
    assert abs(a - pred) < 4 * se, (a, se, pred)
    assert chi2 < 20
    for wrong in (2 * pred, 0.0):
        assert abs(a - wrong) > 4 * se, (a, se, wrong)


@pytest.mark.slow
@pytest.mark.parametrize("act", ["erf", "relu", "tanh"])
@pytest.mark.parametrize("hidden", [2, 3])
def test_thorough_monte_carlo_at_widths_16_to_256(act, hidden):
    """Four distinct points, widths 16 ... 256, 20000 networks per width: the connected four-point
    coefficient and the off-diagonal two-point correction."""
    multiples = (1,) * hidden
    widths = (16, 32, 64, 128, 256)
    pred, _, wrong = _connected_predictions(act, multiples, X4, (0, 1, 2, 3))
    a, se, _ = _monte_carlo(act, multiples, widths, X4, 20000, seed=101, slots=(0, 1, 2, 3))
    assert abs(a - pred) < 4 * se, (a, se, pred)
    if abs(pred - wrong["no propagation"]) > 8 * se:  # where the propagation term is resolvable at this budget
        assert abs(a - wrong["no propagation"]) > 4 * se
    values = FiniteWidth(_net(act, [N] * hidden)).values(X2)
    shift = float(values.shift[:, 0, 0, 1].sum())
    a, se, _ = _monte_carlo(act, multiples, widths[:4], X2, 20000, seed=202, entry=(0, 1))
    assert abs(a - shift) < 4 * se, (a, se, shift)
