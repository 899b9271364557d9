r"""Symmetry via duality: prove (or refute) invariance of network densities in parameter space.

``prove_invariance(network, group, on="input"|"output", correlator="function"|"ntk")`` returns an
:class:`InvarianceProof` (readable steps, verdict ``proven`` / ``refuted`` / ``undecided``, a witness for
refutations, Markdown and LaTeX rendering); ``symmetry_group(network, on=...)`` the largest group of
the catalogue for which the proof holds; ``crosscheck`` compares a proof with the symbolic correlators
(:mod:`symcorr.symbolic`) in function space.  The method is summarised in ``docs/duality.md``.

Layers (imports point down only)::

    prover, crosscheck          prove_invariance = decision + residual group + text
    render                      the text of a decision (ProofSteps); render_deep, render_maps its parts
    catalogue                   symmetry_group(s), largest_proven_subgroup (built on decide_invariance)
    decision                    decide_invariance: one group, typed steps, the verdict
    absorb, invariance, witness the engines of the steps (moments: exact single-hidden-layer correlators)
    deep_witness -> monotone    exact witnesses for two or more hidden layers (kernel: their GP-limit proof)
    moments -> neuron -> values  the single-neuron moments and the values they return
    proof, engines, exact, elements
"""

from .catalogue import candidate_groups, largest_proven_subgroup, symmetry_group, symmetry_groups
from .crosscheck import CrossCheck, crosscheck
from .decision import InvarianceDecision, decide_invariance
from .elements import catalogue_group
from .engines import EngineFailure
from .proof import InvarianceProof, ParameterWitness, ProofStep, Witness
from .prover import prove_invariance

__all__ = [
    "CrossCheck", "EngineFailure", "InvarianceDecision", "InvarianceProof", "ParameterWitness", "ProofStep",
    "Witness", "candidate_groups", "catalogue_group", "crosscheck", "decide_invariance", "largest_proven_subgroup",
    "prove_invariance", "symmetry_group", "symmetry_groups",
]
