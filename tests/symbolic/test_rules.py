"""Law rules: Wick pairings, moments from cumulants, characteristic functions (the Laurent expansion
in 1/N: test_laurent.py)."""

import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from symcorr import Laplace, Normal, Rademacher, Uniform
from symcorr.symbolic import VectorLaw, wick_sum
from symcorr.symbolic.rules import characteristic_polar



@given(st.sampled_from([Normal(sp.Rational(1, 3), 2), Laplace(sp.Rational(-1, 2), sp.Rational(1, 3)),
                        Rademacher(sp.Rational(3, 2)), Uniform(0, 2)]),
       st.integers(min_value=1, max_value=6))
def test_moments_from_cumulants_reproduce_the_law_moments(law, k):
    v = VectorLaw(law, "weight")
    total = sp.Add(*v.moment_monomials([0] * k))
    assert sp.simplify(total - law.moment(k)) == 0


def test_joint_moments_carry_kronecker_deltas():
    a, b, c, d = sp.symbols("a b c d", integer=True)
    v = VectorLaw(Normal(0, sp.Symbol("s2")), "weight")
    s2 = sp.Symbol("s2")
    dd = sp.KroneckerDelta
    want = s2 ** 2 * (dd(a, b) * dd(c, d) + dd(a, c) * dd(b, d) + dd(a, d) * dd(b, c))
    assert sp.Add(*v.moment_monomials([a, b, c, d])) - sp.expand(want) == 0
    assert v.moment_monomials([a, b, c]) == []
    structured = VectorLaw(Normal([1, 0], 2, cov=[[1, sp.Rational(1, 2)], [sp.Rational(1, 2), 1]]), "bias")
    assert sp.Add(*structured.moment_monomials([0, 1])) == 1  # 2 * 1/2 + 1 * 0
    assert sp.Add(*structured.moment_monomials([0, 0])) == 3  # 2 + 1^2


def test_wick_sum_of_a_kernel():
    k = sp.Function("K")
    pts = sp.symbols("x1:5")
    w = wick_sum(lambda x, y: k(x, y), pts)
    assert w == k(pts[0], pts[1]) * k(pts[2], pts[3]) + k(pts[0], pts[2]) * k(pts[1], pts[3]) \
        + k(pts[0], pts[3]) * k(pts[1], pts[2])
    assert wick_sum(lambda x, y: k(x, y), pts[:3]) == 0


def test_characteristic_functions_in_polar_form():
    t = sp.Symbol("t")
    rho, th = characteristic_polar(Normal(1, 2), t)
    assert rho == sp.exp(-t ** 2) and th == t
    from symcorr import UniformCircle
    assert characteristic_polar(UniformCircle(), 2)[0] == 0
    assert characteristic_polar(UniformCircle(), 0) == (1, 0)
    assert characteristic_polar(None, t) == (1, 0)
