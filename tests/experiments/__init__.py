"""Tests of symcorr.experiments (a package, so that module basenames may repeat those of other test folders)."""
