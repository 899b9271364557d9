"""Tests for symcorr.tensor_groups: matrix groups acting on one axis of shaped input points."""

import pytest
import sympy as sp
import torch
from hypothesis import given

from symcorr.errors import SpecError
from symcorr.groups import Orthogonal, Permutations, SignedPermutations, SpecialOrthogonal
from symcorr.rng import make_generator
from symcorr.tensor_groups import (AxisGroup, CyclicGroup, CyclicShifts, FeatureRotations, SignFlipGroup, SignFlips,
                                   TokenPermutations, resolve_axis_group)
from symcorr.testing import seeds


@given(seeds())
def test_cyclic_shifts_roll_the_axis(seed):
    group = CyclicShifts(6)
    g = group.sample(3, make_generator(seed))
    assert group.contains(g)
    x = torch.randn(4, 2, 6, generator=make_generator(seed + 1), dtype=torch.float64)
    for m in g:
        k = (-int(torch.argmax(m[0]))) % 6
        assert torch.equal(group.act_on_inputs(m, x), torch.roll(x, k, dims=-1))


def test_cyclic_group_membership_and_generators():
    c = CyclicGroup(5)
    assert c.contains(c.shift(2)) and c.contains(torch.eye(5))
    swap = torch.eye(5)[[1, 0, 2, 3, 4]]
    assert not c.contains(swap) and Permutations(5).contains(swap)
    with pytest.raises(SpecError, match="cyclic shift"):
        c.check(swap)
    (gen,) = c.generators()
    assert torch.equal(torch.tensor(gen.tolist(), dtype=torch.float64), c.shift(1))
    assert c.is_subgroup_of(Permutations(5)) and c.is_subgroup_of(SpecialOrthogonal(5))
    assert not CyclicGroup(4).is_subgroup_of(SpecialOrthogonal(4))  # a 4-cycle has determinant -1
    assert torch.linalg.det(CyclicGroup(4).shift(1)) == -1


def test_token_permutations_permute_tokens_and_not_features():
    group = TokenPermutations(4)
    x = torch.arange(12, dtype=torch.float64).reshape(1, 4, 3)
    g = group.sample(1, make_generator(0))[0]
    y = group.act_on_inputs(g, x)
    perm = torch.argmax(g, dim=1)  # y_i = x_{perm(i)}
    assert torch.equal(y, x[:, perm, :])
    assert group.contains(g) and not group.contains(torch.tensor([[0.6, 0.8, 0, 0], [-0.8, 0.6, 0, 0],
                                                                    [0, 0, 1, 0], [0, 0, 0, 1]]))


def test_sign_flips_and_feature_rotations():
    flips = SignFlips(3)
    g = flips.sample(5, make_generator(1))
    assert flips.contains(g) and SignFlipGroup(3).is_subgroup_of(SignedPermutations(3))
    assert not SignFlipGroup(3).is_subgroup_of(SpecialOrthogonal(3))
    assert not flips.contains(torch.eye(3)[[1, 0, 2]])
    rot = FeatureRotations(3)
    r = rot.sample(2, make_generator(2))
    assert rot.contains(r)
    x = torch.randn(2, 5, 3, dtype=torch.float64, generator=make_generator(3))
    assert torch.allclose(rot.act_on_inputs(r[0], x).norm(dim=-1), x.norm(dim=-1))
    assert torch.allclose(rot.act_on_inputs(r[0], x), x @ r[0].T)
    middle = AxisGroup(Orthogonal(5), axis=-2)
    q = middle.sample(1, make_generator(4))[0]
    assert torch.allclose(middle.act_on_inputs(q, x), torch.einsum("ij,pjc->pic", q, x))


def test_axes_are_counted_from_the_end_and_checked_against_shapes():
    with pytest.raises(SpecError, match="from the end"):
        CyclicShifts(4, axis=1)
    with pytest.raises(SpecError, match="matrix group"):
        from symcorr.groups import Translations
        AxisGroup(Translations(3))
    with pytest.raises(SpecError, match="length 4"):
        CyclicShifts(4).act_on_inputs(torch.eye(4), torch.zeros(2, 5))
    assert resolve_axis_group(CyclicShifts(8), (3, 8)) == CyclicShifts(8)
    with pytest.raises(SpecError, match="axis -1 of length 8"):
        resolve_axis_group(CyclicShifts(8), (8, 3))
    with pytest.raises(SpecError, match="axis -3"):
        resolve_axis_group(AxisGroup(SpecialOrthogonal(2), -3), (2, 2))
    assert resolve_axis_group("SO", (3,)) == SpecialOrthogonal(3)
    with pytest.raises(SpecError, match="one axis"):
        resolve_axis_group("SO", (3, 3))
    assert repr(TokenPermutations(4)) == "S(4) on axis -2"
    assert TokenPermutations(4) == AxisGroup(Permutations(4), -2) != AxisGroup(Permutations(4), -1)
    assert CyclicShifts(3).subs({sp.Symbol("n"): 2}) == CyclicShifts(3)
