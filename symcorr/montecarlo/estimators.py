r"""Correlator estimators: whole-network ensembles and the neuron-level estimator.

(Length: about 540 lines, over the 500-line guide, because the neuron-level estimator -- multiset index,
exact-in-width polynomial, its magnitude polynomial for the rounding floor -- lives here with the
whole-network wrappers that dispatch to it; its natural home, if this grows, is a module of its own.)

Whole-network estimators (:func:`estimate_correlators`, :func:`estimate_connected`) stream an
:class:`~symcorr.montecarlo.ensemble.Ensemble` through n-point accumulators.  With
``estimator="readout"`` (the default ``"auto"`` picks it when possible) a Gaussian last layer is
integrated out exactly (see :mod:`.ensemble`).

Neuron-level estimator
----------------------
For a single-hidden-layer network :math:`f_a(x) = \sum_{j=1}^N W_{aj}\,\phi_j(x) + b_a` with iid
neurons :math:`\phi_j(x) = \phi(w_j\cdot x + c_j)` (rows of :math:`(W^0, b^0)` iid) and a Gaussian
read-out independent of them, :math:`E W_{aj} = \mu_a` (one mean per output),
:math:`\mathrm{Cov}(W_{aj}, W_{bk}) = v\,U_{ab}\,\delta_{jk}`, :math:`b \sim N(m, v_b C^b)`, the outputs are
Gaussian given the neurons, with mean :math:`\mu_a X_{(p)} + m_a` and covariance
:math:`v U_{ab} X_{(pq)} + v_b C^b_{ab}`, where :math:`X_A = \sum_{j=1}^N \prod_{p\in A}\phi_j(x_p)` are
sums of iid terms.  Isserlis' theorem with means turns :math:`G^{(n)}` into sums of
:math:`E[\prod_r(\alpha_r X_{A_r} + \beta_r)]`, and for sums of ``N`` iid terms

.. math:: E\Big[\prod_{r\in R} X_{A_r}\Big] = \sum_{B \ni \min R,\ B\subseteq R} N\,\kappa_B\,
          E\Big[\prod_{r\in R\setminus B} X_{A_r}\Big],

where :math:`\kappa_B` is the joint cumulant of :math:`\{\prod_{p\in A_r}\phi(x_p)\}_{r\in B}` for one
neuron, itself a polynomial in the *single-neuron moments*
:math:`m_A = E[\prod_{p\in A}\phi(x_p)]` (multisets ``A`` of points).  So every correlator, at **every**
width ``N``, is an exact polynomial in finitely many :math:`m_A`; e.g. for a zero-mean read-out
without bias :math:`G^{(2)}_{ab} = \delta_{ab}\, vN\,m_{12}` and

.. math:: G^{(4)}_{aaaa}(x_1..x_4) = v^2\big[N(N-1)(m_{12}m_{34}+m_{13}m_{24}+m_{14}m_{23}) + 3N\,m_{1234}\big],

the Wick part plus the :math:`1/N` connected part :math:`(\sigma_{W1}^4/N)\sum_{\rm pairings}(m_4 - kk)`.
The estimator samples single neurons (cheap: one row of :math:`W^0`), estimates all :math:`m_A` with
their joint covariance, plugs them into the polynomial and gives standard errors by the delta method.
The plug-in has an :math:`O(1/M)` bias for ``M`` neurons (products of estimated means), negligible
against its :math:`O(M^{-1/2})` standard error.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Callable, Sequence

import sympy as sp
import torch

from ..combinatorics import joint_cumulant, partial_matchings
from ..distributions import Normal
from ..budget import MAX_MONTE_CARLO_ORDER, check_correlator_order
from ..distributed import run_blocks
from ..errors import SpecError
from ..rng import resolve_device
from ..spec import Dense, Network
from .accumulators import (ConnectedAccumulator, CorrelatorEstimate, NPointAccumulator,
                           as_entries, delta_method, unique_entries)
from .blocks import EnsembleBlocks, NeuronBlocks, run_ensemble
from .ensemble import Ensemble, readout_law
from .models import TorchModel, check_model, make_ensemble
from .statistics import floored_se, rounding_floor

__all__ = ["estimate_correlators", "estimate_connected", "NeuronLevelEstimator", "output_slots",
           "select_entries"]


def output_slots(points: int, outputs: int, which: Sequence[int] | None) -> list[int]:
    """Slots ``p * d + a`` for all points ``p`` and the output indices ``which`` (default: all)."""
    if which is None:
        return list(range(points * outputs))
    which = sorted({int(a) for a in which})
    for a in which:
        if not 0 <= a < outputs:
            raise SpecError(f"output index {a} out of range for {outputs} outputs", "outputs")
    return [p * outputs + a for p in range(points) for a in which]


def select_entries(points: int, outputs: int, orders: Sequence[int], entries=None,
                   which_outputs: Sequence[int] | None = None) -> dict[int, torch.Tensor]:
    """Entries per order: the given ones, else all unique entries of the selected output slots."""
    entries = dict(entries or {})
    slots = output_slots(points, outputs, which_outputs)
    out = {}
    for n in sorted(set(orders) | set(entries)):
        check_correlator_order(n, "orders", limit=MAX_MONTE_CARLO_ORDER)
        out[n] = (as_entries(entries[n], points * outputs, n) if n in entries else unique_entries(slots, n))
    return out


def estimate_correlators(network: Network | TorchModel, points, orders: Sequence[int] = (2, 4), *, networks: int = 20000,
                         seed: int = 0, chunk: int | None = None, estimator: str = "auto", entries=None,
                         outputs: Sequence[int] | None = None, device="auto", dtype=torch.float64,
                         progress: Callable[[int], None] | None = None, client=None,
                         checkpoint=None) -> dict[int, CorrelatorEstimate]:
    r"""Monte Carlo estimates of :math:`G^{(n)}` at ``points`` for each order, with standard errors.

    ``entries``: ``{order: (E, n) slot tensor}`` (slot = point * d_out + output); default all unique
    entries of the output indices ``outputs`` (default all).  ``estimator``: ``"direct"``, ``"readout"``,
    ``"auto"`` or ``"neuron"`` (single-hidden-layer nets; ``networks`` is then the number of neurons).
    ``progress(n)`` is called after each chunk with the number of networks it held.  ``device="auto"``
    runs on CUDA when present, else on the CPU.  ``client``: a ``dask.distributed.Client`` (or
    ``"local:N"``, a scheduler address) to compute the RNG blocks on, with the same result bit for bit
    as without; ``checkpoint``: a folder to save finished blocks to and resume from
    (:mod:`symcorr.distributed`).  ``network`` may also be a
    :class:`~symcorr.montecarlo.models.TorchModel` (points ``(P, *input_shape)``, the direct estimator).
    """
    check_model(network, estimator)
    if estimator == "neuron" and isinstance(network, Network):
        num = network._as_inputs(points, torch.float64, "cpu").shape[0]
        d = int(network.output_dim)
        sel = select_entries(num, d, orders, entries, outputs)
        keep = {tuple(row) for e in sel.values() for row in (e // d).tolist()}
        est = NeuronLevelEstimator(network, points, max_order=max(sel), neurons=networks, seed=seed, chunk=chunk,
                                   device=device, dtype=dtype, progress=progress, point_sets=keep, client=client,
                                   checkpoint=checkpoint)
        return {n: est.correlator(entries=e) for n, e in sel.items()}
    ens = make_ensemble(network, networks, seed=seed, chunk=chunk, device=device, dtype=dtype, estimator=estimator)
    x = ens.points(points)
    d = int(network.output_dim)
    sel = select_entries(x.shape[0], d, orders, entries, outputs)
    new = functools.partial(NPointAccumulator, x, d, list(sel), entries=sel, device=ens.device,
                            estimator=ens.estimator)
    work = EnsembleBlocks(ens, "correlators", new, functools.partial(_feed_source, x),
                          {"points": x, "entries": sel})
    return run_ensemble(work, client=client, checkpoint=checkpoint, progress=progress).estimates()


def _feed_source(x, acc, ens: Ensemble, chunk) -> None:
    """Feed one block's moment source at points ``x`` to an n-point or connected accumulator."""
    acc.update(ens.source(chunk, x))


def estimate_connected(network: Network | TorchModel, points, entries, *, networks: int = 20000, seed: int = 0,
                       chunk: int | None = None, estimator: str = "auto", width: int | None = None, device="auto",
                       dtype=torch.float64, progress=None, client=None, checkpoint=None) -> CorrelatorEstimate:
    r"""Connected correlators (joint cumulants) of the given entries, e.g. the connected 4-point function
    :math:`G^c_{1234} = G_{1234} - G_{12}G_{34} - G_{13}G_{24} - G_{14}G_{23}` (zero means), with
    delta-method standard errors.  ``estimator="neuron"`` uses single-neuron moments (``networks``
    neurons; ``width`` selects the width to evaluate at).  ``network`` may be a
    :class:`~symcorr.montecarlo.models.TorchModel`.  ``client``, ``checkpoint``: as in
    :func:`estimate_correlators`."""
    check_model(network, estimator)
    if estimator == "neuron" and isinstance(network, Network):
        e = torch.as_tensor(entries, dtype=torch.long)
        e = e[None, :] if e.ndim == 1 else e
        d = int(network.output_dim)
        est = NeuronLevelEstimator(network, points, max_order=e.shape[1], neurons=networks, seed=seed,
                                   chunk=chunk, device=device, dtype=dtype, progress=progress,
                                   point_sets={tuple(row) for row in (e // d).tolist()}, client=client,
                                   checkpoint=checkpoint)
        return est.correlator(entries=e, width=width, connected=True)
    ens = make_ensemble(network, networks, seed=seed, chunk=chunk, device=device, dtype=dtype, estimator=estimator)
    x = ens.points(points)
    new = functools.partial(ConnectedAccumulator, x, int(network.output_dim), entries, device=ens.device,
                            estimator=ens.estimator)
    ConnectedAccumulator(x, int(network.output_dim), entries)  # validates the entries here, before any block
    work = EnsembleBlocks(ens, "connected", new, functools.partial(_feed_source, x),
                          {"points": x, "entries": torch.as_tensor(entries, dtype=torch.long)})
    return run_ensemble(work, client=client, checkpoint=checkpoint, progress=progress).estimate()


# ----------------------------------------------------------------------------------------------------
# neuron-level estimator
# ----------------------------------------------------------------------------------------------------
def _multiset_offsets(points: int, max_order: int) -> list[int]:
    """Start index of the multisets of each size 1..max_order (sizes listed consecutively)."""
    offsets = [0, 0]
    for k in range(1, max_order + 1):
        offsets.append(offsets[-1] + math.comb(points + k - 1, k))
    return offsets  # offsets[k] = start of size k; offsets[max_order + 1] = total


def _multiset_rank(sorted_pts: torch.Tensor, binom: torch.Tensor) -> torch.Tensor:
    r"""Colex rank of sorted multisets ``(E, k)``: :math:`\sum_i \binom{c_i + i}{i + 1}`."""
    k = sorted_pts.shape[1]
    d = sorted_pts + torch.arange(k, device=sorted_pts.device)
    return binom[d, torch.arange(1, k + 1, device=sorted_pts.device)].sum(-1)


class _MultisetIndex:
    """Maps multisets of point indices (any order) of size 1..max_order to feature indices.

    The points come in ``groups`` groups of ``points`` each (e.g. ``x`` and its images ``g x``); only
    multisets within one group are features (moments never mix groups).  ``keep`` (global point tuples)
    restricts the features to the sub-multisets of those tuples; by default every multiset is a feature.
    ``multisets[i]`` is the (global, sorted) point tuple of feature ``i``."""

    def __init__(self, points: int, max_order: int, device, groups: int = 1, keep=None):
        self.points, self.max_order, self.groups = points, max_order, groups
        self.offsets = _multiset_offsets(points, max_order)
        top = points + max_order + 1
        binom = torch.zeros(top, max_order + 2, dtype=torch.long)
        for a in range(top):
            for b in range(max_order + 2):
                binom[a, b] = math.comb(a, b)
        self.binom = binom.to(device)
        self.per_group = self.offsets[max_order + 1]
        dense = self.per_group * groups
        if keep is None:
            wanted = [tuple(g * points + p for p in row) for g in range(groups) for k in range(1, max_order + 1)
                      for row in unique_entries(points, k).tolist()]
        else:
            found = set()
            for tup in keep:
                tup = sorted(int(p) for p in tup)
                if not 1 <= len(tup) <= max_order:
                    raise SpecError(f"point tuple {tup} has more than max_order={max_order} points")
                for r in range(1, len(tup) + 1):
                    for sub in itertools.combinations(tup, r):
                        found.add(sub)
            wanted = sorted(found, key=lambda t: (len(t), t))
        dense_idx = self._dense(torch.tensor([list(t) + [t[0]] * (max_order - len(t)) for t in wanted],
                                             dtype=torch.long, device=device),
                                torch.tensor([len(t) for t in wanted], dtype=torch.long, device=device)) \
            if wanted else torch.empty(0, dtype=torch.long, device=device)
        order = torch.argsort(dense_idx)
        self.multisets: list[tuple] = [wanted[i] for i in order.tolist()]
        self.size = len(self.multisets)
        self.position = torch.full((dense,), -1, dtype=torch.long, device=device)
        self.position[dense_idx[order]] = torch.arange(self.size, device=device)

    def _dense(self, padded: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        out = torch.empty(padded.shape[0], dtype=torch.long, device=padded.device)
        for k in range(1, self.max_order + 1):
            mask = lengths == k
            if bool(mask.any()):
                out[mask] = self._dense_k(padded[mask, :k])
        return out

    def _dense_k(self, pts: torch.Tensor) -> torch.Tensor:
        k = pts.shape[1]
        group = torch.div(pts[:, 0], self.points, rounding_mode="floor")
        local = pts - group[:, None] * self.points
        if bool((local < 0).any() or (local >= self.points).any() or (group >= self.groups).any()):
            raise SpecError("a moment mixes points of different groups or points out of range")
        srt = torch.sort(local, dim=1).values
        return group * self.per_group + self.offsets[k] + _multiset_rank(srt, self.binom)

    def index(self, pts: torch.Tensor) -> torch.Tensor:
        """Feature index of each row of ``pts`` ``(E, k)`` (points of one group per row)."""
        pos = self.position[self._dense_k(pts)]
        if bool((pos < 0).any()):
            missing = pts[pos < 0][0].tolist()
            raise SpecError(f"the moment of points {sorted(missing)} was not estimated; include it in the "
                            "requested entries")
        return pos


def _neuron_network(network: Network) -> Network:
    """The width-1 network of one hidden neuron with the same first-layer laws; errors if the neurons of
    ``network`` are not iid."""
    if network.depth != 2:
        raise SpecError(f"the neuron-level estimator needs a single hidden layer (depth 2), got depth "
                        f"{network.depth}")
    layer = network.layers[0]
    w = network.weight(0).law
    where = "layers[0]"
    if not w.is_iid and not isinstance(w, Normal):
        raise SpecError(f"the rows of a {type(w).__name__} block are not independent, so the hidden neurons are not "
                        "iid; the neuron-level estimator needs iid neurons", f"{where}.weight")
    if isinstance(w, Normal) and not w.is_iid:
        if w.row_cov is not None:
            raise SpecError("row_cov correlates the hidden neurons; the neuron-level estimator needs iid "
                            "neurons", f"{where}.weight")
        loc = w.loc
        if isinstance(loc, sp.MatrixBase):
            rows = {tuple(loc.row(i)) for i in range(loc.rows)}
            if len(rows) != 1:
                raise SpecError("the hidden units have different weight means, so they are not identically "
                                "distributed", f"{where}.weight")
            row = rows.pop()
            loc = row[0] if len(row) == 1 else sp.Matrix([list(row)])
        w = Normal(loc, w.var, col_cov=w.col_cov)
    b = network.bias(0).law if network.bias(0) is not None else None
    if isinstance(b, Normal) and not b.is_iid:
        if b.cov is not None:
            raise SpecError("a bias covariance correlates the hidden neurons; the neuron-level estimator "
                            "needs iid neurons", f"{where}.bias")
        vals = set(b.loc)
        if len(vals) != 1:
            raise SpecError("the hidden biases have different means, so the neurons are not identically "
                            "distributed", f"{where}.bias")
        b = Normal(vals.pop(), b.var)
    return Network(network.input_dim, [Dense(1, layer.activation, weight=w, bias=b)])


class NeuronLevelEstimator:
    r"""Exact-in-width correlators of a single-hidden-layer network from sampled single neurons.

    ``network`` may keep its hidden width symbolic (``N``): :meth:`correlator` then evaluates at any
    ``width`` by substituting it into the read-out law (e.g. :math:`W^1 \sim N(0, \sigma^2/N)`).
    ``neurons`` single neurons are drawn in RNG blocks (block ``c`` from ``child_seed(seed, 3, c)``; the
    block size depends only on the number of moments, not on ``chunk``) and the moments
    :math:`m_A` of all multisets ``A`` of the points up to size ``max_order`` (or only the sub-multisets
    of the point tuples ``point_sets``, which is much cheaper for a few entries) are accumulated with
    their covariance (see the module docstring for the formula).  The blocks are merged along the fixed
    tree of :func:`symcorr.distributed.run_blocks`, ``chunk`` neurons per task (``client``: a Dask
    cluster to compute them on, same result bit for bit; ``checkpoint``: a folder to resume from).
    """

    def __init__(self, network: Network, points, max_order: int = 4, *, neurons: int = 1_000_000, seed: int = 0,
                 chunk: int | None = None, device="auto", dtype=torch.float64, progress=None, groups: int = 1,
                 point_sets=None, client=None, checkpoint=None):
        if not isinstance(network, Network):
            raise SpecError(f"expected a Network, got {type(network).__name__}")
        if isinstance(max_order, bool) or not isinstance(max_order, int) or not 1 <= max_order <= 8:
            raise SpecError(f"max_order must be an integer in 1..8, got {max_order!r}")
        if isinstance(neurons, bool) or not isinstance(neurons, int) or neurons < 2:
            raise SpecError(f"neurons must be an integer >= 2, got {neurons!r}")
        self.network = network
        self.width_symbol = network.layers[0].width if isinstance(network.layers[0].width, sp.Basic) else None
        self.neuron = _neuron_network(network)
        self.neuron._require_concrete("the neuron-level estimator (first layer)")
        last = network.layers[1]
        if last.activation.name != "identity":
            raise SpecError("the neuron-level estimator needs a linear read-out", "layers[1]")
        if not isinstance(network.weight(1).law, Normal):
            raise SpecError("the neuron-level estimator needs Gaussian read-out weights", "layers[1].weight")
        self.device = resolve_device(device)
        self.dtype = dtype
        self.points = self.neuron._as_inputs(points, dtype, self.device)
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1 or self.points.shape[0] % groups:
            raise SpecError(f"groups must be a positive integer dividing the number of points, got {groups!r}")
        self.groups = groups
        self.group_points = self.points.shape[0] // groups
        self.outputs = int(network.output_dim)
        self.max_order = max_order
        self.index = _MultisetIndex(self.group_points, max_order, self.device, groups, keep=point_sets)
        self.seed = seed
        # RNG blocks of neurons: their size depends only on the number of moments (a memory bound), so the
        # neurons are the same whatever ``chunk`` is; ``chunk`` (rounded to whole blocks) is the work of a task
        block = max(1024, min(1 << 16, (1 << 24) // max(1, self.index.size)))
        if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1):
            raise SpecError(f"chunk must be a positive integer, got {chunk!r}", "chunk")
        per_task = max(1, (chunk or block) // block)
        columns = []  # per multiset size k: feature positions and (F_k, k) point indices
        for k in range(1, max_order + 1):
            pos = [i for i, t in enumerate(self.index.multisets) if len(t) == k]
            if pos:
                columns.append((torch.tensor(pos, device=self.device),
                                torch.tensor([self.index.multisets[i] for i in pos], dtype=torch.long,
                                             device=self.device)))
        work = NeuronBlocks(self.neuron, self.points, columns, self.index.size, neurons, block, seed, dtype,
                            self.device, self.index.multisets)
        self.acc = run_blocks(work, per_task=per_task, client=client, checkpoint=checkpoint, progress=progress,
                              threads=1)
        self.neurons = neurons

    # --- moments -------------------------------------------------------------------------------------
    def moment(self, points: Sequence[int]) -> tuple[float, float]:
        r"""``(estimate, s.e.)`` of the single-neuron moment :math:`m_A = E\prod_{p\in A}\phi(x_p)`."""
        pts = torch.tensor([list(points)], dtype=torch.long, device=self.device)
        if not 1 <= pts.shape[1] <= self.max_order or int(pts.min()) < 0 or int(pts.max()) >= self.points.shape[0]:
            raise SpecError(f"moments of 1..{self.max_order} points were estimated")
        i = int(self.index.index(pts)[0])
        return float(self.acc.mean[i]), float(self.acc.se[i])

    # --- read-out law at a width ---------------------------------------------------------------------
    def _readout(self, width):
        net = self.network
        if width is None:
            if self.width_symbol is not None:
                raise SpecError(f"the hidden width is the symbol {self.width_symbol}; pass width=...")
            width = int(net.layers[0].width)
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise SpecError(f"width must be a positive integer, got {width!r}")
        if self.width_symbol is not None:
            net = net.subs({self.width_symbol: width})
        elif int(net.layers[0].width) != width:
            raise SpecError(f"this network has width {net.layers[0].width}; give it a symbolic width (e.g. "
                            "symcorr.size_symbol('N')) to evaluate other widths")
        net._require_concrete("the read-out law")
        law = readout_law(net)
        if law.col_cov is not None:
            raise SpecError("col_cov correlates the read-out weights of different neurons; the neuron-level "
                            "estimator needs them independent", "layers[1].weight")
        if not bool((law.mean == law.mean[:, :1]).all()):
            raise SpecError("the read-out mean differs between neurons; give one mean per output (row)",
                            "layers[1].weight")
        return width, law

    def _coefficients(self, law, action=None, magnitude: bool = False):
        r"""Read-out coefficients: pair terms :math:`vU` (neuron sums) and :math:`v_bC^b`, single terms
        :math:`\mu` and :math:`m_b`.  ``action = (group, g)`` transforms them as the law of
        :math:`g\cdot f`: :math:`\rho U\rho^T`, :math:`\rho\mu`, ... (translations shift :math:`m_b`).
        ``magnitude=True``: the same sums with every term replaced by its absolute value
        (:math:`|\rho||U||\rho|^T`, :math:`|\rho||\mu|`, :math:`|m_b| + |c|`), the magnitudes whose
        cancellation the rounding of the transformed coefficients is relative to."""
        d = self.outputs
        eye = torch.eye(d, dtype=torch.float64)
        u = law.row_cov.cpu() if law.row_cov is not None else eye
        cb = law.bias_cov.cpu() if law.bias_cov is not None else eye
        pair_a = law.var * u
        pair_b = (law.bias_var * cb) if law.has_bias else torch.zeros(d, d, dtype=torch.float64)
        single_a = law.mean[:, 0].cpu()
        single_b = law.bias_mean.cpu() if law.has_bias else torch.zeros(d, dtype=torch.float64)
        if magnitude:
            pair_a, pair_b, single_a, single_b = (t.abs() for t in (pair_a, pair_b, single_a, single_b))
        if action is not None:
            group, g = action
            g = g.to(torch.float64).cpu()
            if magnitude:
                g = g.abs()
            if group.is_linear:
                pair_a, pair_b = g @ pair_a @ g.T, g @ pair_b @ g.T
                single_a, single_b = g @ single_a, g @ single_b
            else:
                single_b = single_b + g
        return tuple(t.to(self.device) for t in (pair_a, pair_b, single_a, single_b))

    # --- the polynomial ------------------------------------------------------------------------------
    def _moments_fn(self, entries: torch.Tensor, width: int, law, action=None,
                    magnitude: bool = False) -> Callable[[torch.Tensor], torch.Tensor]:
        """``m -> G(entries)`` at ``width`` (a differentiable function of the moment vector); slots refer
        to all points (``point * d + output``); ``action`` transforms the outputs (see _coefficients).

        ``magnitude=True``: the *magnitude polynomial* -- the same evaluation with every coefficient,
        moment and subtraction replaced by absolute values and additions (``m -> |m|``, the
        moment-cumulant recursion with ``+``).  It bounds the sum of the absolute values of all the terms
        whose cancellation produces the value, so rounding in the evaluation is at most a small multiple
        of ``u`` times it (the classical bound for evaluating a polynomial by a fixed sequence of
        operations)."""
        d = self.outputs
        pts, outs = entries // d, entries % d
        pair_a, pair_b, single_a, single_b = self._coefficients(law, action, magnitude)
        n = entries.shape[1]
        patterns = []
        for pairs, singles in partial_matchings(n):
            factors = []  # (alpha (E,), beta (E,), point columns (E, k))
            for i, j in pairs:
                factors.append((pair_a[outs[:, i], outs[:, j]], pair_b[outs[:, i], outs[:, j]],
                                torch.stack([pts[:, i], pts[:, j]], 1)))
            for k in singles:
                factors.append((single_a[outs[:, k]], single_b[outs[:, k]], pts[:, k:k + 1]))
            if any(bool((a == 0).all() and (b == 0).all()) for a, b, _ in factors):
                continue
            patterns.append(factors)
        index = self.index
        N = float(width)
        prepared = []  # per pattern: (f, {mask: moment index (E,)}, [(mask, coefficient (E,))])
        for factors in patterns:
            f = len(factors)
            idx = {}
            for mask in range(1, 1 << f):
                cols = torch.cat([factors[r][2] for r in range(f) if mask >> r & 1], dim=1)
                idx[mask] = index.index(cols)
            coefs = []
            for mask in range(0, 1 << f):
                coef = torch.ones(entries.shape[0], dtype=torch.float64, device=entries.device)
                for r in range(f):
                    coef = coef * (factors[r][0] if mask >> r & 1 else factors[r][1])
                if not bool((coef == 0).all()):
                    coefs.append((mask, coef))
            prepared.append((f, idx, coefs))

        sign = 1.0 if magnitude else -1.0

        def fn(m: torch.Tensor) -> torch.Tensor:
            if magnitude:
                m = m.abs()
            total = torch.zeros(entries.shape[0], dtype=m.dtype, device=m.device)
            for f, idx, coefs in prepared:
                # joint single-neuron cumulants kappa_B by the moment-cumulant recursion over subsets
                kappa: dict[int, torch.Tensor] = {}
                for mask in range(1, 1 << f):
                    low = mask & -mask
                    rest = mask ^ low
                    value = m[idx[mask]]
                    sub = rest
                    while True:
                        bp = sub | low
                        if bp != mask:
                            value = value + sign * kappa[bp] * m[idx[mask ^ bp]]
                        if sub == 0:
                            break
                        sub = (sub - 1) & rest
                    kappa[mask] = value
                # moments of sums of N iid neurons: E[prod_R X] = sum_{B ni min R} N kappa_B E[prod_{R-B} X]
                sums = {0: torch.ones_like(total)}
                for mask in range(1, 1 << f):
                    low = mask & -mask
                    rest = mask ^ low
                    value = torch.zeros_like(total)
                    sub = rest
                    while True:
                        bp = sub | low
                        value = value + N * kappa[bp] * sums[mask ^ bp]
                        if sub == 0:
                            break
                        sub = (sub - 1) & rest
                    sums[mask] = value
                for mask, coef in coefs:
                    total = total + coef * sums[mask]
            return total

        return fn

    def correlator(self, order: int | None = None, *, entries=None, width: int | None = None,
                   connected: bool = False, outputs: Sequence[int] | None = None) -> CorrelatorEstimate:
        r""":math:`G^{(n)}` (or its connected part) at ``width`` for the given entries (default: all unique
        entries of order ``order`` over the selected ``outputs``), with delta-method standard errors."""
        p = self.group_points
        if entries is None:
            if order is None:
                raise SpecError("give an order or entries")
            entries = unique_entries(output_slots(p, self.outputs, outputs), order)
        entries = as_entries(entries, self.points.shape[0] * self.outputs).to(self.device)
        n = entries.shape[1]
        if n > self.max_order:
            raise SpecError(f"order {n} needs single-neuron moments of order {n}; this estimator has "
                            f"max_order={self.max_order}")
        width, law = self._readout(width)
        if connected:
            blocks = {b: self._moments_fn(entries[:, list(b)], width, law)
                      for r in range(1, n + 1) for b in itertools.combinations(range(n), r)}

            def fn(m):
                return joint_cumulant(lambda block: blocks[tuple(block)](m), range(n))
        else:
            fn = self._moments_fn(entries, width, law)
        value, se = delta_method(fn, self.acc.mean, self.acc.mean_covariance())
        return CorrelatorEstimate(n, entries, value, se, self.points.cpu(), self.outputs, self.neurons,
                                  estimator="neuron", connected=connected, width=width)

    def difference(self, entries, other_entries, *, width: int | None = None, action=None):
        r"""Paired differences :math:`G(\text{entries}) - G'(\text{other\_entries})` with delta-method
        standard errors from the joint covariance of all moments, where :math:`G'` is the correlator of
        :math:`g\cdot f` when ``action = (group, g)`` acts on the outputs.  Returns ``(value, se)``.

        The s.e. includes the rounding floor :func:`~symcorr.montecarlo.statistics.rounding_floor`,
        :math:`\epsilon = 32\,n\,u\,\max_e \max(\tilde G_e, \tilde G'_e)`, so that rounding is never
        read as a signal.  Scale: :math:`\tilde G` is the *magnitude polynomial* of the correlator (see
        ``_moments_fn``): the value of the same exact-in-width polynomial with every term replaced by its
        absolute value -- :math:`|m_A|` for the moments, :math:`+` in the moment-cumulant recursion, and
        absolute read-out coefficients transformed by :math:`|\rho|` (:math:`|\rho||U||\rho|^T`, ...).
        That is the sum of the absolute values of the terms whose cancellation produces :math:`G`
        (width-weighted products of moments, e.g. :math:`N(N-1)m_{12}m_{34}` against :math:`N m_{12}m_{34}`
        inside the cumulants), and of the coefficient products that :math:`\rho` mixes: the rounding of
        both sides is relative to it, not to the (possibly zero) value of :math:`G - G'`.  The maximum over
        the entries of the order follows the other paired tests (:mod:`symcorr.montecarlo.invariance`):
        a group action mixes components, so rounding is relative to the largest ones.  ``u`` is the unit
        round-off of the forward dtype (float64 or coarser)."""
        n_slots = self.points.shape[0] * self.outputs
        e1 = as_entries(entries, n_slots).to(self.device)
        e2 = as_entries(other_entries, n_slots, e1.shape[1]).to(self.device)
        if e1.shape[1] > self.max_order:
            raise SpecError(f"order {e1.shape[1]} exceeds max_order={self.max_order}")
        width, law = self._readout(width)
        f1 = self._moments_fn(e1, width, law)
        f2 = self._moments_fn(e2, width, law, action)
        value, se = delta_method(lambda m: f1(m) - f2(m), self.acc.mean, self.acc.mean_covariance())
        g1 = self._moments_fn(e1, width, law, magnitude=True)(self.acc.mean)
        g2 = self._moments_fn(e2, width, law, action, magnitude=True)(self.acc.mean)
        dtype = self.dtype if torch.finfo(self.dtype).eps > torch.finfo(torch.float64).eps else torch.float64
        floor = rounding_floor(e1.shape[1], torch.maximum(g1, g2).max(), dtype)
        return value, floored_se(se, floor)
