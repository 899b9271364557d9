"""Shared pytest configuration: Hypothesis profiles.

``HYPOTHESIS_PROFILE=thorough python -m pytest -m slow`` runs the thorough property tests.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
