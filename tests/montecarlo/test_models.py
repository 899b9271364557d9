"""Tests for symcorr.montecarlo.models: the numeric frame on any torch model.

Statistical checks use fixed seeds and state their tolerances: estimates of the same law agree within
4.5 combined standard errors; invariance tests run at family-wise level alpha = 0.01 (Holm), and every
invariant case has a broken counterpart that the same test rejects.
"""

import functools
import math

import pytest
import torch
import torch.nn as nn

from symcorr import Network
from symcorr.errors import SpecError
from symcorr.montecarlo import (ModelEnsemble, TorchModel, assert_invariant, estimate_correlators, invariance_test,
                                make_ensemble)
from symcorr.montecarlo.models import resolve_action
from symcorr.ntk import ntk_invariance_test, ntk_moments
from symcorr.tensor_groups import CyclicShifts, FeatureRotations, SignFlips, TokenPermutations

X = torch.tensor([[1.0, 0.0], [0.3, -0.7]], dtype=torch.float64)


def mlp(generator=None, act=nn.Tanh):
    return nn.Sequential(nn.Linear(2, 3), act(), nn.Linear(3, 1))


def kaiming_mlp(generator):
    model = mlp()
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_normal_(layer.weight, generator=generator)
    return model


def _agree(a, b, k=4.5) -> float:
    z = (a.mean - b.mean) / torch.sqrt(a.se ** 2 + b.se ** 2)
    return float(z.abs().max())


def test_a_torch_model_and_its_spec_have_the_same_correlators():
    """torch's default MLP drawn as modules (factory, global RNG forked and seeded) and read as a spec:
    G2 and G4 agree within 4.5 s.e.; the same model with kaiming_normal_ weights does not."""
    spec = estimate_correlators(Network.from_torch(mlp()), X, orders=(2, 4), networks=20000, seed=1,
                                estimator="direct", device="cpu")
    model = estimate_correlators(TorchModel(mlp, input_shape=(2,)), X, orders=(2, 4), networks=4000, seed=2,
                                 device="cpu")
    assert _agree(spec[2], model[2]) < 4.5 and _agree(spec[4], model[4]) < 4.5
    kaiming = estimate_correlators(TorchModel(kaiming_mlp, input_shape=(2,)), X, orders=(2,), networks=4000, seed=2,
                                   device="cpu")
    assert _agree(spec[2], kaiming[2]) > 4.5


def test_a_module_with_an_init_function():
    """A template re-initialised in place: an nn.init function on every weight (biases by reset_parameters),
    the law of Network.from_torch(module, init) (G2 within 4.5 s.e.), or a module-level init(module, g)."""
    init = functools.partial(nn.init.kaiming_normal_, nonlinearity="tanh")
    spec = estimate_correlators(Network.from_torch(mlp(), init=init), X, orders=(2,), networks=8000, seed=3,
                                estimator="direct", device="cpu")
    model = estimate_correlators(TorchModel(mlp(), init, input_shape=(2,)), X, orders=(2,), networks=8000, seed=4,
                                 device="cpu")
    assert _agree(spec[2], model[2]) < 4.5
    default = estimate_correlators(Network.from_torch(mlp()), X, orders=(2,), networks=8000, seed=3,
                                   estimator="direct", device="cpu")
    assert _agree(default[2], model[2]) > 4.5

    def zero_bias(module, generator):
        for layer in module:
            if isinstance(layer, nn.Linear):
                nn.init.normal_(layer.weight, std=0.5, generator=generator)
                nn.init.zeros_(layer.bias)

    ens = ModelEnsemble(TorchModel(mlp(), zero_bias, input_shape=(2,)), 600, seed=0, device="cpu")
    (chunk,) = list(ens.chunks())
    assert torch.equal(chunk.params["0.bias"], torch.zeros(600, 3, dtype=torch.float64))
    w = chunk.params["0.weight"].reshape(-1)
    assert abs(float(w.std()) - 0.5) < 4 * 0.5 / math.sqrt(2 * w.numel())


def test_networks_do_not_depend_on_the_chunk_and_the_global_rng_is_untouched():
    model = TorchModel(mlp, input_shape=(2,))
    state = torch.random.get_rng_state()
    a = estimate_correlators(model, X, orders=(2,), networks=600, seed=5, chunk=256, device="cpu")[2]  # 3 chunks
    b = estimate_correlators(model, X, orders=(2,), networks=600, seed=5, chunk=1024, device="cpu")[2]  # 1 chunk
    assert torch.allclose(a.mean, b.mean, rtol=1e-12, atol=1e-15) and torch.allclose(a.se, b.se, rtol=1e-10)
    assert torch.equal(torch.random.get_rng_state(), state)
    c = estimate_correlators(model, X, orders=(2,), networks=600, seed=6, device="cpu")[2]
    assert not torch.allclose(a.mean, c.mean)
    ens = make_ensemble(model, 600, seed=5, chunk=600, device="cpu")
    assert isinstance(ens, ModelEnsemble) and ens.block == 256 and ens.chunk == 512 and ens.num_chunks == 2


L = 6


def conv_net(circular: bool):
    """Conv1d(1 -> 3 channels, kernel 5) with circular or zero padding, tanh, an nn.Linear read-out of the
    flattened features; torch's default initialisation."""
    def factory(generator):
        conv = nn.Conv1d(1, 3, 5, padding=2, padding_mode="circular" if circular else "zeros")
        return nn.Sequential(conv, nn.Tanh(), nn.Flatten(), nn.Linear(3 * L, 1))
    factory.__name__ = f"conv1d_{'circular' if circular else 'zeros'}"
    return TorchModel(factory, input_shape=(1, L))


def _conv_points():
    x = torch.zeros(2, 1, L, dtype=torch.float64)
    x[0, :, 0], x[0, :, -1] = 3.0, -3.0  # a bump across the boundary: zero padding cuts it
    x[1] = torch.randn(1, L, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return x


def test_cyclic_shifts_are_a_symmetry_of_a_circular_convolution_and_not_of_zero_padding():
    """Conv1d with circular padding, then an iid read-out of the flattened features: f(Cx) = (W1 P) h(x) and
    W1 P has the law of W1, so the density is shift invariant (not each network).  Zero padding breaks it."""
    x = _conv_points()
    ok = assert_invariant(conv_net(True), CyclicShifts(L), "input", x, orders=(2,), networks=2000, seed=1,
                          device="cpu")
    assert ok.verdict == "invariant"
    with pytest.raises(AssertionError, match="invariance rejected"):
        assert_invariant(conv_net(False), CyclicShifts(L), "input", x, orders=(2,), networks=2000, seed=1, device="cpu")


T, DM = 4, 4


class Encoder(nn.Module):
    """A transformer encoder layer (no dropout) and a linear read-out of all token features, with no,
    learned (iid normal_) or fixed sinusoidal positional information."""

    def __init__(self, position: str):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(d_model=DM, nhead=2, dim_feedforward=8, dropout=0.0, batch_first=True)
        self.out = nn.Linear(T * DM, 1)
        self.position = position
        if position == "learned":
            self.pos = nn.Parameter(torch.empty(T, DM))
            nn.init.normal_(self.pos)
        elif position == "sinusoidal":
            p, i = torch.arange(T)[:, None], torch.arange(DM)[None, :]
            angle = p / 10000 ** ((i - i % 2) / DM)
            self.register_buffer("pos", torch.where(i % 2 == 0, torch.sin(angle), torch.cos(angle)))

    def forward(self, x):
        if self.position != "none":
            x = x + self.pos
        return self.out(self.layer(x).flatten(1))


@pytest.mark.parametrize("position, expect", [("none", "invariant"), ("learned", "invariant"),
                                              ("sinusoidal", "broken")])
def test_token_permutations_of_a_transformer(position, expect):
    """Attention is permutation equivariant and an iid read-out of the flattened tokens absorbs the
    permutation, so without positions the density is invariant.  Learned positional embeddings drawn iid
    (normal_) keep it at initialisation: (pi x + P) = pi (x + pi^T P) and pi^T P has the law of P.  Fixed
    sinusoidal positions break it."""
    model = TorchModel(lambda g: Encoder(position), input_shape=(T, DM), name=f"encoder-{position}")
    x = torch.randn(2, T, DM, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    result = invariance_test(model, TokenPermutations(T), "input", x, orders=(2,),
                             networks=1000 if position == "none" else 2000, seed=1, device="cpu")
    assert result.verdict == expect, result.summary()


def test_sign_flips_and_rotations_of_a_feature_axis():
    """Width-1 ReLU MLPs on flat inputs, re-initialised in place by torch's own reset_parameters (the
    default, uniform laws; the global RNG forked and seeded by the ensemble) or with kaiming_normal_ first-layer
    weights: the Gaussian one is invariant under rotations of the input features; the default only under sign
    flips, and the 45 degree rotation is rejected at order 4 (G4 changes by -0.44: derivations/torch_mlp_default.toml)."""
    big = 4 * torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    c = math.sqrt(0.5)
    rot45 = torch.tensor([[[c, -c], [c, c]]], dtype=torch.float64)

    def torch_default(module, generator):
        for layer in module:
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()

    def kaiming_first(module, generator):
        torch_default(module, generator)
        nn.init.kaiming_normal_(module[0].weight, generator=generator)

    def narrow():
        return nn.Sequential(nn.Linear(2, 1), nn.ReLU(), nn.Linear(1, 1))

    default = TorchModel(narrow(), torch_default, input_shape=(2,))
    kaiming = TorchModel(narrow(), kaiming_first, input_shape=(2,))
    kw = dict(orders=(4,), seed=2, device="cpu")
    assert invariance_test(kaiming, FeatureRotations(2), "input", big, elements=rot45, networks=6000,
                           **kw).verdict == "invariant"
    assert invariance_test(default, SignFlips(2), "input", big, networks=6000, **kw).verdict == "invariant"
    broken = invariance_test(default, "SO", "input", big, elements=rot45, networks=25000, **kw)
    assert broken.verdict == "broken" and float(broken.difference[0]) < 0
    assert resolve_action(default, "SO", "input") == FeatureRotations(2).base


def test_ntk_of_a_torch_model():
    """E[Theta] of the module ensemble equals the spec's (4.5 s.e.); the NTK law of the circular convolution
    is shift invariant (the absorbing map W1 -> W1 P is orthogonal), with zero padding it is not."""
    spec = ntk_moments(Network.from_torch(mlp()), X, networks=1500, seed=0, order=1)
    model = ntk_moments(TorchModel(mlp, input_shape=(2,)), X, networks=1500, seed=1, order=1)
    z = (spec.mean - model.mean) / torch.sqrt(spec.se ** 2 + model.se ** 2)
    assert float(z.abs().max()) < 4.5
    assert set(model.block_mean) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert torch.allclose(sum(model.block_mean.values()), model.mean)
    x = _conv_points()
    kw = dict(networks=1000, seed=2, orders=(1,), group_samples=3)
    assert ntk_invariance_test(conv_net(True), CyclicShifts(L), "input", x, **kw).verdict == "invariant"
    assert ntk_invariance_test(conv_net(False), CyclicShifts(L), "input", x, **kw).verdict == "broken"
    with pytest.raises(SpecError, match="standard parameterisation"):
        ntk_moments(TorchModel(mlp, input_shape=(2,)), X, networks=10, seed=0, parameterisation="ntk")


def test_clear_errors():
    model = TorchModel(mlp, input_shape=(2,))
    with pytest.raises(SpecError, match="sampled whole"):
        estimate_correlators(model, X, networks=10, estimator="neuron")
    with pytest.raises(SpecError, match="sampled whole"):
        invariance_test(model, "SO", "input", X, networks=10, estimator="readout")
    with pytest.raises(SpecError, match="needs an init function"):
        TorchModel(mlp(), input_shape=(2,))
    with pytest.raises(SpecError, match="input_shape"):
        TorchModel(mlp, input_shape=(3,))
    with pytest.raises(SpecError, match="input_shape"):
        TorchModel(mlp, input_shape=(0,))
    with pytest.raises(SpecError, match="inputs must have shape"):
        estimate_correlators(model, torch.zeros(2, 3), networks=10)
    with pytest.raises(SpecError, match="one axis"):
        invariance_test(conv_net(True), "SO", "input", _conv_points(), networks=10)
    with pytest.raises(SpecError, match="axis -1 of length 5"):
        invariance_test(conv_net(True), CyclicShifts(5), "input", _conv_points(), networks=10)
    with pytest.raises(SpecError, match="factory must return"):
        TorchModel(lambda g: 3, input_shape=(2,))
    with pytest.raises(SpecError, match="Network or a symcorr.montecarlo.TorchModel"):
        estimate_correlators(nn.Linear(2, 1), X, networks=10)

    class WithBias(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.ones(1, 2))
            self.shift = nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return x @ self.w.T + self.shift

    with pytest.raises(SpecError, match=r"\['shift'\].*same in every network"):
        TorchModel(WithBias(), nn.init.normal_, input_shape=(2,))


@pytest.mark.slow
def test_calibration_of_a_torch_model_under_a_true_symmetry():
    """40 seeds of the circular convolution (a true symmetry of its density), alpha = 0.01 (Holm): at most 3
    rejections (a binomial(40, 0.01) exceeds 3 with probability 7e-4)."""
    x = _conv_points()
    rejected = sum(invariance_test(conv_net(True), CyclicShifts(L), "input", x, orders=(2,), networks=1000, seed=s,
                                   device="cpu").rejected for s in range(40))
    assert rejected <= 3
