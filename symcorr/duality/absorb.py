r"""Absorbing a group action into a map of the parameters: :math:`g\cdot f_\theta = f_{T_g\theta}`.

=====================  =========================================  ============================================
action                 parameter map :math:`T_g`                  valid when
=====================  =========================================  ============================================
input  :math:`x\mapsto Rx`   :math:`W^0 \mapsto W^0 R`                 always (the first layer is Dense:
                                                                      :math:`W^0(Rx) = (W^0R)x`)
output :math:`f\mapsto \rho f` :math:`(W^L, b^L)\mapsto(\rho W^L, \rho b^L)`   last layer linear (identity activation);
                                                                      for permutations any elementwise
                                                                      activation; for signed permutations an
                                                                      odd one
input  :math:`x\mapsto x+c`  :math:`b^0 \mapsto b^0 + W^0 c`           the first layer has a bias
output :math:`f\mapsto f+c`  :math:`b^L \mapsto b^L + c`              last layer linear with a bias
=====================  =========================================  ============================================

Jacobians: :math:`\mathrm{vec}(W^0R) = (R^T\otimes 1)\,\mathrm{vec}\,W^0` has
:math:`|\det| = |\det R|^{n_1} = 1` for orthogonal R; the output map is :math:`1_N\otimes\rho` on
:math:`W^L` and :math:`\rho` on :math:`b^L`, :math:`|\det\rho|^{N+1} = 1`; the translation map is a
shear (block triangular with unit diagonal), Jacobian 1 but **not orthogonal**, which matters for the
NTK (its metric on parameter space is Euclidean).

This module decides; it writes no prose.  An :class:`Absorption` records the action, whether the map
absorbs it (``valid``: True / False / None when undecided), why (:class:`AbsorptionReason`), the blocks
it changes and the facts the proof quotes (Jacobian, orthogonality); :mod:`symcorr.duality.render`
turns it into the proof's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import sympy as sp

from ..groups import Group
from ..spec import Network
from ..verdicts import Side, StepStatus
from . import elements as el
from .elements import Family
from .exact import zero_test

__all__ = ["Action", "AbsorptionReason", "Absorption", "absorb", "is_odd", "is_periodic_with"]

_Z = sp.Symbol("z", real=True)


def is_odd(activation) -> bool | None:
    r"""Is :math:`\phi(-z) = -\phi(z)` identically?  True / False (non-zero at a rational point) / None
    (SymPy cannot decide).  Normalised activations are never odd (:math:`\phi > 0`)."""
    if activation.normalised:
        return False
    return zero_test(activation.sympy(-_Z) + activation.sympy(_Z), [_Z])[0]


def is_periodic_with(activation, period) -> bool | None:
    r"""Is :math:`\phi(z + p) = \phi(z)` identically for the period ``p``?  True / False / None
    (undecided); a symbol in ``p`` is tested at random values too (the claim is for all of them)."""
    if activation.normalised or period is None:
        return False
    return zero_test(activation.sympy(_Z + period) - activation.sympy(_Z))[0]


class Action(StrEnum):
    """The four kinds of action of the catalogue, by side and linearity."""

    INPUT_LINEAR = "input-linear"                # x -> g x
    OUTPUT_LINEAR = "output-linear"              # f -> rho f
    INPUT_TRANSLATION = "input-translation"      # x -> x + c
    OUTPUT_TRANSLATION = "output-translation"    # f -> f + c


class AbsorptionReason(StrEnum):
    """Why a parameter map absorbs the action (or why none of this form does)."""

    DENSE_FIRST_LAYER = "dense-first-layer"            # W0 (g x) = (W0 g) x
    NO_FIRST_BIAS = "no-first-bias"                    # x + c: nothing to move W0 c into
    SHIFT_INTO_FIRST_BIAS = "shift-into-first-bias"    # W0 (x + c) + b0 = W0 x + (b0 + W0 c)
    AFFINE_LAST_LAYER = "affine-last-layer"            # f + c: b^L -> b^L + c
    NOT_AFFINE_LAST_LAYER = "not-affine-last-layer"    # f + c is not a network of the same form
    LINEAR_LAST_LAYER = "linear-last-layer"            # rho (W h + b) = (rho W) h + rho b
    ELEMENTWISE_PERMUTES = "elementwise-permutes"      # phi(P z) = P phi(z)
    ODD_SIGNED_PERMUTES = "odd-signed-permutes"        # odd phi: phi(P z) = P phi(z) for signed P
    NOT_ODD = "not-odd"                                # signed permutations, phi not odd
    ODDNESS_UNDECIDED = "oddness-undecided"            # signed permutations, oddness undecided
    NONLINEAR_ROTATION = "nonlinear-rotation"          # an elementwise nonlinearity vs rotations


@dataclass(frozen=True)
class Absorption:
    """How (and whether) an action is absorbed into the parameters."""

    action: Action
    valid: bool | None          # True: f_{T_g θ} = g·f_θ for every θ; False: no map of this form; None: undecided
    reason: AbsorptionReason
    blocks: tuple[str, ...]     # the parameter blocks the map changes
    letter: str                 # the name of the group element in formulas
    jacobian_one: bool          # |det ∂(T_g θ)/∂θ| = 1
    orthogonal: bool            # T_g is an orthogonal map of parameter space (needed for the NTK)
    activation: str | None = None       # the activation the argument is about (first or last layer)
    normalised: bool = False            # ... and whether it is a normalised one (Gauss-net)
    jacobian_power: sp.Expr | None = None   # k in |det g|^k (linear actions)

    @property
    def status(self) -> StepStatus:
        return {True: StepStatus.ESTABLISHED, False: StepStatus.FAILS, None: StepStatus.OPEN}[self.valid]

    @property
    def bias_block(self) -> str | None:
        """The bias the map changes along with the weight (``b^L`` for output maps), if any."""
        return next((b for b in self.blocks if b.startswith("b")), None)


def absorb(network: Network, group: Group, on: Side | str) -> Absorption:
    """The parameter map absorbing ``group`` acting on ``on`` (``"input"`` or ``"output"``)."""
    on = Side.parse(on)
    fam = el.family(group)
    letter = el.element_letter(group, on)
    last = network.depth - 1
    if on is Side.INPUT:
        first = network.layers[0].activation
        if fam is not Family.T:
            return Absorption(Action.INPUT_LINEAR, True, AbsorptionReason.DENSE_FIRST_LAYER, ("W0",), letter,
                              True, True, first.name, first.normalised, sp.sympify(network.widths[0]))
        if network.bias(0) is None:
            return Absorption(Action.INPUT_TRANSLATION, False, AbsorptionReason.NO_FIRST_BIAS, ("b0",), "c",
                              False, False, first.name)
        return Absorption(Action.INPUT_TRANSLATION, True, AbsorptionReason.SHIFT_INTO_FIRST_BIAS, ("W0", "b0"),
                          "c", True, False, first.name)
    # outputs
    act = network.layers[last].activation
    wname, bname = f"W{last}", f"b{last}"
    has_bias = network.bias(last) is not None
    if fam is Family.T:
        if not has_bias or act.name != "identity":
            return Absorption(Action.OUTPUT_TRANSLATION, False, AbsorptionReason.NOT_AFFINE_LAST_LAYER, (bname,),
                              "c", False, False, act.name)
        return Absorption(Action.OUTPUT_TRANSLATION, True, AbsorptionReason.AFFINE_LAST_LAYER, (bname,), "c",
                          True, False, act.name)
    blocks = (wname, bname) if has_bias else (wname,)
    n_in = network.fan_in(last)
    power = sp.sympify(n_in + 1 if has_bias else n_in)

    def linear(valid, reason):
        return Absorption(Action.OUTPUT_LINEAR, valid, reason, blocks, letter, True, True, act.name,
                          act.normalised, power)

    if act.name == "identity":
        return linear(True, AbsorptionReason.LINEAR_LAST_LAYER)
    gens_known = el.concrete_dim(group) is not None
    lie = el.lie_algebra(group) if gens_known else None
    disc = el.discrete_generators(group) if gens_known else None
    perm_only = gens_known and not lie and all(el.is_permutation(g) for g in disc)
    signed_only = gens_known and not lie and all(el.is_signed_permutation(g) for g in disc)
    if fam is Family.S and not gens_known:
        perm_only = True
    if fam is Family.B and not gens_known:
        signed_only = True
    if perm_only:
        return linear(True, AbsorptionReason.ELEMENTWISE_PERMUTES)
    if signed_only:
        odd = is_odd(act)
        if odd is True:
            return linear(True, AbsorptionReason.ODD_SIGNED_PERMUTES)
        if odd is None:
            return linear(None, AbsorptionReason.ODDNESS_UNDECIDED)
        return linear(False, AbsorptionReason.NOT_ODD)
    return linear(False, AbsorptionReason.NONLINEAR_ROTATION)
