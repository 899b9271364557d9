r"""The displayable result: a correlator at given points as named pieces plus their definitions.

Two readings of the same exact expression (:class:`CorrelatorForm`):

* **moments**: :math:`G = \sum_k c_k(N)\,T_k` with the single-neuron moments named
  (:math:`k_{12}`, :math:`m_{1234}`, ...);
* **cumulants** (:func:`cumulant_form`): the moment-cumulant expansion
  :math:`G = \sum_\pi\prod_{B\in\pi}\kappa_B` with :math:`\kappa` named ``M_i`` (one slot), ``K_{ij}``
  (two) and ``G^c_{ijkl}`` (more: the connected correlators) -- "GP part + connected part".
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Mapping

import sympy as sp

from ..combinatorics import set_partitions
from ..distributions import as_expr
from ..verdicts import parse_choice
from .display import aligned, display_math, equation_lines
from .entries import entry_definitions
from .laurent import Terms
from .single_layer import MomentSums, slot_label

__all__ = ["CorrelatorForm", "FormStyle", "cumulant_form"]


class FormStyle(StrEnum):
    """The two readings of a correlator (see :class:`CorrelatorForm`)."""

    MOMENTS = "moments"  # width-dependent coefficients times named single-neuron moments
    CUMULANTS = "cumulants"  # sum over partitions of named cumulants: GP part + connected part

    @classmethod
    def parse(cls, value, where: str = "style") -> "FormStyle":
        return parse_choice(cls, value, where)


class CorrelatorForm:
    r"""A correlator at given points in readable form, with :attr:`definitions` mapping each named
    piece to its expression.

    * ``style="moments"``: a sum over width-dependent coefficients times monomials in named
      single-neuron moments (``k_{12}``, ``m_{1234}``, ...); :attr:`terms` is the underlying
      :class:`Terms` (``None`` in the cumulant style).
    * ``style="cumulants"``: the moment-cumulant expansion
      :math:`G = \sum_\pi\prod_{B\in\pi}\kappa_B` with :math:`\kappa` of one slot named
      ``M_{i}``, of two slots ``K_{ij}`` (with the :math:`\delta_{a_ia_j}` pulled out when it factors)
      and of more slots ``G^{c}_{ijkl}`` (the connected correlators, :math:`O(N^{1-n/2})`) -- the
      paper's "GP part + connected part" reading.

    ``form.expr`` is the readable expression, ``form.expanded()`` substitutes the definitions
    (recursively), ``form.latex()`` / ``form.markdown()`` print both.  A form is immutable: its
    attributes cannot be set, :attr:`definitions` is a read-only mapping, :attr:`points` a tuple and
    :attr:`terms` frozen :class:`Terms` (the correlator's caches share them)."""

    title: str

    def __init__(self, title: str, terms: Terms | None, sums: MomentSums, *, expr=None,
                 definitions: dict | None = None, generic: bool = False):
        terms = terms.cleaned() if terms is not None else None
        expr = terms.to_expr() if expr is None else expr
        defs = dict(definitions or {})
        defs.update(sums.definitions)
        # keep the definitions reachable from the expression, in order of appearance
        used: dict = {}
        frontier = [expr]
        while frontier:
            e = frontier.pop(0)
            for sym in sorted(e.free_symbols, key=str):
                if sym in defs and sym not in used:
                    used[sym] = defs[sym]
                    frontier.append(defs[sym])
        fields = {"title": title, "terms": terms, "_expr": expr, "_definitions": used,
                  "width": sums.model.width, "points": sums.points, "distinct_points": sums.distinct,
                  "generic": bool(generic), "_expanded": None}
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"a CorrelatorForm is immutable (cannot set {name!r})")

    def __delattr__(self, name):
        raise AttributeError(f"a CorrelatorForm is immutable (cannot delete {name!r})")

    @property
    def expr(self) -> sp.Expr:
        return self._expr

    @property
    def definitions(self) -> Mapping[sp.Symbol, sp.Expr]:
        """Named piece -> its expression (read-only), in order of appearance."""
        return MappingProxyType(self._definitions)

    def expanded(self, width=None) -> sp.Expr:
        """The explicit expression (definitions substituted; ``width`` substituted for N if given)."""
        out = self._expanded
        if out is None:
            out = self._expr
            for _ in range(4):
                if not (out.free_symbols & self._definitions.keys()):
                    break
                out = out.xreplace(self._definitions)
            object.__setattr__(self, "_expanded", out)  # a memo: the form is immutable
        if width is not None and isinstance(self.width, sp.Symbol):
            out = out.subs(self.width, as_expr(width, "width"))  # a string width is parsed safely
        return out

    def parameter_definitions(self) -> list[str]:
        """LaTeX definitions of the vector/matrix parameters (:mod:`symcorr.symbolic.entries`) used."""
        return entry_definitions(sp.Add(self.expr, *self.definitions.values()))

    def rows(self) -> list[str]:
        """Rows of an ``aligned`` environment: the correlator, then each definition (long sums broken over
        lines, common factors pulled out; :mod:`symcorr.symbolic.display`)."""
        rows = equation_lines(self.title, self.expr)
        for s, v in self.definitions.items():
            rows += equation_lines(sp.latex(s), v)
        for d in self.parameter_definitions():
            lhs, _, rhs = d.partition(" = ")
            rows.append(f"{lhs} &= {rhs}")
        return rows

    def latex(self) -> str:
        """The correlator and its definitions as one ``aligned`` environment (valid TeX inside ``$$``)."""
        return aligned(self.rows())

    def markdown(self) -> str:
        out = [display_math(equation_lines(self.title, self.expr))]
        if self.distinct_points and not self.generic:
            pts = ", ".join(f"$x_{{{u + 1}}} = {sp.latex(p)}$" for u, p in enumerate(self.distinct_points))
            out.append(f"Points: {pts}.")
        rows = self.rows()[len(equation_lines(self.title, self.expr)):]
        if rows:
            out.append("where")
            out.append(display_math(rows))
        return "\n\n".join(out)

    def _repr_latex_(self):
        return f"$${self.latex()}$$"

    def _repr_markdown_(self):
        return self.markdown()

    def __repr__(self):
        return f"CorrelatorForm({self.expr})"


def cumulant_form(title: str, b: MomentSums, slots: tuple, generic: bool = False) -> CorrelatorForm:
    r"""``G = sum_pi prod_B kappa_B`` with named cumulants (see :class:`CorrelatorForm`)."""
    names: dict[tuple, sp.Expr] = {}
    defs: dict = {}

    def piece(block):
        if block in names:
            return names[block]
        e = b.connected(block).cleaned().to_expr()
        label = slot_label(block)
        if e == 0:
            out = sp.Integer(0)
        elif len(block) == 1:
            out = sp.Symbol(f"M_{{{label}}}")
            defs[out] = e
        elif len(block) == 2:
            sym = sp.Symbol(f"K_{{{label}}}")
            delta = sp.KroneckerDelta(b.indices[block[0]], b.indices[block[1]])
            rest = e.xreplace({delta: 1}) if isinstance(delta, sp.KroneckerDelta) else e
            if isinstance(delta, sp.KroneckerDelta) and delta not in rest.atoms(sp.KroneckerDelta) \
                    and sp.expand(delta * rest - e) == 0:
                defs[sym], out = rest, delta * sym
            else:
                defs[sym], out = e, sym
        else:
            out = sp.Symbol(f"G^{{c}}_{{{label}}}")
            defs[out] = e
        names[block] = out
        return out

    total = []
    for part in set_partitions(slots):
        term = sp.Integer(1)
        for block in part:
            term = term * piece(tuple(block))
            if term == 0:
                break
        total.append(term)
    return CorrelatorForm(title, None, b, expr=sp.Add(*total), definitions=defs, generic=generic)
