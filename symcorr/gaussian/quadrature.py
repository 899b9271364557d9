r"""Gaussian expectations by tensor-product Gauss-Hermite quadrature, with an error estimate.

For :math:`u \sim N(m, \Sigma)` in :math:`R^n` and a function :math:`F`, write
:math:`\Sigma = A A^T` with :math:`A = Q\,\mathrm{diag}(\sqrt{\lambda})` from the eigen-decomposition
(directions with :math:`\lambda \le 10^{-12}\lambda_{max}` dropped, so coincident or collinear points
cost no dimension), :math:`u = m + A\xi`, :math:`\xi \sim N(0, 1_r)`, and

.. math:: E[F(u)] \approx \sum_{j_1..j_r} w_{j_1}\cdots w_{j_r}\, F(m + A(\xi_{j_1},\dots,\xi_{j_r})),

with the probabilists' Gauss-Hermite nodes :math:`\xi_j` and weights :math:`w_j` (``hermegauss``,
normalised to sum to 1).  The rule is exact for polynomials of degree :math:`2q-1` per direction and
converges fast for smooth :math:`F`, slowly for kinks (ReLU).  Every result is computed at two
resolutions :math:`q_1 < q_2`; the reported value is the finer one and the **error estimate** is
:math:`|Q_{q_2} - Q_{q_1}|` plus a rounding floor, an honest a-posteriori bound for smooth integrands
and a conservative one for kinked ones (the coarser rule is the worse one).

Batched: ``cov`` of shape ``(B, n, n)`` (and ``mean`` ``(B, n)``) gives ``B`` expectations at once; no
Python loop over the batch.  Memory is bounded by evaluating the nodes in chunks.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np
import torch

from ..errors import SpecError

__all__ = ["gauss_hermite", "RESOLUTIONS", "QuadratureResult"]

#: nodes per direction (coarse, fine) by the number of directions of the Gaussian
RESOLUTIONS = {0: (1, 1), 1: (100, 200), 2: (60, 120), 3: (24, 40), 4: (14, 22)}
_NODE_BUDGET = 2_000_000  # integrand evaluations per chunk (all batch entries together)


@lru_cache(maxsize=64)
def _rule(q: int) -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = np.polynomial.hermite_e.hermegauss(q)
    return nodes, weights / weights.sum()


def _grid(q: int, r: int, dtype, device) -> tuple[torch.Tensor, torch.Tensor]:
    """All ``q**r`` nodes ``(q**r, r)`` and their product weights ``(q**r,)``."""
    nodes, weights = _rule(q)
    t = torch.tensor(nodes, dtype=dtype, device=device)
    w = torch.tensor(weights, dtype=dtype, device=device)
    if r == 0:
        return torch.zeros((1, 0), dtype=dtype, device=device), torch.ones(1, dtype=dtype, device=device)
    mesh = torch.meshgrid(*([t] * r), indexing="ij")
    wmesh = torch.meshgrid(*([w] * r), indexing="ij")
    points = torch.stack([m.reshape(-1) for m in mesh], dim=-1)
    weight = torch.ones(points.shape[0], dtype=dtype, device=device)
    for wm in wmesh:
        weight = weight * wm.reshape(-1)
    return points, weight


class QuadratureResult(tuple):
    """``(value, error)`` tensors of the batch shape (a tuple, so ``value, error = ...`` works)."""

    @property
    def value(self) -> torch.Tensor:
        return self[0]

    @property
    def error(self) -> torch.Tensor:
        return self[1]


def _whiten(cov: torch.Tensor) -> tuple[torch.Tensor, int]:
    """``A`` with ``A A^T = cov`` on the retained directions, shape ``(B, n, r)``, and ``r`` (the largest
    rank in the batch; smaller ranks get zero columns)."""
    evals, evecs = torch.linalg.eigh(cov)
    top = evals.amax(dim=-1, keepdim=True).clamp_min(0.0)
    if bool((evals < -1e-9 * torch.clamp(top, min=1.0)).any()):
        raise SpecError("covariance is not positive semi-definite", "cov")
    keep = evals > 1e-12 * torch.clamp(top, min=1e-300)
    r = int(keep.sum(-1).max()) if keep.numel() else 0
    scale = torch.where(keep, evals.clamp_min(0.0).sqrt(), torch.zeros_like(evals))
    a = evecs * scale[..., None, :]
    order = torch.argsort(keep.to(torch.int8), dim=-1, descending=True, stable=True)  # kept columns first
    a = torch.gather(a, -1, order[..., None, :].expand_as(a))
    return a[..., :r], r


def gauss_hermite(fn: Callable[[torch.Tensor], torch.Tensor], cov, mean=None, *,
                  resolutions: Sequence[int] | None = None) -> QuadratureResult:
    r""":math:`E[F(u)]`, :math:`u\sim N(m,\Sigma)`, by Gauss-Hermite quadrature at two resolutions.

    ``fn`` maps points ``(..., n)`` to values ``(...)`` (vectorised); ``cov`` is ``(n, n)`` or
    ``(B, n, n)``, ``mean`` ``(n,)``/``(B, n)`` or None.  Returns ``(value, error)`` with the batch shape.
    ``resolutions``: nodes per direction ``(coarse, fine)`` (default :data:`RESOLUTIONS` by rank); one
    resolution ``(q,)`` gives that estimate with error 0 plus the rounding floor.
    """
    cov = torch.as_tensor(cov, dtype=torch.float64)
    single = cov.ndim == 2
    if single:
        cov = cov[None]
    if cov.ndim != 3 or cov.shape[-1] != cov.shape[-2]:
        raise SpecError(f"covariance must have shape (n, n) or (B, n, n), got {tuple(cov.shape)}", "cov")
    if not bool(torch.isfinite(cov).all()):
        raise SpecError("covariance contains NaN or infinite entries", "cov")
    b, n = cov.shape[0], cov.shape[-1]
    if mean is None:
        mean_t = torch.zeros((b, n), dtype=cov.dtype, device=cov.device)
    else:
        mean_t = torch.as_tensor(mean, dtype=cov.dtype, device=cov.device)
        mean_t = mean_t.expand(b, n) if mean_t.ndim == 1 else mean_t
        if tuple(mean_t.shape) != (b, n):
            raise SpecError(f"mean must have shape ({n},) or ({b}, {n}), got {tuple(mean_t.shape)}", "mean")
    a, r = _whiten(0.5 * (cov + cov.transpose(-1, -2)))
    if r > max(RESOLUTIONS) and resolutions is None:
        raise SpecError(f"Gauss-Hermite quadrature is limited to {max(RESOLUTIONS)} Gaussian directions by "
                        f"default (got {r}); pass explicit resolutions", "cov")
    qs = tuple(resolutions) if resolutions is not None else RESOLUTIONS[r]
    estimates = []
    for q in qs:
        nodes, weights = _grid(int(q), r, cov.dtype, cov.device)
        total = torch.zeros(b, dtype=cov.dtype, device=cov.device)
        step = max(1, _NODE_BUDGET // max(1, b))
        for s0 in range(0, nodes.shape[0], step):
            xi, w = nodes[s0:s0 + step], weights[s0:s0 + step]
            u = mean_t[:, None, :] + torch.einsum("bnr,kr->bkn", a, xi)
            values = fn(u)
            if values.shape != u.shape[:-1]:
                raise SpecError(f"the integrand must map (..., {n}) to (...), got shape {tuple(values.shape)}")
            total = total + (values * w).sum(-1)
        estimates.append(total)
    value = estimates[-1]
    error = (estimates[-1] - estimates[0]).abs() + 64 * torch.finfo(cov.dtype).eps * value.abs().clamp_min(1.0)
    if not bool(torch.isfinite(value).all()):
        raise SpecError("the Gaussian expectation is not finite (the integrand overflows at the quadrature "
                        "nodes)")
    if single:
        value, error = value[0], error[0]
    return QuadratureResult((value, error))


def product_integrand(fns: Sequence[Callable[[torch.Tensor], torch.Tensor]], powers: Sequence[int] | None = None
                      ) -> Callable[[torch.Tensor], torch.Tensor]:
    r"""The integrand :math:`F(u) = \prod_i f_i(u_i)^{p_i}` for :func:`gauss_hermite`."""
    powers = [1] * len(fns) if powers is None else list(powers)

    def fn(u: torch.Tensor) -> torch.Tensor:
        out = torch.ones(u.shape[:-1], dtype=u.dtype, device=u.device)
        for i, (f, p) in enumerate(zip(fns, powers)):
            if p:
                out = out * f(u[..., i]) ** p
        return out

    return fn


def normal_pdf(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
