r"""The exact rules for the n-point function of a single-hidden-layer network with iid neurons.

.. math:: G^{(n)}_{a_1\cdots a_n}(x_1,\dots,x_n) = E\big[f_{a_1}(x_1)\cdots f_{a_n}(x_n)\big]
          = \int d\theta\,P(\theta)\,\prod_i f_{\theta,a_i}(x_i).

**Single hidden layer** :math:`f_a(x) = \sum_{j=1}^N W^1_{aj}\,\phi(z_j(x)) + b^1_a` with iid neurons
(iid rows of :math:`(W^0, b^0)`, iid columns of :math:`W^1`) is evaluated exactly by the rules of
:mod:`symcorr.symbolic.rules`:

1. *independence* of :math:`b^1` and :math:`(W^1, W^0, b^0)`: split the slots into those that take the
   bias (set ``B``) and the rest,
2. *sum over iid neurons*: the rest is partitioned into blocks sharing one neuron index; distinct
   blocks use distinct neurons (:math:`(N)_{|\pi|}` assignments) and columns of :math:`W^1` are
   independent of the hidden layer,

.. math:: G = \sum_{B}E\Big[\prod_{i\in B}b^1_{a_i}\Big]\sum_{\pi\in\Pi(B^c)}(N)_{|\pi|}
          \prod_{\beta\in\pi} E\Big[\prod_{i\in\beta}W^1_{a_i 1}\Big]\, m_\beta,
          \qquad m_\beta = E\Big[\prod_{i\in\beta}\phi(z(x_i))\Big],

3. read-out moments from the read-out law's *cumulants* (Wick pairings with :math:`\delta_{ab}` for a
   zero-mean Gaussian; means and non-Gaussian cumulants otherwise),
4. single-neuron moments :math:`m_\beta` from the kernel table (:mod:`symcorr.symbolic.kernels`).

:class:`SingleLayerModel` holds the laws these rules need (or the reason a network is not of that
kind); :class:`MomentSums` applies them at one list of points and indices, as :class:`Terms`
(width-dependent coefficients times width-free monomials in the named moments :math:`m_\beta`), for the
full set of slots, every subset of it, and the connected parts (joint cumulants).

For :math:`W^1\sim N(0,\sigma_{W1}^2/N)` this gives, e.g., the exact four-point function
:math:`G^{(4)} = \sum_{3}\delta\delta KK + \frac{\sigma_{W1}^4}{N}\sum_3\delta\delta(m_4 - kk)`.
The result is an exact rational function of the width ``N`` (symbolic or numeric); the
*connected* correlators (cumulants) are :math:`O(N^{1-n/2})` exactly, and the GP limit is the Wick sum
of the kernel.

**Any other network** (deep, structured laws, non-linear read-out) gives the unevaluated
:class:`~symcorr.symbolic.integral.ParameterIntegral` (odd correlators vanish exactly when the last
layer's laws are symmetric).  The :class:`~symcorr.symbolic.correlator.Correlator` presents the
result (forms, expansions, numbers).
"""


from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Sequence

import sympy as sp

from ..combinatorics import moment_cumulant_coefficient, set_partitions
from .integral import ParameterIntegral
from .kernels import FirstLayer, neuron_moment
from .laurent import Terms
from .rules import VectorLaw

__all__ = ["SingleLayerModel", "MomentSums", "last_layer_symmetric", "slot_label"]


# ----------------------------------------------------------------------------------------------------
# the model of a single-hidden-layer network
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SingleLayerModel:
    """The laws that the exact evaluation needs, or ``reason`` why the network is not of that kind
    (then ``first``, ``column`` and ``bias`` are None).  Build it with :meth:`of`."""

    width: object  # the hidden width (a SymPy symbol or an int); None for a network without layers
    first: FirstLayer | None = None  # the law of one hidden neuron's pre-activation
    column: VectorLaw | None = None  # the law of one column of the read-out weight W^1
    bias: VectorLaw | None = None  # the law of the read-out bias b^1 (None: no bias)
    reason: str | None = None  # why the rules do not apply (None: they do)

    @classmethod
    def of(cls, network) -> "SingleLayerModel":
        width = network.layers[0].width if network.depth >= 1 else None
        if network.depth != 2:
            return cls(width, reason=f"depth {network.depth} (the exact rules cover one hidden layer)")
        if network.layers[1].activation.name != "identity":
            return cls(width, reason="the read-out layer has an activation (the exact rules need a linear "
                                     "read-out)")
        first = FirstLayer.from_network(network)
        if first is None:
            return cls(width, reason="the hidden neurons are not iid (structured first-layer law)")
        column = VectorLaw.from_block(network.weight(1))
        if column is None:
            return cls(width, reason="the read-out columns are not iid (column covariance or full-matrix "
                                     "mean)")
        b1 = network.bias(1)
        return cls(width, first, column, None if b1 is None else VectorLaw(b1.law, "bias"))

    @property
    def supported(self) -> bool:
        return self.reason is None


def last_layer_symmetric(network) -> bool:
    """Are the last layer's laws invariant under a sign flip (so odd correlators vanish)?"""
    w = network.weight(-1).law.is_symmetric
    b = network.bias(-1)
    return bool(w) and (b is None or bool(b.law.is_symmetric))


def slot_label(us: Sequence[int]) -> str:
    """The subscript naming slots or points ``us`` (0-based): ``"12"``, or ``"1,10"`` past 9."""
    if max(us) < 9:
        return "".join(str(u + 1) for u in us)
    return ",".join(str(u + 1) for u in us)


class MomentSums:
    r"""The moment sums :math:`E[\prod_{i\in S}f_{a_i}(x_i)]` for one list of points and indices, for
    every subset ``S`` of the slots (shared by all subsets, so the moment symbols are consistent between
    G, its sub-correlators and the connected parts).

    ``network`` and its ``model`` (:class:`SingleLayerModel`); ``first`` is the model's first layer,
    possibly with an input simplifier.  :attr:`definitions` maps each named moment (``k_{12}``,
    ``m_{1234}``) to its value; :attr:`distinct` are the distinct points in order of appearance.
    """

    def __init__(self, network, model: SingleLayerModel, points: Sequence, indices: Sequence,
                 first: FirstLayer | None):
        self.network = network
        self.model = model
        self.points = tuple(points)
        self.indices = tuple(indices)
        self.first = first
        distinct: list = []
        slot_point: list[int] = []
        for p in self.points:
            for u, q in enumerate(distinct):
                if q == p:
                    slot_point.append(u)
                    break
            else:
                distinct.append(p)
                slot_point.append(len(distinct) - 1)
        self.distinct = tuple(distinct)
        self.slot_point = tuple(slot_point)
        self.symbols: dict[tuple, sp.Expr] = {}
        self.definitions: dict[sp.Symbol, sp.Expr] = {}
        self._terms: dict[tuple, Terms] = {}  # frozen values: the cache hands them out
        self._connected: dict[tuple, Terms] = {}

    # --- single-neuron moments -----------------------------------------------------------------------
    def moment(self, slots) -> sp.Expr:
        counts: dict[int, int] = {}
        for s in slots:
            u = self.slot_point[s]
            counts[u] = counts.get(u, 0) + 1
        key = tuple(sorted(counts.items()))
        if key not in self.symbols:
            us = [u for u, _ in key]
            value = neuron_moment(self.first, [self.distinct[u] for u in us], [p for _, p in key])
            if value.is_number and value in (0, 1):
                self.symbols[key] = value
            else:
                flat = [u for u, p in key for _ in range(p)]
                head = "k" if len(flat) == 2 else "m"
                sym = sp.Symbol(f"{head}_{{{slot_label(flat)}}}")
                self.symbols[key] = sym
                self.definitions[sym] = value
        return self.symbols[key]

    # --- E[prod_{i in slots} f_{a_i}(x_i)] -----------------------------------------------------------
    def terms(self, slots: tuple) -> Terms:
        r""":math:`E[\prod_{i\in\text{slots}} f_{a_i}(x_i)]` as frozen :class:`Terms` (computed once)."""
        slots = tuple(sorted(slots))
        if slots in self._terms:
            return self._terms[slots]
        model = self.model
        out = Terms(model.width)
        if not slots:
            out.add(sp.Integer(1))
        elif not model.supported:
            if not (len(slots) % 2 == 1 and last_layer_symmetric(self.network)):
                out.add(ParameterIntegral(self.network, [self.points[s] for s in slots],
                                          [self.indices[s] for s in slots]))
        else:
            self._single_layer_terms(model, slots, out)
        self._terms[slots] = out.freeze()
        return out

    def _single_layer_terms(self, model: SingleLayerModel, slots: tuple, out: Terms):
        idx = self.indices
        col, bias = model.column, model.bias
        for k in range(len(slots) + 1):
            if k and (bias is None or not bias.moment_orders(k)):
                continue
            for bset in combinations(slots, k):
                bmonos = bias.moment_monomials([idx[i] for i in bset]) if k else [sp.Integer(1)]
                if not bmonos:
                    continue
                rest = [s for s in slots if s not in bset]
                for part in set_partitions(rest, col.moment_orders):
                    monos = bmonos
                    msyms = sp.Integer(1)
                    for block in part:
                        cm = col.moment_monomials([idx[i] for i in block])
                        m = self.moment(block) if cm else 0
                        if not cm or m == 0:
                            monos = []
                            break
                        msyms = msyms * m
                        monos = [a * b for a in monos for b in cm]
                    if not monos:
                        continue
                    count = sp.ff(model.width, len(part))
                    if count == 0:
                        continue
                    for mono in monos:
                        out.add(mono * msyms * count)

    def connected(self, slots: tuple) -> Terms:
        r"""Joint cumulant :math:`\kappa(F_i: i\in\text{slots}) = \sum_\pi (-1)^{|\pi|-1}(|\pi|-1)!
        \prod_{B\in\pi}E[\prod_{i\in B}F_i]` as frozen :class:`Terms` (computed once)."""
        slots = tuple(slots)
        hit = self._connected.get(slots)
        if hit is not None:
            return hit
        total = Terms(self.model.width)
        for part in set_partitions(slots):
            prod = None
            for block in part:
                t = self.terms(block)
                if not t:
                    prod = None
                    break
                prod = t if prod is None else prod.mul(t)
            if prod is None:
                continue
            total.iadd(prod, moment_cumulant_coefficient(len(part)))
        self._connected[slots] = total.freeze()
        return total
