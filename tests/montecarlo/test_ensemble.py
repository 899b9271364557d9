"""Ensembles: chunk-independent seeding, the Gaussian read-out integrated out exactly, device handling."""

import pytest
import torch

from symcorr import zoo
from symcorr.distributions import Laplace, Normal
from symcorr.errors import SpecError
from symcorr.groups import SpecialOrthogonal, Translations
from symcorr.montecarlo import Ensemble, ProductSource, estimate_correlators, readout_law, unique_entries
from symcorr.spec import Dense, Network, size_symbol




X = torch.tensor([[0.4, -0.3], [1.0, 0.5]], dtype=torch.float64)


def test_results_do_not_depend_on_chunk_size():
    net = zoo.tanh_net(2, 3, d_out=2)
    a = estimate_correlators(net, X, (2, 4), networks=5000, seed=11, chunk=1024, estimator="direct")
    b = estimate_correlators(net, X, (2, 4), networks=5000, seed=11, chunk=3000, estimator="direct")
    c = estimate_correlators(net, X, (2, 4), networks=5000, seed=11, chunk=100000, estimator="direct")
    for n in (2, 4):
        torch.testing.assert_close(a[n].mean, b[n].mean, rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(a[n].mean, c[n].mean, rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(a[n].se, c[n].se, rtol=1e-10, atol=1e-14)
    d = estimate_correlators(net, X, (2,), networks=5000, seed=12, chunk=1024, estimator="direct")
    assert not torch.allclose(a[2].mean, d[2].mean)


def test_chunks_hold_whole_blocks_and_cover_the_ensemble():
    ens = Ensemble(zoo.erf_net(2, 4), 2500, seed=0, chunk=1500, block=500)
    assert ens.chunk == 1500 and ens.num_chunks == 2
    sizes = [c.size for c in ens.chunks()]
    assert sizes == [1500, 1000]
    ens = Ensemble(zoo.erf_net(2, 4), 2500, seed=0, chunk=100, block=500)
    assert ens.chunk == 500  # at least one block
    big = Network(784, [Dense(1000, "relu", weight=Normal(0, 1 / 784)), Dense(10, weight=Normal(0, 1e-3))])
    ens = Ensemble(big, 100, seed=0, estimator="direct")
    assert ens.block * (784 * 1000 + 10 * 1000) <= 1 << 23


def _linear(mean=0, row_cov=None, col_cov=None, bias=None):
    return Network(2, [Dense(3, weight=Normal(mean, 0.7, row_cov=row_cov, col_cov=col_cov), bias=bias)])


def _exact_moments(net, x):
    """mean (P, d) and covariance (P, d, P, d) of a linear Gaussian net f = W x + b."""
    law = readout_law(net)
    mean = x @ law.mean.T + (law.bias_mean if law.has_bias else 0)
    v = law.col_cov if law.col_cov is not None else torch.eye(2, dtype=torch.float64)
    u = law.row_cov if law.row_cov is not None else torch.eye(3, dtype=torch.float64)
    cov = law.var * (x @ v @ x.T)[:, None, :, None] * u[None, :, None, :]
    if law.has_bias:
        cb = law.bias_cov if law.bias_cov is not None else torch.eye(3, dtype=torch.float64)
        cov = cov + law.bias_var * cb[None, :, None, :]
    return mean, cov


def test_readout_estimator_is_exact_for_a_linear_gaussian_net():
    """h = x is deterministic, so integrating the layer out gives the correlators exactly (zero s.e.):
    G2 = C + mu mu, G3 = mu mu mu + 3 terms C mu (Isserlis with means)."""
    net = _linear(mean=[0.5, -0.2, 0.0], row_cov=[[1, 0.3, 0], [0.3, 2, 0], [0, 0, 1]],
                  col_cov=[[1, 0.2], [0.2, 0.5]], bias=Normal([0.1, 0.0, -0.3], 0.4))
    est = estimate_correlators(net, X, (1, 2, 3), networks=10, seed=0, estimator="readout")
    mean, cov = _exact_moments(net, X)
    mu = mean.reshape(-1)
    c = cov.reshape(6, 6)
    for e, v, se in zip(est[2].entries.tolist(), est[2].mean, est[2].se):
        i, j = e
        assert float(v) == pytest.approx(float(c[i, j] + mu[i] * mu[j]), rel=1e-12, abs=1e-12)
        assert float(se) < 1e-12
    for e, v in zip(est[3].entries.tolist(), est[3].mean):
        i, j, k = e
        want = mu[i] * mu[j] * mu[k] + c[i, j] * mu[k] + c[i, k] * mu[j] + c[j, k] * mu[i]
        assert float(v) == pytest.approx(float(want), rel=1e-12, abs=1e-12)
    torch.testing.assert_close(est[1].mean, mu)
    # a wrong formula (dropping the mean terms of G3) is far off
    i, j, k = est[3].entries.tolist()[7]
    assert abs(float(est[3].mean[7]) - float(mu[i] * mu[j] * mu[k])) > 1e-3


def test_readout_orders_five_and_six_are_exact():
    """A single Gaussian output f ~ N(mu, s^2): E f^5 = mu^5 + 10 mu^3 s^2 + 15 mu s^4 and
    E f^6 = mu^6 + 15 mu^4 s^2 + 45 mu^2 s^4 + 15 s^6 (76 partial matchings for n = 6)."""
    net = Network(1, [Dense(1, weight=Normal(0.7, 0.3), bias=Normal(0.2, 0.5))])
    x = torch.tensor([[1.5]], dtype=torch.float64)
    est = estimate_correlators(net, x, (5, 6), networks=5, seed=0, estimator="readout")
    mu, s2 = 0.7 * 1.5 + 0.2, 0.3 * 1.5 ** 2 + 0.5
    assert float(est[5].mean[0]) == pytest.approx(mu ** 5 + 10 * mu ** 3 * s2 + 15 * mu * s2 ** 2, rel=1e-12)
    assert float(est[6].mean[0]) == pytest.approx(mu ** 6 + 15 * mu ** 4 * s2 + 45 * mu ** 2 * s2 ** 2
                                                  + 15 * s2 ** 3, rel=1e-12)
    zero = Network(1, [Dense(2, weight=Normal(0, 0.3))])
    est = estimate_correlators(zero, x, (6,), networks=5, seed=0, estimator="readout")
    assert est[6].get((0,) * 6, (0, 0, 1, 1, 1, 1))[0] == pytest.approx(3 * 0.675 ** 3, rel=1e-12)
    direct = estimate_correlators(net, x, (6,), networks=200000, seed=1, estimator="direct")
    exact = mu ** 6 + 15 * mu ** 4 * s2 + 45 * mu ** 2 * s2 ** 2 + 15 * s2 ** 3
    assert abs(float(direct[6].mean[0]) - exact) <= 4 * float(direct[6].se[0])


def test_readout_and_direct_agree_on_a_deep_net():
    net = Network(2, [Dense(3, "tanh", weight=Normal(0, 1.0), bias=Normal(0, 0.3)),
                      Dense(4, "relu", weight=Normal(0, 0.5), bias=Normal(0.2, 0.1)),
                      Dense(2, weight=Normal([0.3, 0.0], 0.25), bias=Normal(0, 0.5))])
    a = estimate_correlators(net, X, (1, 2, 4), networks=40000, seed=1, estimator="direct")
    b = estimate_correlators(net, X, (1, 2, 4), networks=40000, seed=2, estimator="readout")
    assert b[2].estimator == "readout" and a[2].estimator == "direct"
    for n in (1, 2, 4):
        z = (a[n].mean - b[n].mean) / torch.sqrt(a[n].se ** 2 + b[n].se ** 2)
        assert float(z.abs().max()) < 4.5, n  # 4.5 s.e. over up to 35 entries
    assert float((b[4].se / a[4].se).mean()) < 0.8  # variance reduction


def test_output_action_on_sources_is_the_tensor_law():
    net = _linear(mean=[0.5, -0.2, 0.0], bias=Normal(0, 0.4))
    ens = Ensemble(net, 3, seed=0, estimator="readout")
    chunk = next(ens.chunks())
    src = ens.source(chunk, X)
    rho = SpecialOrthogonal(3).sample(1, torch.Generator().manual_seed(0))[0]
    moved = src.act_on_outputs(SpecialOrthogonal(3), rho)
    e = unique_entries(6, 3)
    g = src.products(unique_entries(6, 3))[0]
    full = torch.zeros(6, 6, 6, dtype=torch.float64)
    for row, v in zip(e.tolist(), g):
        for perm in {(row[0], row[1], row[2]), (row[0], row[2], row[1]), (row[1], row[0], row[2]),
                     (row[1], row[2], row[0]), (row[2], row[0], row[1]), (row[2], row[1], row[0])}:
            full[perm] = v
    t = full.reshape(2, 3, 2, 3, 2, 3)
    rotated = torch.einsum("ai,bj,ck,piqjrk->paqbrc", rho, rho, rho, t).reshape(6, 6, 6)
    want = torch.stack([rotated[tuple(r)] for r in e.tolist()])
    torch.testing.assert_close(moved.products(e)[0], want, rtol=1e-12, atol=1e-12)
    # translations shift the mean
    c = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    shifted = src.act_on_outputs(Translations(3), c)
    one = unique_entries(6, 1)
    torch.testing.assert_close(shifted.products(one)[0], src.products(one)[0] + c.repeat(2))
    # the direct source transforms the sampled outputs
    f = torch.randn(4, 2, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    ps = ProductSource(f).act_on_outputs(SpecialOrthogonal(3), rho)
    torch.testing.assert_close(ps.f, f @ rho.T)


def test_estimator_selection_and_errors():
    lap = Network(1, [Dense(3, "erf"), Dense(1, weight=Laplace(0, 1))])
    assert Ensemble(lap, 10, estimator="auto").estimator == "direct"
    with pytest.raises(SpecError, match="not Gaussian"):
        Ensemble(lap, 10, estimator="readout")
    tanh_out = Network(1, [Dense(3, "erf"), Dense(1, "tanh")])
    with pytest.raises(SpecError, match="linear read-out"):
        Ensemble(tanh_out, 10, estimator="readout")
    assert Ensemble(zoo.erf_net(1, 3), 10).estimator == "readout"
    with pytest.raises(SpecError, match="unknown estimator"):
        Ensemble(zoo.erf_net(1, 3), 10, estimator="magic")
    with pytest.raises(SpecError, match="symbols|numbers"):
        Ensemble(zoo.erf_net(1, size_symbol("N")), 10)
    with pytest.raises(SpecError, match="positive integer"):
        Ensemble(zoo.erf_net(1, 3), 0)
    with pytest.raises(SpecError, match="seed"):
        Ensemble(zoo.erf_net(1, 3), 10, seed=-1)
    with pytest.raises(SpecError, match="inputs must have shape"):
        estimate_correlators(zoo.erf_net(2, 3), torch.zeros(3, 3), (2,), networks=10)
    with pytest.raises(SpecError, match="overflow|NaN"):
        big = Network(1, [Dense(2, "relu", weight=Normal(0, 1e200)), Dense(1)])  # f ~ 1e100, f^4 overflows
        estimate_correlators(big, torch.tensor([[1.0]]), (4,), networks=2000, estimator="direct")
    if not torch.cuda.is_available():
        with pytest.raises(SpecError, match="no CUDA"):
            Ensemble(zoo.erf_net(1, 3), 10, device="cuda")


def test_auto_device_and_float32():
    est = estimate_correlators(zoo.erf_net(1, 3), torch.tensor([[0.5]]), (2,), networks=4000, seed=0,
                               device="auto", dtype=torch.float32, estimator="direct")
    ref = estimate_correlators(zoo.erf_net(1, 3), torch.tensor([[0.5]]), (2,), networks=4000, seed=0,
                               estimator="direct")
    assert est[2].mean.dtype == torch.float64
    assert abs(float(est[2].mean[0] - ref[2].mean[0])) < 4 * float(ref[2].se[0])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu_statistically():
    net = zoo.erf_net(2, 4, d_out=2)
    gpu = estimate_correlators(net, X, (2, 4), networks=20000, seed=0, device="cuda")
    cpu = estimate_correlators(net, X, (2, 4), networks=20000, seed=1, device="cpu")
    for n in (2, 4):
        z = (gpu[n].mean - cpu[n].mean) / torch.sqrt(gpu[n].se ** 2 + cpu[n].se ** 2)
        assert float(z.abs().max()) < 4.5


def test_readout_sources_are_not_kept_alive():
    """A read-out source (one per block) is freed once used: nothing caches it (an lru_cache on the class
    once kept every block's conditional means and covariances for the life of the process)."""
    import gc
    import weakref
    from symcorr.montecarlo import GaussianReadoutSource
    src = GaussianReadoutSource(torch.zeros(4, 2, 1, dtype=torch.float64), torch.ones(4, 2, 1, 2, 1,
                                                                                       dtype=torch.float64))
    assert isinstance(src, GaussianReadoutSource)
    ref = weakref.ref(src)
    del src
    gc.collect()
    assert ref() is None
