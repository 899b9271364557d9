"""``symcorr check SPEC...``: compare each claim's expected verdict with the proof's verdict.

``expect = "invariant"`` must be proven, ``"broken"`` refuted (with a witness), ``"undecided"``
undecided.  Prints one table row per claim; exit status 0 when every claim agrees, 1 otherwise
(2 for an invalid spec file).

A claim whose proof is ``undecided`` gets the Monte Carlo evidence next to it, in the column "Monte Carlo
(shown)": its calibrated test (:func:`symcorr.claims.claim_evidence`: the spec's ``[montecarlo]`` settings with
at most ``--evidence-networks`` networks) with the verdict, max|z| and the Holm p-value.  It is shown, not
counted: the exit status depends on the proofs only.  ``--no-evidence`` skips it.
"""

from __future__ import annotations

import argparse
import time

from ..claims import (EVIDENCE_NETWORKS, Agreement, claim_evidence, claim_label, compare, load_checked_spec,
                      prove_claim)
from ..runtime import torch_threads
from ..verdicts import ProofVerdict
from .options import add_threads, threads_of


def _networks(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number of networks is an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"the number of networks must be positive, got {value}")
    return value


def _cell(text: str) -> str:
    """A Markdown table cell: a pipe inside it (``max|z|``) is escaped."""
    return text.replace("|", "\\|")


def register(sub) -> None:
    p = sub.add_parser("check", help="check the expected verdicts of spec files against the proofs",
                       description="Prove or refute every claim and compare with its expected verdict; exit "
                                   "status 0 only if all agree. An undecided proof is shown with the Monte Carlo "
                                   "evidence of its claim (not counted).")
    p.add_argument("specs", nargs="+", metavar="SPEC", help="TOML spec file(s)")
    p.add_argument("--evidence-networks", type=_networks, default=EVIDENCE_NETWORKS, metavar="N",
                   help="networks of the Monte Carlo test shown next to an undecided proof (at most the spec's "
                        "[montecarlo] networks)")
    p.add_argument("--no-evidence", action="store_true",
                   help="do not run the Monte Carlo test of undecided claims")
    add_threads(p)
    p.set_defaults(func=run)


def run(args) -> int:
    with torch_threads(threads_of(args)):
        return _run(args)


def _run(args) -> int:
    rows = []
    evidence = not getattr(args, "no_evidence", False)
    budget = getattr(args, "evidence_networks", EVIDENCE_NETWORKS)
    docs = [(path, load_checked_spec(path)) for path in args.specs]  # validate every file first
    for path, doc in docs:
        for claim in doc.claims:
            start = time.perf_counter()
            proof = prove_claim(doc, claim)
            agreement, _ = compare(claim, proof.expectation, statistical=False)
            shown = "—"
            if evidence and proof.verdict is ProofVerdict.UNDECIDED:
                shown = claim_evidence(doc, claim, networks=budget).summary()
            rows.append((doc.path.name if doc.path else str(path), claim_label(claim), claim.expect,
                         proof.expectation, agreement is Agreement.AGREES, shown, time.perf_counter() - start))
    headers = ("spec", "claim", "expected", "verdict", "agree") + (("Monte Carlo (shown)",) if evidence else ())
    table = [(r[0], r[1], r[2], r[3], "yes" if r[4] else "NO") + ((_cell(r[5]),) if evidence else ()) for r in rows]
    widths = [max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for t in table:
        print("| " + " | ".join(v.ljust(w) for v, w in zip(t, widths)) + " |")
    bad = sum(1 for r in rows if not r[4])
    print(f"\n{len(rows) - bad} of {len(rows)} claims agree with their expected verdicts"
          + (f"; {bad} disagree." if bad else "."))
    if evidence and any(r[5] != "—" for r in rows):
        print("Monte Carlo (shown): the calibrated test of each claim whose proof is undecided (the spec's "
              f"[montecarlo] settings, at most {budget} networks; Holm at the spec's alpha). Evidence, not a proof: "
              "it does not enter the exit status.")
    return 0 if bad == 0 else 1
