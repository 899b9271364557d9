"""``symcorr montecarlo SPEC``: correlators with standard errors, one invariance test per claim, exit
status 1 when an empirical verdict disagrees with a claim, 2 on spec errors."""

import textwrap


from symcorr.cli import main




SPEC = """
title = "Erf-net input rotations"
result = "R2"

[symbols]
N = "positive integer"

[values]
N = 3

[network]
input_dim = 2

[[network.layers]]
width = "N"
activation = "erf"
weight = {{ law = "normal", var = "1/2" }}
bias = {{ law = "normal", var = 1 }}

[[network.layers]]
width = 2
weight = {{ law = "normal", var = "1/N" }}

[[claims]]
group = "SO"
on = "input"
expect = "{expect}"
orders = [2]

[[claims]]
group = "translations"
on = "input"
expect = "broken"
orders = [2]

[montecarlo]
networks = 3000
seed = 1
orders = [2]
group_samples = 3
{extra}
"""


def _write(tmp_path, expect="invariant", extra='inputs = [[1, 0], [0.3, -0.6]]'):
    path = tmp_path / "spec.toml"
    path.write_text(textwrap.dedent(SPEC.format(expect=expect, extra=extra)))
    return path


def test_prints_correlators_and_claims(tmp_path, capsys):
    assert main(["montecarlo", str(_write(tmp_path)), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "# Monte Carlo: Erf-net input rotations  (R2)" in out
    assert "2-point function, readout estimator, 3000 networks" in out
    assert "| G_00(x0,x0) |" in out and "s.e." in out
    assert "Monte Carlo says invariant; agrees with the claim" in out
    assert "T(2) on the inputs (function), expected broken: Monte Carlo says broken; agrees" in out
    assert "2 of 2 claims agree" in out


def test_disagreement_exits_1(tmp_path, capsys):
    assert main(["montecarlo", str(_write(tmp_path, expect="broken")), "--no-progress"]) == 1
    assert "DISAGREES with the claim" in capsys.readouterr().out


def test_overrides_default_inputs_and_progress_bar(tmp_path, capsys):
    path = _write(tmp_path, extra="")
    assert main(["montecarlo", str(path), "--networks", "2000", "--seed", "3", "--orders", "1", "2",
                 "--estimator", "direct", "--no-claims", "--threads", "1"]) == 0
    captured = capsys.readouterr()
    assert "networks: 2000, seed: 3, estimator: direct" in captured.out
    assert "x2 = (" in captured.out  # three default points
    assert "1-point function, direct estimator, 2000 networks" in captured.out
    assert "Claims" not in captured.out
    assert "correlators" in captured.err  # the tqdm bar


def test_neuron_estimator_at_several_widths(tmp_path, capsys):
    path = _write(tmp_path, extra='inputs = [[1, 0], [0.3, -0.6]]\nestimator = "neuron"\nwidths = [1, 10]')
    assert main(["montecarlo", str(path), "--no-progress", "--networks", "5000"]) == 0
    out = capsys.readouterr().out
    assert "2-point function, neuron estimator, 5000 neurons, width 1" in out
    assert "width 10" in out
    assert "2 of 2 claims agree" in out


def test_spec_errors_exit_2(tmp_path, capsys):
    assert main(["montecarlo", str(_write(tmp_path, extra='dtype = "float16"')), "--no-progress"]) == 2
    assert "dtype" in capsys.readouterr().err
    assert main(["montecarlo", str(tmp_path / "missing.toml")]) == 2
    assert main(["montecarlo", str(_write(tmp_path)), "--networks", "0", "--no-progress"]) == 2
    assert main(["montecarlo", str(_write(tmp_path)), "--threads", "0", "--no-progress"]) == 2
