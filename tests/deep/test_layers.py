"""symcorr.deep.layers: a network read as per-layer recursion parameters, with errors naming the field."""

import pytest
import sympy as sp

from symcorr import Dense, Laplace, Network, Normal, UniformCircle, size_symbol
from symcorr.deep import LayerStack
from symcorr.errors import SpecError

N, M, D = size_symbol("N"), size_symbol("M"), size_symbol("D")


def _net(**changes):
    layers = [Dense(N, "erf", weight=Normal(0, 2 / D), bias=Normal(0, 1)),
              Dense(M, "relu", weight=Normal(0, 3 / N), bias=Normal(0, sp.Rational(1, 2))),
              Dense(2, weight=Normal(0, 1 / M))]
    net = Network(D, layers)
    for index, fields in changes.items():
        net = net.replace_layer(int(index[1:]), **fields)
    return net


def test_rescaled_variances_and_widths():
    stack = LayerStack.from_network(_net())
    assert [r.c_w for r in stack.layers] == [2, 3, 1]
    assert [r.c_b for r in stack.layers] == [1, sp.Rational(1, 2), 0]
    assert stack.hidden_widths == [N, M] and stack.width_symbols == [N, M]
    assert [r.limit_c_w(stack.width_symbols) for r in stack.layers] == [2, 3, 1]


def test_the_limit_needs_variances_that_scale_like_one_over_fan_in():
    stack = LayerStack.from_network(_net(l1={"weight": Normal(0, 1)}))
    with pytest.raises(SpecError, match=r"layers\[1\].weight.var: .*scale like 1/fan_in"):
        stack.layers[1].limit_c_w(stack.width_symbols)
    # 1/(N + 1) is not 1/N, but its rescaled limit is finite
    stack = LayerStack.from_network(_net(l1={"weight": Normal(0, 3 / (N + 1))}))
    assert stack.layers[1].limit_c_w(stack.width_symbols) == 3


@pytest.mark.parametrize("changes,where", [
    ({"l1": {"weight": Normal(1, 1 / N)}}, r"layers\[1\].weight.mean"),
    ({"l1": {"bias": Normal(1, 1)}}, r"layers\[1\].bias.mean"),
    ({"l1": {"bias": Laplace(0, 1)}}, r"layers\[1\].bias"),
    ({"l2": {"weight": Normal(0, 1 / M, row_cov=[[1, 0], [0, 2]])}}, r"layers\[2\].weight"),
])
def test_unsupported_laws_are_named(changes, where):
    with pytest.raises(SpecError, match=where):
        LayerStack.from_network(_net(**changes))


def test_first_layer_and_readout_may_have_more_general_laws():
    stack = LayerStack.from_network(_net(l0={"weight": Laplace(0, 1), "bias": UniformCircle(), "activation": "cos"},
                                         l2={"weight": Normal([1, 0], 1 / M), "bias": Normal(2, 1)}))
    assert not stack.first.gaussian and stack.readout.bias_mean == 2


def test_gaussian_hidden_weights_for_the_finite_width_recursion():
    net = _net(l1={"weight": Laplace(0, sp.sqrt(sp.Rational(3, 2)) / sp.sqrt(N))})
    assert LayerStack.from_network(net).layers[1].c_w == 3
    with pytest.raises(SpecError, match="Gaussian hidden-layer weights"):
        LayerStack.from_network(net, gaussian_hidden=True)
