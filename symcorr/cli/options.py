"""Options shared by the subcommands, written once so every command spells them the same way.

* lists are space-separated values (``--orders 2 4``, ``--mus 0 0.05 0.1`` or a range token
  ``0:0.2:0.01``), in every command;
* ``--threads N`` wherever torch runs, default :func:`symcorr.runtime.default_threads` (the cores not
  already busy, or ``SYMCORR_THREADS``); the count is restored when the command ends;
* every option has help text, and :class:`HelpFormatter` appends its default.
"""

from __future__ import annotations

import argparse
import math

from ..runtime import default_threads

__all__ = ["HelpFormatter", "add_threads", "threads_of", "add_orders", "add_device", "add_no_progress",
           "float_values", "MAX_ORDER"]

#: correlator orders accepted on the command line
MAX_ORDER = 8


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Appends ``(default: X)`` to an option's help when it has a default other than None/False and the
    help does not state it already."""

    def _get_help_string(self, action):
        text = action.help or ""
        unset = action.default is None or action.default is False or action.default is argparse.SUPPRESS
        if not unset and "default" not in text and action.option_strings:
            text += " (default: %(default)s)"
        return text


def add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, metavar="N",
                        help="torch intra-op threads (default: the cores not already busy, i.e. the CPU count minus "
                             "the load average, or $SYMCORR_THREADS; 1 is fastest on a loaded machine)")


def threads_of(args: argparse.Namespace) -> int:
    """``--threads`` or the default count."""
    return args.threads if getattr(args, "threads", None) is not None else default_threads()


def _order(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"an order is an integer, got {text!r}") from None
    if not 1 <= value <= MAX_ORDER:
        raise argparse.ArgumentTypeError(f"orders are integers in 1..{MAX_ORDER}, got {value}")
    return value


def add_orders(parser: argparse.ArgumentParser, default=None, what: str = "correlator orders") -> None:
    parser.add_argument("--orders", type=_order, nargs="+", metavar="N", default=default,
                        help=f"{what}, space-separated (e.g. --orders 2 4)"
                             + ("" if default is not None else "; default: the spec's [montecarlo] orders"))


def add_device(parser: argparse.ArgumentParser, default_text: str) -> None:
    parser.add_argument("--device", metavar="DEVICE", help=f"cpu, cuda, cuda:N or auto (default: {default_text})")


def add_no_progress(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-progress", action="store_true", help="do not draw progress bars")


def float_values(text: str) -> tuple[float, ...]:
    """One value (``0.05``) or a range ``start:stop:step`` (stop included)."""
    try:
        if ":" in text:
            a, b, s = (float(x) for x in text.split(":"))
            if not s > 0:
                raise argparse.ArgumentTypeError(f"the step of {text!r} must be positive")
            n = int(math.floor((b - a) / s + 1e-9)) + 1
            return tuple(round(a + i * s, 10) for i in range(n))
        return (float(text),)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or start:stop:step, got {text!r}") from None
