r"""The exact invariance group of the parameter law under the absorbed action, computed from the laws.

For a linear action on the inputs the absorbed map is :math:`W^0 \mapsto W^0g`; on the outputs
:math:`(W^L, b^L) \mapsto (gW^L, gb^L)` (:mod:`.absorb`).  The group of :math:`g \in O(n)` under which the
changed blocks keep their laws is read off the laws, block by block:

==========================================  =================================================================
law of the block                            what every element must do
==========================================  =================================================================
iid :math:`N(0, \sigma^2)`                  nothing (the trace form is invariant under O(n))
iid :math:`N(\mu, \sigma^2)`, :math:`\mu\ne0`  fix :math:`\mathbf 1` (the mean rows / columns are :math:`\mu\mathbf 1`)
:math:`N(M, \sigma^2 U\otimes V)`           fix every mean column (outputs) or row (inputs) of :math:`M`;
                                            preserve :math:`U` (outputs) or :math:`V` (inputs)
bias :math:`N(m, \sigma^2 C)`               fix :math:`m`, preserve :math:`C`
iid non-Gaussian, symmetric                 be a signed permutation (ambient B(n))
iid non-Gaussian, not symmetric             be a permutation (ambient S(n))
==========================================  =================================================================

and on the outputs a nonlinear last activation :math:`\phi` restricts the ambient further to the maps
commuting with it: signed permutations (odd :math:`\phi`) or permutations.  A Gaussian law is fixed by
its mean and covariance, and an orthogonal map preserving an iid non-Gaussian law is a (signed)
permutation (a row mixing two entries changes a cumulant of order :math:`\ge 3`), so the
:class:`~symcorr.groups.InvarianceGroup` built from these constraints is the **whole** invariance group of
the law under this map -- not the largest catalogue group that happens to be proven.

Symbols.  A mean vector :math:`\mu u` with a symbolic scale is taken as the direction :math:`u`, the group
for :math:`\mu \ne 0` (recorded in ``generic``; at :math:`\mu = 0` the group is larger); any other symbol
(in a covariance, or two independent symbols in a mean) leaves the group uncomputed, with the reason.

This module decides; :func:`symcorr.duality.render.law_group_text` writes the derivation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import sympy as sp

from ..distributions import Normal
from ..errors import SpecError
from ..groups import InvarianceGroup
from ..groups.invariance import Ambient
from ..spec import Network, ParameterBlock
from ..verdicts import Side
from .absorb import is_odd
from .exact import zero_status
from .invariance import Multiplication, _mean_vectors

__all__ = ["ConstraintKind", "Constraint", "LawGroup", "law_group"]


class ConstraintKind(StrEnum):
    """What a law demands of every element of the group."""

    FIXED = "fixed"                  # g v = v
    FORM = "form"                    # g X g^T = X
    SIGNED_PERMUTATION = "signed-permutation"   # g is a signed permutation
    PERMUTATION = "permutation"      # g is a permutation


class ConstraintSource(StrEnum):
    """Where a constraint comes from."""

    MEAN = "mean"                    # a mean vector of a Gaussian block
    COVARIANCE = "covariance"        # a covariance factor of a Gaussian block
    NON_GAUSSIAN = "non-gaussian"    # an iid non-Gaussian law
    ACTIVATION = "activation"        # a nonlinear last activation (outputs)


@dataclass(frozen=True)
class Constraint:
    """One demand on the group: its kind, the block (or activation) it comes from, and the vector or
    matrix it concerns (``None`` for the ambient constraints)."""

    kind: ConstraintKind
    source: ConstraintSource
    block: str
    value: sp.ImmutableMatrix | None = None
    name: str = ""          # e.g. "column 2 of the mean", "U", "C", "erf (odd)"


@dataclass(frozen=True)
class LawGroup:
    """The exact invariance group of the law under the absorbed action on ``on`` (``group`` is None when
    it could not be computed exactly; ``reason`` says why)."""

    on: Side
    group: InvarianceGroup | None
    constraints: tuple[Constraint, ...] = ()
    generic: tuple[sp.Expr, ...] = ()      # symbolic scales assumed non-zero
    reason: str | None = None

    @property
    def computed(self) -> bool:
        return self.group is not None


def _direction(v: sp.Matrix) -> tuple[sp.Matrix | None, sp.Expr | None, str | None]:
    """``(u, scale, reason)`` with ``v = scale * u``, ``u`` numeric (``scale`` None when ``v`` is numeric)."""
    v = sp.Matrix(v)
    if not v.free_symbols:
        return v, None, None
    first = next((x for x in v if zero_status(x) is not True), None)
    if first is None:
        return None, None, None
    u = (v / first).applyfunc(sp.simplify)
    if u.free_symbols:
        return None, None, (f"the mean vector {list(v)} has independent symbols; substitute values to compute the "
                            "exact group")
    return u, first, None


def _block_constraints(block: ParameterBlock, side: Multiplication, n: int) -> tuple[list[Constraint], list, str | None]:
    """The constraints of one changed block: (constraints, generic scales, reason when not computable)."""
    law = block.law
    out: list[Constraint] = []
    generic: list = []
    is_bias = len(block.shape) == 1
    if not isinstance(law, Normal):
        sym = law.is_symmetric
        if sym is None:
            return [], [], f"whether the law of {block.name} ({law.latex()}) is symmetric is undecided"
        kind = ConstraintKind.SIGNED_PERMUTATION if sym else ConstraintKind.PERMUTATION
        return [Constraint(kind, ConstraintSource.NON_GAUSSIAN, block.name, name=law.latex())], [], None
    if law.is_iid:
        s = zero_status(law.loc)
        if s is True:
            return [], [], None
        if s is None:
            generic.append(law.loc)
        return [Constraint(ConstraintKind.FIXED, ConstraintSource.MEAN, block.name, sp.ImmutableMatrix(sp.ones(n, 1)),
                           "the mean")], generic, None
    for part, index, v in _mean_vectors(law, n, is_bias, side):
        u, scale, reason = _direction(v)
        if reason is not None:
            return [], [], reason
        if u is None:
            continue
        if scale is not None:
            generic.append(scale)
        from_part = {"vector": "the mean vector", "column": f"column {index + 1} of the mean",
                     "row": f"row {index + 1} of the mean", "row-constant": "the mean rows", "scalar": "the mean"}
        out.append(Constraint(ConstraintKind.FIXED, ConstraintSource.MEAN, block.name, sp.ImmutableMatrix(u),
                              from_part.get(str(part), "the mean")))
    cov = law.cov if is_bias else (law.col_cov if side is Multiplication.RIGHT else law.row_cov)
    if cov is not None:
        if sp.Matrix(cov).free_symbols:
            return [], [], f"the covariance factor of {block.name} has symbols; substitute values to compute the exact group"
        name = "C" if is_bias else ("V" if side is Multiplication.RIGHT else "U")
        out.append(Constraint(ConstraintKind.FORM, ConstraintSource.COVARIANCE, block.name, sp.ImmutableMatrix(cov), name))
    return out, generic, None


def law_group(network: Network, on: Side | str) -> LawGroup:
    """The exact invariance group of the law of the blocks the absorbed linear action on ``on`` changes
    (see the module docstring)."""
    on = Side.parse(on)
    n = network.dimension(on)
    if not isinstance(n, int):
        return LawGroup(on, None, reason=f"the dimension {n} is symbolic")
    constraints: list[Constraint] = []
    generic: list = []
    if on is Side.INPUT:
        jobs = [(network.weight(0), Multiplication.RIGHT)]
    else:
        last = network.depth - 1
        act = network.layers[last].activation
        if act.name != "identity":
            odd = is_odd(act)
            if odd is None:
                return LawGroup(on, None, reason=f"whether the last activation ({act.name}) is odd is undecided")
            kind = ConstraintKind.SIGNED_PERMUTATION if odd else ConstraintKind.PERMUTATION
            constraints.append(Constraint(kind, ConstraintSource.ACTIVATION, act.name,
                                          name=f"{act.name} ({'odd' if odd else 'not odd'})"))
        jobs = [(network.weight(last), Multiplication.LEFT)]
        bias = network.bias(last)
        if bias is not None:
            jobs.append((bias, Multiplication.LEFT))
    for block, side in jobs:
        found, scales, reason = _block_constraints(block, side, n)
        if reason is not None:
            return LawGroup(on, None, tuple(constraints), reason=reason)
        constraints += found
        generic += scales
    kinds = {c.kind for c in constraints}
    ambient = (Ambient.S if ConstraintKind.PERMUTATION in kinds else
               (Ambient.B if ConstraintKind.SIGNED_PERMUTATION in kinds else Ambient.O))
    fixed = [c.value for c in constraints if c.kind is ConstraintKind.FIXED]
    forms = [c.value for c in constraints if c.kind is ConstraintKind.FORM]
    unique: list = []
    for s in generic:
        if all(sp.simplify(s - t) != 0 for t in unique):
            unique.append(s)
    try:
        group = InvarianceGroup(n, fixed, forms, ambient)
    except SpecError as err:
        return LawGroup(on, None, tuple(constraints), tuple(unique), reason=str(err))
    return LawGroup(on, group, tuple(constraints), tuple(unique))
