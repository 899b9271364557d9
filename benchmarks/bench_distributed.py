"""Benchmark of symcorr.distributed: a Monte Carlo run on a Dask LocalCluster against one process.

    python benchmarks/bench_distributed.py [--workers 2] [--networks 131072] [--width 100] [--repeat 2]

1. **2 local workers vs one process.**  ``estimate_correlators`` of G2 and G4 (Erf-net 3-N-2, 4 points,
   366 unique entries, direct estimator, float64) in this process and on a ``LocalCluster`` of
   ``--workers`` one-thread worker processes (started, and warmed up by one run, before the clock starts);
   the speed-up, and the overhead per block
   :math:`(W\\,t_W - t_1)/\\text{blocks}` (the wall time the cluster adds per block, over a perfect
   ``W``-fold split of the serial time).  Both results are checked to be equal bit for bit.
2. **Overhead per block as the block shrinks.**  The same work cut into RNG blocks of 1024, 256, 64 and 16
   networks, one block per task (the worst case: every block a future): serial and cluster time per
   network and the overhead per block.
3. **The cost of a future alone.**  Blocks that do nothing (a float each): the cluster's wall time per
   task, i.e. the floor under the overhead per block of 1 and 2.

The serial path runs single-threaded, as the blocks do on every worker (``threads=1``).  Numbers are
noisy when other processes share the CPUs; the ratios of one run are what to compare.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import time

import torch

from symcorr import zoo
from symcorr.distributed import open_client, run_blocks
from symcorr.montecarlo import Ensemble, NPointAccumulator, estimate_correlators
from symcorr.montecarlo.blocks import EnsembleBlocks
from symcorr.montecarlo.estimators import _feed_source
from _common import cpu_name


def _best(fn, repeat):
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _same(a, b) -> bool:
    return all(torch.equal(a[n].mean, b[n].mean) and torch.equal(a[n].se, b[n].se) for n in a)


def _blocks_work(net, x, networks, block):
    ens = Ensemble(net, networks, seed=0, block=block, chunk=block, device="cpu", estimator="direct")
    pts = ens.points(x)
    return EnsembleBlocks(ens, "bench", functools.partial(NPointAccumulator, pts, 2, [2, 4]),
                          functools.partial(_feed_source, pts))


class Nothing:
    """Blocks that cost nothing: what a future costs by itself."""

    def __init__(self, blocks):
        self.blocks = blocks

    def leaf(self, j, payload=None):
        return float(j)

    def merge(self, a, b):
        return a + b

    def weight(self, a, b):
        return b - a

    def fingerprint(self):
        return {}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--networks", type=int, default=131072)
    p.add_argument("--width", type=int, default=100)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--small-networks", type=int, default=16384, help="networks for the block-size scan")
    args = p.parse_args()
    torch.set_num_threads(1)
    net = zoo.erf_net(3, args.width, 2)
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    kw = dict(orders=(2, 4), networks=args.networks, seed=0, estimator="direct", device="cpu")
    print(f"# symcorr.distributed benchmark: {cpu_name()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{args.workers} workers, load average {os.getloadavg()[0]:.1f} at the start")
    with open_client(f"local:{args.workers}") as client:
        estimate_correlators(net, x, client=client, **{**kw, "networks": 4096})       # workers import symcorr
        t1, serial = _best(lambda: estimate_correlators(net, x, **kw), args.repeat)
        tw, dist = _best(lambda: estimate_correlators(net, x, client=client, **kw), args.repeat)
        blocks = -(-args.networks // 1024)
        print()
        print(f"## {args.networks} networks, Erf-net 3-{args.width}-2, G2 + G4 at 4 points, blocks of 1024, "
              f"16 blocks per task")
        print()
        print("| | wall time | networks/s | speed-up | overhead per block |")
        print("|---|---:|---:|---:|---:|")
        print(f"| one process | {t1:.2f} s | {args.networks / t1:,.0f} | 1 | |")
        over = (args.workers * tw - t1) / blocks
        print(f"| {args.workers} local workers | {tw:.2f} s | {args.networks / tw:,.0f} | {t1 / tw:.2f}x | "
              f"{1e3 * over:.1f} ms |")
        print(f"\nbit for bit equal: {_same(serial, dist)}")
        print()
        print(f"## overhead per block as the block shrinks ({args.small_networks} networks, one block per task)")
        print()
        print("| block | blocks | one process, us/network | cluster, us/network | speed-up | overhead per block |")
        print("|---:|---:|---:|---:|---:|---:|")
        for block in (1024, 256, 64, 16):
            work = _blocks_work(net, x, args.small_networks, block)
            s, a = _best(lambda: run_blocks(work, threads=1), args.repeat)
            d, b = _best(lambda: run_blocks(work, client=client, threads=1), args.repeat)
            assert all(torch.equal(a.acc[n].mean_, b.acc[n].mean_) for n in a.acc)
            n = work.blocks
            print(f"| {block} | {n} | {1e6 * s / args.small_networks:.2f} | {1e6 * d / args.small_networks:.2f} | "
                  f"{s / d:.2f}x | {1e3 * (args.workers * d - s) / n:.2f} ms |")

        print()
        print("## a future by itself (blocks that do nothing)")
        print()
        print("| tasks | wall time | per task |")
        print("|---:|---:|---:|")
        for tasks in (64, 512):
            t, total = _best(lambda: run_blocks(Nothing(tasks), client=client), args.repeat)
            assert total == tasks * (tasks - 1) / 2
            print(f"| {tasks} | {t:.2f} s | {1e3 * t / tasks:.2f} ms |")
        print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
