r"""The infinite-width two-point function of a network of any depth: symbolic and on grids of pairs.

.. math:: \lim G^{(2)}_{ab}(x, y) = \delta_{ab}\,K_f(x, y) + E[b^L_a]\,E[b^L_b],

where :math:`K_f` is the kernel of the read-out's output: the last metric :math:`K^{(L)}` of
:mod:`symcorr.deep.nngp` for a linear read-out, :math:`E[\phi_L(u)\phi_L(v)]` at that metric otherwise.  A
read-out *bias* mean only adds the constant :math:`\mu_a\mu_b`; a read-out *weight* mean is refused (with fixed
means :math:`G^{(2)}` grows like the width; with means :math:`\sim 1/N` the hidden units' :math:`O(1/N)`
correlations of a deep network enter at leading order -- for one hidden layer the exact correlator
:func:`symcorr.symbolic.correlator` has both).

:class:`InfiniteWidthKernel` is what :meth:`symcorr.symbolic.Kernel.gp_limit` and ``Kernel.gram(...,
limit=True)`` use for networks the exact single-hidden-layer rules do not cover (deeper ones, concrete
widths): this module registers it with :mod:`symcorr.symbolic.two_point` on import (it sits beside the
symbolic layer and imports its modules, so the kernel cannot import it).
"""

from __future__ import annotations

import sympy as sp

from ..errors import SpecError
from ..spec import Network
from ..symbolic.inputs import as_points
from ..symbolic.two_point import register_infinite_width_kernel
from .gram import GramValues, InfiniteWidthGram
from .nngp import NNGP

__all__ = ["InfiniteWidthKernel", "output_indices"]


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


class InfiniteWidthKernel:
    r""":math:`\lim G^{(2)}_{ab}` of a network of any depth (module docstring): ``expr(x, y, indices)`` (SymPy,
    symbolic points and input dimension allowed) and ``gram(X, Y=None, indices)`` (:class:`GramValues` on the
    grid of pairs)."""

    def __init__(self, network: Network):
        self.network = network
        self.nngp = NNGP(network)
        readout = self.nngp.stack.readout
        mean = readout.weight_mean
        if not all(sp.sympify(v).is_zero for v in (mean if isinstance(mean, sp.MatrixBase) else [mean])):
            raise SpecError("the infinite-width two-point function with a read-out weight mean: with a fixed mean "
                            "it grows like the width, and with a mean ~ 1/N a deep network's hidden units are "
                            "correlated at the same order (one hidden layer with a symbolic width: the exact "
                            "correlator's gp_limit)", f"{readout.name}.weight.mean")
        self._bias_mean = readout.bias_mean
        self._gram: InfiniteWidthGram | None = None

    def __repr__(self):
        return f"InfiniteWidthKernel({self.network!r})"

    def _mean(self, a) -> sp.Expr:
        mu = self._bias_mean
        if isinstance(mu, sp.MatrixBase):
            if isinstance(a, sp.Symbol):
                raise SpecError("a per-output read-out bias mean needs integer output indices", "indices")
            return mu[a]
        return sp.sympify(mu)

    def _offset(self, a, b) -> sp.Expr:
        return self._mean(a) * self._mean(b)

    def expr(self, x, y, indices=(0, 0)) -> sp.Expr:
        r""":math:`\lim G^{(2)}_{ab}(x, y)` as a SymPy expression (nested closed forms through the layers)."""
        a, b = output_indices(self.network, indices)
        pts = as_points([x, y], self.network.input_dim)
        same = pts[0] == pts[1]
        k = self.nngp.output_kernel(pts[:1] if same else pts)
        value = k[0, 0] if same else k[0, 1]
        return delta(a, b) * value + self._offset(a, b)

    def gram(self, x, y=None, indices=(0, 0)) -> GramValues:
        r""":math:`\lim G^{(2)}_{ab}(x_i, y_j)` on the grid, ``(n, m)`` values and errors."""
        a, b = output_indices(self.network, indices)
        if isinstance(a, sp.Symbol) or isinstance(b, sp.Symbol):
            raise SpecError("numeric kernels need integer output indices", "indices")
        if self._gram is None:
            self._gram = InfiniteWidthGram(self.network)
        values, errors = self._gram.evaluate(x, y, output=True).nngp
        scale = float(delta(a, b))
        offset = float(self._offset(a, b)) if not sp.sympify(self._offset(a, b)).free_symbols else None
        if offset is None:
            raise SpecError("the read-out bias mean still depends on symbols; substitute values first", "network")
        return GramValues((scale * values + offset, scale * errors))


register_infinite_width_kernel(InfiniteWidthKernel)
