r"""A Monte Carlo ensemble as blockwise work (:class:`symcorr.distributed.BlockWork`): one partial
accumulator per RNG block, merged along the fixed tree of :mod:`symcorr.distributed.tree`.

Block ``j`` of an :class:`~symcorr.montecarlo.ensemble.Ensemble` holds networks
``j*block .. min((j+1)*block, networks) - 1``, drawn from ``child_seed(seed, 0, j)``.  Its partial
result is a fresh accumulator (``new()``) fed with that block alone (``feed(acc, ensemble, chunk)``),
evaluated on its own, never batched with other blocks, so its bits do not depend on ``chunk``:
``chunk`` (rounded to whole blocks) only says how many blocks one task computes (and so the memory of a
task is one block's).  The estimators (:func:`~symcorr.montecarlo.estimate_correlators`,
:func:`~symcorr.montecarlo.invariance_test`, the NTK moments and tests) all run through
:func:`run_ensemble`, serially or on a Dask cluster, with the same result bit for bit.

The neuron-level estimator is blockwise in the same way (:class:`NeuronBlocks`): block ``c`` of single
neurons is drawn from ``child_seed(seed, 3, c)``; its size depends only on the number of moments
estimated (a memory bound), so here too ``chunk`` only groups blocks into tasks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Union

import torch

from ..distributed import run_blocks
from ..rng import child_seed, make_generator
from .accumulators import MomentAccumulator
from .ensemble import Ensemble, EnsembleChunk

if TYPE_CHECKING:  # for annotations only: models builds on ensemble, as blocks does
    from .models import ModelEnsemble

AnyEnsemble = Union[Ensemble, "ModelEnsemble"]

__all__ = ["EnsembleBlocks", "NeuronBlocks", "block_chunk", "run_ensemble"]


def block_chunk(ensemble: AnyEnsemble, j: int) -> EnsembleChunk:
    """RNG block ``j`` of ``ensemble`` (a spec's :class:`Ensemble` or a torch model's
    :class:`~symcorr.montecarlo.models.ModelEnsemble`) as a chunk (its own generator,
    ``child_seed(seed, 0, j)``)."""
    params = ensemble._sample_block(j)
    size = next(iter(params.values())).shape[0]
    return EnsembleChunk(j, j * ensemble.block, size, params)


class EnsembleBlocks:
    """The blocks of ``ensemble`` as :class:`~symcorr.distributed.BlockWork`: ``leaf(j)`` is
    ``new()`` fed with block ``j`` by ``feed(acc, ensemble, chunk)``; partial results merge with their
    own ``merge``.  ``describe``: what else the result depends on (points, entries, group elements,
    ...), for checkpoint manifests.  ``new`` and ``feed`` must be picklable (module-level functions or
    ``functools.partial`` of them) for a cluster."""

    def __init__(self, ensemble: AnyEnsemble, kind: str, new: Callable[[], Any],
                 feed: Callable[[Any, AnyEnsemble, EnsembleChunk], None], describe: dict | None = None):
        self.ensemble = ensemble
        self.kind = kind
        self.new = new
        self.feed = feed
        self.describe = dict(describe or {})
        self.blocks = -(-ensemble.networks // ensemble.block)

    @property
    def per_task(self) -> int:
        return max(1, self.ensemble.chunk // self.ensemble.block)

    def leaf(self, j: int, payload=None):
        acc = self.new()
        self.feed(acc, self.ensemble, block_chunk(self.ensemble, j))
        return acc

    def merge(self, a, b):
        return a.merge(b)

    def weight(self, a: int, b: int) -> int:
        return min(b * self.ensemble.block, self.ensemble.networks) - a * self.ensemble.block

    def fingerprint(self) -> dict:
        ens = self.ensemble
        model = getattr(ens, "network", None) or getattr(ens, "model", None)  # a spec or a torch model
        return {"kind": self.kind, "network": repr(model), "networks": ens.networks, "seed": ens.seed,
                "block": ens.block, "estimator": getattr(ens, "estimator", "direct"), "dtype": ens.dtype,
                "device": ens.device.type, **self.describe}


def run_ensemble(work: EnsembleBlocks, *, client=None, checkpoint=None, progress=None):
    """The merged accumulator of every block of ``work`` (serially, or on ``client``), with the torch
    thread count at 1 while blocks are computed, in both paths (see :mod:`symcorr.distributed.runner`)."""
    return run_blocks(work, per_task=work.per_task, client=client, checkpoint=checkpoint, progress=progress,
                      threads=1)


class NeuronBlocks:
    """The neuron blocks of a :class:`~symcorr.montecarlo.NeuronLevelEstimator` as blockwise work: block
    ``c`` holds neurons ``c*block .. min((c+1)*block, neurons) - 1``, drawn
    from ``child_seed(seed, 3, c)``; its partial result is the :class:`MomentAccumulator` (with
    covariance) of their moment features."""

    def __init__(self, neuron, points, columns, size, neurons, block, seed, dtype, device, multisets):
        self.neuron, self.points, self.columns, self.size = neuron, points, columns, size
        self.neurons, self.block, self.seed, self.dtype, self.device = neurons, block, seed, dtype, device
        self.multisets = multisets
        self.blocks = -(-neurons // block)

    def leaf(self, c: int, payload=None) -> MomentAccumulator:
        m = min(self.block, self.neurons - c * self.block)
        gen = make_generator(child_seed(self.seed, 3, c), self.device)
        params = self.neuron.sample(m, generator=gen, dtype=self.dtype)
        phi = self.neuron.forward(params, self.points)[..., 0].to(torch.float64)  # (m, P)
        rows = phi.T.contiguous()  # (P, m)
        feats = torch.empty(self.size, m, dtype=torch.float64, device=self.device)
        for pos, cols in self.columns:
            v = torch.index_select(rows, 0, cols[:, 0])
            for i in range(1, cols.shape[1]):
                v *= torch.index_select(rows, 0, cols[:, i])
            feats[pos] = v
        return MomentAccumulator(self.size, covariance=True, device=self.device).update(feats, dim=1)

    def merge(self, a: MomentAccumulator, b: MomentAccumulator) -> MomentAccumulator:
        return a.merge(b)

    def weight(self, a: int, b: int) -> int:
        return min(b * self.block, self.neurons) - a * self.block

    def fingerprint(self) -> dict:
        return {"kind": "neuron moments", "neuron": repr(self.neuron), "points": self.points,
                "moments": [list(t) for t in self.multisets], "neurons": self.neurons, "block": self.block,
                "seed": self.seed, "dtype": self.dtype, "device": self.device.type}
