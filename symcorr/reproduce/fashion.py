"""The Fashion-MNIST experiment in the report (paper Fig. 1): the one-hot heatmap and the one-cold line,
with checks that can fail -- the headline included: with one-cold targets the accuracy rises from
mu = 0 to mu = 0.03 (the mean output then matches the target level; digest section 6.1)."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..data import DatasetNotFoundError
from ..experiments import fashion_mnist as fm
from ..specfile import SpecDocument
from .checks import Check, Frame, Status
from .context import RunContext

__all__ = ["fashion_mnist", "DATASET_HINT"]

DATASET_HINT = ("the Fashion-MNIST IDX files are not installed; on Debian or Ubuntu run "
                "`apt-get install -y dataset-fashion-mnist`, or point SYMCORR_FASHION_MNIST at a folder with them")


def _sweep(cfg, data, ctx: RunContext, name: str):
    bar = None
    if ctx.progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=cfg.total_model_epochs, desc=f"Fashion-MNIST {name}", unit="model-epoch", leave=False)
    try:  # on a cluster the workers read the data set from its folder themselves
        return fm.run_sweep(dataclasses.replace(cfg, progress=bar), data if ctx.client is None else None,
                            client=ctx.client, checkpoint=ctx.sub(name).checkpoint)
    finally:
        if bar is not None:
            bar.close()


def fashion_mnist(doc: SpecDocument, ctx: RunContext) -> list[Check]:
    exp, report = doc.experiment or {}, ctx.report
    name = doc.path.stem if doc.path else doc.title
    report.section("Experiment: Fashion-MNIST symmetry breaking (paper Fig. 1)", 3)
    sampler = fm.spec_init_sampler(doc.network, int(exp.get("shifted_layer", -1)))
    common = dict(normalisation=exp.get("normalisation", "corrected"), init_sampler=sampler,
                  seed=int(exp.get("seed", 0)), data_root=exp.get("data_root"))
    try:
        data = fm.TrainData.load(common["data_root"], common["normalisation"])
    except DatasetNotFoundError:
        report.text(f"**Skipped:** {DATASET_HINT}.")
        return [Check(name, "Fashion-MNIST sweep (one-hot heatmap, one-cold headline)", Frame.EXPERIMENT,
                      "run", "not run", Status.SKIPPED, DATASET_HINT)]
    hot = fm.SweepConfig(mus=tuple(ctx.budget(exp, "mus", fm.PAPER_MUS)), ks=tuple(ctx.budget(exp, "ks", fm.PAPER_KS)),
                         runs=int(ctx.budget(exp, "runs", 10)), epochs=int(ctx.budget(exp, "epochs", 20)),
                         targets="hot", **common)
    cold = fm.SweepConfig(mus=tuple(ctx.budget(exp, "cold_mus", fm.PAPER_MUS)), ks=(10,),
                          runs=int(ctx.budget(exp, "cold_runs", 20)), epochs=int(ctx.budget(exp, "cold_epochs", 20)),
                          targets="cold", **common)
    h, c = _sweep(hot, data, ctx, "hot"), _sweep(cold, data, ctx, "cold")
    report.text(f"One-hot: {hot.n_models} trainings of {hot.epochs} epochs; one-cold (k = 10): {cold.n_models} "
                f"trainings of {cold.epochs} epochs; Adam 1e-3, batch 64, StepLR 0.7, best test accuracy; "
                f"{h.seconds + c.seconds:.0f} s in all. Normalised with Fashion-MNIST's own statistics "
                f"(mean {h.norm_mean:.4f}, std {h.norm_std:.4f}). Per-run accuracies: "
                f"[fashion_mnist_hot.csv](fashion_mnist_hot.csv), [fashion_mnist_cold.csv](fashion_mnist_cold.csv).")
    report.text(h.to_markdown())
    report.image(h.plot_heatmap(report.figure_path("fashion_mnist_heatmap.png")),
                 "One-hot targets: best test accuracy (%, colour; mean over runs) against the read-out mean mu "
                 "(rows) and the number k of output rows given that mean (columns). Breaking the symmetry against "
                 "the targets costs accuracy; the k = 0 column is the control (mu unused).")
    report.text(c.to_markdown())
    report.image(c.plot_line(report.figure_path("fashion_mnist_cold_line.png")),
                 "One-cold targets, k = 10: best test accuracy of every run (grey dots) and the mean with one "
                 "standard error (blue) against the read-out mean mu. A mean aligned with the targets helps "
                 "until the initial outputs overshoot the target level.")
    h.to_csv(report.out_dir / "fashion_mnist_hot.csv", per_run=True)
    c.to_csv(report.out_dir / "fashion_mnist_cold.csv", per_run=True)
    return _checks(name, h, c, float(exp.get("cold_rise_mu", 0.03)))


def _checks(name: str, h, c, rise_mu: float) -> list[Check]:
    mean, se, ks, mus = h.mean(), h.stderr(), list(h.ks), list(h.mus)
    checks = []
    if 0 in ks and len(mus) > 1:
        j = ks.index(0)
        spread = float(mean[:, j].max() - mean[:, j].min())
        noise = float(4 * np.sqrt(2) * np.nanmax(se[:, j]))
        checks.append(Check(name, "one-hot, k = 0 column flat in mu", Frame.EXPERIMENT, "spread < 4·√2 s.e.",
                            f"{spread:.2f} vs {noise:.2f}", spread < noise))
    if 10 in ks and len(mus) > 1:
        j = ks.index(10)
        drop = float(mean[0, j] - mean[-1, j])
        err = float(np.sqrt(se[0, j] ** 2 + se[-1, j] ** 2))
        checks.append(Check(name, f"one-hot, k = 10: accuracy falls from mu = {mus[0]} to {mus[-1]}",
                            Frame.EXPERIMENT, "drop > 4 s.e.", f"{drop:.2f} ± {err:.2f}", drop > 4 * err))
    cm, cs = c.mean()[:, 0], c.stderr()[:, 0]
    cmus = [round(float(m), 6) for m in c.mus]
    if 0.0 in cmus and round(rise_mu, 6) in cmus:
        i0, i1 = cmus.index(0.0), cmus.index(round(rise_mu, 6))
        rise = float(cm[i1] - cm[i0])
        err = float(np.sqrt(cs[i0] ** 2 + cs[i1] ** 2))
        checks.append(Check(name, f"one-cold, k = 10: accuracy rises from mu = 0 to mu = {rise_mu:g} (the headline)",
                            Frame.EXPERIMENT, "rise > 3 s.e.", f"{rise:+.2f} ± {err:.2f} points "
                            f"({cm[i0]:.2f} → {cm[i1]:.2f})", rise > 3 * err))
    else:
        checks.append(Check(name, "one-cold headline", Frame.EXPERIMENT, f"mu = 0 and {rise_mu:g} in the grid",
                            f"grid {cmus}", Status.SKIPPED, "the one-cold grid lacks mu = 0 or the rise point"))
    return checks
