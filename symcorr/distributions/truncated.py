r"""The truncated normal law of ``torch.nn.init.trunc_normal_(tensor, mean, std, a, b)``.

:math:`X \sim N(\mu, \sigma^2)` conditioned on :math:`a \le X \le b`, with **absolute** bounds ``a, b``
(torch's semantics: the default :math:`a = -2, b = 2` are not in units of ``std``).  With the
standardised bounds :math:`\alpha = (a-\mu)/\sigma`, :math:`\beta = (b-\mu)/\sigma`, the normal density
:math:`\varphi`, its distribution function :math:`\Phi(x) = (1 + \mathrm{erf}(x/\sqrt2))/2` and
:math:`Z = \Phi(\beta) - \Phi(\alpha)`:

.. math:: p(x) = \frac{\varphi((x-\mu)/\sigma)}{\sigma Z}\ \ (a \le x \le b),\qquad
          E[e^{tX}] = e^{\mu t + \sigma^2t^2/2}\,\frac{\Phi(\beta - \sigma t) - \Phi(\alpha - \sigma t)}{Z}.

Moments in closed form: the standardised variable :math:`Y = (X-\mu)/\sigma` has
:math:`M_0 = 1`, :math:`M_1 = (\varphi(\alpha) - \varphi(\beta))/Z` and (integration by parts with
:math:`\varphi' = -y\varphi`)

.. math:: M_k = E[Y^k] = (k-1)\,M_{k-2} + \frac{\alpha^{k-1}\varphi(\alpha) - \beta^{k-1}\varphi(\beta)}{Z},

so :math:`E[X^k] = \sum_j \binom kj \mu^{k-j}\sigma^j M_j`.

Sampling is by the inverse distribution function, :math:`X = \mu + \sigma\,\Phi^{-1}(\Phi(\alpha) + Z U)`
with :math:`U \sim U[0,1)` from the seeded generator (computed in float64; when :math:`\alpha > 0` the
reflected interval :math:`[-\beta, -\alpha]` is used so that the probabilities stay small and exact),
clamped to :math:`[a, b]`.  It is not torch's rejection sampler draw for draw, but the same law (tested
against ``trunc_normal_`` with a Kolmogorov-Smirnov test).
"""

from __future__ import annotations

import sympy as sp
from sympy.core.logic import fuzzy_and
import torch

from ..errors import SpecError
from .base import Law, _check_order, _check_real, _check_sign, _generator_device, _tri, as_expr

__all__ = ["TruncatedNormal"]


def _phi(x):
    return sp.exp(-x ** 2 / 2) / sp.sqrt(2 * sp.pi)


def _cdf(x):
    return (1 + sp.erf(x / sp.sqrt(2))) / 2


def _log_interval_probability(lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    r""":math:`\log(\Phi(hi) - \Phi(lo))` elementwise, stable in both tails (``lo < hi``)."""
    upper = lo > 0  # both in the upper tail: use Phi(-lo) - Phi(-hi)
    a = torch.where(upper, -hi, lo)
    b = torch.where(upper, -lo, hi)
    lb, la = torch.special.log_ndtr(b), torch.special.log_ndtr(a)
    return lb + torch.log1p(-torch.exp(la - lb))


class TruncatedNormal(Law):
    r""":math:`N(\mu, \sigma^2)` truncated to :math:`[a, b]` (torch's ``trunc_normal_(mean, std, a, b)``,
    absolute bounds; see the module docstring)."""

    kind = "truncated_normal"

    def __init__(self, mean=0, std=1, low=-2, high=2):
        self.loc = _check_real(as_expr(mean, "mean"), "mean", "the mean")
        self.std = as_expr(std, "std")
        _check_sign(self.std, "std", strict=True, name="std")
        self.low = _check_real(as_expr(low, "low"), "low", "low")
        self.high = _check_real(as_expr(high, "high"), "high", "high")
        _check_sign(sp.simplify(self.high - self.low), "high", strict=True, name="high - low")
        for name, v in (("low", self.low), ("high", self.high)):
            if v.is_infinite:
                raise SpecError(f"{name} must be finite, got {v}", name)
        self._moments: dict[int, sp.Expr] = {}

    def _params(self):
        return {"mean": self.loc, "std": self.std, "low": self.low, "high": self.high}

    def latex(self):
        return (rf"\mathcal{{N}}_{{[{sp.latex(self.low)}, {sp.latex(self.high)}]}}"
                rf"\left({sp.latex(self.loc)}, {sp.latex(self.std ** 2)}\right)")

    # --- the standardised bounds -------------------------------------------------------------------
    @property
    def _alpha(self):
        return (self.low - self.loc) / self.std

    @property
    def _beta(self):
        return (self.high - self.loc) / self.std

    @property
    def _z(self):
        return _cdf(self._beta) - _cdf(self._alpha)

    @property
    def is_symmetric(self):
        return _tri(fuzzy_and([self.loc.is_zero, sp.simplify(self.low + self.high).is_zero]))

    def density(self, x):
        x = as_expr(x, "x")
        inside = sp.And(x >= self.low, x <= self.high)
        return sp.Piecewise((_phi((x - self.loc) / self.std) / (self.std * self._z), inside), (0, True))

    def _standard_moment(self, k: int) -> sp.Expr:
        """:math:`M_k = E[Y^k]` by the recursion of the module docstring."""
        if k not in self._moments:
            if k == 0:
                value = sp.Integer(1)
            elif k == 1:
                value = (_phi(self._alpha) - _phi(self._beta)) / self._z
            else:
                a, b = self._alpha, self._beta
                value = (k - 1) * self._standard_moment(k - 2) + \
                    (a ** (k - 1) * _phi(a) - b ** (k - 1) * _phi(b)) / self._z
            self._moments[k] = value
        return self._moments[k]

    def moment(self, k):
        r""":math:`E[X^k] = \sum_j\binom kj\mu^{k-j}\sigma^jM_j` (exact)."""
        k = _check_order(k)
        return sp.Add(*[sp.binomial(k, j) * self.loc ** (k - j) * self.std ** j * self._standard_moment(j)
                        for j in range(k + 1)])

    def cumulant(self, k):
        r"""Cumulants from the raw moments by the recursion of :meth:`Law.cumulant`, expanded but not
        simplified (the erf/exp expressions of the bounds make ``simplify`` slow)."""
        k = _check_order(k, minimum=1)
        kappas: list[sp.Expr] = [sp.Integer(0)]
        for n in range(1, k + 1):
            value = self.moment(n) - sum((sp.binomial(n - 1, j - 1) * kappas[j] * self.moment(n - j)
                                          for j in range(1, n)), sp.Integer(0))
            kappas.append(sp.expand(value))
        return kappas[k]

    @property
    def mean(self):
        return self.moment(1)

    @property
    def variance(self):
        return sp.expand(self.moment(2) - self.moment(1) ** 2)

    def mgf(self, t):
        t = as_expr(t, "t")
        s = self.std
        return (sp.exp(self.loc * t + s ** 2 * t ** 2 / 2)
                * (_cdf(self._beta - s * t) - _cdf(self._alpha - s * t)) / self._z)

    def characteristic_function(self, t):
        t = as_expr(t, "t")
        s = self.std
        return (sp.exp(sp.I * self.loc * t - s ** 2 * t ** 2 / 2)
                * (_cdf(self._beta - sp.I * s * t) - _cdf(self._alpha - sp.I * s * t)) / self._z)

    # --- numerics ----------------------------------------------------------------------------------
    def _numbers(self):
        p = self.numeric_params()
        mu, sd, lo, hi = p["mean"], p["std"], p["low"], p["high"]
        return mu, sd, lo, hi, (lo - mu) / sd, (hi - mu) / sd

    def sample(self, shape, generator=None, dtype=torch.float64, device=None):
        """Inverse-CDF draws (see the module docstring), ``shape`` iid entries."""
        mu, sd, lo, hi, alpha, beta = self._numbers()
        reflect = alpha > 0
        a, b = (-beta, -alpha) if reflect else (alpha, beta)
        ca = torch.special.ndtr(torch.tensor(a, dtype=torch.float64))
        cb = torch.special.ndtr(torch.tensor(b, dtype=torch.float64))
        if not float(cb - ca) > 0:
            raise SpecError(f"the interval [{lo:.3g}, {hi:.3g}] has probability 0 under N({mu:.3g}, {sd:.3g}^2) "
                            "in double precision", "low")
        dev = _generator_device(generator, device)
        u = torch.rand(tuple(shape), generator=generator, dtype=torch.float64, device=dev)
        y = torch.special.ndtri(ca.to(dev) + (cb - ca).to(dev) * u)
        y = -y if reflect else y
        return (mu + sd * y).clamp(lo, hi).to(dtype)

    def torch_cgf(self, t):
        r""":math:`K(t) = \mu t + \sigma^2t^2/2 + \log(\Phi(\beta-\sigma t) - \Phi(\alpha-\sigma t)) - \log Z`."""
        mu, sd, _, _, alpha, beta = self._numbers()
        t64 = t.to(torch.float64)
        z = _log_interval_probability(torch.tensor(alpha, dtype=torch.float64), torch.tensor(beta, dtype=torch.float64))
        shifted = _log_interval_probability(alpha - sd * t64, beta - sd * t64)
        return (mu * t64 + 0.5 * sd * sd * t64 * t64 + shifted - z).to(t.dtype)

