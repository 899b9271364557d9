r"""Running a Fashion-MNIST sweep: every (mu, k, run) cell of a :class:`~.config.SweepConfig`.

Randomness, and a deliberate deviation from the original
--------------------------------------------------------
Nothing uses torch's global RNG.  In :func:`run_sweep` every model has its own initialisation seed
``child_seed(seed, 1, target, run, bits(mu), k)`` and all models of the same *run index* share one
shuffling stream ``child_seed(seed, 2, target, run)`` (epoch e uses the e-th
``torch.randperm(n_train, generator=g)`` of that stream).  The original code reshuffled independently
in every training; here the cells (mu, k) of one run see the same batch order (common random numbers,
which makes differences between cells *less* noisy), while different runs of the same cell differ by
both their initialisation and their batch order.  Because the seeds depend on (run, mu, k) and not on
how models were packed into chunks, the result does not depend on ``models_per_chunk`` beyond
float32 rounding (the matrix products' summation order, and the fused Adam kernel's rounding of an
element, can change with the shapes).

The original's ``--seed`` was unused (so its runs were unseeded) and its heatmap script averaged ten
copies of one run (it forgot the run index); neither bug is reproduced.  ``normalisation="paper"``
keeps its MNIST constants 0.1307/0.3081; the default ``"corrected"`` uses Fashion-MNIST's own.
"""

from __future__ import annotations

import contextlib
import math
import os
import struct
import time

import numpy as np
import torch

from ...errors import SpecError
from ...rng import child_seed
from .config import SweepConfig
from .model import init_weights
from .results import SweepResult
from .train import TrainData, progress_fn, train_models

__all__ = ["run_sweep", "sweep_chunks"]

_TARGET_CODE = {"hot": 0, "cold": 1}


def _mu_key(mu: float) -> int:
    """A non-negative integer naming mu for seeding (its float64 bits, after rounding off 1e-12 noise
    so that 0.07 from ``np.arange`` and the literal 0.07 agree)."""
    mu = round(float(mu), 12) + 0.0          # +0.0 turns -0.0 into 0.0
    return struct.unpack("<Q", struct.pack("<d", mu))[0]


def sweep_chunks(config: SweepConfig) -> list[tuple[int, list[tuple[int, int]]]]:
    """How :func:`run_sweep` packs models: a list of ``(run, [(i_mu, i_k), ...])`` chunks.

    Chunks never mix run indices (a run's models share a shuffling stream); each run's
    ``len(mus) * len(ks)`` models are split into near-equal chunks of at most ``models_per_chunk``.
    """
    cells = [(i, j) for i in range(len(config.mus)) for j in range(len(config.ks))]
    n_chunks = math.ceil(len(cells) / config.models_per_chunk)
    bounds = np.linspace(0, len(cells), n_chunks + 1).round().astype(int)
    return [(r, cells[a:b]) for r in range(config.runs) for a, b in zip(bounds[:-1], bounds[1:])]


@contextlib.contextmanager
def _torch_threads(n: int | None):
    old = torch.get_num_threads()
    if n is None:
        try:
            n = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            n = os.cpu_count() or 1
    torch.set_num_threads(int(n))
    try:
        yield int(n)
    finally:
        torch.set_num_threads(old)


def run_sweep(config: SweepConfig, data: TrainData | None = None) -> SweepResult:
    """Train every (mu, k, run) of ``config`` and collect test accuracies.

    ``data``: preloaded :class:`TrainData` (e.g. synthetic, or to reuse the loaded set across sweeps);
    default: Fashion-MNIST from ``config.data_root`` normalised per ``config.normalisation``.
    Reproducible given the config (see the module docstring for the seeding scheme).
    """
    if not isinstance(config, SweepConfig):
        raise SpecError(f"expected a SweepConfig, got {type(config).__name__}", "config")
    t0 = time.perf_counter()
    if data is None:
        data = TrainData.load(config.data_root, config.normalisation)
    sampler = config.init_sampler or init_weights
    tcode = _TARGET_CODE[config.targets]
    n_mu, n_k = len(config.mus), len(config.ks)
    test_acc = np.full((n_mu, n_k, config.runs, config.epochs), np.nan)
    train_loss = np.full_like(test_acc, np.nan)
    tick = progress_fn(config.progress)
    with _torch_threads(config.threads):
        for run, cells in sweep_chunks(config):
            mus = [config.mus[i] for i, _ in cells]
            ks = [config.ks[j] for _, j in cells]
            gens = [torch.Generator().manual_seed(child_seed(config.seed, 1, tcode, run, _mu_key(mu), k))
                    for mu, k in zip(mus, ks)]
            W0, W1 = sampler(len(cells), mus, ks, gens)
            shuffle = torch.Generator().manual_seed(child_seed(config.seed, 2, tcode, run))
            out = train_models(W0, W1, data, target=config.targets, epochs=config.epochs,
                               batch_size=config.batch_size, lr=config.lr, gamma=config.gamma,
                               betas=config.betas, eps=config.eps, shuffle=shuffle,
                               test_batch_size=config.test_batch_size, gemm=config.gemm, progress=tick)
            ii = np.array([i for i, _ in cells])
            jj = np.array([j for _, j in cells])
            test_acc[ii, jj, run] = out.test_acc
            train_loss[ii, jj, run] = out.train_loss
    return SweepResult(config=config, mus=np.array(config.mus), ks=np.array(config.ks),
                       test_acc=test_acc, train_loss=train_loss, seconds=time.perf_counter() - t0,
                       norm_mean=float(data.mean), norm_std=float(data.std))
