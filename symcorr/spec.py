r"""The network specification: one object that both frames (SymPy and torch) read.

A :class:`Network` is a stack of fully connected layers

.. math:: h^{(0)} = x,\qquad z^{(l)} = W^{l} h^{(l)} + b^{l},\qquad h^{(l+1)} = \phi_l(z^{(l)}),
          \qquad f_\theta(x) = h^{(L+1)},

with :math:`W^l \in R^{n_{l+1}\times n_l}` and :math:`b^l \in R^{n_{l+1}}` drawn independently from
their laws (:mod:`symcorr.distributions`).  Layers are counted from 0 at the input, as in the paper
(:math:`W^0` is the first layer, :math:`\mu_{W^1}` the read-out mean of a one-hidden-layer net).
Parameter blocks are named ``W0, b0, W1, b1, ...``.

Sizes (``input_dim``, widths) are positive ints or SymPy symbols declared ``integer=True,
positive=True``; law parameters may be SymPy expressions.  ``Network.subs`` substitutes values; the
numeric methods need a concrete network and say which symbols are still free otherwise.

Example -- the paper's Gauss-net, single hidden layer, d_in = 1, d_out = 5::

    N = sympy.Symbol("N", integer=True, positive=True)
    net = Network(1, [Dense(N, "gauss", weight=Normal(0, 1), bias=Normal(0, 1)),
                      Dense(5, weight=Normal(0, 1 / N), bias=Normal(0, 1))])
    params = net.subs({N: 10}).sample(1000, seed=0)     # dict of (1000, ...) tensors
    f = net.subs({N: 10}).forward(params, x)             # (1000, len(x), 5)
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

import sympy as sp
import torch

from .activations import Activation, get_activation
from .distributions import Law, Normal, as_expr, numeric_value
from .errors import SpecError
from .rng import make_generator
from .torch_models.reader import read_sequential
from .verdicts import Side

__all__ = ["Dense", "Network", "ParameterBlock", "size_symbol"]


def size_symbol(name: str) -> sp.Symbol:
    """A SymPy symbol suitable for a size (width ``N``, input dimension ``D``): positive integer."""
    return sp.Symbol(name, integer=True, positive=True)


def _check_size(value, where: str):
    if isinstance(value, bool):
        raise SpecError(f"size must be a positive integer or symbol, got {value!r}", where)
    if isinstance(value, int):
        if value < 1:
            raise SpecError(f"size must be a positive integer, got {value}", where)
        return value
    if isinstance(value, sp.Integer):
        return _check_size(int(value), where)
    if isinstance(value, sp.Symbol):
        if not (value.is_integer and value.is_positive):
            raise SpecError(
                f"size symbol {value} must be declared a positive integer, e.g. "
                f"sympy.Symbol({str(value)!r}, integer=True, positive=True) or symcorr.size_symbol", where)
        return value
    if isinstance(value, sp.Expr):
        if value.is_number:
            if value.is_integer and value.is_positive:
                return int(value)
            raise SpecError(f"size must be a positive integer, got {value}", where)
        if value.is_integer and value.is_positive:
            return value
        raise SpecError(f"size expression {value} is not known to be a positive integer", where)
    raise SpecError(f"size must be a positive integer or symbol, got {type(value).__name__} {value!r}", where)


def _substituted_size(size, mapping: dict, where: str):
    """A size after ``subs``: a number must be a positive integer (an integer-valued float such as 2.0
    is read as 2; 2.5, 0 or -1 is a SpecError naming ``where``, never truncated); an expression is
    returned for :func:`_check_size` to judge."""
    if not isinstance(size, sp.Basic):
        return size
    value = size.subs(mapping)
    if not value.is_number:
        return value
    if value.is_real is not True or not value.is_finite or not (value - sp.floor(value)).is_zero:
        raise SpecError(f"size must be a positive integer after substitution, got {value}", where)
    if value < 1:
        raise SpecError(f"size must be a positive integer after substitution, got {value}", where)
    return int(value)


def _check_law(value, where: str) -> Law:
    if not isinstance(value, Law):
        raise SpecError(f"expected a parameter law (Normal, Uniform, ...), got {type(value).__name__} "
                        f"{value!r}", where)
    return value


@dataclasses.dataclass(frozen=True)
class ParameterBlock:
    """One parameter tensor of the network (``W0``, ``b0``, ...) with its shape and law."""

    name: str
    layer: int
    role: str  # "weight" | "bias"
    shape: tuple
    law: Law

    @property
    def is_concrete(self) -> bool:
        return all(isinstance(s, int) for s in self.shape) and not self.law.free_symbols

    def symbol(self) -> sp.MatrixSymbol:
        """A SymPy matrix symbol for the block (a bias is an ``n x 1`` column)."""
        shape = self.shape if len(self.shape) == 2 else (self.shape[0], 1)
        return sp.MatrixSymbol(self.name, *shape)

    def sample(self, n: int, generator=None, dtype=torch.float64, device=None) -> torch.Tensor:
        """``n`` iid draws of the block, shape ``(n, *shape)``."""
        if not self.is_concrete:
            free = sorted(str(s) for s in self.free_symbols)
            raise SpecError(f"cannot sample: depends on free symbols {', '.join(free)}; use "
                            "network.subs({...}) first", self.name)
        return self.law.sample_block(n, self.shape, generator=generator, dtype=dtype, device=device)

    @property
    def free_symbols(self) -> set:
        out = set(self.law.free_symbols)
        for s in self.shape:
            if isinstance(s, sp.Basic):
                out |= s.free_symbols
        return out

    def linear_cgf(self, h: torch.Tensor | None, t: float) -> torch.Tensor:
        r""":math:`\log E[e^{t(Wh)_i}]` (weight) or :math:`\log E[e^{t b_i}]` (bias) per output unit."""
        return self.law.block_linear_cgf(self.shape, h, t)

    def sympy_linear_cgf(self, h: sp.MatrixBase | None, t) -> sp.Matrix:
        r"""SymPy column of :math:`\log E[e^{t(Wh)_i}]` (weight, ``h`` a column) or
        :math:`\log E[e^{t b_i}]` (bias), for a block of concrete shape."""
        t = as_expr(t, "t")
        law = self.law
        n = self.shape[0]
        if not isinstance(n, int):
            raise SpecError("the symbolic normaliser needs a concrete layer width", self.name)
        if law.is_iid:
            if self.role == "bias":
                return sp.Matrix([law.cgf(t)] * n)
            total = sum((law.cgf(t * hj) for hj in h), sp.Integer(0))
            return sp.Matrix([total] * n)
        assert isinstance(law, Normal)
        mean = law.block_mean(self.shape)
        if self.role == "bias":
            cov = law.cov if law.cov is not None else sp.eye(n)
            return sp.Matrix([t * mean[i, 0] + t ** 2 * law.var * cov[i, i] / 2 for i in range(n)])
        m = self.shape[1]
        mean = mean if isinstance(mean, sp.MatrixBase) else mean * sp.ones(n, m)
        v = law.col_cov if law.col_cov is not None else sp.eye(m)
        u = law.row_cov if law.row_cov is not None else sp.eye(n)
        quad = (h.T * v * h)[0, 0]
        mh = mean * h
        return sp.Matrix([t * mh[i, 0] + t ** 2 * law.var * u[i, i] * quad / 2 for i in range(n)])


class Dense:
    r"""A fully connected layer :math:`h \mapsto \phi(W h + b)` with ``width`` output units.

    ``weight``: the law of :math:`W` (default :math:`N(0, 1/\mathrm{fan\_in})`).
    ``bias``: the law of :math:`b`, or ``None`` for no bias.
    ``activation``: a name (``erf, relu, tanh, cos, gauss, identity``) or an :class:`Activation`.
    """

    def __init__(self, width, activation="identity", weight: Law | None = None, bias: Law | None = None):
        self.width = _check_size(width, "width")
        self.activation: Activation = get_activation(activation)
        self.weight = None if weight is None else _check_law(weight, "weight")
        self.bias = None if bias is None else _check_law(bias, "bias")

    def __repr__(self):
        return (f"Dense({self.width}, {self.activation.name!r}, weight={self.weight!r}, "
                f"bias={self.bias!r})")

    def __eq__(self, other):
        return isinstance(other, Dense) and (self.width, self.activation, self.weight, self.bias) == (
            other.width, other.activation, other.weight, other.bias)

    def __hash__(self):
        return hash((self.width, self.activation, self.weight, self.bias))


class Network:
    """A fully connected network with random parameters (see the module docstring)."""

    def __init__(self, input_dim, layers: Sequence[Dense], name: str | None = None):
        self.input_dim = _check_size(input_dim, "input_dim")
        if isinstance(layers, Dense) or not isinstance(layers, Sequence) or len(layers) == 0:
            raise SpecError("layers must be a non-empty list of Dense layers", "layers")
        self.name = name
        self.layers: list[Dense] = []
        blocks: list[ParameterBlock] = []
        fan_in = self.input_dim
        for l, layer in enumerate(layers):
            where = f"layers[{l}]"
            if not isinstance(layer, Dense):
                raise SpecError(f"expected a Dense layer, got {type(layer).__name__}", where)
            weight = layer.weight if layer.weight is not None else Normal(0, sp.Integer(1) / fan_in)
            shape = (layer.width, fan_in)
            try:
                weight.check_block(shape, f"{where}.weight")
            except SpecError as err:
                raise err if err.where else err.at(f"{where}.weight")
            blocks.append(ParameterBlock(f"W{l}", l, "weight", shape, weight))
            if layer.bias is not None:
                try:
                    layer.bias.check_block((layer.width,), f"{where}.bias")
                except SpecError as err:
                    raise err if err.where else err.at(f"{where}.bias")
                blocks.append(ParameterBlock(f"b{l}", l, "bias", (layer.width,), layer.bias))
            self.layers.append(Dense(layer.width, layer.activation, weight, layer.bias))
            fan_in = layer.width
        self.blocks: dict[str, ParameterBlock] = {b.name: b for b in blocks}

    @classmethod
    def from_torch(cls, module, init=None, name: str | None = None) -> "Network":
        r"""The spec of a ``torch.nn`` model with the laws of its initialisation.

        ``module``: an ``nn.Sequential`` (nested ones are flattened) of ``nn.Linear`` layers, each followed by
        at most one of ``nn.ReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.SiLU`` (``nn.Identity`` is skipped);
        anything else is a SpecError naming the layer.  ``init``: ``None`` for torch's defaults
        (:math:`W, b \sim U[-1/\sqrt{\mathrm{fan\_in}}, 1/\sqrt{\mathrm{fan\_in}})`), an ``nn.init`` function
        or ``functools.partial`` of one for every Linear weight (biases keep their default), or a mapping
        ``{k: initialiser or {"weight": ..., "bias": ...}}`` over the Linear layers.  The reader and the
        laws are :mod:`symcorr.torch_models`."""
        arch = read_sequential(module, init)
        layers = [Dense(layer.out_features, layer.activation, weight=layer.weight, bias=layer.bias)
                  for layer in arch.layers]
        return cls(arch.input_dim, layers, name=name)

    # --- structure -----------------------------------------------------------------------------------
    @property
    def output_dim(self):
        return self.layers[-1].width

    @property
    def depth(self) -> int:
        """Number of layers (a single-hidden-layer net has depth 2)."""
        return len(self.layers)

    @property
    def widths(self) -> list:
        return [layer.width for layer in self.layers]

    def dimension(self, on) -> int | sp.Expr:
        """The dimension of the side a group acts on: ``input_dim`` (``on="input"``) or ``output_dim``."""
        return self.input_dim if Side.parse(on) is Side.INPUT else self.output_dim

    def fan_in(self, layer: int):
        return self.input_dim if layer == 0 else self.layers[layer - 1].width

    def weight(self, layer: int) -> ParameterBlock:
        return self.blocks[f"W{self._layer_index(layer)}"]

    def bias(self, layer: int) -> ParameterBlock | None:
        return self.blocks.get(f"b{self._layer_index(layer)}")

    def _layer_index(self, layer: int) -> int:
        n = len(self.layers)
        if not -n <= layer < n:
            raise SpecError(f"layer index {layer} out of range for a network with {n} layers")
        return layer % n

    @property
    def free_symbols(self) -> set:
        out: set = set()
        for s in (self.input_dim, *self.widths):
            if isinstance(s, sp.Basic):
                out |= s.free_symbols
        for b in self.blocks.values():
            out |= b.free_symbols
        return out

    @property
    def is_concrete(self) -> bool:
        return not self.free_symbols

    def subs(self, mapping: Mapping) -> "Network":
        """A new network with symbols replaced (keys may be symbols or their names)."""
        by_name = {str(s): s for s in self.free_symbols}
        resolved = {}
        for key, value in dict(mapping).items():
            sym = by_name.get(key) if isinstance(key, str) else key
            if sym is None:
                continue  # a value for a symbol this network does not use
            resolved[sym] = as_expr(value, str(key))

        def sub_law(law, where):
            try:
                return None if law is None else law.subs(resolved)
            except SpecError as err:
                raise err.at(where) from None

        layers = []
        for l, layer in enumerate(self.layers):
            width = _substituted_size(layer.width, resolved, f"layers[{l}].width")
            weight = sub_law(layer.weight, f"layers[{l}].weight")
            bias = sub_law(layer.bias, f"layers[{l}].bias")
            try:
                layers.append(Dense(width, layer.activation, weight, bias))
            except SpecError as err:
                raise err.at(f"layers[{l}]") from None
        return Network(_substituted_size(self.input_dim, resolved, "input_dim"), layers, name=self.name)

    def replace_layer(self, index: int, **changes) -> "Network":
        """A new network with layer ``index`` changed (``width``, ``activation``, ``weight``, ``bias``)."""
        index = self._layer_index(index)
        unknown = set(changes) - {"width", "activation", "weight", "bias"}
        if unknown:
            raise SpecError(f"unknown layer field(s) {sorted(unknown)}")
        layers = list(self.layers)
        old = layers[index]
        fields = {"width": old.width, "activation": old.activation, "weight": old.weight, "bias": old.bias}
        fields.update(changes)
        layers[index] = Dense(fields["width"], fields["activation"], fields["weight"], fields["bias"])
        return Network(self.input_dim, layers, name=self.name)

    def __eq__(self, other):
        return isinstance(other, Network) and self.input_dim == other.input_dim and self.layers == other.layers

    def __hash__(self):
        return hash((self.input_dim, tuple(self.layers)))

    def __repr__(self):
        layers = ", ".join(repr(layer) for layer in self.layers)
        return f"Network({self.input_dim}, [{layers}])"

    # --- description ---------------------------------------------------------------------------------
    def latex(self) -> str:
        r"""The network function, e.g. ``f(x) = W^{1} \phi(W^{0} x + b^{0}) + b^{1}``."""
        expr = "x"
        for l, layer in enumerate(self.layers):
            z = f"W^{{{l}}} {expr}" + (f" + b^{{{l}}}" if f"b{l}" in self.blocks else "")
            name = layer.activation.name
            expr = z if name == "identity" else rf"\phi_{{\mathrm{{{name}}}}}\left({z}\right)"
        return f"f(x) = {expr}"

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def markdown(self) -> str:
        """A Markdown table of the layers and the parameter laws."""
        lines = [f"Network: input dimension {self.input_dim}, output dimension {self.output_dim}", "",
                 f"$${self.latex()}$$", "",
                 "| block | shape | law |", "|---|---|---|"]
        for b in self.blocks.values():
            shape = " x ".join(str(s) for s in b.shape)
            lines.append(f"| ${b.name[0]}^{{{b.name[1:]}}}$ | {shape} | ${b.law.latex()}$ |")
        acts = ", ".join(f"layer {l}: {layer.activation.name}" for l, layer in enumerate(self.layers))
        lines += ["", f"Activations: {acts}."]
        return "\n".join(lines)

    # --- numeric frame -------------------------------------------------------------------------------
    def _require_concrete(self, what: str):
        if not self.is_concrete:
            free = ", ".join(sorted(str(s) for s in self.free_symbols))
            raise SpecError(f"{what} needs numbers, but the network still depends on {free}; "
                            "use network.subs({...}) first")

    def sample(self, n: int, generator: torch.Generator | None = None, seed: int | None = None,
               dtype=torch.float64, device=None) -> dict[str, torch.Tensor]:
        """Draw ``n`` networks: a dict ``name -> tensor of shape (n, *block.shape)``.

        Pass either a ``torch.Generator`` or an integer ``seed`` (never the global RNG).
        """
        self._require_concrete("sampling")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise SpecError(f"number of networks must be a positive integer, got {n!r}")
        if generator is None:
            if seed is None:
                raise SpecError("pass a torch.Generator or an integer seed: symcorr never uses the "
                                "global RNG")
            generator = make_generator(seed, device)
        return {name: block.sample(n, generator=generator, dtype=dtype) for name, block in self.blocks.items()}

    def check_parameters(self, params: Mapping[str, torch.Tensor]) -> int:
        """Validate a parameter dict; returns the ensemble size."""
        missing = set(self.blocks) - set(params)
        extra = set(params) - set(self.blocks)
        if missing or extra:
            raise SpecError(f"parameters do not match the network: missing {sorted(missing)}, "
                            f"unexpected {sorted(extra)}")
        sizes = set()
        for name, block in self.blocks.items():
            t = params[name]
            want = tuple(int(s) for s in block.shape)
            if t.ndim != len(want) + 1 or tuple(t.shape[1:]) != want:
                raise SpecError(f"expected shape (n, {', '.join(map(str, want))}), got {tuple(t.shape)}", name)
            sizes.add(t.shape[0])
        if len(sizes) != 1:
            raise SpecError(f"parameter blocks have different ensemble sizes {sorted(sizes)}")
        return sizes.pop()

    def _as_inputs(self, x, dtype, device) -> torch.Tensor:
        x = torch.as_tensor(x, dtype=dtype, device=device)
        d = int(self.input_dim)
        if x.ndim == 1:
            x = x.reshape(1, -1) if x.shape[0] == d else x.reshape(-1, 1)
        if x.ndim != 2 or x.shape[-1] != d:
            raise SpecError(f"inputs must have shape (points, {d}), got {tuple(x.shape)}", "x")
        if not torch.isfinite(x).all():
            raise SpecError("inputs contain NaN or infinite values", "x")
        return x

    def forward(self, params: Mapping[str, torch.Tensor], x, return_preactivations: bool = False):
        """Evaluate the ensemble: ``f[m, p, a] = f_{theta_m, a}(x_p)``, shape ``(n, points, d_out)``.

        ``x`` has shape ``(points, input_dim)`` (a 1-D array is one point, or points of a 1-D input).
        With ``return_preactivations`` also the list of pre-activations ``z^(l)``.  Vectorised over the
        ensemble: no loop over networks.  A ``gauss`` layer computes its log-normaliser from the layer
        laws and evaluates :math:`\\exp(z - \\tfrac12\\log E[e^{2z}])` in one exponential.
        """
        self._require_concrete("forward")
        self.check_parameters(params)
        first = params["W0"]
        h = self._as_inputs(x, first.dtype, first.device)
        pre = []
        for l, layer in enumerate(self.layers):
            w = params[f"W{l}"]
            z = torch.matmul(h, w.transpose(-1, -2))  # (P, in) @ (n, in, out) -> (n, P, out)
            b = params.get(f"b{l}")
            if b is not None:
                z = z + b[:, None, :]
            pre.append(z)
            if layer.activation.normalised:
                log_norm = self.log_normaliser(l, h)
                if not torch.isfinite(log_norm).all():
                    raise SpecError("the gauss activation needs E[exp(2z)] < infinity, which fails for this "
                                    "law at these inputs", f"layers[{l}]")
                h = layer.activation.torch(z, log_norm.to(z.dtype))
            else:
                h = layer.activation.torch(z)
        if not torch.isfinite(h).all():
            raise SpecError("network output contains NaN or infinite values (overflow); check the "
                            "parameter scales and inputs")
        return (h, pre) if return_preactivations else h

    def log_normaliser(self, layer: int, h: torch.Tensor) -> torch.Tensor:
        r""":math:`\tfrac12 \log E[e^{2 z_i}\mid h]` for layer ``layer`` given its input ``h``
        (shape ``(..., fan_in)`` -> ``(..., width)``), from the cumulant generating functions of the
        layer laws: :math:`\tfrac12[\log E e^{2(Wh)_i} + \log E e^{2 b_i}]`."""
        total = self.weight(layer).linear_cgf(h, 2.0)
        bias = self.bias(layer)
        if bias is not None:
            total = total + bias.linear_cgf(None, 2.0).to(total.dtype).to(total.device)
        return 0.5 * total

    # --- symbolic frame ------------------------------------------------------------------------------
    def symbolic_parameters(self) -> dict[str, sp.MatrixSymbol]:
        """``name -> MatrixSymbol`` (sizes may be symbols)."""
        return {name: block.symbol() for name, block in self.blocks.items()}

    def symbolic_forward(self, x, params: Mapping | None = None) -> sp.Matrix:
        """The network output as an explicit SymPy column vector for a concrete architecture.

        ``x`` is a list/column of SymPy expressions (length ``input_dim``); ``params`` maps block names
        to explicit SymPy matrices (default: the entries of :meth:`symbolic_parameters`).
        """
        dims = [self.input_dim, *self.widths]
        if not all(isinstance(d, int) for d in dims):
            raise SpecError("symbolic_forward needs concrete sizes; use subs() or the correlator "
                            "machinery of symcorr.symbolic for symbolic widths")
        h = sp.Matrix(x) if not isinstance(x, sp.MatrixBase) else sp.Matrix(x)
        if h.shape != (self.input_dim, 1):
            h = h.reshape(self.input_dim, 1) if len(h) == self.input_dim else h
        if h.shape != (self.input_dim, 1):
            raise SpecError(f"x must have {self.input_dim} entries, got shape {h.shape}", "x")
        syms = self.symbolic_parameters()
        params = dict(params or {})
        for l, layer in enumerate(self.layers):
            w = sp.Matrix(params.get(f"W{l}", syms[f"W{l}"].as_explicit()))
            z = w * h
            if f"b{l}" in self.blocks:
                z = z + sp.Matrix(params.get(f"b{l}", syms[f"b{l}"].as_explicit()))
            if layer.activation.normalised:
                cgf = self.weight(l).sympy_linear_cgf(h, 2)
                if self.bias(l) is not None:
                    cgf = cgf + self.bias(l).sympy_linear_cgf(None, 2)
                h = sp.Matrix([layer.activation.sympy(z[i], cgf[i] / 2) for i in range(len(z))])
            else:
                h = z.applyfunc(layer.activation.sympy)
        return h


def numeric_network(network: Network, values: Mapping | None = None) -> Network:
    """``network`` with ``values`` substituted, checked to be fully numeric."""
    net = network.subs(values or {})
    net._require_concrete("this operation")
    for block in net.blocks.values():
        for k, v in block.law._params().items():
            if isinstance(v, sp.Basic) and not isinstance(v, sp.MatrixBase):
                numeric_value(v, f"{block.name}.{k}")
    return net
