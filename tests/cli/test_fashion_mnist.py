"""symcorr.cli.fashion_mnist: ``symcorr fashion-mnist`` on small synthetic IDX files."""

import numpy as np
import pytest

from symcorr.cli import fashion_mnist as cli_fm
from symcorr.cli import main as symcorr_main
from symcorr.data import write_idx
from symcorr.data.idx import FASHION_MNIST_FILES
from symcorr.experiments.fashion_mnist import SweepResult


def _images(n, seed, noise=60):
    """Learnable 28x28 uint8 images: a fixed random prototype per class plus noise."""
    rng = np.random.default_rng(seed)
    protos = np.random.default_rng(1234).uniform(0, 255, (10, 28, 28))
    y = rng.integers(0, 10, n)
    x = np.clip(protos[y] + rng.normal(0, noise, (n, 28, 28)), 0, 255).astype(np.uint8)
    return x, y.astype(np.uint8)


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "fm"
    folder.mkdir()
    arrays = (*_images(200, 0), *_images(100, 1))
    for key, arr in zip(("train_images", "train_labels", "test_images", "test_labels"), arrays):
        write_idx(folder / (FASHION_MNIST_FILES[key] + ".gz"), arr)
    return folder


def test_command_line_quick_run(tmp_path, folder):
    out = tmp_path / "out"
    rc = cli_fm.main(["--quick", "--epochs", "1", "--data-root", str(folder), "--out", str(out),
                      "--no-progress", "--threads", "1"])
    assert rc == 0
    names = {p.name for p in out.iterdir()}
    assert {"quick.npz", "quick.csv", "quick_runs.csv", "quick.md", "quick_heatmap.png",
            "quick_line.png"} <= names
    res = SweepResult.load_npz(out / "quick.npz")
    assert res.test_acc.shape == (3, 2, 2, 1)
    assert cli_fm.main(["--quick", "--data-root", str(tmp_path / "nowhere"), "--out", str(out)]) == 2


def test_symcorr_fashion_mnist_subcommand(tmp_path, folder, capsys):
    out = tmp_path / "sub"
    rc = symcorr_main(["fashion-mnist", "--quick", "--epochs", "1", "--mus", "0:0.2:0.2", "--ks", "0", "10",
                       "--runs", "1", "--data-root", str(folder), "--out", str(out), "--no-progress",
                       "--threads", "1"])
    assert rc == 0
    res = SweepResult.load_npz(out / "quick.npz")
    assert res.mus.tolist() == [0.0, 0.2] and res.ks.tolist() == [0, 10] and res.runs == 1
    # a missing data set is a one-line error naming the option, not a traceback
    capsys.readouterr()
    assert symcorr_main(["fashion-mnist", "--quick", "--data-root", str(tmp_path / "nowhere"),
                         "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symcorr fashion-mnist: error: --data-root:") and "dataset-fashion-mnist" in err
    capsys.readouterr()
    assert symcorr_main(["fashion-mnist", "--mus", "0:0.2:0"]) == 2
    assert "the step of '0:0.2:0' must be positive" in capsys.readouterr().err
