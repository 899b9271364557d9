r"""Streaming Monte Carlo moments of the NTK: :math:`E[\Theta]` and :math:`E[\Theta\otimes\Theta]` with
standard errors, over the networks of a :class:`symcorr.montecarlo.Ensemble`.

The networks are drawn in chunks (memory bounded by ``chunk``; the networks themselves depend only on
``seed``), the empirical kernel of each chunk comes from :func:`symcorr.ntk.empirical.empirical_ntk`,
and the moments are merged with :class:`symcorr.montecarlo.accumulators.MomentAccumulator` (Chan's
update), so s.e. :math:`= \sqrt{s^2/M}` for :math:`M` networks.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Sequence

import torch

from ..errors import SpecError
from ..montecarlo.accumulators import ELEMENT_BUDGET, MomentAccumulator
from ..montecarlo.blocks import EnsembleBlocks, run_ensemble
from ..montecarlo.ensemble import Ensemble, EnsembleChunk
from ..montecarlo.models import ModelEnsemble, TorchModel, check_model, make_ensemble
from ..notebook import MarkdownDisplay
from ..spec import Network
from .empirical import Parameterisation, check_blocks, check_parameterisation, check_points, empirical_ntk

__all__ = ["NTKMoments", "ntk_moments", "ntk_ensemble", "check_count", "chunk_ntk"]


@dataclass
class NTKMoments(MarkdownDisplay):
    r"""Monte Carlo estimates of :math:`E[\Theta_{ab}(x_p, x'_q)]` and
    :math:`E[\Theta_{ab}(x_p,x'_q)\Theta_{cd}(x_r,x'_s)]` with standard errors.

    ``mean``/``se``: shape ``(P, P', d, d)``.  ``second``/``second_se``: shape
    ``(P, P', d, d, P, P', d, d)`` (``None`` for ``order=1``).  ``block_mean``/``block_se``: the per-block
    contributions to the mean (their sum is ``mean``).
    """

    x: torch.Tensor
    x2: torch.Tensor
    networks: int
    parameterisation: str
    mean: torch.Tensor
    se: torch.Tensor
    block_mean: dict
    block_se: dict
    second: torch.Tensor | None = None
    second_se: torch.Tensor | None = None

    def __repr__(self) -> str:
        order = 1 if self.second is None else 2
        return (f"NTKMoments({tuple(self.mean.shape)} entries, order {order}, {self.networks} networks, "
                f"{self.parameterisation} parameterisation)")

    def markdown(self) -> str:
        d = self.mean.shape[-1]
        lines = [f"NTK moments from {self.networks} networks ({self.parameterisation} parameterisation)", "",
                 "| p | q | a | b | E[Theta_ab(x_p, x'_q)] | s.e. |", "|---|---|---|---|---|---|"]
        for p in range(self.mean.shape[0]):
            for q in range(self.mean.shape[1]):
                for a in range(d):
                    for b in range(d):
                        lines.append(f"| {p} | {q} | {a} | {b} | {float(self.mean[p, q, a, b]):.6g} | "
                                     f"{float(self.se[p, q, a, b]):.3g} |")
        return "\n".join(lines)


def check_count(value, what: str) -> int:
    """``value`` if it is a positive integer (not a bool); a SpecError naming ``what`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(f"must be a positive integer, got {value!r}", what)
    return value


def ntk_ensemble(network: Network | TorchModel, networks: int, seed: int, chunk: int | None, dtype,
                 device) -> Ensemble | ModelEnsemble:
    """The networks of :class:`symcorr.montecarlo.Ensemble` (same seed, same networks as its tests), or of
    a :class:`symcorr.montecarlo.ModelEnsemble` for a torch model."""
    return make_ensemble(network, networks, seed=seed, chunk=chunk, device=device, dtype=dtype, estimator="direct")


def chunk_ntk(ens: Ensemble | ModelEnsemble, part: EnsembleChunk, x1, x2, *, parameterisation="standard",
              method="auto", blocks=None, per_block: bool = False):
    """The empirical NTK of the networks of one chunk: :func:`symcorr.ntk.empirical_ntk` for a spec, per-network
    Jacobians (:meth:`symcorr.montecarlo.ModelEnsemble.ntk`) for a torch model (standard parameterisation)."""
    if isinstance(ens, ModelEnsemble):
        if check_parameterisation(parameterisation) is not Parameterisation.STANDARD:
            raise SpecError("a torch model's NTK is taken in the standard parameterisation (gradients with respect "
                            "to its parameters); the NTK parameterisation needs the laws of a spec", "parameterisation")
        return ens.ntk(part, x1, x2, blocks=blocks, per_block=per_block)
    return empirical_ntk(ens.network, part.params, x1, x2, parameterisation=parameterisation, method=method,
                         per_block=per_block, blocks=blocks)


def _moments_update(acc: MomentAccumulator, batch: torch.Tensor) -> None:
    acc.update(batch.reshape(batch.shape[0], -1))


class _NTKPartial:
    r"""The NTK moments of some networks: :math:`\Theta` (``first``), :math:`\Theta\otimes\Theta`
    (``second``, order 2) and each block's part of :math:`\Theta`; merges like its accumulators."""

    def __init__(self, k: int, names: Sequence[str], order: int, device):
        self.first = MomentAccumulator(k, device=device)
        self.second = MomentAccumulator(k * k, device=device) if order == 2 else None
        self.blocks = {name: MomentAccumulator(k, device=device) for name in names}

    def merge(self, other: "_NTKPartial") -> "_NTKPartial":
        self.first.merge(other.first)
        if self.second is not None and other.second is not None:
            self.second.merge(other.second)
        for name, acc in self.blocks.items():
            acc.merge(other.blocks[name])
        return self


def _feed_ntk(network, x1, x2, names, kw, part: _NTKPartial, ens: Ensemble, chunk) -> None:
    per_block = chunk_ntk(ens, chunk, x1, x2, per_block=True, blocks=names, **kw)
    theta = sum(per_block.values())
    _moments_update(part.first, theta)
    for name, t in per_block.items():
        _moments_update(part.blocks[name], t)
    if part.second is not None:
        k = part.first.size
        flat = theta.reshape(chunk.size, -1)
        step = max(1, ELEMENT_BUDGET // (k * k))
        sub = MomentAccumulator(k * k, device=ens.device)
        for s in range(0, chunk.size, step):
            piece = flat[s:s + step]
            sub.update((piece[:, :, None] * piece[:, None, :]).reshape(piece.shape[0], -1))
        part.second.merge(sub)


def ntk_moments(network: Network | TorchModel, x, x2=None, *, networks: int, seed: int, chunk: int | None = None,
                order: int = 2, parameterisation: str = "standard", method: str = "auto",
                blocks: Sequence[str] | None = None, dtype=torch.float64, device=None, client=None,
                checkpoint=None, progress=None) -> NTKMoments:
    """Stream ``networks`` draws of ``network`` in chunks and accumulate the NTK correlators.

    The networks are those of ``symcorr.montecarlo.Ensemble(network, networks, seed=seed)`` (independent
    of ``chunk``, which only bounds the memory); moments are merged with its ``MomentAccumulator``
    along the fixed tree over RNG blocks (:mod:`symcorr.montecarlo.blocks`).  ``order`` 1 estimates
    :math:`E[\\Theta]`, order 2 also :math:`E[\\Theta\\otimes\\Theta]`.  ``client``: a
    ``dask.distributed.Client`` (or ``"local:N"``, an address) to compute the blocks on, same result bit
    for bit; ``checkpoint``: a folder to resume from; ``progress(n)``: networks done.
    ``network`` may be a :class:`symcorr.montecarlo.TorchModel` (blocks = its parameter names).
    """
    check_model(network)
    networks = check_count(networks, "networks")
    if chunk is not None:
        check_count(chunk, "chunk")
    if networks < 2:
        raise SpecError("standard errors need at least two networks", "networks")
    if order not in (1, 2):
        raise SpecError(f"order must be 1 or 2, got {order!r}", "order")
    network._require_concrete("the NTK moments")
    names = check_blocks(network, blocks)
    ens = ntk_ensemble(network, networks, seed, chunk, dtype, device)
    x1 = check_points(network, x, dtype, ens.device, "x")
    x2t = x1 if x2 is None else check_points(network, x2, dtype, ens.device, "x2")
    shape = (x1.shape[0], x2t.shape[0], int(network.output_dim), int(network.output_dim))
    k = math.prod(shape)
    kw = dict(parameterisation=parameterisation, method=method)
    work = EnsembleBlocks(ens, "ntk moments", functools.partial(_NTKPartial, k, names, order, ens.device),
                          functools.partial(_feed_ntk, network, x1, x2t, names, kw),
                          {"x": x1, "x2": x2t, "order": order, "blocks": names, **kw})
    part = run_ensemble(work, client=client, checkpoint=checkpoint, progress=progress)
    first, second, block_acc = part.first, part.second, part.blocks
    out = NTKMoments(x1, x2t, networks, parameterisation, first.mean.reshape(shape), first.se.reshape(shape),
                     {n: a.mean.reshape(shape) for n, a in block_acc.items()},
                     {n: a.se.reshape(shape) for n, a in block_acc.items()})
    if second is not None:
        out.second = second.mean.reshape(shape + shape)
        out.second_se = second.se.reshape(shape + shape)
    return out
