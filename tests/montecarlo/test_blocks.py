"""symcorr.montecarlo.blocks: an ensemble's RNG blocks as blockwise work; results are the same bits for
every chunk size (whole networks and single neurons)."""

import functools

import torch

from symcorr import zoo
from symcorr.montecarlo import (Ensemble, MomentAccumulator, NeuronLevelEstimator, NPointAccumulator,
                                estimate_correlators, invariance_test)
from symcorr.montecarlo.blocks import EnsembleBlocks, block_chunk, run_ensemble
from symcorr.montecarlo.estimators import _feed_source
from symcorr.rng import child_seed, make_generator

X = torch.tensor([[0.4, -0.3], [1.0, 0.5]], dtype=torch.float64)


def test_a_block_holds_the_networks_the_chunks_hold():
    ens = Ensemble(zoo.erf_net(2, 4), 2300, seed=3, chunk=1000, block=500, estimator="direct")
    chunks = list(ens.chunks())
    whole = {k: torch.cat([c.params[k] for c in chunks]) for k in chunks[0].params}
    for j in range(5):
        b = block_chunk(ens, j)
        assert b.index == j and b.start == 500 * j and b.size == (300 if j == 4 else 500)
        for k, v in b.params.items():
            assert torch.equal(v, whole[k][b.start:b.start + b.size])


def test_work_bookkeeping():
    ens = Ensemble(zoo.erf_net(2, 4), 2300, seed=3, chunk=1000, block=500, estimator="direct")
    x = ens.points(X)
    work = EnsembleBlocks(ens, "test", functools.partial(NPointAccumulator, x, 1, [2]),
                          functools.partial(_feed_source, x), {"points": x})
    assert work.blocks == 5 and work.per_task == 2
    assert work.weight(0, 5) == 2300 and work.weight(4, 5) == 300
    fp = work.fingerprint()
    assert fp["seed"] == 3 and fp["block"] == 500 and fp["networks"] == 2300 and fp["kind"] == "test"
    acc = run_ensemble(work)
    assert acc.count == 2300


def test_correlators_are_the_same_bits_for_every_chunk():
    net = zoo.tanh_net(2, 3, d_out=2)
    for estimator in ("direct", "readout"):
        a = estimate_correlators(net, X, (2, 4), networks=5000, seed=11, chunk=1024, estimator=estimator)
        for chunk in (3000, 100000):
            b = estimate_correlators(net, X, (2, 4), networks=5000, seed=11, chunk=chunk, estimator=estimator)
            assert all(torch.equal(a[n].mean, b[n].mean) and torch.equal(a[n].se, b[n].se) for n in a)


def test_invariance_tests_are_the_same_bits_for_every_chunk():
    net = zoo.erf_net(2, 4)
    kw = dict(orders=(2,), networks=4000, seed=2, group_samples=2)
    a = invariance_test(net, "SO", "input", X, chunk=1024, **kw)
    b = invariance_test(net, "SO", "input", X, chunk=4096, **kw)
    assert torch.equal(a.z, b.z) and torch.equal(a.se, b.se)


def test_neuron_blocks_do_not_depend_on_chunk_and_are_the_documented_draws():
    net = zoo.erf_net(2, 5)
    a = NeuronLevelEstimator(net, X, 2, neurons=5000, seed=4)
    b = NeuronLevelEstimator(net, X, 2, neurons=5000, seed=4, chunk=1)        # one block per task
    c = NeuronLevelEstimator(net, X, 2, neurons=5000, seed=4, chunk=10 ** 6)
    for other in (b, c):
        assert torch.equal(a.acc.mean_, other.acc.mean_) and torch.equal(a.acc.c2, other.acc.c2)
    # block c of single neurons is drawn from child_seed(seed, 3, c), blocks of the default size
    block = max(1024, min(1 << 16, (1 << 24) // a.index.size))
    feats = []
    for c_ in range(-(-5000 // block)):
        m = min(block, 5000 - c_ * block)
        params = a.neuron.sample(m, generator=make_generator(child_seed(4, 3, c_)))
        phi = a.neuron.forward(params, a.points)[..., 0]
        feats.append(torch.stack([phi[:, list(t)].prod(-1) for t in a.index.multisets], 1))
    direct = MomentAccumulator(a.index.size).update(torch.cat(feats))
    torch.testing.assert_close(a.acc.mean_, direct.mean_, rtol=1e-12, atol=1e-14)
