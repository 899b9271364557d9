r"""The laws of ``torch.nn.init`` initialisers and of ``nn.Linear``'s default initialisation.

Every formula below is torch's (``torch/nn/init.py`` and ``torch/nn/modules/linear.py``, torch 2.13),
evaluated exactly in SymPy so that the prover reasons with exact numbers.  For a weight of shape
``(fan_out, fan_in, *kernel)`` the fans are :math:`\mathrm{fan\_in} = n_1 r`,
:math:`\mathrm{fan\_out} = n_0 r` with :math:`r` the product of the kernel sizes
(``_calculate_fan_in_and_fan_out``; 1 for ``nn.Linear``).  ``calculate_gain(nonlinearity, param)``:
1 for ``linear``/``identity``/``conv*``/``sigmoid``, :math:`5/3` for ``tanh``, :math:`\sqrt2` for
``relu``, :math:`\sqrt{2/(1+s^2)}` for ``leaky_relu`` with negative slope :math:`s` (default 0.01),
:math:`3/4` for ``selu``.

==========================================  ================================================================
initialiser                                 law of every entry
==========================================  ================================================================
``normal_(mean=0, std=1)``                  :math:`N(\mathrm{mean}, \mathrm{std}^2)`
``uniform_(a=0, b=1)``                      :math:`U[a, b)`
``xavier_normal_(gain=1)``                  :math:`N(0, \mathrm{gain}^2\cdot 2/(\mathrm{fan\_in}+\mathrm{fan\_out}))`
``xavier_uniform_(gain=1)``                 :math:`U[-a, a)`, :math:`a = \mathrm{gain}\sqrt{6/(\mathrm{fan\_in}+\mathrm{fan\_out})}`
``kaiming_normal_(a=0, mode, nonlinearity)``  :math:`N(0, \mathrm{gain}^2/\mathrm{fan})`, gain = ``calculate_gain(nonlinearity, a)``,
                                            fan = fan_in or fan_out by ``mode`` (default ``fan_in``,
                                            ``leaky_relu``)
``kaiming_uniform_(a=0, mode, nonlinearity)`` :math:`U[-b, b)`, :math:`b = \mathrm{gain}\sqrt{3/\mathrm{fan}}`
``trunc_normal_(mean=0, std=1, a=-2, b=2)``  :math:`N(\mathrm{mean}, \mathrm{std}^2)` conditioned on
                                            :math:`[a, b]` (absolute bounds): :class:`TruncatedNormal`
``zeros_()`` / ``constant_(val)``           the point mass at 0 / ``val``: :class:`PointMass`
``orthogonal_(gain=1)``                     the whole block: ``gain`` times a Haar (semi-)orthogonal
                                            matrix, :class:`HaarOrthogonal` (not iid)
==========================================  ================================================================

``nn.Linear(fan_in, fan_out)`` by default (``reset_parameters``): ``kaiming_uniform_(W, a=sqrt(5))``,
i.e. :math:`\mathrm{gain} = \sqrt{2/(1+5)} = 1/\sqrt3` and the bound
:math:`\sqrt3\,\mathrm{gain}/\sqrt{\mathrm{fan\_in}} = 1/\sqrt{\mathrm{fan\_in}}`, so
:math:`W_{ij} \sim U[-1/\sqrt{\mathrm{fan\_in}}, 1/\sqrt{\mathrm{fan\_in}})`; the bias
:math:`b_i \sim U[-1/\sqrt{\mathrm{fan\_in}}, 1/\sqrt{\mathrm{fan\_in}})` (``uniform_(b, -bound, bound)``
with ``bound = 1/sqrt(fan_in)``).  The bound is computed here with the exact :math:`a = \sqrt5`.

An initialiser is given as the ``torch.nn.init`` function itself or a ``functools.partial`` of one
(``partial(nn.init.kaiming_normal_, nonlinearity="relu")``); its arguments are bound exactly as torch
would bind them when called on the tensor.  Float arguments become exact SymPy numbers
(``sympy.nsimplify``, kept only when it reproduces the float exactly: 0.02 -> 1/50, ``math.sqrt(2)`` ->
sqrt(2); otherwise the float's exact binary value).
"""

from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass
from typing import Callable

import sympy as sp
import torch.nn.init as nninit

from ..distributions import HaarOrthogonal, Law, Normal, PointMass, TruncatedNormal, Uniform
from ..errors import SpecError

__all__ = ["Initialiser", "read_initialiser", "calculate_gain", "fans", "default_linear_laws",
           "exact_number", "SUPPORTED_INITIALISERS"]


def exact_number(value, where: str) -> sp.Expr:
    """A torch argument (int, float, a 0-d tensor, or a SymPy number) as an exact SymPy number (see the module
    docstring)."""
    if isinstance(value, sp.Basic):
        if not (value.is_number and value.is_real and value.is_finite):
            raise SpecError(f"expected a finite real number, got {value}", where)
        return value
    if hasattr(value, "item") and not isinstance(value, (int, float)):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"expected a number, got {type(value).__name__} {value!r}", where)
    if isinstance(value, int):
        return sp.Integer(value)
    if not math.isfinite(value):
        raise SpecError(f"must be finite, got {value!r}", where)
    guess = sp.nsimplify(value)
    return guess if float(guess) == value else sp.Rational(value)


def fans(shape: tuple) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape`` (torch's ``_calculate_fan_in_and_fan_out``)."""
    if len(shape) < 2:
        raise SpecError(f"fan in and fan out need a tensor with at least 2 dimensions, got the shape {tuple(shape)} "
                        "(torch refuses fan-based initialisers on biases)")
    receptive = math.prod(int(s) for s in shape[2:])
    return int(shape[1]) * receptive, int(shape[0]) * receptive


def _leaky_relu_gain(slope: sp.Expr) -> sp.Expr:
    return sp.sqrt(2 / (1 + slope ** 2))


def calculate_gain(nonlinearity: str, param=None, where: str = "nonlinearity") -> sp.Expr:
    """torch's ``calculate_gain``, exactly (see the module docstring)."""
    linear = {"linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid"}
    if nonlinearity in linear:
        return sp.Integer(1)
    if nonlinearity == "tanh":
        return sp.Rational(5, 3)
    if nonlinearity == "relu":
        return sp.sqrt(2)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = sp.Rational(1, 100)
        elif isinstance(param, bool) or not isinstance(param, (int, float)):
            raise SpecError(f"negative_slope {param!r} is not a valid number", where)
        else:
            slope = exact_number(param, where)
        return _leaky_relu_gain(slope)
    if nonlinearity == "selu":
        return sp.Rational(3, 4)
    raise SpecError(f"unsupported nonlinearity {nonlinearity!r} (torch's calculate_gain knows linear, identity, "
                    "conv*, sigmoid, tanh, relu, leaky_relu, selu)", where)


def _mode_fan(shape, mode, where) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise SpecError(f"mode {mode!r} not supported, use 'fan_in' or 'fan_out'", where)
    fan_in, fan_out = fans(shape)
    return fan_in if mode == "fan_in" else fan_out


def _normal(a, shape, where):
    return Normal(exact_number(a["mean"], f"{where}.mean"), exact_number(a["std"], f"{where}.std") ** 2)


def _uniform(a, shape, where):
    return Uniform(exact_number(a["a"], f"{where}.a"), exact_number(a["b"], f"{where}.b"))


def _xavier_std2(a, shape, where):
    fan_in, fan_out = fans(shape)
    return exact_number(a["gain"], f"{where}.gain") ** 2 * sp.Rational(2, fan_in + fan_out)


def _xavier_normal(a, shape, where):
    return Normal(0, _xavier_std2(a, shape, where))


def _xavier_uniform(a, shape, where):
    bound = sp.sqrt(3 * _xavier_std2(a, shape, where))
    return Uniform(-bound, bound)


def _kaiming_std2(a, shape, where):
    fan = _mode_fan(shape, a["mode"], f"{where}.mode")
    gain = calculate_gain(a["nonlinearity"], a["a"], f"{where}.nonlinearity")
    return gain ** 2 / fan


def _kaiming_normal(a, shape, where):
    return Normal(0, _kaiming_std2(a, shape, where))


def _kaiming_uniform(a, shape, where):
    bound = sp.sqrt(3 * _kaiming_std2(a, shape, where))
    return Uniform(-bound, bound)


def _trunc_normal(a, shape, where):
    return TruncatedNormal(exact_number(a["mean"], f"{where}.mean"), exact_number(a["std"], f"{where}.std"),
                           exact_number(a["a"], f"{where}.a"), exact_number(a["b"], f"{where}.b"))


def _zeros(a, shape, where):
    return PointMass(0)


def _constant(a, shape, where):
    return PointMass(exact_number(a["val"], f"{where}.val"))


def _orthogonal(a, shape, where):
    if len(shape) != 2:
        raise SpecError(f"orthogonal_ needs a matrix here, got the shape {tuple(shape)} (torch refuses tensors with "
                        "fewer than 2 dimensions)", where)
    return HaarOrthogonal(exact_number(a["gain"], f"{where}.gain"))


#: the supported ``torch.nn.init`` functions and the law each gives a block of a shape
_LAWS: dict[Callable, Callable] = {
    nninit.normal_: _normal, nninit.uniform_: _uniform, nninit.xavier_normal_: _xavier_normal,
    nninit.xavier_uniform_: _xavier_uniform, nninit.kaiming_normal_: _kaiming_normal,
    nninit.kaiming_uniform_: _kaiming_uniform, nninit.trunc_normal_: _trunc_normal, nninit.zeros_: _zeros,
    nninit.constant_: _constant, nninit.orthogonal_: _orthogonal,
}

#: their names, for messages and documentation
SUPPORTED_INITIALISERS = tuple(f"nn.init.{fn.__name__}" for fn in _LAWS)


class _Tensor:
    """Stands for the tensor when binding an initialiser's arguments."""


@dataclass(frozen=True)
class Initialiser:
    """A ``torch.nn.init`` function with its bound arguments (defaults applied, ``generator`` dropped)."""

    function: Callable
    arguments: tuple  # ((name, value), ...)

    @property
    def name(self) -> str:
        return self.function.__name__

    def law(self, shape: tuple, where: str) -> Law:
        """The law of a block of ``shape`` filled by this initialiser (a SpecError naming ``where`` when torch
        would refuse, e.g. a fan-based initialiser on a bias)."""
        try:
            return _LAWS[self.function](dict(self.arguments), tuple(shape), where)
        except SpecError as err:
            raise (err if err.where else err.at(where)) from None

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.arguments)
        return f"nn.init.{self.name}({args})"


def read_initialiser(obj, where: str) -> Initialiser:
    """``obj`` (an ``nn.init`` function or a ``functools.partial`` of one) as an :class:`Initialiser`;
    a SpecError naming ``where`` and the supported initialisers otherwise."""
    func, args, kwargs = obj, (), {}
    if isinstance(obj, functools.partial):
        func, args, kwargs = obj.func, tuple(obj.args), dict(obj.keywords)
    if func not in _LAWS:
        shown = getattr(func, "__qualname__", None) or type(func).__name__
        raise SpecError(f"unsupported initialiser {shown!r}; use one of {', '.join(SUPPORTED_INITIALISERS)} or a "
                        "functools.partial of one (a custom initialiser works in the numeric frame: "
                        "symcorr.montecarlo.TorchModel)", where)
    signature = inspect.signature(func)
    placeholder = _Tensor()
    try:
        bound = signature.bind(*args, placeholder, **kwargs)
    except TypeError as exc:
        raise SpecError(f"the arguments of {func.__name__} do not bind: {exc}", where) from None
    first = next(iter(signature.parameters))
    if bound.arguments.get(first) is not placeholder:
        raise SpecError(f"this partial of {func.__name__} would not receive the tensor as its first argument "
                        "(give the other arguments by keyword)", where)
    bound.apply_defaults()
    values = tuple((k, v) for k, v in bound.arguments.items() if k not in (first, "generator"))
    return Initialiser(func, values)


def default_linear_laws(fan_in: int) -> tuple[Law, Law]:
    r"""The laws of ``nn.Linear``'s default weight and bias: both :math:`U[-1/\sqrt{\mathrm{fan\_in}},
    1/\sqrt{\mathrm{fan\_in}})` (``kaiming_uniform_(a=sqrt(5))`` and ``uniform_(-bound, bound)``; see the
    module docstring)."""
    gain = _leaky_relu_gain(sp.sqrt(5))  # = 1/sqrt(3)
    weight_bound = sp.sqrt(3) * gain / sp.sqrt(fan_in)
    bias_bound = 1 / sp.sqrt(sp.Integer(fan_in))
    return Uniform(-weight_bound, weight_bound), Uniform(-bias_bound, bias_bound)
