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
    assert "4 of 4 checks agree" in text and "Verdict: refuted" in text


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
