r"""Activation functions, each with a SymPy form and a torch form that agree.

Built in (by name): ``erf``, ``relu`` (:math:`\max(0, z)`), ``step`` (:math:`1(z>0)`), ``tanh``, ``cos``,
``sin``, ``identity``, ``sigmoid``, ``gelu`` (:math:`z\Phi(z)`), ``silu`` (:math:`z\,\mathrm{sigmoid}(z)`),
``softplus`` and ``gauss``, the normalised exponential of the paper's Gauss-net,

.. math:: \phi(z) = \frac{e^{z}}{\sqrt{E[e^{2z}]}} = \exp\Big(z - \tfrac12 \log E[e^{2z}]\Big),

where the expectation is over the parameters of the layer at fixed layer input ``h``.  For a Gaussian
pre-activation :math:`z \sim N(m, s^2)` this is :math:`\exp(z - m - s^2)`; for the paper's first
layer (:math:`m = 0`, :math:`s^2 = k_0(x,x) = \sigma_b^2 + \sigma_W^2|x|^2/d_{in}`) it is
:math:`\exp(z - k_0(x,x))`.  The normaliser comes from the layer's laws (their cumulant generating
functions), and :math:`\phi` is evaluated as one exponential of the difference, so large inputs do not
overflow even when :math:`e^z` alone would.

User-supplied activations: ``Activation.custom(name, sympy_fn, torch_fn)``; the two forms are checked
against each other at a few points when the activation is made.
"""

from __future__ import annotations

import difflib
from typing import Callable

import sympy as sp
import torch

from .errors import SpecError
from .expressions import parse_expression, real_symbol

__all__ = ["Activation", "get_activation", "activation_names"]


def _argument(value, where: str) -> sp.Expr:
    """A SymPy argument: an expression string through the one safe parser (unknown names real
    symbols; SymPy functions would ``sympify`` a string, i.e. run it), anything else ``sympify``-ed
    strictly (numbers, SymPy objects)."""
    if isinstance(value, str):
        return parse_expression(value, where, unknown=real_symbol)
    try:
        return sp.sympify(value, strict=True)
    except sp.SympifyError as exc:
        raise SpecError(f"expected a number or SymPy expression, got {type(value).__name__} {value!r}",
                        where) from None


class Activation:
    """A named activation :math:`\\phi` with a SymPy form and a torch form.

    ``normalised`` marks the Gauss-net activation, whose value also depends on the log-normaliser
    :math:`\\tfrac12\\log E[e^{2z}]` supplied by the layer (``phi(z, log_norm)``).
    """

    def __init__(self, name: str, sympy_fn: Callable, torch_fn: Callable, *, normalised: bool = False,
                 doc: str = ""):
        self.name = name
        self._sympy_fn = sympy_fn
        self._torch_fn = torch_fn
        self.normalised = normalised
        self.doc = doc

    # --- evaluation ----------------------------------------------------------------------------------
    def sympy(self, z, log_norm=None) -> sp.Expr:
        """SymPy expression :math:`\\phi(z)` (``log_norm`` is required for ``gauss``)."""
        z = _argument(z, "z")
        log_norm = None if log_norm is None else _argument(log_norm, "log_norm")
        if self.normalised:
            if log_norm is None:
                raise SpecError(f"activation {self.name!r} needs the layer's log-normaliser")
            return self._sympy_fn(z, log_norm)
        return self._sympy_fn(z)

    def torch(self, z: torch.Tensor, log_norm: torch.Tensor | None = None) -> torch.Tensor:
        """Elementwise torch evaluation."""
        if self.normalised:
            if log_norm is None:
                raise SpecError(f"activation {self.name!r} needs the layer's log-normaliser")
            return self._torch_fn(z, log_norm)
        return self._torch_fn(z)

    def derivative(self, z) -> sp.Expr:
        """SymPy derivative :math:`\\phi'(z)` (for non-normalised activations)."""
        z = _argument(z, "z")
        x = sp.Dummy("x", real=True)
        return sp.diff(self.sympy(x), x).subs(x, z)

    # --- identity ------------------------------------------------------------------------------------
    def __eq__(self, other):
        return isinstance(other, Activation) and other.name == self.name and \
            other._sympy_fn is self._sympy_fn and other._torch_fn is self._torch_fn

    def __hash__(self):
        return hash(("Activation", self.name))

    def __repr__(self):
        return f"Activation({self.name!r})"

    def latex(self) -> str:
        z = sp.Symbol("z", real=True)
        if self.normalised:
            return r"\phi(z) = e^{z - \frac{1}{2}\log E[e^{2z}]}"
        return rf"\phi(z) = {sp.latex(self.sympy(z))}"

    # --- user-supplied -------------------------------------------------------------------------------
    @classmethod
    def custom(cls, name: str, sympy_fn: Callable, torch_fn: Callable | None = None,
               check_points=(-2.0, -0.7, -0.1, 0.0, 0.3, 1.1, 2.5)) -> "Activation":
        """A user-supplied activation.

        ``sympy_fn`` maps a SymPy symbol to an expression.  ``torch_fn`` maps a tensor to a tensor; if
        omitted it is generated from the SymPy form with ``sympy.lambdify`` on torch functions.  The two
        forms must agree (to 1e-6 relative) at ``check_points``, otherwise a SpecError says where not.
        """
        if not isinstance(name, str) or not name:
            raise SpecError("a custom activation needs a non-empty name")
        if name in _BUILTIN:
            raise SpecError(f"{name!r} is a built-in activation; choose another name for a custom one")
        z = sp.Symbol("z", real=True)
        try:
            expr = _argument(sympy_fn(z), f"custom activation {name!r}")
        except Exception as exc:  # the user's function failed on a symbol
            raise SpecError(f"custom activation {name!r}: sympy_fn failed on a symbol ({exc})") from None
        if torch_fn is None:
            torch_fn = sp.lambdify(z, expr, modules=[TORCH_TRANSLATIONS, "math"])
            generated = torch_fn

            def torch_fn(t, _f=generated):
                out = _f(t)
                return out if isinstance(out, torch.Tensor) else torch.full_like(t, float(out))
        pts = torch.tensor(check_points, dtype=torch.float64)
        try:
            got = torch_fn(pts)
        except Exception as exc:
            raise SpecError(f"custom activation {name!r}: torch_fn failed ({exc})") from None
        for p, g in zip(check_points, got.tolist()):
            want = float(sp.N(expr.subs(z, p)))
            if abs(g - want) > 1e-6 * max(1.0, abs(want)):
                raise SpecError(f"custom activation {name!r}: the SymPy form gives {want:.6g} at z={p} but "
                                f"the torch form gives {g:.6g}; they must describe the same function")
        return cls(name, sympy_fn, torch_fn)


def _relu_sympy(z):
    return sp.Piecewise((z, z > 0), (0, True))


def _gauss_sympy(z, log_norm):
    return sp.exp(z - log_norm)


def _gauss_torch(z, log_norm):
    return torch.exp(z - log_norm)


#: SymPy function name -> torch function: ``sympy.lambdify(z, expr, [TORCH_TRANSLATIONS, "math"])``
TORCH_TRANSLATIONS = {
    "exp": torch.exp, "log": torch.log, "sin": torch.sin, "cos": torch.cos, "tan": torch.tan,
    "tanh": torch.tanh, "sinh": torch.sinh, "cosh": torch.cosh, "erf": torch.erf, "sqrt": torch.sqrt,
    "Abs": torch.abs, "atan": torch.atan, "sign": torch.sign,
    "Max": lambda *a: _fold(torch.maximum, a), "Min": lambda *a: _fold(torch.minimum, a),
    "Heaviside": lambda x, h0=0.5: torch.heaviside(x, torch.full_like(x, h0)),
}


def _fold(op, args):
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    like = tensors[0]
    out = None
    for a in args:
        a = a if isinstance(a, torch.Tensor) else torch.full_like(like, float(a))
        out = a if out is None else op(out, a)
    return out


def _step_sympy(z):
    return sp.Piecewise((1, z > 0), (0, True))


def _step_torch(z):
    return (z > 0).to(z.dtype)


def _gelu_sympy(z):
    return z * (1 + sp.erf(z / sp.sqrt(2))) / 2


def _sigmoid_sympy(z):
    return 1 / (1 + sp.exp(-z))


_BUILTIN = {
    "erf": Activation("erf", sp.erf, torch.erf, doc="error function"),
    "relu": Activation("relu", _relu_sympy, torch.relu, doc="max(0, z)"),
    "step": Activation("step", _step_sympy, _step_torch, doc="Heaviside step 1(z > 0) (the derivative of relu)"),
    "tanh": Activation("tanh", sp.tanh, torch.tanh, doc="hyperbolic tangent"),
    "cos": Activation("cos", sp.cos, torch.cos, doc="cosine (Cos-net)"),
    "sin": Activation("sin", sp.sin, torch.sin, doc="sine"),
    "identity": Activation("identity", lambda z: z, lambda z: z, doc="linear read-out"),
    "gauss": Activation("gauss", _gauss_sympy, _gauss_torch, normalised=True,
                        doc="normalised exponential exp(z) / sqrt(E[exp(2z)]) (Gauss-net)"),
    "sigmoid": Activation("sigmoid", _sigmoid_sympy, torch.sigmoid, doc="logistic 1 / (1 + exp(-z))"),
    "gelu": Activation("gelu", _gelu_sympy, lambda z: torch.nn.functional.gelu(z),
                       doc="z Phi(z) (exact, erf form; torch.nn.GELU with approximate='none')"),
    "silu": Activation("silu", lambda z: z * _sigmoid_sympy(z), torch.nn.functional.silu,
                       doc="z sigmoid(z) (swish; torch.nn.SiLU)"),
    "softplus": Activation("softplus", lambda z: sp.log(1 + sp.exp(z)), torch.nn.functional.softplus,
                           doc="log(1 + exp(z)) (torch.nn.Softplus with beta = 1)"),
}


def activation_names() -> list[str]:
    return sorted(_BUILTIN)


def get_activation(spec) -> Activation:
    """Resolve a name (``"erf"``) or an :class:`Activation` to an :class:`Activation`.

    An unknown name raises a SpecError that lists the known names and suggests the closest one.
    """
    if isinstance(spec, Activation):
        return spec
    if spec is None:
        return _BUILTIN["identity"]
    if not isinstance(spec, str):
        raise SpecError(f"activation must be a name or an Activation, got {type(spec).__name__}")
    key = spec.strip().lower()
    if key in ("linear", "none"):
        key = "identity"
    if key in ("gaussnet", "gauss_net", "exp"):
        key = "gauss"
    if key not in _BUILTIN:
        close = difflib.get_close_matches(key, list(_BUILTIN), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise SpecError(f"unknown activation {spec!r}{hint} Known: {', '.join(activation_names())}, "
                        "or Activation.custom(name, sympy_fn, torch_fn)")
    return _BUILTIN[key]
