"""symcorr.experiments.fashion_mnist.model: the initial law (through the spec), targets, prediction,
the vectorised forward pass, and the matrix-product fallback."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from symcorr.errors import SpecError
from symcorr.experiments.fashion_mnist import (evaluate, forward, init_weights, make_targets, paper_network,
                                               predict, spec_init_sampler)
from symcorr.experiments.fashion_mnist import model

DERIVATION = Path(__file__).parents[3] / "derivations" / "fashion_mnist.toml"


# --- initial law -------------------------------------------------------------------------------------

def test_init_law_means_and_variances():
    """Two groups of models in one batch, (mu, k) = (0.3, 4) and (-0.2, 7), fixed seed.

    Every check is a sample mean compared with its expectation within 4 standard errors (for a sample
    variance of n normal draws, s.e. = var * sqrt(2 / n))."""
    M = 200
    mus = np.where(np.arange(M) < 100, 0.3, -0.2)
    ks = np.where(np.arange(M) < 100, 4, 7)
    W0, W1 = init_weights(M, mus, ks, torch.Generator().manual_seed(2024))
    W0, W1 = W0.double(), W1.double()
    assert W0.shape == (M, 50, 784) and W1.shape == (M, 10, 50) and W0.dtype == torch.float64

    def check_mean(x, expect, var):
        se = math.sqrt(var / x.numel())
        assert abs(x.mean().item() - expect) < 4 * se, (x.mean().item(), expect, se)

    def check_var(x, var):
        se = var * math.sqrt(2 / x.numel())
        assert abs(x.var().item() - var) < 4 * se, (x.var().item(), var, se)

    for sl, mu, k in ((slice(0, 100), 0.3, 4), (slice(100, 200), -0.2, 7)):
        shifted, rest = W1[sl, :k], W1[sl, k:]
        check_mean(shifted, mu, 1 / 50)
        check_mean(rest, 0.0, 1 / 50)
        check_var(shifted, 1 / 50)
        check_var(rest, 1 / 50)
        # every single shifted row is centred on mu (50 entries per row -> loose per-row bound)
        row_means = shifted.mean(-1)
        assert (row_means - mu).abs().max() < 5 * math.sqrt(1 / 50 / 50)
    check_mean(W0, 0.0, 1 / 784)
    check_var(W0, 1 / 784)


def test_init_per_model_generators_and_validation():
    a0, a1 = init_weights(1, 0.1, 3, torch.Generator().manual_seed(9))
    b0, b1 = init_weights(1, [0.1], [3], [torch.Generator().manual_seed(9)])
    assert torch.equal(a0, b0) and torch.equal(a1, b1)
    # model m's draw only depends on its own generator
    c0, _ = init_weights(2, 0.0, 0, [torch.Generator().manual_seed(1), torch.Generator().manual_seed(9)])
    assert torch.equal(c0[1], a0[0])
    # k = 0 or mu = 0: no shift at all
    z0, z1 = init_weights(1, 0.5, 0, torch.Generator().manual_seed(9))
    torch.testing.assert_close(z1, a1 - 0.1 * (torch.arange(10) < 3)[None, :, None], rtol=0, atol=1e-7)
    assert torch.equal(z0, a0)
    with pytest.raises(SpecError, match="ks"):
        init_weights(2, 0.1, 11, torch.Generator())
    with pytest.raises(SpecError, match="expected 3 values"):
        init_weights(3, [0.1, 0.2], 1, torch.Generator())
    with pytest.raises(SpecError, match="one generator per model"):
        init_weights(2, 0.1, 1, [torch.Generator()])
    with pytest.raises(SpecError, match="mus"):
        init_weights(1, float("nan"), 1, torch.Generator())
    with pytest.raises(SpecError, match="M"):
        init_weights(0, 0.1, 1, torch.Generator())


def test_init_draws_through_the_spec():
    """init_weights is Network.sample of the paper's spec with the read-out rows 0..k-1 shifted: model
    m's blocks are exactly that spec's draw from model m's generator."""
    from symcorr.distributions import Normal

    net = paper_network()
    assert net.input_dim == 784 and list(net.widths) == [50, 10] and set(net.blocks) == {"W0", "W1"}
    mu, k = 0.13, 6
    shifted = net.replace_layer(1, weight=Normal([mu] * k + [0.0] * (10 - k), net.weight(1).law.var))
    want = shifted.sample(1, generator=torch.Generator().manual_seed(5), dtype=torch.float32)
    W0, W1 = init_weights(2, [0.0, mu], [0, k], [torch.Generator().manual_seed(4),
                                                  torch.Generator().manual_seed(5)])
    assert torch.equal(W0[1], want["W0"][0]) and torch.equal(W1[1], want["W1"][0])
    assert not torch.equal(W1[0], want["W1"][0])
    # one generator: one Network.sample of M networks (W0 of all models, then W1 of all), plus the shift
    base = net.sample(3, generator=torch.Generator().manual_seed(8), dtype=torch.float32)
    W0, W1 = init_weights(3, [0.0, mu, 0.5], [0, k, 0], torch.Generator().manual_seed(8))
    shift = torch.tensor([mu] * k + [0.0] * (10 - k), dtype=torch.float32)[:, None]
    assert torch.equal(W0, base["W0"]) and torch.equal(W1[[0, 2]], base["W1"][[0, 2]])
    assert torch.equal(W1[1], base["W1"][1] + shift)


def test_spec_init_sampler_reads_the_derivation_and_matches_init_weights():
    """The spec in derivations/fashion_mnist.toml describes exactly the experiment's initial law."""
    from symcorr.specfile import load_spec

    doc = load_spec(DERIVATION)
    sampler = spec_init_sampler(doc.network)
    gens = lambda: [torch.Generator().manual_seed(i) for i in range(3)]  # noqa: E731
    a = sampler(3, [0.1, 0.0, 0.2], [2, 0, 10], gens())
    b = init_weights(3, [0.1, 0.0, 0.2], [2, 0, 10], gens())
    assert torch.allclose(a[0], b[0], atol=1e-7) and torch.allclose(a[1], b[1], atol=1e-7)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])      # one law, one sampler: bit for bit
    # and it is a different law when k differs (the comparison can fail)
    c = sampler(3, [0.1, 0.0, 0.2], [3, 0, 10], gens())
    assert not torch.allclose(c[1], b[1], atol=1e-3)


def test_spec_init_sampler_rejects_other_architectures():
    from symcorr.zoo import relu_net

    with pytest.raises(SpecError, match="784 -> 50"):
        spec_init_sampler(relu_net(784, 40, 10, sigma_b0=None, sigma_b1=None))
    with pytest.raises(SpecError, match="no biases"):
        spec_init_sampler(relu_net(784, 50, 10))


# --- targets, prediction, forward ------------------------------------------------------------------

def test_targets_hot_and_cold():
    y = np.array([0, 3, 9])
    hot, cold = make_targets(y, "hot"), make_targets(y, "cold")
    assert hot.dtype == torch.float32 and hot.shape == (3, 10)
    assert torch.equal(hot, torch.eye(10)[y])
    assert torch.equal(cold, 1 - torch.eye(10)[y])
    assert cold.sum(1).tolist() == [9.0] * 3
    with pytest.raises(SpecError, match="one-cold"):
        make_targets(y, "warm")


def test_prediction_argmax_hot_argmin_cold():
    out = torch.tensor([[2.0, 0.0, 1.0], [0.0, 3.0, 1.5]])
    assert predict(out, "hot").tolist() == [0, 1]
    assert predict(out, "cold").tolist() == [1, 0]
    # the same through evaluate(): d_in = width = 2, n_out = 3, W0 = I
    W0 = torch.eye(2)[None]
    W1 = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]])
    x = torch.tensor([[2.0, 0.0], [0.0, 3.0]])
    torch.testing.assert_close(forward(W0, W1, x)[0], out)
    assert evaluate(W0, W1, x, [0, 1], "hot").tolist() == [2]
    assert evaluate(W0, W1, x, [0, 1], "cold").tolist() == [0]
    assert evaluate(W0, W1, x, [1, 0], "cold").tolist() == [2]


def test_forward_and_evaluate_match_torch_nn(data):
    W0, W1 = init_weights(3, 0.1, 5, torch.Generator().manual_seed(4))
    out = forward(W0, W1, data.x_test)
    for m in range(3):
        ref = torch.relu(data.x_test @ W0[m].T) @ W1[m].T
        torch.testing.assert_close(out[m], ref, rtol=1e-5, atol=1e-5)
        for target in ("hot", "cold"):
            want = (predict(ref, target) == data.y_test).sum().item()
            assert evaluate(W0, W1, data.x_test, data.y_test, target, batch_size=7)[m].item() == want


# --- the oneDNN product and its fallback ------------------------------------------------------------

class _Ops:
    """A stand-in for ``torch.ops`` whose ``mkldnn`` namespace lacks or breaks the operator."""

    def __init__(self, error):
        self.error = error

    @property
    def mkldnn(self):
        error = self.error

        class Namespace:
            def __getattr__(self, name):
                if isinstance(error, AttributeError):
                    raise error

                def op(*args):
                    raise error
                return op
        return Namespace()


@pytest.mark.parametrize("error", [AttributeError("no _linear_pointwise in this build"),
                                   RuntimeError("unsupported CPU"), NotImplementedError("no kernel")])
def test_missing_onednn_falls_back_to_torch_mm(monkeypatch, error):
    monkeypatch.setattr(model, "_ONEDNN_NT", None)
    monkeypatch.setattr(model.torch, "ops", _Ops(error))
    assert model.onednn_op() is False
    with pytest.raises(SpecError, match="gemm"):
        model.gemm_nt("onednn")
    a, b = torch.randn(4, 6), torch.randn(3, 6)
    torch.testing.assert_close(model.gemm_nt("auto")(a, b, relu=True), torch.relu(a @ b.T))


def test_other_onednn_errors_surface(monkeypatch):
    """Only "missing" and "cannot run here" mean falling back; a bug (here a TypeError) is not hidden."""
    monkeypatch.setattr(model, "_ONEDNN_NT", None)
    monkeypatch.setattr(model.torch, "ops", _Ops(TypeError("a bug")))
    with pytest.raises(TypeError, match="a bug"):
        model.onednn_op()
