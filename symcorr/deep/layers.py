r"""A network read as a stack of layer recursions: the laws each deep-network recursion needs, checked once.

A :class:`~symcorr.spec.Network` with layers :math:`l = 0..L`,

.. math:: z^{(0)} = W^0 x + b^0,\qquad z^{(l)} = W^l\,\phi_{l-1}(z^{(l-1)}) + b^l,\qquad
          f(x) = \phi_L(z^{(L)}),

has, for every layer, a fan-in :math:`n_l` (:math:`n_0 = d_{in}`), a width :math:`n_{l+1}`, a weight law and
a bias law.  The infinite-width and 1/N recursions use, per layer,

* the **rescaled weight variance** :math:`C_W^{(l)} = n_l\,\mathrm{Var}(W^l_{ij})` (the spec's variance
  times the fan-in: ``var = sigma_w**2 / N`` gives :math:`C_W = \sigma_w^2`); the infinite-width limit takes
  its limit as the widths grow, which must be finite and width-free;
* the **bias variance** :math:`C_b^{(l)} = \mathrm{Var}(b^l_i)` (0 without a bias) and the means.

What each layer may be (checked by :meth:`LayerStack.from_network`, with errors naming the field):

* the **first layer** :math:`l = 0`: any law the single-neuron machinery of :mod:`symcorr.symbolic` reads
  (its pre-activations need not be Gaussian: Cos-net's uniform phase, Laplace weights); Gaussian with a
  scalar mean and a column covariance :math:`V` gives :math:`k_0(x,y) = C_b + \mathrm{Var}(W)\,x^TVy`;
* **hidden layers** :math:`0 < l < L`: iid weights with zero mean (Gaussian, or any law with finite
  variance for the infinite-width limit, where the central limit theorem makes the pre-activations
  Gaussian) and Gaussian or no biases with zero mean -- at infinite width their pre-activations are then
  a centred Gaussian process, layer by layer;
* the **read-out** :math:`l = L`: iid columns; a scalar or per-row weight mean and a bias mean are allowed
  (they give the correlators a mean :math:`G^{(1)}`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..activations import Activation
from ..distributions import Law, Normal
from ..errors import SpecError
from ..spec import Network

__all__ = ["LayerRecursion", "LayerStack"]


def _zero(expr) -> bool:
    expr = sp.sympify(expr)
    return expr == 0 or expr.is_zero is True


@dataclass(frozen=True)
class LayerRecursion:
    r"""The laws of one layer :math:`l` as the deep recursions read them (see the module docstring)."""

    index: int
    fan_in: object            # n_l: int or a positive-integer SymPy expression
    width: object             # n_{l+1}
    activation: Activation    # phi_l, applied to this layer's pre-activation
    weight: Law
    bias: Law | None

    @property
    def name(self) -> str:
        return f"layers[{self.index}]"

    @property
    def weight_var(self) -> sp.Expr:
        r""":math:`\mathrm{Var}(W^l_{ij})` (the spec's ``var``; iid entries)."""
        law = self.weight
        return law.var if isinstance(law, Normal) else law.variance

    @property
    def weight_mean(self):
        """The weight mean: a scalar, or for a structured Normal its ``loc`` (per-row vector / matrix)."""
        law = self.weight
        return law.loc if isinstance(law, Normal) else law.mean

    @property
    def c_w(self) -> sp.Expr:
        r""":math:`C_W^{(l)} = n_l\,\mathrm{Var}(W^l_{ij})`."""
        return sp.simplify(self.fan_in * self.weight_var)

    @property
    def c_b(self) -> sp.Expr:
        r""":math:`C_b^{(l)} = \mathrm{Var}(b^l_i)` (0 without a bias)."""
        if self.bias is None:
            return sp.Integer(0)
        return self.bias.var if isinstance(self.bias, Normal) else self.bias.variance

    @property
    def bias_mean(self):
        if self.bias is None:
            return sp.Integer(0)
        return self.bias.loc if isinstance(self.bias, Normal) else self.bias.mean

    @property
    def has_bias(self) -> bool:
        return self.bias is not None

    @property
    def gaussian(self) -> bool:
        """Gaussian weights and a Gaussian (or no) bias."""
        return isinstance(self.weight, Normal) and (self.bias is None or isinstance(self.bias, Normal))

    def limit_c_w(self, widths) -> sp.Expr:
        r""":math:`\lim C_W^{(l)}` as the symbolic ``widths`` grow (a SpecError if it is infinite or still
        depends on a width: the variance must scale like ``1/fan_in``)."""
        value = self.c_w
        for w in widths:
            if isinstance(w, sp.Symbol) and value.has(w):
                value = sp.limit(value, w, sp.oo)
        if value.has(sp.oo, -sp.oo, sp.zoo, sp.nan) or any(isinstance(w, sp.Symbol) and value.has(w) for w in widths):
            raise SpecError(f"the infinite-width limit needs Var(W^{self.index}) to scale like 1/fan_in; here "
                            f"fan_in * var = {self.c_w} has no finite width-free limit",
                            f"{self.name}.weight.var")
        return value


class LayerStack:
    r"""A network as a list of :class:`LayerRecursion` (``layers[0]`` the first layer, ``layers[-1]`` the
    read-out), validated for the deep recursions (module docstring)."""

    def __init__(self, network: Network, layers: tuple[LayerRecursion, ...]):
        self.network = network
        self.layers = layers

    @classmethod
    def from_network(cls, network: Network, *, gaussian_hidden: bool = False) -> "LayerStack":
        """Read and check ``network``; ``gaussian_hidden=True`` also requires Gaussian hidden-layer weights
        (the finite-width 1/N recursion: non-Gaussian weights add fourth-cumulant terms it does not have)."""
        if not isinstance(network, Network):
            raise SpecError(f"expected a Network, got {type(network).__name__}", "network")
        depth = network.depth
        out = []
        for l, layer in enumerate(network.layers):
            block = network.weight(l)
            bias = network.bias(l)
            rec = LayerRecursion(l, network.fan_in(l), layer.width, layer.activation, block.law,
                                 None if bias is None else bias.law)
            if 0 < l < depth - 1:
                cls._check_hidden(rec, gaussian_hidden)
            elif l == depth - 1 and l > 0:
                cls._check_readout(rec)
            out.append(rec)
        for l, rec in enumerate(out[:-1]):
            if rec.activation.normalised and l > 0:
                raise SpecError("a gauss (normalised exponential) layer after the first one normalises with the "
                                "random empirical metric; the deep recursions support it only in the first layer",
                                f"{rec.name}.activation")
        return cls(network, tuple(out))

    @staticmethod
    def _check_hidden(rec: LayerRecursion, gaussian: bool) -> None:
        law = rec.weight
        if isinstance(law, Normal) and not law.is_iid:
            raise SpecError("a hidden layer's weights must be iid (no row/column covariance or structured mean) "
                            "for the deep recursions", f"{rec.name}.weight")
        if not _zero(rec.weight_mean):
            raise SpecError(f"a hidden layer's weights must have mean 0 for the deep recursions, got "
                            f"{rec.weight_mean}", f"{rec.name}.weight.mean")
        if gaussian and not isinstance(law, Normal):
            raise SpecError(f"the finite-width (1/N) recursion needs Gaussian hidden-layer weights, got "
                            f"{law!r} (its fourth cumulant would add terms)", f"{rec.name}.weight")
        if rec.bias is not None:
            if not isinstance(rec.bias, Normal) or not rec.bias.is_iid:
                raise SpecError(f"a hidden layer's bias must be an iid Normal (or absent) for its pre-activations "
                                f"to be Gaussian at infinite width, got {rec.bias!r}", f"{rec.name}.bias")
            if not _zero(rec.bias.loc):
                raise SpecError(f"a hidden layer's bias must have mean 0 for the deep recursions, got "
                                f"{rec.bias.loc}", f"{rec.name}.bias.mean")

    @staticmethod
    def _check_readout(rec: LayerRecursion) -> None:
        law = rec.weight
        if isinstance(law, Normal) and not law.is_iid:
            if law.col_cov is not None or law.row_cov is not None:
                raise SpecError("the read-out weights must have iid columns (no row/column covariance) for the "
                                "deep recursions", f"{rec.name}.weight")
            if isinstance(law.loc, sp.MatrixBase) and law.loc.cols != 1:
                raise SpecError("the read-out weight mean must be a scalar or one value per row",
                                f"{rec.name}.weight.mean")
        if rec.bias is not None and isinstance(rec.bias, Normal) and rec.bias.cov is not None:
            raise SpecError("the read-out bias must have iid entries for the deep recursions", f"{rec.name}.bias")

    # --- structure -----------------------------------------------------------------------------------
    @property
    def depth(self) -> int:
        return len(self.layers)

    @property
    def first(self) -> LayerRecursion:
        return self.layers[0]

    @property
    def readout(self) -> LayerRecursion:
        return self.layers[-1]

    @property
    def hidden_widths(self) -> list:
        """:math:`n_1, \\dots, n_L`: the widths of the hidden layers (the fan-ins of layers 1..L)."""
        return [rec.fan_in for rec in self.layers[1:]]

    @property
    def width_symbols(self) -> list[sp.Symbol]:
        out: list[sp.Symbol] = []
        for w in self.hidden_widths:
            for s in sorted(sp.sympify(w).free_symbols, key=str):
                if s not in out:
                    out.append(s)
        return out

    def __repr__(self):
        return f"LayerStack(depth={self.depth}, widths={self.hidden_widths})"
