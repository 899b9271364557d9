"""symcorr.budget: requests that cannot finish are refused before work starts, saying what they need."""

import time

import pytest
import torch

from symcorr import zoo
from symcorr.budget import (MIN_TEST_NETWORKS, check_correlator_order, check_test_budget, format_bytes,
                            memory_limit, require_memory)
from symcorr.errors import SpecError
from symcorr.montecarlo import Ensemble, estimate_correlators, invariance_test
from symcorr.symbolic import correlator


def test_memory_limit_from_the_environment(monkeypatch):
    monkeypatch.setenv("SYMCORR_MEMORY_LIMIT", "512M")
    assert memory_limit() == 512 * 2 ** 20
    with pytest.raises(SpecError, match="needs about 1 GiB at once, more than the 512 MiB"):
        require_memory(2 ** 30, "the thing", "ask for less", "field")
    require_memory(2 ** 20, "the thing", "ask for less", "field")
    monkeypatch.setenv("SYMCORR_MEMORY_LIMIT", "lots")
    with pytest.raises(SpecError, match="SYMCORR_MEMORY_LIMIT"):
        memory_limit()
    monkeypatch.delenv("SYMCORR_MEMORY_LIMIT")
    assert memory_limit() > 2 ** 26
    assert format_bytes(3 * 2 ** 30) == "3 GiB" and format_bytes(100) == "100 bytes"


@pytest.mark.parametrize("call, match", [
    (lambda: Ensemble(zoo.erf_net(1, 10 ** 9, 1), 10), r"networks: one network of this spec \(3,000,000,001 parameters\) needs about 22.4 GiB"),
    (lambda: Ensemble(zoo.erf_net(2, 8, 1), 10 ** 9, chunk=10 ** 9), r"chunk: a chunk of .* networks needs about"),
    (lambda: correlator(zoo.erf_net(1, 4, 1), 100), r"n: order 100 is above the limit 12"),
    (lambda: estimate_correlators(zoo.erf_net(1, 4, 1), [[0.5]], (100,), networks=200), r"orders: order 100"),
    (lambda: invariance_test(zoo.erf_net(2, 4, 2), "SO", "output", [[1.0, 0.0]], networks=1),
     r"1 networks are too few for a statistical test"),
])
def test_hopeless_requests_are_refused_at_once(call, match, monkeypatch):
    monkeypatch.setenv("SYMCORR_MEMORY_LIMIT", "4G")
    start = time.perf_counter()
    with pytest.raises(SpecError, match=match):
        call()
    assert time.perf_counter() - start < 5.0  # a hang guard, not a speed claim


def test_limits_admit_what_they_should():
    assert check_correlator_order(12) == 12 and check_test_budget(MIN_TEST_NETWORKS) == MIN_TEST_NETWORKS
    with pytest.raises(SpecError, match="too few"):
        check_test_budget(MIN_TEST_NETWORKS - 1)
    ens = Ensemble(zoo.erf_net(2, 8, 1), 5000)
    assert ens.chunk >= 1 and ens.networks == 5000
    res = invariance_test(zoo.erf_net(2, 4, 2), "SO", "output", torch.tensor([[1.0, 0.0]]), networks=MIN_TEST_NETWORKS,
                          orders=(2,), group_samples=1, seed=0)
    assert res.networks == MIN_TEST_NETWORKS
