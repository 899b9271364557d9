"""The claims of one spec in the report: proof verdict and calibrated Monte Carlo test per claim, the
discovered symmetries next to the exact group, and the full derivation in its own file."""

from __future__ import annotations

import math
import time

from ..claims import (Agreement, claim_label, claim_test, compare, derive_report, montecarlo_inputs,
                      montecarlo_settings, prove_claim)
from ..duality.law_group import law_group
from ..montecarlo.discovery import discover_symmetries
from ..progress import ProgressBar
from ..specfile import SpecDocument
from ..verdicts import ProofVerdict, Side
from .checks import Check, Frame, Status
from .context import RunContext, describe_points

__all__ = ["claims_section", "proof_outline", "DISCOVERY_MAX_DIMENSION"]

#: discovery runs on the sides of dimension 2 .. DISCOVERY_MAX_DIMENSION (its cost grows like the square)
DISCOVERY_MAX_DIMENSION = 10
_MARK = {"established": "✓", "fails": "✗", "open": "?", "info": ""}


def proof_outline(proof) -> str:
    """One line: the steps with their status marks, and the witness of a refutation (shortened)."""
    steps = " · ".join(f"{s.title} {_MARK.get(str(s.status), '')}".strip() for s in proof.steps)
    if proof.verdict is ProofVerdict.REFUTED and proof.witness is not None:
        text = " ".join(proof.witness.markdown().split())
        steps += " — witness: " + (text if len(text) <= 300 else text[:297] + "...")
    return steps


def claims_section(doc: SpecDocument, ctx: RunContext, derivation_link: str) -> list[Check]:
    """Write the spec's claims into ``ctx.report``; returns the symbolic and Monte Carlo checks."""
    report = ctx.report
    name = doc.path.stem if doc.path else doc.title
    report.text(f"Spec: `{doc.path.parent.name + '/' + doc.path.name if doc.path else name}` · the full derivation (correlators, "
                f"proofs step by step): [{derivation_link}]({derivation_link})")
    report.section("Network", 3)
    report.text(doc.network.markdown())
    if not doc.claims:
        return []
    mc = montecarlo_settings(doc, {"device": ctx.device})
    if not ctx.full:  # the spec's [montecarlo] table is the full budget; the quick default uses a fifth of it
        mc = mc.scaled(0.2, minimum=5000, max_group_samples=4)
    net = doc.numeric_network()
    x = montecarlo_inputs(net, mc)
    checks, rows, shown = [], [], []
    report.section("Claims and their proofs", 3)
    for i, claim in enumerate(doc.claims):
        label = claim_label(claim, doc)
        proof = prove_claim(doc, claim)
        agreement, _ = compare(claim, proof.expectation, statistical=False)
        checks.append(Check(name, label, Frame.SYMBOLIC, claim.expect, proof.expectation,
                            agreement is Agreement.AGREES, str(proof.verdict)))
        t0 = time.perf_counter()
        with ProgressBar(mc.networks, label, disable=not ctx.progress) as bar:
            outcome = claim_test(claim, doc, net, x, mc, progress=bar, rows=8, client=ctx.client,
                                 checkpoint=ctx.sub(f"claim-{i + 1}").checkpoint)
        seconds = time.perf_counter() - t0
        agreement, why = compare(claim, outcome.verdict, statistical=True)
        result = outcome.result
        detail = (f"max|z| = {result.statistic:.2f}, Holm p = {result.p_value:.3g}, {result.tests} tests, "
                  f"{result.networks} networks")
        if agreement is Agreement.NOT_COMPARED:
            checks.append(Check(name, label, Frame.MONTE_CARLO, f"(shown: {why})", outcome.verdict, Status.SHOWN,
                                detail))
        else:
            checks.append(Check(name, label, Frame.MONTE_CARLO, claim.expect, outcome.verdict,
                                agreement is Agreement.AGREES, detail))
        estimator = getattr(result, "estimator", "NTK")
        rows.append([label, claim.expect, proof.verdict, outcome.verdict, estimator, detail, f"{seconds:.1f} s"])
        if outcome.variance_reduced is not None:
            shown.append(f"{label}: {outcome.variance_reduced.summary()}")
        report.text(f"- **{label}**, proof: {proof_outline(proof)}")
    report.section("Monte Carlo check of the claims", 3)
    origin = "the spec's [montecarlo] inputs" if mc.inputs is not None else "seeded Gaussian points"
    report.text(f"{mc.networks} networks per claim, seed {mc.seed}, family-wise level alpha = {mc.alpha} (Holm); "
                f"inputs: {describe_points(x, origin)}. The estimator never integrates out the block the group "
                f"acts on (output claims sample the read-out directly).")
    report.table(["claim", "expected", "proof", "Monte Carlo", "estimator", "test", "time"], rows)
    if shown:
        report.text("Shown, not checks -- the same output tests with the read-out integrated out (they assume the "
                    "read-out law's invariance, so their differences vanish when that law is invariant):\n\n"
                    + "\n".join(f"- {s}" for s in shown))
    _discovered_groups(doc, ctx, net, x, mc)
    return checks


def _discovery_orders(orders, slots: int) -> tuple[int, ...]:
    """Orders 1 and 2 always; 4 when the spec uses it and it has at most 500 entries."""
    out = [1, 2]
    if 4 in orders and math.comb(slots + 3, 4) <= 500:
        out.append(4)
    return tuple(out)


def _discovered_groups(doc: SpecDocument, ctx: RunContext, net, x, mc) -> None:
    """For each side: the Lie algebra discovered from Monte Carlo correlators (confirmed on independent
    networks) next to the exact invariance group of the law.  Shown, not counted as a check."""
    networks = min(mc.networks, 50000) if ctx.full else 2048
    rows = []
    for side in (Side.INPUT, Side.OUTPUT):
        n = int(net.dimension(side))
        if not 2 <= n <= DISCOVERY_MAX_DIMENSION:
            continue
        orders = _discovery_orders(mc.orders, x.shape[0] * int(net.output_dim))
        found = discover_symmetries(net, x, side, orders=orders, networks=networks, seed=mc.seed, bootstrap=100,
                                    device=mc.device)
        exact = law_group(net, side).group
        same = "—" if exact is None else ("yes" if exact.lie_dimension == found.lie_dimension else "no")
        rows.append([str(side), f"{found.recognised} (dim {found.lie_dimension})",
                     f"{found.estimated_dimension} <= {found.conditions.threshold:.3g}", found.group_name,
                     "not computed" if exact is None else f"{exact!r} (dim {exact.lie_dimension})", same])
    if rows:
        ctx.report.section("Discovered symmetries (Monte Carlo; shown, not counted as checks)", 3)
        ctx.report.text(f"The Lie algebra of the continuous symmetries estimated from the linearised invariance "
                        f"conditions of the correlators ({networks} networks; rank rule at level 0.01 against a "
                        f"bootstrap threshold), each generator and discrete candidates confirmed on independent "
                        f"networks (paired z, Holm at 0.01), next to the exact invariance group of the law.")
        ctx.report.table(["side", "discovered algebra", "rank rule (dims <= threshold)", "confirmed group",
                          "exact law group", "same dimension"], rows)


def derivation_markdown(doc: SpecDocument) -> str:
    """The spec's full symbolic derivation (``symcorr derive``), written to its own file of the report."""
    return derive_report(doc)
