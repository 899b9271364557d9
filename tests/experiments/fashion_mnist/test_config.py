"""symcorr.experiments.fashion_mnist.config: SweepConfig's validation names the field."""

import pytest

from symcorr.errors import SpecError
from symcorr.experiments.fashion_mnist import SweepConfig


@pytest.mark.parametrize("bad,field", [
    (dict(mus=()), "mus"), (dict(mus=(0.1, 0.1)), "mus"), (dict(mus=(float("nan"),)), "mus"),
    (dict(ks=()), "ks"), (dict(ks=(11,)), r"ks\[0\]"), (dict(ks=(2, -1)), r"ks\[1\]"),
    (dict(ks=(2.5,)), r"ks\[0\]"), (dict(runs=0), "runs"), (dict(epochs=0), "epochs"),
    (dict(batch_size=0), "batch_size"), (dict(models_per_chunk=0), "models_per_chunk"),
    (dict(targets="warm"), "targets"), (dict(normalisation="mnist"), "normalisation"),
    (dict(lr=-1.0), "lr"), (dict(gamma=0), "gamma"), (dict(seed=-1), "seed"), (dict(runs=2.0), "runs"),
    (dict(betas=(0.9, 1.0)), "betas"), (dict(gemm="blas"), "gemm"), (dict(threads=0), "threads"),
    (dict(progress=3), "progress"), (dict(eps=0.0), "eps"),
])
def test_config_validation(bad, field):
    with pytest.raises(SpecError, match=field):
        SweepConfig(**bad)


def test_config_normalises_and_describes_itself():
    cfg = SweepConfig(mus=[0, 0.1], ks=range(0, 4, 2), betas=[0.5, 0.75])
    assert cfg.mus == (0.0, 0.1) and cfg.ks == (0, 2) and cfg.betas == (0.5, 0.75)
    d = cfg.to_dict()
    assert d["mus"] == [0.0, 0.1] and "progress" not in d and "init_sampler" not in d
    assert SweepConfig(**d) == cfg
