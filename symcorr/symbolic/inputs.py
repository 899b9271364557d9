r"""Input points and their inner products, in a canonical form that proofs can compare.

A correlator of a fully connected network depends on its inputs only through the first-layer
pre-activations :math:`z(x) = w\cdot x + b`, i.e. through linear functionals and inner products of the
points.  Points are given either

* explicitly: a list / column of numbers or SymPy expressions of length ``d_in`` (needs a concrete
  input dimension), or
* as matrix expressions: ``MatrixSymbol('x1', D, 1)``, ``R*x1``, ``x1 + c`` ... (symbolic or concrete
  ``D``).

For matrix expressions the inner product :math:`u^T M v` is an :class:`InnerProduct` atom.  Its
constructor expands bilinearly (``(x+c)^T y = x^T y + c^T y``) and picks one of :math:`u^TMv` and its
transpose :math:`v^TM^Tu` canonically, so equal scalars are equal expressions.  Because SymPy rebuilds
atoms through their constructor on ``subs``, substituting a group relation such as
:math:`R^TR = 1` (``apply_relations``) or a translated point re-canonicalises automatically:
``InnerProduct((R x)^T (R y)).subs(R.T*R, Identity(D)) == InnerProduct(x^T y)``.
"""

from __future__ import annotations

from typing import Iterable

import sympy as sp
from sympy.printing.precedence import PRECEDENCE
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..distributions import as_expr
from ..errors import SpecError
from ..expressions import parse_expression, real_symbol

__all__ = ["InnerProduct", "inner", "sum_entries", "as_point", "as_points", "apply_relations",
           "is_explicit"]


def _strict(value, where: str):
    """``sympify`` that never parses a string (SymPy's would run it): SymPy objects and numbers only."""
    try:
        return sp.sympify(value, strict=True)
    except sp.SympifyError:
        raise SpecError(f"expected a SymPy (matrix) expression, got {type(value).__name__} {value!r}",
                        where) from None


def is_explicit(p) -> bool:
    """True for an explicit column (``ImmutableMatrix``), False for a matrix expression."""
    return isinstance(p, sp.MatrixBase)


class InnerProduct(sp.Trace):
    r"""The scalar :math:`u^T M v` of two column vectors given as matrix expressions.

    Construct it with ``InnerProduct(u.T * M * v)`` (any ``1 x 1`` matrix expression): the result is
    the bilinear expansion into canonical atoms (an ``Add`` of coefficients times atoms, or a number).
    Prints as ``x_1^T x_2``.  Subclasses :class:`sympy.Trace` so that ``subs`` on the inner matrix
    product (e.g. ``R.T*R -> I``) reaches it.
    """

    is_commutative = True
    is_real = True
    #: printed like a product (``x_1^T x_2``), so a power of it is parenthesised: ``(x_1^T x_2)^2``
    precedence = PRECEDENCE["Mul"]

    def __new__(cls, mat, **kwargs):
        mat = _strict(mat, "InnerProduct")
        if not getattr(mat, "is_Matrix", False) or mat.shape != (1, 1):
            raise SpecError(f"InnerProduct needs a 1 x 1 matrix expression u.T*M*v, got {mat}")
        return _bilinear(mat)

    def doit(self, **hints):
        return self

    def _eval_transpose(self):
        return self

    def _latex(self, printer):
        mat = self.args[0]
        if isinstance(mat, sp.MatMul):  # 1^T u (the sum of u's entries): SymPy prints the row of ones as "1"
            head, *rest = mat.args
            if isinstance(head, sp.OneMatrix) and head.shape[0] == 1 and rest:
                return r"\mathbf{1}^{T} " + printer._print(sp.MatMul(*rest) if len(rest) > 1 else rest[0])
        return printer._print(mat)

    def _sympystr(self, printer):
        return f"({printer._print(self.args[0])})"

    def _pretty(self, printer):
        return printer._print(self.args[0])


def _atom(mm) -> sp.Expr:
    """A canonical atom for a monomial ``1 x 1`` MatMul (no scalar coefficient)."""
    if isinstance(mm, sp.MatMul):
        mm = sp.MatMul(*[a for a in mm.args if not isinstance(a, sp.Identity)])
    tr = mm.T
    if sp.default_sort_key(tr) < sp.default_sort_key(mm):
        mm = tr
    return sp.Basic.__new__(InnerProduct, mm)


def _bilinear(mat) -> sp.Expr:
    """Expand a ``1 x 1`` matrix expression into coefficient * canonical atom terms."""
    if isinstance(mat, sp.MatrixBase):
        return sp.sympify(mat[0, 0])
    expanded = mat.doit().expand() if not isinstance(mat, sp.MatrixBase) else mat
    if isinstance(expanded, sp.MatrixBase):
        return sp.sympify(expanded[0, 0])
    terms = expanded.args if isinstance(expanded, sp.MatAdd) else (expanded,)
    total = []
    for term in terms:
        if isinstance(term, sp.MatrixBase):
            total.append(term[0, 0])
            continue
        if isinstance(term, sp.ZeroMatrix) or getattr(term, "is_ZeroMatrix", False):
            continue
        if isinstance(term, sp.MatMul):
            coeff, mm = term.as_coeff_mmul()
            mm = mm.doit() if any(isinstance(a, (sp.Identity, sp.MatrixBase)) for a in mm.args) else mm
            if isinstance(mm, sp.MatMul):
                factors = mm.args
            else:
                factors = (mm,)
        else:
            coeff, mm, factors = sp.Integer(1), term, (term,)
        if any(isinstance(f, sp.ZeroMatrix) for f in factors):
            continue
        if isinstance(mm, sp.MatrixBase):
            total.append(coeff * mm[0, 0])
            continue
        if any(isinstance(f, sp.MatrixBase) for f in factors):
            if all(isinstance(s, (int, sp.Integer)) for f in factors for s in f.shape):
                total.append(coeff * sp.Matrix(mm.as_explicit())[0, 0])
                continue
        total.append(coeff * _atom(mm))
    return sp.Add(*total)


def _linear_terms(u):
    """``u = sum_k c_k A_k`` with scalar ``c_k`` and products ``A_k`` of matrix symbols, or ``None``
    when ``u`` has another shape (then SymPy's own expansion is used)."""
    if isinstance(u, sp.MatAdd):
        out = []
        for a in u.args:
            t = _linear_terms(a)
            if t is None:
                return None
            out += t
        return out
    if isinstance(u, sp.MatMul):
        coeff, mm = u.as_coeff_mmul()
        factors = mm.args if isinstance(mm, sp.MatMul) else (mm,)
        if not all(isinstance(f, (sp.MatrixSymbol, sp.Transpose)) and
                   (not isinstance(f, sp.Transpose) or isinstance(f.arg, sp.MatrixSymbol)) for f in factors):
            return None
        mono = factors[0] if len(factors) == 1 else sp.MatMul(*factors)
        return [(coeff, mono)]
    if isinstance(u, sp.MatrixSymbol):
        return [(sp.Integer(1), u)]
    if isinstance(u, sp.ZeroMatrix):
        return []
    return None


def inner(u, v, metric=None, normal_form=None) -> sp.Expr:
    r""":math:`u^T M v` (``M = metric``, default the identity) for explicit columns or matrix
    expressions; canonical (see :class:`InnerProduct`).  Explicit columns give an expanded polynomial,
    or ``normal_form(sum)`` when a normal form is supplied (e.g. ``sympy.cancel`` for rational
    entries)."""
    if is_explicit(u) and is_explicit(v) and (metric is None or isinstance(metric, sp.MatrixBase)):
        if metric is None:
            total = sp.Add(*[u[i, 0] * v[i, 0] for i in range(u.rows)])
        else:
            total = sp.Add(*[u[i, 0] * metric[i, j] * v[j, 0] for i in range(u.rows)
                             for j in range(v.rows) if metric[i, j] != 0])
        if normal_form is not None:
            return normal_form(total)
        # a polynomial normal form, so equal inner products are equal expressions
        return sp.expand(total, power_exp=False, power_base=False, log=False)
    lu = None if is_explicit(u) else _linear_terms(u)
    lv = None if is_explicit(v) else _linear_terms(v)
    if lu is not None and lv is not None and (metric is None or isinstance(metric, sp.MatrixSymbol)):
        # fast path: bilinear expansion by hand (SymPy's matrix expand is slow)
        total = []
        for cu, a in lu:
            for cv, b in lv:
                mid = [metric] if metric is not None else []
                total.append(cu * cv * _atom(sp.MatMul(*(_factors(a.T) + mid + _factors(b)))))
        return sp.Add(*total)
    prod = u.T * v if metric is None else u.T * metric * v
    return InnerProduct(prod)


def _factors(m) -> list:
    if isinstance(m, sp.MatMul):
        return list(m.args)
    return [m]


def sum_entries(u, normal_form=None) -> sp.Expr:
    r""":math:`\mathbf 1^T u`, the sum of the entries of a column."""
    if is_explicit(u):
        total = sp.Add(*list(u))
        return normal_form(total) if normal_form is not None else sp.expand(total, power_exp=False,
                                                                            power_base=False, log=False)
    return InnerProduct(sp.OneMatrix(u.shape[0], 1).T * u)


def linear_combination(coeffs: Iterable, points: list):
    r""":math:`\sum_u c_u x_u` for explicit columns or matrix expressions (``None`` if all c_u = 0)."""
    terms = [(c, p) for c, p in zip(coeffs, points) if c != 0]
    if not terms:
        return None
    if all(is_explicit(p) for _, p in terms):
        out = sp.zeros(terms[0][1].rows, 1)
        for c, p in terms:
            out += c * p
        return sp.ImmutableMatrix(out)
    return sp.MatAdd(*[c * p for c, p in terms]).doit()


def as_point(p, d_in, where: str = "point"):
    """Normalise one input point to an explicit ``ImmutableMatrix`` column or a ``d_in x 1`` matrix
    expression (raises :class:`SpecError` on a wrong shape).

    Coordinates may be numbers, SymPy expressions or expression strings; a whole point may be one
    string ``"(1, 1/2, sqrt(2))"``.  Strings are read by :func:`symcorr.expressions.parse_expression`
    (never ``sympify``); unknown names become real symbols."""
    if isinstance(p, MatrixExpr) and not isinstance(p, sp.MatrixBase):
        rows, cols = p.shape
        if cols != 1:
            if rows == 1:
                p, rows, cols = p.T, cols, 1
            else:
                raise SpecError(f"a point must be a column vector, got shape {p.shape}", where)
        if sp.simplify(rows - d_in) != 0:
            raise SpecError(f"a point must have {d_in} entries, got a matrix expression of shape "
                            f"{p.shape}", where)
        return p
    if hasattr(p, "detach"):
        p = p.detach().cpu().tolist()
    if hasattr(p, "tolist") and not isinstance(p, sp.MatrixBase):
        p = p.tolist()
    if isinstance(p, sp.MatrixBase):
        if p.cols != 1 and p.rows == 1:
            p = p.T
        if p.cols != 1:
            raise SpecError(f"a point must be a column vector, got shape {p.shape}", where)
        entries = [as_expr(v, where) for v in p]
    elif isinstance(p, (list, tuple)):
        entries = [as_expr(v, where) for v in p]
    elif isinstance(p, str):  # "(1, 1/2, sqrt(2))" or one coordinate, through the one safe parser
        entries = list(parse_expression(p, where, unknown=real_symbol, sequence=True))
    else:
        entries = [as_expr(p, where)]
    if not isinstance(d_in, int):
        raise SpecError(f"the input dimension is the symbol {d_in}; give points as matrix symbols, "
                        f"e.g. MatrixSymbol('x1', {d_in}, 1), or substitute a number for {d_in}", where)
    if len(entries) != d_in:
        raise SpecError(f"a point must have {d_in} entries, got {len(entries)}", where)
    for e in entries:
        if e.is_number and (e.is_real is False or not e.is_finite):
            raise SpecError(f"point entries must be finite real numbers, got {e}", where)
    return sp.ImmutableMatrix(entries)


def as_points(points, d_in, n: int | None = None) -> list:
    """Normalise a sequence of points (or a ``(n, d_in)`` array/tensor) to a list of columns."""
    if hasattr(points, "detach"):
        points = points.detach().cpu().tolist()
    if hasattr(points, "tolist") and not isinstance(points, (sp.MatrixBase, MatrixExpr)):
        points = points.tolist()
    if isinstance(points, (sp.MatrixBase, MatrixExpr)) or not isinstance(points, (list, tuple)):
        raise SpecError("points must be a list of points (one per correlator slot)", "points")
    out = [as_point(p, d_in, f"points[{i}]") for i, p in enumerate(points)]
    if n is not None and len(out) != n:
        raise SpecError(f"this is a {n}-point correlator; got {len(out)} points", "points")
    return out


def apply_relations(expr, relations=()) -> sp.Expr:
    r"""Substitute matrix relations (``Eq(R.T*R, Identity(D))`` from a group's generic element, or
    ``(lhs, rhs)`` pairs) inside every :class:`InnerProduct`; atoms re-canonicalise on rebuild, so
    e.g. ``G(R x) - G(x)`` becomes exactly 0 for an SO(D)-invariant correlator."""
    pairs = []
    for rel in relations:
        if isinstance(rel, sp.Equality):
            pairs.append((rel.lhs, rel.rhs))
        else:
            lhs, rhs = rel
            pairs.append((lhs, rhs))
    out = _strict(expr, "apply_relations")
    # rewrite atom by atom and xreplace, so the rest of the expression keeps its exact shape
    # (Basic.subs with a matrix product as `old` re-splits products into numerator/denominator)
    mapping = {}
    for atom in out.atoms(InnerProduct):
        new = atom.args[0]
        for lhs, rhs in pairs:
            if getattr(lhs, "is_Matrix", False):
                new = new.subs(lhs, rhs)
        mapping[atom] = InnerProduct(new)
    out = out.xreplace(mapping) if mapping else out
    scalar = [(lhs, rhs) for lhs, rhs in pairs if not getattr(lhs, "is_Matrix", False)]
    for lhs, rhs in scalar:
        out = out.xreplace({lhs: rhs})
    return out
