r"""The scalar laws other than the Normal: :class:`Uniform`, :class:`UniformCircle`, :class:`Laplace`,
:class:`Rademacher` (each iid across a block).

* :class:`Uniform` -- :math:`p(x) = 1/(b-a)` on :math:`[a, b)`;
* :class:`UniformCircle` -- the uniform phase on the circle :math:`[-\pi, \pi)`, identified mod
  :math:`2\pi` (the Cos-net bias: shifts :math:`b \mapsto b + c \bmod 2\pi` leave it invariant);
* :class:`Laplace` -- :math:`p(x) = e^{-|x-\mu|/s}/(2s)`;
* :class:`Rademacher` -- :math:`\pm s` with probability 1/2 each.
"""

from __future__ import annotations

import math

import sympy as sp
import torch

from ..errors import SpecError
from .base import Law, _check_order, _check_real, _check_sign, _generator_device, _tri, as_expr

__all__ = ["Uniform", "UniformCircle", "Laplace", "Rademacher"]


def _log_sinhc(u: torch.Tensor) -> torch.Tensor:
    r"""Stable :math:`\log(\sinh(u)/u)`, even in u, finite for all finite u."""
    a = u.abs()
    small = a < 1e-3
    safe = torch.where(small, torch.ones_like(a), a)
    large = safe - math.log(2.0) - torch.log(safe) + torch.log1p(-torch.exp(-2.0 * safe))
    return torch.where(small, a * a / 6.0, large)


def _log_cosh(u: torch.Tensor) -> torch.Tensor:
    a = u.abs()
    return a + torch.log1p(torch.exp(-2.0 * a)) - math.log(2.0)


# ----------------------------------------------------------------------------------------------------
# Uniform and the uniform phase
# ----------------------------------------------------------------------------------------------------
class Uniform(Law):
    r"""Uniform law on :math:`[a, b)`: :math:`p(x) = 1/(b-a)`,
    :math:`M(t) = (e^{tb} - e^{ta})/(t(b-a))`."""

    kind = "uniform"

    def __init__(self, low=-1, high=1):
        self.low = _check_real(as_expr(low, "low"), "low", "low")
        self.high = _check_real(as_expr(high, "high"), "high", "high")
        width = sp.simplify(self.high - self.low)
        _check_sign(width, "high", strict=True, name="high - low")

    def _params(self):
        return {"low": self.low, "high": self.high}

    def latex(self):
        return rf"\mathcal{{U}}\left[{sp.latex(self.low)}, {sp.latex(self.high)}\right)"

    @property
    def is_symmetric(self):
        return _tri(sp.simplify(self.low + self.high).is_zero)

    def density(self, x):
        x = as_expr(x, "x")
        return sp.Piecewise((1 / (self.high - self.low), sp.And(x >= self.low, x < self.high)), (0, True))

    def moment(self, k):
        k = _check_order(k)
        a, b = self.low, self.high
        return sp.simplify(sp.cancel((b ** (k + 1) - a ** (k + 1)) / ((k + 1) * (b - a))))

    def mgf(self, t):
        t = as_expr(t, "t")
        a, b = self.low, self.high
        return (sp.exp(t * b) - sp.exp(t * a)) / (t * (b - a))

    def characteristic_function(self, t):
        t = as_expr(t, "t")
        a, b = self.low, self.high
        c, w = (a + b) / 2, (b - a) / 2
        return sp.exp(sp.I * t * c) * sp.sin(t * w) / (t * w)

    def sample(self, shape, generator=None, dtype=torch.float64, device=None):
        p = self.numeric_params()
        dev = _generator_device(generator, device)
        u = torch.rand(tuple(shape), generator=generator, dtype=dtype, device=dev)
        return p["low"] + (p["high"] - p["low"]) * u

    def torch_cgf(self, t):
        p = self.numeric_params()
        c, w = 0.5 * (p["low"] + p["high"]), 0.5 * (p["high"] - p["low"])
        return c * t + _log_sinhc(w * t)


class UniformCircle(Uniform):
    r"""Uniform phase on the circle :math:`[-\pi, \pi)` identified modulo :math:`2\pi`.

    Its characteristic function at integers is :math:`E[e^{inb}] = \delta_{n0}`, and it is invariant
    under every rotation of the circle :math:`b \mapsto b + c \pmod{2\pi}`: the Cos-net bias that makes
    translations of the input a symmetry at any width.
    """

    is_periodic = True
    period = 2 * sp.pi
    kind = "uniform_circle"

    def __init__(self):
        super().__init__(-sp.pi, sp.pi)

    def _params(self):
        return {}

    def _rebuild(self, params):
        return UniformCircle()

    def _key(self):
        return ()

    def __repr__(self):
        return "UniformCircle()"

    def latex(self):
        return r"\mathcal{U}(S^1)"

    @property
    def is_symmetric(self):
        return True

    def numeric_params(self):
        return {"low": -math.pi, "high": math.pi}

    def moment(self, k):
        k = _check_order(k)
        return sp.Integer(0) if k % 2 else sp.pi ** k / (k + 1)

    def mgf(self, t):
        t = as_expr(t, "t")
        return sp.sinh(sp.pi * t) / (sp.pi * t)

    def characteristic_function(self, t):
        t = as_expr(t, "t")
        return sp.sin(sp.pi * t) / (sp.pi * t)


# ----------------------------------------------------------------------------------------------------
# Laplace and Rademacher
# ----------------------------------------------------------------------------------------------------
class Laplace(Law):
    r"""Laplace law :math:`p(x) = e^{-|x-\mu|/s}/(2s)`; :math:`M(t) = e^{\mu t}/(1 - s^2t^2)` for
    :math:`|t| < 1/s`; variance :math:`2s^2`."""

    kind = "laplace"

    def __init__(self, loc=0, scale=1):
        self.loc = _check_real(as_expr(loc, "loc"), "loc", "loc")
        self.scale = as_expr(scale, "scale")
        _check_sign(self.scale, "scale", strict=True, name="scale")

    def _params(self):
        return {"loc": self.loc, "scale": self.scale}

    def latex(self):
        return rf"\mathrm{{Laplace}}\left({sp.latex(self.loc)}, {sp.latex(self.scale)}\right)"

    @property
    def is_symmetric(self):
        return _tri(self.loc.is_zero)

    def density(self, x):
        x = as_expr(x, "x")
        return sp.exp(-sp.Abs(x - self.loc) / self.scale) / (2 * self.scale)

    def moment(self, k):
        r""":math:`E[X^k] = \sum_{j\,\mathrm{even}}\binom{k}{j}\mu^{k-j} j!\, s^j`."""
        k = _check_order(k)
        return sp.expand(sum(sp.binomial(k, j) * self.loc ** (k - j) * sp.factorial(j) * self.scale ** j
                             for j in range(0, k + 1, 2)))

    def mgf(self, t):
        t = as_expr(t, "t")
        return sp.exp(self.loc * t) / (1 - self.scale ** 2 * t ** 2)

    def characteristic_function(self, t):
        t = as_expr(t, "t")
        return sp.exp(sp.I * self.loc * t) / (1 + self.scale ** 2 * t ** 2)

    def sample(self, shape, generator=None, dtype=torch.float64, device=None):
        """Inverse-CDF sampling from ``torch.rand`` so that the generator is honoured."""
        p = self.numeric_params()
        dev = _generator_device(generator, device)
        u = torch.rand(tuple(shape), generator=generator, dtype=dtype, device=dev) - 0.5
        tiny = torch.finfo(dtype).tiny
        return p["loc"] - p["scale"] * torch.sign(u) * torch.log((1 - 2 * u.abs()).clamp_min(tiny))

    def torch_cgf(self, t):
        p = self.numeric_params()
        st = p["scale"] * t
        inside = st.abs() < 1
        safe = torch.where(inside, st, torch.zeros_like(st))
        value = p["loc"] * t - torch.log1p(-safe * safe)
        return torch.where(inside, value, torch.full_like(value, math.inf))


class Rademacher(Law):
    r"""Symmetric two-point law :math:`\pm s` with probability 1/2; :math:`M(t) = \cosh(st)`."""

    kind = "rademacher"

    def __init__(self, scale=1):
        self.scale = as_expr(scale, "scale")
        _check_sign(self.scale, "scale", strict=True, name="scale")

    def _params(self):
        return {"scale": self.scale}

    def latex(self):
        return rf"\mathrm{{Rademacher}}\left(\pm {sp.latex(self.scale)}\right)"

    @property
    def is_symmetric(self):
        return True

    def density(self, x):
        x = as_expr(x, "x")
        return (sp.DiracDelta(x - self.scale) + sp.DiracDelta(x + self.scale)) / 2

    def log_density(self, x):
        raise SpecError("a Rademacher law has no density with respect to Lebesgue measure; "
                        "use .density(x) (Dirac deltas) or its moments")

    def block_log_density(self, theta):
        raise SpecError("a Rademacher block has no Lebesgue density; its law is the uniform measure on "
                        "the sign patterns")

    def moment(self, k):
        k = _check_order(k)
        return sp.Integer(0) if k % 2 else self.scale ** k

    def mgf(self, t):
        t = as_expr(t, "t")
        return sp.cosh(self.scale * t)

    def characteristic_function(self, t):
        t = as_expr(t, "t")
        return sp.cos(self.scale * t)

    def sample(self, shape, generator=None, dtype=torch.float64, device=None):
        s = self.numeric_params()["scale"]
        dev = _generator_device(generator, device)
        bits = torch.randint(0, 2, tuple(shape), generator=generator, device=dev)
        return (2 * bits - 1).to(dtype) * s

    def torch_cgf(self, t):
        return _log_cosh(self.numeric_params()["scale"] * t)

