"""Benchmark of symcorr.montecarlo.models: the numeric frame on torch models, every ratio measured in one run.

    python benchmarks/bench_models.py [--threads 1] [--networks 4000]

For a small MLP (2-8-1, tanh), a Conv1d net (1 -> 3 channels, kernel 5, length 6) and a transformer encoder
layer (4 tokens of width 4):

1. **Drawing networks**: microseconds per network for a factory (one module constructed per network, torch's
   default initialisation), for a template re-initialised in place (``TorchModel(module, init)``, every
   parameter re-drawn by ``nn.init.normal_``), and, for
   the MLP, the spec of ``Network.from_torch`` sampled directly.
2. **Evaluating them**: the ensemble's ``vmap`` of ``functional_call`` on a chunk against a Python loop that
   calls each module on the same points; networks per second and the ratio.

Numbers are noisy when other processes share the CPUs; run with ``--threads 1`` on a loaded machine.
"""

from __future__ import annotations

import argparse
import math
import time

import torch
import torch.nn as nn

from symcorr import Network
from symcorr.montecarlo import ModelEnsemble, TorchModel
from _common import cpu_name


def _best(fn, repeat=3):
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def mlp():
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))


def conv():
    return nn.Sequential(nn.Conv1d(1, 3, 5, padding=2, padding_mode="circular"), nn.Tanh(), nn.Flatten(),
                         nn.Linear(18, 1))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(d_model=4, nhead=2, dim_feedforward=8, dropout=0.0, batch_first=True)
        self.out = nn.Linear(16, 1)

    def forward(self, x):
        return self.out(self.layer(x).flatten(1))


def redraw(module, generator):
    """A module-level init for the template: every parameter re-drawn from the ensemble's generator."""
    with torch.no_grad():
        for p in module.parameters():
            nn.init.normal_(p, std=0.3, generator=generator)


CASES = [("MLP 2-8-1", mlp, (2,)), ("Conv1d", conv, (1, 6)), ("Transformer layer", Encoder, (4, 4))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--networks", type=int, default=4000)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    n = args.networks
    print(f"# symcorr.montecarlo.models benchmark ({cpu_name()}, {args.threads} thread(s), torch {torch.__version__}, "
          f"{n} networks)\n")
    print("| model | factory us/net | template us/net | spec us/net | vmap net/s | loop net/s | vmap / loop |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, build, shape in CASES:
        factory = TorchModel(lambda g, build=build: build(), input_shape=shape)
        template = TorchModel(build(), redraw, input_shape=shape)
        t_factory, _ = _best(lambda: list(ModelEnsemble(factory, n, seed=0, device="cpu").chunks()), repeat=1)
        t_template, _ = _best(lambda: list(ModelEnsemble(template, n, seed=0, device="cpu").chunks()))
        spec_cell = "-"
        if name.startswith("MLP"):
            net = Network.from_torch(build())
            t_spec, _ = _best(lambda: net.sample(n, seed=0))
            spec_cell = f"{1e6 * t_spec / n:.1f}"
        x = torch.randn(3, *shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        ens = ModelEnsemble(template, n, seed=0, device="cpu", chunk=n, block=n)
        (chunk,) = list(ens.chunks())
        t_vmap, _ = _best(lambda: ens.outputs(chunk, x))
        modules = [build().double().eval() for _ in range(min(n, 1000))]

        def loop():
            with torch.no_grad():
                return [m(x) for m in modules]

        t_loop, _ = _best(loop)
        vmap_rate, loop_rate = n / t_vmap, len(modules) / t_loop
        print(f"| {name} | {1e6 * t_factory / n:.0f} | {1e6 * t_template / n:.0f} | {spec_cell} | {vmap_rate:,.0f} | "
              f"{loop_rate:,.0f} | {vmap_rate / loop_rate:.0f}x |")


if __name__ == "__main__":
    main()
