r"""Group names: :func:`parse_group` (``"SO(3)"``, ``"O(D)"``, ``"translations"``, ``"parity"``, ... with
``fix=[...]`` for a stabiliser) and :func:`resolve_group`, the one place where a group argument meets
the space it acts on.  Dimensions go through the one expression parser
(:func:`symcorr.expressions.parse_expression`).
"""

from __future__ import annotations

import re

import sympy as sp

from ..errors import SpecError
from ..expressions import MAX_LENGTH, parse_expression, positive_integer_symbol
from .base import Group
from .catalogue import (Orthogonal, Permutations, SignedPermutations, SpecialOrthogonal, Stabilizer,
                        Translations)
from .exact import Parity, SignFlips

__all__ = ["parse_group", "resolve_group", "group_names"]


_GROUP_NAMES = {
    "so": SpecialOrthogonal, "special_orthogonal": SpecialOrthogonal, "rotations": SpecialOrthogonal,
    "o": Orthogonal, "orthogonal": Orthogonal,
    "t": Translations, "translations": Translations, "translation": Translations,
    "s": Permutations, "permutations": Permutations, "sym": Permutations,
    "b": SignedPermutations, "signed_permutations": SignedPermutations, "hyperoctahedral": SignedPermutations,
    "parity": Parity, "inversion": Parity, "z2": Parity,
    "sign_flips": SignFlips, "flips": SignFlips, "reflections": SignFlips,
}


def group_names() -> list[str]:
    """The names :func:`parse_group` knows (aliases included)."""
    return sorted(_GROUP_NAMES)


def _parse_dimension(arg: str, symbols: dict | None):
    """The dimension inside ``"SO(...)"``, through the one expression parser
    (:func:`symcorr.expressions.parse_expression`): a positive integer, a name from ``symbols`` or
    another name, which becomes a positive-integer symbol."""
    n = parse_expression(arg, "group", symbols=symbols or {}, unknown=positive_integer_symbol)
    if n.is_number:
        if not (n.is_integer and n >= 0):
            raise SpecError(f"group dimension must be a positive integer or a symbol name, got {arg!r}",
                            "group")
        return int(n)
    return n


def _dimension_expr(dim, where: str = "group"):
    """``dim`` (an int or a SymPy expression) for comparisons; a string is refused here (SymPy's
    ``sympify`` would run it)."""
    if isinstance(dim, str):
        raise SpecError(f"the dimension must be an integer or a SymPy symbol, got the string {dim!r}", where)
    return sp.sympify(dim, strict=True)


def parse_group(text: str, dim=None, symbols: dict | None = None, fix=None) -> Group:
    r"""Parse ``"SO(3)"``, ``"SO(D)"``, ``"SO"`` (dimension from ``dim``), ``"O(n)"``,
    ``"translations"``, ``"permutations"``, ``"signed_permutations"``, ``"parity"`` (:math:`x\mapsto\pm x`),
    ``"sign_flips"`` (diagonal :math:`\pm1` matrices); ``fix=[...]`` makes the
    stabiliser of that vector.  ``symbols`` resolves symbolic dimensions by name."""
    group: Group
    if isinstance(text, Group):
        group = text
    else:
        if not isinstance(text, str):
            raise SpecError(f"group must be a name such as 'SO(3)', got {text!r}", "group")
        if len(text) > MAX_LENGTH:
            raise SpecError(f"group name is {len(text)} characters long; use e.g. 'SO(3)'", "group")
        shown = repr(text if len(text) <= 60 else text[:57] + "...")
        m = re.fullmatch(r"\s*([A-Za-z_]+)\s*(?:\(\s*([^)]*)\s*\))?\s*", text)
        if not m:
            raise SpecError(f"cannot parse group {shown}; use e.g. 'SO(3)', 'O', 'translations'", "group")
        key = m.group(1).lower()
        if key not in _GROUP_NAMES:
            raise SpecError(f"unknown group {m.group(1)[:40]!r}; known: SO, O, translations, permutations, "
                            "signed_permutations, parity, sign_flips (and fix=[...] for a stabiliser)", "group")
        arg = m.group(2)
        if arg:
            n = _parse_dimension(arg, symbols)
        elif dim is not None:
            n = dim
        else:
            raise SpecError(f"group {shown} needs a dimension, e.g. '{m.group(1)[:40]}(3)'", "group")
        if dim is not None and arg and sp.simplify(sp.sympify(n) - _dimension_expr(dim)) != 0:
            raise SpecError(f"group {shown} acts on dimension {n}, but the space has dimension {dim}", "group")
        group = _GROUP_NAMES[key](n)
    if fix is not None:
        group = Stabilizer(group, fix)
    return group


def resolve_group(group, dim, where: str = "group") -> Group:
    """The one place where a group argument meets the space it acts on: ``group`` (a :class:`Group` or
    a name such as ``"SO"`` / ``"SO(3)"``, parsed with dimension ``dim``) checked to act on ``dim``
    (an int or a positive-integer symbol); a SpecError naming ``where`` otherwise."""
    if isinstance(group, str):
        return parse_group(group, dim=dim)
    if not isinstance(group, Group):
        raise SpecError(f"expected a group or a group name such as 'SO(3)', got {group!r}", where)
    if sp.simplify(sp.sympify(group.n) - _dimension_expr(dim, where)) != 0:
        raise SpecError(f"{group!r} acts on dimension {group.n}, but the space has dimension {dim}", where)
    return group


