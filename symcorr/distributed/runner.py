r"""A blockwise run: a map over blocks and the fixed tree reduction, in this process or on a Dask cluster.

The work of a run is a :class:`BlockWork`: ``blocks`` independent pieces (the RNG blocks of a Monte
Carlo ensemble, the neuron chunks of the neuron-level estimator, the model chunks of a Fashion-MNIST
sweep), each computed by ``leaf(j, payload)`` from its own seed into a fresh partial result, and a
``merge(a, b)`` of two partial results.  :func:`run_blocks` cuts ``[0, blocks)`` into tasks of at most
``per_task`` blocks, computes each task (``run_interval``: its leaves, reduced to the maximal nodes of
the tree of :mod:`symcorr.distributed.tree` that lie in it) and combines the nodes into the root.

* ``client=None``: the tasks run here, one after the other;
* ``client=`` a ``dask.distributed.Client`` or a scheduler name (``"local:N"``, an address; see
  :func:`symcorr.distributed.open_client`): the tasks are submitted as futures (at most ``window`` in
  flight), their nodes are gathered as they complete, in any order, and merged here.  A worker that
  dies takes only its unfinished tasks with it: Dask recomputes them elsewhere from the same block
  seeds, so the result is the same bits;
* ``checkpoint=`` a folder: every node that waits for its sibling is saved there (atomically), with a
  manifest of the run's ``fingerprint()``; a run started again on the same folder computes only the
  blocks the saved nodes do not cover (:mod:`symcorr.distributed.checkpoint`).

The result depends only on the leaves and the tree, never on ``per_task``, the number of workers,
the order of completion, or where a checkpoint stopped: the serial and distributed paths perform the
same merges on the same values.  What that relies on (see ``docs/distributed.md``): every leaf is a
deterministic function of its block (seeded per block; same torch build and CPU type on every
worker; ``threads`` torch threads while it runs, 1 for the Monte Carlo kernels, set in the serial
path as well), and the merge of two values is deterministic.

``progress(n)`` is told, as each task completes (each future, on a cluster), how many units
(``weight(a, b)``: networks, neurons, model-epochs) it covered; blocks resumed from a checkpoint are
counted at the start.
"""

from __future__ import annotations

import contextlib
import math
import time
import uuid
from typing import Any, Callable, Iterator, Protocol, Sequence

import torch

from ..errors import SpecError
from ..runtime import torch_threads
from .checkpoint import Checkpoint
from .cluster import open_client, require_distributed, worker_threads
from .tree import TreeReducer, covering_nodes, node_span, node_value

__all__ = ["BlockWork", "run_blocks", "run_interval", "plan_tasks"]


class BlockWork(Protocol):
    """What :func:`run_blocks` runs (see the module docstring).  Must be picklable for a cluster.

    ``reports_progress`` (optional attribute, default False): ``leaf`` accepts a third argument, a
    progress callable, and ticks it itself (only in the serial path; on a cluster the runner ticks
    ``weight`` when the task's future completes)."""

    blocks: int

    def leaf(self, j: int, payload: Any) -> Any: ...

    def merge(self, a: Any, b: Any) -> Any: ...

    def weight(self, a: int, b: int) -> int: ...

    def fingerprint(self) -> dict: ...


def _check_count(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(f"must be a positive integer, got {value!r}", what)
    return value


def plan_tasks(blocks: int, per_task: int, covered: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """The block intervals still to compute: ``[0, blocks)`` less the ``covered`` spans, cut at the
    multiples of ``per_task``."""
    per_task = _check_count(per_task, "per_task")
    out = []
    pos = 0
    for start, stop in sorted(covered) + [(blocks, blocks)]:
        while pos < start:
            end = min(start, (pos // per_task + 1) * per_task)
            out.append((pos, end))
            pos = end
        pos = max(pos, stop)
    return out


@contextlib.contextmanager
def _threads(threads: int | None, on_worker: bool) -> Iterator[None]:
    if threads is None:
        yield
    elif on_worker:
        # the worker process is ours for the task: set, do not restore (restoring would race with
        # another task of the same worker that set the same count)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        yield
    else:
        with torch_threads(threads):
            yield


def run_interval(work: BlockWork, payload: Any, a: int, b: int, threads: int | None = 1,
                 on_worker: bool = False, progress: Callable[[int], None] | None = None) -> list:
    """One task: the blocks ``[a, b)`` of ``work``, as the maximal tree nodes inside the interval,
    ``[(level, index, value), ...]``."""
    n = work.blocks
    if progress is not None and getattr(work, "reports_progress", False):
        def leaf(j):
            return work.leaf(j, payload, progress)  # type: ignore[call-arg]
    else:
        def leaf(j):
            return work.leaf(j, payload)
    with _threads(threads, on_worker):
        return [(k, i, node_value(leaf, work.merge, n, k, i)) for k, i in covering_nodes(a, b, n)]


def _hold(value):
    return value


def run_blocks(work: BlockWork, *, per_task: int = 1, client=None, checkpoint=None,
               progress: Callable[[int], None] | None = None, threads: int | None = 1, payload: Any = None,
               window: int | None = None) -> Any:
    """Run ``work`` and return the root of its reduction tree (see the module docstring).

    ``per_task``: blocks per task (scheduling and checkpoint granularity; no effect on the result).
    ``client``: ``None`` (serial), a ``dask.distributed.Client`` or a scheduler name.  ``checkpoint``:
    a folder to save to and resume from.  ``threads``: torch intra-op threads while a task runs
    (``None``: leave torch's setting).  ``payload``: a large object every leaf needs (passed to
    ``leaf``; on a cluster sent once to every worker).  ``window``: tasks in flight on a cluster
    (default twice its worker threads).
    """
    n = _check_count(work.blocks, "blocks")
    per_task = _check_count(per_task, "chunk")
    if window is not None:
        window = _check_count(window, "window")
    tick = progress if progress is not None else (lambda k: None)
    store = Checkpoint(checkpoint, work.fingerprint(), n) if checkpoint is not None else None

    def park(level, index, value):
        return store.save(level, index, value) if store is not None else None

    def release(tag):
        if store is not None:
            store.remove([tag])

    reducer = TreeReducer(n, work.merge, park if store is not None else None, release)
    covered = []
    if store is not None:
        for level, index, value, files in store.load():
            span = node_span(level, index, n)
            covered.append(span)
            reducer.add(level, index, value, files[0])
            tick(work.weight(*span))
    tasks = plan_tasks(n, per_task, covered)

    def accept(a, b, nodes, counted=False):
        for level, index, value in nodes:
            reducer.add(level, index, value)
        if not counted:
            tick(work.weight(a, b))

    if not tasks:                                 # everything was resumed: no cluster needed
        return reducer.result()
    fine = getattr(work, "reports_progress", False) and progress is not None
    with open_client(client) as cl:
        if cl is None:
            for a, b in tasks:
                accept(a, b, run_interval(work, payload, a, b, threads, progress=tick if fine else None),
                       counted=fine)
        else:
            _run_on_cluster(cl, work, payload, tasks, threads, accept, window)
    return reducer.result()


def _run_on_cluster(client, work, payload, tasks, threads, accept, window) -> None:
    distributed = require_distributed()
    token = uuid.uuid4().hex[:12]
    # the work travels inside a task (not scattered), so Dask can recompute it if its holder dies
    held = client.submit(_hold, work, key=f"symcorr-work-{token}")
    shared = client.scatter(payload, broadcast=True, hash=False) if payload is not None else None
    queue = iter(tasks)
    spans: dict[str, tuple[int, int]] = {}
    running = distributed.as_completed()
    live: dict[str, Any] = {}
    checked = [-math.inf, 0]                     # when the window was last sized, and its size

    def limit() -> int:
        """``window``, or twice the worker threads now (re-read every second: workers of a batch
        system join while the run goes on)."""
        if window is not None:
            return window
        if time.monotonic() - checked[0] > 1.0:
            checked[:] = [time.monotonic(), max(2, 2 * worker_threads(client))]
        return int(checked[1])

    def fill() -> None:
        while len(live) < limit():
            for a, b in queue:
                fut = client.submit(run_interval, held, shared, a, b, threads, True,
                                    key=f"symcorr-{token}-{a}-{b}")
                spans[fut.key] = (a, b)
                live[fut.key] = fut
                running.add(fut)
                break
            else:
                return

    try:
        fill()
        for fut in running:
            a, b = spans.pop(fut.key)
            nodes = fut.result()          # a task's own exception is raised here
            live.pop(fut.key).release()
            accept(a, b, nodes)
            fill()
    except BaseException:
        client.cancel(list(live.values()))
        raise
    finally:
        client.cancel([held] + ([shared] if shared is not None else []))
