"""symcorr.experiments.fashion_mnist.train: many models trained at once (hand-written gradients, the one
Adam of symcorr.optim) against one torch.nn model at a time."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from symcorr.experiments.fashion_mnist import TrainData, init_weights, reference_train, train_models


# --- the key correctness test --------------------------------------------------------------------

@pytest.mark.parametrize("target", ["hot", "cold"])
@pytest.mark.parametrize("gemm", ["auto", "torch"])
def test_vectorised_equals_one_model_at_a_time(data, target, gemm):
    """3 models trained together (hand-written gradients, stacked Adam) == 3 separate torch.nn models
    with autograd, torch.optim.Adam and StepLR, from the same init and the same batches."""
    W0, W1 = init_weights(3, [0.0, 0.1, 0.2], [0, 4, 10], torch.Generator().manual_seed(7))
    kw = dict(target=target, epochs=3, batch_size=64, lr=1e-3, gamma=0.7, shuffle=11)
    vec = train_models(W0, W1, data, gemm=gemm, **kw)
    ref = reference_train(W0, W1, data, **kw)
    torch.testing.assert_close(vec.W1, ref.W1, rtol=0, atol=1e-5)
    torch.testing.assert_close(vec.W0, ref.W0, rtol=0, atol=1e-5)
    np.testing.assert_allclose(vec.train_loss, ref.train_loss, rtol=1e-5)
    np.testing.assert_array_equal(vec.test_acc, ref.test_acc)
    assert (vec.W0 - W0).abs().max() > 1e-3           # the weights did move
    assert vec.test_acc.shape == (3, 3) and vec.max_acc.shape == (3,)


@pytest.mark.parametrize("fused_adam", [False, None])
def test_both_adam_kernels_train_alike(data, fused_adam):
    """Either kernel of symcorr.optim.Adam gives the one-model-at-a-time result."""
    W0, W1 = init_weights(2, [0.0, 0.2], [0, 10], torch.Generator().manual_seed(1))
    kw = dict(epochs=2, shuffle=3)
    vec = train_models(W0, W1, data, fused_adam=fused_adam, **kw)
    ref = reference_train(W0, W1, data, **kw)
    torch.testing.assert_close(vec.W0, ref.W0, rtol=0, atol=1e-5)
    torch.testing.assert_close(vec.W1, ref.W1, rtol=0, atol=1e-5)


def test_last_partial_batch_and_batch_size(data):
    """200 = 3*64 + 8: the short last batch is averaged over its own size, as F.mse_loss does."""
    W0, W1 = init_weights(2, 0.05, 10, torch.Generator().manual_seed(3))
    for bs in (64, 200, 37):
        vec = train_models(W0, W1, data, epochs=1, batch_size=bs, shuffle=2)
        ref = reference_train(W0, W1, data, epochs=1, batch_size=bs, shuffle=2)
        torch.testing.assert_close(vec.W0, ref.W0, rtol=0, atol=1e-5)


def test_training_learns_and_loss_falls(data):
    W0, W1 = init_weights(2, 0.0, 0, torch.Generator().manual_seed(5))
    out = train_models(W0, W1, data, epochs=4, shuffle=0)
    assert out.max_acc.min() > 80.0           # prototypes + noise are easy; chance is 10 %
    assert np.all(out.train_loss[:, -1] < out.train_loss[:, 0])


@pytest.mark.dataset
def test_vectorised_equals_one_model_at_a_time_on_real_fashion_mnist():
    """The same comparison on the real files (the first 3000 training and 1000 test images)."""
    from symcorr.data.idx import DEFAULT_FASHION_MNIST_ROOT, FASHION_MNIST_ENV, load_fashion_mnist

    root = os.environ.get(FASHION_MNIST_ENV) or DEFAULT_FASHION_MNIST_ROOT
    if not any((Path(root) / f"t10k-labels-idx1-ubyte{ext}").exists() for ext in (".gz", "")):
        pytest.skip(f"Fashion-MNIST not installed in {root} (apt-get install -y dataset-fashion-mnist)")
    fm = load_fashion_mnist(root)
    data = TrainData.from_arrays(fm.train_images[:3000], fm.train_labels[:3000], fm.test_images[:1000],
                                 fm.test_labels[:1000])
    W0, W1 = init_weights(2, [0.0, 0.1], [0, 10], [torch.Generator().manual_seed(s) for s in (0, 1)])
    for target in ("hot", "cold"):
        vec = train_models(W0, W1, data, target=target, epochs=2, shuffle=4)
        ref = reference_train(W0, W1, data, target=target, epochs=2, shuffle=4)
        torch.testing.assert_close(vec.W0, ref.W0, rtol=0, atol=1e-5)
        torch.testing.assert_close(vec.W1, ref.W1, rtol=0, atol=1e-5)
        np.testing.assert_allclose(vec.train_loss, ref.train_loss, rtol=1e-5)
        assert np.abs(vec.test_acc - ref.test_acc).max() <= 0.1        # at most one image of 1000
        assert vec.max_acc[0] > 60.0              # the unshifted model learns (chance: 10 %)
