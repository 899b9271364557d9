r"""Readable LaTeX for long symbolic results: common factors pulled out, long sums broken over lines.

:func:`equation_lines` turns ``lhs = expr`` into rows of an ``aligned`` environment, each at most about
``width`` characters of LaTeX: common factors of a sum are pulled out first (``sympy.factor_terms``), a
sum is split between its terms (continuation rows start with the sign), and a product whose last factor is
a long sum keeps the prefactor on the first row with the sum in ``\Big(\,\Big)`` brackets (they need no
pairing across rows).  :func:`display_math` wraps the rows for Markdown (one ``$$`` block, one row per
source line, so no report line grows with the expression); :func:`aligned` for LaTeX documents.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter

__all__ = ["equation_lines", "display_math", "aligned", "readable"]

#: the target length of one row of a displayed equation, in characters of LaTeX
ROW_WIDTH = 160


def readable(expr) -> sp.Expr:
    """``expr`` with the common factors of its sums pulled out (same value)."""
    expr = sp.sympify(expr)
    return sp.factor_terms(expr) if isinstance(expr, (sp.Add, sp.Mul)) else expr


def _terms(expr: sp.Expr) -> list[sp.Expr]:
    return list(LatexPrinter()._as_ordered_terms(expr, order=None)) if isinstance(expr, sp.Add) else [expr]


def _signed(tex: str, first: bool) -> str:
    if first:
        return tex
    return f"- {tex[1:].lstrip()}" if tex.startswith("-") else f"+ {tex}"


def _pieces(term: sp.Expr, width: int, first: bool) -> list[str]:
    r"""A term as one or more row pieces: a long product with one sum factor is split inside
    ``\Big( ... \Big)``."""
    tex = sp.latex(term)
    if len(tex) <= width or not isinstance(term, sp.Mul):
        return [_signed(tex, first)]
    sums = [f for f in term.args if isinstance(f, sp.Add)]
    if len(sums) != 1:
        return [_signed(tex, first)]
    rest = sp.Mul(*[f for f in term.args if f is not sums[0]])
    inner = _rows(_terms(sums[0]), width)
    head = _signed(sp.latex(rest), first) + " \\Big( " + inner[0]
    return [head] + inner[1:-1] + [inner[-1] + " \\Big)"] if len(inner) > 1 else [head + " \\Big)"]


def _rows(terms: list[sp.Expr], width: int) -> list[str]:
    rows: list[str] = []
    current = ""
    for i, term in enumerate(terms):
        pieces = _pieces(term, width, i == 0)
        for k, piece in enumerate(pieces):
            if current and (k > 0 or len(current) + len(piece) + 1 > width):
                rows.append(current)
                current = piece
            else:
                current = f"{current} {piece}".strip()
    if current:
        rows.append(current)
    return rows


def equation_lines(lhs: str, expr, width: int = ROW_WIDTH) -> list[str]:
    """Rows of ``lhs = expr`` for an ``aligned`` environment (the first holds ``lhs &=``)."""
    expr = readable(expr)
    rows = _rows(_terms(expr), width)
    return [f"{lhs} &= {rows[0]}"] + [f"&\\quad {row}" for row in rows[1:]]


def aligned(rows: list[str]) -> str:
    """An ``aligned`` environment of ``rows`` (rows joined by ``\\\\``; valid inside ``$$``)."""
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"


def display_math(rows: list[str]) -> str:
    """A Markdown display block: ``$$`` on its own lines, one row per source line."""
    return "$$\n" + aligned(rows) + "\n$$"
