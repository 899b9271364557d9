r"""Monte Carlo test that the *law* of the NTK is invariant under a group (paper section 5).

Theory.  If an output rotation is absorbed by an *orthogonal* parameter map,
:math:`J(T_\rho\theta) = \rho J(\theta) T_\rho^T` and :math:`\Theta(T_\rho\theta) = \rho\Theta(\theta)\rho^T`,
so the law of :math:`\Theta` is conjugation invariant and :math:`E[\Theta_{ab}]\propto\delta_{ab}`; an input
rotation absorbed by :math:`W^0\mapsto W^0R` gives the law of :math:`\Theta(Rx,Rx')` = law of
:math:`\Theta(x,x')`.  The parameter map must be orthogonal because the NTK uses the Euclidean metric on
:math:`\theta`: the Cos-net translation :math:`b^0 \mapsto b^0 + W^0c` is a shear, and the Cos-net NTK is
**not** translation invariant (its :math:`W^0` block carries :math:`x\cdot x'`), although the Cos-net
function density is.

Test.  On one ensemble (the networks of ``symcorr.montecarlo.Ensemble(network, networks, seed=seed)``),
for each group element :math:`g_k`, order :math:`n \in \{1, 2\}` and statistic :math:`s` (an entry of
:math:`\Theta`, or a product of two entries), the per-network paired differences
:math:`D_m = s(\Theta_m) - s(g_k\cdot\Theta_m)` give

.. math:: z = \bar D / \sqrt{s_D^2/M + \epsilon^2},\qquad
          \epsilon = 32\,n\,u\,\max_s\sqrt{\overline{s^2} + \overline{(g_k\cdot s)^2}},

the rounding floor of :func:`symcorr.montecarlo.statistics.rounding_floor` (scale: the largest
root-mean-square statistic of that order and element, ``u`` the unit round-off of the forward dtype),
two-sided normal p-values and Holm's adjustment over all hypotheses; the decision rule is
:class:`symcorr.montecarlo.statistics.HolmVerdict` (the same as for the function's correlators).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Sequence

import torch

from ..budget import check_test_budget
from ..notebook import MarkdownDisplay
from ..errors import SpecError
from ..groups import Group
from ..montecarlo.accumulators import ELEMENT_BUDGET, MomentAccumulator, unique_entries
from ..montecarlo.blocks import EnsembleBlocks, run_ensemble
from ..montecarlo.invariance import group_elements
from ..montecarlo.models import TorchModel, check_model, resolve_action
from ..montecarlo.statistics import (HolmVerdict, floored_se, holm_adjust, paired_z, rounding_floor,
                                     two_sided_p)
from ..spec import Network
from ..verdicts import Side
from .empirical import check_blocks, check_points
from .moments import check_count, chunk_ntk, ntk_ensemble

__all__ = ["NTKInvarianceResult", "ntk_invariance_test"]

#: an NTK invariance test refuses to form more paired statistics than this (memory and Holm power)
MAX_TESTS = 1 << 22


def _products(stat: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    r""":math:`\prod_i s_{e_i}` for every row of ``index`` (an ``(E, n)`` tensor of columns): stat
    ``(..., K)`` -> ``(..., E)``."""
    return stat[..., index].prod(-1)


@dataclass
class NTKInvarianceResult(HolmVerdict, MarkdownDisplay):
    r"""Outcome of :func:`ntk_invariance_test`; the NTK analogue of
    :class:`symcorr.montecarlo.InvarianceTestResult` (same statistic, same decision rule).

    For each group element :math:`g_k`, order :math:`n` and statistic :math:`s` (an entry of
    :math:`\Theta`, or a product of two entries), the per-network paired difference
    :math:`D_m = s(\text{sample}_m) - s(g_k\cdot\text{sample}_m)` is averaged over the ensemble;
    :math:`z = \bar D/\sqrt{s_D^2/M + \epsilon^2}` (with :math:`\epsilon` the floating-point floor of
    :func:`symcorr.montecarlo.statistics.rounding_floor`), two-sided normal p-values, Holm-adjusted over
    all hypotheses.  ``verdict`` (:class:`~symcorr.verdicts.Expectation`) is ``broken`` when some
    adjusted p-value is :math:`\le\alpha`, ``invariant`` otherwise (no evidence of breaking at this
    sample size), and ``undecided`` when a statistic is NaN (``reason`` says why).
    ``difference``/``se``/``z``/``p_holm``: dicts ``order -> (elements, statistics)`` tensors;
    ``labels``: ``order -> names of the statistics``; ``on``: a :class:`~symcorr.verdicts.Side`.
    """

    group: str
    on: Side
    orders: tuple
    networks: int
    elements: torch.Tensor
    alpha: float
    difference: dict
    se: dict
    z: dict
    p_holm: dict
    labels: dict = field(repr=False)

    def _flat(self, what: dict) -> torch.Tensor:
        return torch.cat([what[n].reshape(-1) for n in self.orders])

    def z_scores(self) -> torch.Tensor:
        return self._flat(self.z)

    @property
    def tests(self) -> int:
        return int(self._flat(self.z).numel())

    @property
    def statistic(self) -> float:
        """The largest :math:`|z|`."""
        return float(self._flat(self.z).abs().max())

    @property
    def p_value(self) -> float:
        """The smallest Holm-adjusted p-value."""
        return float(self._flat(self.p_holm).min())

    @property
    def rejected_tests(self) -> int:
        return int((self._flat(self.p_holm) <= self.alpha).sum())

    def rows(self, top: int = 10) -> list[dict]:
        """The ``top`` tests by :math:`|z|`."""
        out = []
        for n in self.orders:
            z = self.z[n]
            for k in range(z.shape[0]):
                for s in range(z.shape[1]):
                    out.append({"element": k, "order": n, "statistic": self.labels[n][s],
                                "difference": float(self.difference[n][k, s]), "se": float(self.se[n][k, s]),
                                "z": float(z[k, s]), "p_holm": float(self.p_holm[n][k, s])})
        out.sort(key=lambda r: -abs(r["z"]))
        return out[:top]

    @property
    def worst(self) -> str:
        r = self.rows(1)[0]
        return (f"order {r['order']}, group element {r['element']}, {r['statistic']}: difference "
                f"{r['difference']:.4g} +- {r['se']:.3g} (z = {r['z']:.3g})")

    def summary(self) -> str:
        return (f"NTK law under {self.group} acting on the {self.on}s: {self.verdict_text()} (max |z| = "
                f"{self.statistic:.2f}, Holm p = {self.p_value:.3g}, alpha = {self.alpha}, {self.tests} tests, "
                f"{self.rejected_tests} rejected, {self.elements.shape[0]} group elements, orders "
                f"{', '.join(map(str, self.orders))}, {self.networks} networks)")

    def __repr__(self) -> str:
        return (f"NTKInvarianceResult({self.group} on {self.on}s: {self.verdict}, max|z| = {self.statistic:.3g}, "
                f"{self.tests} tests, {self.networks} networks)")

    def markdown(self, top: int = 10) -> str:
        lines = [self.summary(), "", "| g | n | statistic | s - g.s | s.e. | z | Holm p |",
                 "|---:|---:|---|---:|---:|---:|---:|"]
        for r in self.rows(top):
            lines.append(f"| {r['element']} | {r['order']} | {r['statistic']} | {r['difference']:.4g} | "
                         f"{r['se']:.2g} | {r['z']:.2f} | {r['p_holm']:.2g} |")
        return "\n".join(lines)

    def __str__(self):
        return self.markdown()


def _resolve_group(group, network: Network | TorchModel, on: Side) -> Group:
    grp = resolve_action(network, group, on)
    if on is Side.OUTPUT and not grp.is_linear:
        raise SpecError("translations act on inputs only", "group")
    return grp


class _NTKPairs:
    r"""Paired NTK statistics of some networks: per order, the accumulated differences
    :math:`s(\Theta) - s(g_k\cdot\Theta)` and the sums of squares of both sides (the floor's scale)."""

    def __init__(self, index: dict, elements: int, orders, device):
        self.diff = {n: MomentAccumulator(elements * index[n].shape[0], device=device) for n in orders}
        self.scale = {n: torch.zeros(elements, index[n].shape[0], dtype=torch.float64, device=device)
                      for n in orders}
        self.index = index

    def merge(self, other: "_NTKPairs") -> "_NTKPairs":
        for n, acc in self.diff.items():
            acc.merge(other.diff[n])
            self.scale[n] = self.scale[n] + other.scale[n]
        return self


def _feed_ntk_pairs(network, x1, x2t, g, on, moved_points, step, kw, pairs: _NTKPairs, ens, part) -> None:
    """One block: its kernels, those of the moved points (or the conjugated kernels), their paired
    products of every order, in sub-batches of ``step`` networks (bounded memory)."""
    k_el = g.shape[0]
    theta = chunk_ntk(ens, part, x1, x2t, **kw)
    moved = []
    for kk in range(k_el):
        if on is Side.OUTPUT:
            moved.append(torch.einsum("ac,mpqcd,bd->mpqab", g[kk], theta, g[kk]))
        else:
            moved.append(chunk_ntk(ens, part, *moved_points[kk], **kw))
    base_all = theta.reshape(part.size, 1, -1).to(torch.float64)
    moved_all = torch.stack(moved, 1).reshape(part.size, k_el, -1).to(torch.float64)
    for s0 in range(0, part.size, step):  # bounded memory: at most ELEMENT_BUDGET products at once
        base, moved_t = base_all[s0:s0 + step], moved_all[s0:s0 + step]
        for n, index in pairs.index.items():
            a, b = _products(base, index), _products(moved_t, index)
            pairs.diff[n].update((a - b).reshape(a.shape[0], -1))
            pairs.scale[n] += (a * a + b * b).sum(0)


def ntk_invariance_test(network: Network | TorchModel, group, on: Side | str, x, x2=None, *, networks: int, seed: int,
                        group_samples: int = 4, elements=None, orders: Sequence[int] = (1, 2),
                        alpha: float = 0.01, chunk: int | None = None, parameterisation: str = "standard",
                        method: str = "auto", blocks: Sequence[str] | None = None, dtype=torch.float64,
                        device=None, client=None, checkpoint=None, progress=None) -> NTKInvarianceResult:
    r"""Monte Carlo test that the law of the NTK is invariant under a group, on one ensemble.

    * ``on="output"``: :math:`\Theta \mapsto \rho\Theta\rho^T` for each element :math:`\rho` (the law of
      :math:`\Theta` is conjugation invariant when output rotations are an NTK symmetry);
    * ``on="input"``: :math:`\Theta(x, x') \mapsto \Theta(gx, gx')` (rotations) or
      :math:`\Theta(x+c, x'+c)` (translations), recomputed for the *same* networks.

    The networks are those of ``symcorr.montecarlo.Ensemble(network, networks, seed=seed)``; the group
    elements are ``elements`` (checked to lie in ``group``) or ``group_samples`` Haar draws, as in
    :func:`symcorr.montecarlo.invariance_test`.  Statistics: order 1 the entries of :math:`\Theta`,
    order 2 all products of two entries; paired differences, z-scores, Holm correction at level
    ``alpha`` (:class:`NTKInvarianceResult`).  ``blocks`` restricts the kernel to some parameter blocks
    (e.g. all but ``W0`` for Cos-net, whose translation breaking sits in the ``W0`` block).  ``network``
    may be a :class:`symcorr.montecarlo.TorchModel` (blocks: its parameter names; shaped inputs take the
    groups of :mod:`symcorr.tensor_groups`).
    ``client``: a ``dask.distributed.Client`` (or ``"local:N"``, an address) to compute the RNG blocks
    on, same result bit for bit; ``checkpoint``: a folder to resume from; ``progress(n)``: networks done.
    """
    check_model(network)
    network._require_concrete("an NTK invariance test")
    names = check_blocks(network, blocks)
    networks = check_count(networks, "networks")
    orders = tuple(sorted(set(orders)))
    if not orders or any(o not in (1, 2) for o in orders):
        raise SpecError(f"NTK orders must be 1 and/or 2, got {orders!r}", "orders")
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise SpecError(f"alpha must lie in (0, 1), got {alpha!r}", "alpha")
    on = Side.parse(on)
    grp = _resolve_group(group, network, on)
    g = group_elements(grp, group_samples, seed, elements)
    ens = ntk_ensemble(network, networks, seed, chunk, dtype, device)
    x1 = check_points(network, x, dtype, ens.device, "x")
    x2t = x1 if x2 is None else check_points(network, x2, dtype, ens.device, "x2")
    g = g.to(dtype=dtype, device=ens.device)
    moved_points = ([(grp.act_on_inputs(gk, x1), grp.act_on_inputs(gk, x2t)) for gk in g]
                    if on is Side.INPUT else None)
    d = int(network.output_dim)
    entry_labels = [f"Theta_{a}{b}(x{p}, x'{q})" for p in range(x1.shape[0]) for q in range(x2t.shape[0])
                    for a in range(d) for b in range(d)]
    k_entries, k_el = len(entry_labels), g.shape[0]
    sizes = {n: math.comb(k_entries + n - 1, n) for n in orders}
    if k_el * sum(sizes.values()) > MAX_TESTS:
        raise SpecError(f"{k_el * sum(sizes.values())} tests ({k_entries} NTK entries, orders {orders}, "
                        f"{k_el} group elements) exceed the limit of {MAX_TESTS}; use fewer points or "
                        "order 1 only", "orders")
    index = {n: unique_entries(k_entries, n, device=ens.device) for n in orders}
    labels = {n: [" * ".join(entry_labels[i] for i in row) for row in index[n].tolist()] for n in orders}
    step = max(1, ELEMENT_BUDGET // (k_el * max(sizes.values()) * max(orders)))
    check_test_budget(networks)
    kw = dict(parameterisation=parameterisation, method=method, blocks=names)
    work = EnsembleBlocks(ens, "ntk invariance",
                          functools.partial(_NTKPairs, index, k_el, orders, ens.device),
                          functools.partial(_feed_ntk_pairs, network, x1, x2t, g, on, moved_points, step, kw),
                          {"group": repr(grp), "on": str(on), "x": x1, "x2": x2t, "elements": g,
                           "orders": list(orders), "parameterisation": parameterisation, "method": method,
                           "blocks": names})
    pairs = run_ensemble(work, client=client, checkpoint=checkpoint, progress=progress)
    diff, scale = pairs.diff, pairs.scale
    means, ses, zs, flat_p = {}, {}, {}, []
    for n in orders:
        acc = diff[n]
        mean = acc.mean.reshape(k_el, -1)
        var = (acc.m2 / max(acc.count - 1, 1)).reshape(k_el, -1)
        # scale of the floor: the largest root-mean-square statistic of this order, per group element
        floor = rounding_floor(n, torch.sqrt(scale[n] / acc.count).amax(dim=1, keepdim=True), dtype)
        se = floored_se(torch.sqrt(var / acc.count), floor)
        z = paired_z(mean, se)
        means[n], ses[n], zs[n] = mean.cpu(), se.cpu(), z.cpu()
        flat_p.append(two_sided_p(z.reshape(-1)).cpu())
    p_holm_flat = holm_adjust(torch.cat(flat_p))
    p_holm, start = {}, 0
    for n in orders:
        size = zs[n].numel()
        p_holm[n] = p_holm_flat[start:start + size].reshape(zs[n].shape)
        start += size
    return NTKInvarianceResult(group=repr(grp), on=on, orders=orders, networks=networks, elements=g.cpu(),
                               alpha=float(alpha), difference=means, se=ses, z=zs, p_holm=p_holm, labels=labels)
