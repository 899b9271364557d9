"""The Fashion-MNIST sweep on a Dask LocalCluster equals the serial sweep bit for bit; a stopped sweep
resumes from its checkpoint folder (synthetic data, a tiny grid)."""

import numpy as np
import pytest

from symcorr.errors import SpecError
from symcorr.experiments.fashion_mnist import SweepConfig, TrainData, run_sweep
from synthetic_fashion import images


@pytest.fixture(scope="module")
def data():
    return TrainData.from_arrays(*images(160, 0), *images(80, 1))


def _tiny(**kw):
    return SweepConfig(**{**dict(mus=(0.0, 0.2), ks=(0, 10), runs=2, epochs=1, models_per_chunk=3, threads=1),
                          **kw})


def _equal(a, b):
    np.testing.assert_array_equal(a.test_acc, b.test_acc)
    np.testing.assert_array_equal(a.train_loss, b.train_loss)


def test_sweep_on_a_cluster_equals_the_serial_sweep(client, data):
    serial = run_sweep(_tiny(), data)
    ticks = []
    dist = run_sweep(_tiny(progress=ticks.append), data, client=client)
    _equal(serial, dist)
    assert sum(ticks) == _tiny().total_model_epochs            # one tick per finished chunk (future)
    assert not np.array_equal(serial.train_loss, run_sweep(_tiny(seed=1), data).train_loss)


class Stop(Exception):
    pass


def test_a_stopped_sweep_resumes_and_other_settings_are_refused(tmp_path, data):
    serial = run_sweep(_tiny(), data)

    def stop(n):
        raise Stop
    with pytest.raises(Stop):
        run_sweep(_tiny(progress=stop), data, checkpoint=tmp_path)
    ticks = []
    resumed = run_sweep(_tiny(progress=ticks.append), data, checkpoint=tmp_path)
    _equal(serial, resumed)
    with pytest.raises(SpecError, match="config.epochs: 1 there, 2 now"):
        run_sweep(_tiny(epochs=2), data, checkpoint=tmp_path)
    other = TrainData.from_arrays(*images(160, 5), *images(80, 1))
    with pytest.raises(SpecError, match=r"\(data\.x_te"):
        run_sweep(_tiny(), other, checkpoint=tmp_path)
