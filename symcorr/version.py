"""The version of symcorr (one literal, read by setup.cfg and imported by the package)."""

__version__ = "0.1.0"
