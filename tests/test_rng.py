"""Tests for symcorr.rng."""

import pytest
import torch

from symcorr.errors import SpecError
from symcorr.rng import child_seed, make_generator, resolve_device


def test_child_seeds_are_deterministic_and_distinct():
    assert child_seed(1, 2) == child_seed(1, 2)
    seeds = {child_seed(1, i) for i in range(100)} | {child_seed(2, 0), child_seed(1)}
    assert len(seeds) == 102
    assert 0 <= child_seed(5, 3) < 2 ** 63


def test_generator_is_seeded():
    a = torch.rand(3, generator=make_generator(9))
    b = torch.rand(3, generator=make_generator(9))
    assert torch.equal(a, b)


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_bad_seeds(seed):
    with pytest.raises(SpecError):
        make_generator(seed)


def test_cuda_request_without_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(SpecError, match="no CUDA"):
        resolve_device("cuda")
    assert resolve_device("auto").type == "cpu"
