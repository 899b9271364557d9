"""Tests of symcorr.duality (a package, so that basenames such as test_invariance.py may repeat across folders)."""
