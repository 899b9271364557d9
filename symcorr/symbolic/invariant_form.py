r"""Correlators in the invariants of a group acting on the inputs: a manifestly invariant form where one
exists, a typed "no" with the dependence that is left and a witness where it does not.

The invariants (:class:`Invariants`) of

* translations :math:`x \mapsto x + c`: the squared distances :math:`d_{ij} = \lVert x_i - x_j\rVert^2`
  (printed :math:`\lVert x_i - x_j\rVert^2`, :class:`SquaredDistance`; for scalar points
  :math:`(x_i - x_j)^2`);
* rotations SO(D), O(D): the inner products :math:`x_i^Tx_j` (:class:`~.inputs.InnerProduct` atoms).

:func:`invariant_form` (and ``Correlator.invariant_form`` / ``Kernel.invariant_form``) gives one of three
outcomes, an :class:`InvariantForm`:

**yes** (``exists``): the expression rewritten in the invariants, exactly.  Translations: every
:math:`x_i^Tx_j` becomes :math:`(\lVert x_i\rVert^2 + \lVert x_j\rVert^2 - d_{ij})/2` (an identity), the result
is expanded (inside functions too), and no norm :math:`\lVert x_i\rVert^2` may be left.  Rotations: the points
may appear only in inner products :math:`x_i^Tx_j` (no :math:`u^Tx_i` with a fixed vector, no metric
:math:`x_i^TVx_j`, no coordinate, no unevaluated integral over the points).  Scalar points (input dimension
1) are first paired into products :math:`x_ix_j` (an identity in one dimension; an odd power is left over).
A :class:`~.form.CorrelatorForm` is rewritten piece by piece (each named moment or cumulant), and as one
expanded expression when a piece alone is not a function of the invariants (pieces may cancel).

**no** (``exists`` False, ``decided``): the rewrite leaves a dependence (:attr:`InvariantForm.residual`, e.g.
:math:`x_1^Tx_1` "beyond the distances") *and* a :class:`Witness` proves it: exact rational points and an
element g of a group that keeps the invariants -- a translation, or a rational rotation (Givens rotations by
Pythagorean angles; a reflection in one dimension), both isometries for the distances, the rotation for the
inner products -- with :math:`f(gx) \ne f(x)`: evaluated with ``WITNESS_DIGITS`` digits, the relative
difference exceeds ``WITNESS_TOLERANCE``.  A function of the invariants takes the same value at x and gx.

**could not decide** (``decided`` False): a dependence is left but no witness was found (the expression has
unevaluated integrals, which have no exact value; or the dependence cancels beyond what the expansion sees).
No form is printed then either.

This module must stay one module (over 500 lines): the rewrite (the "yes") and the witness (the "no") are the
two halves of one decision rule, and neither is used without the other.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Mapping

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.printing.precedence import PRECEDENCE

from ..errors import SpecError
from ..groups import Group, Orthogonal, SpecialOrthogonal, Translations, resolve_group
from .display import aligned, display_math, equation_lines
from .entries import entry_definitions
from .form import CorrelatorForm
from .inputs import InnerProduct, inner
from .integral import GaussianExpectation, ParameterIntegral

__all__ = ["InvariantForm", "Invariants", "SquaredDistance", "Witness", "invariant_form", "invariants_of"]

#: digits of the witness evaluation, and the relative difference f(gx) - f(x) it must exceed; a witness is
#: kept only when the difference recomputed with ``CONFIRM_DIGITS`` digits agrees to 1e-6 (relative)
WITNESS_DIGITS = 40
CONFIRM_DIGITS = 60
WITNESS_TOLERANCE = 1e-25
#: random point sets tried per group element before a witness search gives up
WITNESS_TRIALS = 3
#: witness points are printed up to this dimension (beyond it: "seeded rational points of R^m")
_SHOWN_DIMENSION = 4


class Invariants(StrEnum):
    """The invariants a form is written in."""

    DISTANCES = "squared distances"  # translations: |x_i - x_j|^2
    INNER_PRODUCTS = "inner products"  # rotations: x_i^T x_j

    def latex(self, scalar: bool = False) -> str:
        if self is Invariants.DISTANCES:
            return r"(x_i - x_j)^2" if scalar else r"\lVert x_i - x_j \rVert^2"
        return r"x_i x_j" if scalar else r"x_i^T x_j"


def invariants_of(group: Group) -> Invariants:
    """The invariants of ``group``: squared distances for translations, inner products for SO(n) and O(n); a
    SpecError for any other group (no invariant form is known here)."""
    if isinstance(group, Translations):
        return Invariants.DISTANCES
    if type(group) in (Orthogonal, SpecialOrthogonal):
        return Invariants.INNER_PRODUCTS
    raise SpecError(f"invariant forms are known for translations (squared distances) and SO(n), O(n) (inner "
                    f"products); got {group!r}", "group")


class SquaredDistance(sp.Expr):
    r""":math:`\lVert x_i - x_j\rVert^2` of two symbolic points (``MatrixSymbol`` columns, or scalar symbols:
    :math:`(x_i - x_j)^2`), one atom of a form.  :meth:`in_points` is its value in the points' inner
    products."""

    is_commutative = True
    is_real = True
    is_nonnegative = True
    #: printed like a product, so a power of it is parenthesised: (|x_1 - x_2|^2)^2
    precedence = PRECEDENCE["Mul"]

    def __new__(cls, a, b):
        if sp.default_sort_key(b) < sp.default_sort_key(a):
            a, b = b, a
        return sp.Expr.__new__(cls, a, b)

    @property
    def scalar(self) -> bool:
        return not isinstance(self.args[0], sp.MatrixExpr)

    def in_points(self) -> sp.Expr:
        """:math:`x_i^Tx_i - 2x_i^Tx_j + x_j^Tx_j` (canonical inner products), or :math:`(x_i - x_j)^2`."""
        a, b = self.args
        if self.scalar:
            return (a - b) ** 2
        return inner(a, a) - 2 * inner(a, b) + inner(b, b)

    def doit(self, **hints):
        return self

    def _latex(self, printer):
        a, b = (printer._print(p) for p in self.args)
        return rf"\left({a} - {b}\right)^{{2}}" if self.scalar else rf"\lVert {a} - {b} \rVert^{{2}}"

    def _sympystr(self, printer):
        a, b = (printer._print(p) for p in self.args)
        return f"({a} - {b})**2" if self.scalar else f"|{a} - {b}|**2"


# ----------------------------------------------------------------------------------------------------
# the points and their products
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Points:
    """Distinct symbolic points, scalar or column, with the dummies of their products ``p[i, j]`` (i <= j;
    ``p[i, i]`` the norm) and squared distances ``d[i, j]`` (i < j)."""

    symbols: tuple
    scalar: bool
    dim: object
    p: dict = field(default_factory=dict)
    d: dict = field(default_factory=dict)

    @classmethod
    def of(cls, points) -> "_Points":
        if isinstance(points, (sp.MatrixBase, sp.MatrixExpr)) or not isinstance(points, (list, tuple)):
            raise SpecError("points must be a list of symbolic points", "points")
        out = []
        for i, p in enumerate(points):
            q = p
            if isinstance(q, (list, tuple)) and len(q) == 1:
                q = q[0]
            if isinstance(q, sp.MatrixBase) and q.shape == (1, 1):
                q = q[0, 0]
            if not ((isinstance(q, sp.MatrixSymbol) and q.shape[1] == 1) or isinstance(q, sp.Symbol)):
                raise SpecError(f"invariant forms need symbolic points (MatrixSymbol columns or scalar symbols, "
                                f"e.g. the correlator's generic points); got {p!r}", f"points[{i}]")
            out.append(q)
        symbols = tuple(dict.fromkeys(out))
        kinds = {isinstance(q, sp.MatrixSymbol) for q in symbols}
        if len(kinds) > 1:
            raise SpecError("points mix column vectors and scalars", "points")
        scalar = not kinds or kinds == {False}
        dims = {int(q.shape[0]) if q.shape[0].is_Integer else q.shape[0] for q in symbols} if not scalar else {1}
        if len(dims) > 1:
            raise SpecError(f"points of different dimensions {sorted(map(str, dims))}", "points")
        n = len(symbols)
        p = {(i, j): sp.Dummy(f"p{i}{j}", real=True) for i in range(n) for j in range(i, n)}
        d = {(i, j): sp.Dummy(f"d{i}{j}", nonnegative=True) for i in range(n) for j in range(i + 1, n)}
        return cls(symbols, scalar, dims.pop() if dims else 1, p, d)

    def norm_latex(self, i: int) -> str:
        x = sp.latex(self.symbols[i])
        return f"{x}^{{2}}" if self.scalar else f"{x}^{{T}} {x}"


def _canonical(e) -> sp.Expr:
    """Products and powers of sums multiplied out everywhere (inside functions too), exponentials and
    powers of products kept together: like terms cancel, so a norm that cancels disappears."""
    return sp.expand(e, deep=True, mul=True, multinomial=True, power_exp=False, power_base=False, log=False)


def _atom_latex(atom) -> str:
    r"""An inner-product atom's LaTeX, the all-ones vector printed :math:`\mathbf{1}` (``1^T x``)."""
    mm = atom.args[0]
    ones = {o: (sp.MatrixSymbol(r"\mathbf{1}", o.shape[1], 1).T if o.shape[0] == 1 else
                sp.MatrixSymbol(r"\mathbf{1}", *o.shape)) for o in mm.atoms(sp.OneMatrix)}
    return sp.latex(mm.xreplace(ones)) if ones else sp.latex(atom)


def _point_pair(mm, index: dict) -> tuple[int, int] | None:
    """``(i, j)`` (i <= j) when the inner-product atom's matrix ``mm`` is :math:`x_i^Tx_j`, else None."""
    if isinstance(mm, sp.MatMul) and len(mm.args) == 2 and isinstance(mm.args[0], sp.Transpose):
        a, b = mm.args[0].arg, mm.args[1]
        if a in index and b in index:
            i, j = sorted((index[a], index[b]))
            return i, j
    return None


def _leftovers(e, pts: _Points) -> list[str]:
    """LaTeX names of the places where the points appear other than in inner products :math:`x_i^Tx_j` (the
    inner products themselves must have been replaced already)."""
    found: list[str] = []

    def walk(node):
        if not any(node.has(x) for x in pts.symbols):
            return
        if isinstance(node, MatrixElement):
            found.append(rf"\text{{the coordinates of }} {sp.latex(node.parent)}")
        elif isinstance(node, InnerProduct) or node in pts.symbols or isinstance(node, sp.MatrixExpr):
            found.append(sp.latex(node))
        elif isinstance(node, ParameterIntegral):
            found.append(r"\text{an unevaluated parameter integral}")
        else:
            for a in node.args:
                walk(a)

    walk(e)
    return list(dict.fromkeys(found))


def _pair_monomial(powers: dict, pts: _Points) -> sp.Expr:
    """:math:`\\prod_i x_i^{k_i}` as products :math:`x_ix_j` (norms first, then the odd ones in pairs; one odd
    power may be left over)."""
    out, odd = sp.Integer(1), []
    for i in sorted(powers):
        q, r = divmod(powers[i], 2)
        out *= pts.p[(i, i)] ** q
        if r:
            odd.append(i)
    while len(odd) >= 2:
        i, j = odd.pop(0), odd.pop(0)
        out *= pts.p[(i, j)]
    if odd:
        out *= pts.symbols[odd[0]]
    return out


def _pair(e, index: dict, pts: _Points) -> sp.Expr:
    """Scalar points: every monomial in the points written in products :math:`x_ix_j` (exact in one
    dimension); ``|e|`` as :math:`\\sqrt{e^2}`."""
    if not any(e.has(x) for x in index):
        return e
    if e in index:
        return e
    if isinstance(e, sp.Abs):
        return sp.sqrt(_pair(_canonical(e.args[0] ** 2), index, pts))
    if isinstance(e, sp.Pow) and e.base in index and e.exp.is_Integer:
        return _pair_monomial({index[e.base]: int(e.exp)}, pts)
    if isinstance(e, sp.Mul):
        powers: dict = {}
        rest = []
        for f in e.args:
            if f in index:
                powers[index[f]] = powers.get(index[f], 0) + 1
            elif isinstance(f, sp.Pow) and f.base in index and f.exp.is_Integer:
                powers[index[f.base]] = powers.get(index[f.base], 0) + int(f.exp)
            else:
                rest.append(_pair(f, index, pts))
        return sp.Mul(*rest) * _pair_monomial(powers, pts)
    return e.func(*[_pair(a, index, pts) for a in e.args])


def _in_products(e, pts: _Points) -> tuple[sp.Expr, list[str]]:
    """``e`` with every product :math:`x_i^Tx_j` (:math:`x_ix_j`) a dummy ``pts.p[i, j]``, and the LaTeX of
    the dependence on the points that is left."""
    index = {x: i for i, x in enumerate(pts.symbols)}
    if pts.scalar:
        out = _pair(_canonical(e), index, pts)
        return out, _leftovers(out, pts)
    mapping, residual, hidden = {}, [], {}
    for atom in sorted(e.atoms(InnerProduct), key=sp.default_sort_key):
        pair = _point_pair(atom.args[0], index)
        if pair is not None:
            mapping[atom] = pts.p[pair]
        elif any(atom.has(x) for x in pts.symbols):  # u^T x_i, x_i^T V x_j: not an invariant
            residual.append(_atom_latex(atom))
            hidden[atom] = sp.Dummy("r")
    out = e.xreplace(mapping)
    return out, residual + _leftovers(out.xreplace(hidden), pts)


@dataclass(frozen=True)
class _Rewrite:
    expr: sp.Expr | None  # the form (None when the invariants do not suffice)
    residual: tuple[str, ...]


def _rewrite(e, pts: _Points, kind: Invariants) -> _Rewrite:
    """The rewrite of one expression (module docstring, "yes"), or what is left over."""
    e = sp.sympify(e)
    if not any(e.has(x) for x in pts.symbols):
        return _Rewrite(e, ())
    q, residual = _in_products(e, pts)
    if kind is Invariants.INNER_PRODUCTS:
        return _Rewrite(None if residual else e, tuple(residual))
    n = len(pts.symbols)
    half = {pts.p[(i, j)]: (pts.p[(i, i)] + pts.p[(j, j)] - pts.d[(i, j)]) / 2 for (i, j) in pts.d}
    r = _canonical(q.xreplace(half))
    norms = [pts.norm_latex(i) for i in range(n) if r.has(pts.p[(i, i)])]
    if residual or norms:
        return _Rewrite(None, tuple(norms + residual))
    shown = {pts.d[(i, j)]: SquaredDistance(pts.symbols[i], pts.symbols[j]) for (i, j) in pts.d}
    return _Rewrite(r.xreplace(shown), ())


# ----------------------------------------------------------------------------------------------------
# the witness of a "no"
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Witness:
    r"""Exact points (``points``: one tuple of rationals per point, or one rational for scalar points; ``moved``:
    the same moved by the group element), the parameters used (``parameters``: (symbol LaTeX, value LaTeX)
    pairs) and the group element (``element``: its description, Markdown with inline math) with
    :math:`f(gx) \ne f(x)`: ``before`` = f(x), ``after`` = f(gx) (``WITNESS_DIGITS`` digits, rounded to floats)."""

    points: tuple
    moved: tuple
    labels: tuple
    parameters: tuple
    element: str
    before: float
    after: float

    def markdown(self) -> str:
        dim = len(self.points[0]) if self.points and isinstance(self.points[0], tuple) else 1
        if dim <= _SHOWN_DIMENSION:
            at = ", ".join(f"${lab} = {_tuple_latex(p)}$" for lab, p in zip(self.labels, self.points))
        else:
            at = rf"seeded rational points of $\mathbb{{R}}^{{{dim}}}$"
        params = "".join(f", ${name} = {value}$" for name, value in self.parameters)
        return (f"at {at}{params}, {self.element} changes it from {self.before:.6g} to {self.after:.6g}")


def _tuple_latex(p) -> str:
    if not isinstance(p, tuple):
        return sp.latex(p)
    return r"\left(" + ", ".join(sp.latex(v) for v in p) + r"\right)"


class _NotEvaluable(Exception):
    """The expression has a part the witness cannot evaluate exactly."""


@dataclass
class _Environment:
    """Values for a witness: the points (columns or rationals), other matrix symbols, scalar symbols."""

    points: dict
    matrices: dict
    scalars: dict


def _matrix_value(m, env: _Environment) -> sp.ImmutableMatrix:
    """The explicit value of a matrix expression in the points and other matrix symbols."""
    if m in env.points:
        return sp.ImmutableMatrix(env.points[m])
    if m in env.matrices:
        return env.matrices[m]
    if isinstance(m, sp.MatrixBase):
        return sp.ImmutableMatrix(m)
    if isinstance(m, sp.Transpose):
        return _matrix_value(m.arg, env).T
    if isinstance(m, sp.MatMul):
        out = None
        scalar = sp.Integer(1)
        for a in m.args:
            if isinstance(a, (sp.MatrixExpr, sp.MatrixBase)):
                v = _matrix_value(a, env)
                out = v if out is None else out * v
            else:
                scalar *= a.xreplace(env.scalars)
        if out is None:
            raise _NotEvaluable(str(m))
        return sp.ImmutableMatrix(scalar * out)
    if isinstance(m, sp.MatAdd):
        parts = [_matrix_value(a, env) for a in m.args]
        total = parts[0]
        for v in parts[1:]:
            total = total + v
        return sp.ImmutableMatrix(total)
    if isinstance(m, (sp.Identity, sp.OneMatrix, sp.ZeroMatrix)):
        shape = [sp.sympify(k).xreplace(env.scalars) for k in m.shape]
        if not all(k.is_Integer for k in shape):
            raise _NotEvaluable(str(m))
        rows, cols = (int(k) for k in shape)
        if isinstance(m, sp.Identity):
            return sp.ImmutableMatrix(sp.eye(rows))
        return sp.ImmutableMatrix(sp.ones(rows, cols) if isinstance(m, sp.OneMatrix) else sp.zeros(rows, cols))
    raise _NotEvaluable(str(m))


def _value(e, env: _Environment, digits: int = WITNESS_DIGITS):
    """f at the environment's values, a real Float of ``digits`` digits, or None (not a finite real number
    there, or not evaluable exactly)."""
    mapping = {}
    try:
        for atom in e.atoms(InnerProduct):
            mapping[atom] = _matrix_value(atom.args[0], env)[0, 0]
        for atom in e.atoms(MatrixElement):
            mapping[atom] = _matrix_value(atom.parent, env)[int(atom.i), int(atom.j)]
    except _NotEvaluable:
        return None
    out = e.xreplace(mapping)
    for _ in range(3):  # named entries evaluate to expressions in further symbols at integer indices
        out = out.xreplace(env.scalars)
        if not out.free_symbols:
            break
    if out.free_symbols or out.atoms(sp.MatrixSymbol):
        return None
    v = sp.N(out, digits)
    if not v.is_number:
        return None
    re, im = v.as_real_imag()
    if not (re.is_finite and im.is_finite) or abs(im) > sp.Float(1e-30) * max(1, abs(re)):
        return None
    return re


def _rational(rng: random.Random) -> sp.Rational:
    return sp.Rational(rng.choice([-7, -5, -3, -2, -1, 1, 2, 3, 5, 7]), 4)


def _parameter_value(s: sp.Symbol, rng: random.Random):
    """A value for a scalar parameter: 0 for an output index (integer >= 0), a small integer for a width, a
    positive rational for a positive symbol, a non-zero rational otherwise."""
    if s.is_integer and s.is_nonnegative and not s.is_positive:
        return sp.Integer(0)
    if s.is_integer and s.is_positive:
        return sp.Integer(rng.randint(2, 5))
    if s.is_integer:
        return sp.Integer(rng.choice([-2, -1, 1, 2]))
    if s.is_positive or s.is_nonnegative:
        return sp.Rational(rng.randint(2, 12), 4)
    return _rational(rng)


def _environment(e, pts: _Points, m: int, rng: random.Random) -> _Environment:
    scalars: dict = {}
    if isinstance(pts.dim, sp.Symbol):
        scalars[pts.dim] = sp.Integer(m)
    for _ in range(3):  # symbols hidden in named entries (mu^W_a = mu) appear once the indices have values
        free = [s for s in sorted(e.xreplace(scalars).free_symbols, key=sp.default_sort_key)
                if isinstance(s, sp.Symbol) and s not in pts.symbols and s not in scalars]
        if not free:
            break
        scalars.update({s: _parameter_value(s, rng) for s in free})
    matrices = {}
    for M in sorted(e.atoms(sp.MatrixSymbol), key=sp.default_sort_key):
        if M in pts.symbols:
            continue
        rows, cols = (int(sp.sympify(k).xreplace(scalars)) for k in M.shape)
        a = sp.Matrix(rows, cols, lambda i, j: _rational(rng))
        matrices[M] = sp.ImmutableMatrix(a * a.T + sp.eye(rows) if rows == cols else a)  # square: pos. definite
    if pts.scalar:
        points = {x: _rational(rng) for x in pts.symbols}
        scalars.update(points)
    else:
        points = {x: sp.ImmutableMatrix([_rational(rng) for _ in range(m)]) for x in pts.symbols}
    return _Environment(points, matrices, scalars)


#: (cos, sin) of the Givens rotations of the witness, alternating plane by plane: exact rationals
_GIVENS = ((sp.Rational(3, 5), sp.Rational(4, 5)), (sp.Rational(5, 13), sp.Rational(12, 13)))


def _rotate(v, m: int):
    """A rational rotation of R^m: Givens rotations in the planes (1, 2), (2, 3), ... (a reflection for
    m = 1)."""
    if m == 1:
        return -v
    w = list(v)
    for k in range(m - 1):
        c, s = _GIVENS[k % 2]
        w[k], w[k + 1] = c * w[k] - s * w[k + 1], s * w[k] + c * w[k + 1]
    return sp.ImmutableMatrix(w)


def _moved(env: _Environment, pts: _Points, move) -> _Environment:
    points = {x: move(v) for x, v in env.points.items()}
    scalars = dict(env.scalars)
    if pts.scalar:
        scalars.update(points)
    return _Environment(points, env.matrices, scalars)


def _confirmed(e, env: _Environment, moved: _Environment, difference) -> bool:
    """The difference f(gx) - f(x) again with ``CONFIRM_DIGITS`` digits: the same to 1e-6 (relative), so
    not an artefact of the working precision."""
    before, after = _value(e, env, CONFIRM_DIGITS), _value(e, moved, CONFIRM_DIGITS)
    if before is None or after is None:
        return False
    return bool(abs((after - before) - difference) <= sp.Float(1e-6) * abs(difference))


def _witness(e, pts: _Points, kind: Invariants, group: Group, seed: int) -> tuple[Witness | None, str]:
    """A witness of the dependence beyond the invariants, or None with the reason none was found."""
    if e.has(GaussianExpectation, ParameterIntegral):
        return None, "it has unevaluated integrals (no exact value to compare at moved points)"
    m = pts.dim if isinstance(pts.dim, int) else max(2, len(pts.symbols) + 1)
    rng = random.Random(seed)
    moves = []
    if kind is Invariants.DISTANCES:
        c = sp.ImmutableMatrix([_rational(rng) for _ in range(m)]) if not pts.scalar else _rational(rng)
        moves.append((lambda v: v + c, rf"the translation by $c = {_tuple_latex(_entries(c))}$"))
    if m >= 2 or kind is Invariants.DISTANCES or not isinstance(group, SpecialOrthogonal):
        what = "the reflection $x \\mapsto -x$" if m == 1 else (
            "the rotation $R$ (Givens rotations with cosines 3/5, 5/13 in the planes (1, 2), (2, 3), ...)")
        moves.append((lambda v: _rotate(v, m), what))
    unevaluated = 0
    for _ in range(WITNESS_TRIALS):
        env = _environment(e, pts, m, rng)
        before = _value(e, env)
        for move, what in moves:
            after = _value(e, _moved(env, pts, move))
            if before is None or after is None:
                unevaluated += 1
                continue
            if abs(after - before) > WITNESS_TOLERANCE * max(1, abs(before), abs(after)) and \
                    _confirmed(e, env, _moved(env, pts, move), after - before):
                params = tuple((sp.latex(s), sp.latex(v)) for s, v in env.scalars.items()
                               if s not in pts.symbols)
                moved = _moved(env, pts, move)
                return Witness(tuple(_entries(env.points[x]) for x in pts.symbols),
                               tuple(_entries(moved.points[x]) for x in pts.symbols),
                               tuple(sp.latex(x) for x in pts.symbols), params, what, float(before),
                               float(after)), ""
    if unevaluated:
        return None, f"it is not a finite real number at {unevaluated} of the random point sets tried"
    return None, (f"no point set of {WITNESS_TRIALS} random ones shows the dependence (it may cancel beyond "
                  "what the expansion sees)")


def _entries(v):
    return tuple(v) if isinstance(v, sp.MatrixBase) else v


# ----------------------------------------------------------------------------------------------------
# the result
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InvariantForm:
    r"""An expression in the invariants of a group, or why it is not one (module docstring).

    ``exists``: the form is exact, :attr:`expr` (with :attr:`definitions` for the named pieces of a
    correlator form) in :class:`SquaredDistance` atoms or inner products only.  Otherwise ``expr`` is None,
    :attr:`residual` names the dependence left (LaTeX), and ``decided`` says whether a :attr:`witness` proves
    it (else :attr:`note` says why not).  Printing: :meth:`latex`, :meth:`markdown`, notebook reprs."""

    title: str
    group: Group
    invariants: Invariants
    scalar: bool
    exists: bool
    decided: bool
    expr: sp.Expr | None = None
    definitions: Mapping = field(default_factory=dict)
    residual: tuple = ()
    witness: Witness | None = None
    note: str = ""

    def __post_init__(self):
        object.__setattr__(self, "definitions", MappingProxyType(dict(self.definitions)))

    # --- reading --------------------------------------------------------------------------------------
    def in_points(self) -> sp.Expr:
        """The form with its definitions and squared distances substituted: an expression in the points'
        inner products, equal to the original (a check of the rewrite)."""
        if self.expr is None:
            raise SpecError(f"no form in the {self.invariants}: {self.summary()}")
        out = _substituted(self.expr, self.definitions)
        return out.xreplace({a: a.in_points() for a in out.atoms(SquaredDistance)})

    @property
    def rewritten(self) -> bool:
        """True when the form has new atoms (squared distances); False when it is the expression as given
        (already in inner products only), or when there is no form."""
        return self.expr is not None and self.invariants is Invariants.DISTANCES

    def _invariants_tex(self) -> str:
        return self.invariants.latex(self.scalar)

    def _residual_md(self) -> str:
        shown = list(self.residual[:4]) + ([r"\ldots"] if len(self.residual) > 4 else [])
        return ", ".join(f"${r}$" for r in shown)

    def sentence(self) -> str:
        """One sentence (Markdown with inline math, broken over a few source lines; ASCII, valid in LaTeX text
        too)."""
        group = f"${self.group.latex()}$"
        if self.exists:
            if self.note:
                return self.note
            if isinstance(self.group, SpecialOrthogonal):  # a function of inner products is O(n) invariant
                group += f" (and under $\\mathrm{{O}}({sp.latex(self.group.n)})$)"
            return f"In the {self.invariants} ${self._invariants_tex()}$ only, manifestly invariant under {group}:"
        beyond = f"${self.title}$ depends on {self._residual_md()} beyond them"
        if self.decided and self.witness is not None:
            return (f"No form in the {self.invariants} ${self._invariants_tex()}$: {beyond}.\nWitness: "
                    f"{self.witness.markdown()},\nwhich a function of the {self.invariants} would not do.")
        return (f"Could not decide whether ${self.title}$ is a function of the {self.invariants} "
                f"${self._invariants_tex()}$: the rewrite leaves {self._residual_md()},\nand {self.note}.")

    def summary(self) -> str:
        """A short plain reading: ``"in the squared distances"``, ``"no: depends on ..."``, ``"undecided: ..."``."""
        if self.exists:
            return f"in the {self.invariants}"
        what = ", ".join(self.residual)
        return f"no: depends on {what} beyond the {self.invariants}" if self.decided else \
            f"undecided: {what} left in the rewrite; {self.note}"

    # --- printing -------------------------------------------------------------------------------------
    def rows(self) -> list[str]:
        """Rows of an ``aligned`` environment: the form and its definitions (empty when there is none)."""
        if self.expr is None:
            return []
        rows = equation_lines(self.title, self.expr)
        for s, v in self.definitions.items():
            rows += equation_lines(sp.latex(s), v)
        for d in entry_definitions(sp.Add(self.expr, *self.definitions.values())):
            lhs, _, rhs = d.partition(" = ")
            rows.append(f"{lhs} &= {rhs}")
        return rows

    def latex(self) -> str:
        """The form as one ``aligned`` environment, or a ``\\text`` line saying there is none."""
        if self.expr is not None:
            return aligned(self.rows())
        word = "no form" if self.decided else "undecided"
        return rf"\text{{{word} in the {self.invariants}: }} {self.title} \text{{ depends on }} " + \
            r",\ ".join(self.residual[:4]) + r" \text{ beyond them}"

    def markdown(self) -> str:
        """The sentence, then (when the form exists) the form as a display block, one row per line."""
        if self.expr is None:
            return self.sentence()
        return self.sentence() + "\n\n" + display_math(self.rows())

    def tex(self) -> str:
        """For a LaTeX document: the sentence and the form in ``\\[ ... \\]``."""
        if self.expr is None:
            return self.sentence()
        return self.sentence() + "\n\n\\[ " + self.latex() + " \\]"

    def _repr_latex_(self):
        return f"$${self.latex()}$$"

    def _repr_markdown_(self):
        return self.markdown()

    def __repr__(self):
        return f"InvariantForm({self.group!r}: {self.summary()})"


def _substituted(expr, definitions: Mapping) -> sp.Expr:
    """``expr`` with the named pieces replaced by their definitions until none is left (every level: a
    leftover name would hide its dependence on the points)."""
    out = expr
    for _ in range(len(definitions) + 1):
        if not (out.free_symbols & set(definitions)):
            return out
        out = out.xreplace(dict(definitions))
    raise SpecError("the definitions of the form refer to one another in a cycle")


def _title(pts: _Points) -> str:
    return "f(" + ", ".join(sp.latex(x) for x in pts.symbols) + ")"


def invariant_form(expr, points, group, *, title: str | None = None, seed: int = 0) -> InvariantForm:
    r"""``expr`` (a SymPy expression or a :class:`~.form.CorrelatorForm`) written in the invariants of
    ``group`` (a :class:`~symcorr.groups.Group`, or a name: ``"translations"``, ``"SO"``, ``"O(3)"``) acting on
    the symbolic ``points`` (``MatrixSymbol`` columns, or scalar symbols / one-entry lists for input dimension
    1), or why not (module docstring).  ``title``: the LaTeX left-hand side (a correlator form's own title by
    default); ``seed``: the witness's random points."""
    pts = _Points.of(points)
    grp = resolve_group(group, pts.dim, "group")
    kind = invariants_of(grp)
    form = expr if isinstance(expr, CorrelatorForm) else None
    if title is None:
        title = form.title if form is not None else _title(pts)
    common: dict[str, Any] = dict(title=title, group=grp, invariants=kind, scalar=pts.scalar)
    whole = _substituted(form.expr, form.definitions) if form is not None else sp.sympify(expr)
    if kind is Invariants.INNER_PRODUCTS and pts.dim == 1 and isinstance(grp, SpecialOrthogonal):
        note = f"${grp.latex()}$ is the trivial group: every expression is invariant under it."
        return InvariantForm(exists=True, decided=True, expr=whole, note=note, **common)
    if form is not None:
        main = _rewrite(form.expr, pts, kind)
        pieces = {}
        for sym, value in form.definitions.items():
            r = _rewrite(value, pts, kind)
            if r.expr is None:
                break
            pieces[sym] = r.expr
        else:
            if main.expr is not None:
                return InvariantForm(exists=True, decided=True, expr=main.expr, definitions=pieces, **common)
    r = _rewrite(whole, pts, kind)
    if r.expr is not None:
        return InvariantForm(exists=True, decided=True, expr=r.expr, **common)
    witness, why = _witness(whole, pts, kind, grp, seed)
    return InvariantForm(exists=False, decided=witness is not None, residual=r.residual, witness=witness,
                         note=why, **common)
