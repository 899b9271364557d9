r"""Exact correlators of single-hidden-layer networks, for witnesses and for the GP-kernel step.

For :math:`f_a(x) = \sum_{i=1}^N W^1_{ai}\,h_i(x) + b^1_a` with iid hidden units
:math:`h_i(x) = \phi(w_i\cdot x + b_i)` (rows :math:`w_i` of :math:`W^0` iid, :math:`b^0` iid) and read-out
columns :math:`W^1_{\cdot i}` iid and independent of the hidden layer,

.. math:: G^{(n)}_{a_1\dots a_n}(x_1..x_n) = \sum_{S\subseteq[n]} E\Big[\prod_{k\in S} b_{a_k}\Big]
          \sum_{\pi \in \Pi([n]\setminus S)} N^{\underline{|\pi|}} \prod_{B\in\pi}
          E\Big[\prod_{k\in B} w_{a_k}\Big]\; m_B,\qquad m_B = E\Big[\prod_{k\in B}\phi(z(x_k))\Big],

where :math:`\pi` runs over the set partitions (slots sharing a hidden unit), :math:`N^{\underline{j}}` is
the falling factorial (distinct units), :math:`w` is one read-out column and :math:`m_B` a
**single-neuron moment** of :math:`z(x) = w_0\cdot x + b_0` (:class:`~symcorr.duality.neuron.Neuron`: exact
closed forms, or quadrature with an error estimate).

The expected NTK of such a network (standard parameterisation, all blocks trainable) is

.. math:: E[\Theta_{ab}(x,y)] = \delta_{ab}\big([b^1] + N m_{\phi\phi}(x,y)\big)
          + N E[w_aw_b]\, m_{\phi'\phi'}(x,y)\,\big(x\cdot y + [b^0]\big).

The values are :class:`~symcorr.duality.values.Value` s (exact or numeric with an error).
"""

from __future__ import annotations

import itertools

import sympy as sp

from ..combinatorics import set_partitions
from ..distributions import Normal
from ..spec import Network
from .engines import Unsupported
from .neuron import DERIVATIVE, Neuron
from .values import Value

__all__ = ["Unsupported", "Value", "Neuron", "TwoLayerModel", "OneLayerModel"]


# ----------------------------------------------------------------------------------------------------
# the two-layer network
# ----------------------------------------------------------------------------------------------------
class TwoLayerModel:
    """Exact correlators of ``f = W^1 φ(W^0 x + b^0) + b^1`` (see the module docstring)."""

    def __init__(self, network: Network):
        if network.depth != 2 or network.layers[1].activation.name != "identity":
            raise Unsupported("the engine handles one hidden layer and a linear read-out")
        self.network = network
        self.neuron = Neuron(network)
        self.width = network.widths[0]
        self.d_out = network.output_dim
        if not isinstance(self.d_out, int):
            raise Unsupported("the output dimension must be concrete")
        w1 = network.weight(1).law
        self.w_iid = w1 if w1.is_iid else None
        if self.w_iid is None:
            assert isinstance(w1, Normal)
            if w1.col_cov is not None:
                v = sp.Matrix(w1.col_cov)
                if not (v - v[0, 0] * sp.eye(v.rows)).is_zero_matrix:
                    raise Unsupported("read-out columns are correlated (col_cov)")
            loc = w1.loc
            if isinstance(loc, sp.MatrixBase) and loc.cols > 1:
                cols = {tuple(loc.col(j)) for j in range(loc.cols)}
                if len(cols) != 1:
                    raise Unsupported("read-out columns have different means")
                loc = sp.Matrix(loc.col(0))
            self.w_mean = sp.Matrix(loc) if isinstance(loc, sp.MatrixBase) else loc * sp.ones(self.d_out, 1)
            scale = w1.col_cov[0, 0] if w1.col_cov is not None else 1
            self.w_var = w1.var * scale
            self.w_u = sp.Matrix(w1.row_cov) if w1.row_cov is not None else sp.eye(self.d_out)
        bias = network.bias(1)
        self.b_law = None if bias is None else bias.law
        self.activation = network.layers[0].activation.name
        if network.layers[0].activation.normalised:
            self.activation = "gauss"

    # --- moments of the read-out -------------------------------------------------------------------
    def _gauss_vector_moment(self, mean, cov, outs):
        t = sp.symbols(f"t0:{self.d_out}")
        tv = sp.Matrix(t)
        mgf = sp.exp((mean.T * tv)[0, 0] + (tv.T * cov * tv)[0, 0] / 2)
        for a in outs:
            mgf = sp.diff(mgf, t[a])
        return sp.simplify(mgf.subs({ti: 0 for ti in t}))

    def column_moment(self, outs) -> sp.Expr:
        r""":math:`E[\prod_{a\in outs} w_a]` for one read-out column :math:`w`."""
        if not outs:
            return sp.Integer(1)
        if self.w_iid is not None:
            counts: dict = {}
            for a in outs:
                counts[a] = counts.get(a, 0) + 1
            return sp.Mul(*[self.w_iid.moment(c) for c in counts.values()])
        return self._gauss_vector_moment(self.w_mean, self.w_var * self.w_u, outs)

    def bias_moment(self, outs) -> sp.Expr:
        if not outs:
            return sp.Integer(1)
        if self.b_law is None:
            return sp.Integer(0)
        law = self.b_law
        if law.is_iid:
            counts: dict = {}
            for a in outs:
                counts[a] = counts.get(a, 0) + 1
            return sp.Mul(*[law.moment(c) for c in counts.values()])
        mean = law.loc if isinstance(law.loc, sp.MatrixBase) else law.loc * sp.ones(self.d_out, 1)
        cov = law.var * (sp.Matrix(law.cov) if law.cov is not None else sp.eye(self.d_out))
        return self._gauss_vector_moment(sp.Matrix(mean), cov, outs)

    # --- correlators -------------------------------------------------------------------------------
    def correlator(self, points, indices=None) -> Value:
        r""":math:`G^{(n)}_{a_1..a_n}(x_1..x_n)` (exact, or by quadrature of single-neuron moments)."""
        n = len(points)
        indices = tuple(indices) if indices is not None else (0,) * n
        total = Value.exact(0)
        for size in range(n + 1):
            for bias_slots in itertools.combinations(range(n), size):
                bm = self.bias_moment([indices[k] for k in bias_slots])
                if bm == 0:
                    continue
                rest = [k for k in range(n) if k not in bias_slots]
                inner = Value.exact(0)
                for part in set_partitions(rest):
                    coef = sp.ff(self.width, len(part))
                    if coef == 0:
                        continue
                    cm = sp.Mul(*[self.column_moment([indices[k] for k in block]) for block in part])
                    if cm == 0:
                        continue
                    term = Value.exact(coef * cm)
                    for block in part:
                        term = term * self.neuron.moment([(self.activation, points[k]) for k in block])
                    inner = inner + term
                total = total + inner * bm
        return total

    def ntk_mean(self, x, y, a: int = 0, b: int = 0) -> Value:
        r""":math:`E[\Theta_{ab}(x, y)]` of the empirical NTK (all blocks trainable, Euclidean metric)."""
        dname, sign = DERIVATIVE.get(self.activation, (None, None))
        if dname is None:
            raise Unsupported(f"no derivative for {self.activation!r}")
        out = Value.exact(0)
        if a == b:
            if self.b_law is not None:
                out = out + 1
            out = out + self.neuron.moment([(self.activation, x), (self.activation, y)]) * self.width
        inner = sum(sp.sympify(xi) * sp.sympify(yi) for xi, yi in zip(x, y))
        if self.network.bias(0) is not None:
            inner = inner + 1
        ww = self.column_moment([a, b])
        if ww != 0 and inner != 0:
            out = out + self.neuron.moment([(dname, x), (dname, y)]) * (sign * sign * self.width * ww * inner)
        return out

    def gp_kernel(self, x, y) -> Value:
        """The two-point function at index (0, 0): exact at every width, the GP kernel when the read-out
        has zero mean and variance proportional to 1/N."""
        return self.correlator([x, y], (0, 0))


class OneLayerModel:
    r"""Correlators of a single dense layer :math:`f_a(x) = \phi(z_a(x))` with iid units: distinct output
    units are independent, so :math:`G^{(n)}_{a_1..a_n} = \prod_{a} E[\prod_{k: a_k = a}\phi(z(x_k))]`."""

    def __init__(self, network: Network):
        if network.depth != 1:
            raise Unsupported("not a single layer")
        self.network = network
        self.neuron = Neuron(network)
        self.d_out = network.output_dim
        if not isinstance(self.d_out, int):
            raise Unsupported("the output dimension must be concrete")
        self.activation = "gauss" if network.layers[0].activation.normalised else network.layers[0].activation.name

    def correlator(self, points, indices=None) -> Value:
        n = len(points)
        indices = tuple(indices) if indices is not None else (0,) * n
        groups: dict = {}
        for k, a in enumerate(indices):
            groups.setdefault(a, []).append(k)
        out = Value.exact(1)
        for slots in groups.values():
            out = out * self.neuron.moment([(self.activation, points[k]) for k in slots])
        return out

    def ntk_mean(self, x, y, a: int = 0, b: int = 0) -> Value:
        r""":math:`E[\Theta_{ab}(x,y)] = \delta_{ab}\,E[\phi'(z(x))\phi'(z(y))]\,(x\cdot y + [b^0])`."""
        if a != b:
            return Value.exact(0)
        dname, sign = DERIVATIVE.get(self.activation, (None, None))
        if dname is None:
            raise Unsupported(f"no derivative for {self.activation!r}")
        inner = sum(sp.sympify(xi) * sp.sympify(yi) for xi, yi in zip(x, y))
        if self.network.bias(0) is not None:
            inner = inner + 1
        return self.neuron.moment([(dname, x), (dname, y)]) * (sign * sign * inner)
