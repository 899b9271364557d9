r"""Deep networks, layer by layer: the infinite-width kernels (NNGP, NTK) and the leading finite-width
corrections, in both frames.

* :mod:`.layers` -- :class:`LayerStack`: a :class:`~symcorr.spec.Network` read as per-layer recursion
  parameters (:math:`C_W^{(l)}`, :math:`C_b^{(l)}`, activations, widths), checked once.
"""

from .layers import LayerRecursion, LayerStack

__all__ = ["LayerRecursion", "LayerStack"]
