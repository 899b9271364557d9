r"""Deep networks, layer by layer: the infinite-width kernels (NNGP, NTK) and the leading finite-width
corrections, in both frames.

* :mod:`.layers` -- :class:`LayerStack`: a :class:`~symcorr.spec.Network` read as per-layer recursion
  parameters (:math:`C_W^{(l)}`, :math:`C_b^{(l)}`, activations, widths), checked once;
* :mod:`.nngp` -- :class:`NNGP`: the infinite-width metrics :math:`K^{(l)}` (symbolic over sample points,
  numeric with propagated errors);
* :mod:`.ntk` -- :class:`NTKRecursion`: the infinite-width NTK :math:`\Theta^{(l)}` in the standard and the NTK
  parameterisation (symbolic);
* :mod:`.gram` -- :class:`InfiniteWidthGram`: both kernels on grids of pairs (generated torch code from the
  Gaussian table, streamed in blocks of rows, quadrature errors end to end);
* :mod:`.kernel` -- :class:`InfiniteWidthKernel`: :math:`\lim G^{(2)}_{ab}` for any depth, registered with
  :class:`symcorr.symbolic.Kernel` (``gp_limit``, ``gram(limit=True)``).
"""

from .gram import GramResult, GramValues, InfiniteWidthGram
from .kernel import InfiniteWidthKernel
from .layers import LayerRecursion, LayerStack
from .nngp import NNGP, MetricValues
from .ntk import NTKKernels, NTKRecursion

__all__ = ["GramResult", "GramValues", "InfiniteWidthGram", "InfiniteWidthKernel", "LayerRecursion", "LayerStack",
           "MetricValues", "NNGP", "NTKKernels", "NTKRecursion"]
