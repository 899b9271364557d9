"""The single-neuron moments of symcorr.duality.neuron, checked against independent computations: the paper's
numbers, closed forms written out by hand, scipy's adaptive quadrature and a seeded Monte Carlo (tolerance
stated in standard errors, with a failing counterpart)."""

import math

import pytest
import sympy as sp
import torch

from symcorr import Dense, Laplace, Network, Normal, UniformCircle, zoo
from symcorr.duality.neuron import Neuron
from symcorr.rng import make_generator

R = sp.Rational
POINTS = [[R(1, 2), R(-1, 3)], [R(1, 5), R(2, 3)], [R(-3, 4), R(1, 7)], [R(2, 5), R(2, 5)]]


def test_gauss_net_single_neuron_four_point_moment_matches_the_paper():
    """m_4 = exp(sum_{i<j} k0_ij - 1/2 sum_i k0_ii): 66.69 at x = (0.1, 0.2, 0.3, 0.4), 492.75 at x + 0.5."""
    neuron = Neuron(zoo.gauss_net(1, 2, 1))
    xs = [[R(k, 10)] for k in (1, 2, 3, 4)]
    m4 = neuron.moment([("gauss", x) for x in xs])
    assert sp.simplify(m4.expr - sp.exp(R(42, 10))) == 0
    shifted = neuron.moment([("gauss", [x[0] + R(1, 2)]) for x in xs])
    assert sp.simplify(shifted.expr - sp.exp(R(62, 10))) == 0
    assert abs(m4.num.real - 66.686) < 1e-3 and abs(shifted.num.real - 492.749) < 1e-3


def test_cos_net_moments_depend_on_differences_only():
    """Paper section 3.4: m_4 = (1/8)[g(x1+x2-x3-x4) + g(x1+x3-x2-x4) + g(x1+x4-x2-x3)], g(v) = exp(-|v|^2/2d)."""
    neuron = Neuron(zoo.cos_net(2, 3, 1))
    pts = POINTS

    def g(v):
        return sp.exp(-(v[0] ** 2 + v[1] ** 2) / 4)

    def comb(a, b, c, e):
        return [pts[a][j] + pts[b][j] - pts[c][j] - pts[e][j] for j in range(2)]

    expected = (g(comb(0, 1, 2, 3)) + g(comb(0, 2, 1, 3)) + g(comb(0, 3, 1, 2))) / 8
    got = neuron.moment([("cos", p) for p in pts])
    assert sp.simplify(got.expr - expected) == 0
    c = [R(5), R(-3)]
    moved = neuron.moment([("cos", [p[0] + c[0], p[1] + c[1]]) for p in pts])
    assert sp.simplify(moved.expr - got.expr) == 0


def _mc_tanh_squared(point, n, seed):
    """Seeded Monte Carlo of E[tanh(w.x + b)^2], w ~ Laplace(0, 1) iid, b ~ N(0, 1/100)."""
    gen = make_generator(seed)
    w = Laplace(0, 1).sample((n, 2), gen)
    b = Normal(0, R(1, 100)).sample((n,), gen)
    x = torch.tensor([float(v) for v in point], dtype=torch.float64)
    v = torch.tanh(w @ x + b) ** 2
    return v.mean().item(), v.std().item() / math.sqrt(n)


def test_quadrature_moments_agree_with_monte_carlo_and_detect_a_rotated_point():
    """Quadrature vs 200k seeded samples within 4 s.e.; the rotated point's value is > 4 s.e. away from
    the unrotated Monte Carlo estimate (so the comparison can fail)."""
    net = Network(2, [Dense(1, "tanh", weight=Laplace(0, 1), bias=Normal(0, R(1, 100))),
                      Dense(1, weight=Normal(0, 1))])
    neuron = Neuron(net)
    x = [R(1, 2), R(0)]
    gx = [R(3, 10), R(4, 10)]
    q = neuron.moment([("tanh", x), ("tanh", x)])
    q_rot = neuron.moment([("tanh", gx), ("tanh", gx)])
    assert q.method == "quadrature" and q.err < 1e-8 and q_rot.err < 1e-8
    mean, se = _mc_tanh_squared(x, 200_000, seed=3)
    assert abs(q.num.real - mean) < 4 * se
    assert abs(q_rot.num.real - mean) > 4 * se


def test_uniform_phase_characteristic_function_kills_the_phase():
    neuron = Neuron(Network(1, [Dense(2, "cos", weight=Normal(0, 1), bias=UniformCircle())]))
    assert neuron.moment([("cos", [R(1, 3)])]).expr == 0
    assert sp.simplify(neuron.moment([("cos", [R(1, 3)]), ("cos", [R(1, 3)])]).expr - R(1, 2)) == 0


def test_derivative_moments_from_the_table_equal_plain_quadrature():
    """The engine's E[relu'(z) relu'(z')] and E[erf'(z) erf'(z')] (the NTK's derivative kernels, from the
    Gaussian table) against scipy's adaptive quadrature of the same pair; a swapped pair of points is the
    same number and a different pair is not."""
    from scipy import integrate

    for net, deriv in ((zoo.relu_net(2, 3, 1), lambda z: 1.0 if z > 0 else 0.0),
                       (zoo.erf_net(2, 3, 1), lambda z: 2 / math.sqrt(math.pi) * math.exp(-z * z))):
        neuron = Neuron(net)
        name = net.layers[0].activation.name + "'"
        x, y = POINTS[0], POINTS[1]
        got = neuron.moment([(name, x), (name, y)])
        assert got.is_exact
        _, cov = neuron.mean_cov([x, y])
        k11, k12, k22 = (float(cov[i, j]) for i, j in ((0, 0), (0, 1), (1, 1)))
        s1, s2, rho = math.sqrt(k11), math.sqrt(k22), k12 / math.sqrt(k11 * k22)
        c = math.sqrt(1 - rho * rho)
        pdf = lambda t: math.exp(-t * t / 2) / math.sqrt(2 * math.pi)  # noqa: E731

        def inner(a):
            return integrate.quad(lambda b: deriv(s2 * (rho * a + c * b)) * pdf(b), -12, 12,
                                  points=[-rho * a / c], limit=200)[0]
        want = integrate.quad(lambda a: deriv(s1 * a) * inner(a) * pdf(a), -12, 12, points=[0.0], limit=200)[0]
        assert got.real == pytest.approx(want, rel=1e-8)
        assert neuron.moment([(name, y), (name, x)]).real == got.real
        assert abs(neuron.moment([(name, x), (name, POINTS[2])]).real - want) > 1e-3
