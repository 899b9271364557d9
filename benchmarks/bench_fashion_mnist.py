"""Benchmark: the vectorised Fashion-MNIST trainer against one model at a time.

    python benchmarks/bench_fashion_mnist.py [--threads 2] [--models 32] [--loop-models 4]

Measures, on the real Fashion-MNIST (60000 training images, test set evaluated after each epoch):

1. throughput in model-epochs per second of ``train_models`` (M models at once, hand-written
   gradients, symcorr.optim.Adam) for a few chunk sizes, with the oneDNN and the plain ``torch.mm`` products;
2. the same for the plain loop ``reference_train`` (``torch.nn`` + autograd + ``torch.optim.Adam``);
3. the ratio, and the extrapolated time of the paper's full grid (1260 one-hot + 420 one-cold
   trainings of 20 epochs);
4. the first-layer matrix products alone in float32 (oneDNN, torch.mm) and bfloat16;
5. a real short sweep (``SweepConfig.quick()``: 12 trainings, 3 epochs) end to end.

Numbers are noisy when other processes share the CPUs.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from symcorr.experiments.fashion_mnist import (SweepConfig, TrainData, init_weights, reference_train,
                                               run_sweep, train_models)
from symcorr.experiments.fashion_mnist.model import onednn_op
from symcorr.optim import fused_adam_available

from _common import cpu_name

FULL_GRID_MODEL_EPOCHS = (1260 + 420) * 20




def _fmt_minutes(seconds: float) -> str:
    return f"{seconds:7.0f} s = {seconds / 60:5.1f} min"


def bench_vectorised(data, M: int, epochs: int, gemm: str) -> float:
    """Model-epochs per second of train_models for M models."""
    W0, W1 = init_weights(M, np.linspace(0, 0.2, M), 10, torch.Generator().manual_seed(0))
    t = time.perf_counter()
    train_models(W0, W1, data, epochs=epochs, shuffle=1, gemm=gemm)
    return M * epochs / (time.perf_counter() - t)


def bench_loop(data, M: int, epochs: int) -> float:
    W0, W1 = init_weights(M, 0.0, 0, torch.Generator().manual_seed(0))
    t = time.perf_counter()
    reference_train(W0, W1, data, epochs=epochs, shuffle=1)
    return M * epochs / (time.perf_counter() - t)


def bench_gemms(M: int = 32, B: int = 64, reps: int = 50) -> dict:
    """Microseconds per model for the two first-layer products of one step (forward and dW0)."""
    g = torch.Generator().manual_seed(0)
    W = torch.randn(M * 50, 784, generator=g) * 0.03
    x = torch.randn(B, 784, generator=g)
    dH = torch.randn(M * 50, B, generator=g)
    xT = x.t().contiguous()
    out = {}

    def timeit(f):
        for _ in range(3):
            f()
        t = time.perf_counter()
        for _ in range(reps):
            f()
        return (time.perf_counter() - t) / reps / M * 1e6

    out["float32 torch.mm"] = timeit(lambda: (torch.mm(W, x.t()), torch.mm(dH, x)))
    op = onednn_op()
    if op:
        out["float32 oneDNN"] = timeit(
            lambda: (op(W, x, None, "none", [], ""), op(dH, xT, None, "none", [], "")))
    xb = x.bfloat16()
    out["bfloat16 torch.mm (+casts)"] = timeit(
        lambda: (torch.mm(W.bfloat16(), xb.t()), torch.mm(dH.bfloat16(), xb).float()))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: all CPUs)")
    ap.add_argument("--models", type=int, default=SweepConfig().models_per_chunk,
                    help="chunk size used for the extrapolation (default: the sweep's default)")
    ap.add_argument("--loop-models", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--skip-real-run", action="store_true")
    args = ap.parse_args(argv)
    threads = args.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)

    print(f"CPU: {cpu_name()}; {threads} torch thread(s); torch {torch.__version__}; "
          f"oneDNN products: {bool(onednn_op())}; fused Adam: {fused_adam_available()}")
    t = time.perf_counter()
    data = TrainData.load(args.data_root)
    print(f"load + normalise Fashion-MNIST: {time.perf_counter() - t:.2f} s "
          f"(mean {data.mean:.4f}, std {data.std:.4f})")

    print("\nfirst-layer products per model per step (forward + dW0), M = 32, batch 64:")
    for name, us in bench_gemms().items():
        print(f"  {name:28s} {us:6.1f} us")

    print(f"\nthroughput, {args.epochs} epoch(s) on all 60000 images, test set after each epoch:")
    rates = {}
    for M in sorted({16, args.models, 32, 64}):
        rates[M] = bench_vectorised(data, M, args.epochs, "auto")
        print(f"  vectorised, M = {M:3d}, auto products : {rates[M]:6.2f} model-epochs/s "
              f"({1 / rates[M]:.3f} s per model-epoch)")
    r_torch = bench_vectorised(data, args.models, args.epochs, "torch")
    print(f"  vectorised, M = {args.models:3d}, torch.mm     : {r_torch:6.2f} model-epochs/s")
    r_loop = bench_loop(data, args.loop_models, args.epochs)
    print(f"  one model at a time (torch.nn + Adam)  : {r_loop:6.2f} model-epochs/s "
          f"({1 / r_loop:.3f} s per model-epoch)")
    best = rates[args.models]
    print(f"\nspeed-up of the vectorised trainer (M = {args.models}) over the loop: {best / r_loop:.1f}x")
    print(f"seconds per 20-epoch training: vectorised {20 / best:.1f} s, loop {20 / r_loop:.1f} s")
    print("extrapolated paper grid (1260 + 420 trainings x 20 epochs):")
    print(f"  vectorised: {_fmt_minutes(FULL_GRID_MODEL_EPOCHS / best)}")
    print(f"  loop      : {_fmt_minutes(FULL_GRID_MODEL_EPOCHS / r_loop)}")

    if not args.skip_real_run:
        cfg = SweepConfig.quick(threads=threads)
        res = run_sweep(cfg, data)
        print(f"\nreal quick sweep ({cfg.n_models} trainings x {cfg.epochs} epochs, "
              f"targets={cfg.targets}): {res.seconds:.1f} s "
              f"({res.seconds / (cfg.n_models * cfg.epochs):.3f} s per model-epoch incl. setup)")
        print(res.to_markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
