r"""The large-width expansion of deep networks, as the correlator sees it.

A network with two or more hidden layers has no exact correlator here, but through order :math:`1/n` its
n-point functions follow from the finite-width recursion of :mod:`symcorr.deep.finite_width` (the NNGP
metric, its 1/n shift and the four-point vertex):

.. math:: G = G_\infty + \sum_s \frac{c_s}{n_s} + O(1/n^2),

one term per hidden layer :math:`s` with fan-in :math:`n_s`.  That module sits above this package (it
builds on the NNGP metric, which builds on the single-neuron moments of :mod:`.kernels`), so it registers
its factory here (:func:`register_deep_expansion`) when ``symcorr.symbolic`` is imported, as the exact
rules are registered with :mod:`.integral`.  The contract: ``factory(network)`` has ``.widths`` (the
fan-ins :math:`n_s`) and ``.expansion(points, indices, connected, order) -> (G_inf, ((n_s, c_s), ...))``
(``order`` 0: the GP limit alone, no corrections).

:func:`inverse_width_powers` turns that into the correlator's ``{power: coefficient}`` of one width symbol
:math:`N` when every :math:`n_s = \alpha_s N` (:math:`\alpha_s` positive rationals).
"""

from __future__ import annotations

import sympy as sp

from ..errors import SpecError

__all__ = ["register_deep_expansion", "deep_expansion", "single_width_symbol", "inverse_width_powers"]

_FACTORY: list = []


def register_deep_expansion(factory) -> None:
    """Register the deep-network expansion (module docstring); the last registration wins."""
    _FACTORY[:] = [factory]


def deep_expansion(network):
    """The registered expansion of ``network`` (its SpecErrors say why a network is not supported)."""
    if not _FACTORY:  # pragma: no cover - importing symcorr.symbolic registers it
        raise SpecError("the deep-network expansion is not registered (import symcorr.deep.finite_width)")
    return _FACTORY[0](network)


def single_width_symbol(widths) -> sp.Symbol:
    r"""The one symbol :math:`N` of which every hidden width is a positive rational multiple, or a SpecError."""
    widths = [sp.sympify(w) for w in widths]
    symbols = set().union(*(w.free_symbols for w in widths))
    hint = "(expand_in_inverse_width gives sum_l c_l / n_l for any widths)"
    if len(symbols) != 1:
        raise SpecError(f"a 1/N expansion needs every hidden width to be a multiple of one symbol N; the hidden "
                        f"widths are {widths} {hint}")
    N = symbols.pop()
    for w in widths:
        alpha = sp.simplify(w / N)
        if alpha.free_symbols or not (alpha.is_rational and alpha > 0):
            raise SpecError(f"a 1/N expansion needs every hidden width to be a positive rational multiple of {N}; "
                            f"got {w} {hint}")
    return N


def inverse_width_powers(lead, corrections, N: sp.Symbol, order: int | None) -> dict:
    r"""``{0: G_inf, -1: sum_s c_s N / n_s}`` (zero terms dropped; ``order`` 0 keeps the first only)."""
    if order is not None and order > 1:
        raise SpecError("the deep-network expansion is known to leading order, 1/N (order=1); higher orders "
                        "need the six-point vertex and the 1/N^2 shifts")
    out = {0: lead}
    if order is None or order >= 1:
        out[-1] = sp.Add(*[c * N / w for w, c in corrections])
    return {p: v for p, v in out.items() if v != 0}
