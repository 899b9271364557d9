"""Tests for symcorr.distributions.truncated: the law of torch.nn.init.trunc_normal_.

Statistical checks and their false-alarm rates (fixed seeds, so each check is deterministic):
moments within 4 standard errors (two-sided 6e-5 per moment), Kolmogorov-Smirnov tests at level 1e-3.
Each check is shown to fail on a wrong law (bounds read in units of std, the wrong std).
"""

import math

import pytest
import scipy.integrate
import scipy.stats
import sympy as sp
import torch

from symcorr.distributions import TruncatedNormal
from symcorr.errors import SpecError
from symcorr.rng import make_generator

KS_ALPHA = 1e-3
CASES = [(0, 1, -2, 2), (0.3, 0.5, -1, 2), (0.0, 0.02, -2, 2), (1.0, 1.0, 1.5, 4.0), (-0.5, 2.0, -1.0, -0.2)]


def _scipy(law_args):
    mean, std, lo, hi = law_args
    return scipy.stats.truncnorm((lo - mean) / std, (hi - mean) / std, loc=mean, scale=std)


def _torch_draws(law_args, n=100_000, seed=0):
    mean, std, lo, hi = law_args
    t = torch.empty(n, dtype=torch.float64)
    torch.nn.init.trunc_normal_(t, mean=mean, std=std, a=lo, b=hi, generator=make_generator(seed))
    return t


@pytest.mark.parametrize("args", CASES)
def test_closed_form_moments_match_scipy(args):
    law = TruncatedNormal(*args)
    ref = _scipy(args)
    for k in range(1, 7):
        assert float(law.moment(k)) == pytest.approx(ref.moment(k), rel=1e-9, abs=1e-12)
    assert float(law.variance) == pytest.approx(ref.var(), rel=1e-9)
    kappa4 = ref.stats(moments="k") * ref.var() ** 2  # scipy's excess kurtosis times sigma^4
    assert float(law.cumulant(4)) == pytest.approx(float(kappa4), rel=1e-7, abs=1e-14)


@pytest.mark.parametrize("args", CASES[:3])
def test_density_integrates_to_one_and_cgf_matches_the_integral(args):
    law = TruncatedNormal(*args)
    x = sp.Symbol("x", real=True)
    pdf = sp.lambdify(x, law.density(x), "math")
    _, _, lo, hi = args
    assert scipy.integrate.quad(pdf, lo, hi)[0] == pytest.approx(1.0, rel=1e-9)
    for t in (-1.5, 0.4, 3.0):
        want = math.log(scipy.integrate.quad(lambda v: math.exp(t * v) * pdf(v), lo, hi)[0])
        assert float(law.torch_cgf(torch.tensor(t, dtype=torch.float64))) == pytest.approx(want, rel=1e-8, abs=1e-12)
        assert float(sp.log(law.mgf(t))) == pytest.approx(want, rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("args", CASES)
def test_torch_trunc_normal_draws_follow_the_law(args):
    """torch's own sampler vs the law: mean, variance and fourth central moment within 4 s.e.; KS of
    torch's draws against the law's CDF, and a two-sample KS of our sampler against torch's."""
    law = TruncatedNormal(*args)
    draws = _torch_draws(args)
    n = draws.numel()
    mu = float(law.moment(1))
    for k, stat in ((1, draws), (2, (draws - mu) ** 2), (4, (draws - mu) ** 4)):
        want = float(law.moment(1)) if k == 1 else float(sp.N(law.central_moment(k)))
        se = float(stat.std()) / math.sqrt(n)
        assert abs(float(stat.mean()) - want) < 4 * se, (k, float(stat.mean()), want, se)
    ref = _scipy(args)
    assert scipy.stats.kstest(draws.numpy(), ref.cdf).pvalue > KS_ALPHA
    ours = law.sample((n,), make_generator(1))
    assert float(ours.min()) >= args[2] and float(ours.max()) <= args[3]
    assert scipy.stats.ks_2samp(ours.numpy(), draws.numpy()).pvalue > KS_ALPHA


def test_the_checks_reject_a_wrong_law():
    """Reading torch's bounds in units of std (a common mistake) or a wrong std is rejected."""
    args = (0.0, 0.5, -2.0, 2.0)
    draws = _torch_draws(args)
    std_units = TruncatedNormal(0, 0.5, -1.0, 1.0)  # a = -2 std, b = 2 std
    cdf = _scipy((0.0, 0.5, -1.0, 1.0)).cdf
    assert scipy.stats.kstest(draws.numpy(), cdf).pvalue < KS_ALPHA
    se = float(draws.square().std()) / math.sqrt(draws.numel())
    assert abs(float(draws.square().mean()) - float(std_units.moment(2))) > 4 * se
    wrong_std = TruncatedNormal(0, 0.55, -2.0, 2.0)
    assert abs(float(draws.square().mean()) - float(wrong_std.moment(2))) > 4 * se


def test_far_tail_interval_samples_exactly_inside():
    law = TruncatedNormal(0, 1, 6, 7)  # Phi(6) = 1 - 1e-9: the reflected interval keeps precision
    x = law.sample((20000,), make_generator(2))
    assert float(x.min()) >= 6 and float(x.max()) <= 7
    assert float(x.mean()) == pytest.approx(float(law.moment(1)), abs=4 * float(x.std()) / math.sqrt(20000))


def test_symmetry_and_validation():
    assert TruncatedNormal(0, 1, -2, 2).is_symmetric is True
    assert TruncatedNormal(0, 1, -1, 2).is_symmetric is False
    assert TruncatedNormal(0.1, 1, -2, 2).is_symmetric is False
    assert TruncatedNormal(0, 1, -2, 2).cumulant(3) == 0
    with pytest.raises(SpecError, match="std"):
        TruncatedNormal(0, -1)
    with pytest.raises(SpecError, match="high - low"):
        TruncatedNormal(0, 1, 2, 1)
    with pytest.raises(SpecError, match="probability 0"):
        TruncatedNormal(0, 1, 60, 61).sample((3,), make_generator(0))
