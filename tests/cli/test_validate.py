"""``symcorr validate``."""

from symcorr.cli import main

SPEC = """
title = "tiny"
[network]
input_dim = 2
[[network.layers]]
width = 3
activation = "relu"
[[network.layers]]
width = 1
"""


def test_validate_prints_the_network(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(SPEC)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "# tiny" in out and "relu" in out


def test_validate_reports_errors_with_exit_status_2(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(SPEC.replace('"relu"', '"rellu"'))
    assert main(["validate", str(path)]) == 2
    assert "did you mean 'relu'" in capsys.readouterr().err
