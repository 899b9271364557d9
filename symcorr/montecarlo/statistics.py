r"""The statistics of every invariance test: paired z-scores, the rounding floor, p-values, Holm's rule.

Every symcorr invariance test (functions: :func:`symcorr.montecarlo.invariance_test`, the neuron-level
estimator, trained ensembles; kernels: :func:`symcorr.ntk.ntk_invariance_test`) reduces to the same
statistics, written here once:

1. a **paired difference** :math:`\bar D` of a statistic and its transformed copy, estimated on the
   same networks (or neurons), with a standard error :math:`\mathrm{se}(\bar D)`;
2. a **rounding floor** :math:`\epsilon` (:func:`rounding_floor`) added in quadrature,
   :math:`\mathrm{se} = \sqrt{\mathrm{se}(\bar D)^2 + \epsilon^2}` (:func:`floored_se`), so that an
   exactly invariant statistic, whose differences are pure floating-point rounding, is not read as a
   signal;
3. the **z-score** :math:`z = \bar D/\mathrm{se}` (:func:`paired_z`), with :math:`0/0 = 0` (both sides
   identical, no evidence) and :math:`x/0 = \infty` (a deterministic difference);
4. two-sided normal **p-values** :math:`p = \mathrm{erfc}(|z|/\sqrt2)` (:func:`two_sided_p`) and
   **Holm's** step-down adjustment over the whole family (:func:`holm_adjust`);
5. the **decision rule** (:class:`HolmVerdict`): invariance is rejected at family-wise level
   :math:`\alpha` when the smallest Holm-adjusted p-value is :math:`\le\alpha`; a NaN anywhere in the
   statistics makes the test *undecided* (with the reason), never "invariant".
"""

from __future__ import annotations

import math

import torch

from ..verdicts import Expectation

__all__ = ["unit_roundoff", "rounding_floor", "floored_se", "paired_z", "two_sided_p", "holm_adjust",
           "HolmVerdict", "ROUNDING_FLOOR_FACTOR"]

#: the constant ``c`` of the rounding floor :math:`\epsilon = c\,n\,u\,\mathrm{scale}` (see
#: :func:`rounding_floor`)
ROUNDING_FLOOR_FACTOR = 32


def unit_roundoff(dtype: torch.dtype) -> float:
    r"""The unit round-off :math:`u = \mathrm{eps}/2` of a floating dtype (:math:`2^{-53}` for float64,
    :math:`2^{-24}` for float32): the largest relative error of one correctly rounded operation."""
    return torch.finfo(dtype).eps / 2


def rounding_floor(order: int, scale, dtype: torch.dtype) -> torch.Tensor:
    r"""The floating-point floor of a paired difference of order ``order``:

    .. math:: \epsilon = 32\,n\,u\,\mathrm{scale},

    with :math:`n` the order (number of factors of each product, or of each term of a polynomial),
    :math:`u` the unit round-off of ``dtype`` (:func:`unit_roundoff`; the dtype in which the two sides
    were computed) and ``scale`` the magnitude of the products or terms that were summed (a tensor; the
    caller chooses it and documents it: e.g. the largest root-mean-square product over the entries, or
    the value of a polynomial with every term replaced by its absolute value).

    Why.  Under an exact symmetry the two sides of a paired difference agree in exact arithmetic, but
    not in floating point: the action (:math:`\rho f`, :math:`Rx`, :math:`\rho U\rho^T`) rounds each
    factor with a relative error of a few :math:`u` *relative to the components it mixes*, and a
    product of :math:`n` factors carries :math:`n` such errors
    (:math:`|\mathrm{fl}(\prod_i a_i) - \prod_i a_i| \lesssim n\,k\,u\,\prod_i|a_i|` for factors with
    relative error :math:`k u`).  So the rounding in a difference is bounded by :math:`n\,k\,u` times
    the magnitude of what was summed, not by the (possibly zero) value of the difference.  Without a
    floor, an exactly invariant statistic whose sample variance is itself rounding can get an arbitrary
    z-score (an exactly isotropic read-out gave :math:`z = 362` from :math:`3\times10^{-16}`
    differences).  The factor 32 covers a few roundings per factor (the action, the re-evaluated forward
    pass, the product, the accumulation) with a margin, so that pure rounding gives :math:`|z| \ll 1`;
    in float64 the floor is :math:`7\times10^{-15}\,n` relative to ``scale``, far below any statistical
    error reachable by Monte Carlo, so it costs no power.
    """
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"order must be a positive integer, got {order!r}")
    return ROUNDING_FLOOR_FACTOR * order * unit_roundoff(dtype) * torch.as_tensor(scale)


def floored_se(se: torch.Tensor, floor) -> torch.Tensor:
    r"""The standard error with the rounding floor in quadrature, :math:`\sqrt{\mathrm{se}^2 + \epsilon^2}`
    (``floor`` broadcasts against ``se``)."""
    return torch.sqrt(se * se + torch.as_tensor(floor, dtype=se.dtype, device=se.device) ** 2)


def paired_z(difference: torch.Tensor, se: torch.Tensor) -> torch.Tensor:
    r"""The z-score :math:`z = \bar D/\mathrm{se}` of paired differences, elementwise.

    ``se = 0``: :math:`z = 0` when :math:`\bar D = 0` (both sides identical: no evidence against the
    null) and :math:`z = +\infty` otherwise (a difference without noise: certainly broken).  A NaN in
    ``difference`` or ``se`` gives :math:`z = \mathrm{NaN}` (never a finite or infinite z that would
    decide), so that :class:`HolmVerdict` reports the test as undecided."""
    difference = torch.as_tensor(difference)
    se = torch.as_tensor(se, dtype=difference.dtype, device=difference.device)
    positive = se > 0
    z = torch.where(positive, difference / torch.where(positive, se, torch.ones_like(se)),
                    torch.where(difference == 0, torch.zeros_like(difference),
                                torch.full_like(difference, math.inf)))
    nan = torch.isnan(difference) | torch.isnan(se)
    return torch.where(nan, torch.full_like(z, math.nan), z)


def two_sided_p(z: torch.Tensor) -> torch.Tensor:
    r"""Two-sided normal p-values :math:`\mathrm{erfc}(|z|/\sqrt2)` (NaN stays NaN)."""
    return torch.special.erfc(torch.as_tensor(z).abs() / math.sqrt(2.0))


def holm_adjust(p: torch.Tensor) -> torch.Tensor:
    r"""Holm-Bonferroni adjusted p-values (same order as ``p``, float64):
    :math:`\tilde p_{(i)} = \max_{j \le i} \min(1, (m - j + 1)\,p_{(j)})` with the ``m`` p-values sorted
    increasingly.  Valid under any dependence between the tests.

    A NaN p-value (an undefined statistic) stays NaN; it still counts in ``m`` and is ranked last, so
    the other adjusted values are those of a family in which it had :math:`p = 1` (conservative)."""
    p = torch.as_tensor(p, dtype=torch.float64).reshape(-1)
    m = p.numel()
    if m == 0:
        return p.clone()
    nan = torch.isnan(p)
    order = torch.argsort(torch.where(nan, torch.full_like(p, math.inf), p), stable=True)
    factors = torch.arange(m, 0, -1, dtype=torch.float64)
    ranked = torch.where(nan[order], torch.ones_like(p), p[order])
    adj = torch.cummax((ranked * factors).clamp(max=1.0), dim=0).values
    out = torch.empty_like(adj)
    out[order] = adj
    return torch.where(nan, torch.full_like(out, math.nan), out)


class HolmVerdict:
    r"""The decision rule shared by invariance-test results.

    A subclass provides ``alpha`` (the family-wise level), ``p_value`` (the smallest Holm-adjusted
    p-value), ``statistic`` (the largest :math:`|z|`) and :meth:`z_scores` (all z-scores, flat).  Then

    * ``verdict`` is :attr:`Expectation.UNDECIDED` when a z-score or the p-value is NaN (a NaN in an
      estimate: overflow, an undefined moment), with the reason in :attr:`reason`;
    * otherwise :attr:`Expectation.BROKEN` when ``p_value <= alpha`` (invariance rejected), else
      :attr:`Expectation.INVARIANT` (consistent with invariance at this sample size; not a proof).
    """

    def z_scores(self) -> torch.Tensor:
        """All z-scores of the family, flat."""
        raise NotImplementedError

    @property
    def undecided_tests(self) -> int:
        """How many z-scores are NaN."""
        z = self.z_scores()
        return int(torch.isnan(z).sum()) if z.numel() else 0

    @property
    def reason(self) -> str | None:
        """Why the test could not decide (``None`` when it decided)."""
        bad = self.undecided_tests
        if bad == 0 and not (math.isnan(self.p_value) or math.isnan(self.statistic)):
            return None
        total = int(self.z_scores().numel())
        return (f"{bad} of {total} z-scores are NaN (a NaN in an estimate: overflow or an undefined "
                "moment), so the family-wise p-value is undefined; no verdict")

    @property
    def decided(self) -> bool:
        return self.reason is None

    @property
    def rejected(self) -> bool:
        """Invariance rejected at level ``alpha`` (family-wise, Holm); False when undecided."""
        return self.decided and self.p_value <= self.alpha

    @property
    def invariant(self) -> bool:
        """Decided and not rejected (the data are consistent with invariance)."""
        return self.decided and not self.p_value <= self.alpha

    @property
    def verdict(self) -> Expectation:
        """:attr:`Expectation.BROKEN` (rejected), :attr:`Expectation.INVARIANT` (not rejected) or
        :attr:`Expectation.UNDECIDED` (a NaN statistic; see :attr:`reason`)."""
        if not self.decided:
            return Expectation.UNDECIDED
        return Expectation.BROKEN if self.p_value <= self.alpha else Expectation.INVARIANT

    def verdict_text(self) -> str:
        """The verdict, with the reason when undecided (for summaries)."""
        reason = self.reason
        return str(self.verdict) if reason is None else f"{self.verdict} ({reason})"

    def __bool__(self):
        return self.invariant
