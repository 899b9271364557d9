"""Tests of symcorr.montecarlo.statistics: Holm's adjustment by hand, the paired z-score's edge cases, the
rounding floor's formula and purpose, and the decision rule (a NaN statistic is undecided, never
invariant)."""

import math
from dataclasses import dataclass

import pytest
import torch

from symcorr.groups import SpecialOrthogonal
from symcorr.montecarlo import HolmVerdict, floored_se, holm_adjust, paired_z, rounding_floor, two_sided_p
from symcorr.montecarlo.statistics import ROUNDING_FLOOR_FACTOR, unit_roundoff
from symcorr.rng import make_generator
from symcorr.verdicts import Expectation


# ----------------------------------------------------------------------------------------------------
# p-values and Holm
# ----------------------------------------------------------------------------------------------------
def test_holm_adjustment_by_hand():
    p = torch.tensor([0.01, 0.04, 0.03, 0.005])
    # sorted 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, max(0.04*1, 0.06) = 0.06
    assert holm_adjust(p).tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm_adjust(torch.tensor([0.9, 0.8])).tolist() == pytest.approx([1.0, 1.0])
    assert float(two_sided_p(torch.tensor(1.959964))) == pytest.approx(0.05, abs=1e-6)


def test_holm_adjustment_second_hand_computation_with_ties_and_the_step_down_maximum():
    p = torch.tensor([0.002, 0.02, 0.002, 0.5, 0.011], dtype=torch.float64)
    # sorted: 0.002*5 = 0.01, 0.002*4 = 0.008 -> max 0.01, 0.011*3 = 0.033, 0.02*2 = 0.04, 0.5*1 -> 0.5
    assert holm_adjust(p).tolist() == pytest.approx([0.01, 0.04, 0.01, 0.5, 0.033])
    assert holm_adjust(torch.tensor([])).numel() == 0
    # Holm is never smaller than the raw p-value and never larger than Bonferroni
    q = torch.rand(50, generator=torch.Generator().manual_seed(0), dtype=torch.float64) ** 3
    adj = holm_adjust(q)
    assert bool((adj >= q).all()) and bool((adj <= (50 * q).clamp(max=1)).all())


def test_holm_keeps_a_nan_p_value_nan_and_counts_it_in_the_family():
    p = torch.tensor([0.01, math.nan, 0.03], dtype=torch.float64)
    adj = holm_adjust(p)
    assert math.isnan(float(adj[1]))
    # the others as if the NaN had p = 1 (m = 3): 0.01*3 = 0.03, 0.03*2 = 0.06
    assert [float(adj[0]), float(adj[2])] == pytest.approx([0.03, 0.06])
    assert math.isnan(float(two_sided_p(torch.tensor(math.nan))))


# ----------------------------------------------------------------------------------------------------
# the paired z-score
# ----------------------------------------------------------------------------------------------------
def test_paired_z_edge_cases():
    d = torch.tensor([1.0, -3.0, 0.0, 2.0, -2.0, math.nan, 1.0, math.nan], dtype=torch.float64)
    se = torch.tensor([0.5, 1.5, 0.0, 0.0, 0.0, 1.0, math.nan, 0.0], dtype=torch.float64)
    z = paired_z(d, se)
    assert z[:2].tolist() == [2.0, -2.0]            # D / se
    assert float(z[2]) == 0.0                       # 0 / 0: identical sides, no evidence
    assert float(z[3]) == math.inf and float(z[4]) == math.inf   # x / 0: a difference without noise
    assert all(math.isnan(float(v)) for v in z[5:])  # NaN in either stays NaN (never decides)
    assert float(two_sided_p(z[3])) == 0.0 and float(two_sided_p(z[2])) == 1.0


def test_floored_se_adds_in_quadrature():
    se = torch.tensor([3.0, 0.0], dtype=torch.float64)
    assert floored_se(se, 4.0).tolist() == [5.0, 4.0]
    assert floored_se(se, torch.tensor([[0.0], [1.0]], dtype=torch.float64)).tolist() == [[3.0, 0.0],
                                                                                           [math.sqrt(10), 1.0]]


# ----------------------------------------------------------------------------------------------------
# the rounding floor
# ----------------------------------------------------------------------------------------------------
def test_rounding_floor_formula():
    assert ROUNDING_FLOOR_FACTOR == 32
    assert unit_roundoff(torch.float64) == 2.0 ** -53 and unit_roundoff(torch.float32) == 2.0 ** -24
    assert float(rounding_floor(3, 2.5, torch.float64)) == 32 * 3 * 2.0 ** -53 * 2.5
    scale = torch.tensor([1.0, 4.0], dtype=torch.float64)
    assert rounding_floor(2, scale, torch.float32).tolist() == [32 * 2 * 2.0 ** -24, 32 * 2 * 2.0 ** -24 * 4]
    with pytest.raises(ValueError, match="order"):
        rounding_floor(0, 1.0, torch.float64)


def test_rounding_floor_keeps_an_exactly_invariant_statistic_quiet_and_is_needed():
    """The read-out situation the floor was introduced for: per network the difference is
    (I - rho rho^T)_01 K_m, exactly 0 in exact arithmetic but a rounding constant c ~ 1e-17 times a
    positive K_m.  Its sample s.e. is itself rounding, so without the floor |z| ~ sqrt(M) (a false
    signal); with the floor (scale: the RMS of the summed products K_m) |z| << 1."""
    rho = SpecialOrthogonal(3).sample(1, make_generator(0))[0]
    c = float((torch.eye(3, dtype=torch.float64) - rho @ rho.T)[0, 1])
    assert c != 0.0  # the rounding exists (else this test could not fail)
    k = 1.0 + torch.rand(4000, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    d = c * k
    raw_se = d.std() / math.sqrt(len(d))
    assert abs(float(paired_z(d.mean(), raw_se))) > 10          # without the floor: "broken"
    floor = rounding_floor(2, torch.sqrt((k * k).mean()), torch.float64)
    assert abs(float(paired_z(d.mean(), floored_se(raw_se, floor)))) < 0.1


def test_rounding_floor_costs_no_power():
    """A real difference of 1e-6 relative to the scale, with s.e. 1e-7, is still a 10-sigma signal."""
    floor = rounding_floor(4, 1.0, torch.float64)
    z = paired_z(torch.tensor(1e-6, dtype=torch.float64), floored_se(torch.tensor(1e-7, dtype=torch.float64), floor))
    assert float(z) == pytest.approx(10.0, rel=1e-6)


# ----------------------------------------------------------------------------------------------------
# the decision rule
# ----------------------------------------------------------------------------------------------------
@dataclass
class _Family(HolmVerdict):
    """A minimal family of tests: z-scores, Holm-adjusted p-values, level alpha."""

    z: torch.Tensor
    alpha: float = 0.01

    def z_scores(self):
        return self.z

    @property
    def statistic(self):
        return float(self.z.abs().max())

    @property
    def p_value(self):
        return float(holm_adjust(two_sided_p(self.z)).min())


def test_verdicts_are_expectation_members():
    quiet = _Family(torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64))
    loud = _Family(torch.tensor([0.5, -6.0, 2.0], dtype=torch.float64))
    assert quiet.verdict is Expectation.INVARIANT and quiet.verdict == "invariant" and bool(quiet)
    assert loud.verdict is Expectation.BROKEN and f"{loud.verdict}" == "broken" and loud.rejected
    assert quiet.reason is None and quiet.decided and quiet.verdict_text() == "invariant"
    # around the boundary: three tests, the largest |z| at Holm p = 3 * erfc(|z|/sqrt 2) = alpha (1 +- 1e-3)
    for factor, verdict in ((1.001, Expectation.INVARIANT), (0.999, Expectation.BROKEN)):
        z = float(torch.special.ndtri(torch.tensor(1 - factor * 0.01 / 6, dtype=torch.float64)))
        edge = _Family(torch.tensor([z, 0.0, 0.0], dtype=torch.float64))
        assert edge.p_value == pytest.approx(factor * 0.01, rel=1e-6) and edge.verdict is verdict


@pytest.mark.parametrize("z", [[0.5, math.nan, 0.2], [math.nan], [8.0, math.nan]])
def test_a_nan_statistic_is_undecided_never_invariant(z):
    """The bug this rule fixes: a NaN p-value compares False with alpha, so "not rejected" used to read
    as "invariant".  Now any NaN z-score makes the family undecided, with the reason."""
    fam = _Family(torch.tensor(z, dtype=torch.float64))
    assert math.isnan(fam.p_value)                   # the situation that used to say "invariant"
    assert fam.verdict is Expectation.UNDECIDED and fam.verdict != Expectation.INVARIANT
    assert not fam.invariant and not fam.rejected and not bool(fam) and not fam.decided
    assert fam.undecided_tests == sum(math.isnan(v) for v in z)
    assert "NaN" in fam.reason and fam.reason in fam.verdict_text()
