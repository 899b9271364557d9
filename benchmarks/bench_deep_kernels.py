"""Benchmark: the infinite-width NNGP + NTK of a 5-hidden-layer ReLU network on a 1000 x 1000 grid of pairs.

    python benchmarks/bench_deep_kernels.py [--n 1000] [--threads 1 2] [--repeats 3] [--montecarlo-pairs 0]

The network is the one of ``benchmarks/peer_reference.py``'s timing (neural-tangents 0.6.5 took 0.317 s
here): 5 hidden ReLU layers of width 512, ``W ~ N(0, 2/fan_in)``, ``b ~ N(0, 0.01)``, a linear read-out
``W ~ N(0, 1/512)``, ``b ~ N(0, 0.01)``, inputs ``(1000, 8)`` standard normal, float64, the NTK
parameterisation.  Rows, all measured in one run (best of ``--repeats`` after one warm-up call):

* ``symcorr.deep.gram`` -- ``InfiniteWidthGram(net, "ntk").evaluate(X)``: both kernels on the grid (generated
  torch code from the Gaussian table, streamed in row blocks), for each torch thread count in ``--threads``;
* a hand-written torch recursion of the same kernel (written below, the whole grid at once, no blocks);
* today's per-pair paths, measured on a few pairs and extrapolated **per pair** to the grid:
  the exact single-hidden-layer kernel and NTK one pair per call (``kernel(net1).evaluate`` +
  ``ntk_expectation(net1, "ntk").evaluate`` on a 1-hidden-layer ReLU net: what existed for one pair
  before; for the 5-layer net the only per-pair path was Monte Carlo, ``kernel(net5).evaluate``, timed on
  ``--montecarlo-pairs`` pairs when asked, 30-80 s a pair per the issue), and the new symbolic per-pair
  ``gp_limit`` of the 5-layer net (SymPy at Float points, evaluated), for comparison.

Speed is never asserted in tests; this script prints a Markdown table (and ``--json`` writes the numbers).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import sympy as sp
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cpu_name  # noqa: E402

from symcorr import Dense, Network, Normal, zoo  # noqa: E402
from symcorr.deep import InfiniteWidthGram  # noqa: E402
from symcorr.ntk import ntk_expectation  # noqa: E402
from symcorr.symbolic import kernel  # noqa: E402

PEER = Path(__file__).resolve().parent.parent / "tests" / "deep" / "data" / "peer_kernels.json"
DEPTH, WIDTH, D_IN, C_W, C_B, C_W_OUT = 5, 512, 8, 2.0, 0.01, 1.0


def network() -> Network:
    layers = [Dense(WIDTH, "relu", weight=Normal(0, sp.Rational(2, D_IN)), bias=Normal(0, sp.Rational(1, 100)))]
    layers += [Dense(WIDTH, "relu", weight=Normal(0, sp.Rational(2, WIDTH)), bias=Normal(0, sp.Rational(1, 100)))
               for _ in range(DEPTH - 1)]
    layers.append(Dense(1, weight=Normal(0, sp.Rational(1, WIDTH)), bias=Normal(0, sp.Rational(1, 100))))
    return Network(D_IN, layers)


def hand_written(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The same NNGP and NTK, written directly in torch (arc-cosine kernels, NTK parameterisation)."""
    k = C_B + C_W * (x @ x.T) / x.shape[1]
    kd = C_B + C_W * (x * x).sum(-1) / x.shape[1]
    theta = k.clone()
    for layer in range(DEPTH):
        c_w = C_W if layer < DEPTH - 1 else C_W_OUT
        norm = torch.sqrt(kd[:, None] * kd[None, :])
        cos = (k / norm).clamp(-1.0, 1.0)
        angle = torch.arccos(cos)
        f = norm / (2 * math.pi) * (torch.sqrt(1 - cos * cos) + (math.pi - angle) * cos)
        f_dot = (math.pi - angle) / (2 * math.pi)
        k = C_B + c_w * f
        theta = k + c_w * f_dot * theta
        kd = C_B + c_w * kd / 2
    return k, theta


def best_of(fn, repeats: int) -> tuple[float, object]:
    fn()  # warm-up (generated code compiled, caches filled)
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def per_pair_seconds(fn, pairs) -> float:
    t = time.perf_counter()
    for a, b in pairs:
        fn(a, b)
    return (time.perf_counter() - t) / len(pairs)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="points per side of the grid")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, torch.get_num_threads()])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=20, help="pairs timed for today's per-pair path")
    parser.add_argument("--montecarlo-pairs", type=int, default=0, help="also time today's Monte Carlo path")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    x = torch.randn(args.n, D_IN, dtype=torch.float64)
    net = network()
    gram = InfiniteWidthGram(net, "ntk")
    grid_pairs = args.n * args.n
    out = {"cpu": cpu_name(), "n": args.n, "pairs": grid_pairs}
    default_threads = torch.get_num_threads()
    results = {}
    for threads in dict.fromkeys(args.threads):
        torch.set_num_threads(threads)
        t_ours, res = best_of(lambda: gram.evaluate(x), args.repeats)
        t_hand, (k_hand, theta_hand) = best_of(lambda: hand_written(x), args.repeats)
        results[threads] = (t_ours, t_hand)
        diff = max(float(((res.nngp.values - k_hand) / k_hand).abs().max()),
                   float(((res.ntk.values - theta_hand) / theta_hand).abs().max()))
        out[f"threads_{threads}"] = {"symcorr_s": t_ours, "hand_written_s": t_hand, "max_rel_diff": diff}
    torch.set_num_threads(1)
    # today's per-pair paths (one hidden layer, exact), extrapolated per pair to the grid
    net1 = zoo.relu_net(D_IN, WIDTH, 1, sigma_w0=math.sqrt(2), sigma_b0=0.1, sigma_w1=1, sigma_b1=0.1)
    pts = x[: args.pairs + 1].tolist()
    pairs = list(zip(pts[:-1], pts[1:]))
    k1, n1 = kernel(net1), ntk_expectation(net1, "ntk")
    s_kernel = per_pair_seconds(lambda a, b: k1.evaluate(a, b), pairs)
    s_ntk = per_pair_seconds(lambda a, b: n1.evaluate(torch.tensor([a]), torch.tensor([b])), pairs)
    deep_symbolic = kernel(net)
    s_symbolic = per_pair_seconds(
        lambda a, b: float(sp.N(deep_symbolic.gp_limit([sp.Float(v) for v in a], [sp.Float(v) for v in b]))),
        pairs[:5])
    out.update({"per_pair_exact_1hidden_s": s_kernel + s_ntk, "per_pair_symbolic_5layer_nngp_s": s_symbolic})
    if args.montecarlo_pairs:
        s_mc = per_pair_seconds(lambda a, b: deep_symbolic.evaluate(a, b), pairs[: args.montecarlo_pairs])
        out["per_pair_montecarlo_5layer_nngp_s"] = s_mc
    torch.set_num_threads(default_threads)
    peer = json.loads(PEER.read_text()).get("timing_5layer_relu_1000x1000_s")

    print(f"## Deep kernels: 5-hidden-layer ReLU NNGP + NTK on {args.n} x {args.n} pairs (float64)\n")
    print(f"CPU: {out['cpu']}; torch {torch.__version__}; one run, best of {args.repeats}\n")
    print("| path | torch threads | seconds | per pair | relative to symcorr.deep.gram (1 thread) |")
    print("|---|---|---|---|---|")
    base = results[min(results)][0]
    for threads, (t_ours, t_hand) in results.items():
        print(f"| symcorr.deep.gram | {threads} | {t_ours:.3f} | {t_ours / grid_pairs * 1e9:.0f} ns | "
              f"{t_ours / base:.2f} |")
        print(f"| hand-written torch recursion | {threads} | {t_hand:.3f} | {t_hand / grid_pairs * 1e9:.0f} ns | "
              f"{t_hand / base:.2f} |")
    if peer:
        print(f"| neural-tangents 0.6.5 (peer_reference.py, earlier run) | - | {peer:.3f} | "
              f"{peer / grid_pairs * 1e9:.0f} ns | {peer / base:.2f} |")
    s1 = out["per_pair_exact_1hidden_s"]
    print(f"| today's exact per-pair path, 1 hidden layer (kernel + NTK evaluate), extrapolated | 1 | "
          f"{s1 * grid_pairs:.0f} | {s1 * 1e3:.2f} ms | {s1 * grid_pairs / base:.0f} |")
    print(f"| new symbolic per-pair gp_limit of the 5-layer net (NNGP only), extrapolated | 1 | "
          f"{s_symbolic * grid_pairs:.0f} | {s_symbolic * 1e3:.1f} ms | {s_symbolic * grid_pairs / base:.0f} |")
    if "per_pair_montecarlo_5layer_nngp_s" in out:
        s = out["per_pair_montecarlo_5layer_nngp_s"]
        print(f"| today's Monte Carlo per-pair path of the 5-layer net (NNGP only), extrapolated | 1 | "
              f"{s * grid_pairs:.0f} | {s:.1f} s | {s * grid_pairs / base:.0f} |")
    worst = max(v["max_rel_diff"] for k, v in out.items() if k.startswith("threads_"))
    print(f"\nlargest relative difference from the hand-written recursion: {worst:.1e} (the grid's diagonal is the "
          "exact one-point value; the hand-written arccos of 1 - 1e-16 is not)")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    main()
