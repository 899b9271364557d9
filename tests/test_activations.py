"""Tests for symcorr.activations."""

import math

import pytest
import sympy as sp
import torch

from symcorr.activations import Activation, activation_names, get_activation
from symcorr.errors import SpecError

z = sp.Symbol("z", real=True)


@pytest.mark.parametrize("name", ["erf", "relu", "tanh", "cos", "identity"])
def test_sympy_and_torch_forms_agree(name):
    act = get_activation(name)
    pts = [-2.3, -0.5, 0.0, 0.4, 1.7]
    got = act.torch(torch.tensor(pts, dtype=torch.float64)).tolist()
    for p, g in zip(pts, got):
        assert g == pytest.approx(float(act.sympy(sp.Float(p))), abs=1e-12)


def test_gauss_is_exp_of_the_difference_and_needs_the_normaliser():
    act = get_activation("gauss")
    assert act.normalised
    out = act.torch(torch.tensor([800.0]), torch.tensor([799.0]))
    assert out.item() == pytest.approx(math.e)
    with pytest.raises(SpecError, match="log-normaliser"):
        act.torch(torch.tensor([1.0]))
    assert act.sympy(z, sp.Integer(2)) == sp.exp(z - 2)


def test_unknown_name_suggests_the_closest():
    with pytest.raises(SpecError, match="did you mean 'relu'"):
        get_activation("rleu")
    assert set(activation_names()) == {"erf", "relu", "step", "tanh", "cos", "sin", "gauss", "identity", "sigmoid",
                                      "gelu", "silu", "softplus"}
    assert get_activation(None).name == "identity"


def test_custom_activation_generated_torch_form():
    softplus = Activation.custom("my_softplus", lambda v: sp.log(1 + sp.exp(v)))
    got = softplus.torch(torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert got.tolist() == pytest.approx([math.log(2), math.log(1 + math.e)])
    assert softplus.derivative(z) == sp.exp(z) / (1 + sp.exp(z))


def test_custom_activation_forms_must_agree():
    with pytest.raises(SpecError, match="must describe the same function"):
        Activation.custom("bad", sp.sin, torch.cos)
    with pytest.raises(SpecError, match="built-in"):
        Activation.custom("erf", sp.erf, torch.erf)
    with pytest.raises(SpecError, match="built-in"):
        Activation.custom("softplus", lambda v: sp.log(1 + sp.exp(v)))


@pytest.mark.parametrize("name", ["step", "sin", "sigmoid", "gelu", "silu", "softplus"])
def test_new_builtin_activations_agree_in_both_frames(name):
    act = get_activation(name)
    pts = [-2.5, -0.4, 0.0, 0.3, 1.7]
    got = act.torch(torch.tensor(pts, dtype=torch.float64)).tolist()
    want = [float(act.sympy(sp.Float(p))) for p in pts]
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
