"""The GP-limit kernel check: exact invariance of K(x, y), a kernel witness, and a failing engine reported."""

import sympy as sp

from symcorr import Normal, size_symbol, zoo
from symcorr.duality import kernel as kmod
from symcorr.groups import SpecialOrthogonal, Translations

N = size_symbol("N")


def _raise(exc):
    def fn(*args, **kwargs):
        raise exc
    return fn


def test_kernel_check_failure_is_reported_not_decided(monkeypatch):
    monkeypatch.setattr(kmod.TwoLayerModel, "gp_kernel", _raise(ArithmeticError("injected")))
    check = kmod.kernel_invariance(zoo.gauss_net(1, N, 1), Translations(1))
    assert check.invariant is None and check.failure.reason == "ArithmeticError: injected"


def test_kernel_check():
    ok = kmod.kernel_invariance(zoo.gauss_net(1, N, 1), Translations(1))
    assert ok.invariant is True and ok.failure is None and ok.kernel is not None
    bad = kmod.kernel_invariance(zoo.relu_net(2, N, 1), Translations(2))
    assert bad.invariant is False and bad.witness.kind == "kernel"


def test_kernel_check_does_not_apply_without_the_one_over_width_scaling_or_with_a_readout_mean():
    assert kmod.kernel_invariance(zoo.gauss_net(1, N, 1).replace_layer(1, weight=Normal(0, 1)),
                                  Translations(1)).invariant is None
    mean = zoo.erf_net(2, N, 1, readout_mean=1)
    assert kmod.kernel_invariance(mean, SpecialOrthogonal(2)).invariant is None


def test_one_parameter_elements_are_orthogonal_for_every_parameter():
    for g, params in kmod.one_parameter_elements(SpecialOrthogonal(3)):
        assert params and sp.simplify(g.T * g - sp.eye(3)).is_zero_matrix
