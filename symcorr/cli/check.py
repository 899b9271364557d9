"""``symcorr check SPEC...``: compare each claim's expected verdict with the proof's verdict.

``expect = "invariant"`` must be proven, ``"broken"`` refuted (with a witness), ``"undecided"``
undecided.  Prints one table row per claim; exit status 0 when every claim agrees, 1 otherwise
(2 for an invalid spec file).
"""

from __future__ import annotations

import time

from ..claims import Agreement, claim_label, compare, load_checked_spec, prove_claim
from ..runtime import torch_threads
from .options import add_threads, threads_of


def register(sub) -> None:
    p = sub.add_parser("check", help="check the expected verdicts of spec files against the proofs",
                       description="Prove or refute every claim and compare with its expected verdict; exit "
                                   "status 0 only if all agree.")
    p.add_argument("specs", nargs="+", metavar="SPEC", help="TOML spec file(s)")
    add_threads(p)
    p.set_defaults(func=run)


def run(args) -> int:
    with torch_threads(threads_of(args)):
        return _run(args)


def _run(args) -> int:
    rows = []
    docs = [(path, load_checked_spec(path)) for path in args.specs]  # validate every file first
    for path, doc in docs:
        for claim in doc.claims:
            start = time.perf_counter()
            proof = prove_claim(doc, claim)
            agreement, _ = compare(claim, proof.expectation, statistical=False)
            rows.append((doc.path.name if doc.path else str(path), claim_label(claim), claim.expect,
                         proof.expectation, agreement is Agreement.AGREES, time.perf_counter() - start))
    headers = ("spec", "claim", "expected", "verdict", "agree")
    table = [(r[0], r[1], r[2], r[3], "yes" if r[4] else "NO") for r in rows]
    widths = [max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for t in table:
        print("| " + " | ".join(v.ljust(w) for v, w in zip(t, widths)) + " |")
    bad = sum(1 for r in rows if not r[4])
    print(f"\n{len(rows) - bad} of {len(rows)} claims agree with their expected verdicts"
          + (f"; {bad} disagree." if bad else "."))
    return 0 if bad == 0 else 1
