r"""Read a ``torch.nn`` model into the layers of a spec: architecture plus the laws of its initialisers.

Supported models: an ``nn.Sequential`` (nested ``nn.Sequential`` are flattened), or a single
``nn.Linear``, made of ``nn.Linear`` layers each followed by at most one elementwise activation:
``nn.ReLU``, ``nn.Tanh``, ``nn.Sigmoid``, ``nn.GELU`` (exact, ``approximate="none"``), ``nn.SiLU``;
``nn.Identity`` is skipped.  ``Linear -> activation`` becomes one layer
:math:`h \mapsto \phi(Wh + b)`; a Linear not followed by an activation is linear.  Anything else
(convolutions, attention, normalisation, dropout, a custom module, two activations in a row, an
activation before the first Linear) is refused with a SpecError naming the layer by its path in the
model (``"2"``, ``"body.1"``) and what is supported; such models are served by the numeric frame
(:class:`symcorr.montecarlo.TorchModel`).

The laws (:mod:`.initialisers`): ``init=None`` gives torch's defaults; an ``nn.init`` function or a
``functools.partial`` of one fills every Linear weight (biases keep their default); a mapping
``{k: initialiser}`` or ``{k: {"weight": ..., "bias": ...}}`` sets Linear number ``k`` (0-based, in
order; the spec's layer ``k``, blocks ``W{k}``, ``b{k}``), the others keeping their defaults.

This module sits below :mod:`symcorr.spec` and returns plain layer descriptions
(:class:`TorchArchitecture`); :meth:`symcorr.spec.Network.from_torch` builds the network from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch.nn as nn

from ..distributions import Law
from ..errors import SpecError
from .initialisers import Initialiser, default_linear_laws, read_initialiser

__all__ = ["LinearLayer", "TorchArchitecture", "read_sequential", "ACTIVATIONS", "SUPPORTED_MODULES"]

#: elementwise torch activations and the spec's activation names
ACTIVATIONS: dict[type, str] = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.GELU: "gelu",
                                nn.SiLU: "silu"}
#: what the reader understands, for messages
SUPPORTED_MODULES = ("nn.Sequential", "nn.Linear", *(f"nn.{t.__name__}" for t in ACTIVATIONS), "nn.Identity")

_NUMERIC = "models beyond these run in the numeric frame: symcorr.montecarlo.TorchModel"


@dataclass(frozen=True)
class LinearLayer:
    """One spec layer read from ``nn.Linear`` at ``path`` (and the activation after it)."""

    path: str
    in_features: int
    out_features: int
    activation: str
    weight: Law
    bias: Law | None


@dataclass(frozen=True)
class TorchArchitecture:
    """The input dimension and the layers of a model, in order."""

    input_dim: int
    layers: tuple[LinearLayer, ...]


def _describe(path: str, module: nn.Module) -> str:
    return f"layer {path!r} ({type(module).__name__})" if path else f"the model ({type(module).__name__})"


def _flatten(module: nn.Module, prefix: str = "") -> list[tuple[str, nn.Module]]:
    if type(module) is nn.Sequential:
        out = []
        for name, child in module.named_children():
            out += _flatten(child, f"{prefix}.{name}" if prefix else name)
        return out
    return [(prefix, module)]


def _activation(path: str, module: nn.Module) -> str | None:
    """The spec name of an elementwise activation module, ``None`` when ``module`` is not one."""
    name = ACTIVATIONS.get(type(module))
    if name == "gelu" and getattr(module, "approximate", "none") != "none":
        raise SpecError(f"nn.GELU(approximate={module.approximate!r}) is not the exact GELU z Phi(z) of the spec; "
                        "use nn.GELU()", _describe(path, module))
    return name


def _initialiser(value, where: str) -> Initialiser | None:
    return None if value is None else read_initialiser(value, where)


def _layer_initialisers(init, count: int) -> list[tuple[Initialiser | None, Initialiser | None]]:
    """Per Linear: (weight initialiser, bias initialiser); ``None`` = torch's default."""
    if init is None:
        return [(None, None)] * count
    if not isinstance(init, Mapping):
        weight = read_initialiser(init, "init")
        return [(weight, None)] * count
    out: list[tuple[Initialiser | None, Initialiser | None]] = [(None, None)] * count
    for key, value in init.items():
        if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key < count:
            raise SpecError(f"init keys are the indices 0..{count - 1} of the model's nn.Linear layers, got {key!r}",
                            "init")
        where = f"init[{key}]"
        if isinstance(value, Mapping):
            unknown = set(value) - {"weight", "bias"}
            if unknown:
                raise SpecError(f"unknown key(s) {sorted(unknown)}; give 'weight' and/or 'bias'", where)
            out[key] = (_initialiser(value.get("weight"), f"{where}.weight"),
                        _initialiser(value.get("bias"), f"{where}.bias"))
        else:
            out[key] = (read_initialiser(value, where), None)
    return out


def read_sequential(module, init=None) -> TorchArchitecture:
    """The layers and laws of ``module`` initialised by ``init`` (see the module docstring)."""
    if not isinstance(module, nn.Module):
        raise SpecError(f"expected a torch.nn.Module, got {type(module).__name__}", "module")
    if type(module) not in (nn.Sequential, nn.Linear):
        raise SpecError(f"only nn.Sequential models (or a single nn.Linear) are read into a spec, got "
                        f"{type(module).__name__}; {_NUMERIC}", "module")
    items = _flatten(module)
    linears: list[tuple[str, nn.Linear, str]] = []
    pending: tuple[str, nn.Linear] | None = None
    for path, child in items:
        if type(child) is nn.Linear:
            if pending is not None:
                linears.append((*pending, "identity"))
            if linears or pending is not None:
                previous = (pending or linears[-1][:2])[1]
                if child.in_features != previous.out_features:
                    raise SpecError(f"has {child.in_features} input features, but the layer before it has "
                                    f"{previous.out_features} outputs", _describe(path, child))
            pending = (path, child)
            continue
        if type(child) is nn.Identity:
            continue
        act = _activation(path, child)
        if act is None:
            raise SpecError(f"is not supported: a spec is read from {', '.join(SUPPORTED_MODULES)} (each Linear "
                            f"followed by at most one elementwise activation); {_NUMERIC}", _describe(path, child))
        if pending is None:
            where = "before the first nn.Linear" if not linears else "right after another activation"
            raise SpecError(f"comes {where}: a spec layer is one nn.Linear followed by at most one elementwise "
                            "activation", _describe(path, child))
        linears.append((*pending, act))
        pending = None
    if pending is not None:
        linears.append((*pending, "identity"))
    if not linears:
        raise SpecError("the model has no nn.Linear layer", "module")
    inits = _layer_initialisers(init, len(linears))
    layers = []
    for k, ((path, lin, act), (w_init, b_init)) in enumerate(zip(linears, inits)):
        where = f"{_describe(path, lin)} [spec layer {k}]"
        shape = (lin.out_features, lin.in_features)
        w_default, b_default = default_linear_laws(lin.in_features)
        weight = w_default if w_init is None else w_init.law(shape, f"{where}.weight")
        bias: Law | None = None
        if lin.bias is None:
            if b_init is not None:
                raise SpecError("has no bias (bias=False), but a bias initialiser was given", where)
        else:
            bias = b_default if b_init is None else b_init.law((lin.out_features,), f"{where}.bias")
        layers.append(LinearLayer(path, lin.in_features, lin.out_features, act, weight, bias))
    return TorchArchitecture(layers[0].in_features, tuple(layers))
