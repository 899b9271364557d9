"""Small learnable Fashion-MNIST-like data for the tests (one home: the CLI, the experiment and the
cluster tests all train on it; the real files are used only by the tests marked ``dataset``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from symcorr.data import write_idx
from symcorr.data.idx import FASHION_MNIST_FILES


def images(n: int, seed: int, noise: float = 60) -> tuple[np.ndarray, np.ndarray]:
    """``n`` learnable 28x28 uint8 images and their labels: a fixed random prototype per class plus noise."""
    rng = np.random.default_rng(seed)
    protos = np.random.default_rng(1234).uniform(0, 255, (10, 28, 28))
    y = rng.integers(0, 10, n)
    x = np.clip(protos[y] + rng.normal(0, noise, (n, 28, 28)), 0, 255).astype(np.uint8)
    return x, y.astype(np.uint8)


def write_folder(folder: Path, train: int = 200, test: int = 100) -> Path:
    """The four gzipped IDX files of such a data set in ``folder`` (created), under their official names."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = (*images(train, 0), *images(test, 1))
    for key, arr in zip(("train_images", "train_labels", "test_images", "test_labels"), arrays):
        write_idx(folder / (FASHION_MNIST_FILES[key] + ".gz"), arr)
    return folder
