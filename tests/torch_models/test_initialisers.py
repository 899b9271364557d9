"""Tests for symcorr.torch_models.initialisers: every supported nn.init law against torch's own sampling.

Each case draws one large weight tensor with torch's initialiser (a seeded generator) and checks its
iid entries against the law read by symcorr: a Kolmogorov-Smirnov test at level 1e-3 and the mean,
variance and fourth central moment within 4 standard errors (two-sided 6e-5 each), all with fixed seeds.
The same checks reject the wrong fan mode, the wrong fan formula and the wrong gain.
"""

import functools
import math

import pytest
import scipy.stats
import sympy as sp
import torch
import torch.nn as nn

from symcorr.distributions import HaarOrthogonal, Normal, PointMass, TruncatedNormal, Uniform
from symcorr.errors import SpecError
from symcorr.rng import make_generator
from symcorr.torch_models import calculate_gain, default_linear_laws, exact_number, fans, read_initialiser

KS_ALPHA = 1e-3
SHAPE = (200, 50)  # fan_out = 200, fan_in = 50: every fan mistake changes the law
P = functools.partial

CASES = [
    (nn.init.normal_, Normal(0, 1)),
    (P(nn.init.normal_, mean=0.5, std=0.02), Normal(sp.Rational(1, 2), sp.Rational(1, 2500))),
    (P(nn.init.uniform_, a=-0.3, b=0.7), Uniform(sp.Rational(-3, 10), sp.Rational(7, 10))),
    (nn.init.xavier_normal_, Normal(0, sp.Rational(2, 250))),
    (P(nn.init.xavier_uniform_, gain=2.0), Uniform(-2 * sp.sqrt(sp.Rational(6, 250)), 2 * sp.sqrt(sp.Rational(6, 250)))),
    (nn.init.kaiming_normal_, Normal(0, sp.Rational(2, 50))),
    (P(nn.init.kaiming_normal_, mode="fan_out", nonlinearity="relu"), Normal(0, sp.Rational(2, 200))),
    (P(nn.init.kaiming_normal_, a=0.2, nonlinearity="leaky_relu"), Normal(0, 2 / (1 + sp.Rational(1, 25)) / 50)),
    (P(nn.init.kaiming_uniform_, nonlinearity="tanh"), Uniform(-sp.Rational(5, 3) * sp.sqrt(sp.Rational(3, 50)),
                                                               sp.Rational(5, 3) * sp.sqrt(sp.Rational(3, 50)))),
    (P(nn.init.kaiming_uniform_, a=math.sqrt(5)), Uniform(-1 / sp.sqrt(50), 1 / sp.sqrt(50))),
    (P(nn.init.trunc_normal_, std=0.02), TruncatedNormal(0, sp.Rational(1, 50), -2, 2)),
    (P(nn.init.trunc_normal_, mean=0.1, std=1.0, a=-0.5, b=1.5), TruncatedNormal(sp.Rational(1, 10), 1, sp.Rational(-1, 2),
                                                                                sp.Rational(3, 2))),
]


def _scipy(law):
    if isinstance(law, Normal):
        return scipy.stats.norm(float(law.loc), math.sqrt(float(law.var)))
    if isinstance(law, Uniform):
        lo, hi = float(law.low), float(law.high)
        return scipy.stats.uniform(lo, hi - lo)
    p = law.numeric_params()
    return scipy.stats.truncnorm((p["low"] - p["mean"]) / p["std"], (p["high"] - p["mean"]) / p["std"], loc=p["mean"],
                                 scale=p["std"])


def _torch_sample(init, shape=SHAPE, seed=0) -> torch.Tensor:
    t = torch.empty(shape, dtype=torch.float64)
    init(t, generator=make_generator(seed))
    return t.reshape(-1)


def _agrees(sample: torch.Tensor, law) -> bool:
    """KS at 1e-3 and three moments within 4 s.e."""
    if scipy.stats.kstest(sample.numpy(), _scipy(law).cdf).pvalue <= KS_ALPHA:
        return False
    mu = float(law.moment(1))
    n = sample.numel()
    for k, stat in ((1, sample), (2, (sample - mu) ** 2), (4, (sample - mu) ** 4)):
        want = mu if k == 1 else float(sp.N(law.central_moment(k)))
        if abs(float(stat.mean()) - want) >= 4 * float(stat.std()) / math.sqrt(n):
            return False
    return True


@pytest.mark.parametrize("init, want", CASES, ids=lambda v: repr(v)[:60])
def test_read_law_is_exact_and_matches_torch_sampling(init, want):
    law = read_initialiser(init, "init").law(SHAPE, "weight")
    assert law == want
    assert _agrees(_torch_sample(init), law)


def test_the_checks_reject_wrong_laws():
    """fan_out read as fan_in, xavier's fan sum replaced by 2 fan_in, and the tanh gain forgotten all fail."""
    fan_out = _torch_sample(P(nn.init.kaiming_normal_, mode="fan_out"))
    assert _agrees(fan_out, Normal(0, sp.Rational(2, 200)))
    assert not _agrees(fan_out, Normal(0, sp.Rational(2, 50)))
    xavier = _torch_sample(nn.init.xavier_uniform_)
    assert not _agrees(xavier, Uniform(-sp.sqrt(sp.Rational(3, 50)), sp.sqrt(sp.Rational(3, 50))))
    tanh = _torch_sample(P(nn.init.kaiming_uniform_, nonlinearity="tanh"))
    assert not _agrees(tanh, Uniform(-sp.sqrt(sp.Rational(6, 50)), sp.sqrt(sp.Rational(6, 50))))


def test_torch_default_linear_initialisation():
    r"""nn.Linear.reset_parameters (torch's global RNG, forked here): W and b are U[-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    w_law, b_law = default_linear_laws(50)
    assert w_law == Uniform(-1 / sp.sqrt(50), 1 / sp.sqrt(50)) == b_law
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        lin = nn.Linear(50, 2000).double()
        biases = torch.cat([nn.Linear(50, 2000).double().bias.detach() for _ in range(25)])
    assert _agrees(lin.weight.detach().reshape(-1), w_law)
    assert _agrees(biases, b_law)
    assert not _agrees(lin.weight.detach().reshape(-1), Uniform(-sp.sqrt(sp.Rational(6, 50)), sp.sqrt(sp.Rational(6, 50))))


def test_point_masses_and_orthogonal():
    assert read_initialiser(nn.init.zeros_, "w").law(SHAPE, "w") == PointMass(0)
    assert read_initialiser(P(nn.init.constant_, val=0.25), "w").law(SHAPE, "w") == PointMass(sp.Rational(1, 4))
    law = read_initialiser(P(nn.init.orthogonal_, gain=nn.init.calculate_gain("relu")), "w").law((4, 6), "w")
    assert law == HaarOrthogonal(sp.sqrt(2))


def test_calculate_gain_matches_torch():
    for args in (("linear",), ("conv1d",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",), ("leaky_relu", 0.2),
                 ("leaky_relu", 0), ("selu",)):
        assert float(calculate_gain(*args)) == pytest.approx(nn.init.calculate_gain(*args), rel=1e-15)
    with pytest.raises(SpecError, match="unsupported nonlinearity"):
        calculate_gain("softmax")
    with pytest.raises(SpecError, match="negative_slope"):
        calculate_gain("leaky_relu", True)


def test_fans_match_torch():
    for shape in ((3, 5), (4, 2, 3), (6, 3, 2, 2)):
        assert fans(shape) == nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    with pytest.raises(SpecError, match="at least 2 dimensions"):
        fans((5,))


def test_arguments_bind_as_torch_binds_them():
    init = read_initialiser(P(nn.init.normal_, std=0.5), "init")
    assert dict(init.arguments) == {"mean": 0.0, "std": 0.5}
    with pytest.raises(SpecError, match="first argument"):
        read_initialiser(P(nn.init.normal_, 0.0), "init")
    with pytest.raises(SpecError, match="do not bind"):
        read_initialiser(P(nn.init.normal_, sd=0.5), "init")
    with pytest.raises(SpecError, match="unsupported initialiser"):
        read_initialiser(lambda t: t, "init")
    with pytest.raises(SpecError, match="unsupported initialiser"):
        read_initialiser(nn.init.dirac_, "init")
    with pytest.raises(SpecError, match="orthogonal_ needs a matrix"):
        read_initialiser(nn.init.orthogonal_, "b").law((5,), "b")


def test_exact_numbers():
    assert exact_number(0.02, "x") == sp.Rational(1, 50)
    assert exact_number(math.sqrt(2), "x") == sp.sqrt(2)
    assert float(exact_number(math.pi, "x")) == math.pi
    assert exact_number(torch.tensor(0.5), "x") == sp.Rational(1, 2)
    for bad in (float("nan"), "1", True):
        with pytest.raises(SpecError):
            exact_number(bad, "x")
