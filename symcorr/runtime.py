"""The torch runtime: the number of intra-op threads, set for a block of work and restored after it.

``torch.set_num_threads`` is process-wide; a command that changes it must give it back, otherwise a
caller embedding symcorr (a notebook, a test session) keeps the command's setting.  :func:`torch_threads`
is a context manager that sets the count and restores the previous one on exit (errors included).
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

import torch

from .errors import SpecError

__all__ = ["torch_threads", "check_threads", "default_threads"]


def default_threads() -> int:
    """Threads to use when the user names none: ``SYMCORR_THREADS`` if set, else the cores not already
    busy (``os.cpu_count()`` minus the one-minute load average, at least 1).  On a loaded machine torch with
    fewer threads is much faster than torch competing with other processes for every core."""
    env = os.environ.get("SYMCORR_THREADS")
    if env:
        try:
            value = int(env)
        except ValueError:
            value = 0
        if value < 1:
            raise SpecError(f"SYMCORR_THREADS must be a positive integer, got {env!r}", "SYMCORR_THREADS")
        return value
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - platforms without a load average
        load = 0.0
    return max(1, min(cores, int(round(cores - load))))


def check_threads(threads, where: str = "threads") -> int | None:
    """``None`` (leave torch's setting) or a positive integer; a SpecError otherwise."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise SpecError(f"must be a positive integer, got {threads!r}", where)
    return threads


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[int]:
    """Run the block with ``threads`` torch intra-op threads (``None``: unchanged); restores the previous
    count afterwards.  Yields the count in effect."""
    threads = check_threads(threads)
    previous = torch.get_num_threads()
    if threads is not None and threads != previous:
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
