r"""Results of a Fashion-MNIST sweep: :class:`SweepResult` (statistics over runs, tables, figures,
``.npz`` persistence) and the Student-t quantile its confidence intervals use."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import SpecError
from .config import SweepConfig

__all__ = ["SweepResult", "t_quantile_975"]


_T975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010, 2.1788,
         2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687, 2.0639,
         2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)


def t_quantile_975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (table to 30, then the
    Cornish-Fisher expansion, error < 1e-4)."""
    if df < 1:
        return float("nan")
    if df <= 30:
        return _T975[df - 1]
    z = 1.959963984540054
    return (z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3))


@dataclass
class SweepResult:
    """Per-run accuracies of a sweep.

    ``test_acc``: ``(n_mu, n_k, runs, epochs)`` test accuracy (percent) after each epoch;
    ``train_loss``: same shape, epoch-mean training MSE.  Derived: :attr:`max_acc` (the paper's
    quantity, max over epochs), :meth:`mean`, :meth:`stderr` (sample std / sqrt(runs)),
    :meth:`ci95` (mean +- t_{0.975, runs-1} s.e.).
    """

    config: SweepConfig
    mus: np.ndarray
    ks: np.ndarray
    test_acc: np.ndarray
    train_loss: np.ndarray
    seconds: float = float("nan")
    norm_mean: float = float("nan")
    norm_std: float = float("nan")

    @property
    def runs(self) -> int:
        return self.test_acc.shape[2]

    @property
    def max_acc(self) -> np.ndarray:
        """``(n_mu, n_k, runs)``: each training's maximum test accuracy over the epochs (percent)."""
        return self.test_acc.max(axis=-1)

    @property
    def best_epoch(self) -> np.ndarray:
        """``(n_mu, n_k, runs)``: the (1-based) epoch at which that maximum was first reached."""
        return self.test_acc.argmax(axis=-1) + 1

    def mean(self) -> np.ndarray:
        """``(n_mu, n_k)`` mean over runs of the max accuracy."""
        return self.max_acc.mean(axis=-1)

    def stderr(self) -> np.ndarray:
        """``(n_mu, n_k)`` standard error of that mean (NaN with a single run)."""
        if self.runs < 2:
            return np.full(self.max_acc.shape[:2], np.nan)
        return self.max_acc.std(axis=-1, ddof=1) / math.sqrt(self.runs)

    def ci95(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper 95 % confidence limits of the mean (Student t)."""
        half = t_quantile_975(self.runs - 1) * self.stderr()
        return self.mean() - half, self.mean() + half

    # tables --------------------------------------------------------------------------------------
    def rows(self) -> list[dict]:
        """One dict per (mu, k) cell."""
        mean, se = self.mean(), self.stderr()
        lo, hi = self.ci95()
        be = self.best_epoch.mean(axis=-1)
        out = []
        for i, mu in enumerate(self.mus):
            for j, k in enumerate(self.ks):
                out.append(dict(targets=self.config.targets, mu=float(mu), k=int(k), runs=self.runs,
                                mean_max_acc=float(mean[i, j]), stderr=float(se[i, j]),
                                ci95_low=float(lo[i, j]), ci95_high=float(hi[i, j]),
                                mean_best_epoch=float(be[i, j])))
        return out

    def to_csv(self, path, per_run: bool = False) -> Path:
        """Write the per-cell table, or with ``per_run`` one row per training (its max accuracy, best
        epoch and accuracy after every epoch)."""
        path = Path(path)
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            if not per_run:
                rows = self.rows()
                w.writerow(list(rows[0]))
                for r in rows:
                    w.writerow([f"{v:.6g}" if isinstance(v, float) else v for v in r.values()])
            else:
                E = self.test_acc.shape[-1]
                w.writerow(["targets", "mu", "k", "run", "max_acc", "best_epoch"]
                           + [f"acc_epoch_{e + 1}" for e in range(E)])
                for i, mu in enumerate(self.mus):
                    for j, k in enumerate(self.ks):
                        for r in range(self.runs):
                            w.writerow([self.config.targets, f"{mu:.6g}", int(k), r,
                                        f"{self.max_acc[i, j, r]:.4f}", int(self.best_epoch[i, j, r])]
                                       + [f"{a:.4f}" for a in self.test_acc[i, j, r]])
        return path

    def to_markdown(self, path=None, digits: int = 2) -> str:
        """A mu x k table of "mean ± s.e." (rows mu growing downward as in a table); optionally written."""
        mean, se = self.mean(), self.stderr()
        head = "| μ \\ k | " + " | ".join(str(int(k)) for k in self.ks) + " |"
        lines = [f"Max test accuracy (%), targets={self.config.targets}, mean ± s.e. over "
                 f"{self.runs} run(s), {self.test_acc.shape[-1]} epochs", "",
                 head, "|" + "---|" * (len(self.ks) + 1)]
        for i, mu in enumerate(self.mus):
            cells = [f"{mean[i, j]:.{digits}f}" + ("" if np.isnan(se[i, j]) else f" ± {se[i, j]:.{digits}f}")
                     for j in range(len(self.ks))]
            lines.append(f"| {mu:.2f} | " + " | ".join(cells) + " |")
        text = "\n".join(lines) + "\n"
        if path is not None:
            Path(path).write_text(text)
        return text

    # figures -------------------------------------------------------------------------------------
    def plot_heatmap(self, path, *, cmap: str = "viridis", annotate: bool = False) -> Path:
        """Heatmap of the mean max accuracy: rows mu (growing upward), columns k (Agg backend)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        mean = self.mean()
        fig = Figure(figsize=(1.2 + 0.9 * len(self.ks), 1.4 + 0.3 * len(self.mus)))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        im = ax.imshow(mean, origin="lower", aspect="auto", cmap=cmap, interpolation="nearest")
        ax.set_xticks(range(len(self.ks)), [str(int(k)) for k in self.ks])
        ax.set_yticks(range(len(self.mus)), [f"{m:.2f}" for m in self.mus])
        ax.set_xlabel("k (number of output rows of $W^1$ with mean $\\mu$)")
        ax.set_ylabel(r"read-out weight mean $\mu_{W^1}$")
        ax.set_title("Accuracy vs. Symmetry Breaking")
        fig.colorbar(im, ax=ax, label="Max test accuracy (%)")
        if annotate:
            for i in range(len(self.mus)):
                for j in range(len(self.ks)):
                    ax.text(j, i, f"{mean[i, j]:.1f}", ha="center", va="center", fontsize=6, color="w")
        fig.tight_layout()
        fig.savefig(path, dpi=150)
        return Path(path)

    def plot_line(self, path, k: int | None = None, *, title: str | None = None) -> Path:
        """The best test accuracy of every run (grey dots, slightly spread in mu) and the mean with one
        standard error over runs (blue) against mu, for one k (default: the largest in the grid)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        k = int(self.ks.max()) if k is None else int(k)
        if k not in self.ks.tolist():
            raise SpecError(f"k = {k} is not in the sweep's grid {self.ks.tolist()}", "k")
        j = self.ks.tolist().index(k)
        best = self.test_acc.max(axis=-1)[:, j, :]  # (mu, run)
        mean, se = self.mean()[:, j], self.stderr()[:, j]
        fig = Figure(figsize=(6, 4))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        step = float(np.min(np.diff(self.mus))) if len(self.mus) > 1 else 0.01
        offsets = (np.arange(self.runs) - (self.runs - 1) / 2) * (0.3 * step / max(self.runs, 1))
        for i, mu in enumerate(self.mus):
            ax.plot(mu + offsets, best[i], ".", color="0.6", ms=3, label="one run" if i == 0 else None)
        ax.errorbar(self.mus, mean, yerr=None if self.runs < 2 else se, marker="o", ms=4, color="C0", capsize=3,
                    label=f"mean ± 1 s.e. of {self.runs} runs (k = {k})")
        default = ("One-cold" if self.config.targets == "cold" else "One-hot") + " accuracy vs. initial read-out mean"
        ax.set_title(title or default)
        ax.set_xlabel(r"read-out weight mean $\mu_{W^1}$ (on %d rows)" % k)
        ax.set_ylabel("best test accuracy over epochs (%)")
        ax.legend(loc="best", fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=150)
        return Path(path)

    # persistence ---------------------------------------------------------------------------------
    def save_npz(self, path) -> Path:
        """Save arrays and config (JSON) to ``path`` (.npz)."""
        np.savez_compressed(path, mus=self.mus, ks=self.ks, test_acc=self.test_acc,
                            train_loss=self.train_loss, seconds=self.seconds, norm_mean=self.norm_mean,
                            norm_std=self.norm_std, config=json.dumps(self.config.to_dict()))
        return Path(path)

    @classmethod
    def load_npz(cls, path) -> "SweepResult":
        with np.load(path, allow_pickle=False) as z:
            cfg = json.loads(str(z["config"]))
            return cls(config=SweepConfig(**cfg), mus=z["mus"], ks=z["ks"], test_acc=z["test_acc"],
                       train_loss=z["train_loss"], seconds=float(z["seconds"]),
                       norm_mean=float(z["norm_mean"]), norm_std=float(z["norm_std"]))
