r"""The two-point function of a network of any depth as the kernel sees it: its infinite-width limit
(symbolic and on grids of pairs) and, for deep networks, its value at the network's widths through order
:math:`1/n` (on grids of pairs).

**Infinite width** (:class:`InfiniteWidthKernel`):

.. math:: \lim G^{(2)}_{ab}(x, y) = \delta_{ab}\,K_f(x, y) + E[b^L_a]\,E[b^L_b],

where :math:`K_f` is the kernel of the read-out's output: the last metric :math:`K^{(L)}` of
:mod:`symcorr.deep.nngp` for a linear read-out, :math:`E[\phi_L(u)\phi_L(v)]` at that metric otherwise.  A
read-out *bias* mean only adds the constant :math:`\mu_a\mu_b`; a read-out *weight* mean is refused (with fixed
means :math:`G^{(2)}` grows like the width; with means :math:`\sim 1/N` the hidden units' :math:`O(1/N)`
correlations of a deep network enter at leading order -- for one hidden layer the exact correlator
:func:`symcorr.symbolic.correlator` has both).

**Finite width, two or more hidden layers** (:class:`FiniteWidthKernel`): with a linear read-out
:math:`f_a = \sum_j W^L_{aj}\sigma_j + b^L_a` whose weights are iid with mean zero and independent of
everything else,

.. math:: G^{(2)}_{ab}(x, y) = \delta_{ab}\,E[\hat G^{(L)}(x, y)] + E[b^L_a]\,E[b^L_b]
          = \delta_{ab}\Big(K^{(L)}(x, y) + \sum_s\frac{\delta G_s(x, y)}{n_s}\Big) + \mu_a\mu_b + O(1/n^2)

exactly in its first equality (only the read-out's first two moments enter a two-point function, so a
non-Gaussian read-out weight or bias law is replaced by the centred Gaussian of the same variance, and the
bias mean is added back), and to order :math:`1/n` in the second: the 1/n shift of the metric
:math:`\delta G_s` of :func:`symcorr.deep.finite_width.finite_width_gram` (one term per hidden layer
:math:`s` of fan-in :math:`n_s`; Gaussian hidden weights, linear read-out).  The error estimates are the
numerical ones of that truncated series (quadrature and rounding); the :math:`O(1/n^2)` remainder is not
estimated.  For one hidden layer :meth:`symcorr.symbolic.Kernel.gram` needs neither: its two-point function
is exact at every width.

Both are what :class:`symcorr.symbolic.Kernel` uses for the networks its exact single-hidden-layer rules do not
cover: this module registers them with :mod:`symcorr.symbolic.two_point` on import (it sits beside the
symbolic layer and imports its modules, so the kernel cannot import it).
"""

from __future__ import annotations

import sympy as sp

from ..distributions import Normal
from ..errors import SpecError
from ..spec import Network
from ..symbolic.inputs import as_points
from ..symbolic.two_point import register_finite_width_kernel, register_infinite_width_kernel
# finite_width is bound as a module object: symcorr.symbolic imports it for its registration, so either may
# be half-initialised when the other is imported first
from . import finite_width as _finite_width
from .gram import GramValues, InfiniteWidthGram
from .layers import LayerRecursion, LayerStack
from .nngp import NNGP

__all__ = ["FiniteWidthKernel", "InfiniteWidthKernel", "output_indices"]


def output_indices(network: Network, indices) -> tuple:
    """``(a, b)``: integers in ``[0, d_out)`` or SymPy symbols; a SpecError naming ``indices`` otherwise."""
    try:
        a, b = indices
    except (TypeError, ValueError):
        raise SpecError(f"expected two output indices (a, b), got {indices!r}", "indices") from None
    d = network.output_dim
    out = []
    for name, v in (("a", a), ("b", b)):
        if isinstance(v, sp.Symbol):
            out.append(v)
            continue
        if isinstance(v, bool) or not isinstance(v, (int, sp.Integer)) or v < 0 or (isinstance(d, int) and v >= d):
            raise SpecError(f"output index must be an integer in [0, {d}) or a symbol, got {v!r}", f"indices.{name}")
        out.append(int(v))
    return tuple(out)


def delta(a, b) -> sp.Expr:
    """:math:`\\delta_{ab}` (a number for integer indices)."""
    return sp.KroneckerDelta(a, b)


def _zero_mean(mean) -> bool:
    return all(sp.sympify(v).is_zero for v in (mean if isinstance(mean, sp.MatrixBase) else [mean]))


class _ReadoutMeans:
    r"""The read-out bias mean :math:`\mu` and the constant :math:`\mu_a\mu_b` it adds to :math:`G^{(2)}_{ab}`;
    a read-out weight mean refused (``why``: what has no value with one)."""

    def __init__(self, readout: LayerRecursion, why: str):
        if not _zero_mean(readout.weight_mean):
            raise SpecError(why, f"{readout.name}.weight.mean")
        self._bias_mean = readout.bias_mean

    def mean(self, a) -> sp.Expr:
        mu = self._bias_mean
        if isinstance(mu, sp.MatrixBase):
            if isinstance(a, sp.Symbol):
                raise SpecError("a per-output read-out bias mean needs integer output indices", "indices")
            return mu[a]
        return sp.sympify(mu)

    def offset(self, a, b) -> sp.Expr:
        return self.mean(a) * self.mean(b)

    def numeric_offset(self, a, b) -> float:
        value = sp.sympify(self.offset(a, b))
        if value.free_symbols:
            raise SpecError("the read-out bias mean still depends on symbols; substitute values first", "network")
        return float(value)


def _numeric_indices(network: Network, indices) -> tuple[int, int]:
    a, b = output_indices(network, indices)
    if isinstance(a, sp.Symbol) or isinstance(b, sp.Symbol):
        raise SpecError("numeric kernels need integer output indices", "indices")
    return a, b


class InfiniteWidthKernel:
    r""":math:`\lim G^{(2)}_{ab}` of a network of any depth (module docstring): ``expr(x, y, indices)`` (SymPy,
    symbolic points and input dimension allowed) and ``gram(X, Y=None, indices)`` (:class:`GramValues` on the
    grid of pairs)."""

    def __init__(self, network: Network):
        self.network = network
        self.nngp = NNGP(network)
        self._means = _ReadoutMeans(
            self.nngp.stack.readout,
            "the infinite-width two-point function with a read-out weight mean: with a fixed mean it grows like "
            "the width, and with a mean ~ 1/N a deep network's hidden units are correlated at the same order "
            "(one hidden layer with a symbolic width: the exact correlator's gp_limit)")
        self._gram: InfiniteWidthGram | None = None

    def __repr__(self):
        return f"InfiniteWidthKernel({self.network!r})"

    def expr(self, x, y, indices=(0, 0)) -> sp.Expr:
        r""":math:`\lim G^{(2)}_{ab}(x, y)` as a SymPy expression (nested closed forms through the layers)."""
        a, b = output_indices(self.network, indices)
        pts = as_points([x, y], self.network.input_dim)
        same = pts[0] == pts[1]
        k = self.nngp.output_kernel(pts[:1] if same else pts)
        value = k[0, 0] if same else k[0, 1]
        return delta(a, b) * value + self._means.offset(a, b)

    def gram(self, x, y=None, indices=(0, 0)) -> GramValues:
        r""":math:`\lim G^{(2)}_{ab}(x_i, y_j)` on the grid, ``(n, m)`` values and errors."""
        a, b = _numeric_indices(self.network, indices)
        if self._gram is None:
            self._gram = InfiniteWidthGram(self.network)
        values, errors = self._gram.evaluate(x, y, output=True).nngp
        offset = self._means.numeric_offset(a, b)
        scale = float(delta(a, b))
        return GramValues((scale * values + offset, scale * errors))


def _centred_readout(network: Network, readout: LayerRecursion) -> Network:
    """The network with its read-out weight and bias laws replaced by centred Gaussians of the same
    variances (the same two-point function up to the bias mean's :math:`\\mu_a\\mu_b`: module docstring)."""
    index = readout.index
    changes = {}
    if not isinstance(readout.weight, Normal):
        changes["weight"] = Normal(0, readout.weight_var)
    bias = readout.bias
    if bias is not None and (not isinstance(bias, Normal) or not _zero_mean(bias.loc)):
        changes["bias"] = Normal(0, readout.c_b)
    return network.replace_layer(index, **changes) if changes else network


class FiniteWidthKernel:
    r""":math:`G^{(2)}_{ab}` of a network with two or more hidden layers at its widths, through order
    :math:`1/n` (module docstring): ``gram(X, Y=None, indices)`` (:class:`GramValues` on the grid of pairs)."""

    def __init__(self, network: Network):
        if not isinstance(network, Network):
            raise SpecError(f"expected a Network, got {type(network).__name__}", "network")
        self.network = network
        stack = LayerStack.from_network(network)
        if stack.depth < 3:
            raise SpecError("the 1/n-corrected kernel is for two or more hidden layers; one hidden layer has the "
                            "exact kernel (symcorr.symbolic.kernel(net).gram)", "layers")
        self._means = _ReadoutMeans(
            stack.readout,
            "no finite-width two-point function with a read-out weight mean: the 1/n recursion needs a zero-mean "
            "read-out (with a mean the hidden units' correlations enter; the infinite-width limit is refused too)")
        try:
            self.centred = _centred_readout(network, stack.readout)
            _finite_width.FiniteWidth(self.centred)  # checks the laws the recursion needs, once
        except SpecError as err:
            raise SpecError(f"no finite-width two-point function for this network ({err.reason}); "
                            "gram(..., limit=True) gives the infinite-width kernel", err.where) from None

    def __repr__(self):
        return f"FiniteWidthKernel({self.network!r})"

    def gram(self, x, y=None, indices=(0, 0)) -> GramValues:
        r""":math:`G^{(2)}_{ab}(x_i, y_j)` through order :math:`1/n` on the grid, ``(n, m)`` values and errors
        (the numerical errors of the truncated series; the :math:`O(1/n^2)` remainder is not in them)."""
        a, b = _numeric_indices(self.network, indices)
        if not self.network.is_concrete:
            free = sorted(str(s) for s in self.network.free_symbols)
            raise SpecError(f"numeric values need a concrete network (widths included); it depends on {free}: use "
                            "network.subs({...}), or symcorr.deep.finite_width_gram(net, X, widths=...)", "network")
        values, errors = _finite_width.finite_width_gram(self.centred, x, y)
        scale = float(delta(a, b))
        return GramValues((scale * values + self._means.numeric_offset(a, b), scale * errors))


register_infinite_width_kernel(InfiniteWidthKernel)
register_finite_width_kernel(FiniteWidthKernel)
