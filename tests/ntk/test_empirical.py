"""Tests of symcorr.ntk.empirical: the empirical NTK by back-propagation and by torch.func, per block,
in both parameterisations, against a brute-force per-network Jacobian (paper sections 3.7, 5)."""

import math

import pytest
import torch

from symcorr import zoo
from symcorr.distributions import Normal
from symcorr.errors import SpecError
from symcorr.ntk import empirical_ntk
from symcorr.spec import Dense, Network, size_symbol


X2 = torch.tensor([[0.3, -0.5], [1.0, 0.2], [-0.4, 0.8]], dtype=torch.float64)
XT = torch.tensor([[0.3, -0.5], [1.0, 0.2]], dtype=torch.float64)


def _brute_force_ntk(network, params, x, x2):
    """Reference: one network at a time, full Jacobian of the flattened parameters (a loop, tests only)."""
    n = network.check_parameters(params)
    names = list(network.blocks)
    out = []
    for m in range(n):
        flat = torch.cat([params[k][m].reshape(-1) for k in names])
        shapes = [params[k][m].shape for k in names]

        def f(theta, pts):
            parts, i = {}, 0
            for k, s in zip(names, shapes):
                size = int(torch.tensor(s).prod()) if len(s) else 1
                parts[k] = theta[i:i + size].reshape(1, *s)
                i += size
            return network.forward(parts, pts)[0]  # (P, d)

        j1 = torch.autograd.functional.jacobian(lambda t: f(t, x), flat)  # (P, d, params)
        j2 = torch.autograd.functional.jacobian(lambda t: f(t, x2), flat)
        out.append(torch.einsum("pai,qbi->pqab", j1, j2))
    return torch.stack(out)


@pytest.mark.parametrize("network", [
    zoo.erf_net(2, 5, 3), zoo.relu_net(2, 4, 2), zoo.gauss_net(2, 4, 2, sigma_w0=0.5, sigma_b0=0.5),
    zoo.cos_net(2, 4, 2), zoo.tanh_net(2, 3, 1, sigma_b1=None),
    Network(2, [Dense(4, "gauss", bias=Normal(0, 0.25)), Dense(3, "relu"), Dense(3, "tanh", bias=Normal(0, 1)),
                Dense(2, "erf")]),
])
def test_layerwise_autograd_and_brute_force_agree(network):
    params = network.sample(3, seed=11)
    x2 = X2[:2] * 0.7
    ref = _brute_force_ntk(network, params, X2, x2)
    for method in ("layerwise", "autograd"):
        got = empirical_ntk(network, params, X2, x2, method=method)
        assert got.shape == (3, 3, 2, network.output_dim, network.output_dim)
        torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-12)


def test_autograd_handles_a_deep_gauss_layer_and_layerwise_refuses():
    net = Network(2, [Dense(4, "tanh", bias=Normal(0, 1)), Dense(3, "gauss", bias=Normal(0, 0.1)), Dense(2)])
    params = net.sample(2, seed=3)
    ref = _brute_force_ntk(net, params, X2, X2)
    torch.testing.assert_close(empirical_ntk(net, params, X2), ref, rtol=1e-10, atol=1e-12)
    with pytest.raises(SpecError, match="autograd"):
        empirical_ntk(net, params, X2, method="layerwise")


def test_blocks_sum_to_the_kernel_and_ntk_parameterisation_rescales_by_variance():
    net = zoo.erf_net(2, 6, 2, sigma_w0=1.5, sigma_b0=0.5, sigma_w1=2.0, sigma_b1=0.3)
    params = net.sample(4, seed=5)
    parts = empirical_ntk(net, params, X2, per_block=True)
    torch.testing.assert_close(sum(parts.values()), empirical_ntk(net, params, X2))
    ntk_parts = empirical_ntk(net, params, X2, per_block=True, parameterisation="ntk")
    variances = {"W0": 1.5 ** 2 / 2, "b0": 0.25, "W1": 4.0 / 6, "b1": 0.09}
    for name, v in variances.items():
        torch.testing.assert_close(ntk_parts[name], v * parts[name])
    only = empirical_ntk(net, params, X2, blocks=["W1", "b1"])
    torch.testing.assert_close(only, parts["W1"] + parts["b1"])
    # symmetric in (x, a) <-> (x', b)
    full = empirical_ntk(net, params, X2)
    torch.testing.assert_close(full, full.permute(0, 2, 1, 4, 3))


def test_validation_errors():
    net = zoo.erf_net(2, 4, 2)
    params = net.sample(2, seed=0)
    with pytest.raises(SpecError, match="x"):
        empirical_ntk(net, params, torch.zeros(3, 5))
    with pytest.raises(SpecError, match="parameterisation"):
        empirical_ntk(net, params, X2, parameterisation="mean-field")
    with pytest.raises(SpecError, match="method"):
        empirical_ntk(net, params, X2, method="finite-differences")
    with pytest.raises(SpecError, match="block"):
        empirical_ntk(net, params, X2, blocks=["W7"])
    n = size_symbol("N")
    with pytest.raises(SpecError, match="N"):
        empirical_ntk(zoo.erf_net(2, n, 1), params, X2)


def test_ntk_concentrates_on_the_infinite_width_kernel():
    """NTK parameterisation: Var(Theta) = O(1/N); from N = 32 to 128 the variance drops by 4 (within
    4 s.e. of the ratio, s.e. from the fourth moments by the delta method)."""
    x = XT[:1]
    variances = {}
    for n in (32, 128):
        net = zoo.erf_net(2, n, 1)
        theta = empirical_ntk(net, net.sample(3000, seed=n), x, parameterisation="ntk")[:, 0, 0, 0, 0]
        c = theta - theta.mean()
        var = float((c ** 2).mean())
        rel_se = math.sqrt(max(float((c ** 4).mean()) / var ** 2 - 1, 0) / len(theta))
        variances[n] = (var, rel_se)
    ratio = variances[32][0] / variances[128][0]
    se = ratio * math.hypot(variances[32][1], variances[128][1])
    assert abs(ratio - 4) < 4 * se, (ratio, se)
    assert ratio > 2  # the failing alternative (no concentration) would give ratio ~ 1
