r"""The neural tangent kernel (NTK) of a random network: empirical, in expectation, and its symmetries.

For one network the empirical NTK is
:math:`\Theta_{ab}(x, x'; \theta) = \sum_p \partial_p f_a(x;\theta)\, \partial_p f_b(x';\theta)`, a random
kernel of :math:`\theta \sim P(\theta)` whose correlators :math:`E[\Theta]`, :math:`E[\Theta\otimes\Theta]`,
... are parameter-space integrals like the network's own correlators (paper section 5; ``docs/ntk.md``).

* :mod:`.empirical` -- :func:`empirical_ntk`: the kernel of every network of an ensemble, per parameter
  block, by hand-derived back-propagation or ``torch.func.jacrev``; standard or NTK parameterisation.
* :mod:`.moments` -- :func:`ntk_moments` / :class:`NTKMoments`: streamed Monte Carlo
  :math:`E[\Theta]`, :math:`E[\Theta\otimes\Theta]` with standard errors.
* :mod:`.expectation` -- :func:`ntk_expectation` / :class:`NTKExpectation`: the exact :math:`E[\Theta]` at
  initialisation of a single-hidden-layer network, and :func:`gaussian_pair_expectations`.
* :mod:`.invariance` -- :func:`ntk_invariance_test` / :class:`NTKInvarianceResult`: is the law of
  :math:`\Theta` invariant under a group?  Paired z-scores with Holm's correction
  (:mod:`symcorr.montecarlo.statistics`).
"""

from .empirical import Parameterisation, empirical_ntk
from .expectation import NTKExpectation, gaussian_pair_expectations, ntk_expectation
from .invariance import NTKInvarianceResult, ntk_invariance_test
from .moments import NTKMoments, ntk_moments

__all__ = [
    "empirical_ntk", "ntk_moments", "NTKMoments", "ntk_invariance_test", "NTKInvarianceResult",
    "ntk_expectation", "NTKExpectation", "gaussian_pair_expectations", "Parameterisation",
]
