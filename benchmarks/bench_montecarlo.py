"""Benchmark of symcorr.montecarlo: every ratio measured in one run.

    python benchmarks/bench_montecarlo.py [--threads 1] [--networks 200000] [--loop 2000] [--device cpu]

1. **Vectorised vs one network at a time.**  ``estimate_correlators`` of G2 and G4 (chunks of networks,
   batched sampling, forward and accumulation) against a Python loop that samples, evaluates and
   accumulates one network at a time with the same code; networks per second and the ratio (goal >= 50x),
   for widths 10 and 100, float64 and float32 sampling, direct and read-out estimators.
2. **Against the random numbers alone.**  The full pipeline against drawing the same random numbers
   (the ensemble's chunks, sampled and discarded); ratio of times (goal <= 2x).  Drawing float64 normals
   costs ~17 ns each on this CPU, float32 ~4 ns.
3. **Neuron-level vs whole-network**, CPU seconds to reach a given standard error on the connected
   4-point function :math:`G^c(x_1,x_2,x_3,x_4)`: each estimator runs once, its standard error ``s`` after
   ``t`` CPU seconds gives :math:`t\\,(s/\\epsilon)^2` for a target error :math:`\\epsilon` (the ratio does
   not depend on :math:`\\epsilon`) (goal >= 100x).

Numbers are noisy when other processes share the CPUs; run with ``--threads 1`` on a loaded machine.
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from symcorr import zoo
from symcorr.montecarlo import (Ensemble, NPointAccumulator, ProductSource, estimate_connected,
                                estimate_correlators)
from symcorr.montecarlo.estimators import select_entries
from symcorr.rng import child_seed, make_generator
from _common import cpu_name




def _best(fn, repeat=3):
    """Smallest wall time of ``repeat`` runs (the least disturbed by other processes) and the result."""
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def loop_one_at_a_time(net, x, orders, networks, seed, dtype):
    """The reference: sample, evaluate and accumulate one network per iteration with the same accumulator
    (one generator for the whole loop, which favours the loop: no per-network seeding)."""
    d = int(net.output_dim)
    sel = select_entries(x.shape[0], d, orders)
    acc = NPointAccumulator(x, d, list(sel), entries=sel)
    gen = make_generator(child_seed(seed, 0))
    for _ in range(networks):
        params = net.sample(1, generator=gen, dtype=dtype)
        acc.update(ProductSource(net.forward(params, x)))
    return acc.estimates()


def draw_only(net, networks, seed, device, estimator, dtype):
    """Draw the ensemble's random numbers (its chunks) and nothing else."""
    ens = Ensemble(net, networks, seed=seed, device=device, estimator=estimator, dtype=dtype)
    total = 0
    for c in ens.chunks():
        total += c.size
    return total


def section_throughput(args, width, orders):
    net = zoo.erf_net(3, width, d_out=2)
    x = torch.tensor([[0.3, -0.5, 1.0], [1.0, 0.2, -0.4], [-0.4, 0.8, 0.1], [0.0, 0.5, 0.5]], dtype=torch.float64)
    slots = x.shape[0] * int(net.output_dim)
    entries = sum(math.comb(slots + n - 1, n) for n in orders)
    print(f"\n## Erf-net 3-{width}-2, orders {orders}: {x.shape[0]} points x 2 outputs, {entries} unique entries")
    out = []
    for dtype in (torch.float64, torch.float32):
        name = str(dtype).replace("torch.", "")
        t_loop, _ = _best(lambda: loop_one_at_a_time(net, x, orders, args.loop, 0, dtype), repeat=1)
        loop_rate = args.loop / t_loop
        for est in ("direct", "readout"):
            t, _ = _best(lambda: estimate_correlators(net, x, orders, networks=args.networks, seed=0, estimator=est,
                                                      device=args.device, dtype=dtype))
            rng, _ = _best(lambda: draw_only(net, args.networks, 0, args.device, est, dtype))
            rate = args.networks / t
            print(f"   {name} {est:7s}: vectorised {rate:10,.0f} networks/s | one at a time {loop_rate:8,.0f}/s "
                  f"-> {rate / loop_rate:6.1f}x | random numbers alone {args.networks / rng:10,.0f}/s "
                  f"-> pipeline/RNG {t / rng:4.2f}x")
            out.append((f"N={width} {orders} {name} {est}", rate / loop_rate, t / rng))
    return out


def section_connected(args, width):
    net = zoo.erf_net(1, width)
    x = torch.tensor([[-1.0], [-0.3], [0.4], [1.1]], dtype=torch.float64)
    entry = [[0, 1, 2, 3]]
    print(f"\n## connected 4-point function G^c(x1..x4), Erf-net N = {width}, x = {x[:, 0].tolist()}")
    res = {}
    for name, kw, n in [("whole network, direct", dict(estimator="direct"), args.whole),
                        ("whole network, read-out", dict(estimator="readout"), args.whole),
                        ("neuron level", dict(estimator="neuron"), args.neurons)]:
        t0 = time.process_time()
        est = estimate_connected(net, x, entry, networks=n, seed=1, device=args.device, **kw)
        cpu = time.process_time() - t0
        value, se = float(est.mean[0]), float(est.se[0])
        res[name] = (cpu, se, value)
    target = 0.01 * abs(res["neuron level"][2])
    print(f"   target error: 1% of |G^c| = {target:.3g}")
    for name, (cpu, se, value) in res.items():
        need = cpu * (se / target) ** 2
        print(f"   {name:24s}: G^c = {value:+.5f} +- {se:.2g} after {cpu:6.2f} CPU s -> {need:12.1f} CPU s "
              "to the target")
    neuron = res["neuron level"][0] * (res["neuron level"][1] / target) ** 2
    ratios = {k: v[0] * (v[1] / target) ** 2 / neuron for k, v in res.items() if k != "neuron level"}
    for k, r in ratios.items():
        print(f"   RATIO {k} / neuron level = {r:14,.1f}x   (goal >= 100x)")
    return {"direct": ratios["whole network, direct"], "readout": ratios["whole network, read-out"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--networks", type=int, default=200000, help="networks for the vectorised runs")
    parser.add_argument("--loop", type=int, default=2000, help="networks for the one-at-a-time loop")
    parser.add_argument("--whole", type=int, default=200000, help="networks for the whole-network G^c")
    parser.add_argument("--neurons", type=int, default=200000, help="neurons for the neuron-level G^c")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# symcorr.montecarlo benchmark: torch {torch.__version__}, {args.threads} thread(s), {cpu_name()}, "
          f"device {args.device}")
    summary = []
    for width in (10, 100):
        summary += section_throughput(args, width, (2, 4))
    conn = {w: section_connected(args, w) for w in (10, 100)}
    print("\n## summary (vectorised / one-at-a-time loop, goal >= 50x; pipeline / random numbers alone, goal <= 2x)")
    for label, loop_ratio, rng_ratio in summary:
        print(f"   {label:32s}: {loop_ratio:7.1f}x   {rng_ratio:4.2f}x")
    for w, r in conn.items():
        print(f"   connected G4, N = {w:<4d}: neuron level vs whole network (direct) {r['direct']:,.0f}x, "
              f"vs whole network with the read-out integrated out {r['readout']:,.1f}x  (goal >= 100x)")


if __name__ == "__main__":
    main()
