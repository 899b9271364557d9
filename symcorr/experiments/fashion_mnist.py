r"""Fashion-MNIST symmetry-breaking sweep (paper Fig. 1), many models trained at once.

The experiment (paper digest §6.1)
----------------------------------
Model ("ReLUNet"): :math:`f(x) = W^1\,\mathrm{relu}(W^0 x)`, :math:`x\in\mathbb R^{784}`,
:math:`W^0\in\mathbb R^{50\times784}`, :math:`W^1\in\mathbb R^{10\times50}`, no biases.

Initial law (:func:`init_weights`, the single place where it is defined)::

    W0[i, j] ~ N(0, 1/784)                          iid
    W1[a, i] ~ N(mu * 1[a < k], 1/50)               iid; rows a = 0..k-1 get mean mu

(the original code draws all of W1 from N(0, 1/50) and then redraws the first k rows from
N(mu, 1/50); that is the same law).

Loss per model, on a batch of B examples with targets t (one-hot "hot": t = e_c; one-cold "cold":
t = 1 - e_c)::

    L = 1/(10 B) * sum_b sum_a (f_a(x_b) - t_{b,a})^2          (= F.mse_loss, mean reduction)

Prediction: argmax_a f_a(x) for "hot", argmin_a f_a(x) for "cold".  Metric: test accuracy after every
epoch; the reported number is its maximum over the epochs.

Optimiser: Adam (lr 1e-3, betas (0.9, 0.999), eps 1e-8), batch 64, StepLR(step_size=1, gamma=0.7): epoch
e = 0, 1, ... uses lr * 0.7**e; 20 epochs.  See :class:`StackedAdam` for the update.

How it is vectorised
--------------------
M models are trained together: ``W0`` has shape (M, 50, 784) and ``W1`` (M, 10, 50).  Gradients are
written by hand (no autograd).  With h = W0 x, z = relu(h), f = W1 z and
delta = dL/df = 2 (f - t) / (10 B)::

    dL/dW1 = sum_b delta_b z_b^T          dL/dz = W1^T delta
    dL/dh  = dL/dz * 1[h > 0]             dL/dW0 = sum_b (dL/dh)_b x_b^T

(the input gradient dL/dx is never formed).  The first layer of all M models is one matrix product
``W0_all (M*50, 784) @ x^T (784, B)`` and its weight gradient is one product
``dH (M*50, B) @ x (B, 784)``; these two products are ~90 % of the work.  They go through oneDNN
(``torch.ops.mkldnn._linear_pointwise``, exact float32) when that operator is available, which on the
AVX-512 machines measured here is about twice as fast as ``torch.mm``; otherwise through ``torch.mm``.
The 10x50 second layer is a batched product (``torch.bmm``) over models.  Each model's loss only
depends on its own weights, so the summed loss's gradient with respect to model m's weights is model
m's own gradient, and Adam is elementwise, so one Adam over the stacked tensors is exactly M separate
Adams (checked in the tests against M separate ``torch.nn`` models with ``torch.optim.Adam``).

Everything is float32.  bfloat16 matrix products were measured (about 1.35x faster per model-step on
the 2-core AVX-512 machine once the fp32 products use oneDNN) and rejected: the products then carry
~0.4 % relative error for a modest gain.

Randomness, and a deliberate deviation from the original
--------------------------------------------------------
Nothing uses torch's global RNG.  In :func:`run_sweep` every model has its own initialisation seed
``child_seed(seed, 1, target, run, bits(mu), k)`` and all models of the same *run index* share one
shuffling stream ``child_seed(seed, 2, target, run)`` (epoch e uses the e-th
``torch.randperm(n_train, generator=g)`` of that stream).  The original code reshuffled independently
in every training; here the cells (mu, k) of one run see the same batch order (common random numbers,
which makes differences between cells *less* noisy), while different runs of the same cell differ by
both their initialisation and their batch order.  Because the seeds depend on (run, mu, k) and not on
how models were packed into chunks, the result does not depend on ``models_per_chunk`` beyond
float32 rounding (the matrix products' summation order can change with their shapes).

The original's ``--seed`` was unused (so its runs were unseeded) and its heatmap script averaged ten
copies of one run (it forgot the run index); neither bug is reproduced.  ``normalisation="paper"``
keeps its MNIST constants 0.1307/0.3081; the default ``"corrected"`` uses Fashion-MNIST's own.

Cost (measured with ``benchmarks/bench_fashion_mnist.py`` on two AVX-512 cores of an AMD EPYC): about
40 us per model per batch of 64, i.e. 0.04-0.05 s per model-epoch including the test-set evaluation,
under 1 s per 20-epoch training, and 23-26 minutes for the paper's 1260 + 420 trainings (the plain
one-model-at-a-time ``torch.nn`` loop needs ~0.5 s per model-epoch, 4.5-5 hours for the grid).
Chunks of 16-32 models are fastest there (the default is 24).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import struct
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ..errors import SpecError
from ..rng import child_seed

__all__ = [
    "N_IN", "WIDTH", "N_OUT", "PAPER_MUS", "PAPER_KS", "TARGETS",
    "init_weights", "make_targets", "predict", "forward", "evaluate", "StackedAdam", "TrainData",
    "TrainOutcome", "train_models", "reference_train", "SweepConfig", "SweepResult", "run_sweep",
    "sweep_chunks", "add_arguments", "run_from_args", "main",
]

N_IN, WIDTH, N_OUT = 784, 50, 10
#: the paper's grid: mu in 0.00, 0.01, ..., 0.20 and k in 0, 2, ..., 10
PAPER_MUS = tuple(round(0.01 * i, 2) for i in range(21))
PAPER_KS = (0, 2, 4, 6, 8, 10)
TARGETS = ("hot", "cold")
_TARGET_CODE = {"hot": 0, "cold": 1}

# An initial-weight sampler: (M, mus, ks, generators) -> (W0 (M, width, n_in), W1 (M, n_out, width)).
InitSampler = Callable[[int, Sequence[float], Sequence[int], Any], "tuple[torch.Tensor, torch.Tensor]"]


# ---------------------------------------------------------------------------------------------------
# The initial law
# ---------------------------------------------------------------------------------------------------

def init_weights(M: int, mus, ks, generator, *, n_in: int = N_IN, width: int = WIDTH,
                 n_out: int = N_OUT, dtype: torch.dtype = torch.float32):
    r"""Draw M independent initialisations of the paper's ReLUNet (the experiment's *only* init law).

    For model m with parameters ``(mus[m], ks[m])``::

        W0[m] ~ N(0, 1/n_in)   iid entries, shape (width, n_in)
        W1[m] = Z + mus[m] * u_m 1^T,   Z ~ N(0, 1/width) iid, shape (n_out, width),
                u_m = (1, ..., 1, 0, ..., 0)  (ks[m] ones)

    i.e. the first ``ks[m]`` output rows of W1 have mean ``mus[m]``, all other entries mean 0, and every
    entry of W1 has variance 1/width.

    ``mus``/``ks``: scalars (shared) or length-M sequences.  ``generator``: one ``torch.Generator`` (all
    of W0 for the M models is drawn first, then all of W1) or a sequence of M generators, one per model
    (model m draws its W0 then its W1 from ``generator[m]``; :func:`run_sweep` uses this so that a
    model's initialisation does not depend on which other models share its chunk).

    Returns ``(W0, W1)`` of shapes ``(M, width, n_in)`` and ``(M, n_out, width)``.
    """
    if isinstance(M, bool) or not isinstance(M, (int, np.integer)) or M < 1:
        raise SpecError(f"number of models must be a positive integer, got {M!r}", "M")
    M = int(M)
    mus_a = np.broadcast_to(np.asarray(mus, dtype=np.float64), (M,)).copy() \
        if np.ndim(mus) == 0 else np.asarray(mus, dtype=np.float64)
    ks_a = np.broadcast_to(np.asarray(ks), (M,)).copy() if np.ndim(ks) == 0 else np.asarray(ks)
    if mus_a.shape != (M,):
        raise SpecError(f"expected {M} values, got shape {mus_a.shape}", "mus")
    if ks_a.shape != (M,):
        raise SpecError(f"expected {M} values, got shape {ks_a.shape}", "ks")
    if not np.all(np.isfinite(mus_a)):
        raise SpecError("mu must be finite", "mus")
    if ks_a.dtype.kind not in "iu" or np.any(ks_a < 0) or np.any(ks_a > n_out):
        raise SpecError(f"k must be integers in 0..{n_out}, got {ks_a.tolist()}", "ks")
    if isinstance(generator, torch.Generator):
        W0 = torch.randn(M, width, n_in, generator=generator, dtype=dtype)
        W1 = torch.randn(M, n_out, width, generator=generator, dtype=dtype)
    else:
        gens = list(generator)
        if len(gens) != M:
            raise SpecError(f"expected one generator per model ({M}), got {len(gens)}", "generator")
        W0 = torch.empty(M, width, n_in, dtype=dtype)
        W1 = torch.empty(M, n_out, width, dtype=dtype)
        for m, g in enumerate(gens):          # initialisation only; training has no loop over models
            W0[m] = torch.randn(width, n_in, generator=g, dtype=dtype)
            W1[m] = torch.randn(n_out, width, generator=g, dtype=dtype)
    W0.mul_(1.0 / math.sqrt(n_in))
    W1.mul_(1.0 / math.sqrt(width))
    rows = torch.arange(n_out)[None, :] < torch.as_tensor(ks_a, dtype=torch.int64)[:, None]   # (M, n_out)
    shift = torch.as_tensor(mus_a, dtype=torch.float64)[:, None] * rows                      # (M, n_out)
    W1.add_(shift.to(dtype)[:, :, None])
    return W0, W1


def spec_init_sampler(network, shifted_layer: int = -1) -> InitSampler:
    r"""An :data:`InitSampler` that draws from a :class:`~symcorr.spec.Network` spec (e.g.
    ``derivations/fashion_mnist.toml``), so the experiment and the symbolic side read one description.

    For model ``m`` the weight of layer ``shifted_layer`` gets the per-row mean
    :math:`\mu_m (1,\dots,1,0,\dots,0)` (``k_m`` ones) with the spec's variance; every other law is the
    spec's.  The spec must be the paper's architecture: ``784 -> 50 (relu) -> 10``, no biases, Normal laws.
    """
    from ..distributions import Normal
    from ..spec import Network

    if not isinstance(network, Network):
        raise SpecError(f"expected a Network, got {type(network).__name__}", "network")
    dims = (network.input_dim, *network.widths)
    acts = [layer.activation.name for layer in network.layers]
    if dims != (N_IN, WIDTH, N_OUT) or acts != ["relu", "identity"]:
        raise SpecError(f"the Fashion-MNIST experiment trains 784 -> 50 (relu) -> 10 networks; the spec has "
                        f"sizes {dims} and activations {acts}", "network")
    if any(b.role == "bias" for b in network.blocks.values()):
        raise SpecError("the Fashion-MNIST experiment's networks have no biases; remove them from the spec",
                        "network")
    layer = shifted_layer % network.depth
    law = network.weight(layer).law
    if not isinstance(law, Normal):
        raise SpecError("the shifted layer must have a Normal weight law", f"layers[{layer}].weight")
    n_rows = int(network.weight(layer).shape[0])

    def sampler(M, mus, ks, generators):
        gens = [generators] * M if isinstance(generators, torch.Generator) else list(generators)
        if len(gens) != M:
            raise SpecError(f"expected one generator per model ({M}), got {len(gens)}", "generator")
        W0 = torch.empty(M, WIDTH, N_IN, dtype=torch.float32)
        W1 = torch.empty(M, N_OUT, WIDTH, dtype=torch.float32)
        for m, (mu, k, g) in enumerate(zip(np.broadcast_to(mus, (M,)), np.broadcast_to(ks, (M,)), gens)):
            k = int(k)
            if not 0 <= k <= n_rows:
                raise SpecError(f"k must be in 0..{n_rows}, got {k}", "ks")
            means = [float(mu)] * k + [0.0] * (n_rows - k)
            model = network.replace_layer(layer, weight=Normal(means, law.var, row_cov=law.row_cov,
                                                                 col_cov=law.col_cov))
            params = model.sample(1, generator=g, dtype=torch.float32)   # initialisation only
            W0[m], W1[m] = params["W0"][0], params["W1"][0]
        return W0, W1

    return sampler


# ---------------------------------------------------------------------------------------------------
# Targets, prediction, forward pass
# ---------------------------------------------------------------------------------------------------

def _check_target(target: str) -> str:
    if target not in TARGETS:
        raise SpecError(f"must be 'hot' (one-hot) or 'cold' (one-cold), got {target!r}", "targets")
    return target


def make_targets(labels, target: str = "hot", n_out: int = N_OUT) -> torch.Tensor:
    """Float32 targets ``(n, n_out)``: one-hot ``e_c`` ("hot") or one-cold ``1 - e_c`` ("cold")."""
    _check_target(target)
    y = torch.as_tensor(np.asarray(labels), dtype=torch.int64)
    t = torch.nn.functional.one_hot(y, n_out).to(torch.float32)
    return 1.0 - t if target == "cold" else t


def predict(outputs: torch.Tensor, target: str = "hot", dim: int = -1) -> torch.Tensor:
    """Predicted class: ``argmax`` of the outputs for one-hot targets, ``argmin`` for one-cold."""
    _check_target(target)
    return outputs.argmax(dim) if target == "hot" else outputs.argmin(dim)


_ONEDNN_NT = None       # cached: the oneDNN op, or False


def _onednn_op():
    global _ONEDNN_NT
    if _ONEDNN_NT is None:
        _ONEDNN_NT = False
        try:
            op = torch.ops.mkldnn._linear_pointwise
            g = torch.Generator().manual_seed(0)
            a, b = torch.randn(7, 33, generator=g), torch.randn(5, 33, generator=g)
            r = op(a, b, None, "none", [], "")
            if r.shape == (7, 5) and torch.allclose(r, a @ b.t(), rtol=1e-5, atol=1e-5):
                _ONEDNN_NT = op
        except Exception:           # operator missing in this build, or unsupported CPU
            _ONEDNN_NT = False
    return _ONEDNN_NT


def _gemm_nt(gemm: str):
    """A function ``(a (p, K), b (q, K), relu=False) -> a @ b.T`` (or ``relu(a @ b.T)``), contiguous
    float32 inputs."""
    if gemm not in ("auto", "onednn", "torch"):
        raise SpecError(f"must be 'auto', 'onednn' or 'torch', got {gemm!r}", "gemm")
    op = _onednn_op() if gemm != "torch" else False
    if gemm == "onednn" and not op:
        raise SpecError("oneDNN's linear operator is not available in this torch build; use 'auto'",
                        "gemm")
    if op:
        return lambda a, b, relu=False: op(a, b, None, "relu" if relu else "none", [], "")
    return lambda a, b, relu=False: torch.mm(a, b.t()).clamp_min_(0) if relu else torch.mm(a, b.t())


def forward(W0: torch.Tensor, W1: torch.Tensor, x: torch.Tensor, *, gemm: str = "auto") -> torch.Tensor:
    """Outputs of all M models on inputs ``x`` (n, n_in): a tensor ``(M, n, n_out)``."""
    M, width, _ = W0.shape
    mm = _gemm_nt(gemm)
    Zt = mm(W0.reshape(M * width, -1).contiguous(), x.contiguous(), relu=True).view(M, width, -1)
    return torch.bmm(Zt.transpose(1, 2), W1.transpose(1, 2))


def evaluate(W0, W1, x, labels, target: str = "hot", *, batch_size: int = 2500,
             gemm: str = "auto") -> torch.Tensor:
    """Number of correct predictions of each model on ``(x, labels)``: an int64 tensor ``(M,)``."""
    _check_target(target)
    mm = _gemm_nt(gemm) if isinstance(gemm, str) else gemm
    M, width, _ = W0.shape
    W0f = W0.reshape(M * width, -1).contiguous()
    y = torch.as_tensor(labels, dtype=torch.int64)
    correct = torch.zeros(M, dtype=torch.int64)
    with torch.no_grad():
        for s in range(0, x.shape[0], batch_size):
            xb = x[s:s + batch_size]
            Zt = mm(W0f, xb, relu=True).view(M, width, -1)           # relu(W0 x), (M, width, nb)
            out = torch.bmm(W1, Zt)                                  # (M, n_out, nb)
            # .max(1).indices: same as argmax (first maximal index) but ~10x faster over a strided dim
            pred = out.max(1).indices if target == "hot" else out.min(1).indices
            correct += (pred == y[s:s + batch_size]).sum(1)
    return correct


# ---------------------------------------------------------------------------------------------------
# Adam over stacked models
# ---------------------------------------------------------------------------------------------------

def _fused_adam_available() -> bool:
    try:
        p, g = torch.zeros(3), torch.ones(3)
        m, v, s = torch.zeros(3), torch.zeros(3), torch.ones(())
        torch._fused_adam_([p], [g], [m], [v], [], [s], lr=0.1, beta1=0.9, beta2=0.999,
                           weight_decay=0.0, eps=1e-8, amsgrad=False, maximize=False)
        return bool(torch.allclose(p, torch.full((3,), -0.1), atol=1e-6))
    except Exception:
        return False


class StackedAdam:
    r"""Adam (Kingma & Ba 2015, as ``torch.optim.Adam`` with defaults) on stacked tensors.

    For every scalar parameter :math:`\theta` with gradient :math:`g`, at step :math:`t = 1, 2, \dots`::

        m_t = beta1 m_{t-1} + (1 - beta1) g
        v_t = beta2 v_{t-1} + (1 - beta2) g^2
        theta_t = theta_{t-1} - lr_t * (m_t / (1 - beta1^t)) / (sqrt(v_t) / sqrt(1 - beta2^t) + eps)

    The update is elementwise, so applying it to tensors that stack M models is *exactly* M separate
    optimisers (one step counter is shared, which is right because all models step together).  Uses
    torch's fused CPU kernel (one pass over memory) when available, else the formula above.
    """

    def __init__(self, params: Sequence[torch.Tensor], betas=(0.9, 0.999), eps: float = 1e-8,
                 fused: bool | None = None):
        self.params = list(params)
        self.beta1, self.beta2 = float(betas[0]), float(betas[1])
        self.eps = float(eps)
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        self.t = 0
        self.fused = _fused_adam_available() if fused is None else bool(fused)
        self._steps = [torch.zeros((), dtype=torch.float32) for _ in self.params]

    def step(self, grads: Sequence[torch.Tensor], lr: float) -> None:
        """One Adam step with learning rate ``lr``; updates the parameters in place."""
        self.t += 1
        if self.fused:
            for s in self._steps:
                s.add_(1.0)
            torch._fused_adam_(self.params, list(grads), self.exp_avg, self.exp_avg_sq, [], self._steps,
                               lr=float(lr), beta1=self.beta1, beta2=self.beta2, weight_decay=0.0,
                               eps=self.eps, amsgrad=False, maximize=False)
            return
        bc1 = 1.0 - self.beta1 ** self.t
        bc2_sqrt = math.sqrt(1.0 - self.beta2 ** self.t)
        for p, g, m, v in zip(self.params, grads, self.exp_avg, self.exp_avg_sq):
            m.lerp_(g, 1.0 - self.beta1)
            v.mul_(self.beta2).addcmul_(g, g, value=1.0 - self.beta2)
            denom = (v.sqrt() / bc2_sqrt).add_(self.eps)
            p.addcdiv_(m, denom, value=-float(lr) / bc1)


# ---------------------------------------------------------------------------------------------------
# Data and the vectorised trainer
# ---------------------------------------------------------------------------------------------------

@dataclass
class TrainData:
    """Normalised, flattened float32 inputs ``(n, n_in)`` and int64 labels, ready for training."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    mean: float = float("nan")
    std: float = float("nan")
    normalisation: str = ""

    @classmethod
    def from_arrays(cls, train_images, train_labels, test_images, test_labels,
                    normalisation: str = "corrected") -> "TrainData":
        """From uint8 images ``(n, 28, 28)`` (or ``(n, d)``) and labels; pixels are scaled to [0, 1]
        and normalised with :func:`symcorr.data.normalisation_constants` (``"corrected"``: the
        training set's own mean/std; ``"paper"``: MNIST's 0.1307/0.3081)."""
        from ..data.idx import normalisation_constants, normalise_images
        if normalisation not in ("corrected", "paper"):
            raise SpecError(f"must be 'corrected' or 'paper', got {normalisation!r}", "normalisation")
        mean, std = normalisation_constants(train_images, normalisation)
        to_t = lambda a: torch.from_numpy(normalise_images(a, mean, std))           # noqa: E731
        lab = lambda a: torch.as_tensor(np.asarray(a, dtype=np.int64))               # noqa: E731
        return cls(to_t(train_images), lab(train_labels), to_t(test_images), lab(test_labels),
                   mean, std, normalisation)

    @classmethod
    def load(cls, root=None, normalisation: str = "corrected") -> "TrainData":
        """The real Fashion-MNIST (see :func:`symcorr.data.load_fashion_mnist`)."""
        from ..data.idx import load_fashion_mnist
        fm = load_fashion_mnist(root)
        return cls.from_arrays(fm.train_images, fm.train_labels, fm.test_images, fm.test_labels,
                               normalisation)


@dataclass
class TrainOutcome:
    """Result of :func:`train_models` for M models.

    ``test_acc``: ``(M, epochs)`` test accuracy in percent after each epoch; ``train_loss``:
    ``(M, epochs)`` mean squared error over that epoch's training examples (the loss above averaged
    over the epoch, each batch weighted by its size); ``W0``, ``W1``: the trained weights.
    """

    test_acc: np.ndarray
    train_loss: np.ndarray
    W0: torch.Tensor
    W1: torch.Tensor

    @property
    def max_acc(self) -> np.ndarray:
        """Maximum test accuracy over the epochs, per model (percent)."""
        return self.test_acc.max(axis=1)


def _as_generator(shuffle) -> torch.Generator:
    if isinstance(shuffle, torch.Generator):
        return shuffle
    return torch.Generator().manual_seed(int(shuffle))


def _progress_fn(progress):
    if progress is None:
        return lambda n: None
    if hasattr(progress, "update"):
        return progress.update
    if callable(progress):
        return progress
    raise SpecError("must be None, a callable taking a count, or an object with .update(n) (tqdm)",
                    "progress")


def train_models(W0: torch.Tensor, W1: torch.Tensor, data: TrainData, *, target: str = "hot",
                 epochs: int = 20, batch_size: int = 64, lr: float = 1e-3, gamma: float = 0.7,
                 betas=(0.9, 0.999), eps: float = 1e-8, shuffle: int | torch.Generator = 0,
                 test_batch_size: int = 2500, gemm: str = "auto", progress=None,
                 fused_adam: bool | None = None) -> TrainOutcome:
    """Train M two-layer ReLU nets (no biases) at once, with the protocol in the module docstring.

    ``W0`` (M, width, n_in) and ``W1`` (M, n_out, width) are the initial weights (copied, not
    modified).  ``shuffle``: a seed or a ``torch.Generator``; epoch e trains on the batches of the e-th
    ``torch.randperm(n_train, generator=g)``, shared by all M models (the last batch is smaller when
    ``batch_size`` does not divide n_train, as a DataLoader without ``drop_last``).  Epoch e (from 0)
    uses learning rate ``lr * gamma**e`` (StepLR with step_size 1).  ``progress`` is called with M
    (or its ``.update(M)``) after each epoch.  Returns a :class:`TrainOutcome`.
    """
    _check_target(target)
    for name, val in (("epochs", epochs), ("batch_size", batch_size), ("test_batch_size", test_batch_size)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
            raise SpecError(f"must be a positive integer, got {val!r}", name)
    mm = _gemm_nt(gemm)
    tick = _progress_fn(progress)
    with torch.no_grad():
        W0 = W0.detach().to(torch.float32).contiguous().clone()
        W1 = W1.detach().to(torch.float32).contiguous().clone()
        M, width, n_in = W0.shape
        n_out = W1.shape[1]
        if W1.shape != (M, n_out, width):
            raise SpecError(f"W1 must have shape (M, n_out, {width}) with M = {M}, got {tuple(W1.shape)}",
                            "W1")
        x_tr = data.x_train.to(torch.float32).contiguous()
        if x_tr.shape[1] != n_in:
            raise SpecError(f"inputs have {x_tr.shape[1]} features but W0 expects {n_in}", "data")
        n = x_tr.shape[0]
        targets_t = make_targets(data.y_train, target, n_out).t().contiguous()     # (n_out, n)
        x_te = data.x_test.to(torch.float32).contiguous()
        y_te = torch.as_tensor(data.y_test, dtype=torch.int64)
        gW0 = torch.zeros_like(W0)
        gW1 = torch.zeros_like(W1)
        W0f, gW0f = W0.view(M * width, n_in), gW0.view(M * width, n_in)
        adam = StackedAdam([W0, W1], betas, eps, fused=fused_adam)
        gen = _as_generator(shuffle)
        onednn = gemm != "torch" and bool(_onednn_op())
        threshold_backward = torch.ops.aten.threshold_backward
        test_acc = np.zeros((M, epochs))
        train_loss = np.zeros((M, epochs))
        for e in range(epochs):
            lr_e = lr * gamma ** e
            perm = torch.randperm(n, generator=gen)
            sse = torch.zeros(M, dtype=torch.float64)
            for s in range(0, n, batch_size):
                idx = perm[s:s + batch_size]
                B = idx.numel()
                x = x_tr.index_select(0, idx)                                # (B, n_in)
                Zt = mm(W0f, x, relu=True).view(M, width, B)                 # z = relu(W0 x), transposed
                err = torch.bmm(W1, Zt).sub_(targets_t.index_select(1, idx))  # f - t, (M, n_out, B)
                sse += err.square().sum((1, 2))
                delta = err.mul_(2.0 / (B * n_out))                          # dL/df
                torch.bmm(delta, Zt.transpose(1, 2), out=gW1)                # dL/dW1
                # dL/dh = dL/dz * 1[h > 0], and 1[h > 0] = 1[z > 0]
                dHt = threshold_backward(torch.bmm(W1.transpose(1, 2), delta), Zt, 0)
                if onednn:
                    gW0f.copy_(mm(dHt.view(M * width, B), x.t().contiguous()))  # dL/dW0
                else:
                    torch.mm(dHt.view(M * width, B), x, out=gW0f)
                adam.step((gW0, gW1), lr_e)
            train_loss[:, e] = (sse / (n * n_out)).numpy()
            correct = evaluate(W0, W1, x_te, y_te, target, batch_size=test_batch_size, gemm=mm)
            test_acc[:, e] = 100.0 * correct.numpy() / x_te.shape[0]
            tick(M)
    return TrainOutcome(test_acc, train_loss, W0, W1)


def reference_train(W0: torch.Tensor, W1: torch.Tensor, data: TrainData, *, target: str = "hot",
                    epochs: int = 20, batch_size: int = 64, lr: float = 1e-3, gamma: float = 0.7,
                    shuffle: int | torch.Generator = 0, progress=None) -> TrainOutcome:
    """The plain way, one model at a time: ``torch.nn`` + autograd + ``torch.optim.Adam`` + ``StepLR``.

    Same protocol and same batch order as :func:`train_models` (one ``randperm`` per epoch from
    ``shuffle``, reused for every model); used to check and to benchmark the vectorised trainer.
    """
    _check_target(target)
    M = W0.shape[0]
    tick = _progress_fn(progress)
    n = data.x_train.shape[0]
    gen = _as_generator(shuffle)
    perms = [torch.randperm(n, generator=gen) for _ in range(epochs)]
    T = make_targets(data.y_train, target, W1.shape[1])
    test_acc, train_loss = np.zeros((M, epochs)), np.zeros((M, epochs))
    out0, out1 = torch.empty_like(W0), torch.empty_like(W1)
    for m in range(M):
        net = torch.nn.Sequential(torch.nn.Linear(W0.shape[2], W0.shape[1], bias=False), torch.nn.ReLU(),
                                  torch.nn.Linear(W1.shape[2], W1.shape[1], bias=False))
        with torch.no_grad():
            net[0].weight.copy_(W0[m])
            net[2].weight.copy_(W1[m])
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=gamma)
        for e in range(epochs):
            total = 0.0
            for s in range(0, n, batch_size):
                idx = perms[e][s:s + batch_size]
                opt.zero_grad()
                loss = torch.nn.functional.mse_loss(net(data.x_train[idx]), T[idx])
                loss.backward()
                opt.step()
                total += loss.item() * idx.numel()
            sched.step()
            train_loss[m, e] = total / n
            with torch.no_grad():
                pred = predict(net(data.x_test), target)
            test_acc[m, e] = 100.0 * (pred == data.y_test).sum().item() / data.x_test.shape[0]
            tick(1)
        with torch.no_grad():
            out0[m], out1[m] = net[0].weight, net[2].weight
    return TrainOutcome(test_acc, train_loss, out0, out1)


# ---------------------------------------------------------------------------------------------------
# The sweep
# ---------------------------------------------------------------------------------------------------

def _is_int(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, np.integer))


@dataclass(frozen=True)
class SweepConfig:
    """What :func:`run_sweep` trains: every (mu, k) cell ``runs`` times.

    Defaults are the paper's heatmap (one-hot, mu = 0..0.20 by 0.01, k = 0, 2, ..., 10, 10 runs, 20
    epochs, batch 64, Adam 1e-3, StepLR 0.7); :meth:`paper_cold_line` is the one-cold line (k = 10,
    20 runs) and :meth:`quick` a small smoke-test grid.  ``models_per_chunk`` models are trained at
    once (memory ~0.7 MB per model plus the data); ``threads``: torch threads during the sweep
    (default: all CPUs available to the process).  ``progress``: ``None``, a callable taking a count,
    or a tqdm bar; it advances by one per model-epoch (total :attr:`total_model_epochs`).
    ``init_sampler``: replaces :func:`init_weights` (same signature; receives one generator per model).
    """

    mus: tuple = PAPER_MUS
    ks: tuple = PAPER_KS
    runs: int = 10
    targets: str = "hot"
    epochs: int = 20
    batch_size: int = 64
    lr: float = 1e-3
    gamma: float = 0.7
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    seed: int = 0
    normalisation: str = "corrected"
    data_root: str | None = None
    models_per_chunk: int = 24
    threads: int | None = None
    test_batch_size: int = 2500
    gemm: str = "auto"
    progress: Any = field(default=None, compare=False, repr=False)
    init_sampler: InitSampler | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)                   # noqa: E731
        try:
            mus = np.atleast_1d(np.asarray(self.mus, dtype=np.float64))
        except (TypeError, ValueError):
            raise SpecError(f"the mu grid must be a list of numbers, got {self.mus!r}", "mus") from None
        if mus.ndim != 1 or mus.size == 0:
            raise SpecError("the mu grid must be a non-empty, one-dimensional list of numbers", "mus")
        if not np.all(np.isfinite(mus)):
            raise SpecError(f"every mu must be finite, got {mus.tolist()}", "mus")
        if len(set(mus.tolist())) != mus.size:
            raise SpecError(f"mu values must be distinct, got {mus.tolist()}", "mus")
        set_("mus", tuple(float(m) for m in mus))
        ks = list(self.ks) if isinstance(self.ks, (list, tuple, np.ndarray, range)) else [self.ks]
        if not ks:
            raise SpecError("the k grid must be a non-empty list of integers", "ks")
        for i, k in enumerate(ks):
            if not _is_int(k) or not 0 <= int(k) <= N_OUT:
                raise SpecError(f"k must be an integer in 0..{N_OUT} (number of shifted output rows), "
                                f"got {k!r}", f"ks[{i}]")
        if len(set(int(k) for k in ks)) != len(ks):
            raise SpecError(f"k values must be distinct, got {[int(k) for k in ks]}", "ks")
        set_("ks", tuple(int(k) for k in ks))
        for name in ("runs", "epochs", "batch_size", "models_per_chunk", "test_batch_size"):
            v = getattr(self, name)
            if not _is_int(v) or v < 1:
                raise SpecError(f"must be an integer >= 1, got {v!r}", name)
            set_(name, int(v))
        if self.threads is not None and (not _is_int(self.threads) or self.threads < 1):
            raise SpecError(f"must be None or an integer >= 1, got {self.threads!r}", "threads")
        if not _is_int(self.seed) or self.seed < 0:
            raise SpecError(f"must be a non-negative integer, got {self.seed!r}", "seed")
        _check_target(self.targets)
        if self.normalisation not in ("corrected", "paper"):
            raise SpecError(f"must be 'corrected' or 'paper', got {self.normalisation!r}", "normalisation")
        for name in ("lr", "gamma", "eps"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise SpecError(f"must be a positive number, got {v!r}", name)
        b = tuple(float(x) for x in self.betas)
        if len(b) != 2 or not all(0.0 <= x < 1.0 for x in b):
            raise SpecError(f"must be two numbers in [0, 1), got {self.betas!r}", "betas")
        set_("betas", b)
        if self.gemm not in ("auto", "onednn", "torch"):
            raise SpecError(f"must be 'auto', 'onednn' or 'torch', got {self.gemm!r}", "gemm")
        if self.progress is not None:
            _progress_fn(self.progress)

    # presets -------------------------------------------------------------------------------------
    @classmethod
    def paper_heatmap(cls, **overrides) -> "SweepConfig":
        """Paper Fig. 1 heatmap: one-hot, 21 mu x 6 k, 10 runs (1260 trainings)."""
        return cls(**{**dict(mus=PAPER_MUS, ks=PAPER_KS, runs=10, targets="hot"), **overrides})

    @classmethod
    def paper_cold_line(cls, **overrides) -> "SweepConfig":
        """Paper's one-cold line: k = 10, 21 mu, 20 runs (420 trainings)."""
        return cls(**{**dict(mus=PAPER_MUS, ks=(10,), runs=20, targets="cold"), **overrides})

    @classmethod
    def quick(cls, **overrides) -> "SweepConfig":
        """A small grid for a first look: mu in {0, 0.1, 0.2}, k in {0, 10}, 2 runs, 3 epochs
        (12 trainings, a few seconds on two cores)."""
        return cls(**{**dict(mus=(0.0, 0.1, 0.2), ks=(0, 10), runs=2, epochs=3), **overrides})

    # bookkeeping ---------------------------------------------------------------------------------
    @property
    def n_models(self) -> int:
        return len(self.mus) * len(self.ks) * self.runs

    @property
    def total_model_epochs(self) -> int:
        """Units of ``progress``: one per model per epoch."""
        return self.n_models * self.epochs

    def to_dict(self) -> dict:
        """JSON-able description (without ``progress`` and ``init_sampler``)."""
        d = asdict(replace(self, progress=None, init_sampler=None))
        d.pop("progress"), d.pop("init_sampler")
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}


def _mu_key(mu: float) -> int:
    """A non-negative integer naming mu for seeding (its float64 bits, after rounding off 1e-12 noise
    so that 0.07 from ``np.arange`` and the literal 0.07 agree)."""
    mu = round(float(mu), 12) + 0.0          # +0.0 turns -0.0 into 0.0
    return struct.unpack("<Q", struct.pack("<d", mu))[0]


def sweep_chunks(config: SweepConfig) -> list[tuple[int, list[tuple[int, int]]]]:
    """How :func:`run_sweep` packs models: a list of ``(run, [(i_mu, i_k), ...])`` chunks.

    Chunks never mix run indices (a run's models share a shuffling stream); each run's
    ``len(mus) * len(ks)`` models are split into near-equal chunks of at most ``models_per_chunk``.
    """
    cells = [(i, j) for i in range(len(config.mus)) for j in range(len(config.ks))]
    n_chunks = math.ceil(len(cells) / config.models_per_chunk)
    bounds = np.linspace(0, len(cells), n_chunks + 1).round().astype(int)
    return [(r, cells[a:b]) for r in range(config.runs) for a, b in zip(bounds[:-1], bounds[1:])]


@contextlib.contextmanager
def _torch_threads(n: int | None):
    old = torch.get_num_threads()
    if n is None:
        try:
            n = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            n = os.cpu_count() or 1
    torch.set_num_threads(int(n))
    try:
        yield int(n)
    finally:
        torch.set_num_threads(old)


def run_sweep(config: SweepConfig, data: TrainData | None = None) -> "SweepResult":
    """Train every (mu, k, run) of ``config`` and collect test accuracies.

    ``data``: preloaded :class:`TrainData` (e.g. synthetic, or to reuse the loaded set across sweeps);
    default: Fashion-MNIST from ``config.data_root`` normalised per ``config.normalisation``.
    Reproducible given the config (see the module docstring for the seeding scheme).
    """
    if not isinstance(config, SweepConfig):
        raise SpecError(f"expected a SweepConfig, got {type(config).__name__}", "config")
    t0 = time.perf_counter()
    if data is None:
        data = TrainData.load(config.data_root, config.normalisation)
    sampler = config.init_sampler or init_weights
    tcode = _TARGET_CODE[config.targets]
    n_mu, n_k = len(config.mus), len(config.ks)
    test_acc = np.full((n_mu, n_k, config.runs, config.epochs), np.nan)
    train_loss = np.full_like(test_acc, np.nan)
    tick = _progress_fn(config.progress)
    with _torch_threads(config.threads):
        for run, cells in sweep_chunks(config):
            mus = [config.mus[i] for i, _ in cells]
            ks = [config.ks[j] for _, j in cells]
            gens = [torch.Generator().manual_seed(child_seed(config.seed, 1, tcode, run, _mu_key(mu), k))
                    for mu, k in zip(mus, ks)]
            W0, W1 = sampler(len(cells), mus, ks, gens)
            shuffle = torch.Generator().manual_seed(child_seed(config.seed, 2, tcode, run))
            out = train_models(W0, W1, data, target=config.targets, epochs=config.epochs,
                               batch_size=config.batch_size, lr=config.lr, gamma=config.gamma,
                               betas=config.betas, eps=config.eps, shuffle=shuffle,
                               test_batch_size=config.test_batch_size, gemm=config.gemm, progress=tick)
            ii = np.array([i for i, _ in cells])
            jj = np.array([j for _, j in cells])
            test_acc[ii, jj, run] = out.test_acc
            train_loss[ii, jj, run] = out.train_loss
    return SweepResult(config=config, mus=np.array(config.mus), ks=np.array(config.ks),
                       test_acc=test_acc, train_loss=train_loss, seconds=time.perf_counter() - t0,
                       norm_mean=float(data.mean), norm_std=float(data.std))


# ---------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------

_T975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010, 2.1788,
         2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687, 2.0639,
         2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)


def t_quantile_975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (table to 30, then the
    Cornish-Fisher expansion, error < 1e-4)."""
    if df < 1:
        return float("nan")
    if df <= 30:
        return _T975[df - 1]
    z = 1.959963984540054
    return (z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3))


@dataclass
class SweepResult:
    """Per-run accuracies of a sweep.

    ``test_acc``: ``(n_mu, n_k, runs, epochs)`` test accuracy (percent) after each epoch;
    ``train_loss``: same shape, epoch-mean training MSE.  Derived: :attr:`max_acc` (the paper's
    quantity, max over epochs), :meth:`mean`, :meth:`stderr` (sample std / sqrt(runs)),
    :meth:`ci95` (mean +- t_{0.975, runs-1} s.e.).
    """

    config: SweepConfig
    mus: np.ndarray
    ks: np.ndarray
    test_acc: np.ndarray
    train_loss: np.ndarray
    seconds: float = float("nan")
    norm_mean: float = float("nan")
    norm_std: float = float("nan")

    @property
    def runs(self) -> int:
        return self.test_acc.shape[2]

    @property
    def max_acc(self) -> np.ndarray:
        """``(n_mu, n_k, runs)``: each training's maximum test accuracy over the epochs (percent)."""
        return self.test_acc.max(axis=-1)

    @property
    def best_epoch(self) -> np.ndarray:
        """``(n_mu, n_k, runs)``: the (1-based) epoch at which that maximum was first reached."""
        return self.test_acc.argmax(axis=-1) + 1

    def mean(self) -> np.ndarray:
        """``(n_mu, n_k)`` mean over runs of the max accuracy."""
        return self.max_acc.mean(axis=-1)

    def stderr(self) -> np.ndarray:
        """``(n_mu, n_k)`` standard error of that mean (NaN with a single run)."""
        if self.runs < 2:
            return np.full(self.max_acc.shape[:2], np.nan)
        return self.max_acc.std(axis=-1, ddof=1) / math.sqrt(self.runs)

    def ci95(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper 95 % confidence limits of the mean (Student t)."""
        half = t_quantile_975(self.runs - 1) * self.stderr()
        return self.mean() - half, self.mean() + half

    # tables --------------------------------------------------------------------------------------
    def rows(self) -> list[dict]:
        """One dict per (mu, k) cell."""
        mean, se = self.mean(), self.stderr()
        lo, hi = self.ci95()
        be = self.best_epoch.mean(axis=-1)
        out = []
        for i, mu in enumerate(self.mus):
            for j, k in enumerate(self.ks):
                out.append(dict(targets=self.config.targets, mu=float(mu), k=int(k), runs=self.runs,
                                mean_max_acc=float(mean[i, j]), stderr=float(se[i, j]),
                                ci95_low=float(lo[i, j]), ci95_high=float(hi[i, j]),
                                mean_best_epoch=float(be[i, j])))
        return out

    def to_csv(self, path, per_run: bool = False) -> Path:
        """Write the per-cell table, or with ``per_run`` one row per training (its max accuracy, best
        epoch and accuracy after every epoch)."""
        path = Path(path)
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            if not per_run:
                rows = self.rows()
                w.writerow(list(rows[0]))
                for r in rows:
                    w.writerow([f"{v:.6g}" if isinstance(v, float) else v for v in r.values()])
            else:
                E = self.test_acc.shape[-1]
                w.writerow(["targets", "mu", "k", "run", "max_acc", "best_epoch"]
                           + [f"acc_epoch_{e + 1}" for e in range(E)])
                for i, mu in enumerate(self.mus):
                    for j, k in enumerate(self.ks):
                        for r in range(self.runs):
                            w.writerow([self.config.targets, f"{mu:.6g}", int(k), r,
                                        f"{self.max_acc[i, j, r]:.4f}", int(self.best_epoch[i, j, r])]
                                       + [f"{a:.4f}" for a in self.test_acc[i, j, r]])
        return path

    def to_markdown(self, path=None, digits: int = 2) -> str:
        """A mu x k table of "mean ± s.e." (rows mu growing downward as in a table); optionally written."""
        mean, se = self.mean(), self.stderr()
        head = "| μ \\ k | " + " | ".join(str(int(k)) for k in self.ks) + " |"
        lines = [f"Max test accuracy (%), targets={self.config.targets}, mean ± s.e. over "
                 f"{self.runs} run(s), {self.test_acc.shape[-1]} epochs", "",
                 head, "|" + "---|" * (len(self.ks) + 1)]
        for i, mu in enumerate(self.mus):
            cells = [f"{mean[i, j]:.{digits}f}" + ("" if np.isnan(se[i, j]) else f" ± {se[i, j]:.{digits}f}")
                     for j in range(len(self.ks))]
            lines.append(f"| {mu:.2f} | " + " | ".join(cells) + " |")
        text = "\n".join(lines) + "\n"
        if path is not None:
            Path(path).write_text(text)
        return text

    # figures -------------------------------------------------------------------------------------
    def plot_heatmap(self, path, *, cmap: str = "viridis", annotate: bool = False) -> Path:
        """Heatmap of the mean max accuracy: rows mu (growing upward), columns k (Agg backend)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        mean = self.mean()
        fig = Figure(figsize=(1.2 + 0.9 * len(self.ks), 1.4 + 0.3 * len(self.mus)))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        im = ax.imshow(mean, origin="lower", aspect="auto", cmap=cmap, interpolation="nearest")
        ax.set_xticks(range(len(self.ks)), [str(int(k)) for k in self.ks])
        ax.set_yticks(range(len(self.mus)), [f"{m:.2f}" for m in self.mus])
        ax.set_xlabel("k (number of output rows of $W^1$ with mean $\\mu$)")
        ax.set_ylabel(r"$\mu_{W^1}$")
        ax.set_title("Accuracy vs. Symmetry Breaking")
        fig.colorbar(im, ax=ax, label="Max test accuracy (%)")
        if annotate:
            for i in range(len(self.mus)):
                for j in range(len(self.ks)):
                    ax.text(j, i, f"{mean[i, j]:.1f}", ha="center", va="center", fontsize=6, color="w")
        fig.tight_layout()
        fig.savefig(path, dpi=150)
        return Path(path)

    def plot_line(self, path, k: int | None = None, *, title: str | None = None) -> Path:
        """Mean max accuracy against mu for one k, with its 95 % confidence band (Student t over runs;
        the original used seaborn's bootstrap band).  Default k: the largest in the grid."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        k = int(self.ks.max()) if k is None else int(k)
        if k not in self.ks.tolist():
            raise SpecError(f"k = {k} is not in the sweep's grid {self.ks.tolist()}", "k")
        j = self.ks.tolist().index(k)
        mean = self.mean()[:, j]
        lo, hi = (a[:, j] for a in self.ci95())
        fig = Figure(figsize=(6, 4))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        ax.plot(self.mus, mean, marker="o", ms=3, color="C0", label=f"mean of {self.runs} runs (k = {k})")
        if self.runs > 1:
            ax.fill_between(self.mus, lo, hi, color="C0", alpha=0.25, label="95% CI")
        default = ("One-cold" if self.config.targets == "cold" else "One-hot") + " Accuracy vs. Init. Mean"
        ax.set_title(title or default)
        ax.set_xlabel(r"$\mu_{W^1}$")
        ax.set_ylabel("Max Accuracy (%)")
        ax.legend(loc="best", fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=150)
        return Path(path)

    # persistence ---------------------------------------------------------------------------------
    def save_npz(self, path) -> Path:
        """Save arrays and config (JSON) to ``path`` (.npz)."""
        np.savez_compressed(path, mus=self.mus, ks=self.ks, test_acc=self.test_acc,
                            train_loss=self.train_loss, seconds=self.seconds, norm_mean=self.norm_mean,
                            norm_std=self.norm_std, config=json.dumps(self.config.to_dict()))
        return Path(path)

    @classmethod
    def load_npz(cls, path) -> "SweepResult":
        with np.load(path, allow_pickle=False) as z:
            cfg = json.loads(str(z["config"]))
            return cls(config=SweepConfig(**cfg), mus=z["mus"], ks=z["ks"], test_acc=z["test_acc"],
                       train_loss=z["train_loss"], seconds=float(z["seconds"]),
                       norm_mean=float(z["norm_mean"]), norm_std=float(z["norm_std"]))


# ---------------------------------------------------------------------------------------------------
# Command line: python -m symcorr.experiments.fashion_mnist [--full | --quick] ...
# ---------------------------------------------------------------------------------------------------

def _float_list(text: str) -> tuple[float, ...]:
    """"0,0.1,0.2" or "start:stop:step" (stop included)."""
    if ":" in text:
        a, b, s = (float(x) for x in text.split(":"))
        n = int(math.floor((b - a) / s + 1e-9)) + 1
        return tuple(round(a + i * s, 10) for i in range(n))
    return tuple(float(x) for x in text.split(",") if x.strip())


def _int_list(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of the sweep command (usable by a ``symcorr fashion-mnist`` subcommand)."""
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--full", action="store_true",
                   help="the paper's Fig. 1: one-hot heatmap (21 mu x 6 k x 10 runs) and the one-cold "
                        "line (k = 10, 20 runs); about 25 min on two AVX-512 cores (default)")
    g.add_argument("--quick", action="store_true", help="a small grid (SweepConfig.quick), a few seconds")
    g.add_argument("--heatmap-only", action="store_true", help="only the one-hot heatmap of --full")
    g.add_argument("--line-only", action="store_true", help="only the one-cold line of --full")
    parser.add_argument("--targets", choices=TARGETS, help="override the target encoding")
    parser.add_argument("--mus", type=_float_list, help='mu grid: "0,0.1" or "0:0.2:0.01"')
    parser.add_argument("--ks", type=_int_list, help='k grid: "0,2,4"')
    parser.add_argument("--runs", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--normalisation", choices=("corrected", "paper"), default="corrected")
    parser.add_argument("--data-root", "--data", dest="data_root",
                        help="folder with the IDX files (default: $SYMCORR_FASHION_MNIST "
                             "or /usr/share/datasets/fashion-mnist/)")
    parser.add_argument("--models-per-chunk", type=int, default=24)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--out", default="reports/fashion_mnist", help="output folder")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def run_from_args(args: argparse.Namespace) -> int:
    """Run the sweep(s) chosen by ``args`` and write tables, figures and .npz files to ``args.out``."""
    common = dict(seed=args.seed, normalisation=args.normalisation, data_root=args.data_root,
                  models_per_chunk=args.models_per_chunk, threads=args.threads)
    if args.quick:
        jobs = [("quick", SweepConfig.quick(**common))]
    else:
        jobs = []
        if not args.line_only:
            jobs.append(("heatmap", SweepConfig.paper_heatmap(**common)))
        if not args.heatmap_only:
            jobs.append(("cold_line", SweepConfig.paper_cold_line(**common)))
    overrides = {k: getattr(args, k) for k in ("targets", "mus", "ks", "runs", "epochs")
                 if getattr(args, k) is not None}
    jobs = [(name, replace(cfg, **overrides)) for name, cfg in jobs]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = TrainData.load(args.data_root, args.normalisation)
    for name, cfg in jobs:
        bar = None
        if not args.no_progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=cfg.total_model_epochs, desc=name, unit="model-epoch", smoothing=0.05)
        res = run_sweep(replace(cfg, progress=bar), data)
        if bar is not None:
            bar.close()
        res.save_npz(out / f"{name}.npz")
        res.to_csv(out / f"{name}.csv")
        res.to_csv(out / f"{name}_runs.csv", per_run=True)
        md = res.to_markdown(out / f"{name}.md")
        if len(res.ks) > 1:
            res.plot_heatmap(out / f"{name}_heatmap.png")
        if len(res.mus) > 1:
            res.plot_line(out / f"{name}_line.png")
        print(md)
        print(f"{name}: {cfg.n_models} trainings in {res.seconds:.0f} s -> {out}/")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m symcorr.experiments.fashion_mnist",
                                     description="Fashion-MNIST symmetry-breaking sweep (paper Fig. 1).")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_from_args(args)
    except (SpecError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":      # pragma: no cover
    sys.exit(main())
