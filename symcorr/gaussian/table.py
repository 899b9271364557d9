r"""The table of Gaussian expectations of activations, with a SymPy and a torch backend.

The deep-network recursions (NNGP kernel, NTK, the finite-width four-point vertex) and the
single-hidden-layer correlators all need, for an activation :math:`\phi` and a centred Gaussian pair
:math:`(u, v)` with covariance :math:`\begin{pmatrix}k_{11}&k_{12}\\k_{12}&k_{22}\end{pmatrix}`,

.. math:: F(k_{11}, k_{12}, k_{22}) = E[\phi(u)\phi(v)],\qquad \dot F = E[\phi'(u)\phi'(v)],

the one-point function :math:`g(k) = E[\phi(u)^2]`, :math:`u\sim N(0,k)`, their derivatives with respect
to the covariance, and n-point moments :math:`E[\prod_i\phi(u_i)^{p_i}]`.  This module holds them once:

* :class:`PairExpectation` -- :math:`F` and its covariance derivatives.  By **Price's theorem**
  (Price 1958) for a centred Gaussian,

  .. math:: \frac{\partial^{a+b+c} F}{\partial k_{11}^a\,\partial k_{12}^b\,\partial k_{22}^c}
            = 2^{-(a+c)}\, E\big[\phi^{(2a+b)}(u)\,\phi^{(2c+b)}(v)\big],

  so :math:`\dot F = \partial F/\partial k_{12}`.  Closed forms (:mod:`symcorr.gaussian.forms`) are
  differentiated exactly by SymPy; otherwise the derivative activations are integrated by quadrature.
  The one-point function :math:`g(k) = F(k,k,k)` has its own entries
  (:math:`g^{(a)}(k) = 2^{-a}E[(\phi^2)^{(2a)}(u)]`): at coincident points the two-point closed forms may
  not be differentiable twice (ReLU: :math:`\partial^2F/\partial k_{12}^2 = E[\delta(u)\delta(v)]` diverges
  as :math:`\rho\to1`), so diagonal entries of a recursion use :meth:`PairExpectation.diagonal`.
* :class:`GaussianMoment` -- :math:`E[\prod_i(\phi_i^{(d_i)}(u_i))^{p_i}]` for any number of points.

Both give a SymPy expression (``sympy``; ``None`` where no closed form exists) and batched torch values
with an absolute error estimate (``torch``: the closed form as generated torch code, error = rounding
floor; otherwise Gauss-Hermite quadrature at two resolutions, :mod:`symcorr.gaussian.quadrature`).

Generated torch code: each closed form is written once, in SymPy, and compiled to torch functions by
:mod:`symcorr.gaussian.codegen` (guarded elementary functions, stable arc-cosine kernels).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Sequence

import sympy as sp
import torch

from ..activations import Activation, get_activation
from ..errors import SpecError
from .codegen import TORCH_FUNCTIONS, torch_function, torch_functions
from .forms import CLOSED_PAIRS, Factor, closed_form
from .quadrature import QuadratureResult, _rule, gauss_hermite, product_integrand

__all__ = ["PairExpectation", "GaussianMoment", "pair_expectation", "TORCH_FUNCTIONS", "K11", "K12", "K22",
           "torch_function", "torch_functions", "activation_torch", "PAIR_NODES", "DIAGONAL_NODES"]

#: the covariance symbols of the pair functions
K11, K22 = sp.symbols("k_11 k_22", positive=True)
K12 = sp.Symbol("k_12", real=True)
_K = sp.Symbol("k", positive=True)
_U = sp.Symbol("u", real=True)


def _breakpoints(expr: sp.Expr) -> set:
    """Points where a piecewise expression of ``_U`` may jump (zeros of its relational conditions and of
    the arguments of Heaviside / sign / Abs / Max / Min)."""
    args = [r.lhs - r.rhs for r in expr.atoms(sp.core.relational.Relational)]
    for f in expr.atoms(sp.Heaviside, sp.sign, sp.Abs):
        args.append(f.args[0])
    for f in expr.atoms(sp.Max, sp.Min):
        args += [a - b for a in f.args for b in f.args if a != b]
    points = set()
    for a in args:
        if a.has(_U):
            points |= {c for c in sp.solve(sp.Eq(a, 0), _U) if c.is_real}
    return points


def _continuous(expr: sp.Expr) -> bool:
    """No jump at the breakpoints: the values just left and right of each agree (to 1e-6)."""
    eps = sp.Rational(1, 10 ** 9)
    for c in _breakpoints(expr):
        left, right = (complex(sp.N(expr.subs(_U, c + s * eps), 20)) for s in (-1, 1))
        if abs(left - right) > 1e-6 * max(1.0, abs(left), abs(right)):
            return False
    return True


@lru_cache(maxsize=256)
def _activation_derivative_expr(activation: Activation, order: int) -> sp.Expr:
    r""":math:`\phi^{(d)}` as a SymPy expression of ``_U``.  Differentiating a function with a jump gives
    a Dirac delta that SymPy's Piecewise derivative drops silently (it would give 0 for relu''); such a
    derivative is refused instead."""
    if activation.normalised:
        raise SpecError(f"activation {activation.name!r} needs its layer's normaliser; its Gaussian "
                        "expectations come from the closed forms only")
    expr = activation.sympy(_U)
    for k in range(order):
        if not _continuous(expr):
            raise SpecError(f"derivative of order {k + 1} of {activation.name!r} contains a Dirac delta (the "
                            f"derivative of order {k} jumps); it has no pointwise values for quadrature")
        expr = sp.diff(expr, _U)
    return expr


@lru_cache(maxsize=256)
def activation_torch(activation: Activation, order: int = 0) -> Callable[[torch.Tensor], torch.Tensor]:
    r"""The torch function :math:`\phi^{(d)}` (``order`` d; 0 is the activation itself)."""
    if order == 0 and not activation.normalised:
        return activation.torch
    expr = _activation_derivative_expr(activation, order)
    if expr.has(sp.DiracDelta):
        raise SpecError(f"the derivative of order {order} of {activation.name!r} contains a Dirac delta; it "
                        "has no pointwise values for quadrature")
    return torch_function([_U], expr)


def _floor(value: torch.Tensor) -> torch.Tensor:
    return 64 * torch.finfo(value.dtype).eps * value.abs().clamp_min(1.0)


# ----------------------------------------------------------------------------------------------------
# pair functions
# ----------------------------------------------------------------------------------------------------
_PAIR_RESOLUTIONS = (32, 64)


#: nodes per direction (coarse, fine) of the 2-d pair quadrature and of the 1-d one-point quadrature
PAIR_NODES = _PAIR_RESOLUTIONS
DIAGONAL_NODES = (100, 200)


def _pair_estimates(pairs, k11, k12, k22, resolutions) -> list[list[torch.Tensor]]:
    """``E[f1(u) f2(v)]`` for each ``(f1, f2)`` in ``pairs`` and each resolution (nodes per direction), for a
    batch of centred pairs, by 2-d Gauss-Hermite on the Cholesky factor; all integrands share the nodes.
    Returns ``[resolution][pair]`` tensors of the broadcast batch shape."""
    k11, k12, k22 = torch.broadcast_tensors(*(torch.as_tensor(t, dtype=torch.float64) for t in (k11, k12, k22)))
    shape = k11.shape
    k11, k12, k22 = k11.reshape(-1), k12.reshape(-1), k22.reshape(-1)
    l11 = torch.sqrt(k11.clamp_min(0.0))
    l21 = torch.where(l11 > 0, k12 / l11.clamp_min(1e-300), torch.zeros_like(k12))
    l22 = torch.sqrt((k22 - l21 * l21).clamp_min(0.0))
    out = []
    for q in resolutions:
        nodes, weights = _rule(int(q))
        t = torch.tensor(nodes, dtype=torch.float64, device=k11.device)
        w = torch.tensor(weights, dtype=torch.float64, device=k11.device)
        ww = w[:, None] * w[None, :]
        totals = [torch.zeros_like(k11) for _ in pairs]
        step = max(1, 4_000_000 // (q * q))
        for s0 in range(0, k11.numel(), step):
            sl = slice(s0, s0 + step)
            u = l11[sl, None] * t[None, :]                                            # (b, q)
            v = l21[sl, None, None] * t[None, :, None] + l22[sl, None, None] * t[None, None, :]  # (b, q, q)
            for total, (f1, f2) in zip(totals, pairs):
                total[sl] = ((f1(u)[:, :, None] * f2(v)) * ww).sum((-1, -2))
        for total in totals:
            if not bool(torch.isfinite(total).all()):
                raise SpecError("a Gaussian pair expectation is not finite (the activation overflows)")
        out.append([total.reshape(shape) for total in totals])
    return out


def _pair_quadrature(f1, f2, k11, k12, k22) -> QuadratureResult:
    """``E[f1(u) f2(v)]`` with the error estimate ``|Q_fine - Q_coarse|`` plus the rounding floor."""
    (coarse,), (value,) = _pair_estimates([(f1, f2)], k11, k12, k22, _PAIR_RESOLUTIONS)
    return QuadratureResult((value, (value - coarse).abs() + _floor(value)))


class PairExpectation:
    r""":math:`F(k_{11},k_{12},k_{22}) = E[\phi(u)\phi(v)]` for one activation, and its covariance
    derivatives (Price's theorem, module docstring).

    * ``expr(d11, d12, d22)``: the closed form of :math:`\partial^{d_{11}}_{k_{11}}\partial^{d_{12}}_{k_{12}}
      \partial^{d_{22}}_{k_{22}}F` in the symbols :data:`K11`, :data:`K12`, :data:`K22`, or ``None``;
    * ``sympy(k11, k12, k22, d=(0, 0, 0))``: the same at given expressions (``None`` without a closed form);
    * ``torch(k11, k12, k22, d=(0, 0, 0))``: ``(value, error)`` tensors (generated code or quadrature);
    * ``diagonal_expr(order)``, ``diagonal_sympy(k, order)``, ``diagonal_torch(k, order)``: the one-point
      function :math:`g(k) = E[\phi(u)^2]` and its derivatives :math:`g^{(a)}(k)`;
    * the deep recursions' pieces: ``dot_expr()`` / ``dot_sympy`` (:math:`\dot F = E[\phi'\phi']`),
      ``dot_diagonal_expr()`` / ``dot_diagonal_sympy`` (:math:`E[\phi'(u)^2]`), ``closed(dot)``, and the
      values-only batch evaluations ``pair_torch(k11, k12, k22, dot=, nodes=)`` (:math:`F` and :math:`\dot F`
      from one generated function, or quadrature at one resolution) and ``diagonal_pair_torch(k, dot=, nodes=)``.
    """

    def __init__(self, activation):
        self.activation = get_activation(activation)
        self._exprs: dict = {}
        self._torch: dict = {}

    def __repr__(self):
        return f"PairExpectation({self.activation.name!r})"

    @property
    def has_closed_form(self) -> bool:
        return self.expr() is not None

    # --- symbolic ------------------------------------------------------------------------------------
    def expr(self, d11: int = 0, d12: int = 0, d22: int = 0) -> sp.Expr | None:
        key = ("pair", d11, d12, d22)
        if key not in self._exprs:
            if (d11, d12, d22) == (0, 0, 0):
                f = Factor.of(self.activation)
                cov = sp.Matrix([[K11, K12], [K12, K22]])
                base = closed_form([f, f], cov) if self.activation.name in CLOSED_PAIRS else None
                self._exprs[key] = base
            else:
                # Price's theorem read backwards first (a closed pair of derivative activations, e.g.
                # E[step step] for relu), else the derivative of the closed form
                out = self._derivative_closed_form(d11, d12, d22)
                base = self.expr() if out is None else None
                if base is not None:
                    out = _tidy(sp.diff(base, K11, d11, K12, d12, K22, d22))
                self._exprs[key] = out
        return self._exprs[key]

    def _derivative_closed_form(self, d11, d12, d22) -> sp.Expr | None:
        """Price's theorem the other way round: the derivative as a pair of derivative factors, when
        that pair has a closed form (e.g. E[erf'(u)erf'(v)] although E[erf(u)erf(v)] is known too)."""
        a, b = 2 * d11 + d12, 2 * d22 + d12
        cov = sp.Matrix([[K11, K12], [K12, K22]])
        out = closed_form([Factor.of(self.activation, a), Factor.of(self.activation, b)], cov)
        return None if out is None else out / 2 ** (d11 + d22)

    def sympy(self, k11, k12, k22, d: tuple = (0, 0, 0)) -> sp.Expr | None:
        e = self.expr(*d)
        if e is None:
            return None
        # xreplace, not subs: subs asks the assumptions of every rebuilt node, which for nested kernels at
        # numeric points costs seconds (measured 5.5 s against 4 ms for a 5-layer ReLU kernel at one pair)
        return e.xreplace({K11: sp.sympify(k11), K12: sp.sympify(k12), K22: sp.sympify(k22)})

    def diagonal_expr(self, order: int = 0) -> sp.Expr | None:
        r""":math:`g^{(a)}(k)` in the symbol ``k`` (positive), :math:`g(k) = E[\phi(u)^2]`, or None."""
        key = ("diag", order)
        if key not in self._exprs:
            base = closed_form([Factor.of(self.activation, 0, 2)], sp.Matrix([[_K]]))
            if base is None and self.activation.name in CLOSED_PAIRS:
                pair = self.expr()
                base = None if pair is None else _tidy(pair.subs({K11: _K, K12: _K, K22: _K}))
            self._exprs[key] = None if base is None else _tidy(sp.diff(base, _K, order) if order else base)
        return self._exprs[key]

    def diagonal_sympy(self, k, order: int = 0) -> sp.Expr | None:
        e = self.diagonal_expr(order)
        return None if e is None else e.xreplace({_K: sp.sympify(k)})

    # --- numeric -------------------------------------------------------------------------------------
    def torch(self, k11, k12, k22, d: tuple = (0, 0, 0)) -> QuadratureResult:
        d = tuple(int(v) for v in d)
        e = self.expr(*d)
        k11, k12, k22 = (torch.as_tensor(t, dtype=torch.float64) for t in (k11, k12, k22))
        if e is not None:
            key = ("pair",) + d
            if key not in self._torch:
                self._torch[key] = torch_function([K11, K12, K22], e)
            value = self._torch[key](k11, k12, k22)
            return QuadratureResult((value, _floor(value)))
        d11, d12, d22 = d
        f1 = activation_torch(self.activation, 2 * d11 + d12)
        f2 = activation_torch(self.activation, 2 * d22 + d12)
        value, error = _pair_quadrature(f1, f2, k11, k12, k22)
        scale = 0.5 ** (d11 + d22)
        return QuadratureResult((value * scale, error * scale))

    def diagonal_torch(self, k, order: int = 0) -> QuadratureResult:
        k = torch.as_tensor(k, dtype=torch.float64)
        e = self.diagonal_expr(order)
        if e is not None:
            key = ("diag", order)
            if key not in self._torch:
                self._torch[key] = torch_function([_K], e)
            value = self._torch[key](k)
            return QuadratureResult((value, _floor(value)))
        square = sp.diff(self.activation.sympy(_U) ** 2, _U, 2 * order) if order else self.activation.sympy(_U) ** 2
        if square.has(sp.DiracDelta):
            raise SpecError(f"E[(phi^2)^({2 * order})] of {self.activation.name!r} contains a Dirac delta")
        fn = torch_function([_U], square)
        flat = k.reshape(-1)
        value, error = gauss_hermite(lambda u: fn(u[..., 0]), flat[:, None, None])
        scale = 0.5 ** order
        return QuadratureResult(((value * scale).reshape(k.shape), (error * scale).reshape(k.shape)))


    # --- the derivative kernel and the joint (F, F-dot) code of the deep recursions ---------------------
    def dot_expr(self) -> sp.Expr | None:
        r""":math:`\dot F = E[\phi'(u)\phi'(v)] = \partial F/\partial k_{12}` (Price), or None."""
        return self.expr(0, 1, 0)

    def dot_sympy(self, k11, k12, k22) -> sp.Expr | None:
        return self.sympy(k11, k12, k22, (0, 1, 0))

    def dot_diagonal_expr(self) -> sp.Expr | None:
        r""":math:`E[\phi'(u)^2]`, :math:`u\sim N(0,k)`, in the symbol ``k``, or None."""
        key = ("dot-diag",)
        if key not in self._exprs:
            base = closed_form([Factor.of(self.activation, 1, 2)], sp.Matrix([[_K]]))
            dot = self.dot_expr()
            if base is None and dot is not None:
                base = dot.subs({K11: _K, K12: _K, K22: _K})
                if base.has(sp.zoo, sp.nan, sp.oo, -sp.oo):  # e.g. E[delta(u)^2] of step: no finite value
                    base = None
            self._exprs[key] = None if base is None else _tidy(base)
        return self._exprs[key]

    def dot_diagonal_sympy(self, k) -> sp.Expr | None:
        e = self.dot_diagonal_expr()
        return None if e is None else e.xreplace({_K: sp.sympify(k)})

    def closed(self, dot: bool = False) -> bool:
        """Do the pair function (and, with ``dot``, its derivative kernel) have closed forms here?"""
        return self.expr() is not None and (not dot or self.dot_expr() is not None)

    def pair_torch(self, k11, k12, k22, *, dot: bool = False, nodes: int | None = None) -> tuple:
        r"""``(F,)`` or ``(F, F-dot)`` at a batch of covariances (broadcast tensors), values only: one generated
        torch function of both closed forms (shared subexpressions computed once) when they exist, otherwise
        2-d Gauss-Hermite with ``nodes`` per direction on shared nodes (default the finer of the table's two
        resolutions, :data:`PAIR_NODES`; the caller estimates the error by running both)."""
        k11, k12, k22 = (torch.as_tensor(t, dtype=torch.float64) for t in (k11, k12, k22))
        if self.closed(dot):
            key = ("joint", dot)
            if key not in self._torch:
                exprs = [self.expr()] + ([self.dot_expr()] if dot else [])
                self._torch[key] = torch_functions([K11, K12, K22], exprs)
            return self._torch[key](k11, k12, k22)
        f0 = activation_torch(self.activation, 0)
        pairs = [(f0, f0)]
        if dot:
            f1 = activation_torch(self.activation, 1)
            pairs.append((f1, f1))
        # both integrands are symmetric in (u, v): integrate with the smaller variance first, so that a pair
        # and its transpose give the same number (and, measured for tanh, the smaller quadrature error)
        lo, hi = torch.minimum(k11, k22), torch.maximum(k11, k22)
        (values,) = _pair_estimates(pairs, lo, k12, hi, (nodes or PAIR_NODES[-1],))
        return tuple(values)

    def diagonal_pair_torch(self, k, *, dot: bool = False, nodes: int | None = None) -> tuple:
        r"""``(g,)`` or ``(g, E[phi'^2])`` at variances ``k``: :math:`E[\phi(u)^2]` and :math:`E[\phi'(u)^2]`,
        :math:`u\sim N(0,k)` (closed forms, or 1-d Gauss-Hermite with ``nodes``, default
        :data:`DIAGONAL_NODES`' finer one)."""
        k = torch.as_tensor(k, dtype=torch.float64)
        out = []
        for order, expr in ((0, self.diagonal_expr()), (1, self.dot_diagonal_expr() if dot else None)):
            if order == 1 and not dot:
                break
            if expr is not None:
                key = ("diag-fn", order)
                if key not in self._torch:
                    self._torch[key] = torch_function([_K], expr)
                out.append(self._torch[key](k))
                continue
            f = activation_torch(self.activation, order)

            def square(u: torch.Tensor, f=f) -> torch.Tensor:
                return f(u[..., 0]) ** 2
            value, _ = gauss_hermite(square, k.reshape(-1)[:, None, None], resolutions=(nodes or DIAGONAL_NODES[-1],))
            out.append(value.reshape(k.shape))
        return tuple(out)


def _tidy(expr: sp.Expr) -> sp.Expr:
    """A derivative of a closed form, simplified once (at table-build time, not per evaluation)."""
    simple = sp.simplify(expr)
    return simple if sp.count_ops(simple) <= sp.count_ops(expr) else expr


@lru_cache(maxsize=64)
def pair_expectation(activation) -> PairExpectation:
    """The (cached) :class:`PairExpectation` of an activation (a name or an :class:`Activation`)."""
    return PairExpectation(get_activation(activation))


# ----------------------------------------------------------------------------------------------------
# n-point moments
# ----------------------------------------------------------------------------------------------------
class GaussianMoment:
    r""":math:`E[\prod_i(\phi_i^{(d_i)}(u_i))^{p_i}]` for :math:`u \sim N(m, \Sigma)`, ``factors`` a
    sequence of :class:`~symcorr.gaussian.forms.Factor` (or ``(activation, derivative, power)``).

    ``sympy(cov, mean=None)``: the closed form (SymPy matrix / list) or ``None``;
    ``torch(cov, mean=None)``: ``(value, error)`` for a batch ``(B, n, n)`` (generated code for closed
    forms, Gauss-Hermite quadrature otherwise).
    """

    def __init__(self, factors: Sequence):
        self.factors = tuple(f if isinstance(f, Factor) else Factor.of(*((f,) if not isinstance(f, tuple) else f))
                             for f in factors)
        if not self.factors:
            raise SpecError("a Gaussian moment needs at least one factor", "factors")
        n = len(self.factors)
        self._c = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"c_{min(i, j)}{max(i, j)}", real=True))
        self._m = [sp.Symbol(f"m_{i}", real=True) for i in range(n)]
        self._generated: dict = {}

    def __repr__(self):
        return f"GaussianMoment({[(f.name, f.derivative, f.power) for f in self.factors]})"

    def sympy(self, cov, mean=None) -> sp.Expr | None:
        return closed_form(self.factors, sp.Matrix(cov), mean)

    def _generic(self, with_mean: bool):
        if with_mean not in self._generated:
            expr = closed_form(self.factors, self._c, self._m if with_mean else None)
            fn = None
            if expr is not None:
                n = len(self.factors)
                args = [self._c[i, j] for i in range(n) for j in range(i, n)] + (self._m if with_mean else [])
                fn = torch_function(args, expr)
            self._generated[with_mean] = fn
        return self._generated[with_mean]

    def torch(self, cov, mean=None, *, nodes: int | None = None) -> QuadratureResult:
        """``(value, error)``; ``nodes``: quadrature at that one resolution only (error 0 + rounding floor;
        callers that compare two resolutions themselves), closed forms ignore it."""
        cov = torch.as_tensor(cov, dtype=torch.float64)
        single = cov.ndim == 2
        cov = cov[None] if single else cov
        n = len(self.factors)
        if cov.shape[-2:] != (n, n):
            raise SpecError(f"covariance must be ({n}, {n}) per entry, got {tuple(cov.shape)}", "cov")
        mean_t = None if mean is None else torch.as_tensor(mean, dtype=torch.float64)
        if mean_t is not None and bool((mean_t == 0).all()):
            mean_t = None
        fn = self._generic(mean_t is not None)
        if fn is not None:
            args = [cov[:, i, j] for i in range(n) for j in range(i, n)]
            if mean_t is not None:
                mean_b = mean_t.expand(cov.shape[0], n) if mean_t.ndim == 1 else mean_t
                args += [mean_b[:, i] for i in range(n)]
            value = fn(*args)
            out = QuadratureResult((value, _floor(value)))
        else:
            fns = [activation_torch(f.activation, f.derivative) for f in self.factors]
            out = gauss_hermite(product_integrand(fns, [f.power for f in self.factors]), cov, mean_t,
                                resolutions=None if nodes is None else (nodes,))
        if single:
            return QuadratureResult((out[0][0], out[1][0]))
        return out
