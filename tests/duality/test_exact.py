"""Exact zero tests: identically zero, provably non-zero, or undecided -- never "non-zero" by accident."""

import pytest
import sympy as sp

from symcorr.duality.exact import zero_status, zero_test

x, y = sp.symbols("x y", real=True)
mu = sp.Symbol("mu", real=True)


def test_zero_status():
    assert zero_status(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1) is True
    assert zero_status(sp.sqrt(2) - sp.Rational(141421, 100000)) is False
    assert zero_status(mu) is None                      # depends on the symbol
    assert zero_status(sp.exp(1) - sp.E) is True


def test_zero_test_finds_a_point_or_simplifies():
    assert zero_test(sp.exp(-(x - y) ** 2) - sp.exp(-(y - x) ** 2)) == (True, None)
    status, point = zero_test(sp.exp(-x ** 2) - sp.exp(-y ** 2))
    assert status is False and set(point) == {x, y}
    assert sp.N((sp.exp(-x ** 2) - sp.exp(-y ** 2)).subs(point)) != 0


class _Opaque(sp.Function):
    """A function SymPy cannot evaluate numerically (its evalf raises TypeError)."""

    def _eval_evalf(self, prec):
        raise TypeError("no numerical value")


class _Broken(sp.Function):
    """A function whose evaluation fails for another reason (a bug, not a point SymPy cannot evaluate)."""

    def _eval_evalf(self, prec):
        raise RuntimeError("broken evaluation")


def test_points_that_cannot_be_evaluated_are_skipped_and_give_undecided_not_non_zero():
    assert zero_test(_Opaque(x)) == (None, None)


def test_other_evaluation_errors_are_not_swallowed():
    with pytest.raises(RuntimeError, match="broken evaluation"):
        zero_test(_Broken(x))
