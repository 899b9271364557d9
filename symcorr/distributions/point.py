r"""The point mass :math:`\delta_c`: a parameter that is the constant ``c`` (``torch.nn.init.zeros_`` and
``constant_``).

:math:`P(X = c) = 1`: moments :math:`E[X^k] = c^k`, cumulants :math:`\kappa_1 = c` and
:math:`\kappa_k = 0` for :math:`k \ge 2`, :math:`M(t) = e^{ct}`, :math:`\varphi(t) = e^{ict}`; its
"density" is the Dirac delta :math:`\delta(x - c)`, so it has no Lebesgue log-density.  A block with
this law is the constant matrix :math:`c\,\mathbf 1\mathbf 1^T`; for :math:`c = 0` it is invariant under
every linear map of the block (:mod:`symcorr.duality.invariance`).
"""

from __future__ import annotations

import sympy as sp
import torch

from ..errors import SpecError
from .base import Law, _check_order, _check_real, _generator_device, _tri, as_expr

__all__ = ["PointMass"]


class PointMass(Law):
    r"""The law of the constant ``value``: :math:`\delta_c` (``zeros_``: ``PointMass(0)``,
    ``constant_(tensor, val)``: ``PointMass(val)``)."""

    kind = "point"

    def __init__(self, value=0):
        self.value = _check_real(as_expr(value, "value"), "value", "the value")

    def _params(self):
        return {"value": self.value}

    def latex(self):
        return rf"\delta_{{{sp.latex(self.value)}}}"

    @property
    def is_symmetric(self):
        return _tri(self.value.is_zero)

    @property
    def mean(self):
        return self.value

    @property
    def variance(self):
        return sp.Integer(0)

    def density(self, x):
        x = as_expr(x, "x")
        return sp.DiracDelta(x - self.value)

    def log_density(self, x):
        raise SpecError("a point mass has no density with respect to Lebesgue measure; use .density(x) "
                        "(a Dirac delta) or its moments")

    def block_log_density(self, theta):
        raise SpecError("a point-mass block has no Lebesgue density: it is the constant matrix c 1 1^T")

    def moment(self, k):
        r""":math:`E[X^k] = c^k`."""
        k = _check_order(k)
        return self.value ** k

    def cumulant(self, k):
        r""":math:`\kappa_1 = c`, :math:`\kappa_k = 0` for :math:`k\ge2`."""
        k = _check_order(k, minimum=1)
        return self.value if k == 1 else sp.Integer(0)

    def mgf(self, t):
        t = as_expr(t, "t")
        return sp.exp(self.value * t)

    def cgf(self, t):
        t = as_expr(t, "t")
        return self.value * t

    def characteristic_function(self, t):
        t = as_expr(t, "t")
        return sp.exp(sp.I * self.value * t)

    def sample(self, shape, generator=None, dtype=torch.float64, device=None):
        """The constant; draws nothing from the generator (as ``torch.nn.init.constant_``)."""
        c = self.numeric_params()["value"]
        return torch.full(tuple(shape), c, dtype=dtype, device=_generator_device(generator, device))

    def torch_cgf(self, t):
        return self.numeric_params()["value"] * t
