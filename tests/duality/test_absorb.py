"""Absorbing an action into the parameters: typed decisions (action, validity, reason), no prose."""

import pytest
import sympy as sp
import torch

from symcorr import Activation, Dense, Network, get_activation, size_symbol, zoo
from symcorr.duality import prove_invariance
from symcorr.duality.absorb import AbsorptionReason, Action, absorb, is_odd, is_periodic_with
from symcorr.groups import Orthogonal, Permutations, SignedPermutations, SpecialOrthogonal, Translations
from symcorr.verdicts import StepStatus

N = size_symbol("N")


class _OpaqueTanh(sp.Function):
    """tanh, but SymPy knows nothing of it except its numerical values (so oddness cannot be proven)."""

    def _eval_evalf(self, prec):
        return sp.tanh(self.args[0])._eval_evalf(prec)


OPAQUE = Activation("opaque_tanh", _OpaqueTanh, torch.tanh)


@pytest.mark.parametrize("name, odd", [("erf", True), ("tanh", True), ("identity", True), ("relu", False),
                                       ("cos", False), ("gauss", False)])
def test_oddness_is_decided_exactly(name, odd):
    assert is_odd(get_activation(name)) is odd


def test_oddness_sympy_cannot_decide_is_none_not_false():
    assert is_odd(OPAQUE) is None


def test_periodicity():
    cos = get_activation("cos")
    assert is_periodic_with(cos, 2 * sp.pi) is True and is_periodic_with(cos, 4 * sp.pi) is True
    assert is_periodic_with(cos, 3) is False and is_periodic_with(get_activation("relu"), 2 * sp.pi) is False
    assert is_periodic_with(get_activation("gauss"), 2 * sp.pi) is False


def test_the_four_actions():
    net = zoo.erf_net(3, N, 2)
    rot = absorb(net, SpecialOrthogonal(3), "input")
    assert (rot.action, rot.valid, rot.reason, rot.blocks) == (Action.INPUT_LINEAR, True,
                                                               AbsorptionReason.DENSE_FIRST_LAYER, ("W0",))
    assert rot.jacobian_power == N and rot.orthogonal and rot.status is StepStatus.ESTABLISHED
    out = absorb(net, Orthogonal(2), "output")
    assert (out.action, out.reason, out.blocks, out.jacobian_power) == (
        Action.OUTPUT_LINEAR, AbsorptionReason.LINEAR_LAST_LAYER, ("W1", "b1"), N + 1)
    shift = absorb(net, Translations(3), "input")
    assert shift.action is Action.INPUT_TRANSLATION and shift.valid and not shift.orthogonal
    assert absorb(zoo.erf_net(3, N, 2, sigma_b0=None), Translations(3), "input").reason is AbsorptionReason.NO_FIRST_BIAS
    assert absorb(net, Translations(2), "output").reason is AbsorptionReason.AFFINE_LAST_LAYER


def test_a_nonlinear_last_layer():
    def net(act):
        return Network(2, [Dense(3, "erf"), Dense(2, act)])

    assert absorb(net("tanh"), SignedPermutations(2), "output").reason is AbsorptionReason.ODD_SIGNED_PERMUTES
    assert absorb(net("relu"), SignedPermutations(2), "output").reason is AbsorptionReason.NOT_ODD
    assert absorb(net("relu"), Permutations(2), "output").reason is AbsorptionReason.ELEMENTWISE_PERMUTES
    assert absorb(net("tanh"), SpecialOrthogonal(2), "output").reason is AbsorptionReason.NONLINEAR_ROTATION
    undecided = absorb(net(OPAQUE), SignedPermutations(2), "output")
    assert undecided.valid is None and undecided.reason is AbsorptionReason.ODDNESS_UNDECIDED
    assert undecided.status is StepStatus.OPEN


def test_undecided_oddness_leaves_the_proof_open_not_failed():
    net = Network(2, [Dense(3, "erf"), Dense(2, OPAQUE)])
    proof = prove_invariance(net, "signed_permutations", "output")
    assert proof.verdict == "undecided"
    assert proof.steps[0].title == "Absorb" and proof.steps[0].status is StepStatus.OPEN
    assert "could not decide" in proof.steps[0].body
    assert prove_invariance(net, "permutations", "output").verdict == "proven"


# ----------------------------------------------------------------------------------------------------
# more maps: sign chains, hidden-neuron permutations
# ----------------------------------------------------------------------------------------------------
from symcorr.duality.absorb import (MapKind, alternative_maps, is_antiperiodic_with, is_even,  # noqa: E402
                                    neuron_permutation_map, sign_chains)
from symcorr.distributions import Normal  # noqa: E402


@pytest.mark.parametrize("name, even", [("cos", True), ("gauss", False), ("erf", False), ("relu", False)])
def test_evenness_is_decided_exactly(name, even):
    assert is_even(get_activation(name)) is even


def test_antiperiodicity():
    assert is_antiperiodic_with(get_activation("cos"), sp.pi) is True
    assert is_antiperiodic_with(get_activation("sin"), sp.pi) is True
    assert is_antiperiodic_with(get_activation("cos"), 2 * sp.pi) is False
    assert is_antiperiodic_with(get_activation("erf"), sp.pi) is False


def test_input_sign_chains_pass_odd_activations_and_stop_at_even_ones():
    deep = Network(2, [Dense(4, "erf", bias=Normal(0, 1)), Dense(3, "tanh"), Dense(1)])
    chains = sign_chains(deep, "input")
    assert [(m.weight, m.negated) for m in chains] == [("W1", ("W1", "b0")), ("W2", ("W2", "b0"))]
    assert all(m.kind is MapKind.SIGN_CHAIN and m.jacobian_one and m.orthogonal for m in chains)
    even = sign_chains(Network(1, [Dense(3, "cos", bias=Normal(0, 1)), Dense(1)]), "input")
    assert [(m.weight, m.negated, m.links[-1].odd) for m in even] == [(None, ("b0",), False)]
    assert sign_chains(Network(1, [Dense(3, "relu"), Dense(1)]), "input") == []   # relu: neither odd nor even


def test_output_sign_chains_need_odd_activations_down_to_the_negated_weight():
    net = Network(2, [Dense(4, "erf"), Dense(3, "tanh", bias=Normal(0, 1)), Dense(2, bias=Normal(0, 1))])
    chains = sign_chains(net, "output")
    assert [m.negated for m in chains] == [("W1", "b1", "b2"), ("W0", "b1", "b2")]
    relu = Network(2, [Dense(4, "relu"), Dense(2)])
    assert sign_chains(relu, "output") == []   # the standard map is not a chain


def test_a_neuron_permutation_restores_a_permuted_mean():
    swap = sp.Matrix([[0, 1], [1, 0]])
    inp = Network(2, [Dense(2, "erf", weight=Normal([[1, 0], [0, 1]], 1)), Dense(1)])
    m = neuron_permutation_map(inp, swap, "input")
    assert m.kind is MapKind.NEURON_PERMUTATION and m.permutation == swap and m.blocks == ("W0", "W1")
    out = Network(2, [Dense(2, "erf"), Dense(2, weight=Normal([[1, 0], [0, 2]], 1))])
    assert neuron_permutation_map(out, swap, "output") is None        # swap maps the mean columns to (0, 1), (2, 0)
    out2 = Network(2, [Dense(2, "erf", bias=Normal(0, 1)), Dense(2, weight=Normal([[1, 0], [0, 1]], 1), bias=Normal(0, 1))])
    m2 = neuron_permutation_map(out2, swap, "output")
    assert m2.blocks == ("W0", "b0", "W1", "b1")
    assert [k.kind for k in alternative_maps(out2, -sp.eye(2), "output")] == [MapKind.SIGN_CHAIN]
