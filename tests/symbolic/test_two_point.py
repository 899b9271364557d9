"""The exact two-point function (symcorr.symbolic.two_point.kernel) against the closed forms and
reference values of paper.md section 3."""

import pytest
import sympy as sp

from symcorr import size_symbol
from symcorr.symbolic import correlator, kernel
from symcorr.zoo import cos_net, erf_net, gauss_net, relu_net

N = size_symbol("N")
x, y = sp.symbols("x y", real=True)
a, b = sp.symbols("a b", integer=True, nonnegative=True)
xs = sp.symbols("x1:7", real=True)
P4 = [[v] for v in xs[:4]]


def same(u, v) -> bool:
    d = sp.expand(u - v)
    return d == 0 or sp.simplify(d) == 0


def test_erf_kernel_reference_value():
    # paper 3.2: K_E(-1, 0.6) = 1.1188 at sigma = 1, d_in = 1
    value = kernel(erf_net(1, N))([-1], [sp.Rational(3, 5)])
    assert abs(float(value) - 1.1188) < 5e-5


def test_relu_kernel_reference_value_without_biases():
    # paper 3.3: K_R(0.2, 1.2; sigma_b -> 0) = 0.1200
    net = relu_net(1, N, sigma_b0=None, sigma_b1=None)
    value = kernel(net)([sp.Rational(1, 5)], [sp.Rational(6, 5)])
    assert sp.nsimplify(value) == sp.Rational(3, 25)


@pytest.mark.parametrize("maker", [erf_net, relu_net, gauss_net, cos_net])
def test_kernels_match_the_paper_formulas_symbolically(maker):
    sw0, sb0, sw1, sb1 = sp.symbols("sigma_w0 sigma_b0 sigma_w1 sigma_b1", positive=True)
    net = maker(1, N, sigma_w0=sw0, sigma_b0=sb0, sigma_w1=sw1, sigma_b1=sb1)
    K = kernel(net)([x], [y])

    def k0(a, b):
        return sb0 ** 2 + sw0 ** 2 * a * b

    if maker is erf_net:
        want = sb1 ** 2 + 2 * sw1 ** 2 / sp.pi * sp.asin(2 * k0(x, y) / sp.sqrt((1 + 2 * k0(x, x)) * (1 + 2 * k0(y, y))))
    elif maker is relu_net:
        c = k0(x, y) / sp.sqrt(k0(x, x) * k0(y, y))
        th = sp.acos(c)
        want = sb1 ** 2 + sw1 ** 2 * sp.sqrt(k0(x, x) * k0(y, y)) / (2 * sp.pi) * (sp.sqrt(1 - c ** 2) + (sp.pi - th) * c)
    elif maker is gauss_net:
        want = sb1 ** 2 + sw1 ** 2 * sp.exp(-sw0 ** 2 * (x - y) ** 2 / 2)
    else:
        want = sb1 ** 2 + sw1 ** 2 / 2 * sp.exp(-sw0 ** 2 * (x - y) ** 2 / 2)
    assert same(K, want)


def test_relu_kernel_breaks_for_a_wrong_formula():
    # the comparison above can fail: sin(theta) + (pi - theta) cos(theta) without the 1/(2 pi)
    net = relu_net(1, N, sigma_b0=None, sigma_b1=None)
    K = kernel(net)([sp.Rational(1, 5)], [sp.Rational(6, 5)])
    assert not same(K, sp.Rational(6, 25))


def test_two_point_function_is_width_independent_and_diagonal():
    net = erf_net(1, N, 3)
    G = correlator(net, 2)
    K = kernel(net)
    assert same(G.expr(P4[:2], (a, b)), sp.KroneckerDelta(a, b) * K(P4[0], P4[1]))
    assert N not in G.expr(P4[:2]).free_symbols
