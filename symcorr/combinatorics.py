r"""Combinatorics of correlators: set partitions, matchings and the moment-cumulant inversion.

One home for the enumerations that both frames use (the symbolic correlators, the parameter-space
moments of the prover and the Monte Carlo accumulators):

* :func:`set_partitions` -- every set partition :math:`\pi` of a list of slots (Bell numbers
  1, 1, 2, 5, 15, 52, 203, ...), optionally pruned by block size;
* :func:`perfect_matchings` -- the partitions into pairs (:math:`(n-1)!!` of them; Wick/Isserlis);
* :func:`partial_matchings` -- pairs plus unmatched singles (the terms of a Gaussian moment with a mean);
* :func:`moment_cumulant_coefficient` -- :math:`(-1)^{k-1}(k-1)!`, the weight of a k-block product in
  :math:`\kappa(X_1..X_n) = \sum_\pi (-1)^{|\pi|-1}(|\pi|-1)!\prod_{B\in\pi}E[\prod_{i\in B}X_i]`;
* :func:`joint_cumulant` -- that inversion for any moment function whose values support ``*`` and ``+``
  (SymPy expressions, floats or torch tensors).
"""

from __future__ import annotations

from itertools import combinations
from math import factorial
from typing import Any, Callable, Iterator, Sequence

__all__ = ["set_partitions", "perfect_matchings", "partial_matchings", "moment_cumulant_coefficient",
           "joint_cumulant"]


def set_partitions(items: Sequence, allowed: Callable[[int], bool] | None = None) -> Iterator[list[tuple]]:
    """All set partitions of ``items`` (a list of tuples, blocks in order of their first element).

    ``allowed(size)`` prunes blocks of sizes that cannot contribute (e.g. odd sizes for a zero-mean
    Gaussian), so the enumeration only visits surviving partitions.
    """
    items = list(items)
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for k in range(len(rest) + 1):
        if allowed is not None and not allowed(k + 1):
            continue
        for combo in combinations(rest, k):
            chosen = set(combo)
            remaining = [x for x in rest if x not in chosen]
            for tail in set_partitions(remaining, allowed):
                yield [(first, *combo)] + tail


def perfect_matchings(items: Sequence) -> Iterator[list[tuple]]:
    """All perfect matchings (partitions into pairs) of ``items``; none for an odd count."""
    return set_partitions(items, allowed=lambda s: s == 2)


def partial_matchings(n: int, perfect_only: bool = False) -> tuple:
    """All partial matchings of positions ``0..n-1`` as ``(pairs, singles)`` (1, 2, 4, 10, 26, 76, ...
    of them); with ``perfect_only`` only the :math:`(n-1)!!` perfect ones (none for odd ``n``)."""
    def rec(items):
        if not items:
            return [((), ())]
        first, rest = items[0], items[1:]
        out = []
        if not perfect_only:
            for pairs, singles in rec(rest):
                out.append((pairs, (first,) + singles))
        for i, other in enumerate(rest):
            for pairs, singles in rec(rest[:i] + rest[i + 1:]):
                out.append((((first, other),) + pairs, singles))
        return out
    return tuple(rec(tuple(range(n))))


def moment_cumulant_coefficient(n_blocks: int) -> int:
    r"""Coefficient :math:`(-1)^{k-1}(k-1)!` of a k-block product in the moment-cumulant inversion."""
    return (-1) ** (n_blocks - 1) * factorial(n_blocks - 1)


def joint_cumulant(moment: Callable[[tuple], Any], positions: Sequence) -> Any:
    r"""Joint cumulant :math:`\kappa(X_{p_1}..X_{p_n}) = \sum_\pi (-1)^{|\pi|-1}(|\pi|-1)!
    \prod_{B\in\pi} E[\prod_{i\in B} X_i]`; ``moment(block)`` returns the moment of a tuple of
    positions (a SymPy expression, a float or a tensor)."""
    total = None
    for part in set_partitions(list(positions)):
        prod = None
        for block in part:
            m = moment(tuple(block))
            prod = m if prod is None else prod * m
        term = moment_cumulant_coefficient(len(part)) * prod
        total = term if total is None else total + term
    return total
