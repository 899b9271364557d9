r"""``prove_invariance``: the symmetry-via-duality argument, step by step, with a conservative verdict.

For a group element g acting on the inputs or outputs, the prover

1. absorbs the action into a parameter map :math:`T_g` (:mod:`.absorb`),
2. changes variables :math:`\theta' = T_g\theta` (Jacobian 1 for every catalogue action),
3. decides exactly whether the law of the changed blocks is invariant (:mod:`.invariance`),
4. for NTK claims, requires :math:`T_g` to be orthogonal on parameter space,

and concludes ``proven`` only if every step is established.  Otherwise it looks for a function-space
witness (:mod:`.witness`) and says ``refuted`` if one is found, ``undecided`` if not.  A failed
parameter-space step alone never refutes: another parameter map might absorb the action (e.g. an even
activation without bias makes :math:`x\mapsto -x` a symmetry whatever the law of :math:`W^0`).

Claims about the infinite-width (GP) limit (``finite_width=False``) are proven either by the
finite-width proof (the limit of invariant laws is invariant) or by showing :math:`K(gx, gy) = K(x, y)`
exactly for the GP kernel of a single-hidden-layer network with a zero-mean read-out.

This module only assembles: the decision is :func:`symcorr.duality.decision.decide_invariance`, the
residual group :func:`symcorr.duality.catalogue.largest_proven_subgroup`, the text
:func:`symcorr.duality.render.proof_steps`.
"""

from __future__ import annotations

from ..spec import Network
from ..verdicts import CorrelatorKind, ProofVerdict, Side
from . import elements as el
from .catalogue import largest_proven_subgroup
from .decision import InvarianceDecision, decide_invariance
from .proof import InvarianceProof
from .render import conditions, proof_steps

__all__ = ["prove_invariance", "proof_of"]


def prove_invariance(network: Network, group, on: Side | str = Side.INPUT,
                     correlator: CorrelatorKind | str = CorrelatorKind.FUNCTION, *, finite_width: bool = True,
                     values: dict | None = None, orders=(1, 2, 4), search_witness: bool = True,
                     residual: bool = True) -> InvarianceProof:
    r"""Prove or refute that ``group`` acting on the ``on`` side is a symmetry of the network density
    (``correlator="function"``) or of the law of the empirical NTK (``correlator="ntk"``).

    ``group``: a :class:`~symcorr.groups.Group` or a name such as ``"SO"``, ``"SO(3)"``,
    ``"translations"`` (the dimension of the side is used).  ``finite_width=False`` asks about the
    infinite-width (GP) limit.  ``values``: numbers for the network's symbols, used only to evaluate
    witnesses.  ``orders``: correlator orders searched for witnesses.  ``residual``: for a rotation
    claim that is not proven, also find the largest proven subgroup.  Returns an
    :class:`InvarianceProof` with verdict ``proven`` / ``refuted`` / ``undecided``.
    """
    decision = decide_invariance(network, group, on, correlator, finite_width=finite_width, values=values,
                                 orders=orders, search_witness=search_witness)
    res = None
    if (residual and decision.verdict is not ProofVerdict.PROVEN and el.family(decision.group).is_rotation
            and el.concrete_dim(decision.group) is not None):
        res = largest_proven_subgroup(network, decision.group, decision.on, correlator=decision.correlator,
                                      finite_width=finite_width)
    return proof_of(decision, residual=res)


def proof_of(decision: InvarianceDecision, residual=None) -> InvarianceProof:
    """The :class:`InvarianceProof` of a decision: its steps rendered, its verdict, witnesses and
    conditions (and the residual group, when given)."""
    return InvarianceProof(decision.network, decision.group, decision.on, decision.correlator,
                           decision.finite_width, decision.verdict, proof_steps(decision),
                           witness=decision.witness, parameter_witness=decision.parameter_witness,
                           conditions=conditions(decision), residual=residual, decision=decision)
