"""Monte Carlo and NTK runs on a Dask LocalCluster (2 worker processes): bit for bit the serial result,
whatever the chunk size; a killed worker costs only its own blocks; a stopped run resumes."""

import functools
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import pytest
import torch

from symcorr import zoo
from symcorr.distributed import run_blocks
from symcorr.errors import SpecError
from symcorr.montecarlo import (Ensemble, NPointAccumulator, estimate_connected, estimate_correlators,
                                invariance_test)
from symcorr.montecarlo.blocks import EnsembleBlocks
from symcorr.montecarlo.estimators import _feed_source
from symcorr.ntk import ntk_invariance_test, ntk_moments

cloudpickle = pytest.importorskip("cloudpickle")
cloudpickle.register_pickle_by_value(sys.modules[__name__])   # the workers get this module's classes by value

X = torch.tensor([[1.0, 0.0, 0.0], [0.3, -0.8, 0.5], [-0.4, 0.2, 1.1]], dtype=torch.float64)


def _same(a, b):
    return torch.equal(a.mean, b.mean) and torch.equal(a.se, b.se) and a.samples == b.samples


@pytest.mark.parametrize("estimator", ["direct", "readout", "neuron"])
def test_correlators_equal_the_serial_run_bit_for_bit(client, estimator):
    net = zoo.erf_net(3, 6)
    kw = dict(orders=(2, 4), networks=9000, seed=3, estimator=estimator, device="cpu")
    if estimator == "neuron":
        kw["chunk"] = 2048                    # the neuron chunks are the blocks (they pin the samples)
        serial = estimate_correlators(net, X, **kw)
        dist = estimate_correlators(net, X, client=client, **kw)
    else:
        serial = estimate_correlators(net, X, chunk=2048, **kw)
        dist = estimate_correlators(net, X, chunk=1024, client=client, **kw)
        wide = estimate_correlators(net, X, chunk=8192, client=client, **kw)
        assert all(_same(serial[n], wide[n]) for n in serial)
    assert all(_same(serial[n], dist[n]) for n in serial)
    other = estimate_correlators(net, X, **{**kw, "seed": 4})
    assert not torch.equal(serial[4].mean, other[4].mean)       # the comparison can see a difference


def test_connected_correlator_equals_the_serial_run(client):
    net = zoo.erf_net(3, 4)
    e = torch.tensor([[0, 1, 2, 2]])
    serial = estimate_connected(net, X, e, networks=5000, seed=2, device="cpu", chunk=3072)
    dist = estimate_connected(net, X, e, networks=5000, seed=2, device="cpu", client=client, chunk=1024)
    assert _same(serial, dist)


@pytest.mark.parametrize("on,group,estimator", [("input", "SO", "direct"), ("output", "SO", "readout"),
                                                 ("input", "SO", "neuron")])
def test_invariance_test_equals_the_serial_run(client, on, group, estimator):
    net = zoo.erf_net(3, 5) if on == "input" else zoo.tanh_net(3, 5, 2)
    kw = dict(orders=(2, 4), networks=6000, seed=1, group_samples=2, estimator=estimator, device="cpu")
    serial = invariance_test(net, group, on, X, chunk=2048, **kw)
    dist = invariance_test(net, group, on, X, chunk=1024, client=client, **kw)
    for field in ("difference", "se", "z", "p", "p_holm"):
        assert torch.equal(getattr(serial, field), getattr(dist, field)), field
    assert serial.verdict == dist.verdict


def test_ntk_moments_and_invariance_equal_the_serial_run(client):
    net = zoo.erf_net(2, 4, 2)
    x = torch.tensor([[0.5, -0.2], [1.0, 0.3]], dtype=torch.float64)
    a = ntk_moments(net, x, networks=2500, seed=5)
    b = ntk_moments(net, x, networks=2500, seed=5, client=client, chunk=1024)
    assert torch.equal(a.mean, b.mean) and torch.equal(a.se, b.se) and torch.equal(a.second_se, b.second_se)
    assert all(torch.equal(a.block_mean[k], b.block_mean[k]) for k in a.block_mean)
    r1 = ntk_invariance_test(net, "SO", "output", x, networks=2500, seed=5, group_samples=2)
    r2 = ntk_invariance_test(net, "SO", "output", x, networks=2500, seed=5, group_samples=2, client=client)
    assert all(torch.equal(r1.z[n], r2.z[n]) and torch.equal(r1.p_holm[n], r2.p_holm[n]) for n in r1.orders)


class Recorded:
    """Blockwise work that leaves a file per leaf it computes (block, process) and takes a while."""

    def __init__(self, inner, folder, pause=0.0):
        self.inner, self.folder, self.pause = inner, Path(folder), pause
        self.blocks = inner.blocks

    def leaf(self, j, payload=None):
        (self.folder / f"{j}-{os.getpid()}-{uuid.uuid4().hex}").touch()
        time.sleep(self.pause)
        return self.inner.leaf(j)

    def merge(self, a, b):
        return self.inner.merge(a, b)

    def weight(self, a, b):
        return self.inner.weight(a, b)

    def fingerprint(self):
        return self.inner.fingerprint()


def _correlator_work(networks=24 * 256, block=256):
    """The blocks of estimate_correlators (orders 2 and 4), with small RNG blocks so there are many."""
    ens = Ensemble(zoo.erf_net(3, 8), networks, seed=7, block=block, chunk=1024, device="cpu", estimator="direct")
    x = ens.points(X)
    new = functools.partial(NPointAccumulator, x, 1, [2, 4])
    return EnsembleBlocks(ens, "test", new, functools.partial(_feed_source, x))


def _bits(acc):
    return [(acc.acc[n].count, acc.acc[n].mean_.tolist(), acc.acc[n].m2.tolist()) for n in acc.acc]


def _runs(folder):
    out = {}
    for p in Path(folder).iterdir():
        j, pid, _ = p.name.split("-")
        out.setdefault(int(j), []).append(int(pid))
    return out


def test_a_killed_worker_costs_only_its_own_blocks(client, tmp_path):
    inner = _correlator_work()
    expect = _bits(run_blocks(inner, per_task=4, threads=1))
    pids = client.run(os.getpid)                              # worker address -> process id
    logs = tmp_path / "log"
    logs.mkdir()
    killed = []

    def kill_once(n):
        """After the first finished task: kill a worker that is processing one of this run's tasks."""
        if not killed:
            busy = [addr for addr, keys in client.processing().items() if any("symcorr-" in str(k) for k in keys)]
            victim = pids[sorted(busy)[0] if busy else sorted(pids)[0]]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
    work = Recorded(inner, logs, pause=0.05)
    got = run_blocks(work, per_task=4, client=client, progress=kill_once, window=4)
    assert killed and _bits(got) == expect
    victim = killed[0]
    runs = _runs(logs)
    assert sorted(runs) == list(range(inner.blocks))
    assert any(victim in pids_ for pids_ in runs.values())    # the killed worker was working on this run
    again = {j: pids_ for j, pids_ in runs.items() if len(pids_) > 1}
    assert all(victim in pids_ for pids_ in again.values())    # only the dead worker's blocks were redone
    print(f"blocks computed again after the kill: {len(again)}")
    assert len(again) <= 4 * 4                                 # at most a window of tasks of 4 blocks
    client.wait_for_workers(2, timeout=120)
    assert victim not in client.run(os.getpid).values()        # the nanny started a fresh worker


class Stop(Exception):
    pass


def test_a_stopped_cluster_run_resumes_from_its_folder(client, tmp_path):
    inner = _correlator_work(networks=12 * 256)
    expect = _bits(run_blocks(inner, per_task=2, threads=1))
    done = []

    def stop_after_two(n):
        done.append(n)
        if len(done) == 2:
            raise Stop
    with pytest.raises(Stop):
        run_blocks(inner, per_task=2, client=client, checkpoint=tmp_path / "ck", progress=stop_after_two)
    logs = tmp_path / "log"
    logs.mkdir()
    got = run_blocks(Recorded(inner, logs), per_task=3, client=client, checkpoint=tmp_path / "ck")
    assert _bits(got) == expect
    assert len(_runs(logs)) <= inner.blocks - 4               # the two saved tasks were not computed again


class Failing:
    blocks = 6

    def __init__(self, bad=3):
        self.bad = bad

    def leaf(self, j, payload=None):
        if j == self.bad:
            raise SpecError(f"block {j} overflows", "networks")
        return j

    def merge(self, a, b):
        return a + b

    def weight(self, a, b):
        return b - a

    def fingerprint(self):
        return {}


def test_an_error_in_a_block_reaches_the_caller(client):
    with pytest.raises(SpecError, match="block 3 overflows"):
        run_blocks(Failing(), client=client)
    assert run_blocks(Failing(bad=None), client=client) == 15    # 0 + 1 + ... + 5
