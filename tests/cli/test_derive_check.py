"""``symcorr derive`` and ``symcorr check`` on the example spec files of tests/duality/data."""

import re
from pathlib import Path

import pytest

from symcorr.cli import main

DATA = Path(__file__).resolve().parents[1] / "duality" / "data"
AGREEING = ["cos_translations.toml", "gauss_gp.toml", "readout_mean.toml", "deep_anisotropic.toml"]


def spec(name):
    return str(DATA / name)


def test_check_agreeing_specs_exits_0_and_prints_a_table(capsys):
    assert main(["check", *[spec(n) for n in AGREEING]]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| spec")
    assert "| cos_translations.toml" in out and "T(D) on inputs [ntk]" in out
    assert "T(1) on inputs [GP limit]" in out
    assert "9 of 9 claims agree" in out
    assert "NO" not in out


def test_check_exits_1_when_a_verdict_disagrees(capsys):
    assert main(["check", spec("readout_mean.toml"), spec("wrong_expectation.toml")]) == 1
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if "wrong_expectation" in line]
    assert len(rows) == 1 and "| broken " in rows[0] and "| invariant " in rows[0] and "NO" in rows[0]
    assert "1 disagree" in out


def test_check_reports_invalid_spec_files_with_exit_status_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text((DATA / "readout_mean.toml").read_text().replace('"relu"', '"rellu"'))
    assert main(["check", str(bad)]) == 2
    assert "did you mean 'relu'" in capsys.readouterr().err


def test_derive_prints_correlators_and_proofs(capsys):
    assert main(["derive", spec("readout_mean.toml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Read-out mean on two of three rows")
    assert "## Correlators" in out and "2-point function" in out and "4-point function" in out
    assert "**Verdict: refuted.**" in out and "**Verdict: proven.**" in out
    assert "Expected: **broken**; obtained: **broken**" in out
    assert "Stab(SO(3), [1, 1, 0]) ≅ SO(2)" in out


@pytest.mark.parametrize("fmt, suffix", [("md", ".md"), ("tex", ".tex")])
def test_derive_writes_one_report_per_spec(tmp_path, capsys, fmt, suffix):
    out_dir = tmp_path / "reports"
    args = ["derive", spec("cos_translations.toml"), spec("gauss_gp.toml"), "--out", str(out_dir),
            "--format", fmt, "--orders", "2"]
    assert main(args) == 0
    files = sorted(p.name for p in out_dir.iterdir())
    assert files == ["cos_translations" + suffix, "gauss_gp" + suffix, "manifest.json"]
    text = (out_dir / ("gauss_gp" + suffix)).read_text()
    assert "492.749" in text                      # the finite-width witness (m_4)
    if fmt == "tex":
        assert text.startswith(r"\documentclass{article}") and text.rstrip().endswith(r"\end{document}")
        assert all(ord(ch) < 128 for ch in text)
    assert "wrote" in capsys.readouterr().out


def test_derive_rejects_bad_options(tmp_path, capsys):
    assert main(["derive", spec("gauss_gp.toml"), "--orders", "2", "x"]) == 2
    assert "--orders" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["derive", spec("gauss_gp.toml"), "--out", str(blocker)]) == 2
    assert "is not a folder" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------------
# the Monte Carlo evidence next to an undecided proof (shown, not counted)
# ----------------------------------------------------------------------------------------------------
def _row(out, claim):
    """The cells of the table row of ``claim`` (a Markdown row: pipes inside a cell are escaped)."""
    line = next(line for line in out.splitlines() if f"| {claim} " in line)
    return [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]


def test_check_shows_monte_carlo_evidence_for_an_undecided_proof(capsys):
    assert main(["check", spec("deep_anisotropic.toml"), "--evidence-networks", "3000"]) == 0
    out = capsys.readouterr().out
    assert "| Monte Carlo (shown)" in out.splitlines()[0]
    undecided = _row(out, "SO(3) on inputs")
    # the anisotropic first-layer covariance breaks SO(3) strongly: the test rejects at this budget
    assert undecided[2:5] == ["undecided", "undecided", "yes"]
    assert undecided[5].startswith("broken (max\\|z\\| = ") and "Holm p = " in undecided[5]
    assert "3000 networks" in undecided[5]
    assert _row(out, "Stab(SO(3), [1, 0, 0]) on inputs")[2:] == ["invariant", "invariant", "yes", "—"]
    assert "Evidence, not a proof" in out


def test_the_evidence_does_not_change_the_exit_status(tmp_path, capsys):
    """Expecting 'broken' for the undecided claim disagrees with the proof (exit 1) although the Monte Carlo
    test says broken; '--no-evidence' drops the column and the test."""
    text = (DATA / "deep_anisotropic.toml").read_text().replace('expect = "undecided"', 'expect = "broken"')
    wrong = tmp_path / "expects_broken.toml"
    wrong.write_text(text)
    assert main(["check", str(wrong), "--evidence-networks", "2000"]) == 1
    out = capsys.readouterr().out
    row = _row(out, "SO(3) on inputs")
    assert row[2:5] == ["broken", "undecided", "NO"]
    assert row[5].startswith("broken (max\\|z\\|") and "2000 networks" in row[5]
    assert main(["check", str(wrong), "--no-evidence"]) == 1
    out = capsys.readouterr().out
    assert "Monte Carlo" not in out and "max" not in out


def test_the_evidence_is_not_run_for_a_gp_limit_claim(tmp_path, capsys):
    text = (DATA / "deep_anisotropic.toml").read_text().replace(
        'expect = "undecided"', 'expect = "undecided"\nfinite_width = false', 1)
    path = tmp_path / "gp.toml"
    path.write_text(text)
    assert main(["check", str(path)]) == 0
    row = _row(capsys.readouterr().out, "SO(3) on inputs [GP limit]")
    assert row[5].startswith("not run: the claim concerns the infinite-width limit")


def test_check_rejects_a_bad_evidence_budget(capsys):
    assert main(["check", spec("deep_anisotropic.toml"), "--evidence-networks", "0"]) == 2
    assert "--evidence-networks" in capsys.readouterr().err


def test_derive_says_where_the_evidence_of_an_undecided_claim_is(capsys):
    assert main(["derive", spec("deep_anisotropic.toml")]) == 0
    out = capsys.readouterr().out
    assert "**Verdict: undecided.**" in out
    assert "Monte Carlo evidence (shown, not a proof): `symcorr check deep_anisotropic.toml`" in out
    assert "no exact function-space argument applies" in out
