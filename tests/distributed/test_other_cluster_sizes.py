"""Slow checks: clusters of 1 and 3 workers give the serial bits too, and ``--scheduler local:N`` starts
(and closes) its own cluster (``python -m pytest -m slow tests/distributed``)."""

import textwrap

import pytest
import torch

from symcorr import zoo
from symcorr.cli import main
from symcorr.distributed import open_client
from symcorr.montecarlo import estimate_correlators, invariance_test

pytestmark = pytest.mark.slow

X = torch.tensor([[1.0, 0.0, 0.0], [0.3, -0.8, 0.5], [-0.4, 0.2, 1.1]], dtype=torch.float64)


@pytest.mark.parametrize("workers", [1, 3])
def test_any_number_of_workers_gives_the_serial_bits(workers):
    pytest.importorskip("distributed")
    net = zoo.erf_net(3, 6, 2)
    kw = dict(orders=(2, 4), networks=20000, seed=9, device="cpu")
    serial = estimate_correlators(net, X, **kw)
    inv = invariance_test(net, "SO", "output", X, networks=20000, seed=9, device="cpu", estimator="direct")
    with open_client(f"local:{workers}") as client:
        for chunk in (1024, 5000):
            dist = estimate_correlators(net, X, client=client, chunk=chunk, **kw)
            assert all(torch.equal(serial[n].mean, dist[n].mean) and torch.equal(serial[n].se, dist[n].se)
                       for n in serial)
        inv2 = invariance_test(net, "SO", "output", X, networks=20000, seed=9, device="cpu", estimator="direct",
                               client=client, chunk=2048)
        assert torch.equal(inv.z, inv2.z) and torch.equal(inv.p_holm, inv2.p_holm)


def test_the_command_line_starts_its_own_local_cluster(tmp_path, capsys):
    pytest.importorskip("distributed")
    spec = tmp_path / "spec.toml"
    spec.write_text(textwrap.dedent("""
        title = "Erf-net"
        [network]
        input_dim = 2
        [[network.layers]]
        width = 3
        activation = "erf"
        [[network.layers]]
        width = 1
        [[claims]]
        group = "SO"
        on = "input"
        expect = "invariant"
        orders = [2]
        [montecarlo]
        networks = 4000
        orders = [2]
        inputs = [[1, 0], [0.3, -0.6]]
    """))
    assert main(["montecarlo", str(spec), "--no-progress"]) == 0
    serial = capsys.readouterr().out
    assert main(["montecarlo", str(spec), "--no-progress", "--scheduler", "local:2"]) == 0
    assert capsys.readouterr().out == serial
