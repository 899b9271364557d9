r"""Groups acting on one axis of shaped inputs: cyclic shifts of a sequence or image axis, permutations of
tokens, sign flips and rotations of a feature axis.

An input point of a torch model is a tensor of some *event shape* (``(C, L)`` for ``nn.Conv1d``,
``(T, d)`` for a transformer).  An :class:`AxisGroup` is a matrix group :math:`G \subset O(n)` (the
``base``, any :class:`~symcorr.groups.Group` of symcorr.groups or of this module) acting on the axis
``axis`` of length :math:`n`, counted from the end of one point (``-1``: the last axis, ``-2``: the one
before; counting from the end keeps it unambiguous with batch axes in front):

.. math:: (g\cdot x)_{\dots i \dots} = \sum_j g_{ij}\, x_{\dots j \dots}\qquad(\text{the index } i
          \text{ at position } \mathtt{axis}).

Elements are :math:`n\times n` matrices, as for every linear group of symcorr (``sample``, ``contains``,
``check``, ``generators`` are the base group's), so the invariance tests treat them like any other
group.  The four actions:

* :class:`CyclicShifts` (:class:`CyclicGroup` :math:`\mathbb Z_n`): :math:`(C^kx)_i = x_{i-k \bmod n}`,
  a symmetry of circular convolutions followed by an exchangeable read-out;
* :class:`TokenPermutations` (the symmetric group :math:`S_n` on a token axis), the symmetry of
  attention without positional information;
* :class:`SignFlips` (:class:`SignFlipGroup`, diagonal :math:`\pm1` matrices, :math:`\mathbb Z_2^n`);
* :class:`FeatureRotations` (:math:`SO(n)` on a feature axis).

:func:`resolve_axis_group` is where a group meets the shape of the inputs it acts on (the axis must
exist and have length :math:`n`; flat inputs also take the groups of :mod:`symcorr.groups` by name).
The symbolic frame (:mod:`symcorr.duality`) reasons about flat inputs with the catalogue of
:mod:`symcorr.groups`; these groups serve the numeric frame.
"""

from __future__ import annotations

import sympy as sp
import torch

from .errors import SpecError
from .groups import GenericElement, Group, Orthogonal, Permutations, SignedPermutations, SpecialOrthogonal, \
    resolve_group

__all__ = ["CyclicGroup", "SignFlipGroup", "AxisGroup", "CyclicShifts", "TokenPermutations", "SignFlips",
           "FeatureRotations", "resolve_axis_group"]


def _as_batch(g) -> torch.Tensor:
    g = torch.as_tensor(g, dtype=torch.float64)
    return g[None] if g.ndim == 2 else g


# ----------------------------------------------------------------------------------------------------
# two finite matrix groups
# ----------------------------------------------------------------------------------------------------
class CyclicGroup(Group):
    r"""The cyclic group :math:`\mathbb Z_n` of the shifts :math:`C^k`, :math:`(C^kx)_i = x_{i-k \bmod n}`
    (permutation matrices with :math:`(C^k)_{ij} = 1` iff :math:`j = i - k \bmod n`)."""

    symbol = "Z"
    is_finite = True

    def shift(self, k: int, dtype=torch.float64) -> torch.Tensor:
        """The matrix :math:`C^k`."""
        n = self._concrete_n()
        return torch.roll(torch.eye(n, dtype=dtype), int(k), dims=0)

    def sample(self, k, generator, dtype=torch.float64):
        n = self._concrete_n()
        shifts = torch.randint(0, n, (k,), generator=generator, device=generator.device)
        eye = torch.eye(n, dtype=dtype, device=generator.device)
        rows = (torch.arange(n, device=generator.device)[None, :] - shifts[:, None]) % n  # row i of C^k is e_{i-k}
        return eye[rows]

    def contains(self, g, atol=1e-8):
        g = _as_batch(g)
        n = self._concrete_n("checking membership")
        if g.shape[-2:] != (n, n):
            return False
        for m in g:
            k = (-int(torch.argmax(m[0]))) % n
            if not torch.allclose(m, self.shift(k), atol=atol, rtol=0):
                return False
        return True

    def _why_not(self, g, atol):
        return "not a cyclic shift matrix C^k with (C^k x)_i = x_{i-k mod n}"

    def generic_element(self, name="C"):
        c = sp.MatrixSymbol(name, self.n, self.n)
        return GenericElement(c, [sp.Eq(c.T * c, sp.Identity(self.n))],
                              f"a cyclic shift of {self.n} coordinates (a power of the unit shift)")

    def generators(self):
        """The unit shift :math:`C`."""
        n = self._concrete_n("generators")
        return [sp.Matrix(n, n, lambda i, j: 1 if j == (i - 1) % n else 0)]

    def is_subgroup_of(self, other):
        if self == other:
            return True
        if not isinstance(other, Group) or other.n != self.n or isinstance(other, AxisGroup):
            return False
        if isinstance(other, SpecialOrthogonal):  # an n-cycle has determinant (-1)^(n-1)
            return isinstance(self.n, int) and self.n % 2 == 1
        return isinstance(other, (Permutations, SignedPermutations, Orthogonal))


class SignFlipGroup(Group):
    r""":math:`\mathbb Z_2^n`: the diagonal matrices with entries :math:`\pm1` (independent sign flips)."""

    symbol = "F"
    is_finite = True

    def sample(self, k, generator, dtype=torch.float64):
        n = self._concrete_n()
        signs = 2 * torch.randint(0, 2, (k, n), generator=generator, device=generator.device).to(dtype) - 1
        return torch.diag_embed(signs)

    def contains(self, g, atol=1e-8):
        g = _as_batch(g)
        n = self._concrete_n("checking membership")
        if g.shape[-2:] != (n, n):
            return False
        diag = torch.diagonal(g, dim1=-2, dim2=-1)
        off = g - torch.diag_embed(diag)
        return bool((off.abs() <= atol).all() and ((diag.abs() - 1).abs() <= atol).all())

    def _why_not(self, g, atol):
        return "not a diagonal matrix of signs +-1"

    def generic_element(self, name="S"):
        s = sp.MatrixSymbol(name, self.n, self.n)
        return GenericElement(s, [sp.Eq(s.T * s, sp.Identity(self.n))], f"a diagonal matrix of {self.n} signs")

    def generators(self):
        """The flips of one coordinate each."""
        n = self._concrete_n("generators")
        return [sp.diag(*[-1 if j == i else 1 for j in range(n)]) for i in range(n)]

    def is_subgroup_of(self, other):
        if self == other:
            return True
        if not isinstance(other, Group) or other.n != self.n or isinstance(other, AxisGroup):
            return False
        return isinstance(other, SignedPermutations) or (isinstance(other, Orthogonal)
                                                         and not isinstance(other, SpecialOrthogonal))


# ----------------------------------------------------------------------------------------------------
# a matrix group acting on one axis
# ----------------------------------------------------------------------------------------------------
class AxisGroup(Group):
    """``base`` acting on axis ``axis`` (negative: counted from the end) of every input point."""

    def __init__(self, base: Group, axis: int = -1):
        if not isinstance(base, Group) or not base.is_linear or isinstance(base, AxisGroup):
            raise SpecError(f"an axis action needs a matrix group (SO, O, S, B, cyclic shifts, sign flips), got "
                            f"{base!r}", "group")
        if isinstance(axis, bool) or not isinstance(axis, int) or axis >= 0:
            raise SpecError(f"count the axis from the end of one input point (-1: the last axis, -2: the one before), "
                            f"got {axis!r}", "axis")
        super().__init__(base.n)
        self.base = base
        self.axis = axis
        self.symbol = base.symbol
        self.is_orthogonal = base.is_orthogonal
        self.is_finite = base.is_finite

    def _key(self):
        return ("AxisGroup", self.base._key(), self.axis)

    def __repr__(self):
        return f"{self.base!r} on axis {self.axis}"

    def latex(self):
        return rf"{self.base.latex()}\ \text{{on axis {self.axis}}}"

    def subs(self, mapping):
        base = self.base.subs(mapping)
        return self if base == self.base else AxisGroup(base, self.axis)

    def sample(self, k, generator, dtype=torch.float64):
        return self.base.sample(k, generator, dtype)

    def identity(self, dtype=torch.float64):
        return self.base.identity(dtype)

    def contains(self, g, atol=1e-8):
        return self.base.contains(g, atol)

    def _why_not(self, g, atol):
        return self.base._why_not(g, atol)

    def _apply(self, g: torch.Tensor, x: torch.Tensor, what: str) -> torch.Tensor:
        if x.ndim < -self.axis or x.shape[self.axis] != self.n:
            raise SpecError(f"{self!r} acts on an axis of length {self.n}, but the {what} have shape "
                            f"{tuple(x.shape)}", "group")
        moved = torch.movedim(x, self.axis, -1) @ g.transpose(-1, -2).to(x.dtype)
        return torch.movedim(moved, -1, self.axis)

    def act_on_inputs(self, g, x):
        """``x`` (``(..., *event)``) with ``g`` applied along ``axis`` of each point."""
        return self._apply(g, x, "inputs")

    def act_on_outputs(self, g, f):
        return self._apply(g, f, "outputs")

    def generic_element(self, name="g"):
        return self.base.generic_element(name)

    def parametrized_element(self, prefix="a"):
        return self.base.parametrized_element(prefix)

    def generators(self):
        return self.base.generators()

    def is_subgroup_of(self, other):
        return isinstance(other, AxisGroup) and other.axis == self.axis and self.base.is_subgroup_of(other.base)


class CyclicShifts(AxisGroup):
    r"""Cyclic shifts :math:`x_{\dots i\dots} \mapsto x_{\dots i-k\dots}` (mod ``n``) of a sequence or image
    axis (default the last)."""

    def __init__(self, n, axis: int = -1):
        super().__init__(CyclicGroup(n), axis)


class TokenPermutations(AxisGroup):
    """All permutations of the tokens (default axis ``-2`` of ``(T, d)`` inputs)."""

    def __init__(self, n, axis: int = -2):
        super().__init__(Permutations(n), axis)


class SignFlips(AxisGroup):
    """Independent sign flips of the entries of a feature axis (default the last)."""

    def __init__(self, n, axis: int = -1):
        super().__init__(SignFlipGroup(n), axis)


class FeatureRotations(AxisGroup):
    """Rotations :math:`SO(n)` of a feature axis (default the last)."""

    def __init__(self, n, axis: int = -1):
        super().__init__(SpecialOrthogonal(n), axis)


def resolve_axis_group(group, shape: tuple, where: str = "group") -> Group:
    """The group acting on points of shape ``shape``: an :class:`AxisGroup` whose axis exists with the right
    length, or (flat points, ``len(shape) == 1``) any group of :mod:`symcorr.groups`, by name or object; a
    SpecError naming ``where`` otherwise."""
    shape = tuple(int(s) for s in shape)
    if isinstance(group, AxisGroup):
        if -group.axis > len(shape) or shape[group.axis] != group.n:
            raise SpecError(f"{group!r} needs an axis {group.axis} of length {group.n}, but the inputs have shape "
                            f"{shape}", where)
        return group
    if len(shape) == 1:
        return resolve_group(group, shape[0], where)
    raise SpecError(f"the inputs have shape {shape}: give a group acting on one axis, e.g. "
                    f"symcorr.tensor_groups.FeatureRotations({shape[-1]}, axis=-1), CyclicShifts, TokenPermutations "
                    f"or SignFlips, or AxisGroup(group, axis)", where)
