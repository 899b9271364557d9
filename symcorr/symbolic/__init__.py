r"""Symbolic n-point correlators of random networks (the parameter-space frame).

.. math:: G^{(n)}_{a_1\cdots a_n}(x_1,\dots,x_n) = \int d\theta\,P(\theta)\,f_{\theta,a_1}(x_1)\cdots f_{\theta,a_n}(x_n)

* :func:`correlator` / :class:`Correlator` (``correlator.py``): exact expressions for
  single-hidden-layer networks (any width, symbolic or numeric; iid neurons; the rules in
  ``single_layer.py``), the 1/N expansion (``laurent.py``), connected parts, the GP limit, readable
  :class:`CorrelatorForm` (``form.py``); the unevaluated :class:`ParameterIntegral` otherwise.
  Cached and immutable.
* :func:`kernel` (``two_point.py``): the exact two-point function, its infinite-width limit for any depth
  and Gram matrices on grids of pairs (the deep recursions of :mod:`symcorr.deep`, registered there).
* :func:`moment_table` / :func:`neuron_moment` (``kernels.py``): single-neuron moments from the table
  of known kernels (Gauss-net, Cos-net, arcsine, arc-cosine, Isserlis), unevaluated
  :class:`GaussianExpectation` (``integral.py``) otherwise.
* :func:`wick_sum`, :func:`inner`, :func:`apply_relations`: Wick sums, canonical inner products of
  symbolic inputs, and group relations such as :math:`R^TR = 1`.
* :func:`invariant_form` / :class:`InvariantForm` (``invariant_form.py``; ``Correlator.invariant_form``,
  ``Kernel.invariant_form``): a correlator in the invariants of translations (squared distances) or
  rotations (inner products) where it is a function of them, else the dependence left with a witness.

See docs/symbolic.md for the module layout, the rules and the math.
"""

from ..combinatorics import perfect_matchings, set_partitions
from .correlator import Correlator, correlator
from .form import CorrelatorForm, FormStyle
from .inputs import InnerProduct, apply_relations, inner
from .integral import GaussianExpectation, IntegralKind, NumericMethod, ParameterIntegral
from .invariant_form import InvariantForm, Invariants, SquaredDistance, invariant_form
from .kernels import KNOWN_KERNELS, FirstLayer, moment_table, neuron_moment
from .laurent import Terms
from .rules import VectorLaw, wick_sum
from .two_point import Kernel, kernel

# symcorr.deep (the deep recursions) imports these modules and registers the infinite-width kernel of any
# depth with two_point on import; it is loaded last so that every symbolic module exists by then
from .. import deep as _deep  # noqa: E402,F401

__all__ = [
    "Correlator", "CorrelatorForm", "FirstLayer", "FormStyle", "GaussianExpectation", "InnerProduct",
    "IntegralKind", "InvariantForm", "Invariants", "KNOWN_KERNELS", "Kernel", "NumericMethod", "ParameterIntegral",
    "SquaredDistance", "Terms", "VectorLaw", "apply_relations", "correlator", "inner", "invariant_form", "kernel",
    "moment_table", "neuron_moment", "perfect_matchings", "set_partitions", "wick_sum",
]

# The deep-network 1/n expansion of the correlators lives above this package (symcorr.deep builds on the
# single-neuron moments here) and registers itself with the correlator when imported: importing it here
# makes correlator(deep_net, n) complete whichever module is imported first.
from ..deep import finite_width as _finite_width  # noqa: E402,F401  (registration)
