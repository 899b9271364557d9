r"""Parameter distributions: one object feeds the symbolic (SymPy) and the numeric (torch) frame.

A *scalar law* describes one real parameter.  Attached to a parameter block (a weight matrix or a bias
vector of a layer) it means **iid entries**: the block density is the product
:math:`P(\theta) = \prod_{ij} p(\theta_{ij})`.  The scalar laws are

* :class:`Normal` -- :math:`p(x) = (2\pi\sigma^2)^{-1/2} e^{-(x-\mu)^2/2\sigma^2}`; it also carries a
  structured mean and covariance for a whole block (see below), so "Normal with mean/covariance" is one
  class;
* :class:`Uniform` -- :math:`p(x) = 1/(b-a)` on :math:`[a, b)`;
* :class:`UniformCircle` -- the uniform phase on the circle :math:`[-\pi, \pi)`, identified mod
  :math:`2\pi` (the Cos-net bias: shifts :math:`b \mapsto b + c \bmod 2\pi` leave it invariant);
* :class:`Laplace` -- :math:`p(x) = e^{-|x-\mu|/s}/(2s)`;
* :class:`Rademacher` -- :math:`\pm s` with probability 1/2 each;
* :class:`TruncatedNormal` -- :math:`N(\mu, \sigma^2)` conditioned on :math:`[a, b]` (torch's
  ``trunc_normal_``, absolute bounds);
* :class:`PointMass` -- the constant ``c`` (``zeros_``, ``constant_``).

One law is *not* iid: :class:`HaarOrthogonal`, the Haar law of a (semi-)orthogonal block times a gain
(``orthogonal_``); it is defined for whole blocks only and its scalar methods refuse.

Every law gives its SymPy density, raw/central moments, cumulants, moment generating function (MGF)
:math:`M(t) = E[e^{tX}]`, cumulant generating function :math:`K(t) = \log M(t)`, characteristic
function :math:`E[e^{itX}]`, and a seeded torch sampler.  Parameters may be numbers or SymPy
expressions (``sigma_w**2 / D``) or expression strings (parsed safely by
:func:`symcorr.expressions.parse_expression`; unknown names become real symbols); numeric methods need
them to be numbers and say so otherwise.

Modules: :mod:`~symcorr.distributions.base` (:class:`Law`, :func:`as_expr`, :func:`numeric_value`
and the shared checks), :mod:`~symcorr.distributions.normal` (:class:`Normal`, iid or structured),
:mod:`~symcorr.distributions.scalar` (the other scalar laws), :mod:`~symcorr.distributions.truncated`
(:class:`TruncatedNormal`), :mod:`~symcorr.distributions.point` (:class:`PointMass`),
:mod:`~symcorr.distributions.orthogonal` (:class:`HaarOrthogonal`).  Everything is importable from
``symcorr.distributions``.

Structured Gaussian blocks
--------------------------
``Normal(mean=M, var=v, row_cov=U, col_cov=V)`` on a weight block :math:`W \in R^{n\times m}` means

.. math:: E[W_{ij}] = M_{ij},\qquad \mathrm{Cov}(W_{ij}, W_{kl}) = v\,U_{ik} V_{jl},

(a matrix normal law, :math:`\mathrm{vec}\,W \sim N(\mathrm{vec}\,M, v\, V\otimes U)`), where ``mean`` is
a scalar (all entries), a length-``n`` vector (one mean per output unit, i.e. per row: the paper's
:math:`\mu_{W^1}` on the first ``k`` rows) or a full ``n x m`` matrix.  On a bias vector
:math:`b \in R^n` use ``Normal(mean=m, cov=C)``: :math:`b \sim N(m, v\,C)`.
"""

from __future__ import annotations

from .base import (Law, _as_matrix, _check_order, _check_real, _check_sign, _generator_device, _is_scalar_like,
                   _tri, as_expr, numeric_value, substitution)
from .normal import Normal, _check_cov, _double_factorial_odd
from .orthogonal import HaarOrthogonal
from .point import PointMass
from .scalar import Laplace, Rademacher, Uniform, UniformCircle, _log_cosh, _log_sinhc
from .truncated import TruncatedNormal

__all__ = [
    "Law",
    "Normal",
    "Uniform",
    "UniformCircle",
    "Laplace",
    "Rademacher",
    "TruncatedNormal",
    "PointMass",
    "HaarOrthogonal",
    "as_expr",
    "numeric_value",
    "substitution",
    "LAWS",
    "law_names",
]

#: name used in spec files -> class
LAWS = {cls.kind: cls for cls in (Normal, Uniform, UniformCircle, Laplace, Rademacher, TruncatedNormal, PointMass,
                                  HaarOrthogonal)}


def law_names() -> list[str]:
    """The law names accepted in spec files (``law = "normal"`` ...), sorted."""
    return sorted(LAWS)
