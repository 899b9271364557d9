"""symcorr.experiments.fashion_mnist.sweep: run_sweep's seeding, chunking and hooks."""

import numpy as np
import pytest
import torch

from symcorr.experiments.fashion_mnist import (PAPER_KS, PAPER_MUS, SweepConfig, init_weights, run_sweep,
                                               sweep_chunks, train_models)
from symcorr.experiments.fashion_mnist.sweep import _mu_key


def _tiny(**kw):
    base = dict(mus=(0.0, 0.2), ks=(0, 10), runs=2, epochs=2, models_per_chunk=3, threads=1)
    return SweepConfig(**{**base, **kw})


def test_sweep_is_reproducible_and_seed_matters(data):
    a = run_sweep(_tiny(seed=3), data)
    b = run_sweep(_tiny(seed=3), data)
    c = run_sweep(_tiny(seed=4), data)
    np.testing.assert_array_equal(a.test_acc, b.test_acc)
    np.testing.assert_array_equal(a.train_loss, b.train_loss)
    assert not np.array_equal(a.train_loss, c.train_loss)
    assert a.test_acc.shape == (2, 2, 2, 2) and not np.isnan(a.test_acc).any()
    assert a.norm_mean == pytest.approx(data.mean)


def test_sweep_does_not_depend_on_chunking(data):
    a = run_sweep(_tiny(models_per_chunk=1), data)
    b = run_sweep(_tiny(models_per_chunk=4), data)
    np.testing.assert_allclose(a.train_loss, b.train_loss, rtol=1e-4)
    assert np.abs(a.test_acc - b.test_acc).max() <= 1.0       # at most one test image of 100


def test_sweep_cells_match_direct_training(data):
    """Cell (mu, k, run) of the sweep is train_models() with the documented seeds."""
    cfg = _tiny(targets="cold", seed=5)
    res = run_sweep(cfg, data)
    from symcorr.rng import child_seed
    i, j, r = 1, 1, 1
    g = torch.Generator().manual_seed(child_seed(5, 1, 1, r, _mu_key(cfg.mus[i]), cfg.ks[j]))
    W0, W1 = init_weights(1, [cfg.mus[i]], [cfg.ks[j]], [g])
    out = train_models(W0, W1, data, target="cold", epochs=2,
                       shuffle=torch.Generator().manual_seed(child_seed(5, 2, 1, r)))
    np.testing.assert_allclose(out.train_loss[0], res.train_loss[i, j, r], rtol=1e-5)


def test_chunks_stay_within_a_run():
    cfg = SweepConfig.paper_heatmap(models_per_chunk=32)
    chunks = sweep_chunks(cfg)
    assert sum(len(c) for _, c in chunks) == 1260 == cfg.n_models
    assert max(len(c) for _, c in chunks) <= 32
    assert sorted({r for r, _ in chunks}) == list(range(10))
    assert len(SweepConfig.paper_cold_line().mus) == 21
    assert SweepConfig.paper_cold_line().n_models == 420
    assert PAPER_MUS[0] == 0.0 and PAPER_MUS[-1] == 0.2 and len(PAPER_MUS) == 21
    assert PAPER_KS == (0, 2, 4, 6, 8, 10)


def test_progress_callback_and_tqdm_like(data):
    seen = []

    class Bar:
        n = 0

        def update(self, k):
            self.n += k

    run_sweep(_tiny(epochs=1, progress=seen.append), data)
    bar = Bar()
    cfg = _tiny(epochs=1, progress=bar)
    run_sweep(cfg, data)
    assert sum(seen) == cfg.total_model_epochs == bar.n == 8


def test_init_sampler_hook(data):
    calls = []

    def sampler(M, mus, ks, gens):
        calls.append((M, list(mus), list(ks), len(gens)))
        return init_weights(M, mus, ks, gens)

    run_sweep(_tiny(epochs=1, init_sampler=sampler), data)
    assert sum(c[0] for c in calls) == 8 and all(c[0] == c[3] for c in calls)


def test_default_sampler_is_the_spec_files_law(data):
    """The default initialisation and the one read from derivations/fashion_mnist.toml (what
    `symcorr reproduce` uses) give the same sweep, bit for bit."""
    from pathlib import Path

    from symcorr.experiments.fashion_mnist import spec_init_sampler
    from symcorr.specfile import load_spec

    doc = load_spec(Path(__file__).parents[3] / "derivations" / "fashion_mnist.toml")
    a = run_sweep(_tiny(epochs=1), data)
    b = run_sweep(_tiny(epochs=1, init_sampler=spec_init_sampler(doc.network)), data)
    np.testing.assert_array_equal(a.train_loss, b.train_loss)
    np.testing.assert_array_equal(a.test_acc, b.test_acc)


def test_missing_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install -y dataset-fashion-mnist"):
        run_sweep(_tiny(data_root=str(tmp_path)))
