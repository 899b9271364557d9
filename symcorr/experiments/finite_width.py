r"""The finite-width experiment: :math:`N\,G^c_4` against :math:`N` from Monte Carlo, converging to the 1/N
coefficient of the four-point vertex recursion (:mod:`symcorr.deep.finite_width`).

For a deep network whose hidden widths are :math:`n_s = \alpha_s N`, the connected four-point function of
the read-out is :math:`G^c_4(N) = a/N + b/N^2 + O(N^{-3})` with the predicted
:math:`a = \sum_s c_s/\alpha_s` (one term per hidden layer).  At each width the Monte Carlo estimate
comes from sampled networks (``estimate_connected``; the Gaussian read-out integrated out exactly, which
assumes nothing about the prediction), with its standard error; :func:`fit_inverse_width` fits
:math:`a/N + b/N^2` to the estimates by weighted least squares (:math:`b` a nuisance parameter) and gives
:math:`a` with its standard error, which is compared with the prediction -- a check that can fail, and
is shown to reject the vertex recursion without its propagation term.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp
import torch

from ..deep.finite_width import FiniteWidth
from ..errors import SpecError
from ..montecarlo import estimate_connected
from ..rng import child_seed

__all__ = ["InverseWidthFit", "VertexScan", "fit_inverse_width", "run_vertex_scan", "plot_vertex_scan",
           "with_symbolic_widths", "SCAN_HEADERS"]


@dataclass(frozen=True)
class InverseWidthFit:
    r"""The weighted least-squares fit :math:`y = a/N + b/N^2`: coefficients, standard errors, and
    :math:`\chi^2` with its degrees of freedom."""

    a: float
    se_a: float
    b: float
    se_b: float
    chi2: float
    dof: int


def fit_inverse_width(widths, values, errors) -> InverseWidthFit:
    r"""Fit :math:`a/N + b/N^2` to ``values`` at ``widths`` with weights :math:`1/\mathrm{se}^2`; the standard
    errors are those of the generalised least-squares estimator, :math:`(X^TWX)^{-1}`."""
    w = np.asarray(widths, dtype=float)
    y, se = np.asarray(values, dtype=float), np.asarray(errors, dtype=float)
    if w.ndim != 1 or len(w) < 3 or y.shape != w.shape or se.shape != w.shape:
        raise SpecError("the 1/N fit needs at least three widths, each with a value and a standard error", "widths")
    if not (np.all(se > 0) and np.all(np.isfinite(se)) and np.all(np.isfinite(y))):
        raise SpecError("the 1/N fit needs finite values and positive finite standard errors", "errors")
    X = np.stack([1.0 / w, 1.0 / w ** 2], axis=1)
    W = np.diag(1.0 / se ** 2)
    cov = np.linalg.inv(X.T @ W @ X)
    beta = cov @ X.T @ W @ y
    resid = y - X @ beta
    return InverseWidthFit(float(beta[0]), float(np.sqrt(cov[0, 0])), float(beta[1]), float(np.sqrt(cov[1, 1])),
                           float(resid @ W @ resid), len(w) - 2)


@dataclass
class VertexScan:
    """The Monte Carlo estimates at each width, the prediction and the fit (see the module docstring)."""

    slots: tuple
    widths: list
    networks: int
    values: list            # G4c estimates, one per width
    errors: list            # their standard errors
    predicted: float        # a = sum_s c_s / alpha_s
    predicted_error: float  # the recursion's numeric error estimate
    per_layer: list         # c_s / alpha_s
    fit: InverseWidthFit
    wrong: dict = field(default_factory=dict)  # name -> a wrong prediction the fit should reject

    def z(self) -> float:
        """(fitted - predicted) / s.e. of the fit (the prediction's own error is negligible, and added)."""
        return (self.fit.a - self.predicted) / float(np.hypot(self.fit.se_a, self.predicted_error))

    def rows(self) -> list:
        out = []
        for w, v, s in zip(self.widths, self.values, self.errors):
            model = self.fit.a + self.fit.b / w
            out.append([w, self.networks, f"{v:.5f} ± {s:.5f}", f"{w * v:.4f} ± {w * s:.4f}", f"{model:.4f}",
                        f"{(w * v - self.predicted) / (w * s):+.1f}"])
        return out


SCAN_HEADERS = ["N", "networks", "G4c (MC)", "N·G4c (MC)", "fit a + b/N", "(N·G4c − a_pred)/s.e."]


def with_symbolic_widths(network, values: dict):
    """``network`` with ``values`` substituted for every symbol except those of the hidden widths."""
    widths = set().union(*(sp.sympify(layer.width).free_symbols for layer in network.layers[:-1]))
    return network.subs({s: v for s, v in values.items() if s not in widths})


def run_vertex_scan(network, width_symbol, widths, points, slots=(0, 0, 1, 1), *, networks: int = 20000,
                    seed: int = 0, device=None) -> VertexScan:
    r"""Estimate :math:`G^c_4` at ``slots`` (indices into ``points``, output 0) for each width ``N`` in
    ``widths`` (``network`` has concrete laws and hidden widths :math:`\alpha_s` ``width_symbol``; None: the
    one symbol of the hidden widths), predict
    its 1/N coefficient with :class:`~symcorr.deep.finite_width.FiniteWidth` and fit the estimates."""
    fw = FiniteWidth(network)
    if width_symbol is None:
        symbols = set().union(*(w.free_symbols for w in fw.widths))
        width_symbol = symbols.pop() if len(symbols) == 1 else None
    if not isinstance(width_symbol, sp.Symbol):
        raise SpecError(f"the width scan needs hidden widths that are multiples of one symbol N, got "
                        f"{list(fw.widths)}", "network.layers")
    alphas = [sp.simplify(w / width_symbol) for w in fw.widths]
    if any(a.free_symbols or not a.is_positive for a in alphas):
        raise SpecError(f"every hidden width must be a positive multiple of {width_symbol}, got {list(fw.widths)}",
                        "network.layers")
    x = torch.as_tensor(points, dtype=torch.float64)
    values = fw.values(x)
    coeff, err = values.connected(tuple(slots))
    alpha = np.array([float(a) for a in alphas])
    per_layer = coeff[:, 0].numpy() / alpha
    wrong = {"no propagation (the last layer's local term alone)": float(coeff[-1, 0]) / alpha[-1]}
    if len(set(alpha)) > 1:
        wrong["no width ratio n_l/n_(l-1)"] = float(coeff[:, 0].sum()) / alpha[-1]
    estimates, errors = [], []
    entries = torch.tensor([list(slots)])
    for w in widths:
        net = network.subs({width_symbol: int(w)})
        est = estimate_connected(net, x, entries, networks=networks, seed=child_seed(seed, int(w)),
                                 estimator="readout", device=device)
        estimates.append(float(est.mean[0]))
        errors.append(float(est.se[0]))
    fit = fit_inverse_width(widths, estimates, errors)
    return VertexScan(tuple(slots), [int(w) for w in widths], networks, estimates, errors, float(per_layer.sum()),
                      float((err[:, 0].numpy() / alpha).sum()), per_layer.tolist(), fit, wrong)


def plot_vertex_scan(scan: VertexScan, path, title: str = "Connected four-point function at finite width"):
    """N·G4c (Monte Carlo, ±1 s.e.) against N, with the predicted 1/N coefficient and the fitted a + b/N."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = np.array(scan.widths, dtype=float)
    y = w * np.array(scan.values)
    e = w * np.array(scan.errors)
    grid = np.geomspace(w.min() * 0.8, w.max() * 1.25, 200)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.errorbar(w, y, yerr=e, fmt="o", color="tab:blue", capsize=3, label=r"Monte Carlo $N\,G^c_4$ ($\pm1$ s.e.)")
    ax.axhline(scan.predicted, color="black", lw=1.5, label=fr"predicted $a = {scan.predicted:.4f}$ (vertex recursion)")
    ax.plot(grid, scan.fit.a + scan.fit.b / grid, color="tab:orange", ls="--",
            label=fr"fit $a + b/N$: $a = {scan.fit.a:.4f} \pm {scan.fit.se_a:.4f}$")
    for name, value in scan.wrong.items():
        ax.axhline(value, color="tab:red", lw=1, ls=":", label=f"wrong: {name}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel(r"hidden width $N$")
    ax.set_ylabel(r"$N\,G^c_4(x_{i_1},\dots,x_{i_4})$")
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
