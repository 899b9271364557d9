"""Datasets used by symcorr's experiments (Fashion-MNIST from the official IDX files)."""

from .idx import (DEFAULT_FASHION_MNIST_ROOT, FASHION_MNIST_ENV, DatasetNotFoundError, FashionMNIST,
                  IDXFormatError, load_fashion_mnist, normalisation_constants, normalise_images,
                  read_idx, write_idx)

__all__ = [
    "DEFAULT_FASHION_MNIST_ROOT", "FASHION_MNIST_ENV", "DatasetNotFoundError", "FashionMNIST",
    "IDXFormatError", "load_fashion_mnist", "normalisation_constants", "normalise_images", "read_idx",
    "write_idx",
]
