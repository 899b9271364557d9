"""``--scheduler`` and ``--checkpoint`` on ``symcorr montecarlo``, ``symcorr fashion-mnist`` and
``symcorr reproduce``: the same output as the serial command, resumable, refusals as exit status 2."""

import re
import textwrap

import numpy as np

from symcorr.cli import main
from symcorr.experiments.fashion_mnist import SweepResult
from synthetic_fashion import write_folder

SPEC = textwrap.dedent("""
    title = "Erf-net rotations"
    [network]
    input_dim = 2
    [[network.layers]]
    width = 3
    activation = "erf"
    weight = { law = "normal", var = "1/2" }
    bias = { law = "normal", var = 1 }
    [[network.layers]]
    width = 2
    weight = { law = "normal", var = "1/3" }
    [[claims]]
    group = "SO"
    on = "input"
    expect = "invariant"
    orders = [2]
    [[claims]]
    group = "translations"
    on = "input"
    expect = "broken"
    orders = [2]
    [montecarlo]
    networks = 5000
    seed = 1
    orders = [2]
    group_samples = 2
    inputs = [[1, 0], [0.3, -0.6]]
""")


def _spec(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text(SPEC)
    return str(path)


def test_montecarlo_on_a_cluster_prints_what_the_serial_run_prints(client, tmp_path, capsys):
    spec = _spec(tmp_path)
    assert main(["montecarlo", spec, "--no-progress", "--chunk", "2048"]) == 0
    serial = capsys.readouterr().out
    address = client.scheduler.address
    assert main(["montecarlo", spec, "--no-progress", "--scheduler", address, "--chunk", "1024",
                 "--checkpoint", str(tmp_path / "ck")]) == 0
    assert capsys.readouterr().out == serial
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == ["claim-1", "claim-2", "correlators"]
    assert main(["montecarlo", spec, "--no-progress", "--checkpoint", str(tmp_path / "ck")]) == 0  # resumed
    assert capsys.readouterr().out == serial
    assert main(["montecarlo", spec, "--no-progress", "--seed", "2", "--checkpoint", str(tmp_path / "ck")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("symcorr montecarlo: error: checkpoint: ") and "seed: 1 there, 2 now" in err
    assert "\n" not in err
    assert main(["montecarlo", spec, "--scheduler", "local:zero"]) == 2
    assert "scheduler" in capsys.readouterr().err


def test_reproduce_on_a_cluster_obtains_the_serial_verdicts(client, tmp_path, capsys):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "erf.toml").write_text(SPEC)
    args = ["reproduce", "--derivations", str(tmp_path / "specs"), "--no-progress"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--out", str(tmp_path / "b"), "--scheduler", client.scheduler.address,
                        "--checkpoint", str(tmp_path / "ck")]) == 0
    capsys.readouterr()

    def summaries(folder):
        """The Monte Carlo rows of the report's summary (verdicts, max|z|, Holm p; no timings)."""
        return re.findall(r"^\|[^\n]*\| Monte Carlo \|[^\n]*$", (folder / "report.md").read_text(), re.M)
    assert summaries(tmp_path / "a") == summaries(tmp_path / "b") and summaries(tmp_path / "a")
    assert (tmp_path / "ck" / "erf" / "claims" / "claim-1" / "manifest.json").exists()


def test_fashion_mnist_on_a_cluster_reads_the_data_on_the_workers(client, tmp_path):
    folder = write_folder(tmp_path / "fm", train=120, test=60)
    args = ["fashion-mnist", "--quick", "--epochs", "1", "--runs", "1", "--data-root", str(folder), "--no-progress",
            "--threads", "1"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--out", str(tmp_path / "b"), "--scheduler", client.scheduler.address]) == 0
    a, b = (SweepResult.load_npz(tmp_path / d / "quick.npz") for d in "ab")
    np.testing.assert_array_equal(a.test_acc, b.test_acc)
    np.testing.assert_array_equal(a.train_loss, b.train_loss)
