"""The exact single-hidden-layer engine behind the witnesses, checked against independent computations:
symcorr.symbolic's closed forms and symcorr.ntk's expected NTK (the single-neuron moments it is built on:
tests/duality/test_neuron.py)."""

import pytest
import sympy as sp

from symcorr import Dense, Network, Normal, zoo
from symcorr.duality.moments import OneLayerModel, TwoLayerModel

R = sp.Rational
POINTS = [[R(1, 2), R(-1, 3)], [R(1, 5), R(2, 3)], [R(-3, 4), R(1, 7)], [R(2, 5), R(2, 5)]]


def _exact_equal(a, b):
    return abs(complex(sp.N(sp.sympify(a) - sp.sympify(b), 40))) < 1e-25


@pytest.mark.parametrize("net", [
    zoo.erf_net(2, 3, 2),
    zoo.relu_net(2, 3, 2, sigma_b0=None),
    zoo.gauss_net(2, 3, 2, sigma_w0=R(1, 2), sigma_b0=R(1, 2)),
    zoo.cos_net(2, 3, 2),
    zoo.cos_net(2, 3, 2, phase=Normal(0, 1)),
    zoo.erf_net(2, 4, 3, readout_mean=[R(1, 3), 0, R(-1, 2)]),
], ids=["erf", "relu", "gauss", "cos", "cos-gaussian-phase", "erf-readout-mean"])
def test_engine_agrees_exactly_with_the_symbolic_module(net):
    from symcorr.symbolic import correlator

    model = TwoLayerModel(net)
    cases = [([POINTS[0]], (0,)), ([POINTS[0], POINTS[1]], (0, 0)), ([POINTS[0], POINTS[0]], (1, 1)),
             ([POINTS[1], POINTS[2]], (0, 1))]
    if net.layers[0].activation.name in ("gauss", "cos"):  # closed-form four-point functions
        cases.append(([POINTS[0], POINTS[1], POINTS[2], POINTS[3]], (0, 0, 1, 1)))
    for pts, idx in cases:
        idx = tuple(min(a, net.output_dim - 1) for a in idx)
        mine = model.correlator(pts, idx)
        theirs = correlator(net, len(pts)).expr(pts, idx)
        assert mine.is_exact
        assert _exact_equal(mine.expr, theirs), (pts, idx, mine.expr, theirs)


@pytest.mark.parametrize("net", [zoo.cos_net(2, 3, 1), zoo.erf_net(2, 3, 2), zoo.relu_net(2, 3, 1),
                                 zoo.gauss_net(2, 3, 1, sigma_w0=R(1, 2))], ids=["cos", "erf", "relu", "gauss"])
def test_expected_ntk_agrees_with_the_ntk_module(net):
    from symcorr.ntk import ntk_expectation

    mine = TwoLayerModel(net).ntk_mean(POINTS[0], POINTS[1])
    theirs = ntk_expectation(net).expr(POINTS[0], POINTS[1])
    assert abs(mine.num.real - float(sp.N(theirs, 30))) < 1e-12


def test_one_layer_model_factorises_over_output_units():
    net = Network(2, [Dense(2, "relu", weight=Normal(0, 1), bias=Normal(0, 1))])
    model = OneLayerModel(net)
    g = model.correlator([POINTS[0], POINTS[1]], (0, 1))
    m1 = model.correlator([POINTS[0]], (0,))
    m2 = model.correlator([POINTS[1]], (1,))
    assert _exact_equal(g.expr, m1.expr * m2.expr)
    k = 1 + sum(v ** 2 for v in POINTS[0])
    assert _exact_equal(m1.expr, sp.sqrt(k / (2 * sp.pi)))
