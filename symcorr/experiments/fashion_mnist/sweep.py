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

Beyond one machine
------------------
Each chunk is one block of :func:`symcorr.distributed.run_blocks` (:class:`SweepChunks`): with
``client=`` the chunks train as Dask futures, with the same accuracies and losses bit for bit as the
serial sweep of the same config, and with ``checkpoint=`` trained chunks are saved and a restart
trains only the others (``docs/distributed.md``).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import struct
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from ...distributed import run_blocks
from ...errors import SpecError
from ...rng import child_seed
from .config import SweepConfig
from .model import init_weights
from .results import SweepResult
from .train import TrainData, progress_fn, train_models

__all__ = ["run_sweep", "sweep_chunks", "SweepChunks"]

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


class SweepChunks:
    """The chunks of a sweep (:func:`sweep_chunks`) as :class:`symcorr.distributed.BlockWork`: block ``j``
    trains chunk ``j`` from its own seeds and returns ``[(run, i_mu, j_k, test_acc, train_loss)]``;
    merging concatenates.  The training data is the run's payload, or (``payload=None`` on a worker)
    loaded there from ``config.data_root``."""

    reports_progress = True

    def __init__(self, config: SweepConfig, sampler):
        self.config = replace(config, progress=None)
        self.chunks = sweep_chunks(config)
        self.blocks = len(self.chunks)
        self.sampler = sampler
        self.data_digest: dict | None = None

    def initial_weights(self, j: int):
        """``(run, cells, W0, W1)``: chunk ``j``'s models drawn from their own seeds."""
        cfg = self.config
        run, cells = self.chunks[j]
        tcode = _TARGET_CODE[cfg.targets]
        mus = [cfg.mus[i] for i, _ in cells]
        ks = [cfg.ks[k] for _, k in cells]
        gens = [torch.Generator().manual_seed(child_seed(cfg.seed, 1, tcode, run, _mu_key(mu), k))
                for mu, k in zip(mus, ks)]
        W0, W1 = self.sampler(len(cells), mus, ks, gens)
        return run, cells, W0, W1

    def leaf(self, j: int, payload, progress=None) -> list:
        cfg = self.config
        data = payload if payload is not None else _load_data(cfg.data_root, cfg.normalisation)
        run, cells, W0, W1 = self.initial_weights(j)
        shuffle = torch.Generator().manual_seed(child_seed(cfg.seed, 2, _TARGET_CODE[cfg.targets], run))
        out = train_models(W0, W1, data, target=cfg.targets, epochs=cfg.epochs, batch_size=cfg.batch_size,
                           lr=cfg.lr, gamma=cfg.gamma, betas=cfg.betas, eps=cfg.eps, shuffle=shuffle,
                           test_batch_size=cfg.test_batch_size, gemm=cfg.gemm, progress=progress)
        return [(run, np.array([i for i, _ in cells]), np.array([k for _, k in cells]), out.test_acc,
                 out.train_loss)]

    def merge(self, a: list, b: list) -> list:
        return a + b

    def weight(self, a: int, b: int) -> int:
        return sum(len(cells) for _, cells in self.chunks[a:b]) * self.config.epochs

    def fingerprint(self) -> dict:
        """The config (less ``threads`` and ``data_root``), the data's digest and the initial weights of
        the first chunk (which pin down ``init_sampler``)."""
        settings = {k: v for k, v in self.config.to_dict().items() if k not in ("threads", "data_root")}
        return {"kind": "fashion-mnist sweep", "config": settings, "data": self.data_digest,
                "initial weights": list(self.initial_weights(0)[2:])}


@functools.lru_cache(maxsize=2)
def _load_data(root, normalisation) -> TrainData:
    """Fashion-MNIST loaded once per (worker) process."""
    return TrainData.load(root, normalisation)


def _data_digest(data: TrainData) -> dict:
    return {"x_train": data.x_train, "y_train": data.y_train, "x_test": data.x_test, "y_test": data.y_test}


def run_sweep(config: SweepConfig, data: TrainData | None = None, *, client=None, checkpoint=None) -> SweepResult:
    """Train every (mu, k, run) of ``config`` and collect test accuracies.

    ``data``: preloaded :class:`TrainData` (e.g. synthetic, or to reuse the loaded set across sweeps);
    default: Fashion-MNIST from ``config.data_root`` normalised per ``config.normalisation``.
    Reproducible given the config (see the module docstring for the seeding scheme).

    ``client``: a ``dask.distributed.Client`` (or ``"local:N"``, a scheduler address): each chunk of
    :func:`sweep_chunks` is one task, with the same result bit for bit as the serial run of the same
    config (``models_per_chunk`` included).  With ``data=None`` the workers load the data set from
    ``config.data_root`` themselves (it must be readable there); explicit ``data`` is sent to every
    worker once.  Each task uses ``config.threads`` torch threads (default 1 on a cluster).
    ``checkpoint``: a folder where trained chunks are saved and from which a restart resumes
    (:mod:`symcorr.distributed`).
    """
    if not isinstance(config, SweepConfig):
        raise SpecError(f"expected a SweepConfig, got {type(config).__name__}", "config")
    t0 = time.perf_counter()
    shipped = data
    if data is None:
        data = TrainData.load(config.data_root, config.normalisation)
    work_config = config
    if shipped is None and config.data_root is not None:   # workers may run in other folders
        work_config = replace(config, data_root=str(Path(config.data_root).resolve()))
    work = SweepChunks(work_config, config.init_sampler or init_weights)
    if checkpoint is not None:
        work.data_digest = _data_digest(data)
    n_mu, n_k = len(config.mus), len(config.ks)
    test_acc = np.full((n_mu, n_k, config.runs, config.epochs), np.nan)
    train_loss = np.full_like(test_acc, np.nan)
    tick = progress_fn(config.progress)
    if client is None:
        with _torch_threads(config.threads):
            parts = run_blocks(work, client=None, checkpoint=checkpoint, progress=tick, threads=None, payload=data)
    else:
        parts = run_blocks(work, client=client, checkpoint=checkpoint, progress=tick,
                           threads=config.threads or 1, payload=shipped)
    for run, ii, jj, acc, loss in parts:
        test_acc[ii, jj, run] = acc
        train_loss[ii, jj, run] = loss
    return SweepResult(config=config, mus=np.array(config.mus), ks=np.array(config.ks),
                       test_acc=test_acc, train_loss=train_loss, seconds=time.perf_counter() - t0,
                       norm_mean=float(data.mean), norm_std=float(data.std))
