"""Tests for symcorr.distributions.point: the point mass of torch.nn.init.zeros_ and constant_."""

import pytest
import sympy as sp
import torch

from symcorr.distributions import LAWS, PointMass
from symcorr.errors import SpecError
from symcorr.rng import make_generator


def test_moments_cumulants_and_transforms():
    c = sp.Rational(3, 10)
    law = PointMass(c)
    assert [law.moment(k) for k in range(4)] == [1, c, c ** 2, c ** 3]
    assert law.cumulant(1) == c and law.cumulant(2) == 0 and law.cumulant(5) == 0
    assert law.mean == c and law.variance == 0
    t = sp.Symbol("t", real=True)
    assert law.mgf(t) == sp.exp(c * t) and law.cgf(t) == c * t
    assert sp.simplify(law.characteristic_function(t) - sp.exp(sp.I * c * t)) == 0
    assert float(law.torch_cgf(torch.tensor(2.0))) == pytest.approx(0.6)
    assert law.is_symmetric is False and PointMass(0).is_symmetric is True


def test_matches_torch_zeros_and_constant():
    for law, init in ((PointMass(0), torch.nn.init.zeros_), (PointMass(0.25), lambda t: torch.nn.init.constant_(t, 0.25))):
        want = init(torch.empty(3, 4, dtype=torch.float64))
        got = law.sample_block(5, (3, 4), make_generator(0))
        assert torch.equal(got, want.expand(5, 3, 4))
    assert not torch.equal(PointMass(0.3).sample((2,)), torch.nn.init.constant_(torch.empty(2, dtype=torch.float64), 0.25))


def test_no_lebesgue_density_and_registered():
    with pytest.raises(SpecError, match="Lebesgue"):
        PointMass(1).log_density(0)
    with pytest.raises(SpecError, match="Lebesgue"):
        PointMass(1).block_log_density(sp.eye(2))
    assert LAWS["point"] is PointMass
    with pytest.raises(SpecError):
        PointMass("I")
