"""Function-space cross-check: G(g x) - G(x) (or g^{⊗n} G - G) simplified exactly with symcorr.symbolic
agrees with the parameter-space proofs for Gauss-, Erf-, ReLU- and Cos-nets."""

import pytest
import sympy as sp

from symcorr import Normal, size_symbol, zoo
from symcorr.duality import crosscheck, prove_invariance
from symcorr.groups import SpecialOrthogonal, Stabilizer

pytest.importorskip("symcorr.symbolic")

D = size_symbol("D")
NETS = {
    "gauss": lambda d, dout: zoo.gauss_net(d, 3, dout, sigma_w0=sp.Rational(1, 2)),
    "erf": lambda d, dout: zoo.erf_net(d, 3, dout),
    "relu": lambda d, dout: zoo.relu_net(d, 3, dout),
    "cos": lambda d, dout: zoo.cos_net(d, 3, dout),
}


@pytest.mark.parametrize("name", sorted(NETS))
@pytest.mark.parametrize("d", [2, 3])
def test_input_rotations(name, d):
    net = NETS[name](d, 1)
    check = crosscheck(net, f"SO({d})", "input", 2, element="parametrized", points="random")
    assert check.proof_verdict == "proven" and check.zero is True and check.agrees is True


@pytest.mark.parametrize("name", sorted(NETS))
def test_input_rotations_with_the_generic_element_in_any_dimension(name):
    net = NETS[name](D, 1)
    check = crosscheck(net, "SO", "input", 2, element="generic")
    assert check.zero is True and check.agrees is True


@pytest.mark.parametrize("name", sorted(NETS))
@pytest.mark.parametrize("dout", [2, 3])
def test_output_rotations(name, dout):
    net = NETS[name](2, dout)
    check = crosscheck(net, f"SO({dout})", "output", 2)
    assert check.zero is True and check.agrees is True


def test_output_rotations_broken_by_a_read_out_mean():
    net = zoo.relu_net(2, 3, 3, readout_mean=[sp.Rational(1, 2), 0, 0])
    check = crosscheck(net, "SO(3)", "output", 1)
    assert check.proof_verdict == "refuted" and check.zero is False and check.agrees is True
    stab = crosscheck(net, Stabilizer(SpecialOrthogonal(3), [1, 0, 0]), "output", 2)
    assert stab.zero is True and stab.agrees is True


@pytest.mark.parametrize("name, n, zero", [
    ("cos", 2, True), ("cos", 4, True),        # proven: every order is invariant
    ("erf", 2, False), ("relu", 2, False),     # Gaussian bias: k0(x, x) moves
    ("gauss", 2, True), ("gauss", 4, False),   # only the GP kernel is translation invariant
])
def test_translations(name, n, zero):
    net = NETS[name](2, 1)
    check = crosscheck(net, "translations", "input", n)
    assert check.zero is zero
    if check.proof_verdict == "proven":
        assert check.agrees is True
    else:
        assert check.proof_verdict == "refuted"
        assert check.agrees is (True if not zero else None)   # G2 of Gauss-net cannot see the breaking


def test_translations_generic_vector():
    assert crosscheck(zoo.cos_net(D, 3, 1), "translations", "input", 2, element="generic").zero is True
    assert crosscheck(zoo.erf_net(2, 3, 1), "translations", "input", 2, element="generic").zero is False


def test_anisotropic_first_layer_cross_check_is_non_zero():
    net = zoo.erf_net(2, 3, 1).replace_layer(0, weight=Normal(0, 1, col_cov=[[2, 0], [0, 1]]))
    proof = prove_invariance(net, "SO", "input")
    check = crosscheck(net, "SO", "input", 2, proof=proof)
    assert proof.verdict == "refuted" and check.zero is False and check.agrees is True
    assert "agrees" in check.markdown()
