r"""The infinite-width (NNGP) metric of a deep network, layer by layer, on a set of sample points.

For the layers of :class:`~symcorr.deep.layers.LayerStack`, at infinite width the pre-activations of every
layer :math:`l \ge 1` form a centred Gaussian process (independent and identical across units) whose
covariance, the **metric** :math:`K^{(l)}`, obeys

.. math:: K^{(1)}(x, y) = C_b^{(1)} + C_W^{(1)}\,E\big[\phi_0(z^{(0)}(x))\,\phi_0(z^{(0)}(y))\big],\qquad
          K^{(l+1)}(x, y) = C_b^{(l+1)} + C_W^{(l+1)}\,F_{\phi_l}\big(K^{(l)}(x,x), K^{(l)}(x,y), K^{(l)}(y,y)\big),

with :math:`F_\phi(k_{11},k_{12},k_{22}) = E[\phi(u)\phi(v)]` for the centred Gaussian pair of that covariance
(:mod:`symcorr.gaussian`; the diagonal :math:`x = y` uses the one-point function :math:`E[\phi(u)^2]`).  The
first step uses the single-neuron moment of the first layer (:func:`symcorr.symbolic.kernels.neuron_moment`:
any first-layer law that machinery reads, Cos-net's uniform phase included), which is exact at every width,
so for a single hidden layer :math:`K^{(1)}` *is* today's exact two-point function.  :math:`C_W^{(l)}` is the
limit of :math:`n_l\,\mathrm{Var}(W^l)` (:meth:`~symcorr.deep.layers.LayerRecursion.limit_c_w`).

The network output is :math:`f = \phi_L(z^{(L)})`; with a linear read-out its kernel is :math:`K^{(L)}`.

Two frames: :meth:`NNGP.metrics` gives SymPy matrices over symbolic or explicit points (closed forms nested
through the layers, an unevaluated :class:`~symcorr.symbolic.integral.GaussianExpectation` where an
activation has none); :meth:`NNGP.metrics_torch` gives float64 tensors with error estimates at numeric points.
"""

from __future__ import annotations

from typing import Sequence

import sympy as sp
import torch

from ..errors import SpecError
from ..gaussian import Factor, GaussianMoment, pair_expectation
from ..gaussian.forms import closed_form
from ..spec import Network
from ..symbolic.inputs import as_points
from ..symbolic.integral import GaussianExpectation, ParameterIntegral
from ..symbolic.kernels import FirstLayer, neuron_moment
from .layers import LayerStack

__all__ = ["NNGP", "MetricValues", "collapse_floats", "exact_points", "first_layer_error", "first_layer_moment"]

_U = sp.Dummy("u", real=True)


class MetricValues(tuple):
    """``(values, errors)``: float64 tensors ``(L, P, P)`` (one metric per layer 1..L) and their absolute
    error estimates (quadrature; rounding level for closed forms)."""

    @property
    def values(self) -> torch.Tensor:
        return self[0]

    @property
    def errors(self) -> torch.Tensor:
        return self[1]


class NNGP:
    r"""The infinite-width metrics :math:`K^{(1)}, \dots, K^{(L)}` of a network (module docstring)."""

    def __init__(self, network: Network):
        self.network = network
        self.stack = LayerStack.from_network(network)
        if self.stack.depth < 2:
            raise SpecError("a network with no hidden layer has no hidden metric; its output is linear in the "
                            "first layer's parameters", "layers")
        widths = self.stack.width_symbols
        self.c_w = [rec.limit_c_w(widths) for rec in self.stack.layers]
        self.c_b = [rec.c_b for rec in self.stack.layers]
        first = FirstLayer.from_network(network)
        if first is None:
            raise SpecError("the first layer's units are not iid (a row covariance or per-row mean of W0, or a "
                            "structured b0); the layer recursion needs iid units", "layers[0]")
        self.first: FirstLayer = first

    def __repr__(self):
        return f"NNGP({self.network!r})"

    # --- symbolic ------------------------------------------------------------------------------------
    def metrics(self, points) -> list[sp.Matrix]:
        r"""``[K^{(1)}, ..., K^{(L)}]`` as symmetric SymPy matrices over ``points`` (lists, columns or
        matrix symbols of length ``input_dim``)."""
        return self.layer_moments(points)[1]

    def layer_moments(self, points) -> tuple[list[sp.Matrix], list[sp.Matrix]]:
        r"""``([F_0, ..., F_{L-1}], [K^{(1)}, ..., K^{(L)}])``: the pair moments
        :math:`F_l(x_i, x_j) = E[\phi_l(z^{(l)}(x_i))\phi_l(z^{(l)}(x_j))]` of every layer's activations and
        the metrics :math:`K^{(l+1)} = C_b^{(l+1)} + C_W^{(l+1)} F_l` they make (SymPy matrices over ``points``)."""
        pts = as_points(points, self.network.input_dim)
        moments = [collapse_floats(self.first_moments(pts))]
        metrics = [collapse_floats(self._affine(moments[0], 1))]
        for l in range(1, self.stack.depth - 1):
            moments.append(collapse_floats(self._pair_matrix(self.stack.layers[l].activation, metrics[-1])))
            metrics.append(collapse_floats(self._affine(moments[-1], l + 1)))
        return moments, metrics

    def first_moments(self, pts) -> sp.Matrix:
        r""":math:`F_0(x_i, x_j) = E[\phi_0(z^{(0)}(x_i))\phi_0(z^{(0)}(x_j))]`: the single-neuron moments of the
        first layer (any law the table of :mod:`symcorr.symbolic.kernels` reads), at normalised points."""
        P = len(pts)
        first = sp.zeros(P, P)
        for i in range(P):
            first[i, i] = neuron_moment(self.first, [pts[i]], [2])
            for j in range(i + 1, P):
                first[i, j] = first[j, i] = neuron_moment(self.first, [pts[i], pts[j]])
        return first

    def _affine(self, moment: sp.Matrix, l: int) -> sp.Matrix:
        return moment.applyfunc(lambda e: self.c_b[l] + self.c_w[l] * e)

    def _pair_symbolic(self, act, k11, k12, k22, diagonal: bool) -> sp.Expr:
        pair = pair_expectation(act)
        value = pair.diagonal_sympy(k11) if diagonal else pair.sympy(k11, k12, k22)
        if value is not None:
            return value
        phi = sp.Lambda(_U, act.sympy(_U))
        if diagonal:
            return GaussianExpectation(phi, [0], [[k11]], [2])
        return GaussianExpectation(phi, [0, 0], [[k11, k12], [k12, k22]], [1, 1])

    def _pair_matrix(self, act, k: sp.Matrix) -> sp.Matrix:
        r""":math:`E[\phi(u_i)\phi(u_j)]` for the centred Gaussian vector of covariance ``k``."""
        P = k.rows
        out = sp.zeros(P, P)
        for i in range(P):
            out[i, i] = self._pair_symbolic(act, k[i, i], k[i, i], k[i, i], True)
            for j in range(i + 1, P):
                out[i, j] = out[j, i] = self._pair_symbolic(act, k[i, i], k[i, j], k[j, j], False)
        return out

    def _next_symbolic(self, k: sp.Matrix, l: int) -> sp.Matrix:
        return self._affine(self._pair_matrix(self.stack.layers[l].activation, k), l + 1)

    def output_kernel(self, points) -> sp.Matrix:
        r"""The kernel of the output :math:`f = \phi_L(z^{(L)})` (the last metric for a linear read-out)."""
        k = self.metrics(points)[-1]
        act = self.stack.readout.activation
        if act.name == "identity":
            return k
        P = k.rows
        return sp.Matrix(P, P, lambda i, j: self._pair_symbolic(act, k[i, i], k[i, j], k[j, j], i == j))

    def hidden_mean(self, points) -> list[sp.Expr]:
        r""":math:`E[\phi_{L-1}(z^{(L-1)}(x))]` at each point: the mean of one last-hidden unit (first-layer
        moments for a single hidden layer; the centred Gaussian one-point function deeper)."""
        pts = as_points(points, self.network.input_dim)
        if self.stack.depth == 2:
            return [neuron_moment(self.first, [p]) for p in pts]
        k = self.metrics(pts)[-1]
        act = self.stack.layers[-2].activation
        out = []
        for i in range(len(pts)):
            value = closed_form([Factor.of(act)], sp.Matrix([[k[i, i]]]))
            out.append(value if value is not None
                       else GaussianExpectation(sp.Lambda(_U, act.sympy(_U)), [0], [[k[i, i]]], [1]))
        return out

    # --- numeric -------------------------------------------------------------------------------------
    def _first_metric_torch(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``E[phi_0(z0(x_i)) phi_0(z0(x_j))]`` at numeric points: the Gaussian table when the first layer
        is Gaussian, else the exact single-neuron moment evaluated in SymPy."""
        fl, P = self.first, x.shape[0]
        if fl.gaussian and not fl.activation.normalised:
            metric = _numeric(fl.b_var) + _numeric(fl.w_var) * _metric_inner(x, fl.metric)
            mean = _numeric(fl.b_mean) + _numeric(fl.w_mean) * x.sum(-1)
            i, j = torch.triu_indices(P, P)
            cov = torch.stack([torch.stack([metric[i, i], metric[i, j]], -1),
                               torch.stack([metric[i, j], metric[j, j]], -1)], -2)
            mu = torch.stack([mean[i], mean[j]], -1)
            pair = GaussianMoment([Factor.of(fl.activation)] * 2).torch(cov, mu)
            values = torch.zeros(P, P, dtype=torch.float64)
            errors = torch.zeros(P, P, dtype=torch.float64)
            values[i, j], errors[i, j] = pair
            values[j, i], errors[j, i] = pair
            return values, errors
        pts = exact_points(x)
        values = torch.zeros(P, P, dtype=torch.float64)
        for a in range(P):
            values[a, a] = first_layer_moment(fl, [pts[a]], [2])
            for b in range(a + 1, P):
                values[a, b] = values[b, a] = first_layer_moment(fl, [pts[a], pts[b]])
        return values, 64 * torch.finfo(torch.float64).eps * values.abs().clamp_min(1.0)

    def metrics_torch(self, points) -> MetricValues:
        r"""``(values, errors)`` of ``[K^{(1)}, ..., K^{(L)}]`` at numeric points ``(P, input_dim)``: tensors
        ``(L, P, P)``; errors propagate each layer's quadrature error to first order through the next layer
        (:math:`|\partial F/\partial k|` times the input error)."""
        if not self.network.is_concrete:
            raise SpecError("numeric metrics need a concrete network; use network.subs({...}) first")
        x = self.network._as_inputs(points, torch.float64, "cpu")
        m1, e1 = self._first_metric_torch(x)
        c_w = [_numeric(c) for c in self.c_w]
        c_b = [_numeric(c) for c in self.c_b]
        values, errors = [c_b[1] + c_w[1] * m1], [abs(c_w[1]) * e1]
        for l in range(1, self.stack.depth - 1):
            k, dk = values[-1], errors[-1]
            pair = pair_expectation(self.stack.layers[l].activation)
            diag = torch.diagonal(k)
            k11, k22 = diag[:, None].expand_as(k), diag[None, :].expand_as(k)
            f, ef = pair.torch(k11, k, k22)
            g, eg = pair.diagonal_torch(diag)
            # first-order propagation of the input error through F (Price: dF/dk12 = E[phi' phi'], ...)
            d11, _ = pair.torch(k11, k, k22, (1, 0, 0))
            d12, _ = pair.torch(k11, k, k22, (0, 1, 0))
            d22, _ = pair.torch(k11, k, k22, (0, 0, 1))
            dd = torch.diagonal(dk)
            prop = d11.abs() * dd[:, None] + d12.abs() * dk + d22.abs() * dd[None, :]
            f = 0.5 * (f + f.T)  # two quadratures of one symmetric function: average them
            ef = torch.maximum(ef + prop, (ef + prop).T)
            idx = torch.arange(k.shape[0])
            gd, _ = pair.diagonal_torch(diag, 1)
            f[idx, idx] = g
            ef[idx, idx] = eg + gd.abs() * dd
            values.append(c_b[l + 1] + c_w[l + 1] * f)
            errors.append(abs(c_w[l + 1]) * ef)
        return MetricValues((torch.stack(values), torch.stack(errors)))


def exact_points(x: torch.Tensor) -> list[sp.ImmutableMatrix]:
    """Numeric points ``(P, d)`` as exact SymPy columns: each float64 entry as the rational it is, in an
    *immutable* matrix (the single-neuron moments cache per pair of points, so the points must hash)."""
    return [sp.ImmutableMatrix([sp.Rational(float(v)) for v in row]) for row in x.tolist()]


def first_layer_error(first: FirstLayer, value, coordinates: frozenset | set = frozenset()) -> SpecError:
    """The SpecError for a first-layer moment the numeric frames cannot evaluate: it names the layer, its
    laws and activation, and what the moment is (an unevaluated integral, or a symbol other than the input
    ``coordinates`` left in it)."""
    value = sp.sympify(value)
    if value.has(ParameterIntegral):
        what = "an unevaluated ParameterIntegral over the neuron's parameters (no closed form for this law and activation)"
    elif value.has(GaussianExpectation):
        what = "an unevaluated Gaussian expectation"
    else:
        what = f"an expression in {sorted(map(str, value.free_symbols - set(coordinates)))} (substitute them first)"
    bias = "no bias" if first.bias is None else f"bias {first.bias!r}"
    return SpecError(f"the first layer (weight {first.weight!r}, {bias}, activation {first.activation.name!r}): its "
                     f"single-neuron moment is {what}; the numeric kernels need it exactly: use a Gaussian first "
                     "layer, a law and activation whose moments have closed forms (e.g. cos or gauss), or Monte "
                     "Carlo (symcorr.montecarlo)", "layers[0]")


def first_layer_moment(first: FirstLayer, points: Sequence[sp.ImmutableMatrix], powers: Sequence[int] | None = None
                       ) -> float:
    r"""The single-neuron moment :math:`E[\prod_u\phi_0(z(x_u))^{p_u}]` of the first layer
    (:func:`~symcorr.symbolic.kernels.neuron_moment`) at exact points (:func:`exact_points`) as a float, or
    the :func:`first_layer_error` when it has no closed form -- never a number made from an unevaluated integral."""
    value = sp.sympify(neuron_moment(first, list(points), powers))
    if value.has(GaussianExpectation, ParameterIntegral) or value.free_symbols:
        raise first_layer_error(first, value)
    number = sp.N(value, 20)
    if not (number.is_real and number.is_finite):
        raise SpecError(f"the first layer's single-neuron moment is {number} at the points "
                        f"{[[float(v) for v in p] for p in points]} (e.g. a moment generating function past its radius)", "layers[0]")
    return float(number)


def collapse_floats(matrix: sp.Matrix, digits: int = 30) -> sp.Matrix:
    """Entries that are numbers made from Floats (inexact points) become one Float each (``digits``
    significant digits); exact entries (rationals, symbols) stay as they are.  Otherwise every layer nests the
    previous one's Float arithmetic inside radicals and arc-cosines whose assumptions SymPy decides by
    evaluating them again and again (seconds per layer)."""
    def one(e):
        return sp.Float(e.evalf(digits), digits) if e.is_number and e.has(sp.Float) else e
    return matrix.applyfunc(one)


def _numeric(expr) -> float:
    expr = sp.sympify(expr)
    if expr.free_symbols:
        raise SpecError(f"{expr} still depends on {sorted(map(str, expr.free_symbols))}; substitute values first")
    return float(expr)


def _metric_inner(x: torch.Tensor, metric) -> torch.Tensor:
    if metric is None:
        return x @ x.T
    v = torch.tensor([[float(e) for e in metric.row(i)] for i in range(metric.rows)], dtype=torch.float64)
    return x @ v @ x.T
