"""Tests for symcorr.distributions.normal: the structured Normal (row means, Kronecker covariances)."""

import math

import pytest
import sympy as sp
import torch

from symcorr.distributions import Normal
from symcorr.errors import SpecError
from symcorr.rng import make_generator

s = sp.Symbol("s", positive=True)


def test_structured_normal_block_moments():
    """Row means and Kronecker covariance Cov(W_ij, W_kl) = v U_ik V_jl, checked within 4 s.e."""
    u = [[2, 1], [1, 1]]
    v = [[1, sp.Rational(-1, 2), 0], [sp.Rational(-1, 2), 1, 0], [0, 0, 3]]
    law = Normal([1, -2], sp.Rational(1, 2), row_cov=u, col_cov=v)
    law.check_block((2, 3))
    n = 100_000
    w = law.sample_block(n, (2, 3), make_generator(11))
    assert w.shape == (n, 2, 3)
    mean = w.mean(0)
    want_mean = torch.tensor([[1.0] * 3, [-2.0] * 3], dtype=torch.float64)
    sd = w.std(0)
    assert ((mean - want_mean).abs() < 4 * sd / math.sqrt(n)).all()
    flat = (w - want_mean).reshape(n, 6)
    cov = flat.T @ flat / n
    U, V = torch.tensor(u, dtype=torch.float64), torch.tensor([[float(c) for c in r] for r in v])
    want = 0.5 * torch.einsum("ik,jl->ijkl", U, V).reshape(6, 6)
    se = torch.sqrt((torch.diagonal(want)[:, None] * torch.diagonal(want)[None, :] + want ** 2) / n)
    assert ((cov - want).abs() < 4 * se).all()


def test_structured_normal_linear_cgf_matches_monte_carlo():
    r"""log E[exp(t (W h)_i)] for a Gaussian block = t (M h)_i + t^2/2 v U_ii h^T V h."""
    law = Normal([0.5, 0], 0.2, row_cov=[[1, 0], [0, 2]], col_cov=[[1, 0.3], [0.3, 1]])
    h = torch.tensor([[0.7, -0.4]], dtype=torch.float64)
    got = law.block_linear_cgf((2, 2), h, 1.0)
    w = law.sample_block(400_000, (2, 2), make_generator(5))
    vals = torch.exp((w @ h.T).squeeze(-1))  # (n, 2)
    est, se = vals.mean(0), vals.std(0) / math.sqrt(vals.shape[0])
    assert ((torch.exp(got[0]) - est).abs() < 4 * se).all()


def test_block_shape_validation_errors():
    with pytest.raises(SpecError, match="per-row vector"):
        Normal([1, 2, 3], 1).check_block((2, 5))
    with pytest.raises(SpecError, match="row_cov"):
        Normal(0, 1, row_cov=[[1, 0], [0, 1]]).check_block((3, 2))
    with pytest.raises(SpecError, match="bias vector"):
        Normal(0, 1, row_cov=[[1]]).check_block((1,))
    with pytest.raises(SpecError, match="not both"):
        Normal(0, 1, cov=[[1]], row_cov=[[1]])
    N = sp.Symbol("N", integer=True, positive=True)
    with pytest.raises(SpecError, match="numeric"):
        Normal([1, 0], 1).check_block((N,))


def test_gaussian_block_log_density_forms():
    W = sp.MatrixSymbol("W", 2, 3)
    form = Normal(0, s ** 2).block_log_density(W)
    assert form.has(sp.Trace)
    explicit = Normal(0, s ** 2).block_log_density(W.as_explicit())
    entrywise = sum(Normal(0, s ** 2).log_density(e) for e in W.as_explicit())
    assert sp.simplify(explicit - entrywise) == 0
    # a structured law's log-density reduces to the iid one when its structure is trivial
    structured = Normal([0, 0], s ** 2, row_cov=sp.eye(2)).block_log_density(W.as_explicit())
    assert sp.simplify(structured - entrywise) == 0
