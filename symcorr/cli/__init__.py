"""The ``symcorr`` command line.

Each subcommand lives in its own module ``symcorr/cli/<name>.py`` exposing ``register(subparsers)``,
which adds its parser and sets ``func(args) -> int`` as the handler.  ``COMMANDS`` lists them in the
order ``symcorr --help`` shows.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import SpecError

#: subcommand modules, in help order
COMMANDS = ["validate", "derive", "check", "montecarlo", "reproduce", "fashion_mnist"]


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="symcorr",
        description="Find and prove symmetries of neural-network densities from parameter-space "
                    "correlators (symmetry via duality).")
    parser.add_argument("--version", action="version", version=f"symcorr {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except SpecError as err:
        print(f"symcorr {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
