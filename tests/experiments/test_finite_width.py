"""symcorr.experiments.finite_width: the weighted 1/N fit and the width scan of the connected four-point
function (a small scan; the full one is `symcorr reproduce --full`)."""

import numpy as np
import pytest
import sympy as sp

from symcorr import Dense, Network, Normal, size_symbol
from symcorr.errors import SpecError
from symcorr.experiments.finite_width import fit_inverse_width, plot_vertex_scan, run_vertex_scan

N = size_symbol("N")


def test_the_fit_recovers_a_known_coefficient_and_its_standard_error():
    """Synthetic estimates a/N + b/N^2 + noise: the fitted a is unbiased and its reported s.e. is the spread
    of the fitted values over repetitions (so a 4 s.e. check has its nominal meaning)."""
    rng = np.random.default_rng(0)
    widths = [16, 24, 32, 48, 64]
    se = np.array([0.02 / w for w in widths])
    fits = [fit_inverse_width(widths, np.array([1.3 / w - 2.0 / w ** 2 for w in widths]) + rng.normal(size=5) * se, se)
            for _ in range(400)]
    a = np.array([f.a for f in fits])
    assert abs(a.mean() - 1.3) < 4 * a.std() / np.sqrt(len(a))
    assert np.mean([f.se_a for f in fits]) == pytest.approx(a.std(), rel=0.15)
    assert np.mean([f.chi2 for f in fits]) == pytest.approx(3.0, rel=0.2) and fits[0].dof == 3


def test_the_fit_refuses_too_few_or_bad_estimates():
    with pytest.raises(SpecError, match="three widths"):
        fit_inverse_width([16, 32], [0.1, 0.05], [0.01, 0.01])
    with pytest.raises(SpecError, match="positive"):
        fit_inverse_width([16, 32, 64], [0.1, 0.05, 0.02], [0.01, 0.0, 0.01])


def test_a_small_scan_agrees_with_the_recursion_and_rejects_a_wrong_one(tmp_path):
    net = Network(2, [Dense(2 * N, "erf", weight=Normal(0, 1), bias=Normal(0, sp.Rational(1, 10))),
                      Dense(N, "erf", weight=Normal(0, 3 / (4 * N))),
                      Dense(1, weight=Normal(0, sp.Rational(3, 2) / N))])
    scan = run_vertex_scan(net, N, [12, 16, 20, 24], [[1.0, 0.0], [0.6, -0.8]], (0, 0, 1, 1), networks=5000, seed=3)
    assert abs(scan.z()) < 4
    assert set(scan.wrong) == {"no propagation (the last layer's local term alone)", "no width ratio n_l/n_(l-1)"}
    for value in scan.wrong.values():
        assert abs(scan.fit.a - value) > 4 * scan.fit.se_a
    assert len(scan.rows()) == 4 and scan.predicted == pytest.approx(sum(scan.per_layer))
    path = plot_vertex_scan(scan, tmp_path / "scan.png")
    assert path.exists() and path.stat().st_size > 1000
    with pytest.raises(SpecError, match="multiples of one symbol"):
        run_vertex_scan(net.subs({N: 8}), None, [8, 16, 32], [[1.0, 0.0], [0.6, -0.8]])
