r"""Torch models as specs: the laws of ``torch.nn.init`` initialisers and ``nn.Linear``'s defaults
(:mod:`.initialisers`), and the reader of ``nn.Sequential`` models (:mod:`.reader`) behind
:meth:`symcorr.spec.Network.from_torch`.

This package sits below :mod:`symcorr.spec` (it returns layer descriptions, the spec builds the
network), next to :mod:`symcorr.distributions`.  Models the reader does not know run in the numeric
frame through :class:`symcorr.montecarlo.TorchModel`.
"""

from .initialisers import (SUPPORTED_INITIALISERS, Initialiser, calculate_gain, default_linear_laws, exact_number,
                           fans, read_initialiser)
from .reader import ACTIVATIONS, SUPPORTED_MODULES, LinearLayer, TorchArchitecture, read_sequential

__all__ = ["ACTIVATIONS", "Initialiser", "LinearLayer", "SUPPORTED_INITIALISERS", "SUPPORTED_MODULES",
           "TorchArchitecture", "calculate_gain", "default_linear_laws", "exact_number", "fans", "read_initialiser",
           "read_sequential"]
