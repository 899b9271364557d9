r"""``symcorr reproduce``: every result of the paper from the spec files in ``derivations/``, one report.

For each spec file:

1. the symbolic frame (:func:`symcorr.claims.derive_report`, written to ``specs/<stem>.md``): the network,
   its correlators and the symmetry-via-duality proof of every claim, whose verdict is compared with the
   claim's ``expect``;
2. the numeric frame (:mod:`symcorr.montecarlo`, :mod:`symcorr.ntk`): the calibrated invariance test of
   every claim (paired z-scores, Holm correction, level ``alpha``), with an estimator that does not assume
   the claim, compared with ``expect`` too;
3. the discovered symmetries (:mod:`symcorr.montecarlo.discovery`) next to the exact group of the law
   (shown);
4. the spec's ``[experiment]``, if any (:data:`EXPERIMENTS`): the SO(5) width scan, the GP limit, training,
   the NTK, the Fashion-MNIST sweep and the finite-width vertex, with plots.

The default budget is quick (minutes on two cores: a fifth of each spec's ``[montecarlo] networks``, at
most 4 group elements per claim, the experiments' ``quick_*`` settings); ``full=True`` uses the spec
budgets, which are the paper's.  Everything is seeded.  Modules: :mod:`.checks` (rows and their status),
:mod:`.context`, :mod:`.claims_section`, :mod:`.paper`, :mod:`.fashion`, :mod:`.finite`, :mod:`.driver`.
"""

from .checks import Check, Frame, Status
from .driver import EXPERIMENTS, TITLE, default_derivations, reproduce

__all__ = ["Check", "EXPERIMENTS", "Frame", "Status", "TITLE", "default_derivations", "reproduce"]
