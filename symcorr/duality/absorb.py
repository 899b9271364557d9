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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..groups import Group
from ..spec import Network
from . import elements as el

__all__ = ["Absorption", "absorb", "is_odd", "is_periodic_with"]

_Z = sp.Symbol("z", real=True)


def is_odd(activation) -> bool:
    r"""Is :math:`\phi(-z) = -\phi(z)` identically?  (Decided with SymPy; normalised activations never.)"""
    if activation.normalised:
        return False
    try:
        return sp.simplify(activation.sympy(-_Z) + activation.sympy(_Z)) == 0
    except Exception:  # a custom activation SymPy cannot handle
        return False


def is_periodic_with(activation, period) -> bool:
    r"""Is :math:`\phi(z + p) = \phi(z)` identically for the period ``p``?"""
    if activation.normalised or period is None:
        return False
    try:
        return sp.simplify(activation.sympy(_Z + period) - activation.sympy(_Z)) == 0
    except Exception:
        return False


@dataclass
class Absorption:
    """How (and whether) an action is absorbed into the parameters."""

    action: str            # input-linear | output-linear | input-translation | output-translation
    valid: bool | None     # True: f_{T_g θ} = g·f_θ for every θ; False: no such map of this form
    blocks: tuple          # the parameter blocks the map changes
    letter: str            # the name of the group element in formulas
    map_latex: str         # T_g in LaTeX
    identity_latex: str    # the absorption identity in LaTeX
    reason: str            # why it is (not) valid, text with $math$
    jacobian_latex: str
    jacobian_one: bool
    orthogonal: bool       # T_g is an orthogonal map of parameter space (needed for the NTK)
    notes: list[str] = field(default_factory=list)


def _tex_block(name: str) -> str:
    return f"{name[0]}^{{{name[1:]}}}"


def absorb(network: Network, group: Group, on: str) -> Absorption:
    """The parameter map absorbing ``group`` acting on ``on`` (``"input"`` or ``"output"``)."""
    fam = el.family(group)
    letter = el.element_letter(group, on)
    last = network.depth - 1
    if on == "input" and fam != "T":
        n1 = network.widths[0]
        notes = []
        if network.layers[0].activation.normalised:
            notes.append("The normalised activation divides by $\\sqrt{E[e^{2z}]}$, a functional of the law of "
                         "the pre-activation $z = W^0x + b^0$; under $T_g$ that law is unchanged whenever "
                         "the density is (step 3), so the normaliser is absorbed too.")
        return Absorption(
            "input-linear", True, ("W0",), letter, rf"W^{{0}} \mapsto W^{{0}} {letter}",
            rf"f_\theta({letter} x) = f_{{T_{{{letter}}}\theta}}(x)",
            rf"The first layer is dense: $W^{{0}}({letter}x) + b^{{0}} = (W^{{0}}{letter})x + b^{{0}}$; every "
            "later layer sees $x$ only through this pre-activation.",
            rf"\left|\det\left({letter}^T \otimes 1_{{{sp.latex(n1)}}}\right)\right| = "
            rf"|\det {letter}|^{{{sp.latex(n1)}}} = 1",
            True, True, notes)
    if on == "input":  # translations
        if network.bias(0) is None:
            return Absorption(
                "input-translation", False, ("b0",), "c", r"b^{0} \mapsto b^{0} + W^{0} c",
                r"f_\theta(x + c) = f_{T_c\theta}(x)",
                "The first layer has no bias, so there is no parameter to absorb the shift "
                "$W^{0}(x + c) = W^{0}x + W^{0}c$ into.", "-", False, False)
        return Absorption(
            "input-translation", True, ("W0", "b0"), "c", r"(W^{0}, b^{0}) \mapsto (W^{0}, b^{0} + W^{0} c)",
            r"f_\theta(x + c) = f_{T_c\theta}(x)",
            "$W^{0}(x + c) + b^{0} = W^{0}x + (b^{0} + W^{0}c)$: the shift moves into the first-layer bias.",
            r"\det\begin{pmatrix} 1 & 0 \\ \partial(W^{0}c)/\partial W^{0} & 1\end{pmatrix} = 1",
            True, False,
            ["$T_c$ is a shear of parameter space (unit Jacobian) but not an orthogonal map."])
    # outputs
    layer = network.layers[last]
    wname, bname = f"W{last}", f"b{last}"
    has_bias = network.bias(last) is not None
    blocks = (wname, bname) if has_bias else (wname,)
    wl, bl = _tex_block(wname), _tex_block(bname)
    n_in = network.fan_in(last)
    power = sp.latex(n_in + 1) if has_bias else sp.latex(n_in)
    jac = rf"|\det {letter}|^{{{power}}} = 1"
    if fam == "T":
        if not has_bias or layer.activation.name != "identity":
            return Absorption("output-translation", False, (bname,), "c", rf"{bl} \mapsto {bl} + c",
                              r"f_{T_c\theta} = f_\theta + c",
                              "The last layer is not linear with a bias, so $f + c$ is not a network of "
                              "the same form.", "-", False, False)
        return Absorption("output-translation", True, (bname,), "c", rf"{bl} \mapsto {bl} + c",
                          r"f_{T_c\theta} = f_\theta + c", "The last layer is linear with a bias.",
                          "1", True, False)
    mapping = rf"({wl}, {bl}) \mapsto ({letter} {wl}, {letter} {bl})" if has_bias else \
        rf"{wl} \mapsto {letter} {wl}"
    ident = rf"f_{{T_{{{letter}}}\theta}}(x) = {letter} f_\theta(x)"
    act = layer.activation
    if act.name == "identity":
        return Absorption("output-linear", True, blocks, letter, mapping, ident,
                          f"The last layer is linear: ${letter}({wl}h + {bl}) = ({letter}{wl})h + {letter}{bl}$ "
                          "for every last hidden layer $h$.", jac, True, True)
    gens_known = el.concrete_dim(group) is not None
    lie = el.lie_algebra(group) if gens_known else None
    disc = el.discrete_generators(group) if gens_known else None
    perm_only = gens_known and not lie and all(el.is_permutation(g) for g in disc)
    signed_only = gens_known and not lie and all(el.is_signed_permutation(g) for g in disc)
    if fam == "S" and not gens_known:
        perm_only = True
    if fam == "B" and not gens_known:
        signed_only = True
    notes = []
    if act.normalised:
        notes.append("Each output unit's normaliser is a functional of the law of its row of the last "
                     "layer; rows exchanged by the permutation have the same law whenever the density is "
                     "invariant (step 3), so the normalisers are permuted consistently.")
    if perm_only:
        return Absorption("output-linear", True, blocks, letter, mapping, ident,
                          f"The last activation ({act.name}) acts elementwise, so it commutes with "
                          f"permutation matrices: $\\phi({letter}z) = {letter}\\phi(z)$.", jac, True, True, notes)
    if signed_only and is_odd(act):
        return Absorption("output-linear", True, blocks, letter, mapping, ident,
                          f"The last activation ({act.name}) is odd and elementwise, so it commutes with "
                          f"signed permutations: $\\phi({letter}z) = {letter}\\phi(z)$.", jac, True, True)
    why = ("it is not odd, so it does not commute with sign flips" if signed_only else
           "an elementwise nonlinearity does not commute with rotations")
    return Absorption("output-linear", False, blocks, letter, mapping, ident,
                      f"The last layer applies the nonlinearity {act.name}; {why}, so "
                      f"${letter} f_\\theta$ is not a network of the same form and no map of the last-layer "
                      "parameters absorbs the action.", jac, True, True)
