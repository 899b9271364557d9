r"""Proof objects: readable steps, a verdict, a witness, rendered to Markdown and LaTeX.

An :class:`InvarianceProof` records the symmetry-via-duality argument for one group action on one
network,

1. **absorb** the action into a parameter map :math:`T_g` with :math:`f_{T_g\theta} = g\cdot f_\theta`,
2. **change variables** :math:`\theta' = T_g\theta` (Jacobian),
3. **density**: :math:`P(T_g\theta) = P(\theta)`,
4. **conclusion**: :math:`G^{(n)}[g\cdot f] = G^{(n)}[f]` for all n, the density is invariant,

and a verdict:

* ``"proven"`` -- every step is established exactly (never on numerical evidence);
* ``"refuted"`` -- a :class:`Witness` exhibits a concrete group element and a function-space quantity
  (a correlator, a mean vector, the expected NTK, or a structural impossibility) that changes;
* ``"undecided"`` -- neither.

Step bodies are text with inline ``$...$`` mathematics, valid in both Markdown and LaTeX.  The steps
are rendered (:mod:`symcorr.duality.render`) from an :class:`~symcorr.duality.decision.InvarianceDecision`,
which the proof keeps as ``decision``; this module renders the whole proof as Markdown or LaTeX.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

import sympy as sp

from ..verdicts import CorrelatorKind, Expectation, ProofVerdict, Side, StepStatus

__all__ = ["ProofStep", "Witness", "WitnessKind", "ParameterWitness", "InvarianceProof", "VERDICTS", "block_tex"]

#: the possible verdicts
VERDICTS = tuple(ProofVerdict)

_STATUS_MARK = {StepStatus.ESTABLISHED: "✓", StepStatus.FAILS: "✗", StepStatus.OPEN: "?", StepStatus.INFO: "·"}
_STATUS_TEX = {StepStatus.ESTABLISHED: r"\checkmark", StepStatus.FAILS: r"$\times$", StepStatus.OPEN: "?",
               StepStatus.INFO: ""}


def block_tex(name: str) -> str:
    """A parameter block's name in LaTeX: ``"W0"`` -> ``W^{0}``."""
    return f"{name[0]}^{{{name[1:]}}}"


def _tex_text(text: str) -> str:
    """Escape LaTeX specials in the text parts of a body (outside ``$...$``); drop Markdown emphasis."""
    parts = re.split(r"(\$[^$]*\$)", text)
    out = []
    for part in parts:
        if part.startswith("$") and part.endswith("$") and len(part) > 1:
            out.append(part)
            continue
        part = part.replace("**", "")
        part = re.sub(r"`([^`]*)`", r"\\texttt{\1}", part)
        for ch in ("%", "&", "#", "_"):
            part = part.replace(ch, "\\" + ch)
        part = part.replace("^", r"\textasciicircum{}").replace("~", r"\textasciitilde{}")
        for uni, tex in (("→", r"$\to$"), ("≠", r"$\neq$"), ("≅", r"$\cong$"), ("≈", r"$\approx$"),
                         ("≤", r"$\leq$"), ("±", r"$\pm$"), ("Δ", r"$\Delta$"), ("≡", r"$\equiv$"),
                         ("✓", r"\checkmark"), ("✗", r"$\times$"), ("·", r"$\cdot$"), ("⊂", r"$\subset$")):
            part = part.replace(uni, tex)
        out.append(part)
    return "".join(out)


#: a step's prose is broken into lines of about this many characters (at sentence ends outside math)
PROSE_LINE = 300


def _wrap_prose(text: str, width: int = PROSE_LINE) -> list[str]:
    """``text`` as lines broken after ``". "`` once a line reaches ``width`` characters, never inside
    ``$...$`` math (an even count of unescaped dollars before the break): a long derivation step stays one
    Markdown paragraph without lines of thousands of characters."""
    lines, start, dollars = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "$" and (i == 0 or text[i - 1] != "\\"):
            dollars += 1
        if (ch == " " and i > 0 and text[i - 1] == "." and dollars % 2 == 0 and i - start >= width):
            lines.append(text[start:i])
            start = i + 1
    lines.append(text[start:])
    return lines


@dataclass
class ProofStep:
    """One step of a proof: a title, a body (text with ``$math$``), display equations, and a
    :class:`~symcorr.verdicts.StepStatus` (``established`` / ``fails`` / ``open`` / ``info``)."""

    title: str
    body: str
    status: StepStatus = StepStatus.ESTABLISHED
    equations: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.status = StepStatus(self.status)

    def markdown(self, number: int | None = None) -> str:
        head = f"{number}. " if number is not None else ""
        mark = _STATUS_MARK.get(self.status, "")
        first, *rest = _wrap_prose(f"{head}**{self.title}** {mark} {self.body}".rstrip())
        lines = [first] + [f"   {line}" for line in rest]  # continuation lines of the list item
        for eq in self.equations:
            lines.append(f"   $$ {eq} $$")
        return "\n".join(lines)

    def latex(self) -> str:
        mark = _STATUS_TEX.get(self.status, "")
        text = rf"\item \textbf{{{_tex_text(self.title)}}} {mark} {_tex_text(self.body)}"
        for eq in self.equations:
            text += "\n  \\[ " + eq + " \\]"
        return text


def _fmt_element(g, name: str = "g") -> str:
    """An element in LaTeX: matrices up to 4x4 explicitly, vectors as transposed rows, else omitted."""
    if g is None:
        return ""
    g = sp.Matrix(g)
    if g.cols == 1:
        return f"${name} = " + sp.latex(g.T) + "^T$"
    if g.rows <= 4:
        return f"${name} = " + sp.latex(g) + "$"
    return ""


def _fmt_value(v, digits: int = 6) -> str:
    if v is None:
        return "?"
    if isinstance(v, sp.MatrixBase):
        m = sp.Matrix(v)
        return "$" + sp.latex(m.T if m.cols == 1 else m) + ("^T$" if m.cols == 1 else "$")
    if isinstance(v, sp.Basic):
        if v.free_symbols:
            return "$" + sp.latex(v) + "$"
        try:
            num = complex(sp.N(v, 30))
        except (TypeError, ValueError):
            return "$" + sp.latex(v) + "$"
        if abs(num.imag) > 1e-12 * max(1.0, abs(num.real)):
            return f"{num:.{digits}g}"
        exact = "$" + sp.latex(v) + "$"
        if len(exact) < 40 and not v.is_Float:
            return f"{exact} ≈ {num.real:.{digits}g}" if not v.is_Integer else exact
        return f"{num.real:.{digits}g}"
    if isinstance(v, complex):
        return f"{v:.{digits}g}"
    return f"{float(v):.{digits}g}"


@dataclass
class ParameterWitness:
    """A concrete element under which the *parameter law* is not invariant (the duality argument fails
    for this map).  This alone does **not** refute invariance of the network density (another parameter
    map could absorb the action); it explains why the proof does not go through."""

    element: sp.Matrix
    statement: str
    before: sp.Expr | None = None
    after: sp.Expr | None = None
    element_name: str = "g"

    def markdown(self) -> str:
        g = _fmt_element(self.element, self.element_name)
        tail = ""
        if self.before is not None:
            tail = f": {_fmt_value(self.before)} → {_fmt_value(self.after)}"
        return f"For {g or 'the element'}, {self.statement}{tail}."


class WitnessKind(StrEnum):
    """What a :class:`Witness` evaluates."""

    CORRELATOR = "correlator"      # exact G^(n) values
    MEAN = "mean"                  # G^(1)
    KERNEL = "kernel"              # the GP kernel
    NTK_MEAN = "ntk-mean"          # the expected NTK
    STRUCTURAL = "structural"      # an argument that holds for every law
    QUADRATURE = "quadrature"      # deterministic product Gauss quadrature at two resolutions
    MONOTONE = "monotone"          # a first-layer quantity of which E[f(x)^2] is a strictly increasing function
    INVERSE_WIDTH = "inverse-width"  # the exact coefficient of 1/N in a correlator (claims about every large N)


@dataclass
class Witness:
    r"""A function-space counterexample: the group element, the quantity and its two values.

    ``kind``: ``"correlator"`` (exact :math:`G^{(n)}` values), ``"mean"`` (:math:`G^{(1)}`),
    ``"kernel"`` (the GP kernel), ``"ntk-mean"`` (the expected NTK), ``"structural"`` (an argument that
    holds for every law), ``"quadrature"`` (a single-neuron integral evaluated by deterministic product
    Gauss quadrature at two resolutions; ``error`` is the estimated absolute error of each value),
    ``"monotone"`` (deep networks: a first-layer quantity of which :math:`E[f_1(x)^2]` is a strictly increasing
    function, :mod:`symcorr.duality.monotone`), ``"inverse-width"`` (deep networks: the exact coefficient of
    :math:`1/N` in a correlator, for claims about every large width).
    ``values`` are the numbers substituted for the network's symbols (a universally quantified claim is
    refuted by one instance).
    """

    element: sp.Matrix | None
    element_description: str
    quantity: str
    before: object
    after: object
    kind: WitnessKind = WitnessKind.CORRELATOR
    error: float = 0.0
    values: dict = field(default_factory=dict)
    details: list[str] = field(default_factory=list)
    engine: str = "symcorr.duality"
    element_name: str = "g"
    #: machine-readable evaluation data (points, moved points, order, indices) to re-check the witness
    data: dict = field(default_factory=dict)

    def __post_init__(self):
        self.kind = WitnessKind(self.kind)

    @property
    def difference(self):
        if isinstance(self.before, sp.Basic) and isinstance(self.after, sp.Basic):
            return sp.simplify(self.after - self.before)
        return complex(self.after) - complex(self.before) if isinstance(self.after, complex) else \
            float(self.after) - float(self.before)

    def markdown(self) -> str:
        el = _fmt_element(self.element, self.element_name)
        vals = ""
        if self.values:
            vals = " (at " + ", ".join(f"${sp.latex(k)} = {sp.latex(v)}$" for k, v in self.values.items()) + ")"
        err = ""
        if self.kind is WitnessKind.QUADRATURE:
            err = f" (quadrature; estimated error ≤ {self.error:.2g} on each value)"
        text = (f"{self.element_description} {el}{vals}: {self.quantity} changes from "
                f"{_fmt_value(self.before)} to {_fmt_value(self.after)}{err}.")
        if self.details:
            text += " " + " ".join(self.details)
        return text


@dataclass
class InvarianceProof:
    """The outcome of :func:`symcorr.duality.prove_invariance`: steps, verdict, witness.

    ``verdict`` is a :class:`~symcorr.verdicts.ProofVerdict`, ``on`` a :class:`~symcorr.verdicts.Side`
    and ``correlator`` a :class:`~symcorr.verdicts.CorrelatorKind` (plain strings are accepted and
    parsed; the members compare equal to their strings).  ``decision`` is the
    :class:`~symcorr.duality.decision.InvarianceDecision` the steps were rendered from (None for a
    proof assembled by hand)."""

    network: object
    group: object
    on: Side
    correlator: CorrelatorKind
    finite_width: bool
    verdict: ProofVerdict
    steps: list[ProofStep]
    witness: Witness | None = None
    parameter_witness: ParameterWitness | None = None
    conditions: list[str] = field(default_factory=list)
    residual: object = None
    decision: object = None

    def __post_init__(self):
        self.verdict = ProofVerdict.parse(self.verdict)
        self.on = Side.parse(self.on)
        self.correlator = CorrelatorKind.parse(self.correlator)
        if self.verdict is ProofVerdict.REFUTED and self.witness is None:
            raise ValueError("a refutation needs a witness")

    @property
    def invariant(self) -> bool | None:
        """True (proven), False (refuted) or None (undecided)."""
        return self.verdict.invariant

    @property
    def expectation(self) -> Expectation:
        """The verdict in the vocabulary of spec files: invariant / broken / undecided."""
        return self.verdict.expectation

    def _subject(self) -> str:
        side = self.on.plural
        what = "the network density" if self.correlator is CorrelatorKind.FUNCTION else "the neural tangent kernel"
        width = "" if self.finite_width else " in the infinite-width (GP) limit"
        return f"{self.group!r} acting on the {side}: invariance of {what}{width}"

    def title(self) -> str:
        name = getattr(self.network, "name", None)
        return (f"{name + ': ' if name else ''}{self._subject()}")

    def markdown(self, heading: str = "###") -> str:
        lines = [f"{heading} {self.title()}", "", f"**Verdict: {self.verdict}.**", ""]
        for i, step in enumerate(self.steps, 1):
            lines.append(step.markdown(i))
        if self.witness is not None:
            lines += ["", "**Witness.** " + self.witness.markdown()]
        if self.parameter_witness is not None and self.verdict is not ProofVerdict.PROVEN:
            lines += ["", "**Parameter-space counterexample.** " + self.parameter_witness.markdown()]
        if self.conditions:
            lines += ["", "**Conditions.** " + " ".join(self.conditions)]
        if self.residual is not None:
            lines += ["", f"**Residual group.** {self.residual!r}"
                      + (f" ≅ {self.residual.residual_description}"
                         if hasattr(self.residual, "residual_description") else "")]
        return "\n".join(lines) + "\n"

    def latex(self) -> str:
        out = [rf"\paragraph{{{_tex_text(self.title())}}}", rf"Verdict: \textbf{{{self.verdict}}}.",
               r"\begin{enumerate}"]
        out += [step.latex() for step in self.steps]
        out.append(r"\end{enumerate}")
        if self.witness is not None:
            out.append(r"\noindent\textbf{Witness.} " + _tex_text(self.witness.markdown()))
        if self.parameter_witness is not None and self.verdict is not ProofVerdict.PROVEN:
            out.append(r"\noindent\textbf{Parameter-space counterexample.} "
                       + _tex_text(self.parameter_witness.markdown()))
        if self.conditions:
            out.append(r"\noindent\textbf{Conditions.} " + _tex_text(" ".join(self.conditions)))
        return "\n".join(out) + "\n"

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __str__(self) -> str:
        return self.markdown()

    def __repr__(self) -> str:
        return f"InvarianceProof({self.group!r} on {self.on}s, {self.correlator}: {self.verdict})"
