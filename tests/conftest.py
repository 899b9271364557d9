"""Shared pytest configuration: Hypothesis profiles.

``HYPOTHESIS_PROFILE=thorough python -m pytest -m slow`` runs the thorough property tests.
"""

import os

import pytest
import torch

from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """One torch thread for the whole suite: CI has two cores and the tests are many small tensor
    operations, where two threads oversubscribe (measured up to 8x slower on a loaded machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
