r"""Statistical invariance tests of correlators under group actions on inputs or outputs.

Null hypothesis, for every sampled group element ``g`` and every tested entry:

* inputs: :math:`G^{(n)}(g x_{p_1}, \dots, g x_{p_n}) = G^{(n)}(x_{p_1}, \dots, x_{p_n})`
  (with :math:`g x = Rx` for matrix groups, :math:`x + c` for translations);
* outputs: :math:`G^{(n)}_{a_1\dots a_n} = \rho_{a_1 b_1}\cdots\rho_{a_n b_n} G^{(n)}_{b_1\dots b_n}`
  (the tensor law; :math:`f\mapsto f + c` for output translations).

Both sides are estimated on the **same** networks (common random numbers).  For each network ``m`` the
difference :math:`D_m = \prod_i f^{(m)}_{s_i}(x) - \prod_i (g\cdot f^{(m)})_{s_i}(x)` is formed (for
inputs, :math:`f^{(m)}(g x)`; for outputs, :math:`\rho f^{(m)}`, so that :math:`\rho^{\otimes n}` applied
to the per-network product tensor is the product of the rotated outputs), or its conditional expectation
given the hidden layers with the read-out estimator.  The :math:`D_m` are iid with mean
:math:`G - g\cdot G`, so the paired statistic

.. math:: z = \bar D / \mathrm{se}(\bar D),\qquad \mathrm{se}(\bar D) = \sqrt{s_D^2/M + \epsilon^2},

is asymptotically standard normal under the null; the correlation between :math:`G` and
:math:`g\cdot G` is accounted for exactly (it is usually strong, which makes paired errors much smaller
than independent ones).  :math:`\epsilon` is the floating-point floor of
:func:`symcorr.montecarlo.statistics.rounding_floor`,
:math:`\epsilon = 32\,n\,u\,\max_{e}\sqrt{\overline{P_{x,e}^2} + \overline{P_{g,e}^2}}` (scale: the
largest root-mean-square product of that order and group element, ``u`` the unit roundoff of the forward
dtype): rounding in :math:`\rho f` or :math:`Rx` mixes all components, so it is relative to the largest
ones, and it must not masquerade as a signal in an entry whose true value is 0.  Two-sided p-values
:math:`p = \mathrm{erfc}(|z|/\sqrt2)` over all entries, orders and group elements are corrected by
Holm's step-down procedure (valid under any dependence between the tests): with the ``m`` p-values sorted,
:math:`\tilde p_{(i)} = \max_{j\le i}\min(1, (m-j+1)p_{(j)})`.  The test rejects invariance at
family-wise level :math:`\alpha` when some :math:`\tilde p \le \alpha`; the reported p-value is the
smallest Holm-adjusted p-value and the statistic the largest :math:`|z|`.  A NaN statistic (a NaN in
an estimate) makes the verdict ``undecided``, with the reason.  All of these statistics live in
:mod:`symcorr.montecarlo.statistics`.

Not rejecting is not a proof: the power depends on the number of networks, the points, the orders and
the group elements.  Heavy-tailed outputs (Gauss-net higher moments grow like :math:`e^{O(n^2)}`) make
sample standard errors unreliable at small ensembles; use the read-out estimator, modest orders, or
milder laws.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from ..budget import check_test_budget
from ..errors import SpecError
from ..groups import Group
from ..notebook import MarkdownDisplay
from ..rng import child_seed, make_generator
from ..spec import Network
from ..verdicts import Side
from .accumulators import MomentAccumulator, entry_blocks, slot_label
from .blocks import EnsembleBlocks, run_ensemble
from .ensemble import Ensemble
from .estimators import select_entries
from .models import TorchModel, check_model, make_ensemble, resolve_action
from .statistics import HolmVerdict, floored_se, holm_adjust, paired_z, rounding_floor, two_sided_p

__all__ = ["InvarianceTestResult", "invariance_test", "assert_invariant", "group_elements",
           "PairedDifferences", "invariance_result"]


@dataclass
class InvarianceTestResult(HolmVerdict, MarkdownDisplay):
    """Outcome of :func:`invariance_test` (see the module docstring for the statistics).

    Per test ``t`` (one group element, order and entry): ``element[t]``, ``order[t]``, ``entry[t]``
    (slots), ``difference[t]`` (:math:`\\bar D`), ``se[t]``, ``z[t]``, ``p[t]`` and ``p_holm[t]``.
    """

    group: str
    on: str
    alpha: float
    networks: int
    estimator: str
    elements: torch.Tensor
    points: torch.Tensor
    outputs: int
    element: torch.Tensor
    order: torch.Tensor
    entry: list
    difference: torch.Tensor
    se: torch.Tensor
    z: torch.Tensor
    p: torch.Tensor
    p_holm: torch.Tensor
    orders: list = field(default_factory=list)

    def z_scores(self) -> torch.Tensor:
        return self.z.reshape(-1)

    @property
    def tests(self) -> int:
        return int(self.z.numel())

    @property
    def statistic(self) -> float:
        """The largest :math:`|z|` over all tests."""
        return float(self.z.abs().max()) if self.tests else 0.0

    @property
    def p_value(self) -> float:
        """The smallest Holm-adjusted p-value (the family-wise p-value of the test)."""
        return float(self.p_holm.min()) if self.tests else 1.0

    def summary(self) -> str:
        head = (f"{self.group} acting on the {self.on}s: {self.verdict_text()} "
                f"(max |z| = {self.statistic:.2f}, Holm p = {self.p_value:.3g}, alpha = {self.alpha}, "
                f"{self.tests} tests over {len(self.elements)} group elements and orders "
                f"{', '.join(map(str, self.orders))}, {self.networks} networks, {self.estimator} estimator)")
        return head

    def rows(self, top: int = 10) -> list[dict]:
        """The ``top`` tests by :math:`|z|` as dicts."""
        idx = torch.argsort(self.z.abs(), descending=True)[:top].tolist()
        return [{"element": int(self.element[i]), "order": int(self.order[i]),
                 "entry": slot_label(self.entry[i], self.outputs), "difference": float(self.difference[i]),
                 "se": float(self.se[i]), "z": float(self.z[i]), "p": float(self.p[i]),
                 "p_holm": float(self.p_holm[i])} for i in idx]

    def __repr__(self) -> str:
        return (f"InvarianceTestResult({self.group} on {self.on}s: {self.verdict}, max|z| = {self.statistic:.3g}, "
                f"{self.tests} tests, {self.networks} networks)")

    def markdown(self, top: int = 10) -> str:
        lines = [self.summary(), "",
                 "| g | n | entry | G(x) - g.G(x) | s.e. | z | p | Holm p |",
                 "|---:|---:|---|---:|---:|---:|---:|---:|"]
        for r in self.rows(top):
            lines.append(f"| {r['element']} | {r['order']} | {r['entry']} | {r['difference']:.4g} | "
                         f"{r['se']:.2g} | {r['z']:.2f} | {r['p']:.2g} | {r['p_holm']:.2g} |")
        return "\n".join(lines)

    def __str__(self):
        return self.markdown()


def group_elements(group: Group, samples: int, seed: int, elements=None) -> torch.Tensor:
    """Explicit ``elements`` (checked to lie in the group) or ``samples`` Haar-random ones drawn with
    ``child_seed(seed, 1)``."""
    if elements is not None:
        g = torch.as_tensor(elements, dtype=torch.float64)
        single = 1 if group.is_linear else 0
        if g.ndim == single + 1:
            g = g[None]
        g = group.check(g)
        if not group.is_linear and g.ndim == 1:
            g = g[None]
        return g
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise SpecError(f"group_samples must be a positive integer, got {samples!r}")
    return group.sample(samples, make_generator(child_seed(seed, 1)))


def independent_estimator(network: Network | TorchModel, on, estimator: str) -> str:
    r"""The estimator ``"auto"`` stands for in an invariance test: one that does not assume the claim.

    The read-out estimator integrates the last layer out exactly given the hidden layers.  For an output
    action the group acts on exactly that layer, so for an invariant read-out law the paired differences
    vanish identically -- a computation of the law's invariance, not an independent Monte Carlo check of
    the density's.  ``"auto"`` therefore samples directly for output actions and for networks without a
    hidden layer (whose last layer is the first), and integrates the read-out out only for input actions on
    networks with a hidden layer, where the transformed blocks (the first layer) stay sampled.  An explicit
    ``"readout"`` is honoured (a variance-reduced estimate, shown beside the direct one by
    :func:`symcorr.claims.claim_test`)."""
    if estimator != "auto" or not isinstance(network, Network):
        return estimator  # a torch model is always sampled directly
    return "auto" if Side.parse(on) is Side.INPUT and network.depth > 1 else "direct"


def invariance_test(network: Network | TorchModel, group, on: str, points, *, orders: Sequence[int] = (2, 4),
                    networks: int = 20000, seed: int = 0, chunk: int | None = None, group_samples: int = 4,
                    elements=None, alpha: float = 0.01, estimator: str = "auto", entries=None,
                    outputs: Sequence[int] | None = None, device="auto", dtype=torch.float64,
                    progress: Callable[[int], None] | None = None, client=None,
                    checkpoint=None) -> InvarianceTestResult:
    r"""Test invariance of the correlators of ``network`` under ``group`` acting ``on`` its inputs or
    outputs (see the module docstring).

    ``points``: ``(P, d_in)`` inputs.  ``orders``: correlator orders (entries: all unique ones of the
    ``outputs`` selected, or ``entries={order: (E, n) slots}``).  ``elements``: explicit group elements
    (checked), else ``group_samples`` Haar-random ones.  ``estimator``: ``"auto"``, ``"direct"``,
    ``"readout"`` or ``"neuron"`` (single-hidden-layer nets with iid neurons: ``networks`` single neurons,
    exact-in-width polynomials of single-neuron moments at ``x`` and ``g x`` estimated on the same
    neurons, delta-method standard errors of the paired difference).  ``alpha``: family-wise level.
    ``client``: a ``dask.distributed.Client`` (or ``"local:N"``, a scheduler address) to compute the RNG
    blocks on, same result bit for bit; ``checkpoint``: a folder to save blocks to and resume from
    (:mod:`symcorr.distributed`).
    ``network`` may be a :class:`~symcorr.montecarlo.models.TorchModel`: points ``(P, *input_shape)`` and,
    for shaped inputs, a group acting on one axis (:mod:`symcorr.tensor_groups`).
    """
    check_model(network, estimator)
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise SpecError(f"alpha must be in (0, 1), got {alpha!r}", "alpha")
    on = Side.parse(on)
    grp = resolve_action(network, group, on)
    if estimator == "neuron":
        return _neuron_invariance_test(network, grp, on, points, orders=orders, neurons=networks, seed=seed,
                                       chunk=chunk, group_samples=group_samples, elements=elements, alpha=alpha,
                                       entries=entries, outputs=outputs, device=device, dtype=dtype,
                                       progress=progress, client=client, checkpoint=checkpoint)
    ens = make_ensemble(network, networks, seed=seed, chunk=chunk, device=device, dtype=dtype,
                        estimator=independent_estimator(network, on, estimator))
    x = ens.points(points)
    d = int(network.output_dim)
    sel = select_entries(x.shape[0], d, orders, entries, outputs)
    gs = group_elements(grp, group_samples, seed, elements)
    gs_dev = gs.to(device=ens.device, dtype=dtype)
    moved = [grp.act_on_inputs(g, x) for g in gs_dev] if on is Side.INPUT else None
    check_test_budget(ens.networks)
    new = functools.partial(PairedDifferences, sel, len(gs), device=ens.device)
    work = EnsembleBlocks(ens, "invariance", new, functools.partial(_feed_pairs, x, moved, grp, gs_dev),
                          {"group": repr(grp), "on": str(on), "points": x, "entries": sel, "elements": gs})
    paired = run_ensemble(work, client=client, checkpoint=checkpoint, progress=progress)
    diffs = paired.differences(dtype)
    return invariance_result(grp, on, alpha, ens.networks, ens.estimator, gs, x, d, sel, diffs)


def _feed_pairs(x, moved, grp, gs, paired: "PairedDifferences", ens: Ensemble, chunk) -> None:
    """One block's paired differences for every group element: the same networks at ``x`` and at
    ``g x`` (``moved``), or their outputs and ``g . f``."""
    src = ens.source(chunk, x)
    for k, g in enumerate(gs):
        src_g = ens.source(chunk, moved[k]) if moved is not None else src.act_on_outputs(grp, g)
        paired.update(k, src, src_g)


class PairedDifferences:
    r"""Streaming paired differences :math:`D = \prod_i f_{s_i} - \prod_i (g\cdot f)_{s_i}` per group
    element ``k``, order ``n`` and entry, accumulated over chunks of networks.

    ``update(k, source, moved_source)`` adds one chunk (two moment sources on the *same* networks);
    ``differences(dtype)`` returns ``{(k, n): (mean of D, s.e.)}``.  The standard error carries the
    rounding floor :func:`~symcorr.montecarlo.statistics.rounding_floor` with scale
    :math:`\max_e \sqrt{\overline{a_e^2} + \overline{b_e^2}}` (the largest root-mean-square product of
    either side, ``dtype`` the forward dtype), so that an exactly invariant estimator (differences of
    order 1e-16) does not give huge z-scores.
    """

    def __init__(self, entries: dict, elements: int, device=None):
        self.entries = {n: e.to(device) for n, e in entries.items()}
        self.device = device
        self.acc = {(k, n): MomentAccumulator(len(e), device=device) for k in range(elements)
                    for n, e in entries.items()}
        self.scale = {(k, n): torch.zeros(len(e), dtype=torch.float64, device=device)
                      for k in range(elements) for n, e in entries.items()}

    def update(self, k: int, source, moved) -> None:
        for n, e in self.entries.items():
            means, m2s = [], []
            for sl in entry_blocks(len(e), source.size, 2 * n):
                a = source.products(e[sl])
                b = moved.products(e[sl])
                self.scale[(k, n)][sl] += (a * a).sum(0) + (b * b).sum(0)
                part = MomentAccumulator(a.shape[1], device=self.device).update(a - b)
                means.append(part.mean_)
                m2s.append(part.m2)
            block = MomentAccumulator(len(e), device=self.device)
            block.count, block.mean_, block.m2 = source.size, torch.cat(means), torch.cat(m2s)
            self.acc[(k, n)].merge(block)

    def merge(self, other: "PairedDifferences") -> "PairedDifferences":
        """Merge the differences of other networks (Chan's update; the scale sums add)."""
        if self.acc.keys() != other.acc.keys():
            raise SpecError("can only merge paired differences of the same entries and group elements")
        for key, acc in self.acc.items():
            acc.merge(other.acc[key])
            self.scale[key] = self.scale[key] + other.scale[key].to(self.scale[key].device)
        return self

    def differences(self, dtype) -> dict:
        out = {}
        for (k, n), acc in self.acc.items():
            count = acc.count
            var = acc.m2 / max(count - 1, 1)
            floor = rounding_floor(n, torch.sqrt(self.scale[(k, n)] / count).max(), dtype)
            out[(k, n)] = (acc.mean_, floored_se(torch.sqrt(var / count), floor))
        return out


def invariance_result(grp, on, alpha, samples, estimator, gs, x, d, sel, diffs) -> InvarianceTestResult:
    """Assemble an :class:`InvarianceTestResult` from ``{(k, n): (difference, s.e.)}``: z-scores,
    two-sided p-values, Holm adjustment."""
    rows = {"element": [], "order": [], "entry": [], "difference": [], "se": []}
    for (k, n), (value, se) in diffs.items():
        rows["element"].append(torch.full((len(value),), k))
        rows["order"].append(torch.full((len(value),), n))
        rows["entry"].extend(sel[n].tolist())
        rows["difference"].append(value.detach().cpu())
        rows["se"].append(se.detach().cpu())
    difference = torch.cat(rows["difference"])
    se = torch.cat(rows["se"])
    z = paired_z(difference, se)
    p = two_sided_p(z)
    return InvarianceTestResult(
        group=repr(grp), on=Side.parse(on), alpha=float(alpha), networks=samples, estimator=estimator,
        elements=gs.cpu(), points=x.detach().cpu().to(torch.float64), outputs=d,
        element=torch.cat(rows["element"]), order=torch.cat(rows["order"]), entry=rows["entry"],
        difference=difference, se=se, z=z, p=p, p_holm=holm_adjust(p), orders=sorted(sel))


def _neuron_invariance_test(network, grp, on, points, *, orders, neurons, seed, chunk, group_samples, elements,
                            alpha, entries, outputs, device, dtype, progress, client=None,
                            checkpoint=None) -> InvarianceTestResult:
    """The neuron-level version of :func:`invariance_test` (see its docstring)."""
    from .estimators import NeuronLevelEstimator
    x = network._as_inputs(points, torch.float64, "cpu")
    d = int(network.output_dim)
    p = x.shape[0]
    sel = select_entries(p, d, orders, entries, outputs)
    gs = group_elements(grp, group_samples, seed, elements)
    check_test_budget(neurons, "networks")
    if on is Side.INPUT:
        union = torch.cat([x] + [grp.act_on_inputs(g, x) for g in gs])
        groups = len(gs) + 1
    else:
        union, groups = x, 1
    keep = set()
    for e in sel.values():
        for k in range(groups):
            keep |= {tuple(row) for row in (e // d + k * p).tolist()}
    est = NeuronLevelEstimator(network, union, max(sel), neurons=neurons, seed=seed, chunk=chunk,
                               device=device, dtype=dtype, progress=progress, groups=groups, point_sets=keep,
                               client=client, checkpoint=checkpoint)
    diffs = {}
    for k, g in enumerate(gs):
        for n, e in sel.items():
            if on is Side.INPUT:
                diffs[(k, n)] = est.difference(e, e + (k + 1) * p * d)
            else:
                diffs[(k, n)] = est.difference(e, e, action=(grp, g))
    return invariance_result(grp, on, alpha, neurons, "neuron", gs, x, d, sel, diffs)


def assert_invariant(network: Network | TorchModel, group, on: str, points, **kwargs) -> InvarianceTestResult:
    """Run :func:`invariance_test` and raise ``AssertionError`` with its report when invariance is
    rejected, or when the test could not decide (a NaN statistic); returns the result otherwise.
    Keyword arguments are passed on (``networks``, ``seed``, ``orders``, ``alpha``, ``elements``, ...)."""
    result = invariance_test(network, group, on, points, **kwargs)
    if result.rejected:
        raise AssertionError(f"invariance rejected for {network!r}\n{result.markdown()}")
    if not result.decided:
        raise AssertionError(f"invariance test undecided for {network!r}: {result.reason}\n"
                             f"{result.markdown()}")
    return result
