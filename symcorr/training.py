r"""Ensembles trained by gradient descent, and which symmetries of the network density survive training.

Training maps the initial parameters to :math:`\theta_t = \Phi_t(\theta_0)`; the ensemble at time
:math:`t` is the push-forward :math:`P_t = (\Phi_t)_\# P_0`, whose parameters are no longer independent.
Symmetry-via-duality still applies to :math:`P_t` (paper section 4): if :math:`P_0` is invariant under a
parameter map :math:`T_g` and :math:`\Phi_t(T_g\theta) = T_g\Phi_t(\theta)`, then :math:`P_t` is invariant
and every correlator at time :math:`t` is :math:`g`-invariant.  A sufficient condition for gradient
descent :math:`\theta \mapsto \theta - \eta\nabla\mathcal{L}(\theta)` is

(a) :math:`T_g` linear and orthogonal on parameter space, and (b) :math:`\mathcal{L}(T_g\theta) =
\mathcal{L}(\theta)` for all :math:`\theta`;

then :math:`\nabla\mathcal{L}(T_g\theta) = T_g\nabla\mathcal{L}(\theta)` and every step is equivariant.
With the MSE loss :math:`\mathcal{L} = \frac{1}{Pd}\sum_{p,a}(f_a(x_p) - y_{pa})^2`:

* output rotations :math:`f\mapsto\rho f` (:math:`T_\rho: (W^L, b^L)\mapsto(\rho W^L, \rho b^L)`) leave the
  loss invariant iff :math:`\rho^T y_p = y_p` for every target, i.e. :math:`y \equiv 0` for all of
  :math:`SO(d)`; informative (one-hot) targets break it;
* input rotations (:math:`T_R: W^0 \mapsto W^0R`, :math:`f_{T_R\theta}(x) = f_\theta(Rx)`) leave it
  invariant iff the data set is closed under :math:`x\mapsto Rx` with unchanged labels: for a finite data
  set only a finite subgroup (e.g. :math:`C_4`) survives;
* Adam is coordinate-wise (:math:`\theta \mapsto \theta - \eta\,\hat m/(\sqrt{\hat v}+\epsilon)`, all
  operations entrywise), so it commutes with signed permutations of coordinates but not with rotations:
  even with :math:`y\equiv0` it can break output :math:`SO(d)` while keeping the signed permutations.

:func:`check_equivariance` verifies :math:`\Phi(T_g\theta) = T_g\Phi(\theta)` exactly (float64) for one
:math:`\theta`; :func:`train_ensemble` trains a whole ensemble at once (batched parameter tensors: the
members share no parameters, so the gradient of :math:`\sum_m\mathcal{L}(\theta_m)` is the stack of
per-member gradients; no loop over members) and :class:`TrainedEnsemble` estimates correlators and runs
paired invariance tests (the statistic of :func:`symcorr.montecarlo.invariance_test`) at every snapshot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import torch

from .budget import check_test_budget
from .errors import SpecError
from .verdicts import Side
from .groups import resolve_group
from .montecarlo.accumulators import CorrelatorEstimate, NPointAccumulator
from .montecarlo.ensemble import Ensemble, ProductSource
from .montecarlo.estimators import select_entries
from .montecarlo.invariance import InvarianceTestResult, PairedDifferences, group_elements, invariance_result
from .optim import OPTIMIZERS, adam_hyperparameters, make_optimizer
from .spec import Network

__all__ = [
    "train_ensemble", "TrainedEnsemble", "IsotropyRatio", "mse_loss", "optimizer_map", "parameter_action",
    "check_equivariance", "EquivarianceCheck", "isotropy_ratio", "orbit_dataset",
]

#: training stops with an error when the mean loss exceeds this multiple of its initial value
_DIVERGENCE = 1e6


# ====================================================================================================
# loss, optimisers
# ====================================================================================================
def mse_loss(network: Network, params: Mapping[str, torch.Tensor], X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    r"""Per-member MSE :math:`\mathcal{L}_m = \frac{1}{Pd}\sum_{p,a}(f_{\theta_m,a}(x_p) - y_{pa})^2`,
    shape ``(n,)`` (the mean over points and outputs, as ``torch.nn.functional.mse_loss``)."""
    f = network.forward(params, X)
    return ((f - Y) ** 2).mean(dim=(1, 2))


def _check_data(network: Network, X, Y, dtype, device):
    network._require_concrete("training")
    X = network._as_inputs(X, dtype, device)
    Y = torch.as_tensor(Y, dtype=dtype, device=device)
    d = int(network.output_dim)
    if Y.ndim == 1 and d == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape != (X.shape[0], d):
        raise SpecError(f"targets must have shape ({X.shape[0]}, {d}) (one row per input), got "
                        f"{tuple(Y.shape)}", "Y")
    if not torch.isfinite(Y).all():
        raise SpecError("targets contain NaN or infinite values", "Y")
    return X, Y


def _check_hyper(optimizer: str, lr, steps, betas, eps):
    if optimizer not in OPTIMIZERS:
        raise SpecError(f"unknown optimizer {optimizer!r}; use 'gd' or 'adam'", "optimizer")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise SpecError(f"learning rate must be a positive number, got {lr!r}", "lr")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise SpecError(f"steps must be a non-negative integer, got {steps!r}", "steps")
    adam_hyperparameters(betas, eps)


class _Optimizer:
    r"""Full-batch GD or Adam on the batched parameters of a spec network: the MSE loss, autograd
    gradients, and the step of :mod:`symcorr.optim` (the one implementation of both; the equations are
    there).  Every operation is entrywise or per member, so the members are trained independently."""

    def __init__(self, network, X, Y, optimizer, lr, betas=(0.9, 0.999), eps=1e-8, trainable=None):
        self.network, self.X, self.Y = network, X, Y
        self.kind, self.lr = optimizer, float(lr)
        self.optimizer = make_optimizer(optimizer, betas=betas, eps=eps)
        names = list(network.blocks)
        if trainable is None:
            trainable = names
        unknown = set(trainable) - set(names)
        if unknown:
            raise SpecError(f"unknown parameter block(s) {sorted(unknown)}; the network has {names}",
                            "trainable")
        self.trainable = [n for n in names if n in set(trainable)]
        self.t = 0

    def step(self, params: dict) -> tuple[dict, torch.Tensor]:
        """One step; returns the new parameters (new tensors: the given ones are left as they are, e.g.
        as snapshots) and the per-member loss before it."""
        with torch.enable_grad():
            leaves = {k: (v.detach().requires_grad_(True) if k in self.trainable else v.detach())
                      for k, v in params.items()}
            loss = mse_loss(self.network, leaves, self.X, self.Y)
            grads = torch.autograd.grad(loss.sum(), [leaves[k] for k in self.trainable])
        self.t += 1
        new = {k: (v.detach().clone(memory_format=torch.contiguous_format) if k in self.trainable
                   else v.detach()) for k, v in params.items()}
        self.optimizer.step([new[k] for k in self.trainable], grads, self.lr)
        for name in self.trainable:
            if not torch.isfinite(new[name]).all():
                raise SpecError(f"training diverged: block {name} became NaN/infinite at step {self.t}; "
                                "lower the learning rate", "lr")
        return new, loss.detach()


def optimizer_map(network: Network, X, Y, *, optimizer: str = "gd", lr: float, steps: int = 1,
                  betas=(0.9, 0.999), eps: float = 1e-8, trainable: Sequence[str] | None = None,
                  dtype=torch.float64) -> Callable[[Mapping[str, torch.Tensor]], dict]:
    r"""The training map :math:`\Phi: \theta_0 \mapsto \theta_{steps}` (fresh optimizer state each call)
    as a function of a batched parameter dict, for :func:`check_equivariance`."""
    _check_hyper(optimizer, lr, steps, betas, eps)
    X, Y = _check_data(network, X, Y, dtype, None)

    def phi(params):
        network.check_parameters(params)
        opt = _Optimizer(network, X.to(params["W0"].dtype), Y.to(params["W0"].dtype), optimizer, lr,
                         betas, eps, trainable)
        out = dict(params)
        for _ in range(steps):
            out, _loss = opt.step(out)
        return out

    return phi


# ====================================================================================================
# exact equivariance of the training map
# ====================================================================================================
def parameter_action(network: Network, g, on: str) -> Callable[[Mapping[str, torch.Tensor]], dict]:
    r"""The parameter map :math:`T_g` that absorbs a group element (paper section 1.3).

    * ``on="output"``, ``g`` a ``(d_out, d_out)`` matrix: :math:`(W^L, b^L)\mapsto(gW^L, gb^L)`, so
      :math:`f_{T_g\theta} = g f_\theta` (the read-out must be linear);
    * ``on="input"``, ``g`` a ``(d_in, d_in)`` matrix: :math:`W^0\mapsto W^0 g`, so
      :math:`f_{T_g\theta}(x) = f_\theta(gx)`;
    * ``on="input"``, ``g`` a vector ``c`` (translation): :math:`b^0\mapsto b^0 + W^0c` (a shear: not
      orthogonal), so :math:`f_{T_c\theta}(x) = f_\theta(x + c)`.
    """
    g = torch.as_tensor(g, dtype=torch.float64)
    last = network.depth - 1
    on = Side.parse(on)
    if on is Side.OUTPUT:
        d = int(network.output_dim)
        if g.shape != (d, d):
            raise SpecError(f"an output action needs a ({d}, {d}) matrix, got {tuple(g.shape)}", "g")
        if network.layers[-1].activation.name != "identity":
            raise SpecError("output actions are absorbed by the read-out only when it is linear",
                            "layers[-1].activation")

        def act(params):
            out = dict(params)
            gg = g.to(params[f"W{last}"].dtype)
            out[f"W{last}"] = gg @ params[f"W{last}"]
            if f"b{last}" in params:
                out[f"b{last}"] = params[f"b{last}"] @ gg.T
            return out
        return act
    d = int(network.input_dim)
    if g.shape == (d, d):
        def act(params):
            out = dict(params)
            out["W0"] = params["W0"] @ g.to(params["W0"].dtype)
            return out
        return act
    if g.shape == (d,):
        if "b0" not in network.blocks:
            raise SpecError("a translation is absorbed by the first-layer bias, which this network "
                            "lacks", "layers[0].bias")

        def act(params):
            out = dict(params)
            out["b0"] = params["b0"] + params["W0"] @ g.to(params["W0"].dtype)
            return out
        return act
    raise SpecError(f"an input action needs a ({d}, {d}) matrix or a length-{d} translation, got "
                    f"{tuple(g.shape)}", "g")


@dataclass
class EquivarianceCheck:
    r""":math:`\max|\Phi(T\theta) - T\Phi(\theta)|` against :math:`\max|T\Phi(\theta)|`."""

    defect: float
    scale: float
    rtol: float

    @property
    def relative_defect(self) -> float:
        return self.defect / self.scale if self.scale > 0 else self.defect

    @property
    def equivariant(self) -> bool:
        return self.relative_defect <= self.rtol

    def __bool__(self):
        return self.equivariant

    def __str__(self):
        word = "commutes" if self.equivariant else "does NOT commute"
        return (f"the map {word} with the action: max |Phi(T theta) - T Phi(theta)| = {self.defect:.3g} "
                f"(relative {self.relative_defect:.3g}, tolerance {self.rtol:g})")


def check_equivariance(step_fn: Callable, action: Callable, params: Mapping[str, torch.Tensor],
                       rtol: float = 1e-10) -> EquivarianceCheck:
    r"""Deterministic check that ``step_fn`` commutes with ``action`` at ``params``:
    :math:`\Phi(T\theta) = T\Phi(\theta)` entrywise, to ``rtol`` relative to :math:`\max|T\Phi(\theta)|`.

    ``step_fn``: e.g. :func:`optimizer_map` (GD/Adam steps); ``action``: e.g. :func:`parameter_action`.
    In float64 an equivariant map typically shows a relative defect ~1e-15; a non-equivariant one O(1e-2).
    """
    if not rtol > 0:
        raise SpecError(f"rtol must be positive, got {rtol!r}", "rtol")
    params = {k: torch.as_tensor(v) for k, v in params.items()}
    a = step_fn(action(params))
    b = action(step_fn(params))
    if set(a) != set(b):
        raise SpecError("step_fn(action(theta)) and action(step_fn(theta)) have different blocks")
    defect = max(float((a[k] - b[k]).abs().max()) for k in a)
    scale = max(float(b[k].abs().max()) for k in b)
    return EquivarianceCheck(defect, scale, float(rtol))


# ====================================================================================================
# trained ensembles
# ====================================================================================================
@dataclass
class IsotropyRatio:
    r"""The output-isotropy ratio :math:`r = E[f_a^4]/(3E[f_a^2f_b^2])` at one input (averaged over
    :math:`a` and over :math:`a<b`), 1 for any rotation-invariant law of :math:`f(x)\in R^d`; ``se`` by
    the delta method from the per-member averages."""

    ratio: float
    se: float
    networks: int

    @property
    def z(self) -> float:
        """:math:`(r - 1)/\\mathrm{se}`."""
        return (self.ratio - 1.0) / self.se

    def __str__(self):
        return f"r = {self.ratio:.4f} +- {self.se:.4f} (z = {self.z:+.2f}, {self.networks} networks)"


def isotropy_ratio(f: torch.Tensor) -> IsotropyRatio:
    r""":class:`IsotropyRatio` from outputs ``f`` of shape ``(n, d)`` (one input point), ``d >= 2``."""
    if f.ndim != 2 or f.shape[1] < 2:
        raise SpecError(f"the isotropy ratio needs outputs of shape (n, d >= 2), got {tuple(f.shape)}")
    n, d = f.shape
    if n < 3:
        raise SpecError("the isotropy ratio needs at least three networks")
    f = f.to(torch.float64)
    sq = f ** 2
    a = (sq ** 2).mean(1)
    b = ((sq.sum(1) ** 2 - (sq ** 2).sum(1)) / 2) / (d * (d - 1) / 2)
    ma, mb = a.mean(), b.mean()
    cov = torch.cov(torch.stack([a, b]))
    r = ma / (3 * mb)
    rel_var = cov[0, 0] / ma ** 2 + cov[1, 1] / mb ** 2 - 2 * cov[0, 1] / (ma * mb)
    return IsotropyRatio(float(r), float(r * (rel_var / n).clamp_min(0).sqrt()), n)


@dataclass
class TrainedEnsemble:
    """An ensemble trained by :func:`train_ensemble`: parameters at the snapshot steps, losses, and
    correlators / invariance tests at any snapshot."""

    network: Network
    X: torch.Tensor
    Y: torch.Tensor
    optimizer: str
    lr: float
    steps: int
    members: int
    seed: int
    snapshots: dict  # step -> params dict (each tensor (members, *shape))
    losses: dict  # step -> per-member loss (members,)
    trainable: list = field(default_factory=list)

    @property
    def snapshot_steps(self) -> list:
        return sorted(self.snapshots)

    def _params(self, step: int) -> dict:
        if step not in self.snapshots:
            raise SpecError(f"no snapshot at step {step}; available: {self.snapshot_steps}", "step")
        return self.snapshots[step]

    def outputs(self, step: int, x) -> torch.Tensor:
        """:math:`f_{\\theta_m(t)}(x_p)` for every member: ``(members, P, d_out)``."""
        return self.network.forward(self._params(step), x)

    def mean_loss(self, step: int) -> float:
        if step not in self.losses:
            raise SpecError(f"no loss recorded at step {step}", "step")
        return float(self.losses[step].mean())

    def _chunks(self, step: int, chunk: int):
        params = self._params(step)
        for s in range(0, self.members, chunk):
            yield {k: v[s:s + chunk] for k, v in params.items()}

    def correlator(self, step: int, n: int, x, *, entries=None, chunk: int = 4096) -> CorrelatorEstimate:
        r"""Estimate :math:`G^{(n)}` at snapshot ``step`` and inputs ``x`` with standard errors
        (:class:`symcorr.montecarlo.CorrelatorEstimate`: all unique entries by default, ``.tensor()`` gives
        the full ``(P,)*n + (d,)*n`` tensor, ``.get(points, outputs)`` one entry)."""
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 8:
            raise SpecError(f"correlator order must be an integer in 1..8, got {n!r}", "n")
        params = self._params(step)
        x = self.network._as_inputs(x, params["W0"].dtype, params["W0"].device)
        acc = NPointAccumulator(x, int(self.network.output_dim), orders=(n,),
                                entries=None if entries is None else {n: entries})
        for part in self._chunks(step, chunk):
            acc.update(ProductSource(self.network.forward(part, x)))
        return acc.estimate(n)

    def isotropy_ratio(self, step: int, x) -> IsotropyRatio:
        """:func:`isotropy_ratio` of the outputs at one input point ``x``."""
        f = self.outputs(step, x)
        if f.shape[1] != 1:
            raise SpecError(f"the isotropy ratio uses one input point, got {f.shape[1]}", "x")
        return isotropy_ratio(f[:, 0])

    def invariance(self, step: int, group, on: str, x, *, orders: Sequence[int] = (1, 2, 4),
                   group_samples: int = 4, elements=None, alpha: float = 0.01, seed: int = 0,
                   entries=None, chunk: int = 4096) -> InvarianceTestResult:
        r"""Paired test that the correlators of the ensemble at snapshot ``step`` are invariant.

        The statistic and the decision are those of :func:`symcorr.montecarlo.invariance_test` (whose
        ensemble is drawn from a spec, whereas this one is trained): for every group element :math:`g`
        (``elements``, checked to lie in ``group``, or ``group_samples`` Haar draws with
        ``child_seed(seed, 1)``) and every entry :math:`f_{s_1}\cdots f_{s_n}` of the requested orders
        (all unique entries, or ``entries={order: slots}``), the per-member difference between the
        product before and after the action (``on="output"``: :math:`f\mapsto gf`; ``"input"``:
        :math:`f(x)\mapsto f(gx)`, same members) gives a z-score with the floating-point floor; Holm's
        correction over all tests at level ``alpha``.
        """
        if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
            raise SpecError(f"alpha must be in (0, 1), got {alpha!r}", "alpha")
        net = self.network
        on = Side.parse(on)
        grp = resolve_group(group, net.dimension(on))
        gs = group_elements(grp, group_samples, seed, elements)
        params = self._params(step)
        dtype, device = params["W0"].dtype, params["W0"].device
        x = net._as_inputs(x, dtype, device)
        d = int(net.output_dim)
        sel = select_entries(x.shape[0], d, orders, entries)
        gs_dev = gs.to(dtype=dtype, device=device)
        moved_x = [grp.act_on_inputs(g, x) for g in gs_dev] if on is Side.INPUT else None
        check_test_budget(self.members, "members")
        paired = PairedDifferences(sel, len(gs), device=device)
        for part in self._chunks(step, chunk):
            src = ProductSource(net.forward(part, x))
            for k, g in enumerate(gs_dev):
                moved = ProductSource(net.forward(part, moved_x[k])) if on is Side.INPUT else src.act_on_outputs(grp, g)
                paired.update(k, src, moved)
        return invariance_result(grp, on, alpha, self.members, f"direct, trained ({self.optimizer}, step {step})",
                                 gs, x, d, sel, paired.differences(dtype))

    def markdown(self) -> str:
        lines = [f"Ensemble of {self.members} networks trained by {self.optimizer} (lr {self.lr}, "
                 f"{self.steps} steps, seed {self.seed}) on {self.X.shape[0]} points", "",
                 "| step | mean loss |", "|---|---|"]
        for s in sorted(self.losses):
            lines.append(f"| {s} | {float(self.losses[s].mean()):.6g} |")
        return "\n".join(lines)


def _check_snapshots(snapshot_steps, steps) -> list:
    if snapshot_steps is None:
        return sorted({0, steps})
    out = set()
    for s in snapshot_steps:
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= steps:
            raise SpecError(f"snapshot steps must be integers in [0, {steps}], got {s!r}", "snapshot_steps")
        out.add(s)
    if not out:
        raise SpecError("give at least one snapshot step", "snapshot_steps")
    return sorted(out)


def train_ensemble(network: Network, X, Y, *, optimizer: str = "gd", lr: float, steps: int,
                   members: int, seed: int, snapshot_steps: Sequence[int] | None = None,
                   chunk: int | None = None, betas=(0.9, 0.999), eps: float = 1e-8,
                   trainable: Sequence[str] | None = None, dtype=torch.float64,
                   device=None) -> TrainedEnsemble:
    r"""Train ``members`` networks drawn from ``network`` on ``(X, Y)`` with full-batch GD or Adam.

    The MSE loss :func:`mse_loss`; every member starts from its own draw and has its own optimizer
    state; all members of a chunk are updated at once (batched tensors).  The initial members are the
    networks of ``symcorr.montecarlo.Ensemble(network, members, seed=seed)`` (the same whatever
    ``chunk`` is; ``chunk`` only bounds the memory, rounded to the ensemble's RNG blocks), so step 0 is
    exactly the ensemble that :func:`symcorr.montecarlo.invariance_test` draws with that seed.
    ``trainable`` restricts training to some blocks (e.g. ``["W1"]``, the read-out only).  Parameters and per-member losses are kept at
    ``snapshot_steps`` (default ``[0, steps]``); the loss recorded at step ``t`` is that of the snapshot.
    A run whose mean loss grows beyond ``1e6`` times its initial value stops with a SpecError (divergence:
    lower ``lr``) instead of returning meaningless numbers.
    """
    if not isinstance(network, Network):
        raise SpecError(f"expected a Network, got {type(network).__name__}", "network")
    _check_hyper(optimizer, lr, steps, betas, eps)
    if isinstance(members, bool) or not isinstance(members, int) or members < 1:
        raise SpecError(f"members must be a positive integer, got {members!r}", "members")
    if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1):
        raise SpecError(f"chunk must be a positive integer, got {chunk!r}", "chunk")
    X, Y = _check_data(network, X, Y, dtype, device)
    snaps = _check_snapshots(snapshot_steps, steps)
    parts: dict[int, list] = {s: [] for s in snaps}
    loss_parts: dict[int, list] = {s: [] for s in snaps}
    trainable_names = None
    ens = Ensemble(network, members, seed=seed, chunk=chunk, device=device, dtype=dtype, estimator="direct")
    for part in ens.chunks():
        params = part.params
        opt = _Optimizer(network, X, Y, optimizer, lr, betas, eps, trainable)
        trainable_names = opt.trainable
        initial = None
        for t in range(steps + 1):
            if t in parts:
                parts[t].append(params)
                with torch.no_grad():
                    loss_parts[t].append(mse_loss(network, params, X, Y))
            if t == steps:
                break
            params, loss = opt.step(params)
            initial = float(loss.mean()) if initial is None else initial
            if float(loss.mean()) > _DIVERGENCE * (initial + 1e-12):
                raise SpecError(f"training diverged: the mean loss grew from {initial:.3g} to "
                                f"{float(loss.mean()):.3g} by step {t}; lower the learning rate", "lr")
    snapshots = {s: {k: torch.cat([p[k] for p in parts[s]]) for k in network.blocks} for s in snaps}
    losses = {s: torch.cat(loss_parts[s]) for s in snaps}
    return TrainedEnsemble(network, X, Y, optimizer, float(lr), steps, members, seed, snapshots, losses,
                           list(trainable_names or []))


def orbit_dataset(points, labels, elements) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Close a data set under a finite group: every point :math:`x_i` is replaced by its orbit
    :math:`\{g x_i\}` (the given ``elements`` must form a group, e.g. the four rotations of :math:`C_4`;
    this is checked), each copy keeping the label :math:`y_i`.  Returns ``(X, Y)``."""
    x = torch.as_tensor(points, dtype=torch.float64)
    y = torch.as_tensor(labels, dtype=torch.float64)
    g = torch.as_tensor(elements, dtype=torch.float64)
    if x.ndim != 2 or y.shape[0] != x.shape[0] or g.ndim != 3 or g.shape[1:] != (x.shape[1], x.shape[1]):
        raise SpecError(f"need points (P, n), labels (P, ...) and elements (k, n, n); got {tuple(x.shape)}, "
                        f"{tuple(y.shape)}, {tuple(g.shape)}")
    # closure: every product g_i g_j is again in the list
    prods = torch.einsum("iab,jbc->ijac", g, g).reshape(-1, 1, *g.shape[1:])
    close = ((prods - g[None]).abs().amax(dim=(-1, -2)) < 1e-9).any(dim=1)
    if not bool(close.all()):
        raise SpecError("the given elements are not closed under multiplication (not a group)", "elements")
    X = torch.einsum("kab,pb->kpa", g, x).reshape(-1, x.shape[1])
    Y = y.repeat(g.shape[0], *([1] * (y.ndim - 1)))
    return X, Y
