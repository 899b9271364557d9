r"""The vocabulary of symcorr's decisions: typed sides, correlator kinds, proof and test verdicts.

Every value is a :class:`enum.StrEnum` member, so it *is* a ``str`` (``Side.INPUT == "input"``,
``f"{ProofVerdict.PROVEN}" == "proven"``) and users may keep passing and comparing plain strings; inside
symcorr the members are compared, never bare literals.

* :class:`Side` -- where a group acts: on the inputs :math:`f(x)\mapsto f(g^{-1}x)` or on the outputs
  :math:`f\mapsto \rho(g) f`.
* :class:`CorrelatorKind` -- which random object is claimed invariant: the network function (its
  correlators :math:`G^{(n)}`, hence its density) or the neural tangent kernel :math:`\Theta`.
* :class:`ProofVerdict` -- the outcome of an exact argument: ``proven`` (every step established),
  ``refuted`` (a function-space witness exists), ``undecided`` (neither).
* :class:`Expectation` -- the vocabulary of spec files and statistical tests: ``invariant``, ``broken``,
  ``undecided``.  A proof verdict maps onto it by :meth:`ProofVerdict.expectation`; a statistical test
  says ``invariant`` (not rejected) or ``broken`` (rejected at the family-wise level), and
  ``undecided`` when it could not decide (e.g. a non-finite statistic), with the reason.
* :class:`StepStatus` -- the status of one step of a derivation.
* :class:`Parameterisation` -- how an NTK's gradients are taken (``standard`` / ``ntk``).

:func:`parse_choice` turns a user's string into a member with a one-line error naming the field.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from .errors import SpecError

__all__ = ["Side", "CorrelatorKind", "Parameterisation", "ProofVerdict", "Expectation", "StepStatus",
           "parse_choice"]

E = TypeVar("E", bound=StrEnum)


def parse_choice(kind: type[E], value, where: str) -> E:
    """``value`` (a member or its string) as a member of ``kind``; a SpecError naming ``where`` and the
    allowed values otherwise."""
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        try:
            return kind(value.strip().lower())
        except ValueError:
            pass
    choices = ", ".join(repr(m.value) for m in kind)
    field = where.rsplit(".", 1)[-1]
    raise SpecError(f"'{field}' must be one of {choices}, got {value!r}", where)


class Side(StrEnum):
    """The side of the network a group acts on."""

    INPUT = "input"
    OUTPUT = "output"

    @classmethod
    def parse(cls, value, where: str = "on") -> "Side":
        return parse_choice(cls, value, where)

    @property
    def plural(self) -> str:
        """``"inputs"`` / ``"outputs"`` (for prose)."""
        return f"{self.value}s"


class CorrelatorKind(StrEnum):
    """The random object a claim is about: the network function or its neural tangent kernel."""

    FUNCTION = "function"
    NTK = "ntk"

    @classmethod
    def parse(cls, value, where: str = "correlator") -> "CorrelatorKind":
        return parse_choice(cls, value, where)


class Parameterisation(StrEnum):
    r"""How a neural tangent kernel's gradients are taken: with respect to the parameter blocks themselves
    (``standard``) or to their unit-variance parts, :math:`W = \mu + s\,\omega` (``ntk``), which multiplies
    each block's contribution by its entry variance :math:`s^2` (:mod:`symcorr.ntk.empirical`)."""

    STANDARD = "standard"
    NTK = "ntk"

    @classmethod
    def parse(cls, value, where: str = "parameterisation") -> "Parameterisation":
        return parse_choice(cls, value, where)


class Expectation(StrEnum):
    """What a spec expects, and what a statistical test concludes."""

    INVARIANT = "invariant"
    BROKEN = "broken"
    UNDECIDED = "undecided"

    @classmethod
    def parse(cls, value, where: str = "expect") -> "Expectation":
        return parse_choice(cls, value, where)


class ProofVerdict(StrEnum):
    """The verdict of an exact argument (never reached on numerical evidence)."""

    PROVEN = "proven"
    REFUTED = "refuted"
    UNDECIDED = "undecided"

    @classmethod
    def parse(cls, value, where: str = "verdict") -> "ProofVerdict":
        return parse_choice(cls, value, where)

    @property
    def expectation(self) -> Expectation:
        """proven -> invariant, refuted -> broken, undecided -> undecided."""
        return _EXPECTATION_OF[self]

    @classmethod
    def for_expectation(cls, expectation) -> "ProofVerdict":
        """The proof verdict that an expectation stands for (invariant -> proven, ...)."""
        return {v: k for k, v in _EXPECTATION_OF.items()}[Expectation.parse(expectation)]

    @property
    def invariant(self) -> bool | None:
        """True (proven), False (refuted) or None (undecided)."""
        return {ProofVerdict.PROVEN: True, ProofVerdict.REFUTED: False, ProofVerdict.UNDECIDED: None}[self]


_EXPECTATION_OF = {ProofVerdict.PROVEN: Expectation.INVARIANT, ProofVerdict.REFUTED: Expectation.BROKEN,
                   ProofVerdict.UNDECIDED: Expectation.UNDECIDED}


class StepStatus(StrEnum):
    """The status of one step of a derivation."""

    ESTABLISHED = "established"
    FAILS = "fails"
    OPEN = "open"
    INFO = "info"
