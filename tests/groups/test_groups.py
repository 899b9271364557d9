"""Tests for symcorr.groups: Haar samplers (with a failing non-Haar sampler), membership, stabilisers,
exact parametrisations, generators, the subgroup order and parse_group errors.

Every statistical check fixes its seed and states its tolerance in standard errors (s.e.)."""

import itertools
import math

import pytest
import sympy as sp
import torch

from symcorr.errors import SpecError
from symcorr.groups import (Orthogonal, Permutations, SignedPermutations, SpecialOrthogonal, Stabilizer,
                            Translations, parse_group, rotation_matrix_2d)
from symcorr.rng import make_generator

K = 20_000
TOL = 4.0  # standard errors


def _z(values: torch.Tensor, expected: float) -> float:
    """z-score of the sample mean of ``values`` against ``expected``."""
    se = values.std().item() / math.sqrt(values.numel())
    return (values.mean().item() - expected) / se


def _haar_entry_moments(n):
    """E[R_ij] = 0, E[R_ij^2] = 1/n, E[R_ij^4] = 3/(n(n+2)) for a Haar-random orthogonal matrix."""
    return {1: 0.0, 2: 1 / n, 4: 3 / (n * (n + 2))}


def notebook_sampler(k, n, generator):
    """The paper notebook's rotations: expm(sum_{i<j} c_ij L_ij), c_ij ~ U[0, 1) -- not Haar."""
    c = torch.rand((k, n * (n - 1) // 2), generator=generator, dtype=torch.float64)
    a = torch.zeros((k, n, n), dtype=torch.float64)
    t = 0
    for i in range(n):
        for j in range(i + 1, n):
            a[:, i, j], a[:, j, i] = -c[:, t], c[:, t]
            t += 1
    return torch.linalg.matrix_exp(a)


def _max_abs_z(samples, n):
    worst = 0.0
    for i, j in ((0, 0), (n - 1, 1)):
        entry = samples[:, i, j]
        for power, expected in _haar_entry_moments(n).items():
            worst = max(worst, abs(_z(entry ** power, expected)))
    return worst


# ----------------------------------------------------------------------------------------------------
# Haar samplers
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("group", [SpecialOrthogonal(3), SpecialOrthogonal(5), Orthogonal(4)], ids=repr)
def test_haar_entry_moments_within_four_standard_errors(group):
    r = group.sample(K, make_generator(11))
    assert r.shape == (K, group.n, group.n)
    assert group.contains(r)
    assert _max_abs_z(r, group.n) < TOL


@pytest.mark.parametrize("n", [3, 5])
def test_the_notebook_sampler_fails_the_haar_moment_test(n):
    """expm(sum c_ij L_ij) with c ~ U[0,1) is a rotation but not Haar: E[R_11] is far from 0 (hundreds
    of standard errors at this sample size), so the same 4 s.e. test rejects it."""
    r = notebook_sampler(K, n, make_generator(11))
    assert SpecialOrthogonal(n).contains(r)
    assert _max_abs_z(r, n) > 10 * TOL


def test_so_samples_have_determinant_one_and_o_samples_both_signs():
    so = SpecialOrthogonal(4).sample(2000, make_generator(1))
    assert torch.allclose(torch.linalg.det(so), torch.ones(2000, dtype=torch.float64), atol=1e-10)
    o = Orthogonal(4).sample(K, make_generator(2))
    negative = (torch.linalg.det(o) < 0).to(torch.float64)
    assert abs(_z(negative, 0.5)) < TOL


def test_samplers_are_reproducible_with_a_seed():
    a = SpecialOrthogonal(3).sample(5, make_generator(7))
    b = SpecialOrthogonal(3).sample(5, make_generator(7))
    assert torch.equal(a, b)


def test_permutation_samplers_are_uniform():
    """Each of the 3! permutations appears with probability 1/6 (4 s.e. each)."""
    p = Permutations(3).sample(12_000, make_generator(3))
    keys = [tuple(m.argmax(-1).tolist()) for m in p]
    for perm in itertools.permutations(range(3)):
        hits = torch.tensor([1.0 if k == perm else 0.0 for k in keys], dtype=torch.float64)
        assert abs(_z(hits, 1 / 6)) < TOL
    s = SignedPermutations(3).sample(4000, make_generator(4))
    assert SignedPermutations(3).contains(s)
    assert abs(_z((s.sum(dim=(-1, -2)) > 0).to(torch.float64), 0.5)) < TOL  # sign symmetric


# ----------------------------------------------------------------------------------------------------
# membership
# ----------------------------------------------------------------------------------------------------
def test_membership_and_clear_errors_for_non_members():
    rot = rotation_matrix_2d(0.3)
    refl = torch.diag(torch.tensor([-1.0, 1.0], dtype=torch.float64))
    assert SpecialOrthogonal(2).contains(rot) and Orthogonal(2).contains(refl)
    assert not SpecialOrthogonal(2).contains(refl)
    with pytest.raises(SpecError, match="determinant"):
        SpecialOrthogonal(2).check(refl)
    with pytest.raises(SpecError, match="identity"):
        Orthogonal(2).check(1.1 * rot)
    with pytest.raises(SpecError, match="shape"):
        SpecialOrthogonal(3).check(rot)
    swap = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    assert Permutations(2).contains(swap) and SignedPermutations(2).contains(-swap)
    with pytest.raises(SpecError, match="permutation"):
        Permutations(2).check(-swap)
    with pytest.raises(SpecError, match="signed permutation"):
        SignedPermutations(2).check(rot)
    with pytest.raises(SpecError, match="not finite"):
        Translations(2).check(torch.tensor([1.0, float("nan")]))


# ----------------------------------------------------------------------------------------------------
# stabilisers
# ----------------------------------------------------------------------------------------------------
def test_stabiliser_samples_fix_u_and_are_haar_on_the_residual_so_n_minus_1():
    u = [1, 1, 0, 0]
    stab = Stabilizer(SpecialOrthogonal(4), u)
    g = stab.sample(K, make_generator(5))
    ut = torch.tensor(u, dtype=torch.float64)
    assert (g @ ut - ut).abs().max() < 1e-12
    assert SpecialOrthogonal(4).contains(g) and stab.contains(g)
    assert stab.residual_description == "SO(3)"
    # in a basis whose first vector is u/|u| the element is diag(1, h) with h Haar on SO(3)
    q = stab._basis()
    h = (q.T @ g @ q)[:, 1:, 1:]
    assert SpecialOrthogonal(3).contains(h)
    assert _max_abs_z(h, 3) < TOL
    # failing counterpart: a plain Haar rotation of SO(4) does not fix u
    plain = SpecialOrthogonal(4).sample(100, make_generator(6))
    assert (plain @ ut - ut).abs().amax(dim=-1).min() > 1e-3
    assert not stab.contains(plain)


def _brute_force_stabiliser(u):
    n = len(u)
    out = set()
    for perm in itertools.permutations(range(n)):
        for signs in itertools.product((1, -1), repeat=n):
            g = [[0] * n for _ in range(n)]
            for i in range(n):
                g[i][perm[i]] = signs[i]
            if all(sum(g[i][j] * u[j] for j in range(n)) == u[i] for i in range(n)):
                out.add(tuple(v for row in g for v in row))
    return out


@pytest.mark.parametrize("u", [[1, -1, 0], [2, 2, -2], [1, 0, 0]])
def test_signed_permutation_stabiliser_sampler_covers_the_whole_stabiliser(u):
    """Regression: the sampler used to miss elements mapping an entry +a to a position holding -a."""
    stab = Stabilizer(SignedPermutations(3), u)
    g = stab.sample(3000, make_generator(8))
    assert stab.contains(g)
    seen = {tuple(int(v) for v in m.flatten().tolist()) for m in g}
    assert seen == _brute_force_stabiliser(u)


def test_permutation_stabiliser_samples_permute_level_sets_only():
    stab = Stabilizer(Permutations(4), [1, 1, 0, 3])
    g = stab.sample(500, make_generator(9))
    assert stab.contains(g)
    assert {tuple(m.argmax(-1).tolist()) for m in g} == {(0, 1, 2, 3), (1, 0, 2, 3)}


# ----------------------------------------------------------------------------------------------------
# exact elements and generators
# ----------------------------------------------------------------------------------------------------
def _exactly_orthogonal_det_one(r):
    assert sp.simplify(sp.trigsimp(r.T * r - sp.eye(r.rows))) == sp.zeros(r.rows, r.rows)
    assert sp.simplify(sp.trigsimp(r.det())) == 1


@pytest.mark.parametrize("n", [1, 2, 3])
def test_parametrized_element_is_exactly_orthogonal_with_determinant_one(n):
    r, params = SpecialOrthogonal(n).parametrized_element()
    assert len(params) == n * (n - 1) // 2
    _exactly_orthogonal_det_one(r)


def test_stabiliser_parametrized_element_fixes_u_exactly():
    u = sp.Matrix([1, 1, 0])
    r, params = Stabilizer(SpecialOrthogonal(3), list(u)).parametrized_element()
    assert len(params) == 1
    _exactly_orthogonal_det_one(r)
    assert sp.simplify(r * u - u) == sp.zeros(3, 1)
    one, none = Stabilizer(SpecialOrthogonal(1), [2]).parametrized_element()
    assert one == sp.eye(1) and none == []


def test_generators():
    for m in SpecialOrthogonal(3).generators():
        assert (m + m.T).is_zero_matrix
    # regression: stabiliser generators are Lie-algebra elements (antisymmetric, annihilating u)
    u = sp.Matrix([1, 1, 0])
    gens = Stabilizer(SpecialOrthogonal(3), list(u)).generators()
    assert len(gens) == 1
    assert all(sp.simplify(g + g.T).is_zero_matrix and sp.simplify(g * u).is_zero_matrix for g in gens)
    o_gens = Stabilizer(Orthogonal(3), list(u)).generators()
    refl = o_gens[-1]
    assert sp.simplify(refl * u - u).is_zero_matrix and sp.simplify(refl.det()) == -1
    assert Stabilizer(SpecialOrthogonal(1), [1]).generators() == []
    assert len(SignedPermutations(3).generators()) == 3


def test_subgroup_relations():
    assert Permutations(3).is_subgroup_of(SignedPermutations(3))
    assert Permutations(3).is_subgroup_of(Orthogonal(3))
    # regression: odd permutations have determinant -1, so S_n is not inside SO(n)
    assert not Permutations(3).is_subgroup_of(SpecialOrthogonal(3))
    assert Permutations(1).is_subgroup_of(SpecialOrthogonal(1))
    assert SignedPermutations(3).is_subgroup_of(Orthogonal(3))
    assert not SignedPermutations(3).is_subgroup_of(SpecialOrthogonal(3))
    assert SpecialOrthogonal(3).is_subgroup_of(Orthogonal(3)) and not Orthogonal(3).is_subgroup_of(
        SpecialOrthogonal(3))


def test_generic_element_relations():
    el = SpecialOrthogonal(sp.Symbol("D", integer=True, positive=True)).generic_element()
    r = el.matrix
    assert sp.Eq(r.T * r, sp.Identity(r.rows)) in el.relations
    assert any(isinstance(rel.lhs, sp.Determinant) for rel in el.relations)
    t = Translations(3).generic_element("c")
    assert t.matrix.shape == (3, 1)


def test_translation_action_and_sampler():
    t = Translations(2, scale=0.5)
    c = t.sample(K, make_generator(10))
    assert c.shape == (K, 2)
    assert abs(_z(c[:, 0] ** 2, 0.25)) < TOL
    x = torch.zeros(3, 2, dtype=torch.float64)
    assert torch.equal(t.act_on_inputs(c[0], x), c[0].expand(3, 2))


# ----------------------------------------------------------------------------------------------------
# parse_group
# ----------------------------------------------------------------------------------------------------
def test_parse_group_accepts_the_documented_forms():
    assert parse_group("SO(3)") == SpecialOrthogonal(3)
    assert parse_group("SO", dim=4) == SpecialOrthogonal(4)
    assert parse_group("signed_permutations", dim=2) == SignedPermutations(2)
    d = sp.Symbol("D", integer=True, positive=True)
    assert parse_group("O(D)") == Orthogonal(d)
    assert parse_group("SO", dim=3, fix=[1, 0, 0]) == Stabilizer(SpecialOrthogonal(3), [1, 0, 0])


@pytest.mark.parametrize("text, kwargs, match", [
    ("SU(3)", {}, "unknown group"),
    ("SO", {}, "needs a dimension"),
    ("SO(0)", {}, ">= 1"),
    ("SO(-1)", {}, "positive integer or a symbol"),     # regression: used to make a symbol named '-1'
    ("SO(3.5)", {}, "positive integer or a symbol"),
    ("SO(3)", {"dim": 2}, "dimension 2"),
    ("SO(3", {}, "cannot parse"),
    (3, {}, "name such as"),
    ("SO", {"dim": 3, "fix": [0, 0, 0]}, "zero vector"),
    ("SO", {"dim": 3, "fix": [1, 0]}, "length 2"),
    ("translations", {"dim": 2, "fix": [1, 0]}, "linear parent"),
])
def test_parse_group_errors(text, kwargs, match):
    with pytest.raises(SpecError, match=match):
        parse_group(text, **kwargs)


def test_large_rotations_sample_under_several_threads():
    """torch's batched CPU LU hangs on large matrices after torch.set_num_threads(k > 1) (an MKL DLASWP
    error); the SO(n) sampler's determinants must not go through it (run in a child: a regression would
    hang, not fail)."""
    import subprocess
    import sys

    code = ("import torch\n"
            "torch.set_num_threads(2)\n"
            "from symcorr.groups import SpecialOrthogonal as SO\n"
            "from symcorr.rng import make_generator\n"
            "g = SO(784).sample(2, make_generator(0))\n"
            "assert SO(784).contains(g)\n"
            "print('ok')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
    assert "DLASWP" not in proc.stderr
