r"""Exact zero tests: is a SymPy expression identically zero, provably non-zero, or undecided?

* :func:`zero_status` -- for parameter-space conditions: True if ``expr`` simplifies to 0, False if it
  is provably non-zero (SymPy's assumptions, or a number that evaluates to :math:`|x| > 10^{-30}` at 40
  digits), None when it depends on symbols (e.g. a mean :math:`\mu` that may or may not vanish).
* :func:`zero_test` -- for identities in free variables (a kernel :math:`K(gx, gy) - K(x, y)`, an
  activation :math:`\phi(-z) + \phi(z)`): False with the point when the expression is non-zero at a
  random rational point (evaluated to 40 digits, which settles it), True when it simplifies to 0, None
  otherwise (too large to simplify, or SymPy cannot decide).
"""

from __future__ import annotations

import random

import sympy as sp

__all__ = ["zero_status", "zero_test", "EVALUATION_ERRORS"]

#: what SymPy raises when an expression cannot be evaluated at a point (e.g. a Piecewise whose condition
#: it cannot decide: TypeError; precision exhausted: ArithmeticError; an unevaluable function:
#: NotImplementedError); the point is then skipped and another one tried
EVALUATION_ERRORS = (TypeError, ValueError, ArithmeticError, NotImplementedError)


def zero_status(expr) -> bool | None:
    """True if ``expr`` is identically zero, False if provably non-zero, None if it depends on symbols."""
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    simp = sp.simplify(expr)
    if simp == 0:
        return True
    if simp.is_zero is False:
        return False
    if not simp.free_symbols:
        val = sp.N(simp, 40)
        if val == 0:
            return True
        if abs(complex(val)) > 1e-30:
            return False
    return None


def zero_test(expr, syms=None, tries: int = 4, seed: int = 1, max_ops: int = 3000):
    """Exact zero test for a closed-form expression in the variables ``syms`` (default: all its free
    symbols).

    Returns ``(False, point)`` when the expression is non-zero at a random rational point (evaluated
    to 40 digits, which settles it), ``(True, None)`` when it simplifies to 0, ``(None, None)``
    otherwise (too large to simplify, or SymPy cannot decide)."""
    expr = sp.sympify(expr)
    if expr == 0:
        return True, None
    syms = sorted(expr.free_symbols, key=str) if syms is None else [s for s in syms if s in expr.free_symbols]
    rng = random.Random(seed)
    for _ in range(tries):
        point = {s: sp.Rational(rng.randint(-9, 9), rng.randint(2, 9)) for s in syms}
        try:
            val = sp.N(expr.subs(point), 40)
        except EVALUATION_ERRORS:
            continue
        if val.is_number and val.is_finite is not False and abs(complex(val)) > 1e-25:
            return False, point
    cheap = sp.cancel(sp.expand(expr))
    if cheap == 0:
        return True, None
    if sp.count_ops(cheap) > max_ops:
        return None, None
    if sp.simplify(cheap) == 0:
        return True, None
    return None, None
