r"""Beyond one machine: blockwise runs (Monte Carlo ensembles, NTK moments, Fashion-MNIST sweeps) on a
Dask cluster, bit for bit equal to the serial run, with resume-from-folder checkpoints.

The seeding of every long computation is already per block (``rng.child_seed`` per RNG block, neuron
chunk or model chunk) and its partial results merge, so a run is a map over blocks and a reduction.
This package holds that one pattern:

* :mod:`.tree` -- the fixed binary reduction tree over block indices (:class:`TreeReducer`,
  :func:`covering_nodes`, :func:`tree_reduce`): the merges, and so the bits, do not depend on how
  blocks were grouped or in which order they finished;
* :mod:`.runner` -- :func:`run_blocks`: tasks of blocks in this process or as Dask futures (at most a
  window in flight, progress ticked as each future completes), nodes merged along the tree;
* :mod:`.checkpoint` -- :class:`Checkpoint`: saved tree nodes plus a manifest of the settings,
  written atomically; a restart skips what is saved, other settings are refused in one line;
* :mod:`.cluster` -- :func:`open_client`: ``"local:N"`` (a ``LocalCluster`` of N one-thread worker
  processes) or the address of a running scheduler (e.g. from ``dask-jobqueue`` on Slurm or PBS).

Dask is optional: ``pip install 'symcorr[distributed]'``.  The entry points take ``client=`` (a
``dask.distributed.Client``, or a scheduler name) and ``checkpoint=`` (a folder):
:func:`symcorr.montecarlo.estimate_correlators`, :func:`~symcorr.montecarlo.estimate_connected`,
:func:`~symcorr.montecarlo.invariance_test`, :class:`~symcorr.montecarlo.NeuronLevelEstimator`,
:func:`symcorr.ntk.ntk_moments`, :func:`~symcorr.ntk.ntk_invariance_test` and
:func:`symcorr.experiments.fashion_mnist.run_sweep`; the command line has ``--scheduler`` and
``--checkpoint`` on ``symcorr montecarlo``, ``symcorr fashion-mnist`` and ``symcorr reproduce``.
See ``docs/distributed.md``.
"""

from .checkpoint import Checkpoint, describe
from .cluster import open_client, parse_scheduler, require_distributed
from .runner import BlockWork, plan_tasks, run_blocks, run_interval
from .tree import TreeReducer, covering_nodes, level_sizes, node_span, node_value, tree_reduce

__all__ = ["BlockWork", "Checkpoint", "TreeReducer", "covering_nodes", "describe", "level_sizes",
           "node_span", "node_value", "open_client", "parse_scheduler", "plan_tasks", "require_distributed",
           "run_blocks", "run_interval", "tree_reduce"]
