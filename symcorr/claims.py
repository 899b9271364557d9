r"""Claims of spec files, checked in both frames: the one place the CLI and ``reproduce`` call.

A spec file's ``[[claims]]`` say that a group acting on the inputs or outputs is (``invariant``) or is not
(``broken``) a symmetry of the network density or of its NTK, or that the question is ``undecided``.
This module holds, once:

* :class:`MonteCarloSettings` -- the ``[montecarlo]`` table with defaults and overrides, validated;
* :func:`montecarlo_inputs` -- the points the numeric frame evaluates at;
* :func:`prove_claim` -- the symmetry-via-duality proof of a claim (:func:`symcorr.duality.prove_invariance`);
* :func:`claim_test` -- the calibrated Monte Carlo test of a claim (:func:`symcorr.montecarlo.invariance_test`
  or :func:`symcorr.ntk.ntk_invariance_test`), with its verdict and Markdown report;
* :func:`claim_evidence` -- the Monte Carlo evidence shown next to an undecided proof (``symcorr check``): the
  calibrated test at a small budget, never counted as a proof or a check;
* :func:`compare` -- the one rule that says whether an obtained verdict agrees with a claim's ``expect``
  (statistical verdicts are not compared for ``undecided`` claims or claims about the infinite-width limit,
  which a finite ensemble cannot test);
* :func:`correlator_estimates` -- the Monte Carlo n-point functions of a spec;
* :func:`derive_report` -- the symbolic report of a spec (network, correlators, proofs, and per side the
  catalogue group next to the exact invariance group of the law, :func:`symmetry_group_texts`) in Markdown
  or LaTeX.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence

import torch

from .duality import InvarianceProof, decide_invariance, prove_invariance
from .duality.catalogue import group_answers
from .duality.law_group import law_group
from .duality.proof import _tex_text
from .duality.render_maps import law_group_text
from .budget import MAX_MONTE_CARLO_ORDER, check_correlator_order, check_test_budget
from .errors import SpecError
from .montecarlo import Ensemble, CorrelatorEstimate, NeuronLevelEstimator, estimate_correlators, invariance_test
from .montecarlo.invariance import independent_estimator
from .ntk import ntk_invariance_test
from .rng import child_seed, make_generator, resolve_device
from .spec import Network
from .specfile import Claim, SpecDocument, load_spec
from .symbolic import correlator
from .symbolic.invariant_form import invariants_of
from .verdicts import CorrelatorKind, Expectation, ProofVerdict, Side

__all__ = ["MonteCarloSettings", "montecarlo_settings", "montecarlo_inputs", "check_runnable", "load_checked_spec", "prove_claim", "ClaimTest",
           "claim_test", "Evidence", "claim_evidence", "EVIDENCE_NETWORKS", "Agreement", "compare",
           "correlator_estimates", "derive_report", "claim_label", "symmetry_group_texts"]

#: estimators of :func:`symcorr.montecarlo.estimate_correlators` (``neuron``: single-hidden-layer nets)
ESTIMATORS = ("auto", "direct", "readout", "neuron")
_DTYPES = {"float64": torch.float64, "float32": torch.float32}
#: NTK tests use at most this many networks (order-2 NTK statistics are costly)
NTK_NETWORKS_LIMIT = 20000

Progress = Callable[[int], None] | None


@dataclass(frozen=True)
class MonteCarloSettings:
    """The numeric frame's budget for one spec: ``networks`` per test, ``chunk`` (networks per batch, the
    memory bound; ``None``: automatic), ``seed``, correlator ``orders``, ``group_samples`` (Haar-sampled
    elements per claim), family-wise level ``alpha`` (Holm), ``estimator``, ``dtype``, ``device``,
    optional ``inputs`` (points), ``outputs`` (output components) and ``widths`` (neuron estimator)."""

    networks: int = 20000
    seed: int = 0
    orders: tuple = (2, 4)
    group_samples: int = 4
    alpha: float = 0.01
    estimator: str = "auto"
    dtype: str = "float64"
    device: str | None = "auto"
    chunk: int | None = None
    inputs: tuple | None = None
    outputs: tuple | None = None
    widths: tuple | None = None

    def __post_init__(self):
        for key in ("networks", "group_samples"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SpecError(f"{key} must be a positive integer, got {value!r}", key)
        if self.chunk is not None and (isinstance(self.chunk, bool) or not isinstance(self.chunk, int)
                                       or self.chunk < 1):
            raise SpecError(f"chunk must be a positive integer, got {self.chunk!r}", "chunk")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise SpecError(f"seed must be a non-negative integer, got {self.seed!r}", "seed")
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)) or not 0 < self.alpha < 1:
            raise SpecError(f"alpha must be in (0, 1), got {self.alpha!r}", "alpha")
        if self.estimator not in ESTIMATORS:
            raise SpecError(f"unknown estimator {self.estimator!r}; use {', '.join(ESTIMATORS)}",
                            "montecarlo.estimator")
        if self.dtype not in _DTYPES:
            raise SpecError(f"dtype must be float64 or float32, got {self.dtype!r}", "montecarlo.dtype")
        try:
            resolve_device(self.device)
        except SpecError as err:
            raise SpecError(err.reason, "montecarlo.device") from None

    @property
    def torch_dtype(self) -> torch.dtype:
        return _DTYPES[self.dtype]

    def scaled(self, fraction: float, *, minimum: int = 5000, max_group_samples: int | None = None
               ) -> "MonteCarloSettings":
        """A smaller budget: ``fraction`` of the networks (at least ``minimum``), at most
        ``max_group_samples`` group elements."""
        networks = max(minimum, int(self.networks * fraction))
        samples = self.group_samples if max_group_samples is None else min(self.group_samples, max_group_samples)
        return dataclasses.replace(self, networks=networks, group_samples=samples)


_SETTING_KEYS = {f.name for f in dataclasses.fields(MonteCarloSettings)}


def montecarlo_settings(doc: SpecDocument, overrides: Mapping | None = None) -> MonteCarloSettings:
    """The spec's ``[montecarlo]`` table over the defaults, then ``overrides`` (``None`` values are
    ignored), validated."""
    values = {k: v for k, v in doc.montecarlo.items() if k in _SETTING_KEYS and v is not None}
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    unknown = set(values) - _SETTING_KEYS
    if unknown:
        raise SpecError(f"unknown Monte Carlo setting(s) {sorted(unknown)}", "montecarlo")
    for key in ("orders", "inputs", "outputs", "widths"):
        if key in values:
            value = values[key]
            values[key] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return MonteCarloSettings(**values)


def montecarlo_inputs(net: Network, settings: MonteCarloSettings) -> torch.Tensor:
    """The settings' inputs, or three seeded Gaussian points (``child_seed(seed, 2)``) when none are given;
    shape ``(points, input_dim)``."""
    d = int(net.input_dim)
    if settings.inputs is not None:
        x = torch.tensor([list(p) for p in settings.inputs], dtype=torch.float64)
    else:
        x = torch.randn((3, d), generator=make_generator(child_seed(settings.seed, 2)), dtype=torch.float64)
    if x.ndim != 2 or x.shape[1] != d:
        raise SpecError(f"inputs must have {d} coordinates each", "montecarlo.inputs")
    return x


def load_checked_spec(path) -> SpecDocument:
    """The spec file, parsed, with its ``[montecarlo]`` settings checked too (a broken table is an error
    in every command, not only in ``montecarlo``)."""
    doc = load_spec(path)
    if doc.montecarlo:
        try:
            montecarlo_settings(doc)
        except SpecError as err:
            raise err.in_file(Path(path).name) from None
    return doc


def check_runnable(doc: SpecDocument) -> list[str]:
    """Everything the numeric frame of ``doc`` needs, checked without running it: the ``[montecarlo]``
    settings, a numeric network (every symbol has a value), inputs of the right dimension, the test budget
    (:func:`symcorr.budget.check_test_budget`, when there are claims), the orders and the memory of one
    network and of a chunk (the ensemble's own checks).  Returns notes on what will run; raises a SpecError
    naming the field otherwise.  ``symcorr validate`` calls it, so a file that validates runs."""
    if not (doc.claims or doc.montecarlo):
        return []
    settings = montecarlo_settings(doc)
    net = doc.numeric_network()
    x = montecarlo_inputs(net, settings)
    if doc.claims:
        check_test_budget(settings.networks, "montecarlo.networks")
    for order in settings.orders:
        check_correlator_order(order, "montecarlo.orders", limit=MAX_MONTE_CARLO_ORDER)
    Ensemble(net, settings.networks, seed=settings.seed, chunk=settings.chunk, dtype=settings.torch_dtype,
             device=settings.device, estimator="direct")
    return [f"Monte Carlo: {settings.networks} networks, {x.shape[0]} input points, {settings.estimator} "
            f"estimator, {settings.dtype} on {settings.device}"]


def claim_label(claim: Claim, doc: SpecDocument | None = None) -> str:
    """``"SO(3) on inputs"``, ``"... [ntk]"``, ``"... [GP limit]"``; with ``doc`` its values substituted."""
    group = claim.group.subs(doc.values) if doc is not None else claim.group
    corr = " [ntk]" if CorrelatorKind.parse(claim.correlator) is CorrelatorKind.NTK else ""
    width = "" if claim.finite_width else " [GP limit]"
    return f"{group!r} on {claim.on}s{corr}{width}"


def prove_claim(doc: SpecDocument, claim: Claim) -> InvarianceProof:
    """The symmetry-via-duality proof (or refutation) of ``claim`` for the spec's network."""
    return prove_invariance(doc.network, claim.group, claim.on, claim.correlator, finite_width=claim.finite_width,
                            values=doc.values, orders=claim.orders)


class StatisticalTest(Protocol):
    """What every calibrated test result offers (:class:`~symcorr.montecarlo.InvarianceTestResult`, the NTK
    test's result): the max |z| statistic, the Holm p-value, the number of tests and of networks."""

    @property
    def statistic(self) -> float: ...

    @property
    def p_value(self) -> float: ...

    @property
    def tests(self) -> int: ...

    @property
    def networks(self) -> int: ...

    def summary(self) -> str: ...


@dataclass(frozen=True)
class ClaimTest:
    """The Monte Carlo test of one claim: ``verdict`` (``invariant`` = not rejected at level alpha,
    ``broken`` = rejected, ``undecided`` = the test could not decide), the full ``result`` object and its
    Markdown report.  ``variance_reduced``: for output claims, the same test with the read-out integrated
    out (its differences vanish identically for an invariant read-out law: shown beside the check, not a
    check; see :func:`symcorr.montecarlo.invariance.independent_estimator`)."""

    verdict: Expectation
    result: StatisticalTest
    markdown: str
    variance_reduced: StatisticalTest | None = None

    @property
    def summary(self) -> str:
        return self.markdown.splitlines()[0] if self.markdown else ""


def claim_test(claim: Claim, doc: SpecDocument, net: Network, x: torch.Tensor, settings: MonteCarloSettings, *,
               progress: Progress = None, rows: int = 8, client=None, checkpoint=None) -> ClaimTest:
    """The calibrated invariance test of ``claim`` on the numeric network ``net`` at points ``x``: paired
    differences on one ensemble, z-scores, Holm at ``settings.alpha`` (NTK claims through
    :func:`symcorr.ntk.ntk_invariance_test`, orders 1 and 2 of the kernel entries).  ``client``: a Dask
    cluster to run on, ``checkpoint``: a folder to resume from (:mod:`symcorr.distributed`)."""
    group = claim.group.subs(doc.values)  # e.g. SO(D) -> SO(3)
    if CorrelatorKind.parse(claim.correlator) is CorrelatorKind.NTK:
        orders = [n for n in claim.orders if n in (1, 2)] or [1, 2]
        ntk_result = ntk_invariance_test(net, group, claim.on, x, networks=min(settings.networks, NTK_NETWORKS_LIMIT),
                                     seed=settings.seed, group_samples=settings.group_samples, orders=orders,
                                     alpha=float(settings.alpha), dtype=settings.torch_dtype, device=settings.device,
                                     client=client, checkpoint=checkpoint, progress=progress)
        return ClaimTest(Expectation(ntk_result.verdict), ntk_result, ntk_result.markdown(top=rows))
    requested = "auto" if settings.estimator == "neuron" else settings.estimator
    estimator = independent_estimator(net, claim.on, requested)
    common: dict[str, Any] = dict(orders=claim.orders, networks=settings.networks, seed=settings.seed, chunk=settings.chunk,
                  group_samples=settings.group_samples, alpha=float(settings.alpha),
                  outputs=None if settings.outputs is None else list(settings.outputs), device=settings.device,
                  dtype=settings.torch_dtype, client=client, checkpoint=checkpoint)
    result = invariance_test(net, group, claim.on, x, estimator=estimator, progress=progress, **common)
    markdown = result.markdown(top=rows)
    reduced = None
    if estimator == "direct" and requested in ("auto", "readout") and Side.parse(claim.on) is Side.OUTPUT:
        try:
            reduced = invariance_test(net, group, claim.on, x, estimator="readout", **common)
        except SpecError:  # the read-out cannot be integrated out (non-Gaussian or nonlinear): nothing to show
            reduced = None
        if reduced is not None:
            markdown += ("\n\nShown, not a check -- the same test with the read-out integrated out (it assumes the "
                         "read-out law's invariance, so its differences vanish when that law is invariant): "
                         + reduced.summary())
    return ClaimTest(Expectation(result.verdict), result, markdown, reduced)


#: the default ensemble of the Monte Carlo evidence shown next to an undecided proof (``symcorr check``)
EVIDENCE_NETWORKS = 5000


@dataclass(frozen=True)
class Evidence:
    """The Monte Carlo evidence for a claim whose proof is undecided: the calibrated test (``test``), or the
    reason it was not run.  Shown next to the verdict, never counted: it is evidence, not an exact argument."""

    test: ClaimTest | None
    reason: str = ""

    def summary(self) -> str:
        """``broken (max|z| = 8.12, Holm p = 1.2e-15, 5000 networks)``, or ``not run: <reason>``."""
        if self.test is None:
            return f"not run: {self.reason}"
        r = self.test.result
        return (f"{self.test.verdict} (max|z| = {r.statistic:.2f}, Holm p = {r.p_value:.2g}, "
                f"{r.networks} networks)")


def claim_evidence(doc: SpecDocument, claim: Claim, *, networks: int = EVIDENCE_NETWORKS,
                   progress: Progress = None) -> Evidence:
    """The calibrated Monte Carlo test of ``claim`` (:func:`claim_test`) with the spec's ``[montecarlo]``
    settings and at most ``networks`` networks, as :class:`Evidence`; not run (with the reason) for a claim
    about the infinite-width limit, which a finite ensemble does not test, or when the numeric frame refuses
    the spec (e.g. a symbol without a value)."""
    if isinstance(networks, bool) or not isinstance(networks, int) or networks < 1:
        raise SpecError(f"the evidence budget must be a positive number of networks, got {networks!r}",
                        "evidence-networks")
    if not claim.finite_width:
        return Evidence(None, "the claim concerns the infinite-width limit, which a finite ensemble does not test")
    try:
        settings = montecarlo_settings(doc)
        settings = dataclasses.replace(settings, networks=min(settings.networks, networks))
        net = doc.numeric_network()
        x = montecarlo_inputs(net, settings)
        Ensemble(net, settings.networks, seed=settings.seed, chunk=settings.chunk, dtype=settings.torch_dtype,
                 device=settings.device, estimator="direct")  # the memory checks, before anything is sampled
        test = claim_test(claim, doc, net, x, settings, progress=progress)
    except SpecError as err:  # the numeric frame refuses this spec: nothing to show, and nothing is concluded
        return Evidence(None, str(err))
    return Evidence(test)


class Agreement(StrEnum):
    """How an obtained verdict relates to a claim's ``expect``."""

    AGREES = "agrees"
    DISAGREES = "disagrees"
    NOT_COMPARED = "not compared"


def compare(claim: Claim, obtained, *, statistical: bool) -> tuple[Agreement, str]:
    """Does ``obtained`` (a proof's :class:`~symcorr.verdicts.Expectation`, or a statistical test's verdict)
    agree with ``claim.expect``?  Proofs are always compared (``undecided`` must stay undecided); a
    statistical verdict is not compared when the claim is ``undecided`` or concerns the infinite-width
    limit only (a finite ensemble cannot test it).  Returns the agreement and the reason when not compared."""
    expect = Expectation.parse(claim.expect)
    obtained = Expectation.parse(obtained, "verdict")
    if statistical and expect is Expectation.UNDECIDED:
        return Agreement.NOT_COMPARED, "expectation undecided"
    if statistical and not claim.finite_width:
        return Agreement.NOT_COMPARED, "claim concerns the infinite-width limit"
    return (Agreement.AGREES if obtained is expect else Agreement.DISAGREES), ""


def expected_proof_verdict(claim: Claim) -> ProofVerdict:
    """The proof verdict a claim asks for: invariant -> proven, broken -> refuted, undecided -> undecided."""
    return ProofVerdict.for_expectation(claim.expect)


def correlator_estimates(doc: SpecDocument, net: Network, x: torch.Tensor, settings: MonteCarloSettings, *,
                         progress: Progress = None, client=None, checkpoint=None) -> Iterator[CorrelatorEstimate]:
    """The Monte Carlo n-point functions of orders ``settings.orders`` with standard errors; with the
    ``neuron`` estimator every width in ``settings.widths`` (single-hidden-layer nets: the hidden width is
    kept symbolic so that the read-out law can be evaluated at every width from one set of neurons).
    ``client``, ``checkpoint``: as in :func:`claim_test`."""
    orders = list(settings.orders)
    outputs = None if settings.outputs is None else list(settings.outputs)
    if settings.estimator == "neuron":
        widths = settings.widths or (int(net.layers[0].width),)
        width_symbol = doc.network.layers[0].width
        symbolic = doc.network.subs({s: v for s, v in doc.values.items() if s != width_symbol})
        est = NeuronLevelEstimator(symbolic, x, max(orders), neurons=settings.networks, seed=settings.seed,
                                   chunk=settings.chunk, device=settings.device, dtype=settings.torch_dtype,
                                   progress=progress, client=client, checkpoint=checkpoint)
        for w in widths:
            for n in orders:
                yield est.correlator(n, width=int(w), outputs=outputs)
        return
    results = estimate_correlators(net, x, orders, networks=settings.networks, seed=settings.seed,
                                   chunk=settings.chunk, estimator=settings.estimator, outputs=outputs,
                                   device=settings.device, dtype=settings.torch_dtype, progress=progress,
                                   client=client, checkpoint=checkpoint)
    yield from results.values()


# ----------------------------------------------------------------------------------------------------
# the symbolic report of a spec
# ----------------------------------------------------------------------------------------------------
_TEX_HEAD = r"""\documentclass{article}
\usepackage{amsmath,amssymb}
\usepackage[margin=2cm]{geometry}
\begin{document}
"""


def _correlator_texts(network: Network, orders: Sequence[int], fmt: str) -> list[str]:
    out = []
    for n in orders:
        try:
            G = correlator(network, n)
            out.append(G.latex() if fmt == "tex" else G.markdown())
        except SpecError as err:
            out.append(f"(the {n}-point function is not available: {err})")
    return out


#: orders whose correlators the derive report shows in invariant form (the four-point function is cheap: its
#: printed pieces are rewritten one by one, and a witness evaluates at most a few thousand operations)
INVARIANT_FORM_ORDERS = (2, 4)


def _invariant_form_texts(doc: SpecDocument, orders: Sequence[int], fmt: str) -> list[str]:
    """For the input claims under translations and rotations (one block per kind of invariant): each
    correlator of ``orders`` in the invariants of the group (:mod:`symcorr.symbolic.invariant_form`), or the
    dependence left with its witness, or why it could not be decided."""
    kinds: dict = {}
    for claim in doc.claims:
        if Side.parse(claim.on) is not Side.INPUT or CorrelatorKind.parse(claim.correlator) is CorrelatorKind.NTK:
            continue
        try:
            kind = invariants_of(claim.group)
        except SpecError:  # no invariant form is known for this group (permutations, stabilisers, ...)
            continue
        group, labels = kinds.setdefault(kind, (claim.group, []))
        label = f"{claim.group!r} on inputs"
        if label not in labels:
            labels.append(label)
    out = []
    for kind, (group, labels) in kinds.items():
        head = f"{', '.join(labels)}: the {kind}"
        out.append(rf"\paragraph{{{_tex_text(head)}}}" if fmt == "tex" else f"### {head}")
        for n in (n for n in orders if n in INVARIANT_FORM_ORDERS):
            try:
                G = correlator(doc.network, n)
                if not G.is_exact:
                    text = f"{n}-point function: no closed form to rewrite; {G.reason}."
                    out.append(_tex_text(text) if fmt == "tex" else text)
                    continue
                form = G.invariant_form(group)
            except SpecError as err:
                text = f"(the {n}-point function is not available: {err})"
                out.append(_tex_text(text) if fmt == "tex" else text)
                continue
            lead = rf"\textbf{{{n}-point function.}}" if fmt == "tex" else f"**{n}-point function.**"
            if n > 2 and form.exists and not form.rewritten:  # the form printed above, not printed twice
                out.append(f"{lead} {form.sentence()} the form printed above.")
            else:
                out.append(f"{lead} " + (form.tex() if fmt == "tex" else form.markdown()))
    return out


#: sides of larger dimension are not searched for their symmetry group in the derive report (the catalogue
#: tries every stabiliser and permutation group, whose generators grow like the dimension squared)
MAX_GROUP_DIMENSION = 12


def symmetry_group_texts(doc: SpecDocument) -> list[str]:
    """One paragraph per side (inputs, outputs): the catalogue answer, the exact invariance group of the law
    with its derivation and proof status, and what ``symmetry_group`` reports (at the spec's values when a
    dimension is symbolic)."""
    from .verdicts import Side

    out = []
    for side in (Side.INPUT, Side.OUTPUT):
        net = doc.network
        n = net.dimension(side)
        if not isinstance(n, int) and doc.values:
            net = doc.network.subs(doc.values)
            n = net.dimension(side)
        if not isinstance(n, int):
            out.append(f"**{str(side).capitalize()}s.** The dimension {n} is symbolic; give it a value to compute the group.")
            continue
        if n > MAX_GROUP_DIMENSION:
            out.append(f"**{str(side).capitalize()}s.** Dimension {n} > {MAX_GROUP_DIMENSION}: the group search is skipped.")
            continue
        lg = law_group(net, side)
        catalogue, _, reported = group_answers(net, side)
        proven = None
        if lg.group is not None:
            proven = decide_invariance(net, lg.group, side, search_witness=False).verdict is ProofVerdict.PROVEN
        out.append(law_group_text(side, lg, catalogue, reported, proven))
    return out


_INVARIANT_FORM_INTRO = ("The correlators above, for the input claims under translations and rotations, rewritten "
                         "exactly in the invariants of the group (squared distances, inner products) where they "
                         "are functions of them; otherwise the dependence that is left, with a witness (exact "
                         "points and a group element that changes the value) or the reason it could not be decided.")


def _evidence_hint(doc: SpecDocument, claim: Claim, proof: InvarianceProof) -> str:
    """For an undecided proof: where its Monte Carlo evidence is (shown, never a proof)."""
    if proof.verdict is not ProofVerdict.UNDECIDED:
        return ""
    name = doc.path.name if doc.path else "SPEC"
    if not claim.finite_width:
        return (" No exact argument decides this claim about the infinite-width limit, and a finite ensemble "
                "does not test it.")
    return (f" No exact argument decides this claim; Monte Carlo evidence (shown, not a proof): `symcorr check "
            f"{name}` runs its calibrated test ({EVIDENCE_NETWORKS} networks by default, column \"Monte Carlo "
            f"(shown)\"), `symcorr montecarlo {name}` with the spec's full [montecarlo] budget.")


def derive_report(source, fmt: str = "md", orders: Sequence[int] = (2, 4)) -> str:
    """The symbolic report of one spec (a path or a :class:`SpecDocument`): the network, its correlators
    of ``orders`` (closed forms where the rules apply) and the proof of every claim with its expected and
    obtained verdict, as Markdown (``fmt="md"``) or a standalone LaTeX document (``fmt="tex"``)."""
    doc = source if isinstance(source, SpecDocument) else load_spec(Path(source))
    if fmt not in ("md", "tex"):
        raise SpecError(f"format must be 'md' or 'tex', got {fmt!r}", "format")
    proofs = [prove_claim(doc, c) for c in doc.claims]
    if fmt == "tex":
        parts = [_TEX_HEAD, rf"\section*{{{_tex_text(doc.title)}}}"]
        if doc.description:
            parts.append(_tex_text(doc.description.strip()))
        parts += [r"\subsection*{Network}", rf"\[ {doc.network.latex()} \]", r"\begin{itemize}"]
        parts += [rf"\item ${b.name[0]}^{{{b.name[1:]}}} \sim {b.law.latex()}$, shape "
                  + " $\\times$ ".join(f"${s}$" for s in b.shape) for b in doc.network.blocks.values()]
        parts += [r"\end{itemize}", r"\subsection*{Correlators}"]
        for text in _correlator_texts(doc.network, orders, "tex"):
            parts.append(rf"\[ {text} \]" if not text.startswith("(") else _tex_text(text))
        invariant = _invariant_form_texts(doc, orders, "tex")
        if invariant:
            parts += [r"\subsection*{Correlators in invariant form}", _tex_text(_INVARIANT_FORM_INTRO)] + invariant
        parts.append(r"\subsection*{Claims}")
        for claim, proof in zip(doc.claims, proofs):
            parts.append(proof.latex())
            parts.append(rf"Expected: \textbf{{{claim.expect}}}; obtained: \textbf{{{proof.expectation}}}."
                         + _tex_text(_evidence_hint(doc, claim, proof)))
        parts.append(r"\subsection*{Symmetry groups}")
        parts += [_tex_text(text) for text in symmetry_group_texts(doc)]
        parts.append(r"\end{document}")
        return "\n\n".join(parts) + "\n"
    parts = [f"# {doc.title}" + (f" ({doc.result})" if doc.result else "")]
    if doc.description:
        parts.append(doc.description.strip())
    parts += ["## Network", doc.network.markdown(), "## Correlators"]
    parts += _correlator_texts(doc.network, orders, "md")
    invariant = _invariant_form_texts(doc, orders, "md")
    if invariant:
        parts += ["## Correlators in invariant form", _INVARIANT_FORM_INTRO] + invariant
    parts.append("## Claims")
    for claim, proof in zip(doc.claims, proofs):
        note = f" — {claim.note}" if claim.note else ""
        parts.append(proof.markdown(heading="###") +
                     f"\nExpected: **{claim.expect}**; obtained: **{proof.expectation}**{note}."
                     + _evidence_hint(doc, claim, proof))
    parts.append("## Symmetry groups")
    parts += symmetry_group_texts(doc)
    return "\n\n".join(parts) + "\n"
