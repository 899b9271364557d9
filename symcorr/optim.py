r"""Optimisers over stacked parameters: full-batch gradient descent and Adam, written once.

Both training engines step through this module: :mod:`symcorr.training` (ensembles of spec networks,
autograd gradients) and :mod:`symcorr.experiments.fashion_mnist` (many ReLU nets, hand-written
gradients).  A *stacked* tensor holds the copies of one parameter for M models along its first axis.
Every update below is entrywise, so one optimiser over stacked tensors is exactly M independent
optimisers, one per model; they share only the step counter ``t``, which is right because all models
step together.

Gradient descent (:class:`GradientDescent`), for every parameter :math:`\theta` with gradient :math:`g`::

    theta <- theta - lr * g

as ``torch.optim.SGD`` without momentum, dampening, Nesterov or weight decay (computed as
``theta.add_(g, alpha=-lr)``, its arithmetic).

Adam (:class:`Adam`; Kingma & Ba 2015), at step ``t = 1, 2, ...`` with ``m_0 = v_0 = 0``::

    m_t     = b1 m_{t-1} + (1 - b1) g
    v_t     = b2 v_{t-1} + (1 - b2) g^2
    m_hat   = m_t / (1 - b1^t)
    v_hat   = v_t / (1 - b2^t)
    theta_t = theta_{t-1} - lr_t * m_hat / (sqrt(v_hat) + eps)

Conventions, those of ``torch.optim.Adam`` with its defaults:

* ``eps`` is added to :math:`\sqrt{\hat v_t}` (outside the square root, after the bias correction;
  not inside it, and not the paper's :math:`\hat\epsilon` variant that adds it to :math:`\sqrt{v_t}`);
* the bias corrections use the step count ``t`` as a float64 number, whatever the tensors' dtype;
* ``lr_t`` is the learning rate passed to that step (a schedule such as StepLR changes it between
  steps; the bias corrections depend on ``t`` only);
* no weight decay (``weight_decay=0``), no AMSGrad, no ``maximize``: no caller uses them, so they are
  not offered.

Two kernels compute these equations, each with the arithmetic of the corresponding
``torch.optim.Adam`` (checked bit for bit in ``tests/test_optim.py``):

* ``fused=False``: torch's single-tensor arithmetic, ``m.lerp_(g, 1 - b1)``,
  ``v.mul_(b2).addcmul_(g, g, value=1 - b2)``, ``denom = (v.sqrt() / (1 - b2^t) ** 0.5).add_(eps)``,
  ``theta.addcdiv_(m, denom, value=-lr / (1 - b1^t))``: identical to ``torch.optim.Adam(...)`` on CPU
  (whose default there is this single-tensor path);
* ``fused=True``: torch's fused CPU kernel (one pass over memory), identical to
  ``torch.optim.Adam(..., fused=True)`` over the same stacked tensors.  This vectorised kernel rounds
  an element according to its position in the tensor (vector body or tail), so against M separate
  fused optimisers, one per model, it agrees to rounding only.

The two kernels differ from each other by floating-point rounding only (a few units in the last
place per step).  ``fused=None`` (the default) takes the fused kernel when torch has it and every
tensor is a contiguous float32/float64 CPU tensor, the single-tensor one otherwise.
"""

from __future__ import annotations

import math
import numbers
from typing import Sequence

import torch

from .errors import SpecError

__all__ = ["OPTIMIZERS", "GradientDescent", "Adam", "make_optimizer", "adam_hyperparameters",
           "fused_adam_available"]

#: the optimisers by name, as ``make_optimizer`` and the training functions accept them
OPTIMIZERS = ("gd", "adam")

_FUSED_DTYPES = (torch.float32, torch.float64)
_FUSED_AVAILABLE: bool | None = None     # cached answer of fused_adam_available()


def fused_adam_available() -> bool:
    """Whether this torch build has the fused CPU Adam kernel (``torch._fused_adam_``) and it computes
    one known step correctly (cached after the first call)."""
    global _FUSED_AVAILABLE
    if _FUSED_AVAILABLE is None:
        try:
            p, g = torch.zeros(3), torch.ones(3)
            m, v, s = torch.zeros(3), torch.zeros(3), torch.ones(())
            torch._fused_adam_([p], [g], [m], [v], [], [s], lr=0.1, beta1=0.9, beta2=0.999,
                               weight_decay=0.0, eps=1e-8, amsgrad=False, maximize=False)
            # first step from zero state: m_hat = g, v_hat = g^2, so theta = -lr * 1 / (1 + eps)
            _FUSED_AVAILABLE = bool(torch.allclose(p, torch.full((3,), -0.1), atol=1e-6))
        except (AttributeError, RuntimeError):    # no such operator in this build / no CPU kernel
            _FUSED_AVAILABLE = False
    return _FUSED_AVAILABLE


def adam_hyperparameters(betas, eps) -> tuple[float, float, float]:
    """Validate Adam's ``betas`` (two numbers in [0, 1)) and ``eps`` (a positive finite number);
    returns ``(beta1, beta2, eps)`` as floats.  The one check used by every caller."""
    try:
        b = tuple(float(x) for x in betas)
    except (TypeError, ValueError):
        raise SpecError(f"Adam's betas must be two numbers in [0, 1), got {betas!r}", "betas") from None
    if len(b) != 2 or not all(0.0 <= x < 1.0 for x in b):
        raise SpecError(f"Adam's betas must be two numbers in [0, 1), got {betas!r}", "betas")
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not math.isfinite(eps) or eps <= 0:
        raise SpecError(f"Adam's eps must be a positive number, got {eps!r}", "eps")
    return b[0], b[1], float(eps)


def _check_lr(lr) -> float:
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr <= 0:
        raise SpecError(f"learning rate must be a positive number, got {lr!r}", "lr")
    return float(lr)


def _check_pairs(params: Sequence[torch.Tensor], grads: Sequence[torch.Tensor]):
    params, grads = list(params), list(grads)
    if len(params) != len(grads):
        raise SpecError(f"got {len(params)} parameter tensors but {len(grads)} gradients", "grads")
    for i, (p, g) in enumerate(zip(params, grads)):
        if p.shape != g.shape:
            raise SpecError(f"gradient {i} has shape {tuple(g.shape)}, its parameter {tuple(p.shape)}",
                            "grads")
    return params, grads


class GradientDescent:
    r"""Gradient descent :math:`\theta \leftarrow \theta - \eta g` on stacked tensors, in place."""

    name = "gd"

    def step(self, params: Sequence[torch.Tensor], grads: Sequence[torch.Tensor], lr: float) -> None:
        """One step with learning rate ``lr``; updates the tensors of ``params`` in place."""
        lr = _check_lr(lr)
        params, grads = _check_pairs(params, grads)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.add_(g, alpha=-lr)


class Adam:
    r"""Adam on stacked tensors, in place (equations and conventions in the module docstring).

    ``step(params, grads, lr)`` updates the tensors of ``params``; the state (``exp_avg`` = :math:`m`,
    ``exp_avg_sq`` = :math:`v`, one pair per tensor, and the step count ``t``) is created at the first
    step from the parameters' shapes and every later step must pass tensors of the same shapes in the
    same order (they may be other tensor objects, e.g. copies kept as snapshots).  ``fused``: ``True``
    for torch's fused CPU kernel, ``False`` for the single-tensor arithmetic, ``None`` to choose
    (fused when possible).
    """

    name = "adam"

    def __init__(self, betas=(0.9, 0.999), eps: float = 1e-8, *, fused: bool | None = None):
        self.beta1, self.beta2, self.eps = adam_hyperparameters(betas, eps)
        if fused is not None and not isinstance(fused, bool):
            raise SpecError(f"must be True, False or None, got {fused!r}", "fused")
        self.fused = fused
        self.t = 0
        self.exp_avg: list[torch.Tensor] = []
        self.exp_avg_sq: list[torch.Tensor] = []
        self._steps: list[torch.Tensor] = []     # the fused kernel's per-tensor step counters

    def _use_fused(self, params, grads) -> bool:
        tensors = [*params, *grads, *self.exp_avg, *self.exp_avg_sq]
        ok = fused_adam_available() and all(
            t.device.type == "cpu" and t.dtype in _FUSED_DTYPES and t.dtype == params[0].dtype
            and t.is_contiguous() for t in tensors)
        if self.fused is None:
            return ok
        if self.fused and not ok:
            raise SpecError("the fused Adam kernel needs contiguous float32/float64 CPU tensors of one "
                            "dtype and a torch build that has it; use fused=None", "fused")
        return self.fused

    def step(self, params: Sequence[torch.Tensor], grads: Sequence[torch.Tensor], lr: float) -> None:
        """One Adam step with learning rate ``lr``; updates the tensors of ``params`` in place."""
        lr = _check_lr(lr)
        params, grads = _check_pairs(params, grads)
        if self.t == 0:
            self.exp_avg = [torch.zeros_like(p, memory_format=torch.contiguous_format) for p in params]
            self.exp_avg_sq = [torch.zeros_like(p, memory_format=torch.contiguous_format) for p in params]
            self._steps = [torch.zeros((), dtype=torch.float32, device=p.device) for p in params]
        elif [tuple(p.shape) for p in params] != [tuple(m.shape) for m in self.exp_avg]:
            raise SpecError("Adam was started on tensors of shapes "
                            f"{[tuple(m.shape) for m in self.exp_avg]}, now given "
                            f"{[tuple(p.shape) for p in params]}", "params")
        self.t += 1
        with torch.no_grad():
            if self._use_fused(params, grads):
                for s in self._steps:
                    s.fill_(float(self.t))
                torch._fused_adam_(params, grads, self.exp_avg, self.exp_avg_sq, [], self._steps, lr=lr,
                                   beta1=self.beta1, beta2=self.beta2, weight_decay=0.0, eps=self.eps,
                                   amsgrad=False, maximize=False)
                return
            bias_correction1 = 1.0 - self.beta1 ** self.t
            bias_correction2_sqrt = (1.0 - self.beta2 ** self.t) ** 0.5     # as torch: ** 0.5
            for p, g, m, v in zip(params, grads, self.exp_avg, self.exp_avg_sq):
                m.lerp_(g, 1.0 - self.beta1)
                v.mul_(self.beta2).addcmul_(g, g, value=1.0 - self.beta2)
                denom = (v.sqrt() / bias_correction2_sqrt).add_(self.eps)
                p.addcdiv_(m, denom, value=-lr / bias_correction1)


def make_optimizer(name: str, *, betas=(0.9, 0.999), eps: float = 1e-8,
                   fused: bool | None = None) -> GradientDescent | Adam:
    """``"gd"`` -> :class:`GradientDescent`, ``"adam"`` -> :class:`Adam` (with ``betas``, ``eps``,
    ``fused``; ignored by GD)."""
    if name == "gd":
        return GradientDescent()
    if name == "adam":
        return Adam(betas, eps, fused=fused)
    raise SpecError(f"unknown optimizer {name!r}; use 'gd' or 'adam'", "optimizer")
