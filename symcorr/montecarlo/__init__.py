r"""The numeric frame: Monte Carlo ensembles, n-point estimates with standard errors, invariance tests.

* :mod:`.ensemble` -- :class:`Ensemble`: networks of one spec streamed in chunks (batched torch, seeded
  per RNG block, CPU or CUDA); moment sources (direct products, or a Gaussian last layer integrated out).
* :mod:`.accumulators` -- mergeable streaming accumulators (:class:`MomentAccumulator`,
  :class:`NPointAccumulator`, :class:`ConnectedAccumulator`) and :class:`CorrelatorEstimate`.
* :mod:`.estimators` -- :func:`estimate_correlators`, :func:`estimate_connected` and the
  :class:`NeuronLevelEstimator` (exact-in-width correlators from single-neuron moments).
* :mod:`.statistics` -- the statistics of every invariance test, written once: :func:`paired_z`,
  :func:`rounding_floor`, :func:`two_sided_p`, :func:`holm_adjust` and the decision rule
  :class:`HolmVerdict` (invariant / broken / undecided).
* :mod:`.invariance` -- :func:`invariance_test` (paired z-scores, Holm correction) and
  :func:`assert_invariant`.
* :mod:`.models` -- :class:`TorchModel` and :class:`ModelEnsemble`: the numeric frame on any ``torch.nn``
  model (a factory ``generator -> nn.Module``, stacked states, ``vmap`` of ``functional_call``), accepted by
  every function above and by :mod:`symcorr.ntk`.

Slots: an entry of order n is a tuple of slots ``s = point * d_out + output``.
"""

from .accumulators import (ConnectedAccumulator, CorrelatorEstimate, MomentAccumulator, NPointAccumulator,
                           delta_method, entries_from_indices, unique_entries)
from .ensemble import (Ensemble, EnsembleChunk, GaussianReadoutSource, ProductSource, ReadoutLaw,
                       readout_law)
from .estimators import NeuronLevelEstimator, estimate_connected, estimate_correlators
from .invariance import InvarianceTestResult, assert_invariant, group_elements, invariance_test
from .models import ModelEnsemble, TorchModel, make_ensemble
from .statistics import HolmVerdict, floored_se, holm_adjust, paired_z, rounding_floor, two_sided_p

__all__ = [
    "ConnectedAccumulator", "CorrelatorEstimate", "Ensemble", "EnsembleChunk", "GaussianReadoutSource",
    "HolmVerdict", "InvarianceTestResult", "ModelEnsemble", "MomentAccumulator", "NPointAccumulator", "NeuronLevelEstimator",
    "ProductSource", "ReadoutLaw", "TorchModel", "assert_invariant", "delta_method",
    "entries_from_indices", "estimate_connected", "estimate_correlators", "floored_se", "group_elements",
    "holm_adjust", "invariance_test", "make_ensemble", "paired_z", "readout_law", "rounding_floor", "two_sided_p",
    "unique_entries",
]
