"""IDX reader/writer and the Fashion-MNIST loader (synthetic files; one test on the real files)."""

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from symcorr.data import (DEFAULT_FASHION_MNIST_ROOT, FASHION_MNIST_ENV, DatasetNotFoundError,
                          IDXFormatError, load_fashion_mnist, normalisation_constants, normalise_images,
                          read_idx, write_idx)
from symcorr.data.idx import FASHION_MNIST_FILES, MNIST_MEAN, MNIST_STD


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype,shape", [(np.uint8, (5, 28, 28)), (np.uint8, (7,)), (np.int8, (3, 4)),
                                         (np.int16, (2, 3, 4)), (np.int32, (6,)), (np.float32, (4, 5)),
                                         (np.float64, (2, 2, 2, 2))])
def test_round_trip(tmp_path, dtype, shape, compress):
    rng = np.random.default_rng(0)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        arr = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    else:
        arr = rng.standard_normal(shape).astype(dtype)
    path = write_idx(tmp_path / ("a.idx" + (".gz" if compress else "")), arr)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == shape
    np.testing.assert_array_equal(back, arr)
    raw = path.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == compress


def test_header_bytes_are_official(tmp_path):
    # train-images: magic 0x00000803 then 60000, 28, 28 big-endian; here a 2-image version
    path = write_idx(tmp_path / "x", np.zeros((2, 28, 28), np.uint8), compress=False)
    raw = path.read_bytes()
    assert raw[:16] == bytes.fromhex("00000803" "00000002" "0000001c" "0000001c")
    assert len(raw) == 16 + 2 * 28 * 28


def test_compression_is_detected_from_content_not_name(tmp_path):
    arr = np.arange(10, dtype=np.uint8)
    path = write_idx(tmp_path / "labels-without-gz-suffix", arr, compress=True)
    np.testing.assert_array_equal(read_idx(path), arr)


def _raw(tmp_path, data: bytes, name="bad"):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_bad_magic(tmp_path):
    with pytest.raises(IDXFormatError, match="magic"):
        read_idx(_raw(tmp_path, bytes.fromhex("01000801") + b"\0\0\0\1" + b"\0"))


def test_unknown_type_code(tmp_path):
    with pytest.raises(IDXFormatError, match="type code 0x07"):
        read_idx(_raw(tmp_path, bytes.fromhex("00000701") + b"\0\0\0\1" + b"\0"))


def test_truncated_data(tmp_path):
    good = write_idx(tmp_path / "g", np.zeros((3, 4), np.uint8), compress=False).read_bytes()
    with pytest.raises(IDXFormatError, match="truncated"):
        read_idx(_raw(tmp_path, good[:-1]))
    with pytest.raises(IDXFormatError, match="too short"):
        read_idx(_raw(tmp_path, b"\0\0"))
    with pytest.raises(IDXFormatError, match="ends early"):
        read_idx(_raw(tmp_path, bytes.fromhex("00000803") + b"\0\0\0\1"))
    with pytest.raises(IDXFormatError, match="gzip"):
        read_idx(_raw(tmp_path, gzip.compress(good)[:-6]))


def _fake_dataset(folder: Path, n_train=6, n_test=4, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train).astype(np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test).astype(np.uint8),
    }
    for key, arr in arrays.items():
        write_idx(folder / (FASHION_MNIST_FILES[key] + (".gz" if gz else "")), arr)
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_load_from_folder(tmp_path, gz):
    arrays = _fake_dataset(tmp_path / "fm", gz=gz)
    fm = load_fashion_mnist(tmp_path / "fm")
    for key, arr in arrays.items():
        np.testing.assert_array_equal(getattr(fm, key), arr)


def test_env_var_overrides_default(tmp_path, monkeypatch):
    arrays = _fake_dataset(tmp_path / "envdir")
    monkeypatch.setenv(FASHION_MNIST_ENV, str(tmp_path / "envdir"))
    np.testing.assert_array_equal(load_fashion_mnist().test_labels, arrays["test_labels"])


def test_missing_files_give_install_hint(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetNotFoundError) as info:
        load_fashion_mnist(tmp_path / "empty")
    msg = str(info.value)
    assert "apt-get install -y dataset-fashion-mnist" in msg and FASHION_MNIST_ENV in msg
    assert "t10k-labels-idx1-ubyte" in msg
    assert isinstance(info.value, FileNotFoundError)


def test_wrong_shapes_and_labels_are_rejected(tmp_path):
    folder = tmp_path / "fm"
    _fake_dataset(folder)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(3, np.uint8))          # 3 labels, 4 images
    with pytest.raises(IDXFormatError, match="3 labels for 4 images"):
        load_fashion_mnist(folder)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.array([0, 1, 2, 10], np.uint8))
    with pytest.raises(IDXFormatError, match="0..9"):
        load_fashion_mnist(folder)
    _fake_dataset(folder)
    write_idx(folder / "train-images-idx3-ubyte.gz", np.zeros((6, 28, 27), np.uint8))
    with pytest.raises(IDXFormatError, match=r"\(n, 28, 28\)"):
        load_fashion_mnist(folder)


def test_normalisation_constants():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    mean, std = normalisation_constants(x, "corrected")
    assert mean == pytest.approx((x / 255.0).mean(), rel=1e-12)
    assert std == pytest.approx((x / 255.0).std(), rel=1e-12)
    assert normalisation_constants(x, "paper") == (MNIST_MEAN, MNIST_STD) == (0.1307, 0.3081)
    with pytest.raises(ValueError, match="corrected"):
        normalisation_constants(x, "mnist")
    z = normalise_images(x, mean, std)
    assert z.dtype == np.float32 and z.shape == (50, 784)
    np.testing.assert_allclose(z, ((x / 255.0 - mean) / std).reshape(50, 784), atol=1e-5)
    assert abs(z.mean()) < 1e-5 and z.std() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.dataset
def test_real_fashion_mnist_files():
    root = os.environ.get(FASHION_MNIST_ENV) or DEFAULT_FASHION_MNIST_ROOT
    if not any((Path(root) / f"t10k-labels-idx1-ubyte{ext}").exists() for ext in (".gz", "")):
        pytest.skip(f"Fashion-MNIST not installed in {root} (apt-get install -y dataset-fashion-mnist)")
    fm = load_fashion_mnist(root)
    assert fm.train_images.shape == (60000, 28, 28) and fm.test_images.shape == (10000, 28, 28)
    assert fm.train_labels.shape == (60000,) and fm.test_labels.shape == (10000,)
    assert fm.train_images.dtype == np.uint8
    assert fm.train_labels.min() == 0 and fm.train_labels.max() == 9
    assert np.bincount(fm.train_labels).tolist() == [6000] * 10
    assert np.bincount(fm.test_labels).tolist() == [1000] * 10
    mean, std = normalisation_constants(fm.train_images)
    assert mean == pytest.approx(0.2860, abs=5e-5) and std == pytest.approx(0.3530, abs=5e-5)
