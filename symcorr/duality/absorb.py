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

**More maps, one element at a time** (:func:`alternative_maps`, used when the standard map fails for a
discrete generator): sign chains carrying :math:`-1` through odd activations to a weight, or stopping it at
an even activation (:func:`sign_chains`), and the standard map composed with a permutation of hidden
neurons that restores a permuted mean (:func:`neuron_permutation_map`).  Each is a signed permutation of
the parameter entries: Jacobian 1, orthogonal.

This module decides; it writes no prose.  An :class:`Absorption` records the action, whether the map
absorbs it (``valid``: True / False / None when undecided), why (:class:`AbsorptionReason`), the blocks
it changes and the facts the proof quotes (Jacobian, orthogonality); :mod:`symcorr.duality.render`
turns it into the proof's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import sympy as sp

from ..distributions import Normal
from ..groups import Group
from ..spec import Network
from ..verdicts import Side, StepStatus
from . import elements as el
from .elements import Family
from .exact import zero_test

__all__ = ["Action", "AbsorptionReason", "Absorption", "absorb", "is_odd", "is_even", "is_periodic_with",
           "is_antiperiodic_with", "MapKind", "ChainLink", "ElementMap", "sign_chains", "neuron_permutation_map",
           "alternative_maps", "is_minus_one"]

_Z = sp.Symbol("z", real=True)


def is_odd(activation) -> bool | None:
    r"""Is :math:`\phi(-z) = -\phi(z)` identically?  True / False (non-zero at a rational point) / None
    (SymPy cannot decide).  Normalised activations are never odd (:math:`\phi > 0`)."""
    if activation.normalised:
        return False
    return zero_test(activation.sympy(-_Z) + activation.sympy(_Z), [_Z])[0]


def is_even(activation) -> bool | None:
    r"""Is :math:`\phi(-z) = \phi(z)` identically?  True / False / None (undecided); normalised
    activations are never even (their normaliser is not a function of :math:`z` alone)."""
    if activation.normalised:
        return False
    return zero_test(activation.sympy(-_Z) - activation.sympy(_Z), [_Z])[0]


def is_antiperiodic_with(activation, shift) -> bool | None:
    r"""Is :math:`\phi(z + s) = -\phi(z)` identically (cos and sin with :math:`s = \pi`)?"""
    if activation.normalised or shift is None:
        return False
    return zero_test(activation.sympy(_Z + shift) + activation.sympy(_Z))[0]


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


# ----------------------------------------------------------------------------------------------------
# more parameter maps, one group element at a time
# ----------------------------------------------------------------------------------------------------
class MapKind(StrEnum):
    """The kind of parameter map absorbing one group element."""

    STANDARD = "standard"                      # the map of the table above
    SIGN_CHAIN = "sign-chain"                  # -1 carried through odd / killed by even activations
    NEURON_PERMUTATION = "neuron-permutation"  # the standard map composed with a permutation of hidden neurons


@dataclass(frozen=True)
class ChainLink:
    r"""One layer a sign passes: :math:`z^l \mapsto -z^l` (its bias negated with it, if it has one), then
    :math:`\phi_l(-z) = -\phi_l(z)` (``odd``) or :math:`\phi_l(-z) = \phi_l(z)` (even: the sign stops)."""

    layer: int
    activation: str
    odd: bool
    bias: str | None


@dataclass(frozen=True)
class ElementMap:
    r"""A parameter map :math:`T` absorbing one element ``element`` of the action, :math:`g\cdot f_\theta =
    f_{T\theta}`.

    * ``SIGN_CHAIN`` (``element = -1``): the blocks in ``negated`` change sign; ``links`` are the layers
      the sign passes; ``weight`` is the weight that absorbs it (``None``: an even activation stopped it).
    * ``NEURON_PERMUTATION``: the standard map of ``element`` composed with the permutation ``permutation``
      of the hidden neurons of layer ``layer`` (rows of its weight and bias, columns of the next weight),
      which leaves every :math:`f_\theta` unchanged.

    Every such map is a signed permutation of the parameter entries: Jacobian 1, orthogonal.
    """

    kind: MapKind
    on: Side
    element: sp.ImmutableMatrix
    negated: tuple[str, ...] = ()
    links: tuple[ChainLink, ...] = ()
    weight: str | None = None
    permutation: sp.ImmutableMatrix | None = None
    layer: int | None = None
    changed: tuple[str, ...] = ()
    jacobian_one: bool = True
    orthogonal: bool = True

    @property
    def blocks(self) -> tuple[str, ...]:
        """Every parameter block the map changes."""
        return self.negated if self.kind is MapKind.SIGN_CHAIN else self.changed


def is_minus_one(g) -> bool:
    g = sp.Matrix(g)
    return g == -sp.eye(g.rows)


def sign_chains(network: Network, on: Side | str) -> list[ElementMap]:
    r"""Every map that absorbs :math:`-1` by carrying the sign through the layers (not the standard map).

    Inputs, :math:`x\mapsto -x`: :math:`z^0 = W^0(-x) + b^0`.  Negating :math:`b^0` gives
    :math:`-z^0`; an **odd** :math:`\phi_0` turns it into :math:`-h^0`, which the next weight absorbs
    (:math:`W^1 \mapsto -W^1`) or which passes on the same way; an **even** :math:`\phi_l` stops it
    (:math:`h^l` unchanged).  So for each layer ``c >= 1`` there is the map negating :math:`W^c` and the
    biases below it (activations 0..c-1 odd), and for each even activation ``e`` the map negating the
    biases up to ``e`` (activations below ``e`` odd) -- the identity when there are none.

    Outputs, :math:`f \mapsto -f`: negate :math:`W^c` and every bias from layer ``c`` up; activations
    ``c .. L`` must be odd (the linear read-out is).  ``c = L`` is the standard map and is left out.

    Only chains whose activation conditions hold exactly (SymPy) are returned; the law of every negated
    block must still be symmetric (decided by the caller)."""
    on = Side.parse(on)
    n = network.dimension(on)
    if not isinstance(n, int):
        return []
    minus = sp.ImmutableMatrix(-sp.eye(n))
    L = network.depth - 1
    acts = [layer.activation for layer in network.layers]
    odd = [is_odd(a) for a in acts]
    even = [is_even(a) for a in acts]

    def bias(l):
        return f"b{l}" if network.bias(l) is not None else None

    out: list[ElementMap] = []
    if on is Side.INPUT:
        links: list[ChainLink] = []
        biases: list[str] = []
        for l in range(L + 1):
            b = bias(l)
            if even[l] is True:
                out.append(ElementMap(MapKind.SIGN_CHAIN, on, minus, tuple(biases + ([b] if b else [])),
                                      tuple(links + [ChainLink(l, acts[l].name, False, b)]), None))
                break
            if odd[l] is not True or l == L:
                break
            links.append(ChainLink(l, acts[l].name, True, b))
            biases += [b] if b else []
            out.append(ElementMap(MapKind.SIGN_CHAIN, on, minus, tuple([f"W{l + 1}"] + biases), tuple(links),
                                  f"W{l + 1}"))
        return out
    for c in range(L - 1, -1, -1):
        if not all(odd[l] is True for l in range(c, L + 1)):
            break
        negated = [f"W{c}"] + [b for b in (bias(l) for l in range(c, L + 1)) if b]
        passed = [ChainLink(l, acts[l].name, True, bias(l)) for l in range(c, L + 1)]
        out.append(ElementMap(MapKind.SIGN_CHAIN, on, minus, tuple(negated), tuple(passed), f"W{c}"))
    return out


def _column_permutation(moved: sp.Matrix, target: sp.Matrix) -> sp.Matrix | None:
    """A permutation matrix P with ``moved = target P`` (columns of ``moved`` matched to equal columns of
    ``target``), or None."""
    cols = target.cols
    free = list(range(cols))
    perm: list[int] = [0] * cols
    for j in range(cols):
        col = moved[:, j]
        match = next((k for k in free if (target[:, k] - col).applyfunc(sp.simplify).is_zero_matrix), None)
        if match is None:
            return None
        free.remove(match)
        perm[j] = match
    p = sp.zeros(cols, cols)
    for j, k in enumerate(perm):
        p[k, j] = 1          # (target P)[:, j] = target[:, k]
    return p


def neuron_permutation_map(network: Network, g, on: Side | str) -> ElementMap | None:
    r"""The standard map of ``g`` composed with a permutation :math:`P` of hidden neurons that restores
    the mean of the changed weight: outputs :math:`W^L \mapsto gW^LP^T` with :math:`gM = MP`; inputs
    :math:`W^0 \mapsto P W^0 g` with :math:`PMg = M`, i.e. :math:`Mg = P^TM`.  The permutation acts on
    the hidden layer next to the changed weight (rows of its weight and bias, columns of the weight
    after it), which leaves every :math:`f_\theta` unchanged.  None when the weight has no full mean
    matrix (a Normal law with one mean per entry) or no permutation restores it."""
    on = Side.parse(on)
    g = sp.Matrix(g)
    if network.depth < 2:
        return None
    if on is Side.OUTPUT:
        layer = network.depth - 2
        if network.layers[-1].activation.name != "identity":
            return None
        w = network.weight(network.depth - 1).law
        if not isinstance(w, Normal) or not isinstance(w.loc, sp.MatrixBase) or w.loc.cols < 2:
            return None
        p = _column_permutation(g * sp.Matrix(w.loc), sp.Matrix(w.loc))
    else:
        layer = 0
        w = network.weight(0).law
        if not isinstance(w, Normal) or not isinstance(w.loc, sp.MatrixBase) or w.loc.cols < 2:
            return None
        m = sp.Matrix(w.loc)
        p = _column_permutation((m * g).T, m.T)   # (M g)^T = M^T P  <=>  M g = P^T M
    if p is None or p == sp.eye(p.rows):
        return None
    changed = [f"W{layer}"] + ([f"b{layer}"] if network.bias(layer) is not None else []) + [f"W{layer + 1}"]
    if on is Side.OUTPUT and network.bias(layer + 1) is not None:
        changed.append(f"b{layer + 1}")
    return ElementMap(MapKind.NEURON_PERMUTATION, on, sp.ImmutableMatrix(g), permutation=sp.ImmutableMatrix(p),
                      layer=layer, changed=tuple(changed))


def alternative_maps(network: Network, g, on: Side | str) -> list[ElementMap]:
    """The maps other than the standard one that may absorb the single element ``g``: sign chains for
    :math:`g = -1`, and the standard map composed with a permutation of hidden neurons."""
    out: list[ElementMap] = []
    if is_minus_one(g):
        out += sign_chains(network, on)
    perm = neuron_permutation_map(network, g, on)
    if perm is not None:
        out.append(perm)
    return out
