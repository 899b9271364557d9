r"""``symmetry_group``: the largest group of the catalogue for which the duality proof holds.

The catalogue on :math:`\mathbb R^n` and its partial order (inclusions; "⊃" reads "contains"):

.. code-block:: text

                          O(n)
                  /        |         \
              SO(n)    Stab_O(u)     B(n)  (signed permutations)
                  \     /     \      /   \
               Stab_SO(u)   Stab_B(u)    S(n) (permutations)
                                  \      /
                                 Stab_S(u)

    T(n) (translations, inputs only) is incomparable with all of them.

(and S(n) ⊂ Stab_O(u) when every permutation fixes u, e.g. u = (1, ..., 1)).  Stabilisers are taken
for the vectors the laws single out: the mean rows/columns of the relevant weight and bias, and the
directions of rank-one anisotropies of their covariance factors.  Candidates are tried from the
largest to the smallest (:func:`symcorr.duality.elements.size_key`: dimension, then number of
components / order) and the first one whose proof is established is returned.  Inclusions are decided
from generators (:func:`symcorr.duality.elements.is_subgroup`).

A candidate counts as proven when :func:`symcorr.duality.decision.decide_invariance` establishes it
(without the witness search); this module sits above the decision of one group and below
:func:`symcorr.duality.prove_invariance`, which uses :func:`largest_proven_subgroup` for the residual
group of a claim that is not proven.
"""

from __future__ import annotations

import sympy as sp
import torch

from ..distributions import Normal
from ..errors import SpecError
from ..groups import (DirectProduct, Group, InvarianceGroup, Orthogonal, Parity, Permutations, SignedPermutations, SpecialOrthogonal,
                      Stabilizer, Translations, trivial_group)
from ..spec import Network
from ..verdicts import CorrelatorKind, ProofVerdict, Side
from . import elements as el
from .decision import decide_invariance
from .elements import Family
from .law_group import law_group

__all__ = ["candidate_vectors", "candidate_groups", "exact_group", "group_answers", "symmetry_group",
           "symmetry_groups", "largest_proven_subgroup"]


def _normalise(v: sp.Matrix) -> sp.Matrix | None:
    v = sp.Matrix([sp.nsimplify(x) for x in v])
    if all(x == 0 for x in v):
        return None
    if any(x.free_symbols for x in v):
        # a symbolic vector: use its pattern of zero / non-zero entries scaled by the first symbol
        first = next(x for x in v if x != 0)
        v = (v / first).applyfunc(sp.simplify)
        if any(x.free_symbols for x in v):
            return None
        return v
    first = next(x for x in v if x != 0)
    return (v / first).applyfunc(sp.nsimplify)


def _covariance_directions(cov) -> list[sp.Matrix]:
    """Eigenvectors of simple eigenvalues of a concrete symmetric matrix (the rank-one directions)."""
    if cov is None:
        return []
    m = sp.Matrix(cov)
    if m.free_symbols:
        return []
    out = []
    for val, mult, vecs in m.eigenvects():
        if mult == 1 and m.rows > 1:
            out.append(vecs[0])
    return out


def candidate_vectors(network: Network, on: Side | str) -> list[sp.Matrix]:
    """Vectors whose stabilisers are worth trying: the law's mean directions and covariance directions."""
    raw: list[sp.Matrix] = []
    if Side.parse(on) is Side.INPUT:
        law = network.weight(0).law
        m = network.input_dim
        if not isinstance(m, int):
            return []
        loc = law.loc if isinstance(law, Normal) else law.mean
        if isinstance(loc, sp.MatrixBase):
            if loc.cols == 1:
                raw.append(sp.ones(m, 1))
            else:
                raw += [sp.Matrix(loc.row(i)).T for i in range(loc.rows)]
        elif sp.simplify(loc) != 0:
            raw.append(sp.ones(m, 1))
        if isinstance(law, Normal):
            raw += _covariance_directions(law.col_cov)
    else:
        last = network.depth - 1
        d = network.output_dim
        if not isinstance(d, int):
            return []
        blocks = [network.weight(last)] + ([network.bias(last)] if network.bias(last) is not None else [])
        for block in blocks:
            law = block.law
            loc = law.loc if isinstance(law, Normal) else law.mean
            if isinstance(loc, sp.MatrixBase):
                raw += [sp.Matrix(loc.col(j)) for j in range(loc.cols)]
            elif sp.simplify(loc) != 0:
                raw.append(sp.ones(d, 1))
            if isinstance(law, Normal):
                raw += _covariance_directions(law.row_cov if len(block.shape) == 2 else law.cov)
    out: list[sp.Matrix] = []
    for v in raw:
        nv = _normalise(v)
        if nv is not None and all(nv != w for w in out):
            out.append(nv)
    return out


def candidate_groups(network: Network, on: Side | str, *, include_translations: bool = False) -> list[Group]:
    """Catalogue groups acting on the ``on`` side, sorted from the largest to the smallest."""
    on = Side.parse(on)
    n = network.dimension(on)
    groups: list[Group] = [Orthogonal(n), SpecialOrthogonal(n), SignedPermutations(n), Permutations(n)]
    if isinstance(n, int):
        for u in candidate_vectors(network, on):
            for parent in (Orthogonal(n), SpecialOrthogonal(n), SignedPermutations(n), Permutations(n)):
                groups.append(Stabilizer(parent, list(u)))
    if include_translations and on is Side.INPUT:
        groups.append(Translations(n))
    unique: list[Group] = []
    for g in groups:
        if g not in unique and not (el.family(g) is not Family.T and el.is_trivial(g)):
            unique.append(g)
    linear = sorted([g for g in unique if el.family(g) is not Family.T], key=el.size_key, reverse=True)
    return linear + [g for g in unique if el.family(g) is Family.T]


def _proven(network, group, on, correlator, finite_width) -> bool:
    """Is the parameter-space proof (or the GP-kernel proof) established?  No witness search."""
    decision = decide_invariance(network, group, on, correlator, finite_width=finite_width, search_witness=False)
    return decision.verdict is ProofVerdict.PROVEN


def exact_group(network: Network, on: Side | str = Side.INPUT, *,
                correlator: CorrelatorKind | str = CorrelatorKind.FUNCTION,
                finite_width: bool = True) -> InvarianceGroup | None:
    r"""The exact invariance group of the law under the absorbed linear action
    (:func:`symcorr.duality.law_group.law_group`), once the prover has proven it, with :math:`-1` adjoined
    when parity is proven by another parameter map (a sign chain through an odd or even activation).
    None when the group cannot be computed exactly (symbols, non-commuting or high-degree covariances) or
    the proof does not go through (e.g. an NTK claim whose map is not orthogonal)."""
    on, correlator = Side.parse(on), CorrelatorKind.parse(correlator)
    found = law_group(network, on).group
    if found is None or not _proven(network, found, on, correlator, finite_width):
        return None
    n = found.n
    if not found.contains(-_identity(n)) and _proven(network, Parity(n), on, correlator, finite_width):
        bigger = found.with_inversion()
        if _proven(network, bigger, on, correlator, finite_width):
            return bigger
    return found


def _identity(n: int) -> torch.Tensor:
    return torch.eye(n, dtype=torch.float64)


def _larger(exact: Group | None, catalogue: Group | None) -> bool:
    """Is the exact group to be reported instead of the catalogue answer (larger or incomparable)?"""
    if exact is None or el.is_trivial(exact):
        return False
    if catalogue is None or el.family(catalogue) is Family.T:
        return True
    return el.is_subgroup(exact, catalogue) is not True


def symmetry_groups(network: Network, on: Side | str = Side.INPUT, *,
                    correlator: CorrelatorKind | str = CorrelatorKind.FUNCTION, finite_width: bool = True,
                    exact: bool = True) -> list[Group]:
    """All maximal proven groups (an antichain): the catalogue's and, with ``exact``, the law's exact group
    (:func:`exact_group`) when no catalogue group contains it; e.g. ``[SO(D), T(D)]`` for Cos-net's inputs,
    where rotations and translations are both proven and incomparable."""
    on, correlator = Side.parse(on), CorrelatorKind.parse(correlator)
    proven = [g for g in candidate_groups(network, on, include_translations=True)
              if _proven(network, g, on, correlator, finite_width)]
    if exact:
        found = exact_group(network, on, correlator=correlator, finite_width=finite_width)
        if found is not None and not el.is_trivial(found):
            proven.append(found)
    maximal: list[Group] = []
    for g in proven:
        if not any(h is not g and el.is_subgroup(g, h) and not el.is_subgroup(h, g) for h in proven):
            if all(not (el.is_subgroup(g, h) and el.is_subgroup(h, g)) for h in maximal):
                maximal.append(g)
    return maximal


def symmetry_group(network: Network, on: Side | str | None = Side.INPUT, *,
                   correlator: CorrelatorKind | str = CorrelatorKind.FUNCTION, finite_width: bool = True,
                   exact: bool = True) -> Group | None:
    """The largest proven linear group, or translations when no non-trivial linear group is (``None``:
    nothing non-trivial is proven).

    The catalogue groups are tried from the largest down; with ``exact`` (the default) the law's exact
    invariance group (:func:`exact_group`, e.g. ``O(1) x O(2)`` for a read-out row covariance
    ``diag(2, 1, 1)``) is returned instead when it is proven and larger than, or not comparable to, the
    catalogue answer.  Rotations and translations are incomparable; :func:`symmetry_groups` returns all
    maximal ones.

    ``on=None`` (or ``"both"``): the input x output group, a :class:`~symcorr.groups.DirectProduct` of the
    linear input and output groups (the trivial group ``1`` for a side without one); the two actions
    commute, so the product is a symmetry iff each factor is.
    """
    if on is None or (isinstance(on, str) and on.strip().lower() == "both"):
        parts = []
        for side in (Side.INPUT, Side.OUTPUT):
            g = symmetry_group(network, side, correlator=correlator, finite_width=finite_width, exact=exact)
            n = network.dimension(side)
            if g is None or el.family(g) is Family.T:
                if not isinstance(n, int):
                    raise SpecError(f"the {side} dimension {n} is symbolic; the product group needs numbers")
                g = trivial_group(n)
            parts.append(g)
        return DirectProduct(*parts)
    catalogue, found, reported = group_answers(network, on, correlator=correlator, finite_width=finite_width,
                                               exact=exact)
    return reported


def group_answers(network: Network, on: Side | str = Side.INPUT, *,
                  correlator: CorrelatorKind | str = CorrelatorKind.FUNCTION, finite_width: bool = True,
                  exact: bool = True) -> tuple[Group | None, InvarianceGroup | None, Group | None]:
    """``(catalogue answer, exact group, reported group)`` for one side, computed once: what
    :func:`symmetry_group` returns with and without ``exact``, and the exact group (None when not computed
    or not proven)."""
    on, correlator = Side.parse(on), CorrelatorKind.parse(correlator)
    catalogue = None
    for g in candidate_groups(network, on, include_translations=True):
        if _proven(network, g, on, correlator, finite_width):
            catalogue = g
            break
    found = exact_group(network, on, correlator=correlator, finite_width=finite_width) if exact else None
    return catalogue, found, (found if _larger(found, catalogue) else catalogue)


def largest_proven_subgroup(network: Network, group: Group, on: Side | str, *,
                            correlator: CorrelatorKind | str = CorrelatorKind.FUNCTION,
                            finite_width: bool = True) -> Group | None:
    """The largest catalogue subgroup of ``group`` (other than ``group`` itself) that is proven, e.g.
    the stabiliser Stab(u) ≅ SO(d-1) of a read-out mean vector inside SO(d)."""
    on, correlator = Side.parse(on), CorrelatorKind.parse(correlator)
    for g in candidate_groups(network, on):
        if g == group or el.is_subgroup(g, group) is not True:
            continue
        if _proven(network, g, on, correlator, finite_width):
            return g
    return None
