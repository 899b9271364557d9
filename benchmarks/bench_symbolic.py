"""Benchmark: exact symbolic n-point functions of single-hidden-layer nets (target: < 2 s each).

    python benchmarks/bench_symbolic.py [--d-in 3] [--d-out 5] [--orders 2 4 6]

For Gauss-, Cos-, Erf- and ReLU-nets (symbolic width N, d_out outputs) and n = 2, 4, 6 it times one
cold call (SymPy cache and symcorr caches cleared) of

* ``expr`` at concrete rational points with concrete indices (0,0,1,1,..),
* ``expr`` at symbolic points (``MatrixSymbol('x_i', D, 1)``, symbolic input dimension D) with
  symbolic output indices ``a_1..a_n`` (the form the duality prover uses),
* ``connected`` (the joint cumulant) and ``gp_limit`` at the concrete points,

and, for comparison, the time ``sympy.stats`` needs for one single-neuron moment it would have to do
(E[cos(w x + b)] with a uniform phase; E[erf(w x + b)^2]) with a timeout: the rules replace it.
Numbers are wall-clock seconds on a shared machine; compare rows within one run.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time

import sympy as sp
from sympy.core.cache import clear_cache

from symcorr import size_symbol
from symcorr.symbolic import correlator as correlator_fn
from symcorr.zoo import cos_net, erf_net, gauss_net, relu_net

NETS = {"Gauss": gauss_net, "Cos": cos_net, "Erf": erf_net, "ReLU": relu_net}


def _cold():
    sys.modules["symcorr.symbolic.correlator"]._CORRELATORS.clear()
    clear_cache()


def _timed(fn) -> tuple[float, object]:
    _cold()
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def _stats_job(kind, queue):
    from sympy.stats import E, Normal, Uniform
    w, b = Normal("w", 0, 1), (Uniform("b", -sp.pi, sp.pi) if kind == "cos" else Normal("b", 0, 1))
    x = sp.Rational(1, 3)
    expr = sp.cos(w * x + b) * sp.cos(w * 2 * x + b) if kind == "cos" else sp.erf(w * x + b) ** 2
    t = time.perf_counter()
    E(expr)
    queue.put(time.perf_counter() - t)


def _sympy_stats_time(kind: str, timeout: float) -> str:
    queue = mp.Queue()
    proc = mp.Process(target=_stats_job, args=(kind, queue))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return f"> {timeout:.0f} s (killed)"
    return f"{queue.get():.2f} s" if not queue.empty() else "failed"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--d-in", type=int, default=3)
    ap.add_argument("--d-out", type=int, default=5)
    ap.add_argument("--orders", type=int, nargs="+", default=[2, 4, 6])
    ap.add_argument("--stats-timeout", type=float, default=20.0,
                    help="seconds to give sympy.stats for the comparison (0: skip)")
    args = ap.parse_args(argv)
    N, D = size_symbol("N"), size_symbol("D")
    print(f"exact correlators, symbolic width N, d_out = {args.d_out}; seconds per cold call (target < 2 s)")
    print(f"{'net':6s} {'n':>2s} {'concrete pts':>13s} {'symbolic pts+idx':>17s} {'connected':>10s} "
          f"{'gp_limit':>9s}")
    worst = 0.0
    for name, maker in NETS.items():
        concrete_net = maker(args.d_in, N, args.d_out)
        symbolic_net = maker(D, N, args.d_out)
        for n in args.orders:
            pts = [[sp.Rational(k + 1, 7 + j) for j in range(args.d_in)] for k in range(n)]
            idx = tuple(k // 2 for k in range(n))
            xs = [sp.MatrixSymbol(f"x_{k}", D, 1) for k in range(1, n + 1)]
            ids = sp.symbols(f"a_1:{n + 1}", integer=True, nonnegative=True)
            t1, _ = _timed(lambda: correlator_fn(concrete_net, n).expr(pts, idx))
            t2, _ = _timed(lambda: correlator_fn(symbolic_net, n).expr(xs, ids))
            t3, _ = _timed(lambda: correlator_fn(concrete_net, n).connected(pts, idx))
            t4, _ = _timed(lambda: correlator_fn(concrete_net, n).gp_limit(pts, idx))
            worst = max(worst, t1, t2)
            print(f"{name:6s} {n:2d} {t1:13.3f} {t2:17.3f} {t3:10.3f} {t4:9.3f}")
    print(f"slowest expr call: {worst:.3f} s")
    if args.stats_timeout > 0:
        print("sympy.stats on one single-neuron moment (what the rules replace):")
        for kind in ("cos", "erf"):
            print(f"  {kind:4s}: {_sympy_stats_time(kind, args.stats_timeout)}")


if __name__ == "__main__":
    main()
