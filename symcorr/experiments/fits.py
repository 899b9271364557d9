r"""Weighted least-squares fits of Monte Carlo estimates: one home for the fits the experiments check.

:func:`weighted_least_squares` fits :math:`y = X\beta` with weights :math:`1/\mathrm{se}^2` and gives the
generalised least-squares covariance :math:`(X^TWX)^{-1}` and :math:`\chi^2`.  On it:

* :func:`fit_inverse_width` -- :math:`y = a/N + b/N^2` (the leading 1/N coefficient ``a`` with a nuisance
  ``b``);
* :func:`fit_power_law` -- :math:`\log|y| = c + s\log N`, with the delta-method weights
  :math:`\mathrm{se}(\log|y|) = \mathrm{se}/|y|`: the exponent ``s`` with its standard error (e.g. -1 for
  a connected four-point function, -2 for a connected six-point function).

Every fit is to the Monte Carlo estimates and their standard errors, never to exact values, so a check on
its result can fail.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SpecError

__all__ = ["weighted_least_squares", "InverseWidthFit", "fit_inverse_width", "PowerLawFit", "fit_power_law"]


def weighted_least_squares(X, y, se) -> tuple[np.ndarray, np.ndarray, float, int]:
    """``(beta, covariance, chi2, degrees of freedom)`` of the fit ``y = X beta`` with weights ``1/se^2``."""
    X, y, se = np.asarray(X, dtype=float), np.asarray(y, dtype=float), np.asarray(se, dtype=float)
    if X.ndim != 2 or y.shape != (X.shape[0],) or se.shape != y.shape or X.shape[0] <= X.shape[1]:
        raise SpecError(f"a fit of {X.shape[1]} parameters needs more than {X.shape[1]} estimates with standard "
                        "errors", "widths")
    if not (np.all(se > 0) and np.all(np.isfinite(se)) and np.all(np.isfinite(y))):
        raise SpecError("the fit needs finite values and positive finite standard errors", "errors")
    W = np.diag(1.0 / se ** 2)
    cov = np.linalg.inv(X.T @ W @ X)
    beta = cov @ X.T @ W @ y
    resid = y - X @ beta
    return beta, cov, float(resid @ W @ resid), X.shape[0] - X.shape[1]


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
    r"""Fit :math:`a/N + b/N^2` to ``values`` at ``widths`` with weights :math:`1/\mathrm{se}^2`."""
    w = np.asarray(widths, dtype=float)
    if w.ndim != 1 or len(w) < 3:
        raise SpecError("the 1/N fit needs at least three widths, each with a value and a standard error", "widths")
    beta, cov, chi2, dof = weighted_least_squares(np.stack([1.0 / w, 1.0 / w ** 2], axis=1), values, errors)
    return InverseWidthFit(float(beta[0]), float(np.sqrt(cov[0, 0])), float(beta[1]), float(np.sqrt(cov[1, 1])),
                           chi2, dof)


@dataclass(frozen=True)
class PowerLawFit:
    r""":math:`\log|y| = c + s\log N`: the exponent ``s`` and its standard error, :math:`\chi^2`, and the
    widths used."""

    exponent: float
    se: float
    chi2: float
    dof: int
    widths: tuple

    def agrees_with(self, exponent: float, tolerance_se: float = 3.0, max_se: float = 0.1) -> bool:
        """``|s - exponent| < tolerance_se * se``, and the fit precise enough to tell (``se < max_se``)."""
        return self.se < max_se and abs(self.exponent - exponent) < tolerance_se * self.se


def fit_power_law(widths, values, errors, *, min_z: float = 3.0) -> PowerLawFit:
    r"""Fit :math:`\log|y| = c + s\log N` to the estimates resolved from zero (:math:`|y| > \mathrm{min\_z}\,
    \mathrm{se}`; at least three), with :math:`\mathrm{se}(\log|y|) = \mathrm{se}/|y|`."""
    w, y, se = (np.asarray(a, dtype=float) for a in (widths, values, errors))
    keep = np.abs(y) > min_z * se
    if keep.sum() < 3:
        raise SpecError(f"fewer than three estimates are resolved from zero at {min_z:g} s.e.; raise the budget",
                        "networks")
    w, y, se = w[keep], y[keep], se[keep]
    beta, cov, chi2, dof = weighted_least_squares(np.stack([np.ones_like(w), np.log(w)], axis=1), np.log(np.abs(y)),
                                                  se / np.abs(y))
    return PowerLawFit(float(beta[1]), float(np.sqrt(cov[1, 1])), chi2, dof, tuple(int(v) for v in w))
