"""The vectorised Fashion-MNIST sweep engine, on small synthetic data (the real files are not used)."""

import math


import numpy as np
import pytest
import torch

from symcorr.errors import SpecError
from symcorr.data import write_idx
from symcorr.data.idx import FASHION_MNIST_FILES
from symcorr.experiments import fashion_mnist as fm
from symcorr.experiments.fashion_mnist import (PAPER_KS, PAPER_MUS, StackedAdam, SweepConfig, SweepResult,
                                               TrainData, evaluate, forward, init_weights, make_targets,
                                               predict, reference_train, run_sweep, sweep_chunks,
                                               t_quantile_975, train_models)


def _images(n, seed, noise=60):
    """Learnable 28x28 uint8 images: a fixed random prototype per class plus noise."""
    rng = np.random.default_rng(seed)
    protos = np.random.default_rng(1234).uniform(0, 255, (10, 28, 28))
    y = rng.integers(0, 10, n)
    x = np.clip(protos[y] + rng.normal(0, noise, (n, 28, 28)), 0, 255).astype(np.uint8)
    return x, y.astype(np.uint8)


@pytest.fixture(scope="module")
def arrays():
    xtr, ytr = _images(200, 0)
    xte, yte = _images(100, 1)
    return xtr, ytr, xte, yte


@pytest.fixture(scope="module")
def data(arrays):
    return TrainData.from_arrays(*arrays)


# --- the key correctness test --------------------------------------------------------------------

@pytest.mark.parametrize("target", ["hot", "cold"])
@pytest.mark.parametrize("gemm", ["auto", "torch"])
def test_vectorised_equals_one_model_at_a_time(data, target, gemm):
    """3 models trained together (hand-written gradients, stacked Adam) == 3 separate torch.nn models
    with autograd, torch.optim.Adam and StepLR, from the same init and the same batches."""
    W0, W1 = init_weights(3, [0.0, 0.1, 0.2], [0, 4, 10], torch.Generator().manual_seed(7))
    kw = dict(target=target, epochs=3, batch_size=64, lr=1e-3, gamma=0.7, shuffle=11)
    vec = train_models(W0, W1, data, gemm=gemm, **kw)
    ref = reference_train(W0, W1, data, **kw)
    torch.testing.assert_close(vec.W1, ref.W1, rtol=0, atol=1e-5)
    torch.testing.assert_close(vec.W0, ref.W0, rtol=0, atol=1e-5)
    np.testing.assert_allclose(vec.train_loss, ref.train_loss, rtol=1e-5)
    np.testing.assert_array_equal(vec.test_acc, ref.test_acc)
    assert (vec.W0 - W0).abs().max() > 1e-3           # the weights did move
    assert vec.test_acc.shape == (3, 3) and vec.max_acc.shape == (3,)


def test_last_partial_batch_and_batch_size(data):
    """200 = 3*64 + 8: the short last batch is averaged over its own size, as F.mse_loss does."""
    W0, W1 = init_weights(2, 0.05, 10, torch.Generator().manual_seed(3))
    for bs in (64, 200, 37):
        vec = train_models(W0, W1, data, epochs=1, batch_size=bs, shuffle=2)
        ref = reference_train(W0, W1, data, epochs=1, batch_size=bs, shuffle=2)
        torch.testing.assert_close(vec.W0, ref.W0, rtol=0, atol=1e-5)


@pytest.mark.parametrize("fused", [True, False])
def test_stacked_adam_is_separate_adams(fused):
    if fused and not fm._fused_adam_available():
        pytest.skip("this torch has no fused CPU Adam")
    g = torch.Generator().manual_seed(0)
    M = 4
    P = torch.randn(M, 5, 3, generator=g)
    Q = torch.randn(M, 2, generator=g)
    refs = [[P[m].clone().requires_grad_(), Q[m].clone().requires_grad_()] for m in range(M)]
    opts = [torch.optim.Adam(r, lr=1e-2) for r in refs]
    P, Q = P.clone(), Q.clone()
    adam = StackedAdam([P, Q], fused=fused)
    for step in range(6):
        lr = 1e-2 * 0.7 ** (step // 2)
        gP = torch.randn(M, 5, 3, generator=g) * 10 ** (step % 3 - 1)
        gQ = torch.randn(M, 2, generator=g)
        adam.step([gP, gQ], lr)
        for m in range(M):
            opts[m].param_groups[0]["lr"] = lr
            refs[m][0].grad, refs[m][1].grad = gP[m].clone(), gQ[m].clone()
            opts[m].step()
    torch.testing.assert_close(P, torch.stack([r[0].detach() for r in refs]), rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(Q, torch.stack([r[1].detach() for r in refs]), rtol=1e-6, atol=1e-7)


def test_training_learns_and_loss_falls(data):
    W0, W1 = init_weights(2, 0.0, 0, torch.Generator().manual_seed(5))
    out = train_models(W0, W1, data, epochs=4, shuffle=0)
    assert out.max_acc.min() > 80.0           # prototypes + noise are easy; chance is 10 %
    assert np.all(out.train_loss[:, -1] < out.train_loss[:, 0])


# --- initial law -------------------------------------------------------------------------------------

def test_init_law_means_and_variances():
    """Two groups of models in one batch, (mu, k) = (0.3, 4) and (-0.2, 7), fixed seed.

    Every check is a sample mean compared with its expectation within 4 standard errors (for a sample
    variance of n normal draws, s.e. = var * sqrt(2 / n))."""
    M = 200
    mus = np.where(np.arange(M) < 100, 0.3, -0.2)
    ks = np.where(np.arange(M) < 100, 4, 7)
    W0, W1 = init_weights(M, mus, ks, torch.Generator().manual_seed(2024))
    W0, W1 = W0.double(), W1.double()
    assert W0.shape == (M, 50, 784) and W1.shape == (M, 10, 50) and W0.dtype == torch.float64

    def check_mean(x, expect, var):
        se = math.sqrt(var / x.numel())
        assert abs(x.mean().item() - expect) < 4 * se, (x.mean().item(), expect, se)

    def check_var(x, var):
        se = var * math.sqrt(2 / x.numel())
        assert abs(x.var().item() - var) < 4 * se, (x.var().item(), var, se)

    for sl, mu, k in ((slice(0, 100), 0.3, 4), (slice(100, 200), -0.2, 7)):
        shifted, rest = W1[sl, :k], W1[sl, k:]
        check_mean(shifted, mu, 1 / 50)
        check_mean(rest, 0.0, 1 / 50)
        check_var(shifted, 1 / 50)
        check_var(rest, 1 / 50)
        # every single shifted row is centred on mu (50 entries per row -> loose per-row bound)
        row_means = shifted.mean(-1)
        assert (row_means - mu).abs().max() < 5 * math.sqrt(1 / 50 / 50)
    check_mean(W0, 0.0, 1 / 784)
    check_var(W0, 1 / 784)


def test_init_per_model_generators_and_validation():
    a0, a1 = init_weights(1, 0.1, 3, torch.Generator().manual_seed(9))
    b0, b1 = init_weights(1, [0.1], [3], [torch.Generator().manual_seed(9)])
    assert torch.equal(a0, b0) and torch.equal(a1, b1)
    # model m's draw only depends on its own generator
    c0, _ = init_weights(2, 0.0, 0, [torch.Generator().manual_seed(1), torch.Generator().manual_seed(9)])
    assert torch.equal(c0[1], a0[0])
    # k = 0 or mu = 0: no shift at all
    z0, z1 = init_weights(1, 0.5, 0, torch.Generator().manual_seed(9))
    torch.testing.assert_close(z1, a1 - 0.1 * (torch.arange(10) < 3)[None, :, None], rtol=0, atol=1e-7)
    assert torch.equal(z0, a0)
    with pytest.raises(SpecError, match="ks"):
        init_weights(2, 0.1, 11, torch.Generator())
    with pytest.raises(SpecError, match="expected 3 values"):
        init_weights(3, [0.1, 0.2], 1, torch.Generator())
    with pytest.raises(SpecError, match="one generator per model"):
        init_weights(2, 0.1, 1, [torch.Generator()])


# --- targets, prediction, forward ------------------------------------------------------------------

def test_targets_hot_and_cold():
    y = np.array([0, 3, 9])
    hot, cold = make_targets(y, "hot"), make_targets(y, "cold")
    assert hot.dtype == torch.float32 and hot.shape == (3, 10)
    assert torch.equal(hot, torch.eye(10)[y])
    assert torch.equal(cold, 1 - torch.eye(10)[y])
    assert cold.sum(1).tolist() == [9.0] * 3
    with pytest.raises(SpecError, match="one-cold"):
        make_targets(y, "warm")


def test_prediction_argmax_hot_argmin_cold():
    out = torch.tensor([[2.0, 0.0, 1.0], [0.0, 3.0, 1.5]])
    assert predict(out, "hot").tolist() == [0, 1]
    assert predict(out, "cold").tolist() == [1, 0]
    # the same through evaluate(): d_in = width = 2, n_out = 3, W0 = I
    W0 = torch.eye(2)[None]
    W1 = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]])
    x = torch.tensor([[2.0, 0.0], [0.0, 3.0]])
    torch.testing.assert_close(forward(W0, W1, x)[0], out)
    assert evaluate(W0, W1, x, [0, 1], "hot").tolist() == [2]
    assert evaluate(W0, W1, x, [0, 1], "cold").tolist() == [0]
    assert evaluate(W0, W1, x, [1, 0], "cold").tolist() == [2]


def test_forward_and_evaluate_match_torch_nn(data):
    W0, W1 = init_weights(3, 0.1, 5, torch.Generator().manual_seed(4))
    out = forward(W0, W1, data.x_test)
    for m in range(3):
        ref = torch.relu(data.x_test @ W0[m].T) @ W1[m].T
        torch.testing.assert_close(out[m], ref, rtol=1e-5, atol=1e-5)
        for target in ("hot", "cold"):
            want = (predict(ref, target) == data.y_test).sum().item()
            assert evaluate(W0, W1, data.x_test, data.y_test, target, batch_size=7)[m].item() == want


# --- sweep -------------------------------------------------------------------------------------------

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
    g = torch.Generator().manual_seed(child_seed(5, 1, 1, r, fm._mu_key(cfg.mus[i]), cfg.ks[j]))
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


@pytest.mark.parametrize("bad,field", [
    (dict(mus=()), "mus"), (dict(mus=(0.1, 0.1)), "mus"), (dict(mus=(float("nan"),)), "mus"),
    (dict(ks=()), "ks"), (dict(ks=(11,)), r"ks\[0\]"), (dict(ks=(2, -1)), r"ks\[1\]"),
    (dict(ks=(2.5,)), r"ks\[0\]"), (dict(runs=0), "runs"), (dict(epochs=0), "epochs"),
    (dict(batch_size=0), "batch_size"), (dict(models_per_chunk=0), "models_per_chunk"),
    (dict(targets="warm"), "targets"), (dict(normalisation="mnist"), "normalisation"),
    (dict(lr=-1.0), "lr"), (dict(gamma=0), "gamma"), (dict(seed=-1), "seed"), (dict(runs=2.0), "runs"),
    (dict(betas=(0.9, 1.0)), "betas"), (dict(gemm="blas"), "gemm"), (dict(threads=0), "threads"),
    (dict(progress=3), "progress"),
])
def test_config_validation(bad, field):
    with pytest.raises(SpecError, match=field):
        SweepConfig(**bad)


def test_missing_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install -y dataset-fashion-mnist"):
        run_sweep(_tiny(data_root=str(tmp_path)))


# --- results -----------------------------------------------------------------------------------------

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


def test_command_line_quick_run(tmp_path, arrays):
    folder = tmp_path / "fm"
    folder.mkdir()
    for key, arr in zip(("train_images", "train_labels", "test_images", "test_labels"), arrays):
        write_idx(folder / (FASHION_MNIST_FILES[key] + ".gz"), arr)
    out = tmp_path / "out"
    rc = fm.main(["--quick", "--epochs", "1", "--data-root", str(folder), "--out", str(out),
                  "--no-progress", "--threads", "1"])
    assert rc == 0
    names = {p.name for p in out.iterdir()}
    assert {"quick.npz", "quick.csv", "quick_runs.csv", "quick.md", "quick_heatmap.png",
            "quick_line.png"} <= names
    res = SweepResult.load_npz(out / "quick.npz")
    assert res.test_acc.shape == (3, 2, 2, 1)
    assert fm.main(["--quick", "--data-root", str(tmp_path / "nowhere"), "--out", str(out)]) == 2


def test_spec_init_sampler_reads_the_derivation_and_matches_init_weights():
    """The spec in derivations/fashion_mnist.toml describes exactly the experiment's initial law."""
    from pathlib import Path

    from symcorr.experiments.fashion_mnist import spec_init_sampler
    from symcorr.specfile import load_spec

    doc = load_spec(Path(__file__).parents[2] / "derivations" / "fashion_mnist.toml")
    sampler = spec_init_sampler(doc.network)
    gens = lambda: [torch.Generator().manual_seed(i) for i in range(3)]  # noqa: E731
    a = sampler(3, [0.1, 0.0, 0.2], [2, 0, 10], gens())
    b = init_weights(3, [0.1, 0.0, 0.2], [2, 0, 10], gens())
    assert torch.allclose(a[0], b[0], atol=1e-7) and torch.allclose(a[1], b[1], atol=1e-7)
    # and it is a different law when k differs (the comparison can fail)
    c = sampler(3, [0.1, 0.0, 0.2], [3, 0, 10], gens())
    assert not torch.allclose(c[1], b[1], atol=1e-3)


def test_spec_init_sampler_rejects_other_architectures():
    from symcorr.experiments.fashion_mnist import spec_init_sampler
    from symcorr.zoo import relu_net

    with pytest.raises(SpecError, match="784 -> 50"):
        spec_init_sampler(relu_net(784, 40, 10, sigma_b0=None, sigma_b1=None))
    with pytest.raises(SpecError, match="no biases"):
        spec_init_sampler(relu_net(784, 50, 10))
