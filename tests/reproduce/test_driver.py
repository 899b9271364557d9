"""``symcorr reproduce`` end to end on small specs (the full run is the main job, not a test)."""

import textwrap

import pytest

from symcorr.cli import main
from symcorr.errors import SpecError
from symcorr.reproduce import Check, reproduce

GOOD = textwrap.dedent("""
    title = "Cos-net with a Gaussian phase"
    [network]
    input_dim = 2
    [[network.layers]]
    width = 4
    activation = "cos"
    weight = { law = "normal", var = "1/2" }
    bias = { law = "normal", var = 1 }
    [[network.layers]]
    width = 1
    weight = { law = "normal", var = "1/4" }
    [[claims]]
    group = "translations"
    on = "input"
    expect = "broken"
    orders = [2]
    [[claims]]
    group = "SO"
    on = "input"
    expect = "invariant"
    orders = [2]
    [montecarlo]
    networks = 25000
    seed = 4
    inputs = [[0, 0], [0.5, -0.3]]
    group_samples = 2
""")


def test_reproduce_writes_a_report_whose_checks_agree(tmp_path):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "cos_gauss.toml").write_text(GOOD)
    checks = reproduce(tmp_path / "out", derivations=tmp_path / "specs", progress=False, log=None)
    assert all(isinstance(c, Check) for c in checks)
    frames = [(c.frame, c.what, c.obtained) for c in checks]
    assert ("symbolic", "T(2) on inputs", "broken") in frames
    assert ("Monte Carlo", "T(2) on inputs", "broken") in frames
    assert ("Monte Carlo", "SO(2) on inputs", "invariant") in frames
    assert all(c.agrees for c in checks)
    text = (tmp_path / "out" / "report.md").read_text()
    assert "4 of 4 checks agree" in text and "[specs/cos_gauss.md](specs/cos_gauss.md)" in text
    assert "Verdict: refuted" in (tmp_path / "out" / "specs" / "cos_gauss.md").read_text()
    assert (tmp_path / "out" / "report.html").exists() and (tmp_path / "out" / "specs" / "cos_gauss.html").exists()


def test_a_wrong_expectation_is_reported_as_disagreeing(tmp_path, capsys):
    """The summary can fail: a spec that expects translations to be a symmetry disagrees in both frames."""
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "wrong.toml").write_text(GOOD.replace('expect = "broken"', 'expect = "invariant"'))
    code = main(["reproduce", "--out", str(tmp_path / "out"), "--derivations", str(tmp_path / "specs"),
                 "--no-progress"])
    assert code == 1
    checks_text = (tmp_path / "out" / "report.md").read_text()
    assert "**NO**" in checks_text


def test_selection_errors(tmp_path):
    (tmp_path / "specs").mkdir()
    with pytest.raises(SpecError, match="no spec files"):
        reproduce(tmp_path / "out", derivations=tmp_path / "specs", log=None)
    (tmp_path / "specs" / "a.toml").write_text(GOOD)
    with pytest.raises(SpecError, match="no spec file matches"):
        reproduce(tmp_path / "out", derivations=tmp_path / "specs", only=["zzz"], log=None)
    (tmp_path / "specs" / "a.toml").write_text(GOOD + '\n[experiment]\nkind = "nope"\n')
    with pytest.raises(SpecError, match="unknown experiment kind"):
        reproduce(tmp_path / "out", derivations=tmp_path / "specs", log=None, progress=False)


def test_every_shipped_derivation_parses_and_names_a_known_experiment():
    from symcorr.reproduce import EXPERIMENTS, default_derivations
    from symcorr.specfile import load_spec

    paths = sorted(default_derivations().glob("*.toml"))
    assert len(paths) >= 12
    for path in paths:
        doc = load_spec(path)
        assert doc.claims or doc.experiment, path.name
        if doc.experiment:
            assert doc.experiment["kind"] in EXPERIMENTS, path.name


VERTEX = textwrap.dedent("""
    title = "Finite-width vertex of a small deep Erf-net"
    [symbols]
    N = "positive integer"
    [values]
    N = 8
    [network]
    input_dim = 2
    [[network.layers]]
    width = "2*N"
    activation = "erf"
    weight = { law = "normal", var = 1 }
    bias = { law = "normal", var = "1/10" }
    [[network.layers]]
    width = "N"
    activation = "erf"
    weight = { law = "normal", var = "3/(4*N)" }
    [[network.layers]]
    width = 1
    weight = { law = "normal", var = "3/(2*N)" }
    [experiment]
    kind = "finite_width_vertex"
    points = [[1, 0], [0.6, -0.8]]
    slots = [0, 0, 1, 1]
    quick_widths = [12, 16, 20, 24]
    quick_networks = 5000
    seed = 3
""")


def test_the_finite_width_vertex_experiment_agrees_and_can_fail(tmp_path, monkeypatch):
    """The 1/N coefficient fitted to Monte Carlo matches the recursion and rejects the wrong recursions; with
    a wrong prediction (the vertex without its propagation term) the same check reports disagreement."""
    import dataclasses

    from symcorr.experiments import finite_width

    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "vertex.toml").write_text(VERTEX)
    checks = reproduce(tmp_path / "out", derivations=tmp_path / "specs", progress=False, log=None)
    assert [c.frame for c in checks] == ["experiment"] * 3 and all(c.agrees for c in checks)
    assert (tmp_path / "out" / "vertex_vertex.png").exists()
    assert "Predicted 1/N coefficient" in (tmp_path / "out" / "report.md").read_text()
    real = finite_width.run_vertex_scan

    def wrong_prediction(*args, **kwargs):
        scan = real(*args, **kwargs)
        return dataclasses.replace(scan, predicted=scan.wrong["no propagation (the last layer's local term alone)"])

    monkeypatch.setattr(finite_width, "run_vertex_scan", wrong_prediction)
    checks = reproduce(tmp_path / "out2", derivations=tmp_path / "specs", progress=False, log=None)
    assert not checks[0].agrees and "**NO**" in (tmp_path / "out2" / "report.md").read_text()


def test_without_the_data_set_the_rest_is_written_and_the_run_fails(tmp_path, capsys, monkeypatch):
    """The main job on a machine without dataset-fashion-mnist: one line says how to get it, every other
    section is written, the summary marks Fashion-MNIST as skipped, and the exit status is 1."""
    from symcorr.reproduce import default_derivations

    monkeypatch.setenv("SYMCORR_FASHION_MNIST", str(tmp_path / "no-data-here"))
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "a_cos.toml").write_text(GOOD)
    shipped = (default_derivations() / "fashion_mnist.toml").read_text()
    network, experiment = shipped.split("[[claims]]")[0], shipped[shipped.index("[experiment]"):]
    (tmp_path / "specs" / "fashion_mnist.toml").write_text(network + experiment)  # its claims run elsewhere
    code = main(["reproduce", "--out", str(tmp_path / "out"), "--derivations", str(tmp_path / "specs"),
                 "--no-progress", "--threads", "1"])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "dataset-fashion-mnist" in err[0] and "skipped" in err[0]
    text = (tmp_path / "out" / "report.md").read_text()
    assert "**skipped**" in text and "1 skipped" in text
    assert "T(2) on inputs" in text  # the other spec's rows are there
    assert (tmp_path / "out" / "report.html").exists() and (tmp_path / "out" / "specs" / "fashion_mnist.md").exists()
