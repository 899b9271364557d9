r"""Infinite-width kernels of deep networks on grids of pairs: Gram matrices, vectorised and streamed.

For point sets :math:`X = (x_i)_{i<n}` and :math:`Y = (y_j)_{j<m}` this evaluates the recursions of
:mod:`symcorr.deep.nngp` and :mod:`symcorr.deep.ntk` on all :math:`n \times m` pairs at once,

.. math:: K^{(l+1)}_{ij} = C_b + C_W\,F_l\big(K^{(l)}(x_i,x_i), K^{(l)}_{ij}, K^{(l)}(y_j,y_j)\big),\qquad
          \Theta^{(l+1)}_{ij} = T^{(l+1)}_{ij} + C_W\,\dot F_l(\cdot)_{ij}\,\Theta^{(l)}_{ij},

with no Python loop over pairs: the diagonals :math:`K^{(l)}(x_i, x_i)` are vectors computed once (the
one-point functions :math:`E[\phi(u)^2]`, :math:`E[\phi'(u)^2]`), and the pairs are streamed through all layers
in blocks of rows (:data:`CHUNK_ELEMENTS` pairs at a time, so memory stays bounded for any grid).  Each layer
is **one generated torch function** of the Gaussian table (:meth:`symcorr.gaussian.PairExpectation.pair_torch`:
:math:`F` and :math:`\dot F` from their SymPy closed forms, compiled together with shared subexpressions), or
2-d Gauss-Hermite quadrature for activations without closed forms (tanh, GELU, user activations).  With
``Y = None`` the diagonal pairs are coincident points and take the one-point values exactly.

Errors.  With closed forms everywhere the error is a rounding floor, :math:`64\,\varepsilon\,(L+1)\max(1,|v|)`
(the arc-cosine :math:`\dot F` of ReLU loses digits like :math:`\varepsilon/\vartheta` at nearly coincident
but distinct points, as any evaluation of it does).  When some layer needs quadrature the whole recursion
runs twice, with the table's coarse and fine node counts (:data:`~symcorr.gaussian.table.PAIR_NODES`,
:data:`~symcorr.gaussian.table.DIAGONAL_NODES`), and the error is :math:`|v_{fine} - v_{coarse}|` plus the
floor: the a-posteriori estimate of the table itself, applied end to end, so errors carried from layer to
layer are included without derivative tables (tests: tanh and GELU nets against an independent scipy
recursion).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
import torch

from ..errors import SpecError
from ..gaussian import Factor, GaussianMoment, closed_form, pair_expectation
from ..gaussian.quadrature import RESOLUTIONS
from ..gaussian.table import DIAGONAL_NODES, PAIR_NODES, torch_function
from ..spec import Network
from ..symbolic.integral import GaussianExpectation, ParameterIntegral
from ..symbolic.kernels import neuron_moment
from .nngp import NNGP, exact_points, first_layer_error, first_layer_moment
from .ntk import NTKRecursion

__all__ = ["GramValues", "GramResult", "InfiniteWidthGram", "CHUNK_ELEMENTS"]

#: pairs per block of rows streamed through all layers (bounds the memory of a grid of any size)
CHUNK_ELEMENTS = 1 << 18


class GramValues(tuple):
    """``(values, errors)``: float64 tensors ``(n, m)`` and their absolute error estimates (module docstring)."""

    @property
    def values(self) -> torch.Tensor:
        return self[0]

    @property
    def errors(self) -> torch.Tensor:
        return self[1]


@dataclass(frozen=True)
class GramResult:
    """The NNGP kernel (the read-out's pre-activation metric :math:`K^{(L)}`, or with ``output=True`` the
    kernel of :math:`\\phi_L(z^{(L)})`) and, when asked for, the NTK :math:`\\Theta^{(L)}` on a grid."""

    nngp: GramValues
    ntk: GramValues | None = None


def _number(expr, where: str) -> float:
    expr = sp.sympify(expr)
    if expr.free_symbols:
        raise SpecError(f"{expr} still depends on {sorted(map(str, expr.free_symbols))}; substitute values first "
                        "(network.subs({...}))", where)
    return float(expr)


def _is_zero_number(value) -> bool:
    if isinstance(value, sp.MatrixBase):
        return all(_is_zero_number(v) for v in value)
    return float(sp.sympify(value)) == 0.0


# ----------------------------------------------------------------------------------------------------
# the first layer: F_0 and F-dot_0 on a block of pairs, and their one-point values
# ----------------------------------------------------------------------------------------------------
class _FirstLayer:
    """:math:`F_0` and :math:`\\dot F_0` of the first layer on grids: the zero-mean Gaussian table on the
    Gram matrix of the inputs; with means, :class:`~symcorr.gaussian.GaussianMoment`; for other laws
    (Cos-net's uniform phase, Laplace weights, ...) generated code of the exact single-neuron moment in the
    input coordinates (:func:`symcorr.symbolic.kernels.neuron_moment`)."""

    def __init__(self, nngp: NNGP, dot: bool, phase: bool):
        fl = nngp.first
        self.fl, self.dot, self.phase = fl, dot, phase
        self.act = fl.activation
        if fl.gaussian:
            self.w_var = _number(fl.w_var, "layers[0].weight.var")
            self.b_var = _number(fl.b_var, "layers[0].bias.var")
            self.metric = None if fl.metric is None else torch.tensor(
                [[_number(e, "layers[0].weight.col_cov") for e in fl.metric.row(i)] for i in range(fl.metric.rows)],
                dtype=torch.float64)
            self.w_mean = _number(fl.w_mean, "layers[0].weight.mean")
            self.b_mean = _number(fl.b_mean, "layers[0].bias.mean")
            centred = (self.w_mean == 0 and self.b_mean == 0) or self.act.normalised  # gauss: the means cancel
            self.kind = "table" if centred else "moment"
        else:
            self.kind = "codegen"
            self._compile(nngp)
        self.closed = self._closed()

    # --- set-up --------------------------------------------------------------------------------------
    def _closed(self) -> bool:
        if self.kind == "table":
            return pair_expectation(self.act).closed(self.dot)
        if self.kind == "moment":
            c = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"c{min(i, j)}{max(i, j)}", real=True))
            m = [sp.Symbol("m0", real=True), sp.Symbol("m1", real=True)]
            orders = (0, 1) if self.dot else (0,)
            return all(closed_form([Factor.of(self.act, d)] * 2, c, m) is not None for d in orders)
        return True

    def _compile(self, nngp: NNGP):
        d = nngp.network.input_dim
        xs = sp.ImmutableMatrix(sp.symbols(f"x0:{d}", real=True))
        ys = sp.ImmutableMatrix(sp.symbols(f"y0:{d}", real=True))
        pair = neuron_moment(self.fl, [xs, ys])
        diag = neuron_moment(self.fl, [xs], [2])
        for value in (pair, diag):
            if value.has(GaussianExpectation, ParameterIntegral) or value.free_symbols - set(xs) - set(ys):
                raise first_layer_error(self.fl, value, coordinates=set(xs) | set(ys))
        if self.dot and not self.phase:  # pragma: no cover - NTKRecursion refuses these laws first
            raise SpecError("the NTK needs E[phi'(z) phi'(z')] of the first layer", "layers[0]")
        self._pair_fn = torch_function(list(xs) + list(ys), pair)
        self._diag_fn = torch_function(list(xs), diag)

    # --- Gaussian pieces -----------------------------------------------------------------------------
    def _inner(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a @ (b if self.metric is None else b @ self.metric.T).T

    def _variances(self, x: torch.Tensor) -> torch.Tensor:
        xv = x if self.metric is None else x @ self.metric
        return self.b_var + self.w_var * (xv * x).sum(-1)

    def _means(self, x: torch.Tensor) -> torch.Tensor:
        return self.b_mean + self.w_mean * x.sum(-1)

    # --- values --------------------------------------------------------------------------------------
    def diagonal(self, x: torch.Tensor, level: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        r""":math:`E[\phi_0(z(x))^2]` and (NTK) :math:`E[\phi_0'(z(x))^2]` at each point, ``(n,)``."""
        if self.kind == "table":
            out = pair_expectation(self.act).diagonal_pair_torch(self._variances(x), dot=self.dot,
                                                                 nodes=DIAGONAL_NODES[level])
            return out[0], (out[1] if self.dot else None)
        if self.kind == "moment":
            cov, mean = self._variances(x)[:, None, None], self._means(x)[:, None]
            q = RESOLUTIONS[1][level]
            g = GaussianMoment([Factor.of(self.act, 0, 2)]).torch(cov, mean, nodes=q).value
            gd = GaussianMoment([Factor.of(self.act, 1, 2)]).torch(cov, mean, nodes=q).value if self.dot else None
            return g, gd
        g = _exact_where_not_finite(self._diag_fn(*x.T).expand(x.shape[0]).clone(),
                                    lambda i: first_layer_moment(self.fl, [exact_points(x[i:i + 1])[0]], [2]))
        return g, (g if self.dot else None)

    def pair(self, x: torch.Tensor, y: torch.Tensor, level: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        r""":math:`F_0` and (NTK) :math:`\dot F_0` on the grid ``x`` x ``y``, ``(c, m)``."""
        if self.kind == "table":
            k12 = self.b_var + self.w_var * self._inner(x, y)
            out = pair_expectation(self.act).pair_torch(self._variances(x)[:, None], k12, self._variances(y)[None, :],
                                                        dot=self.dot, nodes=PAIR_NODES[level])
            return out[0], (out[1] if self.dot else None)
        if self.kind == "moment":
            c, m = x.shape[0], y.shape[0]
            kx, ky = self._variances(x)[:, None].expand(c, m), self._variances(y)[None, :].expand(c, m)
            k12 = self.b_var + self.w_var * self._inner(x, y)
            cov = torch.stack([torch.stack([kx, k12], -1), torch.stack([k12, ky], -1)], -2).reshape(-1, 2, 2)
            mean = torch.stack([self._means(x)[:, None].expand(c, m), self._means(y)[None, :].expand(c, m)],
                               -1).reshape(-1, 2)
            q = RESOLUTIONS[2][level]
            f = GaussianMoment([Factor.of(self.act)] * 2).torch(cov, mean, nodes=q).value.reshape(c, m)
            fd = (GaussianMoment([Factor.of(self.act, 1)] * 2).torch(cov, mean, nodes=q).value.reshape(c, m)
                  if self.dot else None)
            return f, fd
        f = self._pair_fn(*[col[:, None] for col in x.T], *[col[None, :] for col in y.T])
        f = _exact_where_not_finite(f.expand(x.shape[0], y.shape[0]).clone(),
                                    lambda i, j: _exact_pair(self.fl, x[i], y[j]))
        return f, (f if self.dot else None)


def _exact_pair(fl, x: torch.Tensor, y: torch.Tensor) -> float:
    px, py = exact_points(torch.stack([x, y]))
    return first_layer_moment(fl, [px], [2]) if px == py else first_layer_moment(fl, [px, py])


#: at most this many entries of one block are recomputed one by one in SymPy (about 2-5 ms each)
EXACT_FALLBACK_ENTRIES = 1000


def _exact_where_not_finite(values: torch.Tensor, exact) -> torch.Tensor:
    r"""The generated code of an exact first-layer moment at the entries where it is not finite replaced by
    the exact moment at those points (``exact(*index)``): closed forms such as Cos-net's with uniform weights,
    :math:`\prod_i\sin(x_i - y_i)/(x_i - y_i)`, have removable singularities (a zero or shared coordinate)
    that the compiled expression evaluates to 0/0; SymPy's moment at the exact points has the limit (and a
    true divergence, e.g. a Laplace weight's moment generating function past its radius, stays infinite and
    is refused by the grid).  A loop over those entries only, at most :data:`EXACT_FALLBACK_ENTRIES` of them."""
    bad = torch.nonzero(~torch.isfinite(values)).tolist()
    if len(bad) > EXACT_FALLBACK_ENTRIES:
        raise SpecError(f"the first layer's exact moment, compiled, is 0/0 at {len(bad)} entries of one block of "
                        "pairs (removable singularities at zero or shared input coordinates, e.g. Cos-net with "
                        f"uniform weights); recomputing more than {EXACT_FALLBACK_ENTRIES} of them one by one in "
                        "SymPy is too slow: use fewer such points or NNGP(net).metrics_torch", "layers[0]")
    for index in bad:
        values[tuple(index)] = exact(*index)
    return values


# ----------------------------------------------------------------------------------------------------
# the grid
# ----------------------------------------------------------------------------------------------------
class InfiniteWidthGram:
    r"""The infinite-width NNGP kernel and (with a ``parameterisation``) NTK of ``network`` on grids of pairs
    (module docstring).  ``evaluate(X, Y=None, output=False)`` returns a :class:`GramResult`."""

    def __init__(self, network: Network, parameterisation=None):
        if not isinstance(network, Network):
            raise SpecError(f"expected a Network, got {type(network).__name__}", "network")
        self.network = network
        self.recursion = None if parameterisation is None else NTKRecursion(network, parameterisation)
        self.nngp = self.recursion.nngp if self.recursion is not None else NNGP(network)
        stack = self.nngp.stack
        self.depth = stack.depth
        self.c_w = [_number(c, f"layers[{l}].weight.var") for l, c in enumerate(self.nngp.c_w)]
        self.c_b = [_number(c, f"layers[{l}].bias.var") for l, c in enumerate(self.nngp.c_b)]
        self.activations = [rec.activation for rec in stack.layers]
        # NTK numbers per layer l = 1..L (index 0 unused): own term a F + c, propagation factor p
        self.theta0: tuple[float, float] = (0.0, 0.0)
        self.own: list[tuple[float, float]] = [(0.0, 0.0)] * self.depth
        self.prop: list[float] = [0.0] * self.depth
        if self.recursion is not None:
            rec = self.recursion
            s_w, s_b = rec.theta0_scales()
            self.theta0 = (_number(s_w, "layers[0].weight"), _number(s_b, "layers[0].bias"))
            for l in range(1, self.depth):
                a, c = rec.own_scale(l)
                self.own[l] = (_number(a, f"layers[{l}]"), _number(c, f"layers[{l}].bias"))
                self.prop[l] = _number(rec.propagation(l), f"layers[{l}].weight.var")
        self._first = _FirstLayer(self.nngp, self.recursion is not None,
                                  self.recursion.phase if self.recursion is not None else False)

    def __repr__(self):
        return f"InfiniteWidthGram({self.network!r})"

    @property
    def closed(self) -> bool:
        """Closed forms in every layer (no quadrature: one pass, rounding-level errors)."""
        dot = self.recursion is not None
        return self._first.closed and all(pair_expectation(a).closed(dot) for a in self.activations[1:-1])

    def _points(self, x, what: str) -> torch.Tensor:
        try:
            return self.network._as_inputs(x, torch.float64, "cpu")
        except SpecError as err:
            raise SpecError(err.reason, what) from None

    def evaluate(self, x, y=None, *, output: bool = False, chunk: int | None = None) -> GramResult:
        """The kernels on the grid ``x`` (n, d_in) by ``y`` (m, d_in; default ``x``, then the diagonal pairs
        are coincident points); ``output``: the kernel of the read-out activation's output (NNGP only)."""
        if not self.network.is_concrete:
            raise SpecError("numeric kernels need a concrete network; use network.subs({...}) first", "network")
        if output and self.recursion is not None and self.activations[-1].name != "identity":  # pragma: no cover
            raise SpecError("the NTK needs a linear read-out", "output")
        xt = self._points(x, "X")
        yt = None if y is None else self._points(y, "Y")
        fine = self._run(xt, yt, 1, output, chunk)
        if self.closed and not (output and not pair_expectation(self.activations[-1]).closed()):
            errors = [self._floor(v) for v in fine]
        else:
            coarse = self._run(xt, yt, 0, output, chunk)
            errors = [(f - c).abs() + self._floor(f) for f, c in zip(fine, coarse)]
        for value, name in zip(fine, ("NNGP kernel", "NTK")):
            if not bool(torch.isfinite(value).all()):
                raise SpecError(f"the {name} is not finite at some pairs (an activation overflows, or its derivative "
                                "has a jump whose square the NTK integrates)")
        nngp = GramValues((fine[0], errors[0]))
        ntk = GramValues((fine[1], errors[1])) if self.recursion is not None else None
        return GramResult(nngp, ntk)

    def _floor(self, value: torch.Tensor) -> torch.Tensor:
        return 64 * (self.depth + 1) * torch.finfo(torch.float64).eps * value.abs().clamp_min(1.0)

    def _diagonals(self, x: torch.Tensor, level: int):
        """Per layer ``l = 0..L-1``: the variances :math:`K^{(l)}(x,x)` (``None`` for the first layer, whose
        one-point values come from its own law) and the one-point values :math:`E[\\phi_l^2]`,
        :math:`E[\\phi_l'^2]` at them; plus the read-out metric's diagonal."""
        dot = self.recursion is not None
        g, gd = self._first.diagonal(x, level)
        out: list[tuple[torch.Tensor | None, torch.Tensor, torch.Tensor | None]] = [(None, g, gd)]
        k = self.c_b[1] + self.c_w[1] * g
        for l in range(1, self.depth - 1):
            vals = pair_expectation(self.activations[l]).diagonal_pair_torch(k, dot=dot, nodes=DIAGONAL_NODES[level])
            out.append((k, vals[0], vals[1] if dot else None))
            k = self.c_b[l + 1] + self.c_w[l + 1] * vals[0]
        return out, k

    def _run(self, x: torch.Tensor, y: torch.Tensor | None, level: int, output: bool, chunk: int | None):
        symmetric = y is None
        yy: torch.Tensor = x if y is None else y
        n, m = x.shape[0], yy.shape[0]
        dot = self.recursion is not None
        dx, kx_out = self._diagonals(x, level)
        dy, ky_out = (dx, kx_out) if symmetric else self._diagonals(yy, level)
        nngp = torch.empty((n, m), dtype=torch.float64)
        ntk = torch.empty((n, m), dtype=torch.float64)
        rows = max(1, (chunk or CHUNK_ELEMENTS) // max(1, m))
        for r0 in range(0, n, rows):
            r1 = min(n, r0 + rows)
            xc = x[r0:r1]
            # with Y = None the pairs (i, i) of this block are coincident points: (local row, column) indices
            diag = (torch.arange(r1 - r0), torch.arange(r0, r1)) if symmetric else None
            f, fd = self._first.pair(xc, yy, level)
            theta = None
            if dot:
                theta = xc @ yy.T
                theta.mul_(self.theta0[0]).add_(self.theta0[1])
            k, theta = self._step(1, f, fd, theta, diag, dx[0])
            for l in range(1, self.depth - 1):
                vals = pair_expectation(self.activations[l]).pair_torch(
                    dx[l][0][r0:r1, None], k, dy[l][0][None, :], dot=dot, nodes=PAIR_NODES[level])
                k, theta = self._step(l + 1, vals[0], vals[1] if dot else None, theta, diag, dx[l])
            if output and self.activations[-1].name != "identity":
                act = pair_expectation(self.activations[-1])
                (k,) = act.pair_torch(kx_out[r0:r1, None], k, ky_out[None, :], nodes=PAIR_NODES[level])
                if diag is not None:
                    k = k.clone()
                    (g,) = act.diagonal_pair_torch(kx_out[diag[1]], nodes=DIAGONAL_NODES[level])
                    k[diag] = g
            nngp[r0:r1] = k
            if theta is not None:
                ntk[r0:r1] = theta
        return (nngp, ntk) if dot else (nngp,)

    def _step(self, l: int, f, fd, theta, diag, one_point):
        r"""Layer ``l``'s metric :math:`K^{(l)} = C_b + C_W F_{l-1}` and NTK
        :math:`\Theta^{(l)} = aF_{l-1} + c + p\,\dot F_{l-1}\Theta^{(l-1)}` on a block (new tensors; with
        ``diag`` the coincident pairs take the one-point values ``one_point = (K, E[phi^2], E[phi'^2])``)."""
        k = torch.mul(f, self.c_w[l])
        k.add_(self.c_b[l])
        previous = None if theta is None or diag is None else theta[diag]
        if theta is not None:
            a, c = self.own[l]
            new = torch.mul(fd, theta)
            new.mul_(self.prop[l]).add_(f, alpha=a).add_(c)
            theta = new
        if diag is not None:
            g = one_point[1][diag[1]]
            k[diag] = self.c_b[l] + self.c_w[l] * g
            if theta is not None:
                a, c = self.own[l]
                theta[diag] = a * g + c + self.prop[l] * one_point[2][diag[1]] * previous
        return k, theta
