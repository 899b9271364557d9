"""``symcorr reproduce``: all of the paper's results from ``derivations/`` into one Markdown report."""

from __future__ import annotations

from .cluster_options import add_cluster_options


def register(sub) -> None:
    p = sub.add_parser(
        "reproduce", help="reproduce the paper's results (derivations/*.toml) into a report folder",
        description="Run the symbolic proofs, the Monte Carlo checks and the experiments of every spec in "
                    "derivations/ and write OUT/report.md with tables and figures. Exit status 1 when a "
                    "check disagrees with its expected outcome.")
    p.add_argument("--out", default="report", help="output folder (default: report)")
    p.add_argument("--full", action="store_true",
                   help="the paper's budgets (Fashion-MNIST grid of 1680 trainings, 10^5 networks per width, "
                        "...); default: a quick budget")
    p.add_argument("--derivations", metavar="DIR", help="folder of spec files (default: the repository's)")
    p.add_argument("--only", nargs="+", metavar="STEM", help="run only these specs (file-name prefixes)")
    p.add_argument("--skip", nargs="+", default=(), metavar="STEM", help="skip these specs (file-name prefixes)")
    p.add_argument("--device", help="cpu, cuda or auto (default cpu)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_cluster_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..distributed import open_client
    from ..reproduce import reproduce

    with open_client(args.scheduler) as client:
        checks = reproduce(args.out, full=args.full, derivations=args.derivations, only=args.only,
                           skip=args.skip, device=args.device, progress=not args.no_progress, client=client,
                           checkpoint=args.checkpoint)
    return 0 if all(c.agrees for c in checks) else 1
