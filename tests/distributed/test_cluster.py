"""symcorr.distributed.cluster: naming a cluster (local:N | ADDRESS), and clear errors."""

import sys

import pytest

from symcorr.distributed import open_client, parse_scheduler
from symcorr.distributed.cluster import is_client
from symcorr.errors import SpecError


def test_parse_scheduler():
    assert parse_scheduler("local:3") == ("local", 3)
    assert parse_scheduler(" local:1 ") == ("local", 1)
    kind, n = parse_scheduler("local")
    assert kind == "local" and n >= 1
    assert parse_scheduler("tcp://10.1.2.3:8786") == ("address", "tcp://10.1.2.3:8786")
    assert parse_scheduler("node17:8786") == ("address", "node17:8786")
    for bad in ("", "local:0", "local:x", "local:-2", "tcp://a b", None, 3):
        with pytest.raises(SpecError, match="scheduler"):
            parse_scheduler(bad)


def test_no_scheduler_is_the_serial_path():
    with open_client(None) as client:
        assert client is None


def test_missing_dask_is_a_one_line_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)       # import distributed -> ImportError
    with pytest.raises(SpecError) as err:
        with open_client("local:1"):
            pass
    assert "pip install 'symcorr[distributed]'" in str(err.value) and "\n" not in str(err.value)


def test_an_address_connects_and_closes_only_its_client(client):
    address = client.scheduler.address
    with open_client(address) as other:
        assert is_client(other) and other is not client
        assert other.submit(sum, [1, 2]).result() == 3
    assert client.submit(sum, [3, 4]).result() == 7            # the cluster is still up
    with open_client(client) as same:
        assert same is client


def test_an_unreachable_scheduler_is_a_clear_error():
    pytest.importorskip("distributed")
    with pytest.raises(SpecError, match="cannot reach the Dask scheduler"):
        with open_client("tcp://127.0.0.1:9", timeout=1):
            pass
