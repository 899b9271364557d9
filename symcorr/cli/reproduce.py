"""``symcorr reproduce``: all of the paper's results from ``derivations/`` into one report folder
(report.md and report.html with MathML, a derivation per spec, figures, CSVs, a manifest).  Exit status 0
when every check agrees, 1 when one disagrees or is skipped (e.g. the Fashion-MNIST files are missing:
the other sections are still written), 2 on a user error."""

from __future__ import annotations

import sys

from ..reproduce.checks import Status
from ..runtime import torch_threads
from .cluster_options import add_cluster_options
from .options import add_device, add_no_progress, add_threads, threads_of


def register(sub) -> None:
    p = sub.add_parser(
        "reproduce", help="reproduce the paper's results (derivations/*.toml) into a report folder",
        description="Run the symbolic proofs, the Monte Carlo checks and the experiments of every spec in "
                    "derivations/ and write OUT/report.md and OUT/report.html with tables and figures. Exit "
                    "status 1 when a check disagrees with its expected outcome or could not run.")
    p.add_argument("--out", default="report", help="output folder (checked first, replaced atomically by this "
                                                   "run: report.md, report.html, specs/, figures, manifest.json)")
    p.add_argument("--full", action="store_true",
                   help="the paper's budgets (Fashion-MNIST grid of 1680 trainings, 10^5 networks per width, "
                        "...); default: a quick budget")
    p.add_argument("--derivations", metavar="DIR", help="folder of spec files (default: the repository's)")
    p.add_argument("--only", nargs="+", metavar="STEM", help="run only these specs (file-name prefixes; default: every spec)")
    p.add_argument("--skip", nargs="+", default=[], metavar="STEM", help="skip these specs (file-name prefixes)")
    add_device(p, "cpu")
    add_threads(p)
    add_no_progress(p)
    add_cluster_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..distributed import open_client
    from ..reproduce import reproduce

    with torch_threads(threads_of(args)), open_client(args.scheduler) as client:
        checks = reproduce(args.out, full=args.full, derivations=args.derivations, only=args.only,
                           skip=args.skip, device=args.device, progress=not args.no_progress, client=client,
                           checkpoint=args.checkpoint)
    for reason in sorted({c.detail for c in checks if c.status is Status.SKIPPED}):
        print(f"symcorr reproduce: skipped: {reason}", file=sys.stderr)
    return 0 if all(c.agrees for c in checks) else 1
