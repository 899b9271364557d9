r"""``reproduce``: every spec of ``derivations/`` into one output folder -- ``report.md`` and
``report.html`` (MathML, a table of contents), one derivation file per spec (``specs/<stem>.md`` and
``.html``: correlators and proofs step by step), figures, CSVs and a manifest of the run.

The folder is checked before any work starts and written atomically (:class:`symcorr.outputs.OutputFolder`):
it holds exactly one run.  The summary at the top lists every row with its status (``yes``/``NO``: a check
that could come out either way; ``shown``: reported, not decided; ``skipped``: could not run here, which
fails the run).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import torch

from ..errors import SpecError
from ..html import markdown_to_html
from ..outputs import OutputFolder
from ..report import Report
from ..specfile import SpecDocument, load_spec
from .checks import SUMMARY_HEADERS, Check, Status
from .claims_section import claims_section, derivation_markdown
from .context import RunContext, subfolder
from .fashion import fashion_mnist
from .finite import finite_width_vertex
from .paper import expected_ntk, gp_limit, output_rotations, training

__all__ = ["reproduce", "default_derivations", "EXPERIMENTS", "TITLE"]

TITLE = "symcorr: reproducing Symmetry-via-Duality"

#: ``[experiment] kind`` -> runner(doc, ctx) -> list[Check]
EXPERIMENTS: dict[str, Callable[[SpecDocument, RunContext], list[Check]]] = {
    "output_rotations_widths": output_rotations,
    "gp_limit": gp_limit,
    "training": training,
    "ntk": expected_ntk,
    "fashion_mnist": fashion_mnist,
    "finite_width_vertex": finite_width_vertex,
}


def default_derivations() -> Path:
    """The ``derivations/`` folder next to the package (a source checkout or an editable install)."""
    here = Path(__file__).resolve().parent.parent.parent / "derivations"
    if not here.is_dir():
        raise SpecError("cannot find the derivations/ folder; pass --derivations DIR")
    return here


def _select(derivations, only, skip) -> list[Path]:
    folder = Path(derivations) if derivations else default_derivations()
    paths = sorted(folder.glob("*.toml"))
    if not paths:
        raise SpecError(f"no spec files (*.toml) in {folder}")
    if only:
        paths = [p for p in paths if any(p.stem.startswith(o) for o in only)]
    paths = [p for p in paths if not any(p.stem.startswith(s) for s in skip)]
    if not paths:
        raise SpecError("no spec file matches the selection")
    return paths


def _write_page(folder: OutputFolder, name: str, markdown: str, title: str) -> None:
    folder.write_text(f"{name}.md", markdown)
    base = folder.file(f"{name}.md").parent
    folder.write_text(f"{name}.html", markdown_to_html(markdown, title=title, base_dir=base).html)


def reproduce(out_dir, *, full: bool = False, derivations=None, only=None, skip=(), device=None,
              progress: bool = True, log: Callable[[str], None] | None = print, client=None,
              checkpoint=None) -> list[Check]:
    """Run every spec in ``derivations`` (default: the repository's ``derivations/``) and write the report
    folder ``out_dir`` (module docstring).  ``only``/``skip``: spec file stems (or prefixes) to run/skip.
    ``client``: a Dask cluster for the Monte Carlo work (same results bit for bit); ``checkpoint``: a
    folder to save it to and resume from.  Returns the list of :class:`Check` s."""
    paths = _select(derivations, only, skip)
    settings = {"full": full, "derivations": str(derivations or default_derivations()), "only": list(only or []),
                "skip": list(skip), "device": str(device), "specs": [p.name for p in paths]}
    with OutputFolder(out_dir, command="reproduce", settings=settings, where="--out") as folder:
        checks = _run(folder, paths, full=full, device=device, progress=progress, log=log, client=client,
                      checkpoint=checkpoint)
    if log:
        agree = sum(c.status is Status.AGREES for c in checks)
        log(f"wrote {folder.final_path('report.md')} and report.html: {agree} of "
            f"{sum(c.counted for c in checks)} checks agree, {sum(c.status is Status.SKIPPED for c in checks)} "
            f"skipped")
    return checks


def _run(folder: OutputFolder, paths, *, full, device, progress, log, client, checkpoint) -> list[Check]:
    report = Report(TITLE, folder.path)
    body = Report("body", folder.path)
    checks: list[Check] = []
    t_start = time.perf_counter()
    for path in paths:
        t0 = time.perf_counter()
        doc = load_spec(path)
        if log:
            log(f"[{path.stem}] {doc.title}")
        body.section(f"{doc.title}", 2)
        derivation = f"specs/{path.stem}.md"
        _write_page(folder, f"specs/{path.stem}", derivation_markdown(doc), doc.title)
        ctx = RunContext(full=full, device=device, progress=progress, report=body, client=client,
                         checkpoint=subfolder(checkpoint, path.stem))
        found = claims_section(doc, ctx.sub("claims"), derivation)
        if doc.experiment:
            kind = doc.experiment.get("kind")
            if kind not in EXPERIMENTS:
                raise SpecError(f"unknown experiment kind {kind!r}; known: {', '.join(sorted(EXPERIMENTS))}",
                                f"{path.name}: experiment.kind")
            found += EXPERIMENTS[kind](doc, ctx.sub("experiment"))
        checks += found
        if log:
            bad = sum(not c.agrees for c in found)
            log(f"  {len(found)} rows, {bad} failing, {time.perf_counter() - t0:.0f} s")
    counted = [c for c in checks if c.counted]
    agree = sum(c.status is Status.AGREES for c in checks)
    skipped = [c for c in checks if c.status is Status.SKIPPED]
    budget = "full (the paper budgets)" if full else "quick (default; --full for the paper budgets)"
    report.text(f"Budget: {budget}; torch {torch.__version__}, device {device or 'cpu'}; "
                f"{time.perf_counter() - t_start:.0f} s. Each spec's full derivation (correlators, proofs step by "
                f"step) is in `specs/`; this page has the verdicts, the Monte Carlo tests and the experiments.")
    report.section("Summary", 2)
    report.text(f"**{agree} of {len(counted)} checks agree with the expected outcome**"
                + (f"; **{len(skipped)} skipped** ({'; '.join(sorted({c.detail for c in skipped}))})" if skipped else "")
                + ". Symbolic: the symmetry-via-duality proof of each claim. Monte Carlo: the calibrated "
                  "invariance test (invariant = not rejected at the family-wise level, Holm). Experiment: the "
                  "paper's figures, each row a comparison that could fail. Rows marked *shown* are reported, not "
                  "decided.")
    report.table(SUMMARY_HEADERS, [c.row() for c in checks])
    report.blocks += body.blocks[1:]
    markdown = report.markdown()
    folder.write_text("report.md", markdown)
    folder.write_text("report.html", markdown_to_html(markdown, title=TITLE, base_dir=folder.path).html)
    return checks
