r"""The one reduction tree of a blockwise run: a fixed binary tree over the block indices.

Floating-point addition is not associative, so a merged result depends on *which* partial results are
merged with which, in what order.  To make a run's result independent of how its blocks were grouped
into tasks, of how many workers ran them and of the order in which they finished, every path (serial,
distributed, resumed from a checkpoint) merges the per-block partial results along one tree that
depends only on the number of blocks ``n``:

* level 0 holds the leaves ``0 .. n-1`` (block ``j``'s own partial result);
* level ``k`` has :math:`n_k = \lceil n_{k-1}/2 \rceil` nodes; node ``(k, i)`` is
  ``merge(node(k-1, 2i), node(k-1, 2i+1))``, or node ``(k-1, 2i)`` itself when ``2i+1`` does not exist
  (an odd node out is carried up unchanged, no merge);
* the root is the single node of the top level :math:`K = \lceil\log_2 n\rceil`.

Node ``(k, i)`` covers the blocks :math:`[i\,2^k, \min((i+1)\,2^k, n))`; the spans of all nodes form a
laminar family (two spans are nested or disjoint).  A task that computes the blocks ``[a, b)`` reduces
them to the *maximal* nodes inside ``[a, b)`` (:func:`covering_nodes`, :func:`node_value`), and
:class:`TreeReducer` combines nodes arriving in any order, from any mix of tasks and saved checkpoints,
into the root.  Every node's value is the same expression of the leaves whoever computed it, so the
root is the same bits.  (``merge(a, b)`` may update ``a`` in place; ``a`` is always the lower-index
operand.)
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ..errors import SpecError

__all__ = ["level_sizes", "node_span", "covering_nodes", "node_value", "tree_reduce", "TreeReducer"]


def level_sizes(n: int) -> list[int]:
    """:math:`[n_0 = n, n_1, \\dots, n_K = 1]`, the number of nodes on each level."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SpecError(f"a blockwise run needs at least one block, got {n!r}", "blocks")
    sizes = [n]
    while sizes[-1] > 1:
        sizes.append(-(-sizes[-1] // 2))
    return sizes


def node_span(level: int, index: int, n: int) -> tuple[int, int]:
    """The blocks ``[start, stop)`` that node ``(level, index)`` covers."""
    start = index << level
    if level < 0 or index < 0 or start >= n:
        raise SpecError(f"node ({level}, {index}) is not in the tree of {n} blocks")
    return start, min(start + (1 << level), n)


def covering_nodes(a: int, b: int, n: int) -> list[tuple[int, int]]:
    """The maximal tree nodes whose spans partition ``[a, b)`` (``0 <= a < b <= n``), left to right."""
    if not 0 <= a < b <= n:
        raise SpecError(f"block interval [{a}, {b}) is not inside [0, {n})")
    top = len(level_sizes(n)) - 1
    out = []
    p = a
    while p < b:
        k = 0
        while k < top and p % (1 << (k + 1)) == 0 and min(p + (1 << (k + 1)), n) <= b:
            k += 1
        out.append((k, p >> k))
        p = min(p + (1 << k), n)
    return out


def node_value(leaf: Callable[[int], Any], merge: Callable[[Any, Any], Any], n: int, level: int,
               index: int) -> Any:
    """The value of node ``(level, index)`` computed from its leaves (``leaf(j)`` for each block)."""
    if level == 0:
        return leaf(index)
    sizes = level_sizes(n)
    left = node_value(leaf, merge, n, level - 1, 2 * index)
    if 2 * index + 1 < sizes[level - 1]:
        return merge(left, node_value(leaf, merge, n, level - 1, 2 * index + 1))
    return left


def tree_reduce(values: Sequence[Any], merge: Callable[[Any, Any], Any]) -> Any:
    """The root of the tree over ``values`` (the leaves in block order)."""
    n = len(values)
    return node_value(lambda j: values[j], merge, n, len(level_sizes(n)) - 1, 0)


class TreeReducer:
    """Combines tree nodes arriving in any order into the root (see the module docstring).

    ``add(level, index, value, tag)`` files one node; whenever a node and its sibling are both present
    they are merged (lower index first) into their parent, and an even node without a sibling moves up
    unchanged.  ``park(level, index, value) -> tag`` (optional) is called for every node that has to
    wait for its sibling, and for the root; ``release(tag)`` for the tags of nodes merged into a parent,
    after the parent was parked (a checkpoint saves parked nodes and deletes released ones, so a crash
    never loses a node that is not saved in some ancestor).  A node added with a tag (e.g. loaded from a
    checkpoint) is not parked again.  :attr:`done` is true once the root is known; :meth:`result`
    returns it.
    """

    def __init__(self, blocks: int, merge: Callable[[Any, Any], Any],
                 park: Callable[[int, int, Any], Any] | None = None,
                 release: Callable[[Any], None] | None = None):
        self.blocks = blocks
        self.sizes = level_sizes(blocks)
        self.top = len(self.sizes) - 1
        self.merge = merge
        self.park = park
        self.release = release
        self.pending: list[dict[int, tuple[Any, Any]]] = [{} for _ in self.sizes]
        self._root: tuple[Any, Any] | None = None
        self.covered = 0

    @property
    def done(self) -> bool:
        return self._root is not None

    def result(self) -> Any:
        if self._root is None:
            raise SpecError(f"the run is incomplete: {self.covered} of {self.blocks} blocks were reduced")
        return self._root[0]

    def _parked(self, level, index, value, tag):
        if tag is None and self.park is not None:
            tag = self.park(level, index, value)
        return value, tag

    def add(self, level: int, index: int, value: Any, tag: Any = None) -> None:
        start, stop = node_span(level, index, self.blocks)
        if self.covered + stop - start > self.blocks:
            raise SpecError("more blocks were reduced than the run has (a node was computed twice)")
        self.covered += stop - start
        released = []
        while True:
            if level == self.top:
                if self._root is not None:
                    raise SpecError("the root of the reduction tree was computed twice")
                self._root = self._parked(level, index, value, tag)
                break
            sibling = index ^ 1
            if sibling >= self.sizes[level]:          # an odd node out: carried up unchanged
                level, index = level + 1, index >> 1
                continue
            here = self.pending[level]
            if index in here:
                raise SpecError(f"tree node ({level}, {index}) was computed twice")
            if sibling not in here:
                here[index] = self._parked(level, index, value, tag)
                break
            other, other_tag = here.pop(sibling)
            released += [t for t in (other_tag, tag) if t is not None]
            left, right = (other, value) if sibling < index else (value, other)
            value, tag = self.merge(left, right), None
            level, index = level + 1, index >> 1
        if self.release is not None:
            for t in released:
                self.release(t)
