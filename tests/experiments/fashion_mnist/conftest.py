"""Small synthetic Fashion-MNIST-like data for the experiment's tests (the real files are not used,
except by the tests marked ``dataset``)."""

import numpy as np
import pytest

from symcorr.experiments.fashion_mnist import TrainData


def images(n, seed, noise=60):
    """Learnable 28x28 uint8 images: a fixed random prototype per class plus noise."""
    rng = np.random.default_rng(seed)
    protos = np.random.default_rng(1234).uniform(0, 255, (10, 28, 28))
    y = rng.integers(0, 10, n)
    x = np.clip(protos[y] + rng.normal(0, noise, (n, 28, 28)), 0, 255).astype(np.uint8)
    return x, y.astype(np.uint8)


@pytest.fixture(scope="session")
def arrays():
    xtr, ytr = images(200, 0)
    xte, yte = images(100, 1)
    return xtr, ytr, xte, yte


@pytest.fixture(scope="session")
def data(arrays):
    return TrainData.from_arrays(*arrays)
