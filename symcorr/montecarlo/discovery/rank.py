r"""The linearised invariance conditions accumulated over networks and the calibrated rank rule (step 2
of :mod:`symcorr.montecarlo.discovery`): generalised eigenvalues of the estimated conditions against their
noise, and the multiplier-bootstrap threshold."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Sequence

import torch

from ...errors import SpecError
from ...rng import child_seed, make_generator
from ...verdicts import Side
from ..estimators import select_entries
from ..statistics import unit_roundoff
from .tangents import EnsembleLike, input_tangents, output_tangents, outputs_of, so_basis

__all__ = ["LinearisedConditions", "linearised_conditions", "stream"]


@dataclass
class LinearisedConditions:
    r"""The estimated coefficient matrix :math:`\hat C` (``(E, B)``), its noise pencil and the bootstrap
    threshold (see the module docstring).  ``eigenvalues`` ascending, ``vectors[:, j]`` the coefficient
    vector (in :func:`so_basis`) of the j-th generalised eigenvector."""

    basis: torch.Tensor
    coefficients: torch.Tensor
    quadratic: torch.Tensor
    noise: torch.Tensor
    eigenvalues: torch.Tensor
    vectors: torch.Tensor
    bootstrap: torch.Tensor
    threshold: float
    level: float
    networks: int
    orders: tuple

    @property
    def null_dimension(self) -> int:
        return int((self.eigenvalues <= self.threshold).sum())

    def algebra(self) -> torch.Tensor:
        """An orthonormal (Frobenius) basis ``(k, n, n)`` of the discovered algebra."""
        k = self.null_dimension
        if k == 0:
            return torch.zeros(0, *self.basis.shape[1:], dtype=torch.float64)
        q, _ = torch.linalg.qr(self.vectors[:, :k])
        return torch.einsum("bk,bij->kij", q, self.basis)


class _Accumulator:
    """Streaming sums over networks, centred chunk by chunk (Chan's merge) so that directions along which
    every network's row vanishes are not swamped by cancellation: the mean row, the per-entry centred Gram
    matrices, the per-entry mean squares and the centred bootstrap sums."""

    def __init__(self, entries: dict, basis: torch.Tensor, replicates: int, seed: int, device):
        self.order = torch.cat([torch.full((len(e),), n) for n, e in entries.items()])
        total = int(self.order.numel())
        b = len(basis)
        self.count = 0
        self.mean = torch.zeros(total, b, dtype=torch.float64, device=device)
        self.gram = torch.zeros(total, b, b, dtype=torch.float64, device=device)
        self.square = torch.zeros(total, dtype=torch.float64, device=device)
        self.replicates = replicates
        self.boot = torch.zeros(replicates, total, b, dtype=torch.float64, device=device)
        self.chunk_means: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.seed, self.device = seed, device

    def update(self, tangents: torch.Tensor) -> None:
        """Add one chunk: ``tangents`` ``(m, E, B)``."""
        if not torch.isfinite(tangents).all():
            raise FloatingPointError("a per-network coefficient is not finite (overflow)")
        m = tangents.shape[0]
        mu = tangents.mean(0)
        centred = tangents - mu
        gram = torch.einsum("mea,meb->eab", centred, centred)
        delta = mu - self.mean
        total = self.count + m
        self.gram += gram + (self.count * m / total) * torch.einsum("ea,eb->eab", delta, delta)
        self.mean += delta * (m / total)
        self.count = total
        self.square += (tangents * tangents).sum((0, 2))
        gen = make_generator(child_seed(self.seed, 3, len(self.chunk_means)), self.device)
        xi = torch.randn((self.replicates, m), generator=gen, dtype=torch.float64, device=self.device)
        self.boot += torch.einsum("km,meb->keb", xi, centred)
        self.chunk_means.append((mu, xi.sum(1)))

    def conditions(self, basis: torch.Tensor, level: float, dtype: torch.dtype, orders) -> LinearisedConditions:
        m = self.count
        if m < 2:
            raise SpecError("discovery needs at least two networks")
        mean = self.mean
        b = basis.shape[0]
        ms = self.square / (m * max(b, 1))
        weight = torch.where(ms > 0, 1.0 / torch.where(ms > 0, ms, torch.ones_like(ms)), torch.zeros_like(ms))
        quad = torch.einsum("e,ea,eb->ab", weight, mean, mean)
        noise = torch.einsum("e,eab->ab", weight, self.gram) / (m * (m - 1))
        # rounding floor: 32 n u times the per-network row scale, in the weighted metric (w_e ms_e = 1)
        u = unit_roundoff(dtype if torch.finfo(dtype).eps > torch.finfo(torch.float64).eps else torch.float64)
        floor = float(((32 * self.order.to(torch.float64) * u) ** 2 * (ms > 0).cpu()).sum())
        noise = 0.5 * (noise + noise.T)
        # numerical-rank floor: directions whose noise is below 32 B u of the largest are exact to rounding
        top = float(torch.linalg.eigvalsh(noise)[-1]) if b else 0.0
        floor = max(floor, 32 * b * u * top, 1e-300)
        noise = noise + floor * torch.eye(b, dtype=torch.float64, device=noise.device)
        nu, q = torch.linalg.eigh(noise)
        inv = (q * nu.clamp_min(floor).rsqrt()).T       # whitening: inv noise inv^T = 1
        sym = inv @ quad @ inv.T
        values, u_vecs = torch.linalg.eigh(0.5 * (sym + sym.T))
        vectors = inv.T @ u_vecs
        vectors = vectors / vectors.norm(dim=0, keepdim=True)
        # delta*_k = (1/M) sum_m xi_mk (C_m - C-hat), centred chunk by chunk
        delta = self.boot.clone()
        for mu, xs in self.chunk_means:
            delta += xs[:, None, None] * (mu - mean)[None]
        delta /= m
        boot_quad = torch.einsum("e,kea,keb->kab", weight, delta, delta)
        boot_sym = inv[None] @ boot_quad @ inv.T[None]
        boot_max = torch.linalg.eigvalsh(0.5 * (boot_sym + boot_sym.transpose(1, 2)))[:, -1]
        k = boot_max.numel()
        rank = min(k - 1, math.ceil((k + 1) * (1 - level)) - 1)
        threshold = float(torch.sort(boot_max).values[rank])
        return LinearisedConditions(basis, mean.cpu(), quad.cpu(), noise.cpu(), values.cpu(), vectors.cpu(),
                                    boot_max.cpu(), threshold, level, m, tuple(orders))



def stream(ens: EnsembleLike, parity: int | None) -> Iterator:
    for k, chunk in enumerate(ens.chunks()):
        if parity is None or k % 2 == parity:
            yield chunk



def linearised_conditions(ens: EnsembleLike, points, on: Side | str, *, orders: Sequence[int] = (1, 2),
                          parity: int | None = None, level: float = 0.01, bootstrap: int = 200, seed: int = 0,
                          outputs: Sequence[int] | None = None, dtype=torch.float64) -> LinearisedConditions:
    """Steps 1 and 2 of the module docstring on the chunks of ``ens`` (``parity``: only the even (0) or odd
    (1) chunks; None: all)."""
    on = Side.parse(on)
    x = ens.points(points)
    dev = x.device
    state: dict = {}
    for chunk in stream(ens, parity):
        src = ens.source(chunk, x)
        if not state:
            d = outputs_of(src)
            n = int(x.shape[-1]) if on is Side.INPUT else d
            if n < 2:
                raise SpecError(f"discovery of continuous symmetries needs dimension >= 2 on the {on}s, got {n}")
            basis = so_basis(n).to(dev)
            entries = {k: e.to(dev) for k, e in select_entries(x.shape[0], d, orders, None, outputs).items()}
            state = {"basis": basis, "entries": entries, "acc": _Accumulator(entries, basis, bootstrap, seed, dev)}
        parts = []
        for k, e in state["entries"].items():
            if on is Side.OUTPUT:
                parts.append(output_tangents(src, state["basis"], e))
            else:
                parts.append(input_tangents(ens, chunk, x, state["basis"], e))
        state["acc"].update(torch.cat(parts, dim=1))
    if not state:
        raise SpecError("the ensemble gave no chunk of networks for discovery")
    return state["acc"].conditions(state["basis"].cpu(), level, dtype, orders)


