r"""SymPy expressions compiled to torch: the generated code of the Gaussian table.

:func:`torch_function` (one expression) and :func:`torch_functions` (several, with their common
subexpressions computed once) turn a closed form into a function of broadcasting float64 tensors, with

* guarded elementary functions (:data:`TORCH_FUNCTIONS`): arguments of :math:`\arcsin`/:math:`\arccos` are
  clamped to [-1, 1] and of :math:`\sqrt{\cdot}` to :math:`\ge 0`, which only absorbs rounding at
  coincident points, where :math:`\rho = 1` exactly;
* ``Piecewise`` / ``And`` / ``Or`` as ``torch.where`` / logical operations;
* arc-cosine kernels in their stable form (:func:`_stable_arc_cosines`).
"""

from __future__ import annotations

from typing import Callable, Sequence

import sympy as sp
import torch

__all__ = ["TORCH_FUNCTIONS", "torch_function", "torch_functions"]


def _as_tensor_fn(fn):
    """``fn`` applied to tensors; Python numbers (constants such as ``sqrt(2)`` in generated code) are
    converted to float64 tensors first."""
    def wrapped(*args):
        ref = next((a for a in args if isinstance(a, torch.Tensor)), None)
        dtype = torch.float64 if ref is None or not ref.is_floating_point() else ref.dtype
        conv = [a if isinstance(a, torch.Tensor) else torch.tensor(float(a), dtype=dtype) for a in args]
        return fn(*conv)
    return wrapped


def _heaviside(x, h0=None):
    return torch.heaviside(x, torch.full_like(x, 0.5 if h0 is None else float(h0)))


def _fold(op):
    def fn(*args):
        like = next(a for a in args if isinstance(a, torch.Tensor))
        out = None
        for a in args:
            a = a if isinstance(a, torch.Tensor) else torch.full_like(like, float(a))
            out = a if out is None else op(out, a)
        return out
    return fn


#: SymPy function name -> torch implementation used by the generated code (guarded where noted)
TORCH_FUNCTIONS: dict[str, Callable] = {name: _as_tensor_fn(fn) for name, fn in {
    "asin": lambda x: torch.asin(torch.clamp(x, -1.0, 1.0)),
    "acos": lambda x: torch.arccos(torch.clamp(x, -1.0, 1.0)),
    "sqrt": lambda x: torch.sqrt(torch.clamp_min(x, 0.0)),
    "exp": torch.exp, "log": torch.log, "sin": torch.sin, "cos": torch.cos, "sinh": torch.sinh,
    "cosh": torch.cosh, "tanh": torch.tanh, "erf": torch.erf, "erfc": torch.erfc, "atan": torch.atan,
    "Abs": torch.abs, "sign": torch.sign, "gamma": lambda x: torch.exp(torch.lgamma(x)),
    "Heaviside": _heaviside, "Max": _fold(torch.maximum), "Min": _fold(torch.minimum),
}.items()}


class _Where(sp.Function):
    """``Piecewise`` rewritten for tensors: ``_Where(condition, then, otherwise)`` -> ``torch.where``."""


class _And(sp.Function):
    pass


class _Or(sp.Function):
    pass


def _tensor_logic(expr: sp.Expr) -> sp.Expr:
    """Piecewise / And / Or as functions the generated torch code can apply elementwise."""
    def piecewise(*pairs):
        out = pairs[-1][0] if pairs[-1][1] == sp.true else sp.nan
        for value, cond in reversed(pairs[:-1] if pairs[-1][1] == sp.true else pairs):
            out = _Where(cond, value, out)
        return out
    expr = expr.replace(sp.Piecewise, lambda *pairs: piecewise(*[tuple(p) for p in pairs]))
    expr = expr.replace(sp.And, lambda *a: _And(*a)).replace(sp.Or, lambda *a: _Or(*a))
    return expr


TORCH_FUNCTIONS.update({
    "_Where": lambda c, a, b: torch.where(torch.as_tensor(c), *torch.broadcast_tensors(
        torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64))),
    "_And": _fold(torch.logical_and), "_Or": _fold(torch.logical_or),
})


def _stable_arc_cosines(expr: sp.Expr) -> sp.Expr:
    r""":math:`1 - \rho^2` rewritten :math:`(1-\rho)(1+\rho)` for every :math:`\arccos\rho` in ``expr`` (SymPy
    writes :math:`\sin\arccos\rho` as :math:`\sqrt{1-\rho^2}` and simplifies :math:`\rho^2`, which the
    generated code would then round independently of :math:`\rho`): evaluated from the same rounded
    :math:`\rho` as :math:`\arccos\rho`, the rounding errors of the arc-cosine kernels cancel to first order at
    coincident points (:math:`\rho = 1`), where each term alone is only good to about 1e-8."""
    swaps = {}
    for a in expr.atoms(sp.acos):
        rho = a.args[0]
        swaps[1 - rho ** 2] = sp.Mul(1 - rho, 1 + rho, evaluate=False)
    return expr.xreplace(swaps) if swaps else expr


def torch_function(args: Sequence[sp.Symbol], expr: sp.Expr) -> Callable:
    """``expr`` compiled to a torch function of ``args`` (broadcasting tensors; constants broadcast;
    ``Piecewise`` becomes ``torch.where``; arc-cosine kernels in their stable form)."""
    fn = sp.lambdify(list(args), _tensor_logic(_stable_arc_cosines(sp.sympify(expr))),
                     modules=[TORCH_FUNCTIONS, "math"])

    def call(*values):
        out = fn(*values)
        if not isinstance(out, torch.Tensor):
            like = torch.broadcast_tensors(*[v for v in values if isinstance(v, torch.Tensor)])[0]
            out = torch.full_like(like, float(out))
        return out
    return call


def torch_functions(args: Sequence[sp.Symbol], exprs: Sequence[sp.Expr]) -> Callable:
    """Several expressions compiled to **one** torch function of ``args`` returning a tuple of tensors, with
    common subexpressions computed once (``sympy.lambdify(..., cse=True)``): e.g. the pair function and its
    derivative kernel share :math:`\arccos\rho`."""
    fn = sp.lambdify(list(args), [_tensor_logic(_stable_arc_cosines(sp.sympify(e))) for e in exprs],
                     modules=[TORCH_FUNCTIONS, "math"], cse=True)

    def call(*values):
        outs = fn(*values)
        like = None
        result = []
        for out in outs:
            if not isinstance(out, torch.Tensor):
                if like is None:
                    like = torch.broadcast_tensors(*[v for v in values if isinstance(v, torch.Tensor)])[0]
                out = torch.full_like(like, float(out))
            result.append(out)
        return tuple(result)
    return call
