"""Reader (and a small writer) for the IDX files that MNIST and Fashion-MNIST ship in.

IDX layout (big-endian throughout)::

    bytes 0-1   0x00 0x00                    magic prefix
    byte  2     type code                    0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                                             0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    4*d bytes   the dimensions, each an unsigned 32-bit integer
    rest        the values, C order, big-endian

The official files are ``train-images-idx3-ubyte`` (magic 0x00000803: uint8, 3 dims, 60000x28x28),
``train-labels-idx1-ubyte`` (0x00000801: uint8, 1 dim, 60000) and the ``t10k-*`` equivalents (10000),
each usually gzip-compressed (``.gz``).  Compression is recognised from the file's first bytes, not
from its name.

:func:`load_fashion_mnist` finds the four files in a folder: the ``root`` argument, else the
environment variable ``SYMCORR_FASHION_MNIST``, else ``/usr/share/datasets/fashion-mnist/`` (where the
Debian package ``dataset-fashion-mnist`` installs them).

Normalisation (:func:`normalisation_constants`): the paper's code used ``Normalize(0.1307, 0.3081)``,
the *MNIST* statistics, on Fashion-MNIST.  Mode ``"corrected"`` (default) uses Fashion-MNIST's own
pixel mean and standard deviation over the training set (about 0.2860 and 0.3530 on the [0, 1]
scale); mode ``"paper"`` reproduces the original constants.
"""

from __future__ import annotations

import gzip
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "IDXFormatError", "DatasetNotFoundError", "FashionMNIST", "read_idx", "write_idx",
    "load_fashion_mnist", "normalisation_constants", "normalise_images",
    "DEFAULT_FASHION_MNIST_ROOT", "FASHION_MNIST_ENV", "FASHION_MNIST_FILES",
    "MNIST_MEAN", "MNIST_STD", "NORMALISATION_MODES",
]

#: where Debian's ``dataset-fashion-mnist`` package puts the official files
DEFAULT_FASHION_MNIST_ROOT = "/usr/share/datasets/fashion-mnist/"
#: environment variable that overrides the default folder
FASHION_MNIST_ENV = "SYMCORR_FASHION_MNIST"
#: the four official file names (without ``.gz``)
FASHION_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
#: the MNIST constants that the paper's code applied to Fashion-MNIST ("paper" mode)
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
NORMALISATION_MODES = ("corrected", "paper")

# IDX type code -> numpy dtype (big-endian where it matters)
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXFormatError(ValueError):
    """A file is not a valid IDX file, or not the IDX file that was expected."""


class DatasetNotFoundError(FileNotFoundError):
    """The dataset files are not where they were looked for."""


def _open_bytes(path: Path) -> bytes:
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise IDXFormatError(f"{path}: corrupt gzip stream ({err})") from None
    return raw


def read_idx(path) -> np.ndarray:
    """Read one IDX file (raw or gzip-compressed) into a numpy array in native byte order.

    Raises :class:`IDXFormatError` for a bad magic number, an unknown type code, or a data section
    whose length does not match the header's dimensions.
    """
    path = Path(path)
    data = _open_bytes(path)
    if len(data) < 4:
        raise IDXFormatError(f"{path}: too short for an IDX header ({len(data)} bytes)")
    if data[0] != 0 or data[1] != 0:
        raise IDXFormatError(f"{path}: bad IDX magic number 0x{data[:4].hex()} "
                             "(the first two bytes must be zero)")
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES:
        raise IDXFormatError(f"{path}: unknown IDX type code 0x{code:02X} "
                             f"(known: {', '.join(f'0x{c:02X}' for c in _IDX_DTYPES)})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXFormatError(f"{path}: header declares {ndim} dimensions but the file ends early")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize  # exact: an int64 product of 2**31 x 2**31 x 2**31 wraps to 0
    got = len(data) - header
    if got != expected:
        raise IDXFormatError(f"{path}: header says shape {dims} of {dtype.name} ({expected} bytes) "
                             f"but the data section has {got} bytes (truncated or corrupt file)")
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path, array, *, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file; gzip it when ``compress`` (default: when the name ends in .gz)."""
    path = Path(path)
    arr = np.asarray(array)
    for code, dt in _IDX_DTYPES.items():
        if arr.dtype.kind == dt.kind and arr.dtype.itemsize == dt.itemsize:
            break
    else:
        raise IDXFormatError(f"dtype {arr.dtype} cannot be stored in IDX "
                             "(uint8, int8, int16, int32, float32, float64)")
    if arr.ndim > 255:
        raise IDXFormatError("IDX supports at most 255 dimensions")
    body = (bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
            + np.ascontiguousarray(arr, dtype=dt).tobytes())
    if compress is None:
        compress = path.suffix == ".gz"
    path.write_bytes(gzip.compress(body) if compress else body)
    return path


@dataclass(frozen=True)
class FashionMNIST:
    """The four official arrays: images uint8 ``(n, 28, 28)``, labels uint8 ``(n,)`` in 0..9."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    root: str = ""

    CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
               "Bag", "Ankle boot")


def _resolve_root(root) -> Path:
    if root is None:
        root = os.environ.get(FASHION_MNIST_ENV) or DEFAULT_FASHION_MNIST_ROOT
    return Path(root).expanduser()


def _find(root: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (root / name).is_file():
            return root / name
    return None


def _check_images(arr: np.ndarray, path: Path) -> np.ndarray:
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[1:] != (28, 28):
        raise IDXFormatError(f"{path}: expected uint8 images of shape (n, 28, 28), "
                             f"got {arr.dtype} {arr.shape}")
    return arr


def _check_labels(arr: np.ndarray, path: Path, n: int) -> np.ndarray:
    if arr.dtype != np.uint8 or arr.ndim != 1:
        raise IDXFormatError(f"{path}: expected uint8 labels of shape (n,), got {arr.dtype} {arr.shape}")
    if arr.shape[0] != n:
        raise IDXFormatError(f"{path}: {arr.shape[0]} labels for {n} images")
    if arr.size and int(arr.max()) > 9:
        raise IDXFormatError(f"{path}: labels must lie in 0..9, found {int(arr.max())}")
    return arr


def load_fashion_mnist(root=None) -> FashionMNIST:
    """Load the official Fashion-MNIST IDX files (gzip'd or raw) from a folder.

    ``root``: the folder; default ``$SYMCORR_FASHION_MNIST``, else
    ``/usr/share/datasets/fashion-mnist/``.  Raises :class:`DatasetNotFoundError` naming the missing
    files and how to get them, and :class:`IDXFormatError` for files of the wrong kind or shape.
    """
    folder = _resolve_root(root)
    paths, missing = {}, []
    for key, stem in FASHION_MNIST_FILES.items():
        found = _find(folder, stem)
        if found is None:
            missing.append(stem + "[.gz]")
        paths[key] = found
    if missing:
        raise DatasetNotFoundError(
            f"Fashion-MNIST not found in {str(folder)!r}: missing {', '.join(missing)}. "
            "Install the official files with `apt-get install -y dataset-fashion-mnist` "
            f"(they go to {DEFAULT_FASHION_MNIST_ROOT}), or pass a folder holding them "
            f"(root=... / --data-root) or set the environment variable {FASHION_MNIST_ENV}.")
    tr_x = _check_images(read_idx(paths["train_images"]), paths["train_images"])
    tr_y = _check_labels(read_idx(paths["train_labels"]), paths["train_labels"], tr_x.shape[0])
    te_x = _check_images(read_idx(paths["test_images"]), paths["test_images"])
    te_y = _check_labels(read_idx(paths["test_labels"]), paths["test_labels"], te_x.shape[0])
    return FashionMNIST(tr_x, tr_y, te_x, te_y, root=str(folder))


def normalisation_constants(train_images: np.ndarray, mode: str = "corrected") -> tuple[float, float]:
    """``(mean, std)`` on the [0, 1] pixel scale.

    ``"corrected"``: the mean and (population) standard deviation of all training pixels / 255
    (Fashion-MNIST: about 0.2860, 0.3530).  ``"paper"``: MNIST's 0.1307, 0.3081, as the original code.
    """
    if mode == "paper":
        return MNIST_MEAN, MNIST_STD
    if mode != "corrected":
        raise ValueError(f"normalisation mode must be one of {NORMALISATION_MODES}, got {mode!r}")
    x = np.asarray(train_images)
    n = x.size
    if n == 0:
        raise ValueError("cannot compute normalisation constants from an empty training set")
    # exact integer sums, then float64: no precision loss on 47M pixels
    s1 = int(x.sum(dtype=np.int64))
    s2 = int(np.square(x, dtype=np.int64).sum(dtype=np.int64))
    mean = s1 / n / 255.0
    var = s2 / n / 255.0 ** 2 - mean ** 2
    return float(mean), float(np.sqrt(max(var, 0.0)))


def normalise_images(images: np.ndarray, mean: float, std: float) -> np.ndarray:
    """``(images / 255 - mean) / std`` as float32, flattened to ``(n, 784)`` (torchvision's ToTensor +
    Normalize, then Flatten)."""
    x = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    x *= np.float32(1.0 / 255.0)
    x -= np.float32(mean)
    x /= np.float32(std)
    return x
