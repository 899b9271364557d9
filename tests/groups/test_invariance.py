"""Tests for symcorr.groups.invariance: the exact invariance groups of laws (structure, names, membership,
generators, Haar sampling, what cannot be computed).

Statistical checks fix their seed and state their tolerance in standard errors (s.e.); each is shown
to fail on a sampler that is not Haar on the group."""

import math

import pytest
import sympy as sp
import torch

from symcorr.duality import elements as el
from symcorr.errors import SpecError
from symcorr.groups import InvarianceGroup, Orthogonal, Permutations, SignedPermutations, Stabilizer
from symcorr.rng import make_generator

TOL = 4.0
HALF = sp.Rational(1, 2)


def _z(values: torch.Tensor, expected: float) -> float:
    return (values.mean().item() - expected) / (values.std().item() / math.sqrt(values.numel()))


# ----------------------------------------------------------------------------------------------------
# structure and names
# ----------------------------------------------------------------------------------------------------
def test_a_covariance_with_a_double_eigenvalue_gives_o1_x_o2():
    """Issue 13, first case: diag(2, 1, 1) is preserved by O(1) x O(2), not only by Stab(e1)."""
    g = InvarianceGroup(3, forms=[sp.diag(2, 1, 1)])
    assert repr(g) == "O(1) x O(2)" and g.latex() == r"\mathrm{O}(1)\times \mathrm{O}(2)"
    assert g.lie_dimension == 1 and g.components() == 4 and [b.dim for b in g.blocks] == [1, 2]
    assert g.contains(torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)))   # the missed reflection
    c, s = math.cos(0.3), math.sin(0.3)
    assert g.contains(torch.tensor([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=torch.float64))
    assert not g.contains(torch.tensor([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=torch.float64))
    stab = Stabilizer(Orthogonal(3), [1, 0, 0])
    assert el.is_subgroup(stab, g) and not el.is_subgroup(g, stab)
    assert "O(2) on span[[0, 1, 0], [0, 0, 1]] (form eigenvalues 1)" in g.describe()


def test_a_correlated_pair_is_generated_by_the_swap_and_minus_one():
    """Issue 13, fourth case: [[1, 1/2], [1/2, 1]] -> O(1) x O(1) = {+-1, +-swap}."""
    g = InvarianceGroup(2, forms=[[[1, HALF], [HALF, 1]]])
    assert repr(g) == "O(1) x O(1)" and g.lie_dimension == 0 and g.components() == 4
    swap = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    for m in (swap, -swap, -torch.eye(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64)):
        assert g.contains(m)
    assert not g.contains(torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=torch.float64))
    assert not g.contains(torch.diag(torch.tensor([-1.0, 1.0], dtype=torch.float64)))
    gens = [sp.Matrix(m) for m in g.discrete_generators()]
    assert sp.Matrix([[0, 1], [1, 0]]) in [s * m for m in gens for s in (1, -1)]
    # the discrete generators generate the four elements (closure of products)
    found = {sp.ImmutableMatrix(sp.eye(2))}
    while True:
        new = {sp.ImmutableMatrix(a * b) for a in found for b in gens} | found
        if new == found:
            break
        found = new
    assert len(found) == 4


def test_a_fixed_vector_gives_the_stabiliser_for_every_number_of_shifted_rows():
    for k in (1, 3, 9):
        u = [1] * k + [0] * (10 - k)
        g = InvarianceGroup(10, fixed=[u])
        assert repr(g) == "O(9)" and g.lie_dimension == 36 and g.components() == 2
        stab = Stabilizer(Orthogonal(10), u)
        assert el.is_subgroup(stab, g) and el.is_subgroup(g, stab)


def test_the_krylov_closure_of_a_mean_is_fixed_pointwise():
    """g m = m and g U = U g imply g U^k m = U^k m: a mean off the eigenspaces of U fixes more."""
    u = sp.diag(1, 2, 3, 3)
    g = InvarianceGroup(4, fixed=[[1, 1, 0, 0]], forms=[u])
    assert g.fixed_space.cols == 2 and repr(g) == "O(2)"   # span(e1, e2) fixed, O(2) on span(e3, e4)
    generic = InvarianceGroup(3, fixed=[[1, 1, 1]], forms=[sp.diag(1, 2, 3)])
    assert repr(generic) == "1" and el.is_trivial(generic)


def test_commuting_forms_split_into_joint_eigenspaces():
    g = InvarianceGroup(4, forms=[sp.diag(2, 2, 1, 1), sp.diag(3, 1, 1, 1)], fixed=[[0, 0, 1, 0]])
    assert repr(g) == "O(1) x O(1) x O(1)" and g.fixed_space.cols == 1


def test_irrational_eigenvalues_are_exact():
    g = InvarianceGroup(2, forms=[[[2, 1], [1, 1]]])
    assert repr(g) == "O(1) x O(1)"
    for b in g.blocks:
        assert any(isinstance(v, sp.Expr) and v.has(sp.sqrt(5)) for v in b.eigenvalues)
    assert g.contains(-torch.eye(2, dtype=torch.float64))


def test_finite_ambients_give_permutation_classes():
    b = InvarianceGroup(3, fixed=[[1, 1, 0]], ambient="B")
    assert repr(b) == "S(2) x B(1)" and b.components() == 4
    flipped = InvarianceGroup(3, fixed=[[1, -1, 0]], ambient="B")   # e1 <-> -e2 with a sign
    assert repr(flipped) == "S(2) x B(1)"
    assert flipped.contains(torch.tensor([[0, -1, 0], [-1, 0, 0], [0, 0, 1]], dtype=torch.float64))
    assert not flipped.contains(torch.tensor([[0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=torch.float64))
    s = InvarianceGroup(3, forms=[sp.diag(1, 1, 2)], ambient="S")
    assert repr(s) == "S(2)" and s.components() == 2
    assert InvarianceGroup(3, ambient="B") == InvarianceGroup(3, ambient="B") and \
        el.is_subgroup(InvarianceGroup(3, ambient="B"), SignedPermutations(3))
    assert el.is_subgroup(SignedPermutations(3), InvarianceGroup(3, ambient="B"))
    assert el.is_subgroup(InvarianceGroup(3, ambient="S"), Permutations(3))


def test_inversion_adjoins_minus_one():
    g = InvarianceGroup(2, fixed=[[1, 1]])
    assert repr(g) == "O(1)" and not g.contains(-torch.eye(2, dtype=torch.float64))
    h = g.with_inversion()
    assert repr(h) == "O(1) x Z2" and h.components() == 4 and h.contains(-torch.eye(2, dtype=torch.float64))
    assert repr(InvarianceGroup(2).with_inversion()) == "O(2)"   # -1 is already in O(2)
    s = InvarianceGroup(3, ambient="S", inversion=True)
    assert el.family(s) is el.Family.B and s.components() == 12


@pytest.mark.parametrize("kwargs, match", [
    (dict(forms=[[[1, 1, 0], [1, 2, 0], [0, 0, 1]], [[2, 0, 0], [0, 1, 0], [0, 0, 1]]]), "do not commute"),
    (dict(forms=[[[2, 1, 0], [1, 3, 1], [0, 1, 5]]]), "degree 3"),
    (dict(forms=[[[sp.Symbol("a"), 0, 0], [0, 1, 0], [0, 0, 1]]]), "symbols"),
    (dict(forms=[[[1, 2, 0], [0, 1, 0], [0, 0, 1]]]), "symmetric"),
    (dict(fixed=[[1, 1]]), "length"),
    (dict(forms=[[[1, 1, 0], [1, 1, 0], [0, 0, 1]]], ambient="B"), "not diagonal"),
    (dict(ambient="X"), "ambient"),
])
def test_what_cannot_be_computed_exactly_is_a_spec_error(kwargs, match):
    with pytest.raises(SpecError, match=match):
        InvarianceGroup(3, **kwargs)


# ----------------------------------------------------------------------------------------------------
# sampling (Haar on each block)
# ----------------------------------------------------------------------------------------------------
def test_samples_are_elements_and_haar_on_each_block():
    g = InvarianceGroup(3, forms=[sp.diag(2, 1, 1)])
    x = g.sample(20000, make_generator(3))
    assert g.contains(x, atol=1e-10)
    first = x[:, 0, 0]                        # O(1) factor: +-1 with probability 1/2 each
    assert abs(_z(first, 0.0)) < TOL
    det = torch.linalg.det(x[:, 1:, 1:])      # O(2) factor: both components equally likely
    assert abs(_z(det, 0.0)) < TOL
    assert abs(_z(x[:, 1, 1] ** 2, 0.5)) < TOL   # E[R_11^2] = 1/2 on O(2)
    # a sampler biased towards the rotations of the O(2) block (det = -1 replaced by +1 in 80% of the
    # draws) fails the component check
    bad = x.clone()
    flip = (det < 0) & (torch.arange(20000) < 16000)
    bad[flip, :, 1] = -bad[flip, :, 1]
    assert g.contains(bad, atol=1e-10) and _z(torch.linalg.det(bad[:, 1:, 1:]), 0.0) > TOL


def test_stabiliser_samples_fix_u_and_finite_samples_are_uniform():
    u = torch.tensor([1.0, 1, 1, 0, 0, 0, 0, 0, 0, 0], dtype=torch.float64)
    g = InvarianceGroup(10, fixed=[u.tolist()])
    x = g.sample(50, make_generator(0))
    assert torch.allclose(x @ u, u.expand(50, 10), atol=1e-12)
    b = InvarianceGroup(3, fixed=[[1, 1, 0]], ambient="B")
    y = b.sample(8000, make_generator(2))
    assert b.contains(y)
    swap = (y[:, 0, 1] != 0).to(torch.float64)      # S(2) on {1, 2}: swapped half of the time
    assert abs(_z(swap, 0.5)) < TOL
    assert abs(_z(y[:, 2, 2], 0.0)) < TOL           # B(1) on e3: sign +-1


