"""Tests for symcorr.distributions.scalar: Uniform, UniformCircle, Laplace, Rademacher specifics."""

import pytest
import sympy as sp
import torch

from symcorr.distributions import Laplace, Rademacher, Uniform
from symcorr.errors import SpecError

x = sp.Symbol("x", real=True)


def test_torch_cgf_is_finite_for_large_arguments_and_infinite_where_the_mgf_diverges():
    big = torch.tensor([300.0, -500.0], dtype=torch.float64)
    assert torch.isfinite(Uniform(-1, 1).torch_cgf(big)).all()
    assert torch.isfinite(Rademacher(1).torch_cgf(big)).all()
    assert torch.isinf(Laplace(0, 1).torch_cgf(torch.tensor([1.5]))).all()


def test_rademacher_has_no_lebesgue_log_density():
    with pytest.raises(SpecError, match="Lebesgue"):
        Rademacher(1).log_density(x)
