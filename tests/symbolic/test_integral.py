"""Unevaluated integrals: the Gaussian expectation of one neuron (tanh and friends) and the
parameter-space integral of deep networks; printing, structure, numeric evaluation."""

import math

import numpy as np
import pytest
import sympy as sp
from scipy import integrate

from symcorr import Dense, Network, Normal, size_symbol
from symcorr.errors import SpecError
from symcorr.symbolic import (GaussianExpectation, IntegralKind, NumericMethod, ParameterIntegral, correlator,
                              moment_table)
from symcorr.zoo import relu_net, tanh_net

N = size_symbol("N")


def direct_2d(f, cov, mean=(0.0, 0.0)):
    """E[f(z1, z2)], z ~ N(mean, cov), by adaptive 2-d quadrature of the density."""
    cov = np.asarray(cov, float)
    inv = np.linalg.inv(cov)
    norm = 1 / (2 * math.pi * math.sqrt(np.linalg.det(cov)))

    def integrand(z2, z1):
        v = np.array([z1 - mean[0], z2 - mean[1]])
        return f(z1, z2) * norm * math.exp(-0.5 * v @ inv @ v)

    s = 9 * math.sqrt(cov.max())
    value, _ = integrate.dblquad(integrand, mean[0] - s, mean[0] + s, mean[1] - s, mean[1] + s,
                                 epsabs=1e-11, epsrel=1e-10)
    return value


def test_tanh_kernel_prints_exposes_its_covariance_and_evaluates():
    net = tanh_net(1, N, sigma_w0=1, sigma_b0=sp.Rational(1, 2))
    x = [[sp.Rational(3, 10)], [-1]]
    k = moment_table(net, x)
    assert isinstance(k, GaussianExpectation)
    s = str(k)
    assert s.startswith("E[tanh(z_1)*tanh(z_2); z ~ N(0, ")
    assert r"\mathbb{E}_{z\sim\mathcal{N}\left(0" in sp.latex(k)
    k0 = lambda a, b: sp.Rational(1, 4) + a * b  # noqa: E731
    assert k.covariance == sp.ImmutableMatrix([[k0(p[0], q[0]) for q in x] for p in x])
    assert k.powers == (1, 1) and k.mean == sp.ImmutableMatrix([0, 0])
    direct = direct_2d(lambda a, b: math.tanh(a) * math.tanh(b), np.array(k.covariance.tolist(), float))
    value, err = k.numeric("quadrature")
    assert abs(value - direct) < 1e-8 and err < 1e-8
    assert abs(float(sp.N(k)) - direct) < 1e-8  # evalf uses the same quadrature
    # Monte Carlo: within 4 standard errors, and the s.e. is honest (not 0)
    mc, se = k.numeric("montecarlo", samples=200_000, seed=3)
    assert 0 < se < 5e-3 and abs(mc - direct) < 4 * se
    # and a wrong value (the sign of the correlation flipped) is far outside
    assert abs(mc - (-direct)) > 4 * se


def test_the_tanh_integral_depends_on_inputs_only_through_k0():
    net = tanh_net(2, N)
    a = sp.Matrix(sp.symbols("a0:2", real=True))
    b = sp.Matrix(sp.symbols("b0:2", real=True))
    k = correlator(net, 2).expr([a, b])
    rot = sp.Matrix([[sp.Rational(3, 5), -sp.Rational(4, 5)], [sp.Rational(4, 5), sp.Rational(3, 5)]])
    assert correlator(net, 2).expr([rot * a, rot * b]) == k
    assert k.atoms(GaussianExpectation)


def test_substitution_keeps_the_integral_and_then_evaluates():
    net = tanh_net(1, N, 2)
    x, y = sp.symbols("x y", real=True)
    g = correlator(net, 4).expr([[x], [y], [x], [y]], (0, 0, 1, 1))
    numeric = g.subs({x: sp.Rational(1, 5), y: sp.Rational(-1, 2), N: 3})
    assert numeric.atoms(GaussianExpectation) and not numeric.free_symbols
    direct = correlator(tanh_net(1, 3, 2), 4).evaluate([[0.2], [-0.5], [0.2], [-0.5]], (0, 0, 1, 1))
    assert abs(float(sp.N(numeric)) - direct) < 1e-9


def test_singular_covariances_reduce_the_dimension():
    # bias-free relu at collinear 1-d inputs: one Gaussian variable, z = (x1 w, x2 w, x3 w, ...)
    net = relu_net(1, N, sigma_b0=None)
    m = moment_table(net, [[1], [2], [3], [-1]])
    assert isinstance(m, GaussianExpectation)
    assert m.numeric()[0] == 0  # relu(w) relu(-w) = 0
    m3 = moment_table(net, [[1], [2], [3]])
    # E[relu(w)^3] * 6 = 6 * 2 / sqrt(2 pi)
    assert abs(m3.numeric()[0] - 6 * 2 / math.sqrt(2 * math.pi)) < 1e-6


def test_gaussian_expectation_validation():
    u = sp.Symbol("u")
    with pytest.raises(SpecError):
        GaussianExpectation(sp.Lambda(u, sp.tanh(u)), [0, 0], [[1, 0]], [1, 1])
    with pytest.raises(SpecError):
        GaussianExpectation(sp.Lambda(u, sp.tanh(u)), [0], [[1]], [0])
    e = GaussianExpectation(sp.tanh, [0], [[sp.Symbol("s")]], [2])
    with pytest.raises(SpecError, match="substitute"):
        e.numeric()
    assert float(sp.N(e.subs(sp.Symbol("s"), 0))) == 0.0


def test_deep_linear_network_integral_by_monte_carlo():
    # f(x) = W2 W1 W0 x: E[f(x) f(y)] = x y (2 * 1/2)(3 * 1/3)(1) = x y exactly
    net = Network(1, [Dense(3, "identity", weight=Normal(0, 1)), Dense(2, "identity", weight=Normal(0, sp.Rational(1, 3))),
                      Dense(1, weight=Normal(0, sp.Rational(1, 2)))])
    G = correlator(net, 2)
    integral = G.expr([[sp.Rational(1, 2)], [sp.Rational(3, 2)]])
    assert isinstance(integral, ParameterIntegral)
    value, se = integral.montecarlo(samples=60_000, seed=11)
    assert abs(value - 0.75) < 4 * se
    assert abs(value - 0.75 * 2) > 4 * se  # a wrong prediction is rejected
    v2, e2 = G.evaluate_with_error([[0.5], [1.5]], samples=60_000, seed=11)
    assert v2 == value and e2 == se


def test_neuron_level_integral_of_a_non_gaussian_first_layer_evaluates_by_monte_carlo():
    from symcorr import Laplace, Uniform
    net = Network(1, [Dense(N, "tanh", weight=Uniform(-1, 1), bias=Laplace(0, sp.Rational(1, 2))),
                      Dense(2, weight=Normal(0, 1 / N))])
    k = correlator(net, 2).expr([[sp.Rational(1, 2)], [1]])
    assert isinstance(k, ParameterIntegral) and k.kind == "neuron" and k.blocks == ("W0[j,:]", "b0[j]")
    value, se = k.montecarlo(samples=100_000, seed=2)  # symbolic N is irrelevant for one neuron
    # G2 = N * (1/N) * E[tanh tanh] = the neuron moment, at any width
    full, full_se = correlator(net.subs({N: 3}), 2).evaluate_with_error([[0.5], [1.0]], samples=100_000, seed=2)
    assert full == value and full_se == se
    # against an independent direct integral over (w, b): E[tanh(w/2 + b) tanh(w + b)]
    from scipy import integrate as si
    direct, _ = si.dblquad(lambda b, w: math.tanh(w / 2 + b) * math.tanh(w + b) * math.exp(-2 * abs(b)),
                           -1, 1, -12, 12, epsabs=1e-10)
    assert abs(value - direct / 2) < 4 * se
    assert abs(value - 0.8 * direct / 2) > 4 * se


def test_kinds_and_methods_are_typed_and_checked():
    net = tanh_net(1, N, 2)
    m = moment_table(net, [[sp.Rational(1, 2)], [1]])
    assert isinstance(m, GaussianExpectation)
    assert m.numeric(NumericMethod.QUADRATURE) == m.numeric("quadrature")
    with pytest.raises(SpecError, match="method"):
        m.numeric("simpson")
    deep = Network(1, [Dense(2, "tanh"), Dense(2, "tanh"), Dense(1)])
    integral = correlator(deep, 2).integral([[1], [2]])
    assert integral.kind is IntegralKind.NETWORK and integral.kind == "network"  # still a str
    assert integral.subs(N, 3).kind is IntegralKind.NETWORK  # rebuilt from its args
    neuron = ParameterIntegral(net, [sp.Matrix([1])], [1], kind="neuron")
    assert neuron.kind is IntegralKind.NEURON
    assert neuron == ParameterIntegral(net, [sp.Matrix([1])], [1], kind=IntegralKind.NEURON)
    with pytest.raises(SpecError, match="kind"):
        ParameterIntegral(net, [sp.Matrix([1])], [1], kind="layer")
    # the correlator's numerics check the method too (an unknown one used to fall back to quadrature)
    G = correlator(tanh_net(1, 3, 2), 2)
    assert G.evaluate([[0.5], [1.0]], method=NumericMethod.QUADRATURE) == G.evaluate([[0.5], [1.0]])
    with pytest.raises(SpecError, match="method"):
        G.evaluate([[0.5], [1.0]], method="mc")
