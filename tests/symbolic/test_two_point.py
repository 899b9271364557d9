"""The exact two-point function (symcorr.symbolic.two_point.kernel) against the closed forms and
reference values of paper.md section 3."""

import pytest
import sympy as sp
import torch

from symcorr import Dense, Network, Normal, size_symbol
from symcorr.deep import NNGP
from symcorr.errors import SpecError
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


# ----------------------------------------------------------------------------------------------------
# the infinite-width limit for every depth, and Gram matrices on grids of pairs
# ----------------------------------------------------------------------------------------------------
M, D = size_symbol("M"), size_symbol("D")
PTS = torch.tensor([[0.3, -0.5], [1.0, 0.2], [-0.4, 0.8]], dtype=torch.float64)
QTS = torch.tensor([[0.1, 0.9], [-1.2, 0.4]], dtype=torch.float64)


def _deep(d=2, readout_bias=Normal(sp.Rational(1, 2), 1)):
    return Network(d, [Dense(N, "relu", weight=Normal(0, 1 / d), bias=Normal(0, sp.Rational(1, 10))),
                       Dense(M, "erf", weight=Normal(0, 2 / N), bias=Normal(0, sp.Rational(1, 10))),
                       Dense(2, weight=Normal(0, 1 / M), bias=readout_bias)])


@pytest.mark.parametrize("maker", [erf_net, relu_net, gauss_net, cos_net])
def test_gp_limit_at_a_concrete_width_equals_the_symbolic_width_limit(maker):
    """One hidden layer: with a symbolic width gp_limit is today's N -> oo limit of the exact correlator;
    with a concrete width (today a SpecError) it is the NNGP recursion, and the two agree exactly."""
    p, q = [sp.Rational(1, 2), -1], [sp.Rational(1, 3), 2]
    symbolic = kernel(maker(2, N, 2)).gp_limit(p, q)
    assert same(symbolic, correlator(maker(2, N, 2), 2).gp_limit([p, q], (0, 0)))
    assert same(kernel(maker(2, 8, 2)).gp_limit(p, q), symbolic)


def test_gp_limit_of_a_deep_network_with_indices_and_a_readout_bias_mean():
    p, q = [sp.Rational(1, 2), -1], [sp.Rational(1, 3), 2]
    net = _deep()
    k = NNGP(net).metrics([p, q])[-1][0, 1]
    assert same(kernel(net).gp_limit(p, q), k + sp.Rational(1, 4))
    assert kernel(net).gp_limit(p, q, (0, 1)) == sp.Rational(1, 4)  # E[f_0 f_1] = mu^2
    a, b = sp.symbols("a b", integer=True, nonnegative=True)
    assert same(kernel(net).gp_limit(p, q, (a, b)), sp.KroneckerDelta(a, b) * k + sp.Rational(1, 4))
    assert same(kernel(net).gp_limit(p, p), NNGP(net).metrics([p])[-1][0, 0] + sp.Rational(1, 4))
    # symbolic points and input dimension: the inner products of the points
    x1, x2 = sp.MatrixSymbol("x1", D, 1), sp.MatrixSymbol("x2", D, 1)
    assert kernel(_deep(D)).gp_limit(x1, x2).has(sp.asin, sp.acos)


def test_the_deep_limit_refuses_a_readout_weight_mean():
    net = _deep().replace_layer(2, weight=Normal(sp.Rational(1, 3), 1 / M))
    with pytest.raises(SpecError, match=r"layers\[2\].weight.mean"):
        kernel(net).gp_limit([1, 0], [0, 1])


def test_gram_limit_equals_gp_limit_on_every_pair():
    net = _deep().subs({N: 16, M: 16})
    grid, errors = kernel(net).gram_with_error(PTS, QTS, limit=True)
    assert grid.shape == (3, 2) and float(errors.max()) < 1e-13
    for i in range(3):
        for j in range(2):
            want = kernel(net).gp_limit([sp.Rational(v) for v in PTS[i].tolist()], [sp.Rational(v) for v in QTS[j].tolist()])
            assert float(grid[i, j]) == pytest.approx(float(sp.N(want, 30)), rel=1e-13)
    off = kernel(net).gram(PTS, limit=True, indices=(0, 1))
    assert torch.equal(off, torch.full((3, 3), 0.25, dtype=torch.float64))


@pytest.mark.parametrize("net", [relu_net(2, 8, 2), erf_net(2, 8, 1, sigma_b1=None),
                                 relu_net(2, 8, 3, readout_mean=sp.Rational(3, 10)), cos_net(2, 8, 2)],
                         ids=["relu", "erf", "relu-readout-mean", "cos"])
def test_gram_at_finite_width_is_the_exact_kernel(net):
    """limit=False: the exact two-point function at the network's width on every pair (a read-out mean:
    compiled from the exact expression, which has the N(N-1) mu^2 E[phi]E[phi'] term)."""
    grid = kernel(net).gram(PTS, QTS)
    for i in range(3):
        for j in range(2):
            want = kernel(net)([sp.Rational(v) for v in PTS[i].tolist()], [sp.Rational(v) for v in QTS[j].tolist()])
            assert float(grid[i, j]) == pytest.approx(float(sp.N(want, 30)), rel=1e-12)


def test_a_readout_mean_is_not_the_infinite_width_kernel():
    """Failing counterpart: with a read-out mean the exact kernel is not the zero-mean recursion."""
    net = relu_net(2, 8, 3, readout_mean=sp.Rational(3, 10))
    centred = relu_net(2, 8, 3)
    assert float((kernel(net).gram(PTS) - kernel(centred).gram(PTS)).abs().min()) > 0.1
    with pytest.raises(SpecError, match="weight.mean"):
        kernel(net).gram(PTS, limit=True)


@pytest.mark.parametrize("width", [1, 3])
@pytest.mark.parametrize("maker", [erf_net, relu_net, cos_net])
def test_one_hidden_layer_at_any_width_is_the_infinite_width_kernel(maker, width):
    """The claim behind gram(limit=False) for one hidden layer, checked: with zero-mean read-out weights
    G2 = sigma_b1^2 + N Var(W1) E[phi phi'] exactly at every width (even N = 1), so the exact expression of the
    correlator (its own single-layer rules, not the recursion) equals limit=True at every pair; a read-out
    bias mean adds mu^2 to both."""
    for net in (maker(2, width, 2), maker(2, width, 2).replace_layer(1, bias=Normal(sp.Rational(2, 5), 1))):
        grid = kernel(net).gram(PTS, QTS)
        torch.testing.assert_close(grid, kernel(net).gram(PTS, QTS, limit=True), rtol=1e-13, atol=1e-14)
        for i in range(3):
            want = kernel(net)([sp.Rational(v) for v in PTS[i].tolist()], [sp.Rational(v) for v in QTS[0].tolist()])
            assert float(grid[i, 0]) == pytest.approx(float(sp.N(want, 30)), rel=1e-12)


def test_finite_width_gram_of_a_deep_network_is_its_one_over_n_expansion():
    """Two hidden layers (widths 4 and 6): limit=False is K + sum_s dG_s / n_s (symcorr.deep.finite_width) plus
    the read-out bias mean's mu^2, not the infinite-width kernel (tests/deep/test_kernel.py has the per-pair
    symbolic and Monte Carlo checks)."""
    from symcorr.deep.finite_width import finite_width_gram

    net = _deep().subs({N: 4, M: 6})
    centred = _deep(readout_bias=Normal(0, 1)).subs({N: 4, M: 6})
    grid, errors = kernel(net).gram_with_error(PTS, QTS)
    want, want_err = finite_width_gram(centred, PTS, QTS)
    torch.testing.assert_close(grid, want + 0.25, rtol=0, atol=1e-15)
    assert torch.equal(errors, want_err)
    assert float((grid - kernel(net).gram(PTS, QTS, limit=True)).abs().max()) > 1e-3
    with pytest.raises(SpecError, match="concrete network"):
        kernel(_deep()).gram(PTS)
