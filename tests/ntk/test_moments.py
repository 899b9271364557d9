"""Tests of symcorr.ntk.moments: streamed NTK moments over the networks of symcorr.montecarlo.Ensemble."""

import math

import pytest
import torch

from symcorr import zoo
from symcorr.errors import SpecError
from symcorr.montecarlo import Ensemble
from symcorr.ntk import empirical_ntk, ntk_moments


X2 = torch.tensor([[0.3, -0.5], [1.0, 0.2], [-0.4, 0.8]], dtype=torch.float64)
XT = torch.tensor([[0.3, -0.5], [1.0, 0.2]], dtype=torch.float64)


def test_ntk_moments_use_the_montecarlo_ensemble_and_second_order_layout():
    net = zoo.erf_net(2, 4, 2)
    mom = ntk_moments(net, XT, networks=50, seed=2, chunk=16)
    params = next(Ensemble(net, 50, seed=2, estimator="direct").chunks()).params
    theta = empirical_ntk(net, params, XT)
    torch.testing.assert_close(mom.mean, theta.mean(0))
    torch.testing.assert_close(mom.second[0, 1, 0, 1, 1, 0, 1, 1], (theta[:, 0, 1, 0, 1] * theta[:, 1, 0, 1, 1]).mean())
    torch.testing.assert_close(mom.se[1, 1, 0, 0], theta[:, 1, 1, 0, 0].std() / math.sqrt(50))
    assert "E[Theta_ab" in mom.markdown()


def test_validation_errors():
    net = zoo.erf_net(2, 4, 2)
    with pytest.raises(SpecError, match="networks"):
        ntk_moments(net, X2, networks=0, seed=0)
