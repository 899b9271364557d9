r"""The infinite-width neural tangent kernel of a deep network, layer by layer, in both parameterisations.

For the layers of :class:`~symcorr.deep.layers.LayerStack` (:math:`z^{(0)} = W^0x + b^0`,
:math:`z^{(l)} = W^l\phi_{l-1}(z^{(l-1)}) + b^l`, a linear read-out :math:`f = z^{(L)}`), write
:math:`\Theta^{(l)}(x, y) = \sum_p \partial_p z^{(l)}_i(x)\,\partial_p z^{(l)}_i(y)` for one unit ``i`` of layer
``l``, the sum over the parameters of layers :math:`0..l`.  The parameterisations are those of
:mod:`symcorr.ntk.empirical`: ``standard`` differentiates with respect to the blocks themselves, ``ntk``
with respect to their unit-variance parts, which multiplies block ``B``'s contribution by its entry
variance :math:`s_B^2 = \mathrm{Var}(B_{ij})`.  At infinite width the hidden pre-activations are the
centred Gaussian processes of :mod:`symcorr.deep.nngp` (metrics :math:`K^{(l)}`), the units decouple and

.. math:: \Theta^{(0)}(x, y) = s_{W^0}^2\, x\cdot y + s_{b^0}^2\,[b^0],\qquad
          \Theta^{(l+1)} = T^{(l+1)} + C_W^{(l+1)}\,\dot F_l\,\Theta^{(l)},

with :math:`F_l = E[\phi_l(u)\phi_l(v)]` and :math:`\dot F_l = E[\phi_l'(u)\phi_l'(v)]` for :math:`(u, v)` of
covariance :math:`K^{(l)}` at :math:`(x, y)` (the first layer: the law of :math:`z^{(0)}`, means included),
:math:`C_W^{(l)} = n_l\,\mathrm{Var}(W^l)` and the layer's own term (its weights' and bias' gradients)

.. math:: T^{(l+1)} = \underbrace{C_b^{(l+1)} + C_W^{(l+1)} F_l}_{=\,K^{(l+1)}}\ \ (\text{ntk}),\qquad
          T^{(l+1)} = [b^{l+1}] + n_{l+1} F_l\ \ (\text{standard}),

:math:`n_{l+1}` the fan-in of layer ``l+1`` and :math:`[b]` 1 when the bias exists.  The read-out's NTK is
:math:`\Theta_{ab}(x,y) = \delta_{ab}\Theta^{(L)}(x, y)`.  In the NTK parameterisation this is the
:math:`N\to\infty` limit of :math:`E[\Theta]` (Jacot et al. 2018; each network's NTK concentrates on it).
In the standard one the own terms grow like the widths: there the recursion keeps every block's explicit
width factor :math:`n_l` and its exact :math:`C_W = n_l\mathrm{Var}(W^l)` in the propagation, with every
hidden metric at its infinite-width value -- the leading large-width term of each block, which for one
hidden layer is the exact :math:`E[\Theta]` at every width, :math:`[b^1] + N E[\phi\phi'] + C_{W^1}(x\cdot y
+ [b^0])E[\dot\phi\dot\phi']` (:mod:`symcorr.ntk.expectation`), and which is neural-tangents' standard
kernel (Sohl-Dickstein et al. 2020) for any depth (tests/deep/test_ntk.py).

Scope (errors name the field): a linear read-out with zero-mean weights (a read-out weight mean makes the
gradient of the mean function contribute at leading order; the exact single-hidden-layer expectation
covers it); a Gaussian first layer (means and a column covariance allowed; :math:`\dot F_0` from the Gaussian
table) or Cos-net's uniform phase, where :math:`E[\sin z\sin z'] = E[\cos z\cos z']` (the phase shifted by
:math:`\pi/2` is still uniform); the NTK parameterisation needs one variance per block (no structured
covariance).  Numbers on grids of pairs: :mod:`symcorr.deep.gram`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..distributions import Normal
from ..errors import SpecError
from ..gaussian import Factor, closed_form, pair_expectation
from ..spec import Network
from ..symbolic.inputs import as_points, inner
from ..symbolic.integral import GaussianExpectation
from ..verdicts import Parameterisation
from .layers import LayerRecursion
from .nngp import NNGP, collapse_floats

__all__ = ["NTKRecursion", "NTKKernels", "block_variance"]

_U = sp.Dummy("u", real=True)


def block_variance(law, where: str) -> sp.Expr:
    r"""The entry variance :math:`s^2` of a block's law (the NTK parameterisation's factor); a SpecError for
    a structured covariance, which has no single scale (as :func:`symcorr.ntk.empirical.block_scales`)."""
    if isinstance(law, Normal):
        if law.cov is not None or law.row_cov is not None or law.col_cov is not None:
            raise SpecError("the NTK parameterisation rescales each block by one standard deviation; this block "
                            "has a structured covariance", where)
        return law.var
    return law.variance


@dataclass(frozen=True)
class NTKKernels:
    """The layer-by-layer kernels at a set of points: ``metrics[l]`` is :math:`K^{(l+1)}` and ``ntks[l]`` is
    :math:`\\Theta^{(l+1)}` (SymPy matrices), ``l = 0..L-1``; the last ones are the read-out's."""

    metrics: tuple
    ntks: tuple

    @property
    def nngp(self) -> sp.Matrix:
        return self.metrics[-1]

    @property
    def ntk(self) -> sp.Matrix:
        return self.ntks[-1]


class NTKRecursion:
    r"""The infinite-width NTK of a network of any depth (module docstring), symbolic; the per-layer
    numbers it needs (:attr:`own_scale`, :attr:`propagation`, :attr:`theta0_scales`) are shared with the
    numeric grids of :mod:`symcorr.deep.gram`."""

    def __init__(self, network: Network, parameterisation="ntk"):
        self.parameterisation = Parameterisation.parse(parameterisation)
        self.nngp = NNGP(network)
        self.network = network
        stack = self.nngp.stack
        readout = stack.readout
        if readout.activation.name != "identity":
            raise SpecError("the NTK recursion needs a linear read-out (identity activation)",
                            f"{readout.name}.activation")
        if not _is_zero(readout.weight_mean):
            raise SpecError("the infinite-width NTK with a read-out weight mean: the gradient of the mean function "
                            "then contributes at leading order, which this recursion does not have (one hidden "
                            "layer: ntk_expectation(...).expr is exact)", f"{readout.name}.weight.mean")
        first = self.nngp.first
        self.phase = bool(getattr(first.bias, "is_periodic", False))
        if not (first.gaussian or (self.phase and first.activation.name == "cos")):
            raise SpecError("the NTK recursion needs a Gaussian first layer (or Cos-net's uniform phase): "
                            "E[phi'(z) phi'(z')] has no rule for this law; use ntk_moments (Monte Carlo)",
                            "layers[0]")
        if self.parameterisation is Parameterisation.NTK:
            self.block_variances = {name: block_variance(block.law, name) for name, block in network.blocks.items()}

    def __repr__(self):
        return f"NTKRecursion({self.network!r}, {self.parameterisation.value!r})"

    # --- the numbers of the recursion ----------------------------------------------------------------
    @property
    def depth(self) -> int:
        return self.nngp.stack.depth

    def layer(self, l: int) -> LayerRecursion:
        return self.nngp.stack.layers[l]

    def theta0_scales(self) -> tuple[sp.Expr, sp.Expr]:
        r"""``(s_W, s_b)`` of :math:`\Theta^{(0)} = s_W\,x\cdot y + s_b`: ``(1, [b^0])`` (standard) or
        ``(Var W^0, Var b^0)`` (ntk)."""
        first = self.layer(0)
        if self.parameterisation is Parameterisation.STANDARD:
            return sp.Integer(1), sp.Integer(1 if first.has_bias else 0)
        s_b = self.block_variances["b0"] if first.has_bias else sp.Integer(0)
        return self.block_variances["W0"], s_b

    def own_scale(self, l: int) -> tuple[sp.Expr, sp.Expr]:
        r"""``(a, c)`` with :math:`T^{(l)} = a F_{l-1} + c`: ``(C_W, C_b)`` (ntk) or ``(n_l, [b^l])`` (standard)."""
        rec = self.layer(l)
        if self.parameterisation is Parameterisation.NTK:
            return self.nngp.c_w[l], self.nngp.c_b[l]
        return sp.sympify(rec.fan_in), sp.Integer(1 if rec.has_bias else 0)

    def propagation(self, l: int) -> sp.Expr:
        r"""The factor of :math:`\dot F_{l-1}\Theta^{(l-1)}` in :math:`\Theta^{(l)}`: the infinite-width
        :math:`C_W^{(l)}` (ntk) or the exact :math:`n_l\mathrm{Var}(W^l)` (standard, explicit widths)."""
        return self.nngp.c_w[l] if self.parameterisation is Parameterisation.NTK else self.layer(l).c_w

    # --- symbolic ------------------------------------------------------------------------------------
    def kernels(self, points) -> NTKKernels:
        r"""The metrics :math:`K^{(l)}` and NTKs :math:`\Theta^{(l)}`, ``l = 1..L``, over ``points`` (lists,
        columns or matrix symbols, symbolic input dimension allowed): nested closed forms in the inner
        products of the points, an unevaluated :class:`~symcorr.symbolic.integral.GaussianExpectation` where an
        activation has none."""
        pts = as_points(points, self.network.input_dim)
        moments, metrics = self.nngp.layer_moments(pts)
        P = len(pts)
        s_w, s_b = self.theta0_scales()
        theta = sp.Matrix(P, P, lambda i, j: s_w * inner(pts[i], pts[j]) + s_b)
        dots = [collapse_floats(self._first_dot(pts))] + [
            collapse_floats(self._dot_matrix(self.layer(l).activation, metrics[l - 1])) for l in range(1, self.depth - 1)]
        ntks = []
        for l in range(1, self.depth):
            a, c = self.own_scale(l)
            prop, own, dot = self.propagation(l), moments[l - 1], dots[l - 1]
            previous = theta
            theta = sp.zeros(P, P)
            for i in range(P):
                for j in range(i, P):
                    theta[i, j] = theta[j, i] = a * own[i, j] + c + prop * dot[i, j] * previous[i, j]
            theta = collapse_floats(theta)
            ntks.append(theta)
        return NTKKernels(tuple(metrics), tuple(ntks))

    def _first_dot(self, pts) -> sp.Matrix:
        r""":math:`\dot F_0(x_i, x_j) = E[\phi_0'(z^{(0)}(x_i))\phi_0'(z^{(0)}(x_j))]`."""
        fl = self.nngp.first
        if self.phase:  # uniform phase: E[sin z sin z'] = E[cos z cos z'] (module docstring)
            return self.nngp.first_moments(pts)
        P = len(pts)
        act = fl.activation
        out = sp.zeros(P, P)
        for i in range(P):
            for j in range(i, P):
                sub = [pts[i]] if i == j else [pts[i], pts[j]]
                cov = sp.Matrix(len(sub), len(sub), lambda a, b: fl.k0(sub[a], sub[b]))
                mean = [fl.mean(p) for p in sub]
                factors = [Factor.of(act, 1, 2)] if i == j else [Factor.of(act, 1)] * 2
                value = closed_form(factors, cov, mean)
                if value is None:
                    value = GaussianExpectation(sp.Lambda(_U, act.derivative(_U)), mean, cov, [2] if i == j else [1, 1])
                out[i, j] = out[j, i] = value
        return out

    def _dot_matrix(self, act, k: sp.Matrix) -> sp.Matrix:
        r""":math:`E[\phi'(u_i)\phi'(u_j)]` for the centred Gaussian vector of covariance ``k``."""
        pair = pair_expectation(act)
        P = k.rows
        out = sp.zeros(P, P)
        phi_dot = sp.Lambda(_U, act.derivative(_U))
        for i in range(P):
            value = pair.dot_diagonal_sympy(k[i, i])
            out[i, i] = value if value is not None else GaussianExpectation(phi_dot, [0], [[k[i, i]]], [2])
            for j in range(i + 1, P):
                value = pair.dot_sympy(k[i, i], k[i, j], k[j, j])
                if value is None:
                    value = GaussianExpectation(phi_dot, [0, 0], [[k[i, i], k[i, j]], [k[i, j], k[j, j]]], [1, 1])
                out[i, j] = out[j, i] = value
        return out

    def expr(self, x, y) -> sp.Expr:
        r""":math:`\Theta^{(L)}(x, y)` (the read-out's NTK for one output, :math:`\Theta_{aa}`); equal points
        use the one-point functions."""
        pts = as_points([x, y], self.network.input_dim)
        same = pts[0] == pts[1]
        k = self.kernels(pts[:1] if same else pts).ntk
        return k[0, 0] if same else k[0, 1]


def _is_zero(value) -> bool:
    if isinstance(value, sp.MatrixBase):
        return all(_is_zero(v) for v in value)
    value = sp.sympify(value)
    return value == 0 or value.is_zero is True
