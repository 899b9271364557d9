r"""Training many Fashion-MNIST models at once, with hand-written gradients and the one Adam.

Loss per model, on a batch of B examples with targets t (:func:`~.model.make_targets`)::

    L = 1/(10 B) * sum_b sum_a (f_a(x_b) - t_{b,a})^2          (= F.mse_loss, mean reduction)

Metric: test accuracy after every epoch; the reported number is its maximum over the epochs.

Optimiser: Adam (lr 1e-3, betas (0.9, 0.999), eps 1e-8; :class:`symcorr.optim.Adam`, whose docstring
has the update and its ``torch.optim.Adam`` conventions), batch 64, StepLR(step_size=1, gamma=0.7):
epoch e = 0, 1, ... uses lr * 0.7**e; 20 epochs.

How it is vectorised
--------------------
M models are trained together: ``W0`` has shape (M, 50, 784) and ``W1`` (M, 10, 50).  Gradients are
written by hand (no autograd).  With h = W0 x, z = relu(h), f = W1 z and
delta = dL/df = 2 (f - t) / (10 B)::

    dL/dW1 = sum_b delta_b z_b^T          dL/dz = W1^T delta
    dL/dh  = dL/dz * 1[h > 0]             dL/dW0 = sum_b (dL/dh)_b x_b^T

(the input gradient dL/dx is never formed).  The first layer's forward product and its weight gradient
``dH (M*50, B) @ x (B, 784)`` are ~90 % of the work; both go through :func:`~.model.gemm_nt` (oneDNN
when available).  Each model's loss only depends on its own weights, so the summed loss's gradient with
respect to model m's weights is model m's own gradient, and Adam is elementwise, so one Adam over the
stacked tensors is M separate Adams (checked in the tests against M separate ``torch.nn`` models with
``torch.optim.Adam``, to 1e-5).

Everything is float32.  bfloat16 matrix products were measured (about 1.35x faster per model-step on
the 2-core AVX-512 machine once the fp32 products use oneDNN) and rejected: the products then carry
~0.4 % relative error for a modest gain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...errors import SpecError
from ...optim import Adam
from .model import check_target, evaluate, gemm_nt, make_targets, onednn_op, predict

__all__ = ["TrainData", "TrainOutcome", "train_models", "reference_train", "progress_fn"]


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
        from ...data.idx import normalisation_constants, normalise_images
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
        from ...data.idx import load_fashion_mnist
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


def progress_fn(progress):
    """``progress`` as a function of a count: ``None`` (nothing), a callable, or an object with
    ``.update(n)`` (a tqdm bar); anything else is a SpecError naming ``progress``."""
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
    uses learning rate ``lr * gamma**e`` (StepLR with step_size 1).  ``fused_adam``: the kernel of
    :class:`symcorr.optim.Adam` (``None``: fused when possible).  ``progress`` is called with M (or its
    ``.update(M)``) after each epoch.  Returns a :class:`TrainOutcome`.
    """
    check_target(target)
    for name, val in (("epochs", epochs), ("batch_size", batch_size), ("test_batch_size", test_batch_size)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
            raise SpecError(f"must be a positive integer, got {val!r}", name)
    mm = gemm_nt(gemm)
    tick = progress_fn(progress)
    adam = Adam(betas, eps, fused=fused_adam)
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
        gen = _as_generator(shuffle)
        onednn = gemm != "torch" and bool(onednn_op())
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
                adam.step((W0, W1), (gW0, gW1), lr_e)
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
    check_target(target)
    M = W0.shape[0]
    tick = progress_fn(progress)
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
