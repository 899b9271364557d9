r"""Fashion-MNIST symmetry-breaking sweep (paper Fig. 1, digest §6.1), many models trained at once.

A 784-50-10 ReLU network without biases starts from the spec's law with the first k rows of its
read-out given mean mu, is trained with MSE on one-hot or one-cold targets (Adam 1e-3, batch 64,
StepLR 0.7, 20 epochs), and is scored by its best test accuracy; the sweep covers a grid of (mu, k)
with several independent runs per cell.

=================  ===========================================================================
module             contents
=================  ===========================================================================
:mod:`.model`      the initial law (:func:`paper_network`, :func:`init_weights`,
                   :func:`spec_init_sampler`: every draw through the spec), targets,
                   prediction, the vectorised forward pass and evaluation
:mod:`.train`      :class:`TrainData`, :func:`train_models` (M models at once, hand-written
                   gradients, :class:`symcorr.optim.Adam`), :func:`reference_train` (one
                   ``torch.nn`` model at a time, for checks and benchmarks)
:mod:`.config`     :class:`SweepConfig` (grid, protocol, presets)
:mod:`.sweep`      :func:`run_sweep`, :func:`sweep_chunks`; the seeding scheme
:mod:`.results`    :class:`SweepResult` (mean, s.e., 95 % CI, CSV/Markdown tables, heatmap and
                   line figures, ``.npz``), :func:`t_quantile_975`
=================  ===========================================================================

The command line is ``symcorr fashion-mnist`` (:mod:`symcorr.cli.fashion_mnist`).

Cost (measured with ``benchmarks/bench_fashion_mnist.py`` on two AVX-512 cores of an AMD EPYC): about
40 us per model per batch of 64, i.e. 0.04-0.05 s per model-epoch including the test-set evaluation,
under 1 s per 20-epoch training, and 23-26 minutes for the paper's 1260 + 420 trainings (the plain
one-model-at-a-time ``torch.nn`` loop needs ~0.5 s per model-epoch, 4.5-5 hours for the grid).
Chunks of 16-32 models are fastest there (the default is 24).
"""

from .config import SweepConfig
from .model import (N_IN, N_OUT, PAPER_KS, PAPER_MUS, TARGETS, WIDTH, InitSampler, evaluate, forward,
                    init_weights, make_targets, paper_network, predict, spec_init_sampler)
from .results import SweepResult, t_quantile_975
from .sweep import run_sweep, sweep_chunks
from .train import TrainData, TrainOutcome, reference_train, train_models

__all__ = [
    "N_IN", "WIDTH", "N_OUT", "PAPER_MUS", "PAPER_KS", "TARGETS", "InitSampler", "paper_network",
    "init_weights", "spec_init_sampler", "make_targets", "predict", "forward", "evaluate", "TrainData",
    "TrainOutcome", "train_models", "reference_train", "SweepConfig", "SweepResult", "run_sweep",
    "sweep_chunks", "t_quantile_975",
]
