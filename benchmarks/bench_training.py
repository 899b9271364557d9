"""Benchmark: vectorised ensemble training and the empirical NTK against one network at a time.

    python benchmarks/bench_training.py [--members 512] [--loop-members 32] [--threads 1]

1. ``train_ensemble`` (all members in one batched forward/backward per step) against a Python loop that
   trains the members one by one with the same optimiser code (``optimizer_map`` on a single member),
   GD and Adam; reported as members per second and their ratio;
2. the empirical NTK of an ensemble: layerwise (hand-derived back-propagation), ``torch.func.jacrev``
   over the batched ensemble, and a loop of per-network ``torch.autograd.functional.jacobian``.

Ratios are measured within one run; absolute numbers are noisy when other processes share the CPUs.
"""

from __future__ import annotations

import argparse
import time

import torch

from symcorr import zoo
from symcorr.ntk import empirical_ntk
from symcorr.rng import make_generator
from symcorr.training import optimizer_map, train_ensemble


def _timed(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench_training(members: int, loop_members: int, steps: int, optimizer: str) -> tuple[float, float]:
    net = zoo.tanh_net(4, 32, 3)
    gen = make_generator(0)
    X = torch.randn(16, 4, generator=gen, dtype=torch.float64)
    Y = torch.randn(16, 3, generator=gen, dtype=torch.float64)
    lr = 0.05 if optimizer == "gd" else 0.01
    t_vec = _timed(lambda: train_ensemble(net, X, Y, optimizer=optimizer, lr=lr, steps=steps,
                                          members=members, seed=1, snapshot_steps=[steps]))
    phi = optimizer_map(net, X, Y, optimizer=optimizer, lr=lr, steps=steps)
    params = net.sample(loop_members, seed=1)

    def loop():
        for m in range(loop_members):
            phi({k: v[m:m + 1] for k, v in params.items()})

    t_loop = _timed(loop)
    return members / t_vec, loop_members / t_loop


def bench_ntk(networks: int, loop_networks: int) -> dict:
    net = zoo.erf_net(4, 64, 3)
    x = torch.randn(4, 4, generator=make_generator(0), dtype=torch.float64)
    params = net.sample(networks, seed=2)
    out = {}
    for method in ("layerwise", "autograd"):
        out[method] = networks / _timed(lambda: empirical_ntk(net, params, x, method=method), repeat=3)
    names = list(net.blocks)

    def loop():
        for m in range(loop_networks):
            flat = torch.cat([params[k][m].reshape(-1) for k in names])
            shapes = [params[k][m].shape for k in names]

            def f(theta):
                parts, i = {}, 0
                for k, s in zip(names, shapes):
                    size = int(torch.tensor(s).prod())
                    parts[k] = theta[i:i + size].reshape(1, *s)
                    i += size
                return net.forward(parts, x)[0]

            j = torch.autograd.functional.jacobian(f, flat)
            torch.einsum("pai,qbi->pqab", j, j)

    out["loop"] = loop_networks / _timed(loop)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=512)
    parser.add_argument("--loop-members", type=int, default=32)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s)")
    for optimizer in ("gd", "adam"):
        vec, loop = bench_training(args.members, args.loop_members, args.steps, optimizer)
        print(f"training ({optimizer}, tanh 4-32-3, 16 points, {args.steps} steps): vectorised "
              f"{vec:9.1f} members/s ({args.members} at once), loop {loop:7.1f} members/s -> ratio {vec / loop:6.1f}")
    rates = bench_ntk(2048, 64)
    print(f"empirical NTK (erf 4-64-3, 4 points): layerwise {rates['layerwise']:9.0f} nets/s, jacrev "
          f"{rates['autograd']:9.0f} nets/s, per-network loop {rates['loop']:7.1f} nets/s -> layerwise/loop "
          f"{rates['layerwise'] / rates['loop']:6.0f}, jacrev/loop {rates['autograd'] / rates['loop']:6.0f}")


if __name__ == "__main__":
    main()
