"""``symcorr validate SPEC...``: parse spec files and print what they describe."""

from __future__ import annotations

from ..specfile import load_spec


def register(sub) -> None:
    p = sub.add_parser("validate", help="check spec files and print the network they describe",
                       description="Parse and validate TOML spec files; exit status 2 on the first error.")
    p.add_argument("specs", nargs="+", metavar="SPEC", help="TOML spec file(s)")
    p.set_defaults(func=run)


def run(args) -> int:
    for path in args.specs:
        doc = load_spec(path)
        print(f"# {doc.title}" + (f"  ({doc.result})" if doc.result else ""))
        print()
        print(doc.network.markdown())
        for claim in doc.claims:
            print(f"- claim: {claim.group!r} on the {claim.on}s, expected {claim.expect}")
        print()
    return 0
