r"""Sums with width-dependent coefficients, and their exact large-width (Laurent) expansion.

The exact rules (:mod:`symcorr.symbolic.single_layer`) produce a correlator as

.. math:: G = \sum_k c_k(N)\,T_k,

monomials :math:`T_k` that do not depend on the hidden width (Kronecker deltas, read-out constants,
named single-neuron moments) with coefficients :math:`c_k(N)` that do (falling factorials
:math:`(N)_{|\pi|}` times powers of the read-out variance :math:`\sigma^2/N`).  :class:`Terms` holds
that sum; :func:`laurent_coefficients` expands one coefficient at :math:`N\to\infty`,

.. math:: c(N) = \sum_p c_p\,N^p,

exactly when :math:`c` is a rational function with a monomial denominator (the case of iid neurons),
otherwise as a series truncated at a given order.
"""

from __future__ import annotations

import sympy as sp

from ..errors import SpecError

__all__ = ["Terms", "laurent_coefficients"]


class Terms(dict):
    r"""A sum :math:`\sum_k c_k(N)\, T_k`: ``key`` :math:`T_k` (width-free monomial: deltas, read-out
    constants, moment symbols) -> coefficient :math:`c_k(N)` (the width-dependent part).

    A mutable accumulator (:meth:`add`, :meth:`iadd`, item assignment) until :meth:`freeze`; frozen
    Terms (those the correlator caches and hands out) refuse every change with a ``TypeError``, and
    :meth:`copy` gives a mutable copy.  :meth:`cleaned` of frozen Terms is computed once."""

    def __init__(self, width, *args):
        super().__init__(*args)
        self._width = width
        self._frozen = False
        self._clean = False  # coefficients already simplified (the output of cleaned())
        self._cleaned: Terms | None = None  # cleaned(), memoised once frozen

    @property
    def width(self):
        """The width symbol (or number) the coefficients depend on."""
        return self._width

    # --- freezing ------------------------------------------------------------------------------------
    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> "Terms":
        """Make these Terms immutable (in place); returns them."""
        self._frozen = True
        return self

    def copy(self) -> "Terms":
        """A mutable copy (same width and items)."""
        return Terms(self._width, self)

    def _writable(self):
        if self._frozen:
            raise TypeError("these Terms are frozen (the correlator caches share them); change a copy()")
        self._clean = False
        self._cleaned = None

    def __setitem__(self, key, value):
        self._writable()
        super().__setitem__(key, value)

    def __delitem__(self, key):
        self._writable()
        super().__delitem__(key)

    def __ior__(self, other):
        self._writable()
        return super().__ior__(other)

    def clear(self):
        self._writable()
        super().clear()

    def pop(self, *args):
        self._writable()
        return super().pop(*args)

    def popitem(self):
        self._writable()
        return super().popitem()

    def setdefault(self, key, default=None):
        self._writable()
        return super().setdefault(key, default)

    def update(self, *args, **kwargs):
        self._writable()
        super().update(*args, **kwargs)

    def __reduce__(self):
        return (_rebuild_terms, (self._width, dict(self), self._frozen))

    # --- algebra -------------------------------------------------------------------------------------
    def _split(self, mono):
        w = self.width
        if isinstance(w, sp.Symbol):
            indep, dep = mono.as_independent(w, as_Add=False)
        else:
            indep, dep = mono, sp.Integer(1)
        coeff, key = indep.as_coeff_Mul()
        return key, coeff * dep

    def add(self, mono, scale=1):
        if mono == 0:
            return
        key, c = self._split(sp.sympify(mono))
        self[key] = self.get(key, sp.Integer(0)) + scale * c

    def iadd(self, other: "Terms", scale=1):
        for key, c in other.items():
            self[key] = self.get(key, sp.Integer(0)) + scale * c
        return self

    def mul(self, other: "Terms") -> "Terms":
        out = Terms(self.width)
        for k1, c1 in self.items():
            for k2, c2 in other.items():
                key, num = self._split(k1 * k2)
                out[key] = out.get(key, sp.Integer(0)) + num * c1 * c2
        return out

    def cleaned(self) -> "Terms":
        """Coefficients simplified (``factor``), zero terms dropped; frozen if these Terms are."""
        if self._clean:
            return self
        if self._cleaned is not None:
            return self._cleaned
        out = Terms(self.width)
        memo: dict = {}
        for key, c in self.items():
            if c.free_symbols:
                if c not in memo:
                    memo[c] = sp.factor(sp.cancel(c))
                c = memo[c]
            if c != 0 and key != 0:
                out[key] = c
        out._clean = True  # set after the items (__setitem__ resets it)
        if self._frozen:
            self._cleaned = out.freeze()
        return out

    def to_expr(self) -> sp.Expr:
        """:math:`\\sum_c c \\cdot (\\sum \\text{keys with coefficient } c)`, grouped for reading."""
        groups: dict = {}
        for key, c in self.cleaned().items():
            num, rest = sp.sympify(c).as_coeff_Mul()
            groups.setdefault(rest, []).append(num * key)
        # numeric factors sit inside the sums, so rebuilding the expression (subs) keeps its shape
        return sp.Add(*[c * sp.Add(*keys) for c, keys in groups.items()])

    def laurent(self, lowest: int | None = None) -> dict:
        r"""``power -> Terms`` of the exact expansion :math:`\sum_p N^p \sum_k c_{k,p} T_k`.

        ``lowest`` (a negative power) truncates below; needed only where the coefficient is not a
        Laurent polynomial (then :func:`sympy.series` at :math:`N\to\infty` is used)."""
        out: dict[int, Terms] = {}
        for key, c in self.items():
            for p, v in laurent_coefficients(c, self.width, lowest).items():
                if p not in out:
                    out[p] = Terms(self.width)
                out[p][key] = out[p].get(key, 0) + v
        return out


def _rebuild_terms(width, items: dict, frozen: bool) -> Terms:
    out = Terms(width, items)
    return out.freeze() if frozen else out


def laurent_coefficients(c, width, lowest: int | None = None) -> dict:
    """``power -> coefficient`` of ``c(N)`` as a Laurent series at ``N -> oo`` (exact when ``c`` is a
    rational function with a monomial denominator; otherwise a series truncated at ``lowest``)."""
    c = sp.sympify(c)
    if not isinstance(width, sp.Symbol) or width not in c.free_symbols:
        return {0: c} if c != 0 else {}
    c = sp.cancel(c)
    num, den = sp.fraction(c)
    try:
        pden = sp.Poly(den, width)
        pnum = sp.Poly(num, width)
    except sp.PolynomialError:
        pden = None
    if pden is not None and len(pden.terms()) == 1:
        ((k,), lc) = pden.terms()[0]
        out = {}
        for (e,), co in pnum.terms():
            out[e - k] = out.get(e - k, 0) + co / lc
        return {p: v for p, v in out.items() if v != 0}
    if lowest is None:
        raise SpecError(f"the width dependence {c} is not a Laurent polynomial in {width}; give an "
                        "expansion order")
    eps = sp.Dummy("eps", positive=True)
    ser = sp.series(c.subs(width, 1 / eps), eps, 0, -lowest + 1).removeO()
    out = {}
    for term in sp.Add.make_args(sp.expand(ser)):
        co, powr = term.as_independent(eps, as_Add=False)
        e = sp.degree(powr, eps) if powr != 1 else 0
        if powr != 1 and powr != eps ** e:
            raise SpecError(f"cannot expand {c} in powers of 1/{width}")
        out[-int(e)] = out.get(-int(e), 0) + co
    return {p: v for p, v in out.items() if v != 0}
