r"""Naming a cluster: ``local:N`` (a Dask ``LocalCluster`` of N worker processes on this machine) or the
address of a running Dask scheduler (``tcp://host:8786``, e.g. one started by ``dask-jobqueue`` on a
Slurm or PBS cluster, see ``docs/distributed.md``).

Dask is an optional dependency (``pip install 'symcorr[distributed]'``); nothing here imports it until a
cluster is asked for, and a missing install is a one-line :class:`~symcorr.errors.SpecError`.

Workers of a ``local:N`` cluster are processes with one thread each (``threads_per_worker=1``), without
Dask's statistical profiler (``distributed.worker.profile.enabled: false``; it made every block cost
1.5-1.7x its serial CPU time on the machine measured): the parallelism is across workers, and each task sets torch to one intra-op thread for its blocks (the
Monte Carlo blocks are computed single-threaded in the serial path too, so that both give the same
bits).  The workers run this same Python environment, so they import this same symcorr.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from typing import Any, Iterator

from ..errors import SpecError

__all__ = ["open_client", "parse_scheduler", "require_distributed", "is_client", "worker_threads"]

_LOCAL = re.compile(r"^local(?::(\d+))?$")
_INSTALL = "pip install 'symcorr[distributed]'"


def require_distributed(where: str = "client"):
    """The ``distributed`` module, or a SpecError saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise SpecError(f"running on a Dask cluster needs dask.distributed; install it with {_INSTALL}",
                        where) from None
    return distributed


def is_client(obj: Any) -> bool:
    """Whether ``obj`` is a ``dask.distributed.Client`` (without importing dask when it is not loaded)."""
    import sys
    mod = sys.modules.get("distributed")
    return mod is not None and isinstance(obj, mod.Client)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def parse_scheduler(text: str) -> tuple[str, int | str]:
    """``("local", N)`` for ``local`` / ``local:N`` (``local`` alone: one worker per CPU), or
    ``("address", text)`` for the address of a running scheduler; a SpecError for anything else."""
    if not isinstance(text, str) or not text.strip():
        raise SpecError(f"expected local:N or the address of a Dask scheduler, got {text!r}", "scheduler")
    text = text.strip()
    m = _LOCAL.match(text)
    if m:
        n = int(m.group(1)) if m.group(1) else _cpus()
        if n < 1:
            raise SpecError(f"local:N needs at least one worker, got {text!r}", "scheduler")
        return "local", n
    if text.startswith("local"):
        raise SpecError(f"expected local:N with N a positive integer, got {text!r}", "scheduler")
    if not re.match(r"^([a-z]+://)?[A-Za-z0-9_.\-\[\]:]+(:\d+)?/?$", text):
        raise SpecError(f"expected local:N or a scheduler address such as tcp://host:8786, got {text!r}",
                        "scheduler")
    return "address", text


@contextlib.contextmanager
def open_client(scheduler, *, timeout: float = 60.0) -> Iterator[Any]:
    """A context manager yielding a ``dask.distributed.Client`` for ``scheduler``, closed (with its
    local cluster, if it made one) on exit; ``None`` yields ``None`` (the serial path), and an existing
    ``Client`` is yielded as it is and left open.

    ``scheduler``: ``"local:N"`` (a ``LocalCluster(n_workers=N, threads_per_worker=1,
    processes=True)``), ``"local"`` (one worker per CPU) or a scheduler address."""
    if scheduler is None:
        yield None
        return
    if is_client(scheduler):
        yield scheduler
        return
    kind, value = parse_scheduler(scheduler)
    distributed = require_distributed("scheduler")
    if kind == "local":
        import dask
        # Dask's statistical profiler samples every task's stack every 10 ms; measured here it made the
        # blocks cost 1.5-1.7x their serial CPU time, so a local cluster of ours runs without it
        with dask.config.set({"distributed.worker.profile.enabled": False}):   # ":0": any free port
            cluster = distributed.LocalCluster(n_workers=int(value), threads_per_worker=1, processes=True,
                                               dashboard_address=":0")
        try:
            client = distributed.Client(cluster, timeout=timeout)
            try:
                yield client
            finally:
                client.close()
        finally:
            with _quiet("distributed.nanny"):   # workers with torch loaded are slow to exit; the nanny says so
                cluster.close()
        return
    try:
        client = distributed.Client(value, timeout=timeout)
    except (OSError, TimeoutError) as err:
        raise SpecError(f"cannot reach the Dask scheduler at {value}: {err}", "scheduler") from None
    try:
        yield client
    finally:
        client.close()


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def worker_threads(client) -> int:
    """The number of task slots (worker threads) of the cluster now."""
    return max(1, sum(client.nthreads().values()))
