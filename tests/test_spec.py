"""Tests for symcorr.spec: one Network feeding the symbolic and the numeric frame."""

import math

import pytest
import sympy as sp
import torch

from symcorr import Dense, Network, Normal, SpecError, Uniform, UniformCircle, size_symbol
from symcorr.rng import make_generator
from symcorr.zoo import cos_net, erf_net, gauss_net, relu_net

N, D = size_symbol("N"), size_symbol("D")


def test_symbolic_sizes_and_substitution():
    net = erf_net(D, N, 3, sigma_w0=sp.Symbol("sigma", positive=True))
    assert net.input_dim == D and net.output_dim == 3 and net.depth == 2
    assert set(net.blocks) == {"W0", "b0", "W1", "b1"}
    assert net.weight(0).shape == (N, D)
    assert not net.is_concrete
    concrete = net.subs({"N": 7, "D": 2, "sigma": 1})
    assert concrete.is_concrete and concrete.weight(0).shape == (7, 2)
    assert concrete.weight(0).law == Normal(0, sp.Rational(1, 2))
    assert concrete.weight(1).law == Normal(0, sp.Rational(1, 7))


def test_default_weight_law_is_standard_parameterisation():
    net = Network(4, [Dense(6, "tanh"), Dense(2)])
    assert net.weight(0).law == Normal(0, sp.Rational(1, 4))
    assert net.weight(1).law == Normal(0, sp.Rational(1, 6))
    assert net.bias(0) is None


@pytest.mark.parametrize("make, match", [
    (lambda: Network(0, [Dense(3)]), "positive integer"),
    (lambda: Network(2, [Dense(-1)]), "positive integer"),
    (lambda: Network(2, [Dense(sp.Symbol("M"))]), "declared a positive integer"),
    (lambda: Network(2, []), "non-empty"),
    (lambda: Network(2, [Dense(3, "softmaxx")]), "unknown activation"),
    (lambda: Network(2, [Dense(3, weight=Normal([1, 2], 1))]), "per-row vector"),
    (lambda: Network(2, [Dense(3, bias=Normal([1, 2], 1))]), "vector of length 3"),
    (lambda: Network(2, [Dense(3, weight=Normal(0, 1, col_cov=[[1, 0, 0]] * 3))]), "col_cov"),
    (lambda: Network(2, [Dense(3, weight="normal")]), "parameter law"),
])
def test_invalid_networks_raise_clear_errors(make, match):
    with pytest.raises(SpecError, match=match):
        make()


def test_errors_name_the_layer():
    with pytest.raises(SpecError, match=r"layers\[1\]\.weight"):
        Network(2, [Dense(3), Dense(2, weight=Normal([1, 2, 3], 1))])


def test_forward_shapes_and_reproducibility():
    net = relu_net(3, 8, 2).subs({})
    p1 = net.sample(5, seed=1)
    p2 = net.sample(5, seed=1)
    assert all(torch.equal(p1[k], p2[k]) for k in p1)
    out = net.forward(p1, torch.randn(4, 3, generator=make_generator(0), dtype=torch.float64))
    assert out.shape == (5, 4, 2)
    # one network at a time gives the same result as the batch
    single = {k: v[2:3] for k, v in p1.items()}
    x = torch.ones(4, 3, dtype=torch.float64)
    assert torch.allclose(net.forward(single, x)[0], net.forward(p1, x)[2])


def test_forward_rejects_bad_inputs_and_parameters():
    net = relu_net(3, 4).subs({})
    p = net.sample(2, seed=0)
    with pytest.raises(SpecError, match="inputs must have shape"):
        net.forward(p, torch.ones(5, 2))
    with pytest.raises(SpecError, match="NaN"):
        net.forward(p, torch.tensor([[float("nan"), 0, 0]]))
    with pytest.raises(SpecError, match="missing"):
        net.forward({"W0": p["W0"]}, torch.ones(1, 3))
    with pytest.raises(SpecError, match="expected shape"):
        net.forward({**p, "W0": p["W0"][:, :3]}, torch.ones(1, 3))
    with pytest.raises(SpecError, match="still depends"):
        erf_net(1, N).sample(3, seed=0)
    with pytest.raises(SpecError, match="global RNG"):
        net.sample(3)


def test_relu_kernel_monte_carlo_matches_reference_value():
    """ReLU-net without biases: K(0.2, 1.2) = 0.1200 (paper 3.3); tolerance 4 standard errors."""
    net = relu_net(1, 10, sigma_b0=None, sigma_b1=None)
    f = net.forward(net.sample(200_000, seed=3), [[0.2], [1.2]])[:, :, 0]
    prod = f[:, 0] * f[:, 1]
    k0 = lambda a, b: a * b  # sigma_w = 1, d_in = 1, no bias
    cos_t = min(1.0, k0(0.2, 1.2) / math.sqrt(k0(0.2, 0.2) * k0(1.2, 1.2)))
    th = math.acos(cos_t)
    exact = math.sqrt(k0(0.2, 0.2) * k0(1.2, 1.2)) / (2 * math.pi) * (math.sin(th) + (math.pi - th) * cos_t)
    assert exact == pytest.approx(0.12, abs=1e-12)
    se = prod.std().item() / math.sqrt(len(prod))
    assert abs(prod.mean().item() - exact) < 4 * se
    assert abs(prod.mean().item() - 0.9 * exact) > 4 * se  # the check can fail


def test_gauss_activation_is_normalised_and_does_not_overflow():
    """E[phi(z)^2] = 1 for every input (the Gauss-net normalisation), within 4 s.e.; x = 40 is finite."""
    net = gauss_net(2, 1, sigma_w0=0.5, sigma_b0=0.5).subs({})
    params = net.sample(200_000, seed=4)
    x = torch.tensor([[0.3, -0.2], [1.0, 1.0]], dtype=torch.float64)
    _, pre = net.forward(params, x, return_preactivations=True)
    phi = net.layers[0].activation.torch(pre[0], net.log_normaliser(0, x))
    sq = phi[..., 0] ** 2
    se = sq.std(0) / math.sqrt(sq.shape[0])
    assert ((sq.mean(0) - 1).abs() < 4 * se).all()
    far = net.forward(params, torch.tensor([[40.0, -40.0]], dtype=torch.float64))
    assert torch.isfinite(far).all()


def test_gauss_normaliser_from_the_laws_cgf():
    r"""For a Gaussian first layer, 1/2 log E[e^{2z}] = k_0(x,x) = s_b^2 + s_w^2 |x|^2 / d."""
    net = gauss_net(2, 3, sigma_w0=0.7, sigma_b0=0.4).subs({})
    x = torch.tensor([[1.5, -2.0]], dtype=torch.float64)
    k0 = 0.4 ** 2 + 0.7 ** 2 * (1.5 ** 2 + 2.0 ** 2) / 2
    assert torch.allclose(net.log_normaliser(0, x), torch.full((1, 3), k0, dtype=torch.float64))
    # a uniform-weight layer uses the uniform law's CGF
    uni = Network(1, [Dense(2, "gauss", weight=Uniform(-1, 1)), Dense(1)])
    h = torch.tensor([[0.8]], dtype=torch.float64)
    assert uni.log_normaliser(0, h)[0, 0].item() == pytest.approx(0.5 * math.log(math.sinh(1.6) / 1.6))


def test_gauss_with_heavy_law_reports_divergent_normaliser():
    from symcorr.distributions import Laplace
    net = Network(1, [Dense(2, "gauss", weight=Laplace(0, 1)), Dense(1)])
    with pytest.raises(SpecError, match="E\\[exp\\(2z\\)\\]"):
        net.forward(net.sample(3, seed=0), [[2.0]])


def test_symbolic_forward_agrees_with_numeric_forward():
    net = Network(2, [Dense(3, "tanh", bias=Normal(0, 1)), Dense(2, "gauss", bias=Normal(0, 1)),
                      Dense(1, bias=Normal(0, 1))])
    params = net.sample(1, seed=5)
    x = [sp.Rational(1, 3), sp.Rational(-2, 5)]
    explicit = {k: sp.Matrix(v[0].tolist()) if v.ndim == 3 else sp.Matrix(v[0].tolist())
                for k, v in params.items()}
    sym = net.symbolic_forward(x, explicit)
    num = net.forward(params, torch.tensor([[1 / 3, -2 / 5]], dtype=torch.float64))
    assert float(sp.N(sym[0])) == pytest.approx(num[0, 0, 0].item(), rel=1e-10)


def test_cos_net_and_markdown_description():
    net = cos_net(2, N, 3)
    assert net.bias(0).law == UniformCircle()
    md = net.markdown()
    assert "W^{0}" in md and "\\mathcal{U}(S^1)" in md and "cos" in md
    assert net.latex() == r"f(x) = W^{1} \phi_{\mathrm{cos}}\left(W^{0} x + b^{0}\right) + b^{1}"


def test_replace_layer_and_equality():
    net = erf_net(2, 5, 3)
    shifted = net.replace_layer(-1, weight=Normal([1, 0, 0], sp.Rational(1, 5)))
    assert shifted != net
    assert shifted.weight(1).law.block_mean((3, 5))[0, 4] == 1
    assert net.replace_layer(1, weight=net.weight(1).law) == net
    with pytest.raises(SpecError, match="unknown layer field"):
        net.replace_layer(0, widht=3)


@pytest.mark.parametrize("values, where", [
    ({N: 2.5}, r"layers\[0\]\.width"),
    ({"N": "7/2"}, r"layers\[0\]\.width"),
    ({N: 0}, r"layers\[0\]\.width"),
    ({N: -3}, r"layers\[0\]\.width"),
    ({N: sp.oo}, r"layers\[0\]\.width"),
    ({D: sp.Rational(3, 2)}, r"input_dim"),
    ({N: N - 5}, r"layers\[0\]\.width"),
])
def test_subs_refuses_sizes_that_are_not_positive_integers(values, where):
    """A width of 2.5 used to be truncated to 2; every non-integer or non-positive size is an error."""
    net = erf_net(D, N, 3)
    with pytest.raises(SpecError, match=where):
        net.subs(values)


def test_subs_accepts_integer_valued_sizes():
    net = erf_net(D, N, 3)
    assert net.subs({N: 2.0, D: sp.Integer(4)}).widths == [2, 3]
    assert net.subs({"N": "6/2"}).widths == [3, 3]


def test_subs_names_the_law_that_becomes_invalid():
    sigma = sp.Symbol("sigma", real=True)
    net = erf_net(D, N, 3, sigma_w0=sigma)
    with pytest.raises(SpecError, match=r"layers\[0\]\.weight\.var: variance must be positive"):
        net.subs({sigma: 0})


def test_network_from_torch_is_a_thin_classmethod_over_the_reader():
    """Network.from_torch builds the same Network as symcorr.torch_models.read_sequential describes (the reader
    lives below spec: no import cycle, tests/test_architecture.py)."""
    import torch.nn as nn

    from symcorr.torch_models import read_sequential

    model = nn.Sequential(nn.Linear(3, 5), nn.SiLU(), nn.Linear(5, 2, bias=False))
    net = Network.from_torch(model, init={1: nn.init.orthogonal_}, name="m")
    arch = read_sequential(model, {1: nn.init.orthogonal_})
    assert net.name == "m" and list(net.blocks) == ["W0", "b0", "W1"]
    assert [(l.width, l.activation.name, l.weight, l.bias) for l in net.layers] == \
        [(a.out_features, a.activation, a.weight, a.bias) for a in arch.layers]
    params = net.sample(3, seed=0)
    assert torch.allclose(params["W1"] @ params["W1"].transpose(-1, -2), torch.eye(2, dtype=torch.float64).expand(3, 2, 2))
