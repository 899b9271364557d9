"""``symcorr validate SPEC...``: parse spec files, check everything the other commands need, and print
what they describe.

A file that validates runs: beyond the parse (:func:`symcorr.specfile.load_spec`), a spec with claims or a
``[montecarlo]`` table must give a numeric network (every symbol has a value), valid Monte Carlo settings
(dtype, device on this machine, estimator, budgets) and finite inputs of the right dimension
(:mod:`symcorr.claims`); an ``[experiment]`` must be of a kind ``symcorr reproduce`` knows.
"""

from __future__ import annotations

from ..claims import check_runnable as check_numeric_frame
from ..claims import claim_label
from ..errors import SpecError
from ..reproduce import EXPERIMENTS
from ..specfile import SpecDocument, load_spec


def register(sub) -> None:
    p = sub.add_parser("validate", help="check spec files and print the network they describe",
                       description="Parse and validate TOML spec files, including everything derive, check, "
                                   "montecarlo and reproduce need; exit status 2 on the first error.")
    p.add_argument("specs", nargs="+", metavar="SPEC", help="TOML spec file(s)")
    p.set_defaults(func=run)


def check_runnable(doc: SpecDocument) -> list[str]:
    """What the numeric frame will use; raises a SpecError naming the field when a command would fail."""
    name = doc.path.name if doc.path else doc.title
    try:
        notes = check_numeric_frame(doc)
        if doc.experiment is not None:
            kind = doc.experiment.get("kind")
            if kind not in EXPERIMENTS:
                raise SpecError(f"unknown experiment kind {kind!r}; known: {', '.join(sorted(EXPERIMENTS))}",
                                "experiment.kind")
            notes.append(f"experiment: {kind}")
    except SpecError as err:
        raise err.in_file(name) from None
    return notes


def run(args) -> int:
    for path in args.specs:
        doc = load_spec(path)
        notes = check_runnable(doc)
        print(f"# {doc.title}" + (f"  ({doc.result})" if doc.result else ""))
        print()
        print(doc.network.markdown())
        for claim in doc.claims:
            print(f"- claim: {claim_label(claim, doc)}, expected {claim.expect}")
        for note in notes:
            print(f"- {note}")
        print()
    return 0
