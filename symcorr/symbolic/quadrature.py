r"""Numbers for Gaussian expectations :math:`E_{z\sim N(\mu,\Sigma)}\big[\prod_u f(z_u)^{p_u}\big]`.

Write :math:`z = \mu + Lu` with :math:`u\sim N(0, I_r)`, :math:`LL^T = \Sigma`, :math:`r` the rank of
:math:`\Sigma` (:func:`reduce_covariance`: an eigen-decomposition, so singular covariances -- coincident
or collinear bias-free inputs -- lower the dimension).  Then

* :func:`gauss_hermite_expectation`: tensor-product Gauss-Hermite quadrature in :math:`r` dimensions
  (:data:`DEFAULT_NODES` per dimension; the one rule, :func:`symcorr.gaussian.gauss_hermite`), adaptive
  quadrature with break points at the zeros of the pre-activations in rank one, the integrand itself in
  rank zero;
* :func:`montecarlo_gaussian_expectation`: seeded Monte Carlo (``torch.Generator``) with its standard
  error, streamed in chunks.

:class:`~symcorr.symbolic.integral.GaussianExpectation` evaluates itself with these.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..errors import SpecError
from ..gaussian import gauss_hermite
from ..rng import make_generator

__all__ = ["DEFAULT_NODES", "gauss_hermite_expectation", "montecarlo_gaussian_expectation",
           "reduce_covariance"]

#: Gauss-Hermite nodes per dimension by effective dimension (total nodes stay <= ~3e5)
DEFAULT_NODES = {1: 240, 2: 120, 3: 48, 4: 20, 5: 12, 6: 8}


def reduce_covariance(mean: np.ndarray, cov: np.ndarray, tol: float = 1e-12):
    """``z = mean + L u`` with ``u ~ N(0, I_r)``, ``r = rank(cov)`` (eigen-decomposition: works for a
    singular covariance, e.g. coincident or collinear bias-free inputs)."""
    evals, evecs = np.linalg.eigh(cov)
    scale = max(1.0, float(np.abs(evals).max()) if evals.size else 1.0)
    if evals.size and evals.min() < -1e-9 * scale:
        raise SpecError(f"covariance is not positive semi-definite (eigenvalue {evals.min():.3g})")
    keep = evals > tol * scale
    return evecs[:, keep] * np.sqrt(evals[keep])


def _integrand(f, z: np.ndarray, powers) -> np.ndarray:
    out = np.ones(z.shape[0])
    for u, p in enumerate(powers):
        vals = np.asarray(f(z[:, u]), dtype=float)
        out = out * np.broadcast_to(vals, out.shape) ** p
    return out


def _adaptive_1d(f, mean, col, powers) -> float:
    """Rank one: :math:`\\int du\\, \\varphi(u) \\prod_u f(\\mu_u + L_u u)^{p_u}` by adaptive quadrature,
    with break points where a pre-activation crosses 0 (the kink of relu-like activations)."""
    from scipy import integrate  # not a cycle: scipy.integrate costs ~0.6 s to import, only needed here

    breaks = sorted({float(-m / l) for m, l in zip(mean, col) if abs(l) > 0 and abs(m / l) < 12})

    def integrand(u):
        z = (mean + col * u)[None, :]
        return float(_integrand(f, z, powers)[0]) * math.exp(-0.5 * u * u) / math.sqrt(2 * math.pi)

    value, _ = integrate.quad(integrand, -12.0, 12.0, points=breaks or None, limit=200,
                              epsabs=1e-13, epsrel=1e-11)
    return value


def gauss_hermite_expectation(f, mean, cov, powers, nodes: int | None = None) -> float:
    r""":math:`E_{z\sim N(\mu,\Sigma)}[\prod_u f(z_u)^{p_u}]` by tensor-product Gauss-Hermite
    quadrature in the rank ``r`` of :math:`\Sigma` (``nodes`` per dimension, default by ``r``); in rank
    one (and no ``nodes`` given) by adaptive quadrature with break points at the zeros of the
    pre-activations.

    Exact for polynomial integrands of degree < 2*nodes per dimension; smooth activations (tanh, erf)
    converge exponentially, kinks (relu) algebraically.
    """
    mean = np.asarray(mean, dtype=float)
    cov = np.asarray(cov, dtype=float)
    lmat = reduce_covariance(mean, cov)
    r = lmat.shape[1]
    if r == 0:
        return float(_integrand(f, mean[None, :], powers)[0])
    if r == 1 and nodes is None:
        return _adaptive_1d(f, mean, lmat[:, 0], powers)
    if r > max(DEFAULT_NODES) and nodes is None:
        raise SpecError(f"quadrature in {r} dimensions is too expensive; use method='montecarlo'")
    n = nodes or DEFAULT_NODES[r]

    def integrand(u: torch.Tensor) -> torch.Tensor:  # the numpy integrand on the rule's nodes (..., dim)
        flat = u.reshape(-1, u.shape[-1]).numpy()
        return torch.from_numpy(_integrand(f, flat, powers)).reshape(u.shape[:-1])

    value, _ = gauss_hermite(integrand, torch.from_numpy(cov), torch.from_numpy(mean), resolutions=(n,))
    return float(value)


def montecarlo_gaussian_expectation(f_torch, mean, cov, powers, samples: int, seed: int,
                                    chunk: int = 200_000) -> tuple[float, float]:
    """``(mean, standard error)`` of :math:`\\prod_u f(z_u)^{p_u}` over ``samples`` seeded draws of
    :math:`z\\sim N(\\mu,\\Sigma)` (``f_torch`` acts on tensors), in chunks of ``chunk``."""
    gen = make_generator(seed)
    mean_t = torch.tensor(np.asarray(mean, dtype=float))
    lmat = torch.tensor(reduce_covariance(np.asarray(mean, float), np.asarray(cov, float)))
    s1 = s2 = 0.0
    done = 0
    while done < samples:
        m = min(chunk, samples - done)
        u = torch.randn((m, lmat.shape[1]), generator=gen, dtype=torch.float64)
        z = mean_t[None, :] + u @ lmat.T
        val = torch.ones(m, dtype=torch.float64)
        for k, p in enumerate(powers):
            val = val * f_torch(z[:, k]) ** p
        s1 += float(val.sum())
        s2 += float((val * val).sum())
        done += m
    mu = s1 / samples
    var = max(s2 / samples - mu * mu, 0.0)
    return mu, math.sqrt(var / max(samples - 1, 1))
