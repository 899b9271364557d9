r"""Symmetry via duality: prove (or refute) invariance of network densities in parameter space.

``prove_invariance(network, group, on="input"|"output", correlator="function"|"ntk")`` returns an
:class:`InvarianceProof` (readable steps, verdict ``proven`` / ``refuted`` / ``undecided``, a witness for
refutations, Markdown and LaTeX rendering); ``symmetry_group(network, on=...)`` the largest group of
the catalogue for which the proof holds; ``crosscheck`` compares a proof with the symbolic correlators
(:mod:`symcorr.symbolic`) in function space.  The method is summarised in ``docs/duality.md``.
"""

from .catalogue import candidate_groups, largest_proven_subgroup, symmetry_group, symmetry_groups
from .proof import InvarianceProof, ParameterWitness, ProofStep, Witness
from .prover import prove_invariance

__all__ = [
    "InvarianceProof", "ParameterWitness", "ProofStep", "Witness", "candidate_groups", "crosscheck",
    "largest_proven_subgroup", "prove_invariance", "symmetry_group", "symmetry_groups",
]


def crosscheck(*args, **kwargs):
    """See :func:`symcorr.duality.crosscheck.crosscheck` (imported lazily: it needs symcorr.symbolic)."""
    from .crosscheck import crosscheck as _crosscheck

    return _crosscheck(*args, **kwargs)
