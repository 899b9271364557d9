r"""The exact invariance group of a law: :class:`InvarianceGroup` and its blocks.

* :class:`InvarianceGroup` -- the **exact invariance group of a law** (an
  :class:`~symcorr.groups.exact.ExplicitGroup`)

  .. math:: G = \{g \in A : g v = v\ (v\in\mathcal V),\ g X g^T = X\ (X\in\mathcal X)\}

  for an ambient group :math:`A` = O(n), B(n) (signed permutations) or S(n) (permutations), fixed
  vectors :math:`\mathcal V` (the mean vectors of a Gaussian law) and symmetric forms :math:`\mathcal X`
  (its covariance factors).  A Gaussian law is fixed by its mean and covariance, so this *is* the group
  of orthogonal maps that preserve it (not a catalogue entry that happens to be proven).

  Structure (ambient O(n)).  Every element fixes pointwise the smallest subspace :math:`K` that contains
  the fixed vectors and is invariant under every form (:math:`g X^k v = X^k g v = X^k v`: the Krylov
  closure), and preserves :math:`K^\perp`, which every form also preserves.  When the forms commute on
  :math:`K^\perp` they have joint eigenspaces :math:`E_1, \dots, E_r` there, and

  .. math:: G = \mathrm{O}(E_1)\times\cdots\times\mathrm{O}(E_r) \cong \mathrm{O}(k_1)\times\cdots\times\mathrm{O}(k_r),

  with Lie algebra :math:`\bigoplus_s \mathfrak{so}(E_s)` (dimension :math:`\sum_s k_s(k_s-1)/2`, basis:
  the wedges :math:`ab^T - ba^T` of a basis of each :math:`E_s`) and one reflection per block as discrete
  generators (:math:`2^r` components).  Everything is computed exactly: :math:`K` and its complement
  rationally, the eigenspaces from the factorised characteristic polynomials (a factor of degree above 2
  is refused with a SpecError: its eigenvectors have no radical form).  Non-commuting forms are refused
  too (the centraliser is then a product of O, U and Sp blocks, not handled here).

  Structure (ambient B(n) or S(n), iid non-Gaussian laws): the forms must be diagonal; coordinates fall
  into classes of equal form entries and equal fixed-vector entries (up to one common sign, for B), and
  :math:`G` permutes each class (with signs where the vectors vanish): e.g. ``B(1) x S(2)``.

  ``inversion=True`` adjoins :math:`-1` (the group :math:`G\times\{\pm1\}` when :math:`-1\notin G`): a
  parity proven by another parameter map (:mod:`symcorr.duality.absorb`) enlarges the law's group.
* :func:`trivial_group` -- the trivial group ``1``.

``sample`` is Haar on each block (QR of a Gaussian matrix per block); ``contains`` is numeric to a
tolerance; ``generators`` lists the Lie-algebra basis, then the discrete generators.
"""

from __future__ import annotations

import functools
import math
from enum import StrEnum

import sympy as sp
import torch

from ..errors import SpecError
from .base import GenericElement, haar_orthogonal, orthogonality_defect
from .catalogue import is_signed_permutation_tensor
from .exact import ExplicitGroup, as_float, exact_matrix, exact_vector, wedge

__all__ = ["InvarianceGroup", "Ambient", "Block", "trivial_group", "MAX_ROOT_DEGREE"]

#: the largest degree of an irreducible factor of a characteristic polynomial whose roots are taken
MAX_ROOT_DEGREE = 2


def _reflection(a: sp.Matrix) -> sp.ImmutableMatrix:
    n = a.rows
    return sp.ImmutableMatrix((sp.eye(n) - 2 * a * a.T / (a.T * a)[0, 0]).applyfunc(sp.radsimp))


# ----------------------------------------------------------------------------------------------------
# exact linear algebra
# ----------------------------------------------------------------------------------------------------
def _column_space(vectors: list[sp.Matrix], n: int) -> sp.Matrix:
    """A basis (columns, exact) of the span of ``vectors`` (an ``n x 0`` matrix for none)."""
    vecs = [sp.Matrix(v) for v in vectors if any(x != 0 for x in v)]
    if not vecs:
        return sp.zeros(n, 0)
    m = sp.Matrix.hstack(*vecs)
    cols = m.columnspace(simplify=True)
    return sp.Matrix.hstack(*cols) if cols else sp.zeros(n, 0)


def _krylov(vectors: list[sp.Matrix], forms: list[sp.Matrix], n: int) -> sp.Matrix:
    """The smallest subspace containing ``vectors`` and invariant under every form."""
    basis = _column_space(vectors, n)
    while True:
        images = [basis[:, j] for j in range(basis.cols)] + [x * basis[:, j] for x in forms for j in range(basis.cols)]
        new = _column_space(images, n)
        if new.cols == basis.cols:
            return basis
        basis = new


def _complement(basis: sp.Matrix, n: int) -> sp.Matrix:
    if basis.cols == 0:
        return sp.eye(n)
    null = basis.T.nullspace(simplify=True)
    return sp.Matrix.hstack(*null) if null else sp.zeros(n, 0)


def _restricted(x: sp.Matrix, basis: sp.Matrix) -> sp.Matrix:
    """The matrix of ``x`` restricted to the invariant column space of ``basis``, in that basis."""
    gram = basis.T * basis
    return (gram.inv() * basis.T * x * basis).applyfunc(sp.radsimp)


def _restricted_coords(a: sp.Matrix, w: sp.Matrix) -> sp.Matrix:
    """``a`` restricted to its invariant column space ``w`` (any basis), in that basis: the solution of
    :math:`a w = w c`."""
    return ((w.T * w).inv() * w.T * a * w).applyfunc(sp.radsimp)


def _split(basis: sp.Matrix, x: sp.Matrix, where: str) -> list[tuple[sp.Expr, sp.Matrix]]:
    """The eigenspaces of ``x`` inside the invariant subspace ``basis``: [(eigenvalue, basis)]."""
    a = _restricted(x, basis)
    k = a.rows
    char = a.charpoly(sp.Symbol("lambda_"))
    lam = char.gens[0]
    factors = sp.factor_list(char.as_expr(), lam)[1]
    for factor, _ in factors:
        if sp.degree(factor, lam) > MAX_ROOT_DEGREE:
            raise SpecError(f"the form has eigenvalues that are roots of an irreducible polynomial of degree "
                            f"{sp.degree(factor, lam)}; the exact group needs them in closed form (degree <= "
                            f"{MAX_ROOT_DEGREE})", where)
    out = []
    for factor, _ in factors:
        # ker p(a) is rational; the eigenspaces of the roots of p lie in it
        coeffs = sp.Poly(factor, lam).all_coeffs()
        pa = sp.zeros(k, k)
        for c in coeffs:
            pa = pa * a + c * sp.eye(k)
        kernel = pa.nullspace(simplify=True)
        if not kernel:
            continue
        w = sp.Matrix.hstack(*kernel)
        aw = _restricted_coords(a, w)
        for root in sp.roots(sp.Poly(factor, lam), multiple=False):
            vecs = (aw - root * sp.eye(w.cols)).applyfunc(sp.radsimp).nullspace(simplify=True)
            cols = [(basis * (w * sp.Matrix(v))).applyfunc(sp.radsimp) for v in vecs]
            if cols:
                out.append((sp.radsimp(root), sp.Matrix.hstack(*cols)))
    if sum(b.cols for _, b in out) != basis.cols:
        raise SpecError("the form is not diagonalisable on the subspace", where)
    return out


def _projector(basis: sp.Matrix) -> sp.ImmutableMatrix:
    return sp.ImmutableMatrix((basis * (basis.T * basis).inv() * basis.T).applyfunc(sp.radsimp))


def _pivot(basis: sp.Matrix) -> int:
    return next(i for i in range(basis.rows) if any(sp.simplify(basis[i, j]) != 0 for j in range(basis.cols)))


class Block:
    r"""One factor :math:`\mathrm{O}(E)` of an :class:`InvarianceGroup`: the subspace :math:`E` (an exact
    basis, columns), its dimension and the eigenvalues of the forms on it."""

    def __init__(self, basis: sp.Matrix, eigenvalues: tuple):
        self.basis = sp.ImmutableMatrix(basis)
        self.dim = basis.cols
        self.eigenvalues = tuple(eigenvalues)
        self.projector = _projector(basis)

    def __repr__(self):
        return f"O({self.dim}) on span{[list(self.basis[:, j]) for j in range(self.dim)]}"

    def planes(self):
        cols = [sp.ImmutableMatrix(self.basis[:, j]) for j in range(self.dim)]
        return [(cols[j], cols[i]) for i in range(len(cols)) for j in range(i + 1, len(cols))]


# ----------------------------------------------------------------------------------------------------
# the exact invariance group
# ----------------------------------------------------------------------------------------------------
class Ambient(StrEnum):
    """The group an :class:`InvarianceGroup` lives in: orthogonal maps, signed permutations, permutations."""

    O = "O"  # noqa: E741 -- the orthogonal group's name
    B = "B"
    S = "S"


class InvarianceGroup(ExplicitGroup):
    r"""The group :math:`\{g \in A : g v = v,\ g X g^T = X\}` (see the module docstring).

    ``fixed``: vectors every element fixes; ``forms``: symmetric matrices every element preserves (for
    orthogonal g, :math:`gXg^T = X \iff gX = Xg`); ``ambient``: ``"O"`` (orthogonal maps), ``"B"``
    (signed permutations) or ``"S"`` (permutations); ``inversion``: adjoin :math:`-1`.  Exact entries
    (numbers become rationals); a SpecError when the structure cannot be computed exactly (symbols,
    non-commuting forms, eigenvalues of degree above 2, non-diagonal forms with a finite ambient).
    """

    is_orthogonal = True
    blocks: tuple[Block, ...]
    #: finite ambients: the coordinate classes, ``((index, sign), ...)`` and whether the fixed vectors
    #: vanish on the class (then its signs are free)
    classes: tuple[tuple[tuple[tuple[int, int], ...], bool], ...]
    fixed_space: sp.ImmutableMatrix

    def __init__(self, n, fixed=(), forms=(), ambient: "Ambient | str" = "O", inversion: bool = False):
        super().__init__(n)
        n = self._concrete_n("an exact invariance group")
        if ambient not in tuple(Ambient):
            raise SpecError(f"ambient must be one of {', '.join(Ambient)}, got {ambient!r}", "ambient")
        self.ambient = Ambient(ambient)
        self.family_name = str(self.ambient)
        self.is_finite = self.ambient is not Ambient.O
        self.fixed = tuple(exact_vector(v, n, f"fixed[{k}]") for k, v in enumerate(fixed))
        self.forms = tuple(exact_matrix(x, f"forms[{k}]") for k, x in enumerate(forms))
        for k, x in enumerate(self.forms):
            if x.shape != (n, n) or x != x.T:
                raise SpecError(f"forms[{k}] must be a symmetric {n} x {n} matrix", f"forms[{k}]")
        for what, items in (("fixed", self.fixed), ("forms", self.forms)):
            for k, m in enumerate(items):
                if m.free_symbols:
                    raise SpecError(f"{what}[{k}] has symbols {sorted(map(str, m.free_symbols))}; the exact group "
                                    "needs numbers (substitute values first)", f"{what}[{k}]")
        self.inversion = bool(inversion)
        if self.ambient is Ambient.O:
            self._orthogonal_structure(n)
        else:
            self._finite_structure(n)
        if self.inversion and self._contains_minus_one():
            self.inversion = False  # -1 is already an element
        if self.inversion and self.ambient is Ambient.S:
            self.family_name = "B"  # -1 is a signed permutation, not a permutation

    # --- structure -----------------------------------------------------------------------------------
    def _orthogonal_structure(self, n: int) -> None:
        forms = [sp.Matrix(x) for x in self.forms]
        fixed = _krylov([sp.Matrix(v) for v in self.fixed], forms, n)
        self.fixed_space = sp.ImmutableMatrix(fixed)
        rest = _complement(fixed, n)
        spaces: list[tuple[tuple, sp.Matrix]] = [((), rest)] if rest.cols else []
        if len(forms) > 1 and rest.cols:
            restricted = [_restricted(x, rest) for x in forms]
            for i in range(len(forms)):
                for j in range(i + 1, len(forms)):
                    if (restricted[i] * restricted[j] - restricted[j] * restricted[i]).applyfunc(sp.simplify) != \
                            sp.zeros(rest.cols, rest.cols):
                        raise SpecError(f"forms[{i}] and forms[{j}] do not commute on the complement of the fixed "
                                        "vectors; the exact group of non-commuting forms (a product of O, U and Sp "
                                        "blocks) is not computed", "forms")
        for k, x in enumerate(forms):
            new = []
            for values, basis in spaces:
                for value, sub in _split(basis, x, f"forms[{k}]"):
                    new.append((values + (value,), sub))
            spaces = new
        blocks = [Block(b, vals) for vals, b in spaces]
        self.blocks = tuple(sorted(blocks, key=lambda blk: _pivot(blk.basis)))
        self.classes = ()

    def _finite_structure(self, n: int) -> None:
        for k, x in enumerate(self.forms):
            if any(x[i, j] != 0 for i in range(n) for j in range(n) if i != j):
                raise SpecError(f"forms[{k}] is not diagonal; the exact group inside the (signed) permutations "
                                "is computed for diagonal forms only", f"forms[{k}]")
        signed = self.ambient is Ambient.B
        keys = []
        for i in range(n):
            diag = tuple(x[i, i] for x in self.forms)
            vec = tuple(v[i] for v in self.fixed)
            keys.append((diag, vec))
        classes: dict[tuple, list[tuple[int, int]]] = {}
        for i, (diag, vec) in enumerate(keys):
            canon, sign = vec, 1
            if signed and any(v != 0 for v in vec) and next(v for v in vec if v != 0).is_negative:
                canon, sign = tuple(-v for v in vec), -1
            classes.setdefault((diag, canon), []).append((i, sign))
        self.classes = tuple((tuple(members), all(v == 0 for v in key[1])) for key, members in classes.items())
        self.blocks = ()
        self.fixed_space = sp.ImmutableMatrix(sp.zeros(n, 0))

    def _contains_minus_one(self) -> bool:
        if self.ambient is Ambient.O:
            return self.fixed_space.cols == 0
        return self.ambient is Ambient.B and all(free for _, free in self.classes)

    # --- identity and names --------------------------------------------------------------------------
    def _key(self):
        if self.ambient is Ambient.O:
            parts = tuple(sorted(str(tuple(b.projector)) for b in self.blocks))
        else:
            parts = tuple(sorted(str((tuple(i for i, _ in m), tuple(s for _, s in m), free)) for m, free in self.classes))
        return ("InvarianceGroup", self.n, self.ambient, parts, self.inversion)

    def factor_names(self) -> list[str]:
        """The factors of the group, e.g. ``["O(1)", "O(2)"]`` or ``["B(1)", "S(2)"]``."""
        if self.ambient is Ambient.O:
            out = [f"O({b.dim})" for b in self.blocks]
        else:
            out = []
            for members, free in self.classes:
                k = len(members)
                if self.ambient is Ambient.B and free:
                    out.append(f"B({k})")
                elif k >= 2:
                    out.append(f"S({k})")
        if self.inversion:
            out.append("Z2")
        return out

    def __repr__(self):
        names = self.factor_names()
        return " x ".join(names) if names else "1"

    def latex(self):
        names = self.factor_names()
        if not names:
            return r"\{1\}"
        tex = {"O": r"\mathrm{O}", "B": r"\mathrm{B}", "S": r"\mathrm{S}", "Z2": r"\mathbb Z_2"}
        parts = []
        for name in names:
            head, _, rest = name.partition("(")
            parts.append(tex[head] + (f"({rest}" if rest else ""))
        return r"\times ".join(parts)

    def describe(self) -> str:
        """The structure in words: the fixed space, each block with its basis and form eigenvalues, the Lie
        algebra and the discrete part."""
        lines = [f"{self!r} acting on R^{self.n} ({self.ambient} ambient)"]
        if self.ambient is Ambient.O:
            if self.fixed_space.cols:
                lines.append(f"fixed pointwise: span{[list(self.fixed_space[:, j]) for j in range(self.fixed_space.cols)]}")
            for b in self.blocks:
                ev = f" (form eigenvalues {', '.join(map(str, b.eigenvalues))})" if b.eigenvalues else ""
                cols = [list(b.basis[:, j]) for j in range(b.dim)]
                span = f"span{cols}" if b.dim <= 3 else f"the span of {b.dim} vectors {cols[0]}, {cols[1]}, ..."
                lines.append(f"O({b.dim}) on {span}{ev}")
            lines.append(f"Lie algebra: " + (" + ".join(f"so({b.dim})" for b in self.blocks if b.dim > 1) or "0")
                         + f", dimension {self.lie_dimension}")
            lines.append(f"discrete part: {len(self.blocks)} reflection(s), {self.components()} components")
        else:
            for members, free in self.classes:
                idx = [i + 1 for i, _ in members]
                kind = "signed permutations" if self.ambient is Ambient.B and free else "permutations"
                lines.append(f"{kind} of the coordinates {idx}")
            lines.append(f"order {self.components()}")
        if self.inversion:
            lines.append("and -1 (adjoined)")
        return "\n".join(lines)

    # --- exact structure -----------------------------------------------------------------------------
    def lie_planes(self):
        return [p for b in self.blocks for p in b.planes()]

    def discrete_generators(self):
        n = self.n
        gens: list[sp.ImmutableMatrix] = []
        if self.ambient is Ambient.O:
            gens = [_reflection(sp.Matrix(b.basis[:, 0])) for b in self.blocks]
        else:
            for members, free in self.classes:
                idx = [i for i, _ in members]
                sign = {i: s for i, s in members}
                for t in range(len(idx) - 1):
                    i, j = idx[t], idx[t + 1]
                    m = sp.eye(n)
                    m[i, i] = m[j, j] = 0
                    m[i, j] = m[j, i] = sign[i] * sign[j]
                    gens.append(sp.ImmutableMatrix(m))
                if self.ambient is Ambient.B and free:
                    m = sp.eye(n)
                    m[idx[0], idx[0]] = -1
                    gens.append(sp.ImmutableMatrix(m))
        if self.inversion:
            gens.append(sp.ImmutableMatrix(-sp.eye(n)))
        return gens

    def lie_contains(self, gen):
        """``gen`` antisymmetric, :math:`L v = 0` on the fixed space and :math:`[L, P_s] = 0` for every block
        projector (equivalently, ``gen`` is in :math:`\\bigoplus_s\\mathfrak{so}(E_s)`)."""
        gen = sp.Matrix(gen)
        if self.ambient is not Ambient.O:
            return all(v == 0 for v in gen)
        if (gen + gen.T).applyfunc(sp.simplify) != sp.zeros(self.n, self.n):
            return False
        if self.fixed_space.cols and (gen * self.fixed_space).applyfunc(sp.simplify) != sp.zeros(self.n, self.fixed_space.cols):
            return False
        return all((gen * b.projector - b.projector * gen).applyfunc(sp.simplify) == sp.zeros(self.n, self.n)
                   for b in self.blocks)

    def components(self):
        if self.ambient is Ambient.O:
            return 2 ** len(self.blocks) * (2 if self.inversion else 1)
        order = 1
        for members, free in self.classes:
            k = len(members)
            order *= math.factorial(k) * (2 ** k if self.ambient is Ambient.B and free else 1)
        return order * (2 if self.inversion else 1)

    # --- numerics ------------------------------------------------------------------------------------
    @functools.cached_property
    def _numeric(self):
        bases = [torch.linalg.qr(as_float(b.basis))[0] for b in self.blocks]
        projectors = [q @ q.T for q in bases]
        fixed = as_float(self.fixed_space) if self.fixed_space.cols else None
        fixed_q = torch.linalg.qr(fixed)[0] if fixed is not None else None
        forms = [as_float(x) for x in self.forms]
        vectors = [as_float(v).reshape(-1) for v in self.fixed]
        return bases, projectors, fixed_q, forms, vectors

    def sample(self, k, generator, dtype=torch.float64):
        n = self.n
        dev = generator.device
        if self.ambient is Ambient.O:
            bases, _, fixed_q, _, _ = self._numeric
            out = torch.zeros((k, n, n), dtype=dtype, device=dev)
            if fixed_q is not None:
                fq = fixed_q.to(dtype=dtype, device=dev)
                out = out + fq @ fq.T
            for q in bases:
                q = q.to(dtype=dtype, device=dev)
                o = haar_orthogonal(k, q.shape[1], generator, dtype)
                out = out + q @ o @ q.T
        else:
            out = torch.zeros((k, n, n), dtype=dtype, device=dev)
            for members, free in self.classes:
                idx = torch.tensor([i for i, _ in members], device=dev)
                ref = torch.tensor([float(s) for _, s in members], dtype=dtype, device=dev)
                m = len(members)
                perm = torch.argsort(torch.rand((k, m), generator=generator, device=dev), dim=-1)
                if self.ambient is Ambient.B and free:
                    sign = 2 * torch.randint(0, 2, (k, m), generator=generator, device=dev).to(dtype) - 1
                else:
                    sign = ref[None, :] / ref[perm]
                rows = idx[None, :].expand(k, m)
                out[torch.arange(k, device=dev)[:, None], rows, idx[perm]] = sign
        if self.inversion:
            s = 2 * torch.randint(0, 2, (k,), generator=generator, device=dev).to(dtype) - 1
            out = out * s[:, None, None]
        return out

    def _in_base(self, g: torch.Tensor, atol: float) -> torch.Tensor:
        _, projectors, _, forms, vectors = self._numeric
        ok = orthogonality_defect(g) <= atol
        if self.ambient is not Ambient.O:
            ok = ok & is_signed_permutation_tensor(g, atol, self.ambient is Ambient.B)
        for v in vectors:
            scale = max(1.0, float(v.abs().max()))
            ok = ok & ((g @ v - v).abs().amax(-1) <= atol * scale)
        for x in forms:
            scale = max(1.0, float(x.abs().max()))
            ok = ok & ((g @ x - x @ g).abs().amax(dim=(-1, -2)) <= atol * scale)
        for p in projectors:
            ok = ok & ((g @ p - p @ g).abs().amax(dim=(-1, -2)) <= atol)
        return ok

    def contains(self, g, atol=1e-8):
        g = torch.as_tensor(g, dtype=torch.float64)
        ok = self._in_base(g, atol)
        if self.inversion:
            ok = ok | self._in_base(-g, atol)
        return bool(ok.all())

    def _why_not(self, g, atol):
        g = torch.as_tensor(g, dtype=torch.float64)
        if float(orthogonality_defect(g).max()) > atol:
            return "it is not orthogonal"
        return "it moves a fixed vector or does not preserve a form"

    def generic_element(self, name="R"):
        r = sp.MatrixSymbol(name, self.n, self.n)
        rel = [sp.Eq(r.T * r, sp.Identity(self.n))]
        rel += [sp.Eq(r * sp.ImmutableMatrix(v), sp.ImmutableMatrix(v)) for v in self.fixed]
        rel += [sp.Eq(r * x, x * r) for x in self.forms]
        return GenericElement(r, rel, f"an element of {self!r}")

    def with_inversion(self) -> "InvarianceGroup":
        """The group generated by this one and :math:`-1`."""
        return InvarianceGroup(self.n, self.fixed, self.forms, self.ambient, inversion=True)


def trivial_group(n: int) -> InvarianceGroup:
    """The trivial group on :math:`\\mathbb R^n` (every vector fixed), written ``1``."""
    return InvarianceGroup(n, fixed=[sp.eye(n)[:, i] for i in range(n)])


