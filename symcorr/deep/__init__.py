r"""Deep networks (any number of Dense layers), layer by layer: their infinite-width kernels (NNGP, NTK) and
their leading finite-width corrections (the four-point vertex and the 1/n shift of the metric), in both
frames -- SymPy expressions over symbolic or explicit points, and batched torch values with error estimates.

Notation (:mod:`.layers`): :math:`z^{(0)} = W^0x + b^0`, :math:`z^{(l)} = W^l\phi_{l-1}(z^{(l-1)}) + b^l`,
:math:`f = \phi_L(z^{(L)})`, fan-ins :math:`n_l`, :math:`C_W^{(l)} = n_l\mathrm{Var}(W^l)`,
:math:`C_b^{(l)} = \mathrm{Var}(b^l)`; Gaussian expectations come from the one table of
:mod:`symcorr.gaussian`, the first layer's (any law) from :mod:`symcorr.symbolic.kernels`.

The laws, read once:

* :mod:`.layers` -- :class:`LayerStack`, :class:`LayerRecursion`: a :class:`~symcorr.spec.Network` as per-layer
  recursion parameters (:math:`C_W^{(l)}`, :math:`C_b^{(l)}`, activations, widths, means), with the checks
  every recursion needs (errors naming the field).

Infinite width (the Gaussian-process limit, any depth):

* :mod:`.nngp` -- :class:`NNGP`: the metrics :math:`K^{(l+1)} = C_b + C_W E[\phi\phi']`, symbolic
  (:meth:`NNGP.metrics`) and numeric on one point set (:meth:`NNGP.metrics_torch`, propagated errors); the
  first layer's exact single-neuron moments at numeric points (:func:`first_layer_moment`: a SpecError naming
  ``layers[0]`` where a moment has no closed form, never a number made from an unevaluated integral);
* :mod:`.ntk` -- :class:`NTKRecursion`: the NTK :math:`\Theta^{(l+1)} = T^{(l+1)} + C_W E[\dot\phi\dot\phi']
  \Theta^{(l)}` in the standard and the NTK parameterisation (symbolic);
* :mod:`.gram` -- :class:`InfiniteWidthGram`: both kernels on :math:`n\times m` grids of pairs (generated
  torch code from the Gaussian table, streamed in blocks of rows, quadrature errors end to end);
* :mod:`.kernel` -- :class:`InfiniteWidthKernel`: :math:`\lim G^{(2)}_{ab}` of any depth, registered with
  :class:`symcorr.symbolic.Kernel` (``gp_limit``, ``gram(limit=True)``);
  :class:`symcorr.ntk.NTKExpectation` uses :class:`NTKRecursion` and :class:`InfiniteWidthGram` the same way.

Finite width (two or more hidden layers, leading order in :math:`1/n`, per-layer widths; Gaussian hidden
weights and a linear read-out):

* :mod:`.finite_width` -- :class:`FiniteWidth`: the covariance of the empirical metric (the four-point vertex)
  and the metric's 1/n shift, per source layer :math:`X = \sum_s X_s/n_s`, symbolic
  (:meth:`FiniteWidth.terms`, :class:`FiniteWidthTerms`) and batched numeric (:meth:`FiniteWidth.values`,
  :class:`FiniteWidthValues`); :meth:`FiniteWidth.expansion` is what the correlator's ``connected``,
  ``inverse_width_coefficients`` and ``expand_in_inverse_width`` use for deep networks (registered with
  :mod:`symcorr.symbolic.deep_expansion`); :func:`finite_width_gram`: the 1/n-corrected two-point function
  on grids of pairs;
* :mod:`.layer_tables` -- the Gaussian tables one layer of that recursion needs over the covariance entries
  of a point set (pair functions, their Price derivatives, four-point moments), in both frames;
* :mod:`.kernel` -- :class:`FiniteWidthKernel`: :math:`G^{(2)}_{ab}` at the network's widths through order
  :math:`1/n` (:func:`finite_width_gram` with the output delta and a read-out bias mean), what
  ``symcorr.symbolic.kernel(net).gram(X, limit=False)`` returns for two or more hidden layers.  (One hidden
  layer needs no expansion: its two-point function and expected NTK are exact at every width in
  :mod:`symcorr.symbolic` and :mod:`symcorr.ntk.expectation`.  The finite-width NTK of deeper networks is not
  implemented: ``ntk_expectation(net).gram(limit=False)`` says so.)

docs/symbolic.md ("Deep networks at finite width") and docs/ntk.md have the recursions in this notation.
"""

from .finite_width import FiniteWidth, FiniteWidthTerms, FiniteWidthValues, finite_width_gram
from .gram import GramResult, GramValues, InfiniteWidthGram
from .kernel import FiniteWidthKernel, InfiniteWidthKernel
from .layers import LayerRecursion, LayerStack
from .nngp import NNGP, MetricValues, first_layer_moment
from .ntk import NTKKernels, NTKRecursion

__all__ = ["FiniteWidth", "FiniteWidthKernel", "FiniteWidthTerms", "FiniteWidthValues", "GramResult", "GramValues",
           "InfiniteWidthGram", "InfiniteWidthKernel", "LayerRecursion", "LayerStack", "MetricValues", "NNGP",
           "NTKKernels", "NTKRecursion", "finite_width_gram", "first_layer_moment"]
