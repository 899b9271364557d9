"""symcorr.runtime: torch thread counts set for a block of work and restored, and the default count."""

import pytest
import torch

from symcorr.errors import SpecError
from symcorr.runtime import default_threads, torch_threads


def test_threads_are_restored_after_the_block_even_on_errors():
    before = torch.get_num_threads()
    with torch_threads(1) as n:
        assert n == 1 == torch.get_num_threads()
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError):
        with torch_threads(1):
            raise RuntimeError("boom")
    assert torch.get_num_threads() == before
    with pytest.raises(SpecError, match="positive integer"):
        with torch_threads(0):
            pass


def test_default_threads_follow_the_load_and_the_environment(monkeypatch):
    monkeypatch.setenv("SYMCORR_THREADS", "3")
    assert default_threads() == 3
    monkeypatch.setenv("SYMCORR_THREADS", "none")
    with pytest.raises(SpecError, match="SYMCORR_THREADS"):
        default_threads()
    monkeypatch.delenv("SYMCORR_THREADS")
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    monkeypatch.setattr("os.getloadavg", lambda: (6.2, 0.0, 0.0))
    assert default_threads() == 2
    monkeypatch.setattr("os.getloadavg", lambda: (40.0, 0.0, 0.0))
    assert default_threads() == 1
    monkeypatch.setattr("os.getloadavg", lambda: (0.0, 0.0, 0.0))
    assert default_threads() == 8
