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
import sys
from dataclasses import replace

from ..distributed import open_client
from ..errors import SpecError
from ..outputs import OutputFolder
from ..runtime import torch_threads
from ..experiments.fashion_mnist import TARGETS, SweepConfig, TrainData, run_sweep
from .cluster_options import add_cluster_options, checkpoint_folder
from .options import add_no_progress, add_threads, float_values, threads_of

__all__ = ["register", "add_arguments", "run_from_args", "main"]


def register(sub) -> None:
    p = sub.add_parser(
        "fashion-mnist", help="Fashion-MNIST symmetry-breaking sweep (paper Fig. 1)",
        description="Train 784-50-10 ReLU nets whose read-out rows 0..k-1 start with mean mu; one-hot "
                    "heatmap over (mu, k) and the one-cold line at k = 10. Many models are trained at "
                    "once (vectorised). Writes CSV/Markdown tables, PNG figures and .npz results.")
    add_arguments(p)
    p.set_defaults(func=run_from_args)


def _float_list(values) -> tuple[float, ...]:
    """Space-separated values and ``start:stop:step`` ranges (each token parsed by ``float_values``)."""
    return tuple(v for token in values for v in token)


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``symcorr fashion-mnist``."""
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--full", action="store_true",
                   help="the paper's Fig. 1: one-hot heatmap (21 mu x 6 k x 10 runs) and the one-cold line "
                        "(k = 10, 20 runs), about 25 min on two cores (default: a quick grid, --quick)")
    g.add_argument("--quick", action="store_true", help="a small grid (SweepConfig.quick), under a minute; the "
                                                         "default")
    g.add_argument("--heatmap-only", action="store_true", help="only the one-hot heatmap of --full")
    g.add_argument("--line-only", action="store_true", help="only the one-cold line of --full")
    parser.add_argument("--targets", choices=TARGETS, help="the target encoding (default: the grid's own)")
    parser.add_argument("--mus", type=float_values, nargs="+", metavar="MU",
                        help="mu grid, space-separated values or start:stop:step ranges, e.g. --mus 0 0.05 or "
                             "--mus 0:0.2:0.01 (default: the grid's own)")
    parser.add_argument("--ks", type=int, nargs="+", metavar="K", help="k grid, e.g. --ks 0 2 4 (default: the grid's own)")
    parser.add_argument("--runs", type=int, help="trainings per cell (default: the grid's own)")
    parser.add_argument("--epochs", type=int, help="epochs per training (default: the grid's own)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights and the batch order")
    parser.add_argument("--normalisation", choices=("corrected", "paper"), default="corrected",
                        help="Fashion-MNIST's own statistics (corrected) or the paper code's MNIST ones (paper)")
    parser.add_argument("--data-root", "--data", dest="data_root",
                        help="folder with the IDX files (default: $SYMCORR_FASHION_MNIST "
                             "or /usr/share/datasets/fashion-mnist/)")
    parser.add_argument("--models-per-chunk", type=int, default=24, help="models trained at once (memory bound)")
    add_threads(parser)
    parser.add_argument("--out", default="reports/fashion_mnist",
                        help="output folder (checked first, replaced atomically by this run)")
    add_no_progress(parser)
    add_cluster_options(parser)
    return parser


def run_from_args(args: argparse.Namespace) -> int:
    """Run the sweep(s) chosen by ``args`` and write tables, figures and .npz files to ``args.out``."""
    common = dict(seed=args.seed, normalisation=args.normalisation, data_root=args.data_root,
                  models_per_chunk=args.models_per_chunk, threads=threads_of(args))
    if not (args.full or args.heatmap_only or args.line_only):
        jobs = [("quick", SweepConfig.quick(**common))]
    else:
        jobs = []
        if not args.line_only:
            jobs.append(("heatmap", SweepConfig.paper_heatmap(**common)))
        if not args.heatmap_only:
            jobs.append(("cold_line", SweepConfig.paper_cold_line(**common)))
    overrides = {k: getattr(args, k) for k in ("targets", "runs", "epochs") if getattr(args, k) is not None}
    if args.mus is not None:
        overrides["mus"] = _float_list(args.mus)
    if args.ks is not None:
        overrides["ks"] = tuple(args.ks)
    jobs = [(name, replace(cfg, **overrides)) for name, cfg in jobs]
    settings = {name: cfg.to_dict() for name, cfg in jobs}
    folder = OutputFolder(args.out, command="fashion-mnist", settings=settings, seed=args.seed)  # checked first
    try:
        data = TrainData.load(args.data_root, args.normalisation)
    except FileNotFoundError as err:              # symcorr.data.DatasetNotFoundError: say where it looked
        raise SpecError(str(err), "--data-root") from None
    with torch_threads(threads_of(args)), open_client(args.scheduler) as client, folder:
        summaries = [_run_job(args, folder, name, cfg, data, client) for name, cfg in jobs]
    for line in summaries:
        print(line)
    return 0


def _run_job(args, folder: OutputFolder, name, cfg, data, client) -> str:
    bar = None
    if not args.no_progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=cfg.total_model_epochs, desc=name, unit="model-epoch", smoothing=0.05)
    # on a cluster the workers read the data set from --data-root themselves
    try:
        res = run_sweep(replace(cfg, progress=bar), data if client is None else None, client=client,
                        checkpoint=checkpoint_folder(args, name))
    finally:
        if bar is not None:
            bar.close()
    res.save_npz(folder.file(f"{name}.npz"))
    res.to_csv(folder.file(f"{name}.csv"))
    res.to_csv(folder.file(f"{name}_runs.csv"), per_run=True)
    md = res.to_markdown(folder.file(f"{name}.md"))
    if len(res.ks) > 1:
        res.plot_heatmap(folder.file(f"{name}_heatmap.png"))
    if len(res.mus) > 1:
        res.plot_line(folder.file(f"{name}_line.png"))
    print(md)
    return f"{name}: {cfg.n_models} trainings in {res.seconds:.0f} s -> {folder.target}/"


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
