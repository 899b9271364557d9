"""The Gaussian table against plain adaptive quadrature (scipy), independent of its own Gauss-Hermite
rules: every closed form, Price's theorem for the covariance derivatives, the one-point functions, and
the quadrature fallback's error estimate."""

import math

import numpy as np
import pytest
import sympy as sp
import torch
from scipy import integrate, special

from symcorr.errors import SpecError
from symcorr.gaussian import K11, K12, K22, Factor, GaussianMoment, closed_form, pair_expectation

COVS = [(1.0, 0.3, 2.0), (0.5, -0.4, 0.7), (2.0, 1.9, 2.1)]

_NP = {
    "relu": lambda z: np.maximum(z, 0.0), "step": lambda z: np.where(np.asarray(z) > 0, 1.0, 0.0), "erf": special.erf,
    "erf'": lambda z: 2 / math.sqrt(math.pi) * np.exp(-z * z), "cos": np.cos, "sin": np.sin,
    "identity": lambda z: z, "tanh": np.tanh, "tanh'": lambda z: 1 - np.tanh(z) ** 2,
    "gelu": lambda z: z * (1 + special.erf(z / math.sqrt(2))) / 2,
}


def _pair_scipy(f, g, k11, k12, k22, m1=0.0, m2=0.0):
    """E[f(u) g(v)] by adaptive quadrature: u = m1 + sqrt(k11) a, v = m2 + rho sqrt(k22) a + ..."""
    s1, s2 = math.sqrt(k11), math.sqrt(k22)
    rho = k12 / (s1 * s2)
    c = math.sqrt(max(1 - rho * rho, 0.0))

    def inner(a):
        fa = f(m1 + s1 * a)
        if fa == 0:
            return 0.0
        h = lambda b: g(m2 + s2 * (rho * a + c * b)) * math.exp(-b * b / 2) / math.sqrt(2 * math.pi)
        return fa * integrate.quad(h, -12, 12, points=[-rho * a / c] if c > 0 else None, limit=200)[0]
    return integrate.quad(lambda a: inner(a) * math.exp(-a * a / 2) / math.sqrt(2 * math.pi), -12, 12,
                          points=[0.0, -m1 / s1], limit=200)[0]


def _eval(expr, k11, k12, k22):
    return float(expr.subs({K11: k11, K12: k12, K22: k22}))


@pytest.mark.parametrize("name", ["relu", "erf", "cos", "sin", "identity", "step"])
@pytest.mark.parametrize("cov", COVS)
def test_pair_closed_forms_equal_plain_quadrature(name, cov):
    pair = pair_expectation(name)
    assert pair.has_closed_form
    got = _eval(pair.expr(), *cov)
    want = _pair_scipy(_NP[name], _NP[name], *cov)
    assert got == pytest.approx(want, rel=1e-7, abs=1e-9)
    value, err = pair.torch(*(torch.tensor(c, dtype=torch.float64) for c in cov))
    assert float(value) == pytest.approx(got, rel=1e-12, abs=1e-14) and float(err) < 1e-12


@pytest.mark.parametrize("name,deriv", [("relu", "step"), ("erf", "erf'"), ("tanh", "tanh'")])
@pytest.mark.parametrize("cov", COVS)
def test_price_theorem_dF_dk12_is_the_derivative_pair(name, deriv, cov):
    """dF/dk12 = E[phi'(u) phi'(v)]: by differentiating the closed form (relu, erf) or by quadrature of the
    derivative activation (tanh)."""
    pair = pair_expectation(name)
    want = _pair_scipy(_NP[deriv], _NP[deriv], *cov)
    value, err = pair.torch(*(torch.tensor(c, dtype=torch.float64) for c in cov), d=(0, 1, 0))
    assert float(value) == pytest.approx(want, rel=1e-6, abs=max(1e-9, 4 * float(err)))
    if pair.has_closed_form:
        assert _eval(pair.expr(0, 1, 0), *cov) == pytest.approx(want, rel=1e-7)


def test_price_theorem_dF_dk11_is_half_the_second_derivative():
    """dF/dk11 = (1/2) E[phi''(u) phi(v)]: erf'' = -2z erf'(z), cos'' = -cos."""
    for cov in COVS:
        erf2 = lambda z: -2 * z * _NP["erf'"](z)
        want = 0.5 * _pair_scipy(erf2, _NP["erf"], *cov)
        assert _eval(pair_expectation("erf").expr(1, 0, 0), *cov) == pytest.approx(want, rel=1e-7, abs=1e-10)
        want = 0.5 * _pair_scipy(lambda z: -np.cos(z), np.cos, *cov)
        assert _eval(pair_expectation("cos").expr(1, 0, 0), *cov) == pytest.approx(want, rel=1e-7)


def test_relu_second_covariance_derivative_is_the_delta_pair():
    """d^2F/dk12^2 = E[delta(u) delta(v)] = the density of (u, v) at 0 (diverges at coincident points)."""
    k11, k12, k22 = 1.0, 0.3, 2.0
    got = _eval(pair_expectation("relu").expr(0, 2, 0), k11, k12, k22)
    assert got == pytest.approx(1 / (2 * math.pi * math.sqrt(k11 * k22 - k12 ** 2)), rel=1e-12)


@pytest.mark.parametrize("name", ["relu", "erf", "cos", "tanh", "gelu"])
def test_one_point_function_and_its_derivative(name):
    """g(k) = E[phi(u)^2] and g'(k) = (1/2) E[(phi^2)''(u)] = d/dk g, checked by quadrature and by a
    finite difference of the quadrature."""
    pair = pair_expectation(name)
    f = _NP[name]
    g = lambda k: integrate.quad(lambda a: f(math.sqrt(k) * a) ** 2 * math.exp(-a * a / 2) / math.sqrt(2 * math.pi),
                                 -12, 12, points=[0.0], limit=200)[0]
    for k in (0.3, 1.7):
        value, err = pair.diagonal_torch(torch.tensor(k, dtype=torch.float64))
        assert float(value) == pytest.approx(g(k), rel=1e-7, abs=max(1e-10, 4 * float(err)))
        d_value, d_err = pair.diagonal_torch(torch.tensor(k, dtype=torch.float64), order=1)
        h = 1e-4
        fd = (g(k + h) - g(k - h)) / (2 * h)
        assert float(d_value) == pytest.approx(fd, rel=1e-5, abs=1e-7)


def test_one_point_forms_with_means():
    m, v = 0.7, 1.3
    s = math.sqrt(v)
    pdf = lambda a: math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
    quad = lambda fn: integrate.quad(lambda a: fn(m + s * a) * pdf(a), -12, 12, points=[-m / s], limit=200)[0]
    cases = [("relu", 0, 1, _NP["relu"]), ("relu", 0, 2, lambda z: max(z, 0.0) ** 2), ("relu", 1, 1, _NP["step"]),
             ("erf", 0, 1, _NP["erf"]), ("erf", 1, 1, _NP["erf'"]), ("cos", 0, 3, lambda z: math.cos(z) ** 3)]
    for name, d, p, fn in cases:
        got = closed_form([Factor.of(name, d, p)], sp.Matrix([[sp.Float(v)]]), [sp.Float(m)])
        assert float(got) == pytest.approx(quad(fn), rel=1e-8), (name, d, p)
    delta = closed_form([Factor.of("relu", 2)], sp.Matrix([[sp.Float(v)]]), [sp.Float(m)])
    assert float(delta) == pytest.approx(pdf(m / s) / s, rel=1e-12)


def test_mixed_relu_pairs_equal_quadrature():
    for cov in COVS:
        rs = closed_form([Factor.of("relu"), Factor.of("relu", 1)], sp.Matrix([[cov[0], cov[1]], [cov[1], cov[2]]]))
        assert float(rs) == pytest.approx(_pair_scipy(_NP["relu"], _NP["step"], *cov), rel=1e-7)


def _gh_nd(fn, cov, mean, q=40):
    """Plain tensor Gauss-Hermite in numpy (written here, independently of symcorr.gaussian.quadrature)."""
    t, w = np.polynomial.hermite_e.hermegauss(q)
    w = w / w.sum()
    n = cov.shape[0]
    chol = np.linalg.cholesky(cov + 1e-300 * np.eye(n))
    grids = np.meshgrid(*([t] * n), indexing="ij")
    xi = np.stack([g.reshape(-1) for g in grids], -1)
    weight = np.ones(xi.shape[0])
    for g in np.meshgrid(*([w] * n), indexing="ij"):
        weight = weight * g.reshape(-1)
    u = mean[None, :] + xi @ chol.T
    return float((fn(u) * weight).sum())


def test_exponential_polynomials_at_four_points_with_means():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4)) * 0.5
    cov = a @ a.T + 0.2 * np.eye(4)
    mean = rng.normal(size=4) * 0.3
    factors = [Factor.of("cos"), Factor.of("sin"), Factor.of("cos", 1), Factor.of("identity")]
    want = _gh_nd(lambda u: np.cos(u[:, 0]) * np.sin(u[:, 1]) * -np.sin(u[:, 2]) * u[:, 3], cov, mean, q=30)
    got = closed_form(factors, sp.Matrix(cov.tolist()), mean.tolist())
    assert float(got) == pytest.approx(want, rel=1e-9)
    moment = GaussianMoment(factors)
    value, err = moment.torch(torch.tensor(cov), torch.tensor(mean))
    assert float(value) == pytest.approx(want, rel=1e-9) and float(err) < 1e-10
    gauss = closed_form([Factor.of("gauss")] * 3, sp.Matrix(cov[:3, :3].tolist()), mean[:3].tolist())
    # E[prod exp(u_i - m_i - s_ii)] = exp(sum_{i<j} s_ij - sum_i s_ii / 2)
    s = cov[:3, :3]
    assert float(gauss) == pytest.approx(math.exp(s[0, 1] + s[0, 2] + s[1, 2] - np.trace(s) / 2), rel=1e-12)


def test_quadrature_fallback_and_its_error_estimate():
    """ReLU at four points and tanh at three have no closed form: quadrature, whose error estimate
    covers the difference from an independent fine quadrature."""
    rng = np.random.default_rng(1)
    a = rng.normal(size=(3, 3))
    cov = a @ a.T / 3 + 0.3 * np.eye(3)
    tanh3 = GaussianMoment([Factor.of("tanh")] * 3)
    assert tanh3.sympy(sp.Matrix(cov.tolist()), [0.2, -0.1, 0.4]) is None
    value, err = tanh3.torch(torch.tensor(cov), torch.tensor([0.2, -0.1, 0.4]))
    want = _gh_nd(lambda u: np.tanh(u).prod(-1), cov, np.array([0.2, -0.1, 0.4]), q=80)
    assert abs(float(value) - want) <= float(err) + 1e-12
    relu4 = GaussianMoment([Factor.of("relu")] * 4)
    c4 = np.full((4, 4), 0.5) + 0.5 * np.eye(4)
    value, err = relu4.torch(torch.tensor(c4))
    assert float(err) < 5e-3 * float(value)
    # coincident points reduce the dimension: E[relu(u)^4] for all four equal = 3 k^2 / 2
    value, err = relu4.torch(torch.ones(4, 4))
    assert float(value) == pytest.approx(1.5, abs=float(err) + 1e-12)


def test_no_closed_form_is_invented():
    cov = sp.Matrix([[1, sp.Rational(1, 3), 0], [sp.Rational(1, 3), 1, 0], [0, 0, 1]])
    assert closed_form([Factor.of("relu")] * 3, cov) is None
    assert closed_form([Factor.of("erf")] * 2, cov[:2, :2], [sp.Rational(1, 2), 0]) is None
    assert pair_expectation("tanh").expr() is None
    # parity: an odd product of odd activations with zero means vanishes exactly
    assert closed_form([Factor.of("erf"), Factor.of("tanh"), Factor.of("erf")], cov) == 0


def test_dirac_delta_derivatives_are_refused_for_quadrature():
    with pytest.raises(SpecError, match="Dirac delta"):
        GaussianMoment([Factor.of("step", 1), Factor.of("tanh")]).torch(torch.eye(2))


# ----------------------------------------------------------------------------------------------------
# the derivative kernels and the joint code of the deep recursions
# ----------------------------------------------------------------------------------------------------
_DERIV = {"relu": "step", "erf": "erf'", "cos": lambda z: -np.sin(z), "sin": np.cos, "identity": lambda z: 1.0,
          "tanh": "tanh'"}


def _np(name):
    f = _DERIV.get(name, name)
    return _NP[f] if isinstance(f, str) else f


@pytest.mark.parametrize("name", ["relu", "erf", "cos", "sin", "identity"])
@pytest.mark.parametrize("cov", COVS)
def test_derivative_kernels_and_their_one_point_functions_equal_plain_quadrature(name, cov):
    """E[phi'(u) phi'(v)] and E[phi'(u)^2] (closed forms) against scipy; the joint generated function gives
    both at once and equals the separate ones."""
    pair = pair_expectation(name)
    want = _pair_scipy(_np(name), _np(name), *cov)
    assert _eval(pair.dot_expr(), *cov) == pytest.approx(want, rel=1e-7, abs=1e-9)
    k = cov[0]
    g = integrate.quad(lambda a: _np(name)(math.sqrt(k) * a) ** 2 * math.exp(-a * a / 2) / math.sqrt(2 * math.pi),
                       -12, 12, points=[0.0], limit=200)[0]
    assert float(pair.dot_diagonal_sympy(sp.Float(k))) == pytest.approx(g, rel=1e-7)
    t = [torch.tensor(c, dtype=torch.float64) for c in cov]
    f, fd = pair.pair_torch(*t, dot=True)
    assert float(f) == pytest.approx(float(pair.torch(*t)[0]), rel=1e-13)
    assert float(fd) == pytest.approx(want, rel=1e-7, abs=1e-9)
    g_t, gd_t = pair.diagonal_pair_torch(t[0], dot=True)
    assert float(gd_t) == pytest.approx(g, rel=1e-7) and float(g_t) == pytest.approx(float(pair.diagonal_torch(t[0])[0]))


@pytest.mark.parametrize("name", ["tanh", "gelu"])
def test_quadrature_pairs_at_two_resolutions_bracket_the_truth(name):
    """Without closed forms: 2-d Gauss-Hermite at the coarse and the fine node count; the fine one is within
    their difference of scipy (the error estimate the deep recursions use); transposed pairs agree."""
    deriv = {"tanh": _NP["tanh'"],
             "gelu": lambda z: (1 + special.erf(z / math.sqrt(2))) / 2 + z * np.exp(-z * z / 2) / math.sqrt(2 * math.pi)}
    pair = pair_expectation(name)
    assert not pair.closed(dot=True)
    for k11, k12, k22 in COVS:
        t = [torch.tensor(c, dtype=torch.float64) for c in (k11, k12, k22)]
        fine, coarse = (pair.pair_torch(*t, dot=True, nodes=q) for q in (64, 32))
        for got, low, want in zip(fine, coarse, (_pair_scipy(_NP[name], _NP[name], k11, k12, k22),
                                                 _pair_scipy(deriv[name], deriv[name], k11, k12, k22))):
            assert abs(float(got) - want) <= abs(float(got - low)) + 1e-12
        swapped = pair.pair_torch(t[2], t[1], t[0], dot=True)
        assert all(float(a) == float(b) for a, b in zip(fine, swapped))


def test_arc_cosine_code_is_accurate_at_coincident_points():
    """Nearly coincident points, rho = 1 - delta: the generated relu kernel is exact to rounding (the form
    sqrt((1 - rho)(1 + rho)) shares the rounding of arccos(rho)), against 50-digit mpmath.  Failing
    counterpart: SymPy's own form sqrt(1 - rho^2), compiled as is, loses half the digits."""
    import mpmath

    import symcorr.gaussian.table as table

    mpmath.mp.dps = 50
    deltas = [1e-15, 3e-14, 1e-13, 2e-12]
    k = torch.tensor([0.37, 1.9, 5.3, 1.0], dtype=torch.float64)
    k12 = k * (1 - torch.tensor(deltas, dtype=torch.float64))

    def truth(kk, c):
        rho = mpmath.mpf(c) / mpmath.mpf(kk)
        return float(mpmath.mpf(kk) * (mpmath.sqrt(1 - rho ** 2) + (mpmath.pi - mpmath.acos(rho)) * rho) / (2 * mpmath.pi))

    want = torch.tensor([truth(a, c) for a, c in zip(k.tolist(), k12.tolist())], dtype=torch.float64)
    (f,) = pair_expectation("relu").pair_torch(k, k12, k)
    torch.testing.assert_close(f, want, rtol=1e-15, atol=0)
    naive = sp.lambdify([K11, K12, K22], pair_expectation("relu").expr(), modules=[table.TORCH_FUNCTIONS, "math"])
    assert float(((naive(k, k12, k) - want) / want).abs().max()) > 1e-11


def test_isserlis_and_gauss_net_products_with_powers_and_means():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(3, 3)) * 0.6
    cov = a @ a.T + 0.3 * np.eye(3)
    mean = rng.normal(size=3) * 0.4
    # E[u0^2 u1 u2^3]
    got = closed_form([Factor.of("identity", 0, 2), Factor.of("identity"), Factor.of("identity", 0, 3)],
                      sp.Matrix(cov.tolist()), mean.tolist())
    want = _gh_nd(lambda u: u[:, 0] ** 2 * u[:, 1] * u[:, 2] ** 3, cov, mean, q=12)
    assert float(got) == pytest.approx(want, rel=1e-10)
    assert closed_form([Factor.of("identity", 1), Factor.of("identity", 2)], sp.Matrix(cov[:2, :2].tolist())) == 0
    gauss = closed_form([Factor.of("gauss", 0, 2), Factor.of("gauss", 1, 3)], sp.Matrix(cov[:2, :2].tolist()),
                        mean[:2].tolist())
    want = _gh_nd(lambda u: np.exp(2 * (u[:, 0] - mean[0] - cov[0, 0]) + 3 * (u[:, 1] - mean[1] - cov[1, 1])),
                  cov[:2, :2], mean[:2], q=40)
    assert float(gauss) == pytest.approx(want, rel=1e-9)


def test_exponential_polynomials_with_symbols_of_no_declared_sign():
    """Covariance entries are real whatever their SymPy assumptions: no re()/im() and no error."""
    k11, k12, k22 = sp.symbols("a b c")
    value = closed_form([Factor.of("cos")] * 2, sp.Matrix([[k11, k12], [k12, k22]]))
    assert not value.has(sp.re, sp.im)
    assert float(value.subs({k11: 1.0, k12: 0.3, k22: 2.0})) == pytest.approx(
        _pair_scipy(np.cos, np.cos, 1.0, 0.3, 2.0), rel=1e-8)


def test_one_resolution_quadrature():
    """``nodes=q``: one Gauss-Hermite estimate (the deep grids run two and compare them)."""
    cov = torch.tensor([[1.0, 0.4], [0.4, 0.8]], dtype=torch.float64)
    moment = GaussianMoment([Factor.of("tanh")] * 2)
    default = moment.torch(cov)
    one = moment.torch(cov, nodes=120)
    assert float(one.value) == pytest.approx(float(default.value), rel=1e-14)
    assert float(one.error) <= 64 * 2.3e-16 and float(moment.torch(cov, nodes=8).value) != float(one.value)


@pytest.mark.parametrize("p,q", [(2, 2), (3, 1), (1, 3), (2, 1), (4, 2)])
@pytest.mark.parametrize("cov", COVS)
def test_relu_two_point_moments_to_any_powers_equal_plain_quadrature(p, q, cov):
    """E[relu(u)^p relu(v)^q] (the four-point moments of the finite-width recursion at two distinct points):
    the polar-coordinate closed form against adaptive quadrature, and its generated torch code."""
    factors = [Factor.of("relu", 0, p), Factor.of("relu", 0, q)]
    expr = closed_form(factors, sp.Matrix([[cov[0], cov[1]], [cov[1], cov[2]]]))
    assert expr is not None
    want = _pair_scipy(lambda z: max(z, 0.0) ** p, lambda z: max(z, 0.0) ** q, *cov)
    assert float(expr) == pytest.approx(want, rel=1e-7, abs=1e-10)
    value, err = GaussianMoment(factors).torch(torch.tensor([[cov[0], cov[1]], [cov[1], cov[2]]], dtype=torch.float64))
    assert float(value) == pytest.approx(want, rel=1e-7, abs=1e-10) and float(err) < 1e-12


def test_relu_two_point_moment_check_detects_a_wrong_power():
    cov = COVS[0]
    expr = closed_form([Factor.of("relu", 0, 2), Factor.of("relu", 0, 2)], sp.Matrix([[cov[0], cov[1]], [cov[1], cov[2]]]))
    wrong = _pair_scipy(lambda z: max(z, 0.0) ** 3, lambda z: max(z, 0.0), *cov)
    assert float(expr) != pytest.approx(wrong, rel=1e-3)


def test_four_point_moments_quadrature_agrees_with_closed_forms_within_its_error():
    """Where a closed form exists (cos at four points, relu at two), the quadrature of the same moment (a
    custom activation with the same values has no closed form) agrees within its reported error."""
    from symcorr.activations import Activation

    rng = np.random.default_rng(3)
    a = rng.normal(size=(4, 4))
    cov = torch.tensor(a @ a.T / 4 + 0.2 * np.eye(4))
    cos_q = Activation.custom("cos_by_quadrature", lambda z: sp.cos(z))
    exact, _ = GaussianMoment([Factor.of("cos")] * 4).torch(cov)
    value, err = GaussianMoment([Factor.of(cos_q)] * 4).torch(cov)
    assert abs(float(value) - float(exact)) <= float(err) + 1e-12 and float(err) < 1e-4 * abs(float(exact))
    relu_q = Activation.custom("relu_by_quadrature", lambda z: sp.Max(z, 0), lambda t: torch.clamp_min(t, 0.0))
    c2 = cov[:2, :2]
    for p, q in ((2, 2), (3, 1)):
        exact, _ = GaussianMoment([Factor.of("relu", 0, p), Factor.of("relu", 0, q)]).torch(c2)
        value, err = GaussianMoment([Factor.of(relu_q, 0, p), Factor.of(relu_q, 0, q)]).torch(c2)
        assert abs(float(value) - float(exact)) <= float(err) + 1e-12
