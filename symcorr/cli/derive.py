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

from ..errors import SpecError
from ..specfile import load_spec

_TEX_HEAD = r"""\documentclass{article}
\usepackage{amsmath,amssymb}
\usepackage[margin=2cm]{geometry}
\begin{document}
"""


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


def _correlators(network, orders, fmt: str) -> list[str]:
    try:
        from ..symbolic import correlator
    except ImportError:  # pragma: no cover - the symbolic module ships with symcorr
        return ["(symbolic correlators unavailable: symcorr.symbolic is not installed)"]
    out = []
    for n in orders:
        try:
            G = correlator(network, n)
            out.append(G.latex() if fmt == "tex" else G.markdown())
        except SpecError as err:
            out.append(f"(the {n}-point function is not available: {err})")
    return out


def derive_report(path, fmt: str = "md", orders=(2, 4)) -> str:
    """The report for one spec file as a string (Markdown or a LaTeX document)."""
    from ..duality import prove_invariance

    doc = load_spec(path)
    proofs = [prove_invariance(doc.network, c.group, c.on, c.correlator, finite_width=c.finite_width,
                               values=doc.values, orders=c.orders) for c in doc.claims]
    if fmt == "tex":
        from ..duality.proof import _tex_text

        parts = [_TEX_HEAD, rf"\section*{{{_tex_text(doc.title)}}}"]
        if doc.description:
            parts.append(_tex_text(doc.description.strip()))
        parts += [r"\subsection*{Network}", rf"\[ {doc.network.latex()} \]",
                  r"\begin{itemize}"]
        parts += [rf"\item ${b.name[0]}^{{{b.name[1:]}}} \sim {b.law.latex()}$, shape "
                  + " $\\times$ ".join(f"${s}$" for s in b.shape) for b in doc.network.blocks.values()]
        parts += [r"\end{itemize}", r"\subsection*{Correlators}"]
        for text in _correlators(doc.network, orders, "tex"):
            parts.append(rf"\[ {text} \]" if not text.startswith("(") else _tex_text(text))
        parts.append(r"\subsection*{Claims}")
        for claim, proof in zip(doc.claims, proofs):
            parts.append(proof.latex())
            parts.append(rf"Expected: \textbf{{{claim.expect}}}; obtained: \textbf{{{proof.expectation}}}.")
        parts.append(r"\end{document}")
        return "\n\n".join(parts) + "\n"
    parts = [f"# {doc.title}" + (f" ({doc.result})" if doc.result else "")]
    if doc.description:
        parts.append(doc.description.strip())
    parts += ["## Network", doc.network.markdown(), "## Correlators"]
    parts += _correlators(doc.network, orders, "md")
    parts.append("## Claims")
    for claim, proof in zip(doc.claims, proofs):
        note = f" — {claim.note}" if claim.note else ""
        parts.append(proof.markdown(heading="###") +
                     f"\nExpected: **{claim.expect}**; obtained: **{proof.expectation}**{note}.")
    return "\n\n".join(parts) + "\n"


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
