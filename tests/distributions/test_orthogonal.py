"""Tests for symcorr.distributions.orthogonal: the Haar law of torch.nn.init.orthogonal_.

Statistical checks and their false-alarm rates (fixed seeds): moments within 4 standard errors
(two-sided 6e-5 each), Kolmogorov-Smirnov tests at level 1e-3.  Each is shown to fail on a wrong law
(a wrong gain; iid Gaussian entries of the same variance).
"""

import math

import pytest
import scipy.stats
import sympy as sp
import torch

from symcorr import Dense, Network
from symcorr.distributions import HaarOrthogonal, Normal
from symcorr.errors import SpecError
from symcorr.rng import make_generator

KS_ALPHA = 1e-3


def _torch_orthogonal(n, shape, gain, seed=0):
    g = make_generator(seed)
    out = torch.empty((n, *shape), dtype=torch.float64)
    for k in range(n):
        torch.nn.init.orthogonal_(out[k], gain=gain, generator=g)
    return out


def _within(stat: torch.Tensor, want: float, k: float = 4.0) -> bool:
    se = float(stat.std()) / math.sqrt(stat.numel())
    return abs(float(stat.mean()) - want) < k * se


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (1, 3)])
def test_samples_are_semi_orthogonal_with_the_gain(shape):
    w = HaarOrthogonal(sp.Rational(3, 2)).sample_block(50, shape, make_generator(0))
    rows, cols = shape
    gram = w @ w.transpose(-1, -2) if rows <= cols else w.transpose(-1, -2) @ w
    eye = torch.eye(min(shape), dtype=torch.float64)
    assert torch.allclose(gram, 2.25 * eye, atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4)])
def test_torch_orthogonal_draws_follow_the_law(shape):
    """An entry of torch's draws: (W_ij / g)^2 ~ Beta(1/2, (N-1)/2), N = max(n, m) (KS at 1e-3); second and
    fourth moments (entry and Weingarten cross moments) within 4 s.e.; our sampler vs torch's (KS)."""
    gain = 1.3
    law = HaarOrthogonal(gain)
    n_max = max(shape)
    draws = _torch_orthogonal(20000, shape, gain)
    beta = scipy.stats.beta(0.5, (n_max - 1) / 2)
    assert scipy.stats.kstest((draws[:, 1, 2] / gain).square().numpy(), beta.cdf).pvalue > KS_ALPHA
    ours = law.sample_block(20000, shape, make_generator(1))
    assert scipy.stats.ks_2samp(ours[:, 0, 1].numpy(), draws[:, 0, 1].numpy()).pvalue > KS_ALPHA
    w = draws
    patterns = {
        "W00^2": [(0, 0)] * 2,
        "W01 W10": [(0, 1), (1, 0)],
        "W00^4": [(0, 0)] * 4,
        "W00^2 W01^2": [(0, 0), (0, 0), (0, 1), (0, 1)],
        "W00^2 W11^2": [(0, 0), (0, 0), (1, 1), (1, 1)],
        "W00 W11 W01 W10": [(0, 0), (1, 1), (0, 1), (1, 0)],
    }
    for name, entries in patterns.items():
        stat = torch.ones(w.shape[0], dtype=torch.float64)
        for i, j in entries:
            stat = stat * w[:, i, j]
        want = float(law.block_moment(entries, shape))
        assert _within(stat, want), (name, float(stat.mean()), want)


def test_the_checks_reject_a_wrong_law():
    """A wrong gain fails the KS test; iid Gaussian entries with the same variance g^2/N fail the
    Weingarten cross moment E[W00^2 W01^2] = g^4/(N(N+2)) (Gaussian: g^4/N^2)."""
    shape, gain = (3, 3), 1.0
    draws = _torch_orthogonal(20000, shape, gain)
    wrong_gain = 1.1
    beta = scipy.stats.beta(0.5, 1.0)
    assert scipy.stats.kstest((draws[:, 1, 2] / wrong_gain).square().numpy(), beta.cdf).pvalue < KS_ALPHA
    stat = draws[:, 0, 0] ** 2 * draws[:, 0, 1] ** 2
    assert _within(stat, float(HaarOrthogonal(gain).block_moment([(0, 0), (0, 0), (0, 1), (0, 1)], shape)))
    gaussian = Normal(0, sp.Rational(1, 3))
    assert not _within(stat, float(gaussian.moment(2) ** 2))


def test_moments_closed_forms():
    law = HaarOrthogonal(2)
    assert law.entry_moment(2, (5, 3)) == sp.Rational(4, 5)
    assert law.entry_moment(4, (5, 3)) == sp.Rational(48, 35)
    assert law.entry_moment(3, (5, 3)) == 0
    assert law.block_moment([(0, 0), (0, 0), (0, 1), (0, 1)], (5, 3)) == sp.Rational(16, 35)
    assert law.block_moment([(0, 0), (1, 1), (0, 1), (1, 0)], (5, 3)) == sp.Rational(-4, 35)
    assert law.block_moment([(0, 0), (1, 1), (0, 1)], (5, 3)) == 0
    assert law.block_moment([(0, 0), (1, 0)], (5, 3)) == 0
    for n in range(1, 7):  # a row of a square Haar matrix has unit norm: E[(sum_j W_0j^2)^2] = g^4
        total = sum(law.block_moment([(0, j), (0, j), (0, l), (0, l)], (n, n)) for j in range(n) for l in range(n))
        assert sp.simplify(total - 16) == 0
    n = sp.Symbol("n", integer=True, positive=True)
    assert sp.simplify(law.entry_moment(2, (n, 3)) - 4 / sp.Max(n, 3)) == 0
    with pytest.raises(SpecError, match="order 4"):
        law.block_moment([(0, 0)] * 6, (3, 3))


def test_left_and_right_orthogonal_multiplication_keep_the_law():
    """U W V has the law of W (KS on an entry and on a 2x2 minor's trace)."""
    gain, shape = 1.0, (4, 3)
    w = HaarOrthogonal(gain).sample_block(20000, shape, make_generator(3))
    from symcorr.groups import haar_orthogonal
    u = haar_orthogonal(1, 4, make_generator(4))[0]
    v = haar_orthogonal(1, 3, make_generator(5))[0]
    moved = u @ w @ v
    fresh = HaarOrthogonal(gain).sample_block(20000, shape, make_generator(6))
    for stat in (lambda a: a[:, 0, 0], lambda a: a[:, 0, 0] + a[:, 1, 1]):
        assert scipy.stats.ks_2samp(stat(moved).numpy(), stat(fresh).numpy()).pvalue > KS_ALPHA


def test_entrywise_methods_refuse_and_blocks_must_be_matrices():
    law = HaarOrthogonal(1)
    assert law.mean == 0 and law.is_symmetric is True and law.is_iid is False
    for call in (lambda: law.variance, lambda: law.moment(2), lambda: law.cumulant(4), lambda: law.mgf(1),
                 lambda: law.sample((3,)), lambda: law.density(0), lambda: law.block_log_density(sp.eye(2))):
        with pytest.raises(SpecError):
            call()
    with pytest.raises(SpecError, match="matrix block"):
        Network(2, [Dense(3, "tanh", weight=Normal(0, 1), bias=HaarOrthogonal(1)), Dense(1)])
    with pytest.raises(SpecError, match="gain"):
        HaarOrthogonal(0)
    net = Network(3, [Dense(4, "tanh", weight=HaarOrthogonal(2)), Dense(1)])
    params = net.sample(7, seed=0)
    assert torch.allclose(params["W0"].transpose(-1, -2) @ params["W0"], 4 * torch.eye(3, dtype=torch.float64))
    gauss = Network(3, [Dense(4, "gauss", weight=HaarOrthogonal(1)), Dense(1)])
    with pytest.raises(SpecError, match="normaliser"):
        gauss.forward(gauss.sample(2, seed=0), torch.zeros(1, 3))
