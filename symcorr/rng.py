"""Seeds and devices: every random draw in symcorr goes through an explicit ``torch.Generator``.

Nothing touches torch's global RNG.  ``child_seed(seed, *path)`` derives independent, reproducible seeds
for chunks, group samples, training runs, ... from one user seed (via numpy's ``SeedSequence``), so a
result does not depend on how work was split into chunks or on what ran before it.
"""

from __future__ import annotations

import numpy as np
import torch

from .errors import SpecError

__all__ = ["make_generator", "child_seed", "default_device", "resolve_device"]


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise SpecError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def child_seed(seed: int, *path: int) -> int:
    """A 63-bit seed derived from ``seed`` and an integer path (e.g. ``(chunk_index,)``)."""
    seed = _check_seed(seed)
    key = tuple(_check_seed(p) for p in path)
    sequence = np.random.SeedSequence(seed, spawn_key=(len(key), *key))  # length-prefixed: (1,) != (1, 0)
    return int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def make_generator(seed: int, device=None) -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with ``seed``."""
    gen = torch.Generator(device=resolve_device(device))
    gen.manual_seed(_check_seed(seed))
    return gen


def default_device() -> torch.device:
    """CUDA when present, CPU otherwise."""
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def resolve_device(device=None) -> torch.device:
    """``None`` -> CPU (the deterministic default of the spec layer); ``"auto"`` -> :func:`default_device`
    (CUDA when present); ``"cuda"`` without a GPU -> a clear error."""
    if device is None or device == "auto":
        return torch.device("cpu") if device is None else default_device()
    if not isinstance(device, (str, torch.device)):
        raise SpecError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}", "device")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise SpecError(f"unknown device {device!r}; use 'cpu', 'cuda', 'cuda:N' or 'auto'", "device") from None
    if dev.type not in ("cpu", "cuda"):
        raise SpecError(f"device {device!r} is not supported; use 'cpu', 'cuda', 'cuda:N' or 'auto'", "device")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SpecError("device 'cuda' was requested but no CUDA GPU is available; use 'cpu' or 'auto'")
    return dev
