"""``symcorr derive SPEC... [--out DIR] [--format md|tex]``: correlators and proofs for each claim.

For every spec file: the network, its two- and four-point functions from :mod:`symcorr.symbolic`
(closed forms where the rules apply, parameter integrals otherwise), and the symmetry-via-duality proof
of every claim (:func:`symcorr.duality.prove_invariance`) with its verdict and witness.  Without
``--out`` the report is printed; with ``--out DIR`` it is written to ``DIR/<spec stem>.md`` (or
``.tex``, a standalone LaTeX document).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..claims import derive_report
from ..errors import SpecError


def register(sub) -> None:
    p = sub.add_parser("derive", help="derive correlators and prove/refute each claim of spec files",
                       description="Print (or write) the symbolic correlators and the symmetry-via-duality proof "
                                   "of every claim in each spec file.")
    p.add_argument("specs", nargs="+", metavar="SPEC", help="TOML spec file(s)")
    p.add_argument("--out", metavar="DIR", help="write one report per spec into DIR instead of printing")
    p.add_argument("--format", choices=("md", "tex"), default="md", help="Markdown (default) or LaTeX")
    p.add_argument("--orders", default="2,4", help="correlator orders to print (default: 2,4)")
    p.set_defaults(func=run)


def _orders(text: str) -> list[int]:
    try:
        orders = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SpecError(f"--orders must be a comma-separated list of integers, got {text!r}") from None
    if not orders or any(k < 1 or k > 8 for k in orders):
        raise SpecError(f"--orders must be integers in 1..8, got {text!r}")
    return orders


def run(args) -> int:
    orders = _orders(args.orders)
    out_dir = Path(args.out) if args.out else None
    if out_dir is not None:
        if out_dir.exists() and not out_dir.is_dir():
            raise SpecError(f"--out {out_dir} exists and is not a directory")
        out_dir.mkdir(parents=True, exist_ok=True)
    for path in args.specs:
        text = derive_report(path, args.format, orders)
        if out_dir is None:
            sys.stdout.write(text)
            sys.stdout.write("\n")
        else:
            target = out_dir / (Path(path).stem + (".tex" if args.format == "tex" else ".md"))
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target}")
    return 0
