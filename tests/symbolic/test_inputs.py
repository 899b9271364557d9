"""Canonical inner products of symbolic inputs and group relations: the function-space invariance
check G(g x) - G(x) == 0 that the duality prover runs."""

import pytest
import sympy as sp

from symcorr import size_symbol
from symcorr.errors import SpecError
from symcorr.groups import SpecialOrthogonal, Translations
from symcorr.symbolic import InnerProduct, apply_relations, correlator, inner
from symcorr.symbolic.inputs import as_point
from symcorr.zoo import cos_net, erf_net, gauss_net, relu_net

N = size_symbol("N")
D = size_symbol("D")
X = [sp.MatrixSymbol(f"x{i}", D, 1) for i in range(1, 5)]


def test_inner_products_are_canonical_and_bilinear():
    x, y = X[:2]
    c = sp.MatrixSymbol("c", D, 1)
    assert inner(x, y) == inner(y, x)
    assert isinstance(inner(x, y), InnerProduct)
    assert inner(2 * x, 3 * y) == 6 * inner(x, y)
    assert inner(x + c, y) == inner(x, y) + inner(c, y)
    # substitution re-expands and re-canonicalises
    assert inner(x, y).subs(x, x + c) - inner(x + c, y) == 0
    assert sp.latex(inner(x, y)) == "x_{1}^{T} x_{2}"


def test_explicit_points_give_polynomials():
    a = sp.Matrix(sp.symbols("a0:2"))
    assert inner(a, a) == a[0] ** 2 + a[1] ** 2
    assert as_point([1, 2], 2) == sp.ImmutableMatrix([1, 2])
    with pytest.raises(SpecError):
        as_point([1, 2, 3], 2)
    with pytest.raises(SpecError):
        as_point(sp.MatrixSymbol("y", 3, 1), D)
    with pytest.raises(SpecError):
        as_point([float("nan")], 1)


@pytest.mark.parametrize("maker", [gauss_net, erf_net, relu_net, cos_net])
@pytest.mark.parametrize("n", [2, 4])
def test_rotation_invariance_with_the_generic_element(maker, n):
    g = SpecialOrthogonal(D).generic_element()
    G = correlator(maker(D, N, 3), n)
    moved = apply_relations(G.expr([g.matrix * x for x in X[:n]]), g.relations)
    assert moved - G.expr(X[:n]) == 0


def test_rotation_check_fails_for_an_anisotropic_first_layer():
    from symcorr import Dense, Network, Normal
    net = Network(2, [Dense(N, "erf", weight=Normal(0, 1, col_cov=[[1, 0], [0, 2]]), bias=Normal(0, 1)),
                      Dense(1, weight=Normal(0, 1 / N))])
    R, _ = SpecialOrthogonal(2).parametrized_element()
    pts = [sp.Matrix(sp.symbols(f"p{i}_0:2", real=True)) for i in range(2)]
    G = correlator(net, 2)
    diff = G.expr([R * p for p in pts], simplify_inputs=sp.simplify) - G.expr(pts, simplify_inputs=sp.simplify)
    assert diff != 0
    assert abs(float(diff.subs({sp.Symbol("a_theta", real=True): 0.7, **{s: 0.3 * k for k, s in enumerate(
        list(pts[0]) + list(pts[1]), 1)}}))) > 1e-3


def test_explicit_cayley_rotation_with_a_normal_form():
    R, _ = SpecialOrthogonal(3).parametrized_element()
    pts = [sp.Matrix(sp.symbols(f"p{i}_0:3", real=True)) for i in range(2)]
    G = correlator(erf_net(3, N, 2), 2)
    assert G.expr([R * p for p in pts], simplify_inputs=sp.cancel) - G.expr(pts, simplify_inputs=sp.cancel) == 0


def test_translations_cos_net_invariant_gauss_net_only_at_two_points():
    c = Translations(D).generic_element().matrix
    cos4 = correlator(cos_net(D, N, 2), 4)
    assert cos4.expr([x + c for x in X]) - cos4.expr(X) == 0
    gauss2 = correlator(gauss_net(D, N, 2), 2)
    assert gauss2.expr([x + c for x in X[:2]]) - gauss2.expr(X[:2]) == 0
    gauss4 = correlator(gauss_net(D, N, 2), 4)
    assert gauss4.expr([x + c for x in X]) - gauss4.expr(X) != 0
    # ... but its GP limit is translation invariant: the 1/N part breaks it
    assert gauss4.gp_limit([x + c for x in X]) - gauss4.gp_limit(X) == 0
