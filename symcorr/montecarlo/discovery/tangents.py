r"""Per-network tangents of correlator products along the generators of :math:`\mathfrak{so}(n)`: the
rows :math:`C^{(m)}_{eb}` of the linearised invariance conditions (see :mod:`symcorr.montecarlo.discovery`).
Exact: the product rule on sampled outputs or on the Gaussian read-out's conditional moments, and
forward-mode automatic differentiation for everything else (inputs, other moment sources)."""

from __future__ import annotations

import math
from typing import Iterator, Protocol

import torch
import torch.autograd.forward_ad as fwAD

from ...combinatorics import partial_matchings
from ...errors import SpecError
from ...groups import Orthogonal
from ..ensemble import GaussianReadoutSource, ProductSource

__all__ = ["EnsembleLike", "so_basis", "output_tangents", "input_tangents", "outputs_of"]



class EnsembleLike(Protocol):
    """What discovery needs of a numeric model ensemble (e.g. :class:`~symcorr.montecarlo.Ensemble`):
    ``chunks()`` yields chunks of networks, ``source(chunk, x)`` the moment source of a chunk at points
    ``x`` (``products(entries)`` per network, ``act_on_outputs(group, g)``), ``points(x)`` validates inputs.
    Input discovery differentiates ``source`` with respect to ``x`` (forward-mode autodiff), so the
    forward pass must be differentiable torch code."""

    def chunks(self) -> Iterator: ...

    def source(self, chunk, x): ...

    def points(self, x) -> torch.Tensor: ...


def so_basis(n: int, dtype=torch.float64) -> torch.Tensor:
    r"""The orthonormal basis :math:`(e_je_i^T - e_ie_j^T)/\sqrt2`, :math:`i<j`, of :math:`\mathfrak{so}(n)`,
    shape ``(n(n-1)/2, n, n)``."""
    out = []
    for i in range(n):
        for j in range(i + 1, n):
            m = torch.zeros(n, n, dtype=dtype)
            m[i, j], m[j, i] = -1 / math.sqrt(2), 1 / math.sqrt(2)
            out.append(m)
    return torch.stack(out) if out else torch.zeros(0, n, n, dtype=dtype)


def _product_tangents(factors: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    """(value, tangent) of a product of factors (value (E, m), tangent (B, E, m)): the product rule."""
    value = factors[0][0].clone()
    for v, _ in factors[1:]:
        value = value * v
    tangent = torch.zeros_like(factors[0][1])
    for i, (_, t) in enumerate(factors):
        others = torch.ones_like(value)
        for j, (v, _) in enumerate(factors):
            if j != i:
                others = others * v
        tangent = tangent + t * others
    return value, tangent


def output_tangents(src, gens: torch.Tensor, entries: torch.Tensor) -> torch.Tensor:
    r"""Per network :math:`\frac{d}{dt}\prod_i (e^{tL_b}f)_{s_i}|_0`, shape ``(m, E, B)``: exact, by the product
    rule on the sampled outputs (:class:`ProductSource`) or on the Gaussian read-out's conditional moments
    (mean :math:`\mu\mapsto L\mu`, covariance :math:`C\mapsto LC + CL^T`), else by forward-mode autodiff of
    ``act_on_outputs`` with the dual element :math:`1 + \epsilon L_b`."""
    if isinstance(src, ProductSource):
        f = src.f.to(torch.float64)
        m, p, d = f.shape
        rows = f.reshape(m, p * d).T                                         # (S, m)
        moved = torch.einsum("bij,mpj->bmpi", gens, f).reshape(len(gens), m, p * d).transpose(1, 2)   # (B, S, m)
        n = entries.shape[1]
        factors = [(rows[entries[:, i]], moved[:, entries[:, i]]) for i in range(n)]
        return _product_tangents(factors)[1].permute(2, 1, 0)
    if isinstance(src, GaussianReadoutSource):
        mean, cov = src.mean, src.cov                                       # (m, P, d), (m, P, d, P, d)
        m, p, d = mean.shape
        s = p * d
        mrows = mean.reshape(m, s).T                                        # (S, m)
        crows = cov.reshape(m, s * s).T                                     # (S*S, m)
        j = torch.arange(d, device=mean.device)

        def dmean(k: torch.Tensor) -> torch.Tensor:
            # (L mu)_{(p, a)} = sum_j L_aj mu_{(p, j)}: (B, E, m)
            rows = mrows[(k // d * d)[:, None] + j]                         # (E, d, m)
            return torch.einsum("bej,ejm->bem", gens[:, k % d, :], rows)

        def dcov(k1: torch.Tensor, k2: torch.Tensor) -> torch.Tensor:
            # (L C + C L^T)_{s1 s2} = sum_j L_{a1 j} C_{(p1 j), s2} + C_{s1, (p2 j)} L_{a2 j}: (B, E, m)
            left = crows[((k1 // d * d)[:, None] + j) * s + k2[:, None]]
            right = crows[k1[:, None] * s + (k2 // d * d)[:, None] + j]
            return (torch.einsum("bej,ejm->bem", gens[:, k1 % d, :], left)
                    + torch.einsum("bej,ejm->bem", gens[:, k2 % d, :], right))

        n = entries.shape[1]
        total = torch.zeros(len(gens), entries.shape[0], m, dtype=torch.float64, device=mean.device)
        for pairs, singles in partial_matchings(n, src.zero_mean):
            factors = [(crows[entries[:, i] * s + entries[:, k]], dcov(entries[:, i], entries[:, k])) for i, k in pairs]
            factors += [(mrows[entries[:, k]], dmean(entries[:, k])) for k in singles]
            total = total + _product_tangents(factors)[1]
        return total.permute(2, 1, 0)
    group = Orthogonal(gens.shape[-1])
    out = []
    for gen in gens:
        with fwAD.dual_level():
            g = fwAD.make_dual(torch.eye(gen.shape[0], dtype=torch.float64, device=gen.device), gen)
            primal, tangent = fwAD.unpack_dual(src.act_on_outputs(group, g).products(entries))
        out.append(_checked_tangent(primal, tangent))
    return torch.stack(out, -1)


def input_tangents(ens: EnsembleLike, chunk, x: torch.Tensor, gens: torch.Tensor,
                    entries: torch.Tensor) -> torch.Tensor:
    r"""Per network :math:`\frac{d}{dt}\prod_i f_{s_i}(e^{tL_b}x_{p_i})|_0`, shape ``(m, E, B)``: forward-mode
    autodiff of the ensemble's source along :math:`x_p \mapsto L_bx_p`, one pass per generator."""
    out = []
    for gen in gens:
        with fwAD.dual_level():
            xd = fwAD.make_dual(x, x @ gen.T.to(x.dtype))
            primal, tangent = fwAD.unpack_dual(ens.source(chunk, xd).products(entries))
        out.append(_checked_tangent(primal, tangent))
    return torch.stack(out, -1)


def _checked_tangent(primal: torch.Tensor, tangent: torch.Tensor | None) -> torch.Tensor:
    """A forward-mode tangent; a missing one is zero only when the products are identically zero (e.g.
    odd orders of a zero-mean read-out), otherwise the model left torch (numpy, ``.item()``, ...) and its
    derivative is unknown: a SpecError, never a silent zero that would read as a symmetry."""
    if tangent is not None:
        return tangent
    if bool((primal == 0).all()):
        return torch.zeros_like(primal)
    raise SpecError("the model's outputs do not depend differentiably (in torch) on the action; discovery needs a "
                    "differentiable torch forward pass")



def outputs_of(src) -> int:
    if isinstance(src, ProductSource):
        return int(src.f.shape[-1])
    d = getattr(src, "outputs", None)
    if isinstance(d, int):
        return d
    f = getattr(src, "f", None)
    if isinstance(f, torch.Tensor):
        return int(f.shape[-1])
    raise SpecError("cannot tell the number of outputs of this moment source (give it an 'outputs' attribute)")


