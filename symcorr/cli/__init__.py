"""The ``symcorr`` command line.

Each subcommand lives in its own module ``symcorr/cli/<name>.py`` exposing ``register(subparsers)``,
which adds its parser and sets ``func(args) -> int`` as the handler.  ``COMMANDS`` lists them in the
order ``symcorr --help`` shows.
"""

from __future__ import annotations

import argparse
import os
import importlib
import sys

from ..data.idx import DatasetNotFoundError, IDXFormatError
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
    except (SpecError, IDXFormatError, DatasetNotFoundError) as err:
        return _fail(args.command, str(err))
    except RecursionError:
        if os.environ.get("SYMCORR_DEBUG") == "1":
            raise
        return _fail(args.command, "the input nests too deeply to be processed (set SYMCORR_DEBUG=1 for a "
                                   "traceback)")
    except KeyboardInterrupt:
        print(f"symcorr {args.command}: interrupted; nothing was written over earlier results", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (e.g. `symcorr derive ... | head`)
        sys.stderr.close()
        return 0


def _fail(command: str, message: str) -> int:
    """One line on standard error, exit status 2: a user error, never a traceback."""
    line = " ".join(message.split())
    print(f"symcorr {command}: error: {line}", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
