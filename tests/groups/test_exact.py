"""Tests for symcorr.groups.exact: parity, sign flips, generated groups and the input x output product.

Statistical checks fix their seed and state their tolerance in standard errors (s.e.); each is shown
to fail on a sampler that is not Haar on the group."""

import math

import pytest
import sympy as sp
import torch

from symcorr.duality import elements as el
from symcorr.errors import SpecError
from symcorr.groups import (DirectProduct, GeneratedGroup, InvarianceGroup, Orthogonal, Parity, Permutations,
                            SignedPermutations, SignFlips, SpecialOrthogonal, parse_group, trivial_group)
from symcorr.rng import make_generator

TOL = 4.0


def _f(m) -> torch.Tensor:
    return torch.tensor([[float(v) for v in sp.Matrix(m).row(i)] for i in range(sp.Matrix(m).rows)],
                        dtype=torch.float64)


def _z(values: torch.Tensor, expected: float) -> float:
    return (values.mean().item() - expected) / (values.std().item() / math.sqrt(values.numel()))


# ----------------------------------------------------------------------------------------------------
# parity, sign flips, generated groups, products
# ----------------------------------------------------------------------------------------------------
def test_parity_and_sign_flips():
    p = parse_group("parity", dim=3)
    assert p == Parity(3) and repr(p) == "Parity(3)" and p.components() == 2
    assert p.contains(-torch.eye(3, dtype=torch.float64)) and not p.contains(torch.diag(torch.tensor([-1.0, 1, 1])))
    x = p.sample(4000, make_generator(0))
    assert p.contains(x) and abs(_z(x[:, 0, 0], 0.0)) < TOL
    f = parse_group("sign_flips(3)")
    assert f == SignFlips(3) and f.components() == 8 and len(f.discrete_generators()) == 3
    assert f.contains(f.sample(100, make_generator(1))) and not f.contains(_f(sp.Matrix([[0, 1, 0], [1, 0, 0], [0, 0, 1]])))
    assert el.is_subgroup(p, f) and el.is_subgroup(f, SignedPermutations(3)) and not el.is_subgroup(f, p)
    assert el.is_subgroup(Parity(2), SpecialOrthogonal(2)) and not el.is_subgroup(Parity(3), SpecialOrthogonal(3))
    assert not el.is_subgroup(Parity(3), Permutations(3))
    D = sp.Symbol("D", integer=True, positive=True)
    assert el.is_subgroup(Parity(D), Orthogonal(D)) is True and el.is_subgroup(Permutations(D), Parity(D)) is None


def test_generated_groups_have_generators_but_no_membership():
    g = GeneratedGroup(2, (), [sp.Matrix([[0, 1], [1, 0]])])
    assert el.family(g) is el.Family.S and el.discrete_generators(g) == [sp.Matrix([[0, 1], [1, 0]])]
    with pytest.raises(SpecError, match="not computed"):
        g.contains(torch.eye(2))
    rot = GeneratedGroup(2, [(sp.Matrix([1, 0]), sp.Matrix([0, 1]))])
    assert el.family(rot) is el.Family.O and len(el.lie_algebra(rot)) == 1


def test_the_input_output_product():
    a, b = InvarianceGroup(3, forms=[sp.diag(2, 1, 1)]), Orthogonal(2)
    prod = DirectProduct(a, b)
    assert repr(prod) == "(O(1) x O(2)) x O(2)" and prod.n == 5
    x = prod.sample(10, make_generator(0))
    assert prod.contains(x) and torch.allclose(x[:, :3, 3:], torch.zeros(10, 3, 2, dtype=torch.float64))
    mixed = torch.eye(5, dtype=torch.float64)
    mixed[[2, 3]] = mixed[[3, 2]]
    assert not prod.contains(mixed)
    assert len(prod.generators()) == len(a.generators()) + len(b.generators())
    assert repr(DirectProduct(trivial_group(2), SpecialOrthogonal(3))) == "1 x SO(3)"
