r"""Gaussian expectations of activations, written once: closed forms (SymPy), generated torch code,
and Gauss-Hermite quadrature with error estimates where no closed form exists.

* :mod:`.forms` -- :func:`closed_form` of :math:`E[\prod_i(\phi_i^{(d_i)}(u_i))^{p_i}]`, :math:`u\sim N(m,\Sigma)`;
* :mod:`.table` -- :class:`PairExpectation` (:math:`E[\phi(u)\phi(v)]` and its covariance derivatives by
  Price's theorem, the one-point function :math:`E[\phi(u)^2]`) and :class:`GaussianMoment` (n points),
  each with a SymPy and a torch backend;
* :mod:`.quadrature` -- :func:`gauss_hermite`, batched, with an error estimate from two resolutions;
* :mod:`.codegen` -- the closed forms compiled to torch (:func:`torch_function`, :func:`torch_functions`).

The symbolic correlators, the prover's parameter-space moments and the NTK use this table.
"""

from .codegen import torch_functions
from .forms import CLOSED_PAIRS, EXPONENTIAL_POLYNOMIALS, Factor, closed_form, parity
from .quadrature import QuadratureResult, gauss_hermite
from .table import K11, K12, K22, GaussianMoment, PairExpectation, activation_torch, pair_expectation, torch_function

__all__ = ["CLOSED_PAIRS", "EXPONENTIAL_POLYNOMIALS", "Factor", "GaussianMoment", "K11", "K12", "K22",
           "PairExpectation", "QuadratureResult", "activation_torch", "closed_form", "gauss_hermite",
           "pair_expectation", "parity", "torch_function", "torch_functions"]
