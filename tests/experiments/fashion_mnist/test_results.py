"""symcorr.experiments.fashion_mnist.results: statistics over runs, tables, figures, persistence."""

import math

import numpy as np
import pytest

from symcorr.errors import SpecError
from symcorr.experiments.fashion_mnist import SweepConfig, SweepResult, t_quantile_975


def _result(runs=4, epochs=3):
    cfg = SweepConfig(mus=(0.0, 0.1, 0.2), ks=(0, 10), runs=runs, epochs=epochs, targets="cold")
    acc = np.random.default_rng(0).uniform(50, 90, (3, 2, runs, epochs))
    return SweepResult(cfg, np.array(cfg.mus), np.array(cfg.ks), acc, acc / 100)


def test_result_statistics():
    res = _result()
    mx = res.test_acc.max(-1)
    np.testing.assert_array_equal(res.max_acc, mx)
    np.testing.assert_allclose(res.mean(), mx.mean(-1))
    np.testing.assert_allclose(res.stderr(), mx.std(-1, ddof=1) / 2)
    lo, hi = res.ci95()
    np.testing.assert_allclose(hi - res.mean(), 3.1824 * res.stderr())
    assert res.best_epoch.min() >= 1 and res.best_epoch.max() <= 3
    one = _result(runs=1)
    assert np.isnan(one.stderr()).all() and np.isfinite(one.mean()).all()


def test_t_quantiles():
    assert t_quantile_975(1) == 12.7062 and t_quantile_975(9) == 2.2622 and t_quantile_975(19) == 2.0930
    assert t_quantile_975(40) == pytest.approx(2.0211, abs=1e-4)
    assert t_quantile_975(100) == pytest.approx(1.9840, abs=1e-4)
    assert t_quantile_975(10 ** 6) == pytest.approx(1.95996, abs=1e-4)
    assert math.isnan(t_quantile_975(0))


def test_tables_figures_and_npz(tmp_path):
    res = _result()
    res.to_csv(tmp_path / "cells.csv")
    res.to_csv(tmp_path / "runs.csv", per_run=True)
    cells = (tmp_path / "cells.csv").read_text().splitlines()
    assert cells[0].startswith("targets,mu,k,runs,mean_max_acc,stderr") and len(cells) == 1 + 6
    assert len((tmp_path / "runs.csv").read_text().splitlines()) == 1 + 6 * 4
    md = res.to_markdown(tmp_path / "t.md")
    assert "| μ \\ k | 0 | 10 |" in md and " ± " in md and (tmp_path / "t.md").read_text() == md
    for p in (res.plot_heatmap(tmp_path / "h.png"), res.plot_line(tmp_path / "l.png"),
              res.plot_line(tmp_path / "l0.png", k=0)):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SpecError, match="not in the sweep"):
        res.plot_line(tmp_path / "x.png", k=4)
    back = SweepResult.load_npz(res.save_npz(tmp_path / "r.npz"))
    np.testing.assert_array_equal(back.test_acc, res.test_acc)
    assert back.config == res.config
