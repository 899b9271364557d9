"""prove_invariance: every "must get right" case of the issue, the conservative cases (a failed
parameter-space step is not a refutation), NTK and GP-limit claims, and input validation."""

import pytest
import sympy as sp

from symcorr import Dense, Laplace, Network, Normal, Rademacher, Uniform, UniformCircle, size_symbol, zoo
from symcorr.duality import prove_invariance
from symcorr.errors import SpecError
from symcorr.groups import (Orthogonal, Permutations, SignedPermutations, SpecialOrthogonal, Stabilizer,
                            Translations)

N = size_symbol("N")
D = size_symbol("D")
HALF = sp.Rational(1, 2)


def verdict(net, group, on, **kw):
    return prove_invariance(net, group, on, **kw).verdict


# ----------------------------------------------------------------------------------------------------
# input rotations
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("maker", [zoo.erf_net, zoo.relu_net, zoo.gauss_net, zoo.tanh_net, zoo.cos_net])
def test_iid_zero_mean_gaussian_first_layer_gives_input_so_d_for_symbolic_d_and_width(maker):
    net = maker(D, N, 2)
    proof = prove_invariance(net, "SO", "input")
    assert proof.verdict == "proven" and proof.invariant is True
    assert prove_invariance(net, "O", "input").verdict == "proven"
    density = next(s for s in proof.steps if s.title.startswith("Density"))
    # the trace-form step with the generic element, shown as equations
    assert any("R R^{T}" in eq for eq in density.equations)
    assert any(r"\mathrm{tr}" in eq for eq in density.equations)


def test_deep_networks_only_need_the_first_layer_for_inputs_and_the_last_for_outputs():
    odd = Network(D, [Dense(N, "erf", weight=Normal(0, 1 / D), bias=Laplace(1, 2)),
                      Dense(N, "tanh", weight=Laplace(0, 1)),        # a non-Gaussian middle layer
                      Dense(2, weight=Normal(0, 1 / N), bias=Normal(0, 1))])
    assert verdict(odd, "SO", "input") == "proven"
    assert verdict(odd, "SO", "output") == "proven"


def test_anisotropic_first_layer_column_covariance_breaks_input_so():
    net = Network(3, [Dense(4, "erf", weight=Normal(0, HALF, col_cov=[[2, 0, 0], [0, 1, 0], [0, 0, 1]]),
                            bias=Normal(0, 1)),
                      Dense(1, weight=Normal(0, sp.Rational(1, 4)))])
    proof = prove_invariance(net, "SO", "input")
    assert proof.verdict == "refuted"
    assert proof.witness.kind == "correlator"
    assert SpecialOrthogonal(3).contains(_tensor(proof.witness.element))
    assert proof.parameter_witness is not None
    # what survives: the rotations about the anisotropic axis
    assert proof.residual == Stabilizer(SpecialOrthogonal(3), [1, 0, 0])
    assert verdict(net, Stabilizer(SpecialOrthogonal(3), [1, 0, 0]), "input") == "proven"


def test_nonzero_mean_on_the_first_layer_columns_leaves_the_stabiliser_of_the_mean_row():
    net = Network(3, [Dense(3, "erf", weight=Normal([[1, 0, 0]] * 3, sp.Rational(1, 3)), bias=Normal(0, 1)),
                      Dense(1, weight=Normal(0, sp.Rational(1, 3)))])
    assert verdict(net, "SO", "input") == "refuted"
    assert verdict(net, Stabilizer(SpecialOrthogonal(3), [1, 0, 0]), "input") == "proven"
    assert verdict(net, Stabilizer(Orthogonal(3), [1, 0, 0]), "input") == "proven"


def test_symbolic_mean_gives_a_condition_and_is_proven_once_it_vanishes():
    mu = sp.Symbol("mu", real=True)
    net = zoo.erf_net(D, N, 1).replace_layer(0, weight=Normal(mu, 1 / D))
    proof = prove_invariance(net, "SO", "input")
    assert proof.verdict == "refuted"                     # a universally quantified claim: one value suffices
    assert proof.witness.values[mu] == HALF               # ... and the witness says which
    assert any("mu" in c for c in proof.conditions)
    assert verdict(net.subs({mu: 0}), "SO", "input") == "proven"
    assert verdict(net, "permutations", "input") == "proven"   # permutations fix the mean matrix mu 1


# ----------------------------------------------------------------------------------------------------
# output rotations
# ----------------------------------------------------------------------------------------------------
def test_output_rotations_need_both_weight_and_bias_laws_invariant():
    base = zoo.relu_net(2, 3, 3)
    assert verdict(base, "SO", "output") == "proven"
    biased = base.replace_layer(1, bias=Normal([1, 0, 0], 1))
    proof = prove_invariance(biased, "SO", "output")
    assert proof.verdict == "refuted" and "G^{(1)}" in proof.witness.quantity
    assert proof.residual == Stabilizer(SpecialOrthogonal(3), [1, 0, 0])
    aniso = base.replace_layer(1, weight=Normal(0, sp.Rational(1, 3), row_cov=[[2, 0, 0], [0, 1, 0], [0, 0, 1]]))
    assert verdict(aniso, "SO", "output") == "refuted"
    assert verdict(aniso, Stabilizer(SpecialOrthogonal(3), [1, 0, 0]), "output") == "proven"
    shifted = base.replace_layer(1, weight=Normal(HALF, sp.Rational(1, 3)))
    assert verdict(shifted, "SO", "output") == "refuted"
    assert verdict(shifted, "permutations", "output") == "proven"


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_mean_on_k_rows_leaves_the_stabiliser_of_the_mean_vector_so_d_minus_1_for_every_k(k):
    d = 6
    mean = [1] * k + [0] * (d - k)
    net = zoo.relu_net(2, 4, d, readout_mean=[sp.Rational(1, 5) * m for m in mean], sigma_b1=None)
    proof = prove_invariance(net, f"SO({d})", "output")
    assert proof.verdict == "refuted"
    # G^(1) = mu N E[relu] u moves
    assert "G^{(1)}" in proof.witness.quantity
    stab = Stabilizer(SpecialOrthogonal(d), mean)
    assert proof.residual == stab and stab.residual_description == f"SO({d - 1})"
    assert verdict(net, stab, "output") == "proven"


def test_non_gaussian_iid_readout_is_signed_permutation_invariant_only():
    net = zoo.erf_net(2, 3, 2).replace_layer(1, weight=Laplace(0, 1))
    assert verdict(net, "signed_permutations", "output") == "proven"
    assert verdict(net, "SO", "output") == "refuted"


def test_a_nonlinear_last_layer_blocks_output_rotations_but_not_permutations():
    net = Network(2, [Dense(3, "erf", weight=Normal(0, HALF), bias=Normal(0, 1)),
                      Dense(2, "tanh", weight=Normal(0, sp.Rational(1, 3)))])
    rot = prove_invariance(net, "SO", "output")
    assert rot.verdict != "proven" and rot.steps[0].status == "fails"
    assert verdict(net, "permutations", "output") == "proven"
    assert verdict(net, "signed_permutations", "output") == "proven"       # tanh is odd
    relu_last = Network(2, [Dense(3, "erf"), Dense(2, "relu")])
    assert verdict(relu_last, "signed_permutations", "output") != "proven"  # relu is not odd
    single = Network(2, [Dense(2, "relu", weight=Normal(0, 1), bias=Normal(0, 1))])
    assert verdict(single, "SO", "output") == "refuted"                    # E[relu(z)] (1, 1) moves


def test_output_translations_are_never_a_symmetry():
    proof = prove_invariance(zoo.erf_net(2, 3, 2), "translations", "output")
    assert proof.verdict == "refuted" and proof.witness.kind == "structural"


# ----------------------------------------------------------------------------------------------------
# non-Gaussian first layers
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("law", [Laplace(0, HALF), Uniform(-1, 1), Rademacher(HALF)], ids=repr)
def test_iid_symmetric_non_gaussian_weights_give_signed_permutations_not_rotations(law):
    net = zoo.cos_net(2, N, 1).replace_layer(0, weight=law)
    assert verdict(net, "signed_permutations", "input") == "proven"
    proof = prove_invariance(net, "SO", "input")
    assert proof.verdict == "refuted"
    assert proof.witness.kind == "correlator"          # exact closed form (characteristic functions)
    # the parameter-space reason with a concrete number: the rotated entry's fourth cumulant
    assert r"\kappa_4" in proof.parameter_witness.statement
    assert proof.parameter_witness.before != proof.parameter_witness.after


def test_laplace_kurtosis_witness_numbers():
    net = zoo.erf_net(2, 3, 1).replace_layer(0, weight=Laplace(0, 1))
    pw = prove_invariance(net, "SO", "input").parameter_witness
    # kappa_4(w) = 12 s^4 = 12; the entry (3/5) w1 + (4/5) w2 has (81 + 256)/625 * 12
    assert pw.before == 12 and pw.after == sp.Rational(337 * 12, 625)


def test_non_symmetric_iid_weights_keep_permutations_only():
    net = zoo.cos_net(2, N, 1).replace_layer(0, weight=Uniform(0, 1))
    assert verdict(net, "permutations", "input") == "proven"
    assert verdict(net, "signed_permutations", "input") == "refuted"


def test_tanh_with_laplace_weights_is_refuted_by_quadrature():
    net = Network(2, [Dense(1, "tanh", weight=Laplace(0, 1), bias=Normal(0, sp.Rational(1, 100))),
                      Dense(1, weight=Normal(0, 1))])
    proof = prove_invariance(net, "SO", "input", orders=[2])
    assert proof.verdict == "refuted"
    w = proof.witness
    assert w.kind == "quadrature" and abs(w.after - w.before) > 1000 * w.error


# ----------------------------------------------------------------------------------------------------
# translations
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("width", [1, 2, 7, N])
def test_cos_net_with_a_uniform_phase_is_translation_invariant_at_every_width(width):
    assert verdict(zoo.cos_net(D, width, 1), "translations", "input") == "proven"


@pytest.mark.parametrize("phase", [Uniform(-sp.pi, sp.pi), Uniform(0, 4 * sp.pi)], ids=repr)
def test_a_uniform_law_on_whole_periods_is_a_uniform_phase(phase):
    assert verdict(zoo.cos_net(2, N, 1, phase=phase), "translations", "input") == "proven"


def test_deep_cos_net_translations():
    net = Network(2, [Dense(N, "cos", weight=Laplace(0, 1), bias=UniformCircle()),  # any W0 law
                      Dense(N, "relu", weight=Normal(0, 1 / N)), Dense(1, weight=Normal(0, 1 / N))])
    assert verdict(net, "translations", "input") == "proven"


@pytest.mark.parametrize("net", [
    zoo.cos_net(2, 3, 1, phase=Normal(0, 1)),                  # Gaussian phase
    zoo.cos_net(2, 3, 1, phase=Uniform(0, 3)),                 # not a whole period
    zoo.relu_net(2, 3, 1, hidden_bias=UniformCircle()),        # activation not periodic
    zoo.erf_net(2, 3, 1),
], ids=["gaussian-phase", "partial-period", "relu-uniform-phase", "erf"])
def test_translations_are_refuted_without_a_uniform_phase_and_a_periodic_activation(net):
    proof = prove_invariance(net, "translations", "input")
    assert proof.verdict == "refuted"
    assert proof.parameter_witness is not None


def test_gauss_net_translations_only_hold_for_the_gp_kernel():
    net = zoo.gauss_net(1, N, 1)
    proof = prove_invariance(net, "translations", "input", values={N: 2})
    assert proof.verdict == "refuted"
    details = " ".join(proof.witness.details)
    assert "66.6863" in details and "492.749" in details          # m_4: 66.69 -> 492.75 (paper section 3.6)
    assert "G^{(4)}" in proof.witness.quantity
    gp_step = next(s for s in proof.steps if s.title == "GP limit")
    assert gp_step.status == "info" and "invariant" in gp_step.body
    gp = prove_invariance(net, "translations", "input", finite_width=False)
    assert gp.verdict == "proven"
    assert prove_invariance(zoo.relu_net(2, N, 1), "translations", "input", finite_width=False).verdict == "refuted"


def test_gp_limit_needs_the_one_over_width_readout_scaling():
    net = zoo.gauss_net(1, N, 1).replace_layer(1, weight=Normal(0, 1))   # variance 1, not 1/N
    assert verdict(net, "translations", "input", finite_width=False) != "proven"


# ----------------------------------------------------------------------------------------------------
# the NTK
# ----------------------------------------------------------------------------------------------------
def test_ntk_needs_an_orthogonal_parameter_map():
    cos = zoo.cos_net(2, N, 1)
    assert verdict(cos, "translations", "input") == "proven"
    ntk = prove_invariance(cos, "translations", "input", correlator="ntk")
    assert ntk.verdict == "refuted" and ntk.witness.kind == "ntk-mean"
    assert any(s.title == "NTK" and s.status == "fails" for s in ntk.steps)
    assert verdict(cos, "SO", "input", correlator="ntk") == "proven"
    assert verdict(zoo.erf_net(2, N, 3), "SO", "output", correlator="ntk") == "proven"


# ----------------------------------------------------------------------------------------------------
# conservativeness
# ----------------------------------------------------------------------------------------------------
def test_a_failed_parameter_step_is_not_a_refutation():
    """cos without bias is even, so f(-x) = f(x) for every network: O(1) is a symmetry of the density
    although the law of W0 ~ N(1, 1) is not invariant under W0 -> -W0.  The standard step fails (with its
    parameter-space counterexample) and another map (the identity, through the even activation) proves it;
    with a biased, asymmetric deep network no map applies, and the failed step still refutes nothing."""
    net = Network(1, [Dense(3, "cos", weight=Normal(1, 1)), Dense(1, weight=Normal(0, sp.Rational(1, 3)))])
    proof = prove_invariance(net, "O", "input")
    assert proof.verdict == "proven"
    assert proof.parameter_witness is not None
    assert any(s.status == "fails" for s in proof.steps)
    deep = Network(1, [Dense(3, "cos", weight=Normal(1, 1), bias=Normal(1, 1)), Dense(3, "tanh"),
                       Dense(1, weight=Normal(0, sp.Rational(1, 3)))])
    proof = prove_invariance(deep, "O", "input")
    assert proof.verdict == "undecided"
    assert proof.parameter_witness is not None
    assert any(s.status == "fails" for s in proof.steps)


def test_undecided_when_no_engine_can_compute_a_witness():
    """A GELU hidden layer: no closed form, outside the monotone argument, so no exact witness (issue 9 item 5:
    the same network with a tanh hidden layer is now refuted at every width, tests/duality/test_deep_witness.py)."""
    deep = Network(3, [Dense(N, "erf", weight=Normal(0, 1, col_cov=[[2, 0, 0], [0, 1, 0], [0, 0, 1]])),
                       Dense(N, "gelu", weight=Normal(0, 1 / N)), Dense(1, weight=Normal(0, 1 / N))])
    proof = prove_invariance(deep, "SO", "input")
    assert proof.verdict == "undecided" and proof.invariant is None and proof.witness is None
    tanh = Network(3, [Dense(N, "erf", weight=Normal(0, 1, col_cov=[[2, 0, 0], [0, 1, 0], [0, 0, 1]])),
                       Dense(N, "tanh", weight=Normal(0, 1 / N)), Dense(1, weight=Normal(0, 1 / N))])
    proof = prove_invariance(tanh, "SO", "input")
    assert proof.verdict == "refuted" and proof.witness.kind == "monotone"


# ----------------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------------
def test_input_validation():
    net = zoo.erf_net(2, 3, 1)
    with pytest.raises(SpecError, match="dimension"):
        prove_invariance(net, SpecialOrthogonal(3), "input")
    with pytest.raises(SpecError, match="unknown group"):
        prove_invariance(net, "SU", "input")
    with pytest.raises(SpecError, match="'on'"):
        prove_invariance(net, "SO", "middle")
    with pytest.raises(SpecError, match="correlator"):
        prove_invariance(net, "SO", "input", correlator="kernel")
    with pytest.raises(SpecError, match="Network"):
        prove_invariance("erf", "SO", "input")
    assert verdict(net, Translations(2), "input") == "refuted"
    assert verdict(net, Permutations(1), "output") == "proven"
    assert verdict(net, SignedPermutations(2), "input") == "proven"


def _tensor(m):
    import torch

    return torch.tensor([[float(v) for v in sp.Matrix(m).row(i)] for i in range(sp.Matrix(m).rows)],
                        dtype=torch.float64)


# ----------------------------------------------------------------------------------------------------
# typed verdicts and sides
# ----------------------------------------------------------------------------------------------------
def test_verdicts_sides_and_kinds_are_typed_members_that_compare_as_strings():
    from symcorr.verdicts import CorrelatorKind, Expectation, ProofVerdict, Side, StepStatus

    proof = prove_invariance(zoo.erf_net(2, N, 1), "SO", Side.INPUT, CorrelatorKind.FUNCTION)
    assert proof.verdict is ProofVerdict.PROVEN and proof.verdict == "proven" and f"{proof.verdict}" == "proven"
    assert proof.on is Side.INPUT and proof.correlator is CorrelatorKind.FUNCTION
    assert proof.expectation is Expectation.INVARIANT and proof.expectation == "invariant"
    assert all(isinstance(s.status, StepStatus) for s in proof.steps)
    refuted = prove_invariance(zoo.erf_net(2, 3, 2), "translations", "OUTPUT")   # strings are parsed
    assert refuted.on is Side.OUTPUT and refuted.verdict is ProofVerdict.REFUTED
    assert refuted.expectation is Expectation.BROKEN and refuted.witness.kind == "structural"
    assert "InvarianceProof(T(2) on outputs, function: refuted)" == repr(refuted)
