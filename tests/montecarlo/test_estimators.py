"""Closed-form correlators against Monte Carlo (tolerances in standard errors), and the exact
combinatorics of the neuron-level estimator.

Reference values (digest of the paper, section 3): Erf K(-1, 0.6) = 1.1188; ReLU (no biases)
K(0.2, 1.2) = 0.1200; the finite-width four-point function of section 3.5,
G4 = sum_pairings K K + (sigma_W1^4/N) sum_pairings (m4 - k k), e.g. 44.16 / 14.72 at N = 5 for the
paper's Gauss-net test point.  Every comparison also rejects a wrong formula.
"""

import itertools
import math

import pytest
import torch

from symcorr import zoo
from symcorr.distributions import Laplace, Normal, Rademacher
from symcorr.errors import SpecError
from symcorr.montecarlo import NeuronLevelEstimator, estimate_connected, estimate_correlators
from symcorr.combinatorics import partial_matchings
from symcorr.spec import Dense, Network, size_symbol

TOL = 4.0  # standard errors




def _within(value, se, exact, tol=TOL):
    return abs(value - exact) <= tol * se


def erf_kernel(x, y, sw=1.0, sb=1.0, sw1=1.0, sb1=1.0):
    k = lambda a, b: sb ** 2 + sw ** 2 * a * b  # noqa: E731  (d_in = 1)
    return sb1 ** 2 + (2 * sw1 ** 2 / math.pi) * math.asin(
        2 * k(x, y) / math.sqrt((1 + 2 * k(x, x)) * (1 + 2 * k(y, y))))


def relu_kernel(x, y):
    kxx, kyy, kxy = x * x, y * y, x * y
    cos = min(1.0, kxy / math.sqrt(kxx * kyy))
    th = math.acos(cos)
    return math.sqrt(kxx * kyy) / (2 * math.pi) * (math.sin(th) + (math.pi - th) * cos)


def gauss_moment(points, sw=0.5, sb=0.5):
    """Gauss-net single-neuron moment m_A = exp(sum_{i<j} k0_ij - 1/2 sum_i k0_ii), d_in = 1."""
    k0 = lambda a, b: sb ** 2 + sw ** 2 * a * b  # noqa: E731
    pairs = sum(k0(a, b) for a, b in itertools.combinations(points, 2))
    return math.exp(pairs - 0.5 * sum(k0(a, a) for a in points))


def gauss_g4(xs, N, pattern, sw=0.5, sb=0.5):
    """Section 3.5: G4 for output indices with pairing structure ``pattern`` in {"aaaa","aabb","abab","abba"}."""
    K = lambda a, b: 1.0 + gauss_moment((a, b), sw, sb)  # noqa: E731  sigma_b1 = sigma_W1 = 1
    k = lambda a, b: gauss_moment((a, b), sw, sb)  # noqa: E731
    m4 = gauss_moment(xs, sw, sb)
    x1, x2, x3, x4 = xs
    pairings = {"aabb": [(0, 1, 2, 3)], "abab": [(0, 2, 1, 3)], "abba": [(0, 3, 1, 2)]}
    use = [(0, 1, 2, 3), (0, 2, 1, 3), (0, 3, 1, 2)] if pattern == "aaaa" else pairings[pattern]
    total = 0.0
    for i, j, p, q in use:
        total += K(xs[i], xs[j]) * K(xs[p], xs[q]) + (m4 - k(xs[i], xs[j]) * k(xs[p], xs[q])) / N
    return total


def test_erf_kernel_reference_value():
    exact = erf_kernel(-1.0, 0.6)
    assert exact == pytest.approx(1.1188, abs=1e-4)
    est = estimate_correlators(zoo.erf_net(1, 5), torch.tensor([[-1.0], [0.6]]), (2,), networks=40000, seed=0)
    value, se = est[2].get((0, 1))
    assert _within(value, se, exact)
    assert not _within(value, se, exact - 1.0)  # forgetting the read-out bias sigma_b1^2
    assert not _within(value, se, erf_kernel(-1.0, 0.6, sb=0.0))  # forgetting the hidden bias


def test_relu_kernel_reference_value():
    exact = relu_kernel(0.2, 1.2)
    assert exact == pytest.approx(0.1200, abs=1e-4)
    net = zoo.relu_net(1, 4, sigma_b0=None, sigma_b1=None)
    est = estimate_correlators(net, torch.tensor([[0.2], [1.2]]), (2,), networks=40000, seed=1)
    value, se = est[2].get((0, 1))
    assert _within(value, se, exact)
    assert not _within(value, se, 2 * exact)  # sigma_W^2 sqrt(k k') / pi: the arc-cosine kernel without 1/2
    # the direct estimator agrees too (larger error)
    direct = estimate_correlators(net, torch.tensor([[0.2], [1.2]]), (2,), networks=40000, seed=2,
                                  estimator="direct")
    assert _within(*direct[2].get((0, 1)), exact)


GAUSS_X = [-0.3, 0.1, 0.4, 0.8]


@pytest.mark.parametrize("pattern, outputs", [("aaaa", (0, 0, 0, 0)), ("aabb", (0, 0, 1, 1)),
                                              ("abab", (0, 1, 0, 1)), ("abba", (1, 0, 0, 1))])
def test_gauss_net_four_point_function_at_width_5(pattern, outputs):
    """Section 3.5 at N = 5 (sigma_W0 = sigma_b0 = 0.5: light enough tails for honest errors)."""
    net = zoo.gauss_net(1, 5, d_out=2, sigma_w0=0.5, sigma_b0=0.5)
    x = torch.tensor([[v] for v in GAUSS_X])
    est = estimate_correlators(net, x, (), entries={4: [[p * 2 + a for p, a in zip(range(4), outputs)]]},
                               networks=60000, seed=3)
    value, se = float(est[4].mean[0]), float(est[4].se[0])
    exact = gauss_g4(GAUSS_X, 5, pattern)
    assert _within(value, se, exact)
    assert not _within(value, se, gauss_g4(GAUSS_X, 10 ** 9, pattern))  # the GP (Wick) value alone
    assert not _within(value, se, gauss_g4(GAUSS_X, 25, pattern))  # a 1/N^2 interaction


def test_neuron_level_matches_section_3_5_and_its_table():
    """Exact single-neuron moments plugged into the estimator's polynomial give the paper's table
    (sigma = 1, all four inputs x = -0.006): G4_aaaa = 44.16 and G4_aabb = 14.72 at N = 5, 12.16 at N = 1000;
    Monte Carlo neuron moments agree with the closed form within 4 s.e."""
    N = size_symbol("N")
    net = zoo.gauss_net(1, N, d_out=2)
    x = torch.tensor([[-0.006]])
    est = NeuronLevelEstimator(net, x, 4, neurons=1000, seed=0)
    exact_m = torch.tensor([gauss_moment([-0.006] * len(a), 1.0, 1.0) for a in est.index.multisets],
                           dtype=torch.float64)
    entries = torch.tensor([[0, 0, 0, 0], [0, 0, 1, 1]])
    for width, want in [(5, (44.16, 14.72)), (10, (28.08, 9.36)), (1000, (12.16, 4.05))]:
        _, law = est._readout(width)
        got = est._moments_fn(entries, width, law)(exact_m)
        assert got.tolist() == pytest.approx(list(want), abs=0.006)
    # Monte Carlo at sigma = 0.5 (honest errors) against the closed form, all widths from one sample
    net = zoo.gauss_net(1, N, d_out=2, sigma_w0=0.5, sigma_b0=0.5)
    est = NeuronLevelEstimator(net, torch.tensor([[v] for v in GAUSS_X]), 4, neurons=200000, seed=1)
    for width in (1, 5, 100):
        g = est.correlator(entries=[[0, 2, 4, 6], [0, 2, 5, 7]], width=width)
        assert _within(float(g.mean[0]), float(g.se[0]), gauss_g4(GAUSS_X, width, "aaaa"))
        assert _within(float(g.mean[1]), float(g.se[1]), gauss_g4(GAUSS_X, width, "aabb"))
        if width <= 5:  # at N = 100 the 1/N term is below the error; small widths tell N from 2N
            assert not _within(float(g.mean[0]), float(g.se[0]), gauss_g4(GAUSS_X, 2 * width, "aaaa"))
    c = est.correlator(entries=[[0, 2, 4, 6]], width=5, connected=True)
    m4 = gauss_moment(GAUSS_X)
    k = lambda i, j: gauss_moment((GAUSS_X[i], GAUSS_X[j]))  # noqa: E731
    exact = (3 * m4 - k(0, 1) * k(2, 3) - k(0, 2) * k(1, 3) - k(0, 3) * k(1, 2)) / 5
    assert _within(float(c.mean[0]), float(c.se[0]), exact)
    assert not _within(float(c.mean[0]), float(c.se[0]), 0.0)


def _isserlis(mean, cov, idx):
    total = 0.0
    for pairs, singles in partial_matchings(len(idx)):
        term = 1.0
        for i, j in pairs:
            term *= cov[idx[i], idx[j]]
        for k in singles:
            term *= mean[idx[k]]
        total += term
    return total


def test_neuron_combinatorics_exact_by_enumeration():
    """Rademacher first layer (N = 2, discrete): enumerate all 4 hidden configurations, integrate the
    Gaussian read-out (means, row covariance, bias) by Isserlis, and compare with the neuron-level
    polynomial at the exact single-neuron moments, for every entry of orders 1-4 and a spread of orders
    5 and 6."""
    s, width = 0.8, 2
    xs = [0.5, -1.0]
    u = [[1.0, 0.4], [0.4, 2.0]]
    net = Network(1, [Dense(width, "tanh", weight=Rademacher(s)),
                      Dense(2, weight=Normal([0.6, -0.3], 0.5, row_cov=u), bias=Normal([0.2, 0.1], 0.3))])
    est = NeuronLevelEstimator(net, torch.tensor([[v] for v in xs]), 6, neurons=100, seed=0)
    exact_m = torch.tensor([0.5 * (math.prod(math.tanh(s * xs[p]) for p in a)
                                   + math.prod(math.tanh(-s * xs[p]) for p in a)) for a in est.index.multisets],
                           dtype=torch.float64)
    _, law = est._readout(width)
    mu_w, var, U = [0.6, -0.3], 0.5, torch.tensor(u, dtype=torch.float64)
    for order in (1, 2, 3, 4, 5, 6):
        entries = torch.combinations(torch.arange(4), order, with_replacement=True)
        if order > 4:
            entries = entries[::7]  # a spread of entries (the pattern count grows fast)
        got = est._moments_fn(entries, width, law)(exact_m)
        want = torch.zeros(len(entries), dtype=torch.float64)
        for signs in itertools.product([s, -s], repeat=width):
            h = [[math.tanh(w * x) for w in signs] for x in xs]  # h[p][j]
            mean = torch.tensor([mu_w[a] * sum(h[p]) + [0.2, 0.1][a] for p in range(2) for a in range(2)],
                                dtype=torch.float64)
            cov = torch.zeros(4, 4, dtype=torch.float64)
            for (p, a), (q, b) in itertools.product(itertools.product(range(2), range(2)), repeat=2):
                cov[p * 2 + a, q * 2 + b] = (var * U[a, b] * sum(hp * hq for hp, hq in zip(h[p], h[q]))
                                             + 0.3 * (a == b))
            for e, row in enumerate(entries.tolist()):
                want[e] += _isserlis(mean, cov, row) / 2 ** width
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_neuron_level_agrees_with_whole_network_monte_carlo():
    """Non-Gaussian first layer, read-out means and bias: the neuron-level and read-out estimators agree
    within 4.5 combined s.e. on all entries of orders 1-3 and a few of order 4."""
    net = Network(1, [Dense(3, "tanh", weight=Laplace(0, 0.8), bias=Normal(0, 0.2)),
                      Dense(2, weight=Normal([0.4, 0.0], 1 / 3), bias=Normal([0.0, 0.3], 0.25))])
    x = torch.tensor([[0.7], [-0.5]])
    ent = {4: [[0, 0, 2, 2], [0, 1, 2, 3], [1, 1, 1, 3]]}
    whole = estimate_correlators(net, x, (1, 2, 3), entries=ent, networks=60000, seed=5)
    neuron = estimate_correlators(net, x, (1, 2, 3), entries=ent, networks=200000, seed=6, estimator="neuron")
    for n in (1, 2, 3, 4):
        assert neuron[n].estimator == "neuron"
        # G1 of output 1 is the bias mean exactly (zero s.e. in both): floor the error at 1e-12
        z = (whole[n].mean - neuron[n].mean) / torch.sqrt(whole[n].se ** 2 + neuron[n].se ** 2 + 1e-24)
        assert float(z.abs().max()) < 4.5, n
    # the neuron-level errors are smaller for the same CPU budget class
    assert float(neuron[4].se.mean()) < float(whole[4].se.mean())


def test_connected_four_point_whole_network_vs_neuron_level():
    net = zoo.erf_net(1, 4)
    x = torch.tensor([[-1.0], [0.6]])
    whole = estimate_connected(net, x, [[0, 0, 1, 1]], networks=100000, seed=7)
    neuron = estimate_connected(net, x, [[0, 0, 1, 1]], networks=200000, seed=8, estimator="neuron")
    z = (whole.mean - neuron.mean) / torch.sqrt(whole.se ** 2 + neuron.se ** 2)
    assert abs(float(z[0])) < 4
    assert not _within(float(neuron.mean[0]), float(neuron.se[0]), 0.0)  # non-Gaussian at N = 4
    assert neuron.connected and "connected" in neuron.markdown()


def test_connected_part_scales_exactly_as_one_over_width():
    net = zoo.tanh_net(1, size_symbol("N"))
    est = NeuronLevelEstimator(net, torch.tensor([[0.3], [-0.9]]), 4, neurons=20000, seed=9)
    c = {w: float(est.correlator(entries=[[0, 0, 1, 1]], width=w, connected=True).mean[0]) for w in (1, 7, 1000)}
    assert c[7] * 7 == pytest.approx(c[1], rel=1e-9)
    assert c[1000] * 1000 == pytest.approx(c[1], rel=1e-9)
    g2 = [float(est.correlator(entries=[[0, 1]], width=w).mean[0]) for w in (1, 7, 1000)]
    assert g2 == pytest.approx([g2[0]] * 3, rel=1e-12)  # K does not depend on the width
    m, se = est.moment((0, 1))
    assert se > 0 and abs(m) < 1


def test_neuron_level_errors():
    deep = zoo.erf_net(1, 3)
    deep = Network(1, deep.layers[:1] + [Dense(3, "erf"), Dense(1)])
    with pytest.raises(SpecError, match="single hidden layer"):
        NeuronLevelEstimator(deep, [[0.1]], 2, neurons=10)
    corr = Network(2, [Dense(2, "erf", weight=Normal(0, 1, row_cov=[[1, 0.5], [0.5, 1]])), Dense(1)])
    with pytest.raises(SpecError, match="iid neurons"):
        NeuronLevelEstimator(corr, [[0.1, 0.2]], 2, neurons=10)
    means = Network(1, [Dense(2, "erf", bias=Normal([0.0, 1.0], 1)), Dense(1)])
    with pytest.raises(SpecError, match="not identically"):
        NeuronLevelEstimator(means, [[0.1]], 2, neurons=10)
    est = NeuronLevelEstimator(zoo.erf_net(1, 3), [[0.1]], 2, neurons=10)
    with pytest.raises(SpecError, match="width 3"):
        est.correlator(2, width=4)
    with pytest.raises(SpecError, match="max_order"):
        est.correlator(3)
    sym = NeuronLevelEstimator(zoo.erf_net(1, size_symbol("N")), [[0.1]], 2, neurons=10)
    with pytest.raises(SpecError, match="pass width"):
        sym.correlator(2)
    few = NeuronLevelEstimator(zoo.erf_net(1, 3), [[0.1], [0.5]], 4, neurons=10, point_sets=[(0, 1)])
    assert few.index.size == 3  # m_0, m_1, m_01 only
    with pytest.raises(SpecError, match="was not estimated"):
        few.correlator(entries=[[0, 0, 1, 1]])
    lap = Network(1, [Dense(2, "erf"), Dense(1, weight=Laplace(0, 1))])
    with pytest.raises(SpecError, match="Gaussian read-out"):
        NeuronLevelEstimator(lap, [[0.1]], 2, neurons=10)


def test_neuron_level_difference_has_the_rounding_floor_of_its_magnitude_polynomial():
    """Output SO(2) on an isotropic read-out: G and rho.G agree in exact arithmetic, but rho U rho^T
    differs from U by rounding.  The s.e. of the difference carries the one rounding floor
    32 n u max_e G~_e, G~ the magnitude polynomial (every term by its absolute value, so G~ >= |G|, with
    equality where no term cancels); it keeps this rounding at |z| < 0.1, while the delta-method s.e.
    alone would read it as |z| > 100."""
    from symcorr.groups import SpecialOrthogonal, rotation_matrix_2d
    from symcorr.montecarlo import rounding_floor, unique_entries
    est = NeuronLevelEstimator(zoo.erf_net(1, 3, d_out=2), [[0.7], [-0.4]], 4, neurons=20000, seed=10)
    action = (SpecialOrthogonal(2), rotation_matrix_2d(0.7))
    width, law = est._readout(None)
    m = est.acc.mean
    for n in (2, 4):
        e = unique_entries(4, n)
        value, se = est.difference(e, e, action=action)
        g = est._moments_fn(e, width, law)(m)
        mag = est._moments_fn(e, width, law, magnitude=True)(m)
        mag_moved = est._moments_fn(e, width, law, action, magnitude=True)(m)
        assert bool((mag >= g.abs() * (1 - 1e-12)).all())
        floor = rounding_floor(n, torch.maximum(mag, mag_moved).max(), torch.float64)
        assert bool((se >= floor).all()) and float(se.min()) == pytest.approx(float(floor), rel=1e-6)
        assert float((value / se).abs().max()) < 0.1
        if n == 2:  # G2_ab = delta_ab v N m_12: one term, no cancellation
            diag = (e % 2 == 0).all(1) | (e % 2 == 1).all(1)
            torch.testing.assert_close(mag[diag], g[diag].abs())
        else:
            raw = torch.sqrt((se * se - floor * floor).clamp_min(0))
            z_raw = torch.where(raw > 0, value / raw, torch.zeros_like(value))
            assert float(z_raw.abs().max()) > 100


def test_the_neuron_level_estimator_refuses_dependent_neurons():
    """A Haar orthogonal first layer (torch's orthogonal_) has dependent rows: single neurons cannot be sampled
    on their own (a width-1 block would be a uniform unit vector, a different law)."""
    from symcorr.distributions import HaarOrthogonal

    net = Network(2, [Dense(3, "erf", weight=HaarOrthogonal(1)), Dense(1)])
    with pytest.raises(SpecError, match="not independent"):
        NeuronLevelEstimator(net, [[1.0, 0.0]], max_order=2, neurons=10)
    with pytest.raises(SpecError, match="not independent"):
        estimate_correlators(net, [[1.0, 0.0]], orders=(2,), networks=10, estimator="neuron")
