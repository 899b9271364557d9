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
