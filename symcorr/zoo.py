r"""The paper's single-hidden-layer networks, in the standard parameterisation of both codebases:

.. math:: f(x) = W^1 \phi(W^0 x + b^0) + b^1,\quad W^0 \sim N(0, \sigma_{W0}^2/d_{in}),\
          b^0 \sim N(0, \sigma_{b0}^2),\quad W^1 \sim N(0, \sigma_{W1}^2/N),\quad b^1 \sim N(0, \sigma_{b1}^2).

Cos-net differs: :math:`b^0 \sim U[-\pi, \pi)` (uniform phase).  Widths and input dimensions may be
SymPy symbols; ``sigma_b1=None`` (or ``0``) drops the read-out bias, ``sigma_b0=None`` the hidden bias.
"""

from __future__ import annotations

import sympy as sp

from .distributions import Law, Normal, UniformCircle, as_expr
from .spec import Dense, Network

__all__ = ["single_layer", "gauss_net", "erf_net", "relu_net", "cos_net", "tanh_net"]


def _normal_or_none(sigma, what: str) -> Law | None:
    if sigma is None or (not isinstance(sigma, (sp.Basic, str)) and sigma == 0):
        return None
    return Normal(0, as_expr(sigma, what) ** 2)


def single_layer(activation, d_in, width, d_out=1, *, sigma_w0=1, sigma_b0=1, sigma_w1=1, sigma_b1=1,
                 hidden_bias: Law | None = None, readout_mean=0, name=None) -> Network:
    """One hidden layer with Gaussian laws in the standard parameterisation (see module docstring).

    ``hidden_bias`` overrides the hidden-bias law; ``readout_mean`` is the mean of :math:`W^1`
    (a scalar or a per-output vector: the paper's :math:`\\mu_{W^1}` on the first k rows).
    """
    w0 = Normal(0, as_expr(sigma_w0, "sigma_w0") ** 2 / d_in)
    b0 = hidden_bias if hidden_bias is not None else _normal_or_none(sigma_b0, "sigma_b0")
    w1 = Normal(readout_mean, as_expr(sigma_w1, "sigma_w1") ** 2 / width)
    return Network(d_in, [Dense(width, activation, weight=w0, bias=b0),
                          Dense(d_out, "identity", weight=w1, bias=_normal_or_none(sigma_b1, "sigma_b1"))],
                   name=name)


def gauss_net(d_in, width, d_out=1, **kw) -> Network:
    r"""Gauss-net: :math:`\phi(z) = \exp(z - k_0(x,x))`; GP kernel
    :math:`\sigma_{b1}^2 + \sigma_{W1}^2\exp(-\sigma_{W0}^2|x-x'|^2/2d_{in})`."""
    return single_layer("gauss", d_in, width, d_out, name="Gauss-net", **kw)


def erf_net(d_in, width, d_out=1, **kw) -> Network:
    """Erf-net (arcsine kernel)."""
    return single_layer("erf", d_in, width, d_out, name="Erf-net", **kw)


def relu_net(d_in, width, d_out=1, **kw) -> Network:
    """ReLU-net (arc-cosine kernel of order 1)."""
    return single_layer("relu", d_in, width, d_out, name="ReLU-net", **kw)


def tanh_net(d_in, width, d_out=1, **kw) -> Network:
    """tanh-net (no closed-form kernel: its correlators stay parameter integrals)."""
    return single_layer("tanh", d_in, width, d_out, name="tanh-net", **kw)


def cos_net(d_in, width, d_out=1, *, phase: Law | None = None, **kw) -> Network:
    r"""Cos-net: :math:`\phi = \cos`, hidden bias a uniform phase :math:`U[-\pi,\pi)` (default), which
    makes input translations a symmetry at every width.  ``phase=Normal(0, 1)`` breaks it."""
    kw.pop("sigma_b0", None)
    return single_layer("cos", d_in, width, d_out, hidden_bias=phase or UniformCircle(), name="Cos-net", **kw)
