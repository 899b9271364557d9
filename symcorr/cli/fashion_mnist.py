"""``symcorr fashion-mnist``: the paper's Fig. 1 symmetry-breaking sweep on real Fashion-MNIST.

    symcorr fashion-mnist [--full | --quick | --heatmap-only | --line-only] [--mus ...] [--ks ...] ...
    python -m symcorr.cli.fashion_mnist ...          (the same command on its own)

Runs :func:`symcorr.experiments.fashion_mnist.run_sweep` for the chosen grids and writes, per sweep,
``NAME.npz`` (:class:`~symcorr.experiments.fashion_mnist.SweepResult`), ``NAME.csv`` (per cell),
``NAME_runs.csv`` (per training), ``NAME.md`` and the heatmap / line figures to ``--out``.
``--scheduler local:N | ADDRESS`` trains the chunks on a Dask cluster (the workers read the data set
from ``--data-root``; same results bit for bit), ``--checkpoint DIR`` saves trained chunks in
``DIR/NAME`` and resumes from there.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from pathlib import Path

from ..distributed import open_client
from ..errors import SpecError
from ..experiments.fashion_mnist import TARGETS, SweepConfig, TrainData, run_sweep
from .cluster_options import add_cluster_options, checkpoint_folder

__all__ = ["register", "add_arguments", "run_from_args", "main"]


def register(sub) -> None:
    p = sub.add_parser(
        "fashion-mnist", help="Fashion-MNIST symmetry-breaking sweep (paper Fig. 1)",
        description="Train 784-50-10 ReLU nets whose read-out rows 0..k-1 start with mean mu; one-hot "
                    "heatmap over (mu, k) and the one-cold line at k = 10. Many models are trained at "
                    "once (vectorised). Writes CSV/Markdown tables, PNG figures and .npz results.")
    add_arguments(p)
    p.set_defaults(func=run_from_args)


def _float_list(text: str) -> tuple[float, ...]:
    """"0,0.1,0.2" or "start:stop:step" (stop included)."""
    if ":" in text:
        a, b, s = (float(x) for x in text.split(":"))
        if not s > 0:
            raise argparse.ArgumentTypeError(f"the step of {text!r} must be positive")
        n = int(math.floor((b - a) / s + 1e-9)) + 1
        return tuple(round(a + i * s, 10) for i in range(n))
    return tuple(float(x) for x in text.split(",") if x.strip())


def _int_list(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``symcorr fashion-mnist``."""
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--full", action="store_true",
                   help="the paper's Fig. 1: one-hot heatmap (21 mu x 6 k x 10 runs) and the one-cold "
                        "line (k = 10, 20 runs); about 25 min on two AVX-512 cores (default)")
    g.add_argument("--quick", action="store_true", help="a small grid (SweepConfig.quick), a few seconds")
    g.add_argument("--heatmap-only", action="store_true", help="only the one-hot heatmap of --full")
    g.add_argument("--line-only", action="store_true", help="only the one-cold line of --full")
    parser.add_argument("--targets", choices=TARGETS, help="override the target encoding")
    parser.add_argument("--mus", type=_float_list, help='mu grid: "0,0.1" or "0:0.2:0.01"')
    parser.add_argument("--ks", type=_int_list, help='k grid: "0,2,4"')
    parser.add_argument("--runs", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--normalisation", choices=("corrected", "paper"), default="corrected")
    parser.add_argument("--data-root", "--data", dest="data_root",
                        help="folder with the IDX files (default: $SYMCORR_FASHION_MNIST "
                             "or /usr/share/datasets/fashion-mnist/)")
    parser.add_argument("--models-per-chunk", type=int, default=24)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--out", default="reports/fashion_mnist", help="output folder")
    parser.add_argument("--no-progress", action="store_true")
    add_cluster_options(parser)
    return parser


def run_from_args(args: argparse.Namespace) -> int:
    """Run the sweep(s) chosen by ``args`` and write tables, figures and .npz files to ``args.out``."""
    common = dict(seed=args.seed, normalisation=args.normalisation, data_root=args.data_root,
                  models_per_chunk=args.models_per_chunk, threads=args.threads)
    if args.quick:
        jobs = [("quick", SweepConfig.quick(**common))]
    else:
        jobs = []
        if not args.line_only:
            jobs.append(("heatmap", SweepConfig.paper_heatmap(**common)))
        if not args.heatmap_only:
            jobs.append(("cold_line", SweepConfig.paper_cold_line(**common)))
    overrides = {k: getattr(args, k) for k in ("targets", "mus", "ks", "runs", "epochs")
                 if getattr(args, k) is not None}
    jobs = [(name, replace(cfg, **overrides)) for name, cfg in jobs]
    out = Path(args.out)
    try:
        data = TrainData.load(args.data_root, args.normalisation)
    except FileNotFoundError as err:              # symcorr.data.DatasetNotFoundError: say where it looked
        raise SpecError(str(err), "--data-root") from None
    out.mkdir(parents=True, exist_ok=True)
    with open_client(args.scheduler) as client:
        for name, cfg in jobs:
            _run_job(args, out, name, cfg, data, client)
    return 0


def _run_job(args, out, name, cfg, data, client) -> None:
    bar = None
    if not args.no_progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=cfg.total_model_epochs, desc=name, unit="model-epoch", smoothing=0.05)
    # on a cluster the workers read the data set from --data-root themselves
    res = run_sweep(replace(cfg, progress=bar), data if client is None else None, client=client,
                    checkpoint=checkpoint_folder(args, name))
    if bar is not None:
        bar.close()
    res.save_npz(out / f"{name}.npz")
    res.to_csv(out / f"{name}.csv")
    res.to_csv(out / f"{name}_runs.csv", per_run=True)
    md = res.to_markdown(out / f"{name}.md")
    if len(res.ks) > 1:
        res.plot_heatmap(out / f"{name}_heatmap.png")
    if len(res.mus) > 1:
        res.plot_line(out / f"{name}_line.png")
    print(md)
    print(f"{name}: {cfg.n_models} trainings in {res.seconds:.0f} s -> {out}/")


def main(argv=None) -> int:
    """``python -m symcorr.cli.fashion_mnist ARGS``: the subcommand on its own; 2 on a user error."""
    parser = argparse.ArgumentParser(prog="python -m symcorr.cli.fashion_mnist",
                                     description="Fashion-MNIST symmetry-breaking sweep (paper Fig. 1).")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_from_args(args)
    except SpecError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":      # pragma: no cover
    sys.exit(main())
