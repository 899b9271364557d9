r"""The two-point function (kernel) of a network: a view of its correlator of order 2, and its
infinite-width limit for any depth.

.. math:: K(x, x') = G^{(2)}_{aa}(x, x') = E[f_a(x) f_a(x')],

at any width; for an iid zero-mean read-out :math:`G^{(2)}_{ab} = \delta_{ab}K`.  For a single
hidden layer :math:`K = \sigma_{b_1}^2 + N\,\mathrm{Var}(W^1)\,k_{12}` with the single-neuron kernel
:math:`k_{12} = E[\phi(z(x))\phi(z(x'))]` from the table of :mod:`symcorr.symbolic.kernels` (exact at every
width).  The infinite-width limit of deeper networks (and of single-hidden-layer ones with a concrete width)
is the NNGP recursion of :mod:`symcorr.deep` (:math:`K^{(l+1)} = C_b + C_W E[\phi\phi']`, see docs/symbolic.md),
and the finite-width two-point function of two or more hidden layers is known through order :math:`1/n`
(:mod:`symcorr.deep.finite_width`: :math:`K^{(L)} + \sum_s \delta G_s/n_s`); ``symcorr.deep`` imports the
symbolic modules, so it registers both kernels here (:func:`register_infinite_width_kernel`,
:func:`register_finite_width_kernel`) instead of being imported, as the correlator registers its rules with
:mod:`symcorr.symbolic.integral`.

Numbers on grids of pairs: :meth:`Kernel.gram` (generated torch code, no loop over pairs).  What
``gram(X, Y, limit=False)`` returns, by depth:

=========================  ======================================================================================
network                    ``limit=False`` (``limit=True``: the infinite-width kernel, any depth)
=========================  ======================================================================================
one hidden layer,          exact at every width, and equal to the ``limit=True`` values: the neurons are iid, so
zero-mean read-out         :math:`G^{(2)}_{ab} = \delta_{ab}(\sigma_{b_1}^2 + N\mathrm{Var}(W^1)k_{12}) + \mu_a\mu_b`
weights                    (:math:`\mu`: the read-out bias mean) is the recursion's first layer at
                           :math:`C_W = N\mathrm{Var}(W^1)`
one hidden layer,          exact: the compiled exact expression, which has the
read-out weight mean       :math:`N(N-1)\mu_a\mu_b E[\phi(z)]E[\phi(z')]` term (``limit=True`` refuses it: it grows
                           with the width)
two or more hidden layers  :math:`\delta_{ab}(K^{(L)} + \sum_s\delta G_s/n_s) + \mu_a\mu_b`, the two-point function
                           through order :math:`1/n` (Gaussian hidden weights, linear zero-mean-weight read-out;
                           :class:`symcorr.deep.kernel.FiniteWidthKernel`); its errors are numerical, the
                           :math:`O(1/n^2)` remainder is not estimated; other networks: a SpecError
=========================  ======================================================================================
"""

from __future__ import annotations

from typing import Callable

import sympy as sp
import torch

from ..errors import SpecError
from ..gaussian.table import torch_function
from .correlator import correlator
from .integral import GaussianExpectation, ParameterIntegral

__all__ = ["Kernel", "kernel", "register_finite_width_kernel", "register_infinite_width_kernel"]

#: ``factory(network)`` -> an object with ``expr(x, y, indices)`` and ``gram(X, Y, indices)`` giving the
#: infinite-width two-point function of a network of any depth (``symcorr.deep.kernel`` registers it)
_INFINITE_WIDTH: list[Callable] = []


def register_infinite_width_kernel(factory: Callable) -> None:
    """Make :meth:`Kernel.gp_limit` and ``Kernel.gram(..., limit=True)`` use ``factory`` for the networks the
    exact single-hidden-layer rules do not take to the limit (see ``_INFINITE_WIDTH``)."""
    if factory not in _INFINITE_WIDTH:
        _INFINITE_WIDTH.append(factory)


#: ``factory(network)`` -> an object with ``gram(X, Y, indices)`` giving the two-point function of a network
#: with two or more hidden layers at its widths through order 1/n (``symcorr.deep.kernel`` registers it)
_FINITE_WIDTH: list[Callable] = []


def register_finite_width_kernel(factory: Callable) -> None:
    """Make ``Kernel.gram(..., limit=False)`` use ``factory`` for networks with two or more hidden layers
    (see ``_FINITE_WIDTH``)."""
    if factory not in _FINITE_WIDTH:
        _FINITE_WIDTH.append(factory)


def _floor(values: torch.Tensor) -> torch.Tensor:
    return 64 * torch.finfo(torch.float64).eps * values.abs().clamp_min(1.0)


class Kernel:
    r"""The two-point function :math:`K(x,x') = G^{(2)}_{aa}(x,x')` of a network (any width;
    for an iid zero-mean read-out :math:`G^{(2)}_{ab} = \delta_{ab}K`).

    * ``K(x, xp)``: the exact SymPy expression at the network's width; ``K(x, xp, indices=(a, b))`` the
      component :math:`G^{(2)}_{ab}`; ``K.evaluate(x, xp)`` a float; ``K.latex()`` the formula;
    * ``K.gp_limit(x, xp, indices=(0, 0))``: the infinite-width limit, any depth (single hidden layer with a
      symbolic width: the exact correlator's :math:`N\to\infty` limit; otherwise the NNGP recursion);
    * ``K.gram(X, Y=None, limit=False, indices=(0, 0))``: the ``(n, m)`` float64 grid of values at all pairs
      (``limit=True``: infinite width, any depth; ``limit=False``: at the network's widths -- exact for a
      single hidden layer, through order 1/n for deeper ones; the module docstring has the table),
      ``K.gram_with_error(...)`` with the absolute error estimates.
    """

    def __init__(self, network):
        self.network = network
        self._g2 = correlator(network, 2)
        self._limit = None
        self._finite = None

    def __call__(self, x, xp, indices=(0, 0), width=None) -> sp.Expr:
        return self._g2.expr([x, xp], indices, width=width)

    def _infinite_width(self):
        if self._limit is None:
            if not _INFINITE_WIDTH:  # pragma: no cover - symcorr.symbolic imports symcorr.deep, which registers
                raise SpecError("no infinite-width kernel is registered (import symcorr.deep)")
            self._limit = _INFINITE_WIDTH[-1](self.network)
        return self._limit

    def _finite_width(self):
        if self._finite is None:
            if not _FINITE_WIDTH:  # pragma: no cover - symcorr.symbolic imports symcorr.deep, which registers
                raise SpecError("no finite-width kernel is registered (import symcorr.deep)")
            self._finite = _FINITE_WIDTH[-1](self.network)
        return self._finite

    def gp_limit(self, x, xp, indices=(0, 0)) -> sp.Expr:
        r""":math:`\lim G^{(2)}_{ab}(x, x')` as the widths grow (SymPy; symbolic points allowed)."""
        if self._g2.is_exact and isinstance(self._g2.width, sp.Symbol):
            return self._g2.gp_limit([x, xp], indices)
        return self._infinite_width().expr(x, xp, indices)

    def evaluate(self, x, xp, indices=(0, 0)) -> float:
        return self._g2.evaluate([x, xp], indices)

    def gram(self, x, y=None, limit: bool = False, indices=(0, 0)) -> torch.Tensor:
        r""":math:`G^{(2)}_{ab}(x_i, y_j)` on the grid of all pairs, an ``(n, m)`` float64 tensor (``y=None``:
        ``x`` against itself); see :meth:`gram_with_error`."""
        return self.gram_with_error(x, y, limit, indices)[0]

    def gram_with_error(self, x, y=None, limit: bool = False, indices=(0, 0)) -> tuple[torch.Tensor, torch.Tensor]:
        r"""``(values, errors)`` on the grid.  ``limit=True``: the infinite-width kernel (any depth; closed
        forms as generated torch code, quadrature with its error where an activation has none).
        ``limit=False``: the kernel at the network's (concrete) widths -- a single hidden layer: exact, where
        a zero-mean read-out weight makes it equal to the infinite-width recursion at
        :math:`C_W = N\mathrm{Var}(W^1)` and a read-out weight mean is compiled from the exact expression;
        two or more hidden layers: through order :math:`1/n`, :math:`K^{(L)} + \sum_s\delta G_s/n_s`
        (:mod:`symcorr.deep.finite_width`; errors are numerical, the :math:`O(1/n^2)` remainder is not in
        them); a SpecError where neither exists (it points to ``limit=True``)."""
        if limit:
            return tuple(self._infinite_width().gram(x, y, indices))
        if self.network.depth > 2:
            return tuple(self._finite_width().gram(x, y, indices))
        if not self._g2.is_exact:
            raise SpecError(f"no exact two-point function for this network: {self._g2.reason}", "limit")
        readout = self.network.weight(1).law
        mean = readout.loc if hasattr(readout, "loc") else readout.mean
        zero = all(sp.sympify(v).is_zero for v in (mean if isinstance(mean, sp.MatrixBase) else [mean]))
        if zero:  # exact at every width: the recursion at C_W = N Var(W1) (concrete width)
            if not isinstance(self._g2.width, int):
                raise SpecError("numeric values need a concrete width; use network.subs({...})", "network")
            return tuple(self._infinite_width().gram(x, y, indices))
        return self._compiled_gram(x, y, indices)

    def _compiled_gram(self, x, y, indices):
        """The exact expression at coordinate symbols, compiled to torch and evaluated on the grid."""
        d = self.network.input_dim
        if not isinstance(d, int) or self.network.free_symbols:
            raise SpecError("numeric values need a concrete network; use network.subs({...})", "network")
        xs = sp.Matrix(sp.symbols(f"x0:{d}", real=True))
        ys = sp.Matrix(sp.symbols(f"y0:{d}", real=True))
        expr = self(xs, ys, indices)
        if expr.has(GaussianExpectation, ParameterIntegral):
            raise SpecError("the exact two-point function has unevaluated integrals here; use evaluate() per pair "
                            "or gram(..., limit=True)", "limit")
        fn = torch_function(list(xs) + list(ys), expr)
        xt = self.network._as_inputs(x, torch.float64, "cpu")
        yt = xt if y is None else self.network._as_inputs(y, torch.float64, "cpu")
        values = fn(*[c[:, None] for c in xt.T], *[c[None, :] for c in yt.T]).expand(xt.shape[0], yt.shape[0])
        values = values.clone()
        if not bool(torch.isfinite(values).all()):
            raise SpecError("the two-point function is not finite at some pairs")
        return values, _floor(values)

    def form(self, x=None, xp=None, indices=(0, 0)):
        return self._g2.form([x, xp] if x is not None else None, indices)

    def invariant_form(self, group, x=None, xp=None, indices=(0, 0)):
        """:meth:`Correlator.invariant_form` of the two-point function (generic points by default)."""
        return self._g2.invariant_form(group, [x, xp] if x is not None else None, indices)

    def latex(self) -> str:
        return self._g2.latex()

    def markdown(self) -> str:
        return self._g2.markdown()

    def _repr_latex_(self):
        return f"${self.latex()}$"

    def __repr__(self):
        return f"Kernel({self.network!r})"


def kernel(network) -> Kernel:
    """The two-point function of ``network`` (see :class:`Kernel`)."""
    return Kernel(network)
