r"""Testing helpers for symcorr users: Hypothesis strategies and :func:`assert_invariant`.

``assert_invariant(network, group, on, points, networks=..., seed=..., **kw)`` runs
:func:`symcorr.montecarlo.invariance_test` and raises ``AssertionError`` with the report (largest
z-scores, Holm-adjusted p-values) when invariance is rejected at level ``alpha``; it takes a spec or a
:class:`symcorr.montecarlo.TorchModel` (your own ``nn.Module``: ``docs/testing-your-model.md``).  The strategies live in
:mod:`symcorr.testing.strategies` (imports ``hypothesis``).
"""

from ..montecarlo.invariance import assert_invariant
from .strategies import (MILD_ACTIVATIONS, TORCH_ACTIVATIONS, SymmetryCase, activations, axis_groups, deep_networks,
                         first_layer_laws, generators, group_elements, input_rotation_cases, inputs, networks,
                         output_rotation_cases, seeds, signed_permutation_cases, single_hidden_layer_networks,
                         symmetric_laws, symmetry_cases, tensor_inputs, torch_initialisers, torch_mlps,
                         translation_cases)

__all__ = [
    "MILD_ACTIVATIONS", "SymmetryCase", "activations", "assert_invariant", "deep_networks", "first_layer_laws",
    "generators", "group_elements", "input_rotation_cases", "inputs", "networks", "output_rotation_cases",
    "seeds", "signed_permutation_cases", "single_hidden_layer_networks", "symmetric_laws", "symmetry_cases",
    "translation_cases", "TORCH_ACTIVATIONS", "axis_groups", "tensor_inputs", "torch_initialisers", "torch_mlps",
]
