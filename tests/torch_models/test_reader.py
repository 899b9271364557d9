"""Tests for symcorr.torch_models.reader and Network.from_torch: nn.Sequential models read into specs.

Statistical checks (fixed seeds): closed forms or quadrature against Monte Carlo within 4.5 standard
errors, shown to fail on a wrong law.
"""

import functools

import pytest
import sympy as sp
import torch
import torch.nn as nn

from symcorr import Dense, Network
from symcorr.distributions import HaarOrthogonal, Normal, PointMass, TruncatedNormal, Uniform
from symcorr.duality.moments import TwoLayerModel
from symcorr.errors import SpecError
from symcorr.montecarlo import estimate_correlators
from symcorr.symbolic import correlator
from symcorr.torch_models import read_sequential

P = functools.partial


def _mlp(*sizes, act=nn.Tanh, bias=True):
    layers = []
    for k, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b, bias=bias))
        if k < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def test_default_mlp_reads_torch_default_laws():
    net = Network.from_torch(_mlp(3, 8, 2, act=nn.ReLU))
    u3, u8 = 1 / sp.sqrt(3), 1 / sp.sqrt(8)
    assert net == Network(3, [Dense(8, "relu", weight=Uniform(-u3, u3), bias=Uniform(-u3, u3)),
                              Dense(2, weight=Uniform(-u8, u8), bias=Uniform(-u8, u8))])


def test_activations_nesting_identity_and_no_bias():
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 4, bias=False), nn.GELU()), nn.Identity(),
                          nn.Sequential(nn.Linear(4, 4), nn.SiLU(), nn.Sequential(nn.Linear(4, 3), nn.Sigmoid())),
                          nn.Linear(3, 3), nn.Linear(3, 1))
    net = Network.from_torch(model, name="mine")
    assert [layer.activation.name for layer in net.layers] == ["gelu", "silu", "sigmoid", "identity", "identity"]
    assert net.widths == [4, 4, 3, 3, 1] and net.bias(0) is None and net.name == "mine"
    arch = read_sequential(model)
    assert [layer.path for layer in arch.layers] == ["0.0", "2.0", "2.2.0", "3", "4"]
    single = Network.from_torch(nn.Linear(5, 2))
    assert single.depth == 1 and single.input_dim == 5


def test_initialiser_for_every_weight_and_per_layer_mapping():
    model = _mlp(4, 6, 6, 2)
    net = Network.from_torch(model, init=P(nn.init.kaiming_normal_, nonlinearity="tanh"))
    assert [net.weight(k).law for k in range(3)] == [Normal(0, sp.Rational(25, 9) / f) for f in (4, 6, 6)]
    assert net.bias(1).law == Uniform(-1 / sp.sqrt(6), 1 / sp.sqrt(6))  # biases keep their default
    net = Network.from_torch(model, init={0: nn.init.orthogonal_, 2: {"weight": nn.init.zeros_,
                                                                      "bias": P(nn.init.trunc_normal_, std=0.02)}})
    assert net.weight(0).law == HaarOrthogonal(1)
    assert net.weight(1).law == Uniform(-1 / sp.sqrt(6), 1 / sp.sqrt(6))
    assert net.weight(2).law == PointMass(0)
    assert net.bias(2).law == TruncatedNormal(0, sp.Rational(1, 50), -2, 2)


@pytest.mark.parametrize("model, match", [
    (nn.Sequential(nn.Linear(3, 4), nn.Dropout()), r"layer '1' \(Dropout\).*not supported"),
    (nn.Sequential(nn.Linear(3, 4), nn.Conv1d(1, 1, 3)), r"layer '1' \(Conv1d\)"),
    (nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.LayerNorm(4))), r"layer '1.0' \(LayerNorm\)"),
    (nn.Sequential(nn.ReLU(), nn.Linear(3, 4)), "before the first nn.Linear"),
    (nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Tanh()), "right after another activation"),
    (nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2)), "5 input features"),
    (nn.Sequential(nn.Linear(3, 4), nn.GELU(approximate="tanh")), "approximate='tanh'"),
    (nn.ModuleList([nn.Linear(3, 4)]), "only nn.Sequential"),
    (nn.Sequential(nn.ReLU()), "before the first"),
    (nn.Sequential(), "no nn.Linear"),
    ("not a module", "torch.nn.Module"),
])
def test_unsupported_models_are_clear_errors(model, match):
    with pytest.raises(SpecError, match=match):
        Network.from_torch(model)


@pytest.mark.parametrize("init, match", [
    (lambda t: t, "unsupported initialiser"),
    ({3: nn.init.zeros_}, "indices 0..1"),
    ({0: {"weights": nn.init.zeros_}}, "unknown key"),
    ({0: {"bias": nn.init.xavier_normal_}}, "at least 2 dimensions"),
    ({0: {"bias": nn.init.orthogonal_}}, "orthogonal_ needs a matrix"),
    (P(nn.init.kaiming_normal_, mode="fan_avg"), "fan_avg"),
])
def test_unsupported_initialisers_are_clear_errors(init, match):
    with pytest.raises(SpecError, match=match):
        Network.from_torch(_mlp(3, 4, 1), init=init)
    with pytest.raises(SpecError, match="bias=False"):
        Network.from_torch(_mlp(3, 4, 1, bias=False), init={0: {"bias": nn.init.zeros_}})


X = torch.tensor([[0.5, 0.0], [0.0, 1.0]], dtype=torch.float64)


@pytest.mark.parametrize("act", [nn.GELU, nn.SiLU, nn.Sigmoid])
def test_activations_without_closed_forms_by_quadrature(act):
    """GELU, SiLU, sigmoid: with torch's default (uniform) laws the exact engine integrates by product
    quadrature (symcorr.duality.moments); with Gaussian laws symcorr.symbolic uses Gauss-Hermite.  Both agree
    with Monte Carlo within 4.5 s.e.; a 5% wrong value is rejected."""
    model = _mlp(2, 3, 1, act=act)
    for init in (None, {0: {"weight": nn.init.normal_, "bias": P(nn.init.normal_, std=0.5)}}):
        net = Network.from_torch(model, init=init)
        if init is None:
            exact = TwoLayerModel(net).correlator([[sp.Rational(1, 2), 0], [0, 1]])
            assert exact.method == "quadrature"
            value = float(exact.num.real)
        else:
            value = correlator(net, 2).evaluate(X.numpy(), (0, 0))
        est = estimate_correlators(net, X, orders=(2,), networks=60000, seed=3, estimator="direct",
                                   entries={2: torch.tensor([[0, 1]])}, device="cpu")[2]
        mean, se = float(est.mean[0]), float(est.se[0])
        assert abs(mean - value) < 4.5 * se, (act, init is None, mean, value, se)
        assert abs(mean - 1.05 * value) > 4.5 * se


def test_the_spec_samples_like_the_torch_model():
    """Entry laws of Network.from_torch(...).sample match torch's own initialisation (KS at 1e-3)."""
    import scipy.stats

    model = _mlp(6, 40, 1)
    net = Network.from_torch(model, init={0: P(nn.init.xavier_uniform_, gain=2.0)})
    spec_w = net.sample(200, seed=0)["W0"].reshape(-1)
    torch_w = torch.empty(200, 40, 6, dtype=torch.float64)
    g = torch.Generator().manual_seed(1)
    for k in range(200):
        nn.init.xavier_uniform_(torch_w[k], gain=2.0, generator=g)
    assert scipy.stats.ks_2samp(spec_w.numpy(), torch_w.reshape(-1).numpy()).pvalue > 1e-3
    torch_w *= 1.1
    assert scipy.stats.ks_2samp(spec_w.numpy(), torch_w.reshape(-1).numpy()).pvalue < 1e-3
