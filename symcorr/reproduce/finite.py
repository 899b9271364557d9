"""The finite-width experiment in the report: N·G4c against N from Monte Carlo, fitted, against the 1/N
coefficient of the four-point vertex recursion (:mod:`symcorr.experiments.finite_width`)."""

from __future__ import annotations

from ..experiments import finite_width as experiment
from ..experiments.finite_width import SCAN_HEADERS, plot_vertex_scan, with_symbolic_widths
from ..specfile import SpecDocument
from .checks import Check, Frame
from .context import RunContext

__all__ = ["finite_width_vertex"]


def finite_width_vertex(doc: SpecDocument, ctx: RunContext) -> list[Check]:
    exp, report = doc.experiment or {}, ctx.report
    widths = [int(w) for w in (exp.get("widths", [16, 32, 64, 128, 256]) if ctx.full
                               else exp.get("quick_widths", [16, 24, 32, 48]))]
    networks = int(ctx.budget(exp, "networks", 6000))
    slots = tuple(int(s) for s in exp.get("slots", [0, 0, 1, 1]))
    seed = int(exp.get("seed", doc.montecarlo.get("seed", 0)))
    scan = experiment.run_vertex_scan(with_symbolic_widths(doc.network, doc.values), None, widths, exp["points"], slots,
                           networks=networks, seed=seed, device=ctx.device)
    name = doc.path.stem if doc.path else doc.title
    tol = float(exp.get("tolerance_se", 4.0))
    report.section("Experiment: the 1/N four-point vertex at finite width", 3)
    report.text(f"Connected four-point function G4c at points {exp['points']}, slots {list(slots)}: Monte Carlo "
                f"({networks} networks per width, the Gaussian read-out integrated out, no 1/N assumption) against "
                f"the vertex recursion (symcorr.deep.finite_width). Predicted 1/N coefficient "
                f"**a = {scan.predicted:.5f}** (± {scan.predicted_error:.1g} numeric), per hidden layer "
                f"{', '.join(f'{c:.4f}' for c in scan.per_layer)}. Weighted least-squares fit of a/N + b/N² to the "
                f"estimates: **a = {scan.fit.a:.5f} ± {scan.fit.se_a:.5f}**, b = {scan.fit.b:.3f} ± "
                f"{scan.fit.se_b:.3f}, χ² = {scan.fit.chi2:.1f} on {scan.fit.dof} degrees of freedom.")
    report.table(SCAN_HEADERS, scan.rows())
    path = plot_vertex_scan(scan, report.figure_path(f"{name}_vertex.png"))
    report.image(path, "N·G4c against the hidden width N (log scale): Monte Carlo estimates with one standard "
                       "error, the predicted 1/N coefficient of the four-point vertex recursion (black), the "
                       "weighted fit a + b/N (orange, dashed) and the prediction without the propagation term "
                       "(red, dotted), which the estimates reject.")
    checks = [Check(name, "1/N coefficient of G4c: Monte Carlo fit = vertex recursion", Frame.EXPERIMENT,
                    f"|z| < {tol:g}", f"a = {scan.fit.a:.4f} ± {scan.fit.se_a:.4f} vs {scan.predicted:.4f} "
                    f"(z = {scan.z():+.2f})", abs(scan.z()) < tol)]
    for what, value in scan.wrong.items():
        z = (scan.fit.a - value) / scan.fit.se_a
        checks.append(Check(name, f"the fit rejects the recursion with {what}", Frame.EXPERIMENT, f"|z| > {tol:g}",
                            f"{value:.4f}: z = {z:+.1f}", abs(z) > tol))
    return checks
