"""symcorr.deep.nngp: the layer-by-layer infinite-width metric, against today's exact single-hidden-layer
kernel, an independent library (neural-tangents) and Monte Carlo at large width."""

import json
from pathlib import Path

import pytest
import sympy as sp
import torch

from symcorr import Dense, Network, Normal, Rademacher, UniformCircle, size_symbol
from symcorr.deep.finite_width import FiniteWidth
from symcorr.deep.nngp import NNGP
from symcorr.distributions import Uniform
from symcorr.errors import SpecError
from symcorr.montecarlo import estimate_correlators
from symcorr.symbolic import ParameterIntegral, kernel

N = size_symbol("N")
PEER = json.loads((Path(__file__).parent / "data" / "peer_kernels.json").read_text())


@pytest.mark.parametrize("act,bias", [("erf", Normal(0, 1)), ("relu", None), ("cos", UniformCircle()),
                                      ("gauss", Normal(0, sp.Rational(1, 4)))])
def test_one_hidden_layer_equals_the_exact_kernel(act, bias):
    net = Network(2, [Dense(N, act, weight=Normal(0, sp.Rational(1, 2)), bias=bias),
                      Dense(1, weight=Normal(0, 3 / N), bias=Normal(0, sp.Rational(1, 3)))])
    x = [[1, 0], [sp.Rational(1, 2), -1], [0, sp.Rational(2, 3)]]
    k = NNGP(net).metrics(x)[-1]
    for i in range(3):
        for j in range(3):
            assert sp.simplify(k[i, j] - kernel(net)(x[i], x[j])) == 0


def _peer_network(case):
    d = len(PEER["x"][0])
    w, ws, bs, act = case["width"], case["w_std"], case["b_std"], case["activation"]
    layers = [Dense(w, act, weight=Normal(0, ws ** 2 / d), bias=Normal(0, bs ** 2))]
    layers += [Dense(w, act, weight=Normal(0, ws ** 2 / w), bias=Normal(0, bs ** 2)) for _ in range(case["hidden"] - 1)]
    layers.append(Dense(1, weight=Normal(0, ws ** 2 / w), bias=Normal(0, bs ** 2)))
    return Network(d, layers)


@pytest.mark.parametrize("case", [c for c in PEER["cases"] if c["parameterization"] == "ntk"],
                         ids=lambda c: f"{c['activation']}-{c['hidden']}")
def test_deep_metric_equals_neural_tangents(case):
    x = torch.tensor(PEER["x"], dtype=torch.float64)
    y = torch.tensor(PEER["y"], dtype=torch.float64)
    values, errors = NNGP(_peer_network(case)).metrics_torch(torch.cat([x, y]))
    got = values[-1][: len(x), len(x):]
    torch.testing.assert_close(got, torch.tensor(case["nngp"], dtype=torch.float64), rtol=1e-12, atol=1e-12)
    assert float(errors[-1].max()) < 1e-11


def test_symbolic_and_numeric_metrics_agree_for_a_deep_erf_net():
    net = Network(2, [Dense(4, "erf", weight=Normal(0, 1), bias=Normal(0, 1)),
                      Dense(4, "erf", weight=Normal(0, sp.Rational(1, 2)), bias=Normal(0, sp.Rational(1, 2))),
                      Dense(4, "relu", weight=Normal(0, sp.Rational(1, 2))),
                      Dense(1, weight=Normal(0, sp.Rational(1, 4)))])
    x = [[sp.Rational(1, 2), 0], [-1, sp.Rational(1, 3)]]
    exact = NNGP(net).metrics(x)
    values, _ = NNGP(net).metrics_torch(torch.tensor([[0.5, 0.0], [-1.0, 1 / 3]], dtype=torch.float64))
    for l, k in enumerate(exact):
        want = torch.tensor([[float(sp.N(k[i, j], 30)) for j in range(2)] for i in range(2)], dtype=torch.float64)
        torch.testing.assert_close(values[l], want, rtol=1e-12, atol=1e-13)


def test_quadrature_layers_carry_an_honest_error_estimate():
    """tanh has no closed form: both layers are integrated by quadrature; the reported error covers the
    difference from an independent adaptive quadrature (scipy) of the same two-layer recursion."""
    import math

    from scipy import integrate

    net = Network(1, [Dense(8, "tanh", weight=Normal(0, 2), bias=Normal(0, 1)),
                      Dense(8, "tanh", weight=Normal(0, sp.Rational(2, 8)), bias=Normal(0, 1)),
                      Dense(1, weight=Normal(0, sp.Rational(1, 8)))])
    pts = [0.3, -1.2]
    values, errors = NNGP(net).metrics_torch(torch.tensor([[p] for p in pts], dtype=torch.float64))

    def pair(k11, k12, k22):
        s1, rho = math.sqrt(k11), k12 / math.sqrt(k11 * k22)
        c, s2 = math.sqrt(1 - rho * rho), math.sqrt(k22)
        pdf = lambda a: math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
        return integrate.dblquad(lambda b, a: math.tanh(s1 * a) * math.tanh(s2 * (rho * a + c * b)) * pdf(a) * pdf(b),
                                 -10, 10, -10, 10, epsabs=1e-13, epsrel=1e-13)[0]

    def diag(k):
        return integrate.quad(lambda a: math.tanh(math.sqrt(k) * a) ** 2 * math.exp(-a * a / 2) / math.sqrt(2 * math.pi),
                              -10, 10, epsabs=1e-14)[0]

    k0 = [[1 + 2 * p * q for q in pts] for p in pts]
    k1 = [[1 + 2 * (diag(k0[i][i]) if i == j else pair(k0[i][i], k0[i][j], k0[j][j])) for j in range(2)] for i in range(2)]
    # the read-out: no bias, C_W = 8 * (1/8) = 1
    k2 = [[diag(k1[i][i]) if i == j else pair(k1[i][i], k1[i][j], k1[j][j]) for j in range(2)] for i in range(2)]
    for l, truth in ((0, k1), (1, k2)):
        diff = (values[l] - torch.tensor(truth, dtype=torch.float64)).abs()
        assert bool((diff <= errors[l] + 1e-12).all()), (l, diff, errors[l])
    assert float(errors[-1].max()) < 1e-4  # conservative: the coarse rule's error bounds the fine one's


def test_monte_carlo_at_large_width_agrees_within_standard_errors():
    """Two hidden ReLU layers of width 128, 8000 networks sampled directly: the two-point function equals the
    infinite-width metric within 4 s.e. (s.e. ~1.5% relative, above the O(1/N) correction), and a metric
    20% off is rejected (the 1/N-corrected comparison at several widths is in test_finite_width)."""
    width = 128
    net = Network(2, [Dense(width, "relu", weight=Normal(0, 1), bias=Normal(0, sp.Rational(1, 10))),
                      Dense(width, "relu", weight=Normal(0, sp.Rational(2, width)), bias=Normal(0, sp.Rational(1, 10))),
                      Dense(1, weight=Normal(0, sp.Rational(1, width)))])
    x = torch.tensor([[1.0, 0.0], [0.6, -0.8]], dtype=torch.float64)
    k = NNGP(net).metrics_torch(x).values[-1]
    est = estimate_correlators(net, x, (2,), networks=8000, seed=3, estimator="direct")[2]
    for entry, (i, j) in (((0, 0), (0, 0)), ((0, 1), (0, 1)), ((1, 1), (1, 1))):
        value, se = est.get(entry)
        assert abs(value - float(k[i, j])) < 4 * se
    wrong = 1.2 * float(k[0, 1])
    value, se = est.get((0, 1))
    assert abs(value - wrong) > 4 * se


# ----------------------------------------------------------------------------------------------------
# non-Gaussian first layers in the numeric frames
# ----------------------------------------------------------------------------------------------------
#: a zero coordinate and a coordinate shared between points: the removable singularities of the closed form
#: prod_i sin(x_i - y_i) / (x_i - y_i) of uniform weights
XS = torch.tensor([[1.0, 0.0], [0.6, -0.8], [0.6, 0.3]], dtype=torch.float64)


def _first_non_gaussian(weight, bias, act="cos"):
    return Network(2, [Dense(5, act, weight=weight, bias=bias),
                       Dense(5, "erf", weight=Normal(0, sp.Rational(2, 5)), bias=Normal(0, sp.Rational(1, 10))),
                       Dense(1, weight=Normal(0, sp.Rational(1, 5)))])


def _quadrature_first_moment(x, y, weight: str, bias: str):
    """E[cos(w.x + b) cos(w.y + b)] by a tensor Gauss rule, independent of the moment table: Gauss-Legendre
    for U(-1, 1) entries, Gauss-Hermite for N(0, 1) ones (40 nodes each)."""
    import numpy as np

    gl, glw = np.polynomial.legendre.leggauss(40)
    gh, ghw = np.polynomial.hermite_e.hermegauss(40)
    rules = {"uniform": (gl, glw / 2), "normal": (gh, ghw / np.sqrt(2 * np.pi))}
    (w_n, w_w), (b_n, b_w) = rules[weight], rules[bias]
    w0, w1, b = np.meshgrid(w_n, w_n, b_n, indexing="ij")
    mass = w_w[:, None, None] * w_w[None, :, None] * b_w[None, None, :]
    return float((mass * np.cos(w0 * x[0] + w1 * x[1] + b) * np.cos(w0 * y[0] + w1 * y[1] + b)).sum())


@pytest.mark.parametrize("weight,bias", [("uniform", "normal"), ("normal", "uniform")])
def test_non_gaussian_first_layer_with_closed_forms_in_the_numeric_frames(weight, bias):
    """Cos with uniform weights (the sinc closed form, 0/0 when compiled at a zero or shared coordinate) or a
    uniform bias (the first layer is not Gaussian: exact SymPy moments, which need hashable points): the first
    metric of metrics_torch is C_b + C_W F_0 with F_0 equal to an independent quadrature, and the grid of
    kernel(net).gram(limit=True) equals the per-point-set metrics at every pair.  Failing counterpart: the
    same quadrature with Gaussian weights of the same variance is far off."""
    laws = {"uniform": Uniform(-1, 1), "normal": Normal(0, 1)}
    net = _first_non_gaussian(laws[weight], laws[bias])
    values, errors = NNGP(net).metrics_torch(XS)
    c_w, c_b = float(NNGP(net).c_w[1]), float(NNGP(net).c_b[1])
    for i in range(3):
        for j in range(3):
            want = _quadrature_first_moment(XS[i].tolist(), XS[j].tolist(), weight, bias)
            assert (float(values[0, i, j]) - c_b) / c_w == pytest.approx(want, rel=1e-10, abs=1e-12)
    wrong = _first_non_gaussian(Normal(0, sp.Rational(1, 3)) if weight == "uniform" else laws[weight],
                                laws[bias] if weight == "uniform" else Normal(0, sp.Rational(1, 3)))
    assert float((NNGP(wrong).metrics_torch(XS).values[0] - values[0]).abs().max()) > 1e-3
    assert float(errors.max()) < 1e-13
    grid = kernel(net).gram(XS, limit=True)
    torch.testing.assert_close(grid, values[-1], rtol=1e-13, atol=1e-14)


def test_the_compiled_first_layer_has_0_over_0_entries_that_are_recomputed_exactly(monkeypatch):
    """The exact recomputation is what makes the grid finite at the removable singularities: without it (no
    entry allowed) the grid refuses, naming the singular entries, rather than returning NaN."""
    import symcorr.deep.gram as gram

    net = _first_non_gaussian(Uniform(-1, 1), Normal(0, 1))
    monkeypatch.setattr(gram, "EXACT_FALLBACK_ENTRIES", 0)
    with pytest.raises(SpecError, match=r"layers\[0\].*0/0 at \d+ entries"):
        kernel(net).gram(XS, limit=True)


@pytest.mark.parametrize("weight,bias,act", [("uniform", None, "erf"), ("normal", "uniform", "relu"),
                                             ("rademacher", "normal", "tanh")])
def test_first_layer_moments_without_closed_form_are_refused_naming_the_layer(weight, bias, act):
    """An unevaluated ParameterIntegral in the first layer's moment is never turned into a number (it used to
    escape as a TypeError): every numeric frame raises a SpecError naming layers[0], its laws and activation."""
    laws = {"uniform": Uniform(-1, 1), "normal": Normal(0, 1), "rademacher": Rademacher(1), None: None}
    net = _first_non_gaussian(laws[weight], laws[bias], act)
    match = rf"^layers\[0\]: the first layer \(weight .*activation '{act}'\).*ParameterIntegral"
    for numeric in (lambda: NNGP(net).metrics_torch(XS), lambda: kernel(net).gram(XS, limit=True),
                    lambda: kernel(net).gram(XS), lambda: FiniteWidth(net).values(XS)):
        with pytest.raises(SpecError, match=match):
            numeric()
    exact = [[sp.Rational(v) for v in row] for row in XS.tolist()]
    assert NNGP(net).metrics(exact[:2])[0][0, 1].has(ParameterIntegral)  # the symbolic frame keeps the integral
