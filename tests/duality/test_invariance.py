"""Law checks: the status and the typed reason with its facts (the text is written by render)."""

import sympy as sp

from symcorr import Laplace, Normal, Uniform, size_symbol, zoo
from symcorr.duality.invariance import (LawReason, MeanPart, Multiplication, block_invariance, shear_invariance)
from symcorr.groups import Orthogonal, Permutations, SignedPermutations, SpecialOrthogonal, Translations
from symcorr.verdicts import StepStatus

N, D = size_symbol("N"), size_symbol("D")
HALF = sp.Rational(1, 2)


def test_iid_zero_mean_gaussian_reduces_the_trace_form_for_a_symbolic_dimension():
    check = block_invariance(zoo.erf_net(D, N, 1).weight(0), SpecialOrthogonal(D), Multiplication.RIGHT, "R")
    assert check.status is True and check.reason is LawReason.TRACE_FORM and check.trace.reduced
    first, last = check.trace.words[0], check.trace.words[-1]
    assert len(first) == 4 and len(last) == 2          # tr(R^T W^T W R) -> tr(W^T W)
    assert check.step_status is StepStatus.ESTABLISHED and check.witness is None


def test_a_symbolic_mean_is_open_with_a_witness():
    mu = sp.Symbol("mu", real=True)
    block = zoo.erf_net(2, N, 1).replace_layer(0, weight=Normal(mu, HALF)).weight(0)
    check = block_invariance(block, SpecialOrthogonal(2), "right", "R")
    assert check.status is None and check.reason is LawReason.MEAN_MOVED_UNLESS_ZERO
    assert check.witness is not None and check.step_status is StepStatus.OPEN
    assert block_invariance(block, Permutations(2), "right", "P").reason is LawReason.MEAN_FIXED


def test_a_structured_gaussian_lists_what_each_element_must_fix():
    net = zoo.relu_net(2, 3, 3).replace_layer(1, bias=Normal([1, 0, 0], 1))
    check = block_invariance(net.bias(1), SpecialOrthogonal(3), Multiplication.LEFT, "\\rho ")
    assert check.status is False and check.reason is LawReason.STRUCTURED_GAUSSIAN
    (mean,) = check.means
    assert mean.part is MeanPart.VECTOR and mean.fixed is False and mean.name == "the mean vector"
    assert check.witness.statement == "the mean vector is moved"
    aniso = zoo.erf_net(3, 4, 1).replace_layer(0, weight=Normal(0, 1, col_cov=[[2, 0, 0], [0, 1, 0], [0, 0, 1]]))
    cov = block_invariance(aniso.weight(0), SpecialOrthogonal(3), "right", "R")
    assert cov.status is False and cov.covariance.name == "V" and cov.covariance.commutes is False


def test_iid_non_gaussian_laws():
    block = zoo.erf_net(2, 3, 1).replace_layer(0, weight=Laplace(0, 1)).weight(0)
    assert block_invariance(block, SignedPermutations(2), "right", "P").reason is LawReason.PRODUCT_SIGNED_PERMUTATIONS
    rot = block_invariance(block, SpecialOrthogonal(2), "right", "R")
    assert rot.status is False and rot.reason is LawReason.PRODUCT_ROTATION_CUMULANT
    assert rot.witness.before == 12 and rot.witness.after == sp.Rational(337 * 12, 625)
    skew = zoo.erf_net(2, 3, 1).replace_layer(0, weight=Uniform(0, 1)).weight(0)
    assert block_invariance(skew, SignedPermutations(2), "right", "P").reason is LawReason.PRODUCT_NOT_SYMMETRIC
    assert block_invariance(skew, Permutations(2), "right", "P").reason is LawReason.PRODUCT_PERMUTATIONS
    assert block_invariance(skew, Orthogonal(1), "right", "R").reason is LawReason.PRODUCT_NOT_SYMMETRIC  # x -> -x
    assert block_invariance(skew, SpecialOrthogonal(1), "right", "R").reason is LawReason.TRIVIAL_GROUP


def test_translations():
    ok = shear_invariance(zoo.cos_net(2, N, 1), Translations(2))
    assert ok.status is True and ok.reason is LawReason.UNIFORM_PHASE and ok.period == 2 * sp.pi
    partial = shear_invariance(zoo.cos_net(2, 3, 1, phase=Uniform(0, 3)), Translations(2))
    assert partial.reason is LawReason.PHASE_NOT_PERIODIC and partial.witness is not None
    line = shear_invariance(zoo.erf_net(2, 3, 1), Translations(2))
    assert line.status is False and line.reason is LawReason.SHIFT_ON_THE_LINE
    # Var(b0_1) = 1 grows by c^2 Var(W0_11) = (1/4)(1/2)
    assert line.witness.before == 1 and line.witness.after == sp.Rational(9, 8)


# --- the laws of torch's initialisers --------------------------------------------------------------
def test_haar_orthogonal_blocks_are_invariant_on_both_sides_for_every_orthogonal_group():
    from symcorr import Dense, Network
    from symcorr.distributions import HaarOrthogonal
    from symcorr.groups import Stabilizer

    net = Network(D, [Dense(N, "tanh", weight=HaarOrthogonal(2)), Dense(3, weight=HaarOrthogonal(1))])
    for group in (SpecialOrthogonal(D), Orthogonal(D), Permutations(D), SignedPermutations(D)):
        check = block_invariance(net.weight(0), group, Multiplication.RIGHT, "R")
        assert check.status is True and check.reason is LawReason.HAAR_ORTHOGONAL and check.symbolic_dimension
    for group in (SpecialOrthogonal(3), Orthogonal(3), Stabilizer(SpecialOrthogonal(3), [1, 1, 0])):
        check = block_invariance(net.weight(1), group, Multiplication.LEFT, "\\rho ")
        assert check.status is True and check.reason is LawReason.HAAR_ORTHOGONAL and not check.symbolic_dimension


def test_torch_default_uniform_law_gives_only_signed_permutations():
    """The iid uniform law of nn.Linear's default: invariant under B(D), refuted under SO(D) by the fourth
    cumulant of a mixed entry (-2/15 a^4 for U[-a, a], a = 1/sqrt(D))."""
    import torch.nn as nn

    from symcorr import Network

    net = Network.from_torch(nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 1)))
    w0 = net.weight(0)
    assert block_invariance(w0, SignedPermutations(2), "right", "P").reason is LawReason.PRODUCT_SIGNED_PERMUTATIONS
    rot = block_invariance(w0, SpecialOrthogonal(2), "right", "R")
    assert rot.status is False and rot.reason is LawReason.PRODUCT_ROTATION_CUMULANT
    kappa4 = -sp.Rational(2, 15) * (1 / sp.sqrt(2)) ** 4
    assert sp.simplify(rot.witness.before - kappa4) == 0
    assert sp.simplify(rot.witness.after - sp.Rational(337, 625) * kappa4) == 0


def test_a_point_mass_at_zero_is_invariant_under_every_linear_map_and_a_constant_is_not():
    from symcorr.distributions import PointMass

    zero = zoo.erf_net(2, 3, 1).replace_layer(0, weight=PointMass(0)).weight(0)
    for group in (SpecialOrthogonal(2), SignedPermutations(2)):
        assert block_invariance(zero, group, "right", "R").reason is LawReason.POINT_MASS_ZERO
    const = zoo.erf_net(2, 3, 1).replace_layer(0, weight=PointMass(HALF)).weight(0)
    assert block_invariance(const, Permutations(2), "right", "P").reason is LawReason.PRODUCT_PERMUTATIONS
    moved = block_invariance(const, SpecialOrthogonal(2), "right", "R")
    assert moved.status is False and moved.witness is not None
    assert block_invariance(const, SignedPermutations(2), "right", "P").reason is LawReason.PRODUCT_NOT_SYMMETRIC


def test_the_shear_reads_the_entry_variance_of_a_haar_block():
    from symcorr import Dense, Network
    from symcorr.distributions import HaarOrthogonal

    net = Network(2, [Dense(4, "tanh", weight=HaarOrthogonal(3), bias=Normal(0, 1)), Dense(1)])
    check = shear_invariance(net, Translations(2))
    assert check.status is False and check.reason is LawReason.SHIFT_ON_THE_LINE
    assert check.witness.after - check.witness.before == HALF ** 2 * 9 / 4   # c^2 gain^2 / max(4, 2)


# ----------------------------------------------------------------------------------------------------
# the checks of the other parameter maps
# ----------------------------------------------------------------------------------------------------
from symcorr import Dense, Network  # noqa: E402
from symcorr.duality.invariance import two_sided_invariance  # noqa: E402
from symcorr.groups import Parity, SignFlips  # noqa: E402


def test_half_period_phase_is_invariant_iff_the_next_weight_is_column_sign_symmetric():
    net = zoo.cos_net(2, N, 1, phase=Uniform(0, sp.pi))
    check = shear_invariance(net, Translations(2))
    assert check.status is True and check.reason is LawReason.HALF_PERIOD_PHASE and check.gauge_block == "W1"
    moved = zoo.cos_net(2, N, 1, phase=Uniform(0, sp.pi), readout_mean=sp.Rational(1, 2))
    bad = shear_invariance(moved, Translations(2))
    assert bad.status is False and bad.witness is not None
    # the full period is still the plain uniform-phase argument
    assert shear_invariance(zoo.cos_net(2, N, 1), Translations(2)).reason is LawReason.UNIFORM_PHASE


def test_parity_of_a_structured_gaussian_is_decided_in_any_dimension():
    zero = Network(2, [Dense(N, "erf", weight=Normal(0, 1, col_cov=[[2, 0], [0, 1]])), Dense(1)])
    check = block_invariance(zero.weight(0), Parity(N), Multiplication.LEFT)
    assert check.status is True and check.reason is LawReason.PARITY_MEAN
    mean = Network(2, [Dense(2, "erf", weight=Normal([[1, 0], [0, 0]], 1, col_cov=[[2, 0], [0, 1]])), Dense(1)])
    assert block_invariance(mean.weight(0), Parity(2), Multiplication.LEFT).status is False
    flips = block_invariance(zero.weight(0), SignFlips(2), Multiplication.RIGHT)
    assert flips.status is True   # diagonal col_cov: invariant under sign flips of the columns
    corr = Network(2, [Dense(N, "erf", weight=Normal(0, 1, col_cov=[[2, 1], [1, 1]])), Dense(1)])
    assert block_invariance(corr.weight(0), SignFlips(2), Multiplication.RIGHT).status is False


def test_two_sided_gaussian_invariance():
    swap = sp.Matrix([[0, 1], [1, 0]])
    w = Network(2, [Dense(2, "erf"), Dense(2, weight=Normal([[1, 0], [0, 1]], 1))]).weight(1)
    assert two_sided_invariance(w, swap, swap).status is True           # swap M swap = M
    assert two_sided_invariance(w, swap, sp.eye(2)).status is False     # swap M != M
    v = Network(2, [Dense(2, "erf"), Dense(2, weight=Normal([[1, 0], [0, 1]], 1, col_cov=[[2, 0], [0, 1]]))]).weight(1)
    assert two_sided_invariance(v, swap, swap).status is False          # P V P^T != V
