"""Small synthetic Fashion-MNIST-like data for the experiment's tests (the real files are not used,
except by the tests marked ``dataset``)."""

import pytest

from symcorr.experiments.fashion_mnist import TrainData
from synthetic_fashion import images


@pytest.fixture(scope="session")
def arrays():
    xtr, ytr = images(200, 0)
    xte, yte = images(100, 1)
    return xtr, ytr, xte, yte


@pytest.fixture(scope="session")
def data(arrays):
    return TrainData.from_arrays(*arrays)
