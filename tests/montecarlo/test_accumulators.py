"""Streaming accumulators: exact merging, covariances, entries, tensors, cumulants, delta method."""

import itertools
import math

import pytest
import torch

from symcorr.errors import SpecError
from symcorr.montecarlo import (ConnectedAccumulator, CorrelatorEstimate, MomentAccumulator, NPointAccumulator,
                                ProductSource, delta_method, entries_from_indices,
                                unique_entries)
from symcorr.montecarlo.accumulators import slot_label




def _data(m=1000, f=5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return 3.0 + torch.randn(m, f, generator=gen, dtype=torch.float64) @ torch.randn(f, f, generator=gen,
                                                                                      dtype=torch.float64)


def test_batch_updates_and_merges_equal_one_pass():
    v = _data()
    whole = MomentAccumulator(5, covariance=True).update(v)
    parts = MomentAccumulator(5, covariance=True)
    for chunk in torch.split(v, 137):
        parts.update(chunk)
    a = MomentAccumulator(5, covariance=True).update(v[:300])
    b = MomentAccumulator(5, covariance=True).update(v[300:])
    merged = a + b
    for acc in (parts, merged):
        assert acc.count == 1000
        torch.testing.assert_close(acc.mean, whole.mean, rtol=1e-13, atol=1e-13)
        torch.testing.assert_close(acc.variance, whole.variance, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(acc.covariance(), whole.covariance(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(whole.mean, v.mean(0))
    torch.testing.assert_close(whole.covariance(), torch.cov(v.T))
    torch.testing.assert_close(whole.se, v.std(0) / math.sqrt(1000))
    torch.testing.assert_close(whole.mean_covariance(), torch.cov(v.T) / 1000)


def test_entry_major_update_matches_row_major():
    v = _data(200, 4)
    a = MomentAccumulator(4, covariance=True).update(v)
    b = MomentAccumulator(4, covariance=True).update(v.T.contiguous(), dim=1)
    torch.testing.assert_close(a.mean, b.mean)
    torch.testing.assert_close(a.covariance(), b.covariance())


def test_accumulator_errors():
    acc = MomentAccumulator(3)
    with pytest.raises(SpecError, match="shape"):
        acc.update(torch.zeros(4, 2))
    with pytest.raises(SpecError, match="NaN or infinite"):
        acc.update(torch.tensor([[1.0, float("nan"), 0.0]]))
    with pytest.raises(SpecError, match="infinite"):
        acc.update(torch.tensor([[1.0, float("inf"), 0.0]]))
    with pytest.raises(SpecError, match="at least 2"):
        MomentAccumulator(3).update(torch.zeros(1, 3)).variance
    with pytest.raises(SpecError, match="covariance=True"):
        MomentAccumulator(3).update(torch.zeros(5, 3)).covariance()
    with pytest.raises(SpecError):
        MomentAccumulator(0)


def test_unique_entries_counts_and_labels():
    for s, n in [(4, 1), (4, 2), (6, 4), (3, 6)]:
        e = unique_entries(s, n)
        assert e.shape == (math.comb(s + n - 1, n), n)
        assert bool((e[:, 1:] >= e[:, :-1]).all()) if n > 1 else True
        assert len({tuple(r) for r in e.tolist()}) == len(e)
    e = entries_from_indices([((0, 1), (1, 0)), ((2, 2), (0, 1))], outputs=2)
    assert e.tolist() == [[1, 2], [4, 5]]
    assert slot_label([1, 2], 2) == "G_10(x0,x1)"
    with pytest.raises(SpecError, match="out of range"):
        entries_from_indices([((0,), (3,))], outputs=2)
    with pytest.raises(SpecError, match="same order"):
        entries_from_indices([((0,), (0,)), ((0, 1), (0, 0))], outputs=2)


def test_npoint_accumulator_tensor_matches_brute_force():
    gen = torch.Generator().manual_seed(3)
    f = torch.randn(500, 2, 2, generator=gen, dtype=torch.float64) + 0.3
    x = torch.zeros(2, 1)
    acc = NPointAccumulator(x, 2, orders=(2, 3))
    for part in torch.split(f, 128):
        acc.update(ProductSource(part))
    est = acc.estimate(3)
    full = est.tensor()
    assert full.shape == (2, 2, 2, 2, 2, 2)
    brute = torch.einsum("mpa,mqb,mrc->pqrabc", f, f, f) / 500
    torch.testing.assert_close(full, brute, rtol=1e-12, atol=1e-12)
    mean, se = est.get((0, 1, 1), (1, 0, 1))
    assert mean == pytest.approx(float((f[:, 0, 1] * f[:, 1, 0] * f[:, 1, 1]).mean()), rel=1e-12)
    prods = f[:, 0, 1] * f[:, 1, 0] * f[:, 1, 1]
    assert se == pytest.approx(float(prods.std() / math.sqrt(500)), rel=1e-10)
    assert "G_101(x0,x1,x1)" in est.markdown(max_rows=100)
    with pytest.raises(SpecError, match="order 3"):
        est.get((0, 1), (0, 0))


def test_partial_entries_and_merge():
    gen = torch.Generator().manual_seed(4)
    f = torch.randn(300, 3, 1, generator=gen, dtype=torch.float64)
    entries = {4: torch.tensor([[0, 0, 1, 2], [2, 2, 2, 2]])}
    a = NPointAccumulator(torch.zeros(3, 1), 1, orders=(), entries=entries).update(ProductSource(f[:100]))
    b = NPointAccumulator(torch.zeros(3, 1), 1, orders=(), entries=entries).update(ProductSource(f[100:]))
    est = a.merge(b).estimate(4)
    assert est.mean[1] == pytest.approx(float((f[:, 2, 0] ** 4).mean()), rel=1e-12)
    with pytest.raises(SpecError, match="not every entry"):
        est.tensor()
    with pytest.raises(SpecError, match="was not estimated"):
        est.get((0, 1, 1, 1))


def test_connected_four_point_of_gaussian_is_zero_and_of_product_is_not():
    """The connected 4-point function vanishes for a Gaussian field (within 4 s.e.) and equals the fourth
    cumulant otherwise: X = Z^2 - 1 (chi-square(1) centred) has kappa_4 = 48."""
    gen = torch.Generator().manual_seed(5)
    z = torch.randn(200000, 1, 1, generator=gen, dtype=torch.float64)
    x = torch.zeros(1, 1)
    acc = ConnectedAccumulator(x, 1, [[0, 0, 0, 0]])
    for part in torch.split(z, 50000):
        acc.update(ProductSource(part))
    est = acc.estimate()
    assert abs(float(est.mean[0])) <= 4 * float(est.se[0])
    acc = ConnectedAccumulator(x, 1, [[0, 0, 0, 0]]).update(ProductSource(z * z - 1))
    est = acc.estimate()
    assert abs(float(est.mean[0]) - 48.0) <= 4 * float(est.se[0])
    assert abs(float(est.mean[0])) > 4 * float(est.se[0])


def test_delta_method_matches_analytic_ratio():
    mean = torch.tensor([2.0, 4.0], dtype=torch.float64)
    cov = torch.tensor([[0.01, 0.002], [0.002, 0.04]], dtype=torch.float64)
    value, se = delta_method(lambda v: (v[0] / v[1]).reshape(1), mean, cov)
    grad = torch.tensor([1 / 4.0, -2.0 / 16.0], dtype=torch.float64)
    assert float(value) == pytest.approx(0.5)
    assert float(se) == pytest.approx(float(torch.sqrt(grad @ cov @ grad)))


def test_estimate_tensor_is_symmetric():
    e = unique_entries(4, 2)
    est = CorrelatorEstimate(2, e, torch.arange(len(e), dtype=torch.float64), torch.ones(len(e)),
                             torch.zeros(2, 1), 2, 10)
    t = est.tensor()
    assert t.shape == (2, 2, 2, 2)
    for p, q, a, b in itertools.product(range(2), repeat=4):
        assert t[p, q, a, b] == t[q, p, b, a]
