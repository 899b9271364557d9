"""A Dask LocalCluster shared by the tests that need one: 2 worker processes of one thread each, as the
command line's ``--scheduler local:2`` starts (Dask comes with the ``test`` extra)."""

import os

import pytest


def _warm():
    import symcorr.experiments.fashion_mnist  # noqa: F401  (workers import symcorr once, up front)
    import symcorr.montecarlo  # noqa: F401
    return os.getpid()


@pytest.fixture(scope="session")
def dask_client():
    distributed = pytest.importorskip("distributed")
    import dask
    with dask.config.set({"distributed.worker.profile.enabled": False}):      # as open_client("local:2")
        cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                           dashboard_address=":0")
    client = distributed.Client(cluster, timeout=120)
    try:
        client.wait_for_workers(2, timeout=120)
        client.run(_warm)
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture
def client(dask_client):
    """The shared cluster with both workers up (a test may have killed one)."""
    dask_client.wait_for_workers(2, timeout=120)
    yield dask_client
