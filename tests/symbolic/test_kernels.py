"""The table of single-neuron moments and kernels against the closed forms and reference values of
paper.md section 3 (the kernels themselves: test_two_point.py)."""

import pytest
import sympy as sp
import torch

from symcorr import Activation, Dense, Network, Normal, Uniform, UniformCircle, size_symbol
from symcorr.errors import SpecError
from symcorr.symbolic import GaussianExpectation, ParameterIntegral, moment_table
from symcorr.zoo import cos_net, erf_net, gauss_net, relu_net, tanh_net

N = size_symbol("N")
x, y = sp.symbols("x y", real=True)


def same(a, b) -> bool:
    d = sp.expand(a - b)
    return d == 0 or sp.simplify(d) == 0


def test_gauss_net_m4_translation_numbers():
    # paper 3.6: m_4 at x = (0.1, 0.2, 0.3, 0.4) is 66.69, at x + 0.5 it is 492.75
    net = gauss_net(1, N)
    pts = [[sp.Rational(k, 10)] for k in (1, 2, 3, 4)]
    m4 = moment_table(net, pts)
    shifted = moment_table(net, [[p[0] + sp.Rational(1, 2)] for p in pts])
    assert m4 == sp.exp(sp.Rational(21, 5))
    assert abs(float(m4) - 66.69) < 5e-3
    assert abs(float(shifted) - 492.75) < 5e-3


def test_gauss_net_moments_any_n_match_the_exponential_formula():
    sw, sb = sp.Rational(1, 2), sp.Rational(1, 3)
    net = gauss_net(1, N, sigma_w0=sw, sigma_b0=sb)
    xs = sp.symbols("x1:7", real=True)
    for n in (1, 3, 6):
        pts = [[v] for v in xs[:n]]
        k0 = lambda a, b: sb ** 2 + sw ** 2 * a * b  # noqa: E731
        want = sp.exp(sum(k0(xs[i], xs[j]) for i in range(n) for j in range(i + 1, n))
                      - sum(k0(v, v) for v in xs[:n]) / 2)
        assert same(moment_table(net, pts), want)
    # repeated points: E[phi(x)^4] = exp(4 k0(x,x))... = exp(6 k0 - 2 k0)
    assert same(moment_table(net, [[x]], [4]), sp.exp(4 * (sb ** 2 + sw ** 2 * x ** 2)))


def test_cos_net_m4_formula_and_exact_translation_invariance():
    net = cos_net(2, N)
    X = [sp.Matrix(sp.symbols(f"x{i}_0:2", real=True)) for i in range(1, 5)]
    c = sp.Matrix(sp.symbols("c0:2", real=True))
    m4 = moment_table(net, X)

    def g(v):  # exp(-sigma^2 |v|^2 / (2 d_in)) with sigma = 1, d_in = 2
        return sp.exp(-(v.T * v)[0, 0] / 4)

    want = (g(X[0] + X[1] - X[2] - X[3]) + g(X[0] + X[2] - X[1] - X[3]) + g(X[0] + X[3] - X[1] - X[2])) / 8
    assert same(m4, want)
    moved = moment_table(net, [p + c for p in X])
    assert moved - m4 == 0  # exactly, without simplification
    # with a Gaussian phase the translation invariance is lost
    gnet = cos_net(2, N, phase=Normal(0, 1))
    diff = moment_table(gnet, [p + c for p in X]) - moment_table(gnet, X)
    assert diff.subs({c[0]: 1, c[1]: 0, **{s: 0 for p in X for s in p}}) != 0


def test_cos_net_odd_moments_vanish_with_uniform_phase():
    net = cos_net(1, N)
    assert moment_table(net, [[x], [y], [x + y]]) == 0
    assert moment_table(net, [[x]]) == 0


def test_erf_and_tanh_odd_moments_vanish_for_a_symmetric_first_layer():
    assert moment_table(erf_net(1, N), [[x], [y], [x]]) == 0
    assert moment_table(tanh_net(1, N), [[x]], [3]) == 0
    # a non-zero first-layer mean breaks the reflection symmetry: no longer 0
    shifted = Network(1, [Dense(N, "tanh", weight=Normal(0, 1), bias=Normal(1, 1)), Dense(1, weight=Normal(0, 1 / N))])
    assert isinstance(moment_table(shifted, [[x]]), GaussianExpectation)


def test_relu_single_point_moments():
    net = relu_net(1, N, sigma_b0=None)
    # E[relu(w x)] = |x| / sqrt(2 pi), E[relu(w x)^2] = x^2 / 2, E[relu^3] = sqrt(2/pi) |x|^3
    assert same(moment_table(net, [[x]]), sp.sqrt(x ** 2) / sp.sqrt(2 * sp.pi))
    assert same(moment_table(net, [[x]], [2]), x ** 2 / 2)
    assert same(moment_table(net, [[x]], [3]), sp.sqrt(2 / sp.pi) * sp.sqrt(x ** 2) ** 3)


def test_higher_erf_and_relu_moments_stay_gaussian_integrals():
    for maker in (erf_net, relu_net):
        m = moment_table(maker(1, N), [[x], [y], [x + 1], [y + 1]])
        assert isinstance(m, GaussianExpectation)
        want = sp.Matrix([[1 + a * b for b in (x, y, x + 1, y + 1)] for a in (x, y, x + 1, y + 1)])
        assert (m.covariance - want).applyfunc(sp.expand) == sp.zeros(4, 4)


def test_non_gaussian_first_layer_uses_the_cgf_and_characteristic_function():
    # Gauss-net with a uniform bias: the bias part is K_b(n) - n/2 K_b(2)
    net = Network(1, [Dense(N, "gauss", weight=Normal(0, 1), bias=Uniform(-1, 1)), Dense(1, weight=Normal(0, 1 / N))])
    m2 = moment_table(net, [[x], [y]])
    kb = lambda t: sp.log(sp.sinh(t) / t)  # noqa: E731
    assert same(sp.log(m2), x * y - x ** 2 - y ** 2 + x ** 2 / 2 + y ** 2 / 2 + kb(2) - kb(2) + (x * y - x * y)
                ) or same(m2, sp.exp(-(x - y) ** 2 / 2))
    # Cos-net with uniform weights on a circle phase: closed form through the characteristic functions
    cnet = Network(1, [Dense(N, "cos", weight=Uniform(-1, 1), bias=UniformCircle()), Dense(1, weight=Normal(0, 1 / N))])
    k = moment_table(cnet, [[sp.Rational(1, 2)], [sp.Rational(1, 3)]])
    assert same(k, sp.sin(sp.Rational(1, 6)) / sp.Rational(1, 6) / 2)
    # tanh with a uniform first layer: an unevaluated neuron-level parameter integral
    tnet = Network(1, [Dense(N, "tanh", weight=Uniform(-1, 1)), Dense(1, weight=Normal(0, 1 / N))])
    integral = moment_table(tnet, [[x], [y]])
    assert isinstance(integral, ParameterIntegral) and integral.kind == "neuron"
    assert integral.blocks == ("W0[j,:]",)


def test_moment_table_rejects_non_iid_neurons():
    net = Network(1, [Dense(2, "tanh", weight=Normal(0, 1, row_cov=[[1, 0.5], [0.5, 1]])), Dense(1)])
    with pytest.raises(SpecError):
        moment_table(net, [[x]])


def _custom_tanh_net(name, inner_simplify_error=None):
    """A custom activation tanh(h(z)) with h(z) = z numerically; simplifying h raises
    ``inner_simplify_error`` when given (a SymPy form that does not simplify)."""
    class Inner(sp.Function):
        @classmethod
        def eval(cls, v):
            return None

        def _eval_evalf(self, prec):
            return self.args[0].evalf(prec)

        def _eval_is_real(self):
            return True

        def _eval_simplify(self, **kwargs):
            if inner_simplify_error is not None:
                raise inner_simplify_error("no simplification for this form")
            return self

    act = Activation.custom(name, lambda v: sp.tanh(Inner(v)), torch.tanh)
    return Network(1, [Dense(N, act), Dense(1, weight=Normal(0, 1 / N))])


def test_odd_custom_activations_and_what_their_oddness_check_may_swallow():
    # a custom odd form (tanh written as exponentials) is recognised: odd moments vanish
    odd = Activation.custom("tanh_by_exp", lambda v: (sp.exp(v) - sp.exp(-v)) / (sp.exp(v) + sp.exp(-v)),
                            torch.tanh)
    net = Network(1, [Dense(N, odd), Dense(1, weight=Normal(0, 1 / N))])
    assert moment_table(net, [[x]]) == 0 and moment_table(net, [[x], [y], [x]]) == 0
    assert isinstance(moment_table(net, [[x], [y]]), GaussianExpectation)
    # SymPy cannot simplify the form (NotImplementedError): no claim, the moment stays an integral
    undecided = moment_table(_custom_tanh_net("tanh_unsimplifiable", NotImplementedError), [[x]])
    assert isinstance(undecided, GaussianExpectation)
    # any other failure is not "cannot simplify": it surfaces
    with pytest.raises(ZeroDivisionError):
        moment_table(_custom_tanh_net("tanh_broken_engine", ZeroDivisionError), [[x]])


def test_relu_with_a_mean_has_closed_one_point_moments_from_the_table():
    """E[relu(z)] and E[relu(z)^2] with a mean are closed forms of the Gaussian table; they equal the
    Gaussian integral by adaptive quadrature; the cube stays an integral (no rule invented)."""
    net = Network(1, [Dense(N, "relu", weight=Normal(0, 1), bias=Normal(sp.Rational(1, 2), 1)),
                      Dense(1, weight=Normal(0, 1 / N))])
    point = [[sp.Rational(7, 10)]]
    u = sp.Symbol("u", real=True)
    relu = sp.Lambda(u, sp.Piecewise((u, u > 0), (0, True)))
    for power in (1, 2):
        closed = moment_table(net, point, [power])
        assert not closed.has(GaussianExpectation)
        value, err = GaussianExpectation(relu, [sp.Rational(1, 2)], [[1 + sp.Rational(49, 100)]], [power]).numeric()
        assert float(closed) == pytest.approx(value, rel=1e-10, abs=max(err, 1e-12))
    assert isinstance(moment_table(net, point, [3]), GaussianExpectation)
