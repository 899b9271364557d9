"""Monte Carlo cross-checks of the closed forms with the numeric frame (net.sample / net.forward):
fixed seeds, tolerances in standard errors, and the same check failing for a wrong formula."""

import math

import pytest
import sympy as sp
import torch

from symcorr import Dense, Network, Normal, Rademacher, size_symbol
from symcorr.symbolic import correlator
from symcorr.zoo import cos_net, gauss_net, relu_net

TOL = 4.0  # standard errors


def mc_moment(net, points, indices, samples, seed):
    """Mean and standard error of prod_i f_{a_i}(x_i) over ``samples`` sampled networks."""
    params = net.sample(samples, seed=seed)
    f = net.forward(params, torch.tensor(points, dtype=torch.float64))
    prod = torch.ones(samples, dtype=torch.float64)
    for i, a in enumerate(indices):
        prod = prod * f[:, i, a]
    return float(prod.mean()), float(prod.std() / math.sqrt(samples))


# Gauss-net with small first-layer scales (the paper's heavy tails need sigma <= 0.5), N = 2
NET = gauss_net(1, 2, 2, sigma_w0=0.5, sigma_b0=0.5)
PTS = [[0.1], [0.3], [-0.2], [0.4]]


@pytest.mark.parametrize("indices", [(0, 0, 0, 0), (0, 0, 1, 1), (0, 1, 0, 1)])
def test_exact_g4_agrees_with_monte_carlo(indices):
    exact = correlator(NET, 4).evaluate(PTS, indices)
    mean, se = mc_moment(NET, PTS, indices, 100_000, seed=7)
    assert abs(exact - mean) < TOL * se, (exact, mean, se)


def test_gp_formula_for_g4_is_rejected_at_small_width():
    N = size_symbol("N")
    gp = float(correlator(gauss_net(1, N, 2, sigma_w0=0.5, sigma_b0=0.5), 4).gp_limit(
        [[sp.Rational(1, 10)], [sp.Rational(3, 10)], [-sp.Rational(1, 5)], [sp.Rational(2, 5)]], (0, 0, 0, 0)))
    mean, se = mc_moment(NET, PTS, (0, 0, 0, 0), 100_000, seed=7)
    assert abs(gp - mean) > TOL * se, (gp, mean, se)


def test_readout_mean_g1_agrees_with_monte_carlo():
    mu = 0.3
    net = relu_net(3, 4, 3, sigma_b0=None, sigma_b1=None, readout_mean=[mu, mu, 0])
    x = [[1.0, -0.5, 2.0]]
    G1 = correlator(net, 1)
    for a in range(3):
        exact = G1.evaluate(x, (a,))
        mean, se = mc_moment(net, x, (a,), 100_000, seed=5)
        assert abs(exact - mean) < TOL * se
    # the symmetric prediction G1 = 0 is rejected on a shifted row
    mean, se = mc_moment(net, x, (0,), 100_000, seed=5)
    assert abs(mean) > TOL * se
    assert abs(G1.evaluate(x, (0,)) - mu * 4 * math.sqrt(1 + 0.25 + 4) / math.sqrt(2 * math.pi * 3)) < 1e-12


def test_cos_net_and_rademacher_readout_agree_with_monte_carlo():
    cnet = cos_net(2, 3, 2)
    pts = [[0.3, 0.1], [-0.5, 0.2], [0.0, 0.4], [0.3, 0.1]]
    exact = correlator(cnet, 4).evaluate(pts, (0, 0, 1, 1))
    mean, se = mc_moment(cnet, pts, (0, 0, 1, 1), 100_000, seed=9)
    assert abs(exact - mean) < TOL * se
    rnet = Network(1, [Dense(3, "tanh", weight=Normal(0, 1), bias=Normal(0, 1)),
                       Dense(2, weight=Rademacher(sp.Rational(1, 2)))])
    pts1 = [[0.5], [0.5], [0.5], [0.5]]
    exact, err = correlator(rnet, 4).evaluate_with_error(pts1, (0, 0, 0, 0))
    mean, se = mc_moment(rnet, pts1, (0, 0, 0, 0), 100_000, seed=13)
    assert abs(exact - mean) < TOL * math.hypot(se, err)
    # the Gaussian read-out formula (E[W^4] = 3 var^2) is rejected for the Rademacher read-out
    gnet = Network(1, [Dense(3, "tanh", weight=Normal(0, 1), bias=Normal(0, 1)),
                       Dense(2, weight=Normal(0, sp.Rational(1, 4)))])
    wrong = correlator(gnet, 4).evaluate(pts1, (0, 0, 0, 0))
    assert abs(wrong - mean) > TOL * math.hypot(se, err)
