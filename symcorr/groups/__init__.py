r"""Group actions: symbolic generic elements for proofs, exact structure, and seeded numeric samplers.

* :mod:`.base` -- :class:`Group` (the interface every group implements), :class:`GenericElement`,
  :func:`haar_orthogonal`;
* :mod:`.catalogue` -- the catalogue: :class:`SpecialOrthogonal` SO(n), :class:`Orthogonal` O(n),
  :class:`Translations`, :class:`Permutations` S(n), :class:`SignedPermutations` B(n) and the
  :class:`Stabilizer` of a vector in any of them;
* :mod:`.exact` -- groups known by their exact structure (:class:`ExplicitGroup`): :class:`Parity`
  :math:`\{\pm1\}`, :class:`SignFlips` :math:`\mathbb Z_2^n`, :class:`GeneratedGroup` and the input x
  output :class:`DirectProduct`;
* :mod:`.invariance` -- the exact invariance group of a law, :class:`InvarianceGroup` (e.g.
  ``O(1) x O(2)`` for the covariance ``diag(2, 1, 1)``);
* :mod:`.parse` -- :func:`parse_group` and :func:`resolve_group` (the one group resolution).

Actions: a matrix group acts on inputs by :math:`x \mapsto g x` and on outputs by :math:`f \mapsto g f`;
translations add :math:`c`.
"""

from .base import GenericElement, Group, haar_orthogonal
from .catalogue import (Orthogonal, Permutations, SignedPermutations, SpecialOrthogonal, Stabilizer, Translations,
                        rotation_matrix_2d)
from .exact import DirectProduct, ExplicitGroup, GeneratedGroup, Parity, SignFlips
from .invariance import Block, InvarianceGroup, trivial_group
from .parse import group_names, parse_group, resolve_group

__all__ = [
    "Group", "SpecialOrthogonal", "Orthogonal", "Translations", "Permutations", "SignedPermutations",
    "Stabilizer", "GenericElement", "parse_group", "resolve_group", "haar_orthogonal", "rotation_matrix_2d",
    "ExplicitGroup", "GeneratedGroup", "Parity", "SignFlips", "InvarianceGroup", "Block", "DirectProduct", "trivial_group",
    "group_names",
]
