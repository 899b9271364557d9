"""Tests of symcorr.ntk (a package so that its module names do not clash with tests/duality and
tests/montecarlo)."""
