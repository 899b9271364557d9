"""symcorr.cli.fashion_mnist: ``symcorr fashion-mnist`` on small synthetic IDX files."""

import pytest

from symcorr.cli import fashion_mnist as cli_fm
from symcorr.cli import main as symcorr_main
from symcorr.experiments.fashion_mnist import SweepResult
from synthetic_fashion import write_folder


@pytest.fixture
def folder(tmp_path):
    return write_folder(tmp_path / "fm")


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
