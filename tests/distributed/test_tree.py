"""symcorr.distributed.tree: the one reduction tree; its value does not depend on grouping or order."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symcorr.distributed import TreeReducer, covering_nodes, level_sizes, node_span, node_value, tree_reduce
from symcorr.errors import SpecError


def _shape(a, b):
    """A merge that records the shape of the tree: equal strings = the same merges in the same order."""
    return f"({a} {b})"


def test_level_sizes_and_spans():
    assert level_sizes(1) == [1]
    assert level_sizes(5) == [5, 3, 2, 1]
    assert level_sizes(8) == [8, 4, 2, 1]
    assert node_span(2, 1, 5) == (4, 5)          # the odd node out of level 1, carried up
    assert node_span(3, 0, 5) == (0, 5)
    with pytest.raises(SpecError):
        node_span(0, 5, 5)
    with pytest.raises(SpecError):
        level_sizes(0)


def test_tree_shape_is_fixed():
    assert tree_reduce(list("abcde"), _shape) == "(((a b) (c d)) e)"
    assert tree_reduce(list("abcdef"), _shape) == "(((a b) (c d)) (e f))"
    assert tree_reduce(["a"], _shape) == "a"


def test_tree_and_sequential_merges_differ_in_floating_point():
    """Why the tree must be fixed: two orders of the same float sums give different bits."""
    values = [1e16, 1.0, -1e16, 1.0]
    sequential = ((values[0] + values[1]) + values[2]) + values[3]
    assert tree_reduce(values, lambda a, b: a + b) != sequential


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.data())
def test_covering_nodes_partition_an_interval_maximally(n, data):
    a = data.draw(st.integers(0, n - 1))
    b = data.draw(st.integers(a + 1, n))
    nodes = covering_nodes(a, b, n)
    spans = [node_span(k, i, n) for k, i in nodes]
    assert spans[0][0] == a and spans[-1][1] == b
    assert all(s1[1] == s2[0] for s1, s2 in zip(spans, spans[1:]))
    top = len(level_sizes(n)) - 1
    for k, i in nodes:                            # maximal: the parent does not fit
        if k < top:
            ps, pe = node_span(k + 1, i // 2, n)
            assert ps < a or pe > b


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 200), st.data())
def test_any_grouping_order_and_resume_gives_the_same_tree(n, data):
    """Tasks of any sizes, completed in any order, some of their nodes 'resumed' first: the reducer
    performs exactly the merges of the fixed tree (same shape string)."""
    leaves = [str(j) for j in range(n)]
    expect = tree_reduce(leaves, _shape)
    cuts = sorted(data.draw(st.sets(st.integers(1, n - 1), max_size=min(n - 1, 30))) if n > 1 else [])
    bounds = [0, *cuts, n]
    tasks = list(zip(bounds[:-1], bounds[1:]))
    order = data.draw(st.permutations(range(len(tasks))))
    parked, released = [], []
    red = TreeReducer(n, _shape, park=lambda k, i, v: parked.append((k, i)) or (k, i), release=released.append)
    for t in order:
        a, b = tasks[t]
        for k, i in covering_nodes(a, b, n):
            red.add(k, i, node_value(lambda j: leaves[j], _shape, n, k, i))
    assert red.done and red.result() == expect
    assert set(released) <= set(parked) and len(parked) - len(released) == 1   # only the root stays saved


def test_a_node_twice_is_an_error():
    red = TreeReducer(4, _shape)
    red.add(0, 0, "a")
    with pytest.raises(SpecError):
        red.add(0, 0, "a")
    red2 = TreeReducer(3, _shape)
    red2.add(0, 2, "c")
    with pytest.raises(SpecError, match="incomplete"):
        red2.result()
