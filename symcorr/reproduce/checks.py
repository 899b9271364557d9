"""The rows of a reproduction report: checks that can come out "no", and rows that are only shown.

Every row of the summary is a :class:`Check` with a typed :class:`Status`:

* ``yes`` / ``NO`` -- a comparison that could come out either way on some input (a proof verdict
  against the claim, a calibrated test against the claim, a fitted value against a prediction within its
  standard errors, ...);
* ``shown`` -- a value reported without a decision (e.g. a Monte Carlo verdict about the infinite-width
  limit, which a finite ensemble cannot test); never counted as agreeing;
* ``skipped`` -- a check that could not run here (e.g. the Fashion-MNIST files are not installed), with
  the reason; it makes the run fail, since the report is incomplete.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum

__all__ = ["Check", "Status", "Frame", "SUMMARY_HEADERS"]


class Status(StrEnum):
    AGREES = "yes"
    DISAGREES = "NO"
    SHOWN = "shown"
    SKIPPED = "skipped"


class Frame(StrEnum):
    SYMBOLIC = "symbolic"
    MONTE_CARLO = "Monte Carlo"
    EXPERIMENT = "experiment"


SUMMARY_HEADERS = ["spec", "statement", "frame", "expected", "obtained", "agrees", "detail"]


@dataclasses.dataclass
class Check:
    """One reproduced statement: what was expected, what was obtained, and its :class:`Status`.

    ``Check(..., True)`` / ``Check(..., False)`` (a decided comparison, also a numpy bool) are accepted for
    the status."""

    spec: str
    what: str
    frame: str
    expected: str
    obtained: str
    status: Status | bool
    detail: str = ""

    def __post_init__(self):
        if not isinstance(self.status, str):  # a decided comparison: True, False or a numpy bool
            self.status = Status.AGREES if bool(self.status) else Status.DISAGREES
        self.status = Status(self.status)
        self.frame = Frame(self.frame)

    @property
    def state(self) -> Status:
        """The status (always a :class:`Status` once constructed)."""
        return self.status if isinstance(self.status, Status) else Status(str(self.status))

    @property
    def agrees(self) -> bool:
        """No failure: agreeing or only shown (a skipped or disagreeing row is a failure)."""
        return self.status in (Status.AGREES, Status.SHOWN)

    @property
    def counted(self) -> bool:
        """A decided comparison (yes or NO)."""
        return self.status in (Status.AGREES, Status.DISAGREES)

    def row(self) -> list:
        mark = {Status.AGREES: "yes", Status.DISAGREES: "**NO**", Status.SHOWN: "shown",
                Status.SKIPPED: "**skipped**"}[self.state]
        return [self.spec, self.what, self.frame, self.expected, self.obtained, mark, self.detail]
