r"""Exact structure of the catalogue groups, as the prover needs it.

For a linear group :math:`G \subseteq O(n)` of the catalogue (SO, O, permutations S, signed
permutations B and stabilisers of vectors in any of them) this module gives

* a **rational basis of the Lie algebra** of the identity component.  For SO(n) and O(n) these are the
  plane generators :math:`e_j e_i^T - e_i e_j^T`; for a stabiliser of the vectors :math:`u_1, \dots`
  they are the wedges :math:`a b^T - b a^T` of a rational basis :math:`a, b` of the orthogonal
  complement :math:`\{u_1,\dots\}^\perp` (so no square roots appear);
* **discrete generators**: group elements which, together with the identity component, generate the
  group (the reflection for O(n), adjacent transpositions and one sign flip for B(n), ...).

A law, a mean vector or a covariance is invariant under the (connected) identity component iff it is
annihilated by the Lie algebra, and under the whole group iff in addition every discrete generator
leaves it unchanged.  This is how invariance is decided *exactly* for every element of a continuous
group.

It also provides exact **witness elements** (a plane rotation with :math:`\cos\alpha = 3/5`,
:math:`\sin\alpha = 4/5`, an angle that is an irrational multiple of :math:`\pi`, so its powers are dense
in the rotations of its plane: anything it leaves invariant is invariant under the whole plane), and the
**partial order** of the catalogue (:func:`is_subgroup`), decided from generators.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import sympy as sp
import torch

from ..errors import SpecError
from ..groups import (ExplicitGroup, Group, Orthogonal, Parity, Permutations, SignedPermutations, SpecialOrthogonal,
                      Stabilizer, Translations, resolve_group)
from ..spec import Network
from ..verdicts import Side

__all__ = [
    "Family", "LieGenerator", "catalogue_group", "family", "stabilised_vectors", "root_group", "concrete_dim", "lie_algebra",
    "discrete_generators", "is_trivial", "plane_rotation", "witness_elements", "is_subgroup",
    "size_key", "element_letter", "is_signed_permutation", "is_permutation",
]

#: the cosine and sine of the witness rotation angle (a Pythagorean triple: exact and rational)
COS_ALPHA = sp.Rational(3, 5)
SIN_ALPHA = sp.Rational(4, 5)


@dataclass(frozen=True)
class LieGenerator:
    """A Lie-algebra element :math:`L = a b^T - b a^T` (antisymmetric), kept with its plane ``(a, b)``."""

    matrix: sp.ImmutableMatrix
    a: sp.ImmutableMatrix
    b: sp.ImmutableMatrix


def root_group(group: Group) -> Group:
    """The catalogue group a (possibly nested) stabiliser lives in."""
    while isinstance(group, Stabilizer):
        group = group.parent
    return group


class Family(StrEnum):
    """The catalogue family of a group (a stabiliser belongs to its parent's family)."""

    SO = "SO"
    O = "O"  # noqa: E741 -- the orthogonal group's name
    S = "S"  # permutations
    B = "B"  # signed permutations
    T = "T"  # translations

    @property
    def is_rotation(self) -> bool:
        """SO or O: a continuous group of rotations (and reflections)."""
        return self in (Family.SO, Family.O)

    @property
    def is_permutation(self) -> bool:
        """S or B: a finite group of (signed) permutation matrices."""
        return self in (Family.S, Family.B)


_FAMILY_OF = ((SpecialOrthogonal, Family.SO), (Orthogonal, Family.O), (SignedPermutations, Family.B),
              (Permutations, Family.S), (Translations, Family.T))


def family(group: Group) -> Family:
    """The :class:`Family` of ``group``; a SpecError for groups outside the catalogue.  A group known by
    its exact structure (:class:`~symcorr.groups.ExplicitGroup`: parity, sign flips, exact invariance
    groups) belongs to the family of its elements: O (orthogonal), B (signed permutations), S."""
    if isinstance(group, ExplicitGroup):
        return Family(group.family_name)
    root = root_group(group)
    for kind, fam in _FAMILY_OF:
        if isinstance(root, kind):
            return fam
    raise SpecError(f"group {group!r} is not in the catalogue (SO, O, S, B, translations, stabilisers)")


def catalogue_group(network: Network, group, on: Side | str) -> Group:
    """The prover's group resolution: ``group`` (a :class:`~symcorr.groups.Group` or a name such as
    ``"SO"``) resolved on the ``on`` side of ``network`` (:func:`symcorr.groups.resolve_group`) and checked
    to be a group of the catalogue (a SpecError otherwise)."""
    group = resolve_group(group, network.dimension(on))
    family(group)
    return group


def stabilised_vectors(group: Group) -> list[sp.Matrix]:
    """The vectors a (nested) stabiliser fixes (empty for a plain catalogue group)."""
    out = []
    while isinstance(group, Stabilizer):
        out.append(sp.Matrix(group.vector))
        group = group.parent
    return out[::-1]


def concrete_dim(group: Group) -> int | None:
    return group.n if isinstance(group.n, int) else None


def _require_dim(group: Group, what: str) -> int:
    n = concrete_dim(group)
    if n is None:
        raise SpecError(f"{what} needs a concrete dimension, got {group!r}")
    return n


def _unit(n: int, i: int) -> sp.Matrix:
    return sp.Matrix([1 if j == i else 0 for j in range(n)])


def _complement_basis(n: int, vectors: list[sp.Matrix]) -> list[sp.Matrix]:
    """A basis (rational when the vectors are) of the orthogonal complement of ``vectors``."""
    if not vectors:
        return [_unit(n, i) for i in range(n)]
    rows = sp.Matrix.vstack(*[v.T for v in vectors])
    return [sp.Matrix(v) for v in rows.nullspace()]


def _wedge(a: sp.Matrix, b: sp.Matrix) -> sp.ImmutableMatrix:
    return sp.ImmutableMatrix(a * b.T - b * a.T)


def lie_algebra(group: Group) -> list[LieGenerator]:
    r"""A basis of the Lie algebra of the identity component (empty for finite groups).

    SO(n), O(n): :math:`L_{ij} = e_j e_i^T - e_i e_j^T` (the convention of
    :meth:`symcorr.groups.SpecialOrthogonal.generators`); stabilisers: wedges of a basis of the
    orthogonal complement of the fixed vectors.
    """
    if not family(group).is_rotation:
        return []
    n = _require_dim(group, "the Lie algebra")
    if isinstance(group, ExplicitGroup):
        return [LieGenerator(_wedge(sp.Matrix(a), sp.Matrix(b)), sp.ImmutableMatrix(a), sp.ImmutableMatrix(b))
                for a, b in group.lie_planes()]
    basis = _complement_basis(n, stabilised_vectors(group))
    out = []
    for i in range(len(basis)):
        for j in range(i + 1, len(basis)):
            a, b = basis[j], basis[i]
            out.append(LieGenerator(_wedge(a, b), sp.ImmutableMatrix(a), sp.ImmutableMatrix(b)))
    return out


def _transposition(n: int, i: int, j: int, sign: int = 1) -> sp.Matrix:
    m = sp.eye(n)
    m[i, i] = m[j, j] = 0
    m[i, j] = m[j, i] = sign
    return m


def _flip(n: int, i: int) -> sp.Matrix:
    m = sp.eye(n)
    m[i, i] = -1
    return m


def discrete_generators(group: Group) -> list[sp.Matrix]:
    """Group elements that generate the group together with its identity component."""
    fam = family(group)
    if fam is Family.T:
        return []
    n = _require_dim(group, "discrete generators")
    if isinstance(group, ExplicitGroup):
        return [sp.Matrix(g) for g in group.discrete_generators()]
    vecs = stabilised_vectors(group)
    if fam is Family.SO:
        return []
    if fam is Family.O:
        comp = _complement_basis(n, vecs)
        if not comp:
            return []
        a = comp[0]
        return [sp.eye(n) - 2 * a * a.T / (a.T * a)[0, 0]]  # the reflection along a, fixing every u
    # permutation families: classes of coordinates by the tuple of the fixed vectors' entries
    keys = [tuple(sp.nsimplify(v[i]) for v in vecs) for i in range(n)]
    gens: list[sp.Matrix] = []
    if fam is Family.S:
        classes: dict = {}
        for i, k in enumerate(keys):
            classes.setdefault(k, []).append(i)
        for idx in classes.values():
            gens += [_transposition(n, idx[t], idx[t + 1]) for t in range(len(idx) - 1)]
        return gens
    # B: a signed permutation g with g u = u maps coordinate i to j with sign s_i, where u_j = s_i u_i
    classes = {}
    for i, k in enumerate(keys):
        canon = k
        neg = tuple(-v for v in k)
        if any(v != 0 for v in k):
            first = next(v for v in k if v != 0)
            if first.is_negative:
                canon = neg
        classes.setdefault(canon, []).append(i)
    for canon, idx in classes.items():
        if all(v == 0 for v in canon):
            gens += [_transposition(n, idx[t], idx[t + 1]) for t in range(len(idx) - 1)]
            gens.append(_flip(n, idx[0]))
            continue
        plus = [i for i in idx if keys[i] == canon]
        minus = [i for i in idx if keys[i] != canon]
        gens += [_transposition(n, plus[t], plus[t + 1]) for t in range(len(plus) - 1)]
        gens += [_transposition(n, minus[t], minus[t + 1]) for t in range(len(minus) - 1)]
        if plus and minus:
            gens.append(_transposition(n, plus[0], minus[0], sign=-1))
    return gens


def is_trivial(group: Group) -> bool | None:
    """True for the trivial group (e.g. SO(1), or the stabiliser of a vector in SO(2))."""
    if family(group) is Family.T:
        return False
    if concrete_dim(group) is None:
        return None
    return lie_dimension(group) == 0 and not discrete_generators(group)


def lie_dimension(group: Group) -> int:
    r"""The dimension of :func:`lie_algebra` without building it: :math:`k(k-1)/2` for rotations of the
    :math:`k`-dimensional complement of the fixed vectors (SO(784) has 306,936 generators of 784 x 784:
    deciding triviality must not enumerate them), 0 for finite groups."""
    if not family(group).is_rotation:
        return 0
    n = _require_dim(group, "the Lie algebra")
    if isinstance(group, ExplicitGroup):
        return len(group.lie_planes())
    k = len(_complement_basis(n, stabilised_vectors(group)))
    return k * (k - 1) // 2


def plane_rotation(gen: LieGenerator, n: int | None = None) -> sp.Matrix:
    r"""The rotation by :math:`\alpha` (:math:`\cos\alpha = 3/5`) in the plane of ``gen``:
    :math:`g = 1 + \sin\alpha\, L' + (1 - \cos\alpha) L'^2`, with :math:`L'` the unit generator of the
    plane (orthonormalised :math:`a, b`), so :math:`L'^3 = -L'` and :math:`g^Tg = 1`, :math:`\det g = 1`."""
    a = sp.Matrix(gen.a)
    b = sp.Matrix(gen.b)
    a1 = a / sp.sqrt((a.T * a)[0, 0])
    b1 = b - (a1.T * b)[0, 0] * a1
    b1 = b1 / sp.sqrt(sp.simplify((b1.T * b1)[0, 0]))
    unit = a1 * b1.T - b1 * a1.T
    n = n or a.rows
    g = sp.eye(n) + SIN_ALPHA * unit + (1 - COS_ALPHA) * unit * unit
    return g.applyfunc(sp.radsimp)


def element_letter(group: Group, on: Side | str = Side.INPUT) -> str:
    """The letter used for an element in proofs: R (rotations), P (permutations), c (translations)."""
    fam = family(group)
    if fam is Family.T:
        return "c"
    if fam.is_permutation:
        return "P"
    return "R" if Side.parse(on) is Side.INPUT else "\\rho "


def witness_elements(group: Group, limit: int = 4) -> list[tuple[sp.Matrix, str]]:
    """Concrete exact elements to test invariance with: plane rotations of the Lie algebra, then the
    discrete generators; for translations the shifts :math:`c = e_1/2` and :math:`c = (1,\\dots,1)/2`."""
    fam = family(group)
    n = _require_dim(group, "witness elements")
    if fam is Family.T:
        half = sp.Rational(1, 2)
        out = [(half * _unit(n, 0), "the shift")]
        if n > 1:
            out.append((half * sp.ones(n, 1), "the shift"))
        return out
    out = []
    for gen in lie_algebra(group)[: max(1, limit - 1)]:
        out.append((plane_rotation(gen, n), "a rotation by arccos(3/5) in the plane spanned by "
                    f"{list(gen.a)} and {list(gen.b)}"))
    for g in discrete_generators(group):
        out.append((g, "the generator " + sp.sstr(g.tolist())))
    return out[:limit]


def is_permutation(g: sp.Matrix) -> bool:
    return is_signed_permutation(g) and all(v >= 0 for v in g)


def is_signed_permutation(g: sp.Matrix) -> bool:
    g = sp.Matrix(g)
    if any(v not in (0, 1, -1) for v in g):
        return False
    return all(sum(1 for v in g.row(i) if v != 0) == 1 for i in range(g.rows)) and \
        all(sum(1 for v in g.col(j) if v != 0) == 1 for j in range(g.cols))


def _lie_contained(gens: list[LieGenerator], big: Group) -> bool:
    if not family(big).is_rotation:
        return not gens
    if isinstance(big, ExplicitGroup):
        return all(big.lie_contains(g.matrix) for g in gens)
    vecs = stabilised_vectors(big)
    return all(all(sp.simplify(x) == 0 for x in g.matrix * v) for g in gens for v in vecs)


def _contains_exact(group: Group, g: sp.Matrix) -> bool:
    t = torch.tensor([[float(sp.N(v, 30)) for v in g.row(i)] for i in range(g.rows)], dtype=torch.float64)
    return group.contains(t, atol=1e-9)


#: the inclusions between whole families (used for symbolic dimensions): SO ⊂ O, S ⊂ B ⊂ O
_FAMILY_ORDER = {(Family.SO, Family.SO), (Family.SO, Family.O), (Family.O, Family.O), (Family.S, Family.S),
                 (Family.S, Family.B), (Family.S, Family.O), (Family.B, Family.B), (Family.B, Family.O),
                 (Family.T, Family.T)}


def is_subgroup(small: Group, big: Group) -> bool | None:
    """Is ``small`` a subgroup of ``big``?  Decided from generators: the Lie algebra of ``small`` must lie
    in that of ``big`` and every discrete generator of ``small`` must be an element of ``big``.  For
    symbolic dimensions only the family order SO ⊂ O, S ⊂ B ⊂ O is used (None when it cannot tell)."""
    if Family.T in (family(small), family(big)):
        return family(small) is family(big) is Family.T and sp.simplify(sp.sympify(small.n) - big.n) == 0
    if sp.simplify(sp.sympify(small.n) - big.n) != 0:
        return False
    if concrete_dim(small) is None:
        if small == big:
            return True
        if isinstance(small, Parity) and not isinstance(big, (Stabilizer, SpecialOrthogonal, Permutations)):
            return True   # -1 is a signed permutation, an orthogonal map, a sign flip
        if isinstance(small, (Stabilizer, ExplicitGroup)) or isinstance(big, (Stabilizer, ExplicitGroup)):
            return None
        return (family(small), family(big)) in _FAMILY_ORDER
    if not _lie_contained(lie_algebra(small), big):
        return False
    return all(_contains_exact(big, g) for g in discrete_generators(small))


def _finite_order(group: Group) -> int:
    """Order of a finite catalogue group (S, B and their stabilisers)."""
    n = _require_dim(group, "the order")
    count = 0
    # count by brute force over the generated group for small n; closed forms for the plain groups
    fam = family(group)
    if not stabilised_vectors(group):
        return math.factorial(n) * (2 ** n if fam is Family.B else 1)
    vecs = stabilised_vectors(group)
    keys = [tuple(sp.nsimplify(v[i]) for v in vecs) for i in range(n)]
    if fam is Family.S:
        classes: dict = {}
        for k in keys:
            classes[k] = classes.get(k, 0) + 1
        count = 1
        for c in classes.values():
            count *= math.factorial(c)
        return count
    classes = {}
    for k in keys:
        canon = k
        if any(v != 0 for v in k) and next(v for v in k if v != 0).is_negative:
            canon = tuple(-v for v in k)
        classes[canon] = classes.get(canon, 0) + 1
    count = 1
    for canon, c in classes.items():
        count *= math.factorial(c) * (2 ** c if all(v == 0 for v in canon) else 1)
    return count


def size_key(group: Group) -> tuple:
    """A sort key, larger for larger groups: (dimension of the Lie algebra, number of connected
    components or order).  Consistent with inclusion: a proper subgroup never gets a larger key."""
    fam = family(group)
    n = concrete_dim(group)
    if isinstance(group, ExplicitGroup) and n is not None:
        return group.size_key()
    if n is None:
        if isinstance(group, ExplicitGroup):
            return (1, 0)
        return {Family.O: (3, 2), Family.SO: (3, 1), Family.B: (1, 2), Family.S: (1, 1), Family.T: (2, 0)}[fam]
    if fam.is_rotation:
        k = len(_complement_basis(n, stabilised_vectors(group)))
        dim = k * (k - 1) // 2
        comps = 2 if fam is Family.O and k >= 1 else 1
        return (dim, comps)
    if fam is Family.T:
        return (n, 0)
    return (0, _finite_order(group))
