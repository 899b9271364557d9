r"""An exact SymPy value or a numeric one with an absolute error estimate: what the prover's engines return.

A :class:`Value` is *exact* (``expr`` set: a closed form, evaluated to 30 digits for ``num``) or
*numeric* (``expr`` None: a quadrature result with its error estimate ``err``).  Arithmetic keeps
exactness when both operands are exact and adds the error bounds otherwise; mixing a symbolic value with
a numeric one is declined (:class:`~symcorr.duality.engines.Unsupported`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .engines import Unsupported, is_finite_number

__all__ = ["Value"]


@dataclass
class Value:
    """An exact SymPy value (``expr``) or a numeric one with an absolute error estimate."""

    expr: sp.Expr | None
    num: complex | None
    err: float = 0.0
    method: str = "exact"

    @classmethod
    def exact(cls, expr) -> "Value":
        expr = sp.sympify(expr)
        num = None
        if not expr.free_symbols:
            num = complex(sp.N(expr, 30))
        return cls(expr, num, 0.0, "exact")

    @classmethod
    def numeric(cls, num, err, method="quadrature") -> "Value":
        return cls(None, complex(num), float(err), method)

    @property
    def is_exact(self) -> bool:
        return self.expr is not None

    @property
    def is_finite(self) -> bool:
        """False for a NaN or an infinity (the engine could not decide with this value)."""
        if self.num is not None:
            return is_finite_number(self.num)
        assert self.expr is not None  # a value is exact (expr) or numeric (num)
        return not self.expr.has(sp.nan, sp.zoo, sp.oo, sp.S.NegativeInfinity)

    def _as_value(self, other):
        return other if isinstance(other, Value) else Value.exact(other)

    def __add__(self, other):
        other = self._as_value(other)
        if self.is_exact and other.is_exact:
            return Value.exact(self.expr + other.expr)
        return Value.numeric(self.num + other.num, self.err + other.err, "quadrature")

    __radd__ = __add__

    def __mul__(self, other):
        other = self._as_value(other)
        if self.is_exact and other.is_exact:
            return Value.exact(self.expr * other.expr)
        if self.num is None or other.num is None:
            raise Unsupported("cannot mix a symbolic value with a numerical one")
        err = abs(self.num) * other.err + abs(other.num) * self.err + self.err * other.err
        return Value.numeric(self.num * other.num, err, "quadrature")

    __rmul__ = __mul__

    @property
    def real(self) -> float:
        if self.num is None:
            raise TypeError("a symbolic value has no numeric real part")
        return float(self.num.real)
