"""``symcorr derive SPEC... [--out DIR] [--format md|tex]``: correlators and proofs for each claim.

For every spec file: the network, its two- and four-point functions from :mod:`symcorr.symbolic`
(closed forms where the rules apply, parameter integrals otherwise), and the symmetry-via-duality proof
of every claim (:func:`symcorr.duality.prove_invariance`) with its verdict and witness.  Without
``--out`` the report is printed; with ``--out DIR`` it is written to ``DIR/<spec stem>.md`` (or
``.tex``, a standalone LaTeX document), atomically and with a manifest; the folder then holds this run
only (:class:`symcorr.outputs.OutputFolder`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..claims import derive_report, load_checked_spec
from ..outputs import OutputFolder
from ..runtime import torch_threads
from .options import add_orders, add_threads, threads_of


def register(sub) -> None:
    p = sub.add_parser("derive", help="derive correlators and prove/refute each claim of spec files",
                       description="Print (or write) the symbolic correlators and the symmetry-via-duality proof "
                                   "of every claim in each spec file.")
    p.add_argument("specs", nargs="+", metavar="SPEC", help="TOML spec file(s)")
    p.add_argument("--out", metavar="DIR", help="write one report per spec into DIR (default: print the reports)")
    p.add_argument("--format", choices=("md", "tex"), default="md", help="Markdown or LaTeX")
    add_orders(p, default=[2, 4], what="correlator orders to print")
    add_threads(p)
    p.set_defaults(func=run)


def run(args) -> int:
    with torch_threads(threads_of(args)):
        docs = [load_checked_spec(path) for path in args.specs]  # every file is checked before any work
        if args.out is None:
            for doc in docs:
                sys.stdout.write(derive_report(doc, args.format, args.orders))
                sys.stdout.write("\n")
            return 0
        suffix = ".tex" if args.format == "tex" else ".md"
        settings = {"specs": list(args.specs), "format": args.format, "orders": list(args.orders)}
        with OutputFolder(args.out, command="derive", settings=settings) as folder:  # checked before any work
            for path, doc in zip(args.specs, docs):
                folder.write_text(Path(path).stem + suffix, derive_report(doc, args.format, args.orders))
        for path in args.specs:
            print(f"wrote {folder.final_path(Path(path).stem + suffix)}")
    return 0
