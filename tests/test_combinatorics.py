"""symcorr.combinatorics: set partitions, matchings and the moment-cumulant inversion."""

import math

import pytest
import sympy as sp
import torch
from hypothesis import given
from hypothesis import strategies as st

from symcorr.combinatorics import (joint_cumulant, moment_cumulant_coefficient, partial_matchings,
                                   perfect_matchings, set_partitions)

BELL = [1, 1, 2, 5, 15, 52, 203, 877]


@given(st.integers(min_value=0, max_value=7))
def test_set_partitions_count_bell_numbers_and_cover_every_item(n):
    parts = list(set_partitions(range(n)))
    assert len(parts) == BELL[n]
    assert len({tuple(map(tuple, p)) for p in parts}) == len(parts)
    for p in parts:
        assert sorted(i for block in p for i in block) == list(range(n))


def test_set_partitions_prune_block_sizes():
    parts = list(set_partitions(range(4), lambda s: s <= 2))
    assert len(parts) == 10  # 1 + 6 + 3 partitions of 4 items into blocks of size 1 or 2
    assert all(len(block) <= 2 for p in parts for block in p)


@given(st.integers(min_value=0, max_value=8))
def test_perfect_matchings_count(n):
    count = len(list(perfect_matchings(range(n))))
    want = 0 if n % 2 else math.prod(range(n - 1, 0, -2))
    assert count == want


def test_partial_matchings_counts():
    # telephone numbers and double factorials
    assert [len(partial_matchings(n)) for n in range(1, 7)] == [1, 2, 4, 10, 26, 76]
    assert [len(partial_matchings(n, True)) for n in range(1, 7)] == [0, 1, 0, 3, 0, 15]


def test_moment_cumulant_coefficients():
    assert [moment_cumulant_coefficient(k) for k in range(1, 6)] == [1, -1, 2, -6, 24]


def test_cumulant_formula():
    m = {(0,): 0.5, (1,): -0.2, (0, 1): 1.3}
    assert float(joint_cumulant(lambda b: torch.tensor(m[b]), (0, 1))) == pytest.approx(1.3 + 0.1)
    # zero means: kappa_4 = m_1234 - m_12 m_34 - m_13 m_24 - m_14 m_23
    pair = {(0, 1): 2.0, (2, 3): 3.0, (0, 2): 0.5, (1, 3): 0.7, (0, 3): 1.1, (1, 2): 0.3}

    def moment(block):
        if len(block) == 1 or len(block) == 3:
            return torch.tensor(0.0)
        if len(block) == 4:
            return torch.tensor(10.0)
        return torch.tensor(pair[block])
    want = 10.0 - 2.0 * 3.0 - 0.5 * 0.7 - 1.1 * 0.3
    assert float(joint_cumulant(moment, range(4))) == pytest.approx(want)


def test_joint_cumulant_of_a_normal_law_is_its_cumulant_symbolically():
    """kappa_3 of N(mu, s^2) from its raw moments is 0; kappa_2 is s^2 (exact, SymPy values)."""
    mu, s = sp.symbols("mu s", positive=True)
    raw = {1: mu, 2: mu ** 2 + s ** 2, 3: mu ** 3 + 3 * mu * s ** 2}
    assert sp.expand(joint_cumulant(lambda b: raw[len(b)], range(2))) == s ** 2
    assert sp.expand(joint_cumulant(lambda b: raw[len(b)], range(3))) == 0
