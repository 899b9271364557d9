r"""What a Fashion-MNIST sweep trains: :class:`SweepConfig` (the grid, the protocol, the presets).

Kept apart from :mod:`.sweep` (which runs a config) and :mod:`.results` (which stores one with its
accuracies) so that neither of those imports the other.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from ...errors import SpecError
from ...optim import adam_hyperparameters
from .model import N_OUT, PAPER_KS, PAPER_MUS, InitSampler, check_target
from .train import progress_fn

__all__ = ["SweepConfig"]


def _is_int(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, np.integer))


@dataclass(frozen=True)
class SweepConfig:
    """What :func:`run_sweep` trains: every (mu, k) cell ``runs`` times.

    Defaults are the paper's heatmap (one-hot, mu = 0..0.20 by 0.01, k = 0, 2, ..., 10, 10 runs, 20
    epochs, batch 64, Adam 1e-3, StepLR 0.7); :meth:`paper_cold_line` is the one-cold line (k = 10,
    20 runs) and :meth:`quick` a small smoke-test grid.  ``models_per_chunk`` models are trained at
    once (memory ~0.7 MB per model plus the data); ``threads``: torch threads during the sweep
    (default: all CPUs available to the process).  ``progress``: ``None``, a callable taking a count,
    or a tqdm bar; it advances by one per model-epoch (total :attr:`total_model_epochs`).
    ``init_sampler``: replaces :func:`~.model.init_weights` (e.g. :func:`~.model.spec_init_sampler` of a
    spec file's network; same signature; receives one generator per model).
    """

    mus: tuple = PAPER_MUS
    ks: tuple = PAPER_KS
    runs: int = 10
    targets: str = "hot"
    epochs: int = 20
    batch_size: int = 64
    lr: float = 1e-3
    gamma: float = 0.7
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    seed: int = 0
    normalisation: str = "corrected"
    data_root: str | None = None
    models_per_chunk: int = 24
    threads: int | None = None
    test_batch_size: int = 2500
    gemm: str = "auto"
    progress: Any = field(default=None, compare=False, repr=False)
    init_sampler: InitSampler | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)                   # noqa: E731
        try:
            mus = np.atleast_1d(np.asarray(self.mus, dtype=np.float64))
        except (TypeError, ValueError):
            raise SpecError(f"the mu grid must be a list of numbers, got {self.mus!r}", "mus") from None
        if mus.ndim != 1 or mus.size == 0:
            raise SpecError("the mu grid must be a non-empty, one-dimensional list of numbers", "mus")
        if not np.all(np.isfinite(mus)):
            raise SpecError(f"every mu must be finite, got {mus.tolist()}", "mus")
        if len(set(mus.tolist())) != mus.size:
            raise SpecError(f"mu values must be distinct, got {mus.tolist()}", "mus")
        set_("mus", tuple(float(m) for m in mus))
        ks = list(self.ks) if isinstance(self.ks, (list, tuple, np.ndarray, range)) else [self.ks]
        if not ks:
            raise SpecError("the k grid must be a non-empty list of integers", "ks")
        for i, k in enumerate(ks):
            if not _is_int(k) or not 0 <= int(k) <= N_OUT:
                raise SpecError(f"k must be an integer in 0..{N_OUT} (number of shifted output rows), "
                                f"got {k!r}", f"ks[{i}]")
        if len(set(int(k) for k in ks)) != len(ks):
            raise SpecError(f"k values must be distinct, got {[int(k) for k in ks]}", "ks")
        set_("ks", tuple(int(k) for k in ks))
        for name in ("runs", "epochs", "batch_size", "models_per_chunk", "test_batch_size"):
            v = getattr(self, name)
            if not _is_int(v) or v < 1:
                raise SpecError(f"must be an integer >= 1, got {v!r}", name)
            set_(name, int(v))
        if self.threads is not None and (not _is_int(self.threads) or self.threads < 1):
            raise SpecError(f"must be None or an integer >= 1, got {self.threads!r}", "threads")
        if not _is_int(self.seed) or self.seed < 0:
            raise SpecError(f"must be a non-negative integer, got {self.seed!r}", "seed")
        check_target(self.targets)
        if self.normalisation not in ("corrected", "paper"):
            raise SpecError(f"must be 'corrected' or 'paper', got {self.normalisation!r}", "normalisation")
        for name in ("lr", "gamma"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise SpecError(f"must be a positive number, got {v!r}", name)
        beta1, beta2, _ = adam_hyperparameters(self.betas, self.eps)
        set_("betas", (beta1, beta2))
        if self.gemm not in ("auto", "onednn", "torch"):
            raise SpecError(f"must be 'auto', 'onednn' or 'torch', got {self.gemm!r}", "gemm")
        if self.progress is not None:
            progress_fn(self.progress)

    # presets -------------------------------------------------------------------------------------
    @classmethod
    def paper_heatmap(cls, **overrides) -> "SweepConfig":
        """Paper Fig. 1 heatmap: one-hot, 21 mu x 6 k, 10 runs (1260 trainings)."""
        return cls(**{**dict(mus=PAPER_MUS, ks=PAPER_KS, runs=10, targets="hot"), **overrides})

    @classmethod
    def paper_cold_line(cls, **overrides) -> "SweepConfig":
        """Paper's one-cold line: k = 10, 21 mu, 20 runs (420 trainings)."""
        return cls(**{**dict(mus=PAPER_MUS, ks=(10,), runs=20, targets="cold"), **overrides})

    @classmethod
    def quick(cls, **overrides) -> "SweepConfig":
        """A small grid for a first look: mu in {0, 0.1, 0.2}, k in {0, 10}, 2 runs, 3 epochs
        (12 trainings, a few seconds on two cores)."""
        return cls(**{**dict(mus=(0.0, 0.1, 0.2), ks=(0, 10), runs=2, epochs=3), **overrides})

    # bookkeeping ---------------------------------------------------------------------------------
    @property
    def n_models(self) -> int:
        return len(self.mus) * len(self.ks) * self.runs

    @property
    def total_model_epochs(self) -> int:
        """Units of ``progress``: one per model per epoch."""
        return self.n_models * self.epochs

    def to_dict(self) -> dict:
        """JSON-able description (without ``progress`` and ``init_sampler``)."""
        d = asdict(replace(self, progress=None, init_sampler=None))
        d.pop("progress"), d.pop("init_sampler")
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}
