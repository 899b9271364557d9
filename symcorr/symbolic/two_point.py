r"""The exact two-point function (kernel) of a network: a view of its correlator of order 2.

.. math:: K(x, x') = G^{(2)}_{aa}(x, x') = E[f_a(x) f_a(x')],

at any width; for an iid zero-mean read-out :math:`G^{(2)}_{ab} = \delta_{ab}K`.  For a single
hidden layer :math:`K = \sigma_{b_1}^2 + N\,\mathrm{Var}(W^1)\,k_{12}` with the single-neuron kernel
:math:`k_{12} = E[\phi(z(x))\phi(z(x'))]` from the table of :mod:`symcorr.symbolic.kernels`.
"""

from __future__ import annotations

import sympy as sp

from .correlator import correlator

__all__ = ["Kernel", "kernel"]


class Kernel:
    r"""The exact two-point function :math:`K(x,x') = G^{(2)}_{aa}(x,x')` of a network (any width;
    for an iid zero-mean read-out :math:`G^{(2)}_{ab} = \delta_{ab}K`).

    ``K(x, xp)`` returns the SymPy expression; ``K(x, xp, indices=(a, b))`` the component
    :math:`G^{(2)}_{ab}`; ``K.evaluate(x, xp)`` a float; ``K.latex()`` the formula at symbolic points.
    """

    def __init__(self, network):
        self.network = network
        self._g2 = correlator(network, 2)

    def __call__(self, x, xp, indices=(0, 0), width=None) -> sp.Expr:
        return self._g2.expr([x, xp], indices, width=width)

    def gp_limit(self, x, xp, indices=(0, 0)) -> sp.Expr:
        return self._g2.gp_limit([x, xp], indices)

    def evaluate(self, x, xp, indices=(0, 0)) -> float:
        return self._g2.evaluate([x, xp], indices)

    def form(self, x=None, xp=None, indices=(0, 0)):
        return self._g2.form([x, xp] if x is not None else None, indices)

    def latex(self) -> str:
        return self._g2.latex()

    def markdown(self) -> str:
        return self._g2.markdown()

    def _repr_latex_(self):
        return f"${self.latex()}$"

    def __repr__(self):
        return f"Kernel({self.network!r})"


def kernel(network) -> Kernel:
    """The exact two-point function of ``network`` (see :class:`Kernel`)."""
    return Kernel(network)
