r"""The contract between the prover and the engines it calls: an engine either answers, declines, or fails.

* **answers**: it returns a value, which the prover may use to decide;
* **declines** (:class:`Unsupported`): the engine cannot handle this network or this quantity (a deep
  network for the single-hidden-layer engine, a correlator without a closed form, ...).  It then says
  nothing, and the prover goes on with the other engines.  Each engine adapter turns the specific
  exceptions that mean "not for me" into :class:`Unsupported` (e.g. a :class:`~symcorr.errors.SpecError`
  from :mod:`symcorr.symbolic`), and nothing else;
* **fails**: it raises anything else, or returns a value that is not a finite number.  That is not
  evidence either way: :func:`run_engine` turns it into an :class:`EngineFailure` naming the engine,
  the task and the reason, which the proof shows as an open step.  A failure never proves or refutes
  anything, and it is never skipped silently.

:func:`run_engine` is the one place in :mod:`symcorr.duality` that catches every exception: it does so
to make the failure visible, and nothing is decided from its result.
"""

from __future__ import annotations

import cmath
from dataclasses import dataclass
from typing import Callable

__all__ = ["Unsupported", "EngineFailure", "run_engine", "is_finite_number"]


class Unsupported(Exception):
    """The engine cannot compute this quantity (it declines, and then says nothing)."""


@dataclass(frozen=True)
class EngineFailure:
    """An engine that failed (raised, or produced a non-finite value) while computing ``task``."""

    engine: str     # the engine's module, e.g. "symcorr.symbolic"
    task: str       # what it was computing, e.g. "G^(2) at the probe points"
    reason: str     # "ZeroDivisionError: ..." or "a non-finite value (nan)"

    @classmethod
    def from_exception(cls, engine: str, task: str, exc: BaseException) -> "EngineFailure":
        message = str(exc).strip()
        return cls(engine, task, f"{type(exc).__name__}: {message}" if message else type(exc).__name__)

    @classmethod
    def non_finite(cls, engine: str, task: str, value) -> "EngineFailure":
        return cls(engine, task, f"a non-finite value ({value})")


def run_engine(engine: str, task: str, fn: Callable, *args, **kwargs):
    """``(fn(*args, **kwargs), None)``, or ``(None, EngineFailure)`` when ``fn`` fails.

    :class:`Unsupported` propagates: the engine declines, which the caller handles as "no answer".
    Every other exception is a failure of the engine, returned (not raised) so that the proof can show
    it as an open step and go on with the other engines."""
    try:
        return fn(*args, **kwargs), None
    except Unsupported:
        raise
    except Exception as exc:  # the one catch-all: a failure becomes a visible "could not decide"
        return None, EngineFailure.from_exception(engine, task, exc)


def is_finite_number(value) -> bool:
    """Is ``value`` (a complex, float or None) a finite number?"""
    if value is None:
        return False
    try:
        return cmath.isfinite(complex(value))
    except (TypeError, ValueError):
        return False
