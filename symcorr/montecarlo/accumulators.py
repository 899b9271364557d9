r"""Mergeable streaming accumulators for n-point tensors, with per-entry standard errors.

Slots and entries
-----------------
A Monte Carlo run evaluates every network at ``P`` input points and keeps its ``d`` outputs, so each
network gives ``S = P d`` numbers :math:`f_s`, one per *slot* :math:`s = p\,d + a` (point ``p``, output
``a``).  An *entry* of order ``n`` is a tuple of slots :math:`(s_1, \dots, s_n)`; its correlator is

.. math:: G_{s_1\dots s_n} = E\big[f_{a_1}(x_{p_1}) \cdots f_{a_n}(x_{p_n})\big].

The full tensor has :math:`S^n` entries, but it is symmetric under permutations of the slots, so only the
:math:`\binom{S+n-1}{n}` sorted tuples :math:`s_1 \le \dots \le s_n` are distinct
(:func:`unique_entries`).  Accumulators take an explicit ``(E, n)`` index tensor of the entries wanted
(a handful for a test, all unique ones for a small tensor) and :meth:`CorrelatorEstimate.tensor`
rebuilds the full tensor from the unique entries when it is small.

Statistics
----------
:class:`MomentAccumulator` keeps, for a vector of features :math:`v \in R^F` observed once per network,
the count :math:`n`, the mean :math:`\bar v` and the centred sums of squares
:math:`M_2 = \sum_m (v_m - \bar v)^2` (optionally the cross products
:math:`C = \sum_m (v_m - \bar v)(v_m - \bar v)^T`), in float64.  Two accumulators merge exactly
(Chan, Golub and LeVeque 1979): with :math:`\delta = \bar v_B - \bar v_A`,

.. math:: n = n_A + n_B,\quad \bar v = \bar v_A + \delta\, n_B/n,\quad
          M_2 = M_{2,A} + M_{2,B} + \delta^2\, n_A n_B / n,

so chunks can be processed in any grouping (and on different devices) and merged.  The standard error of
an entry is :math:`\sqrt{M_2/(n-1)/n}`; the covariance of two entry means is :math:`C/(n-1)/n`.
Functions of several means (connected correlators, ratios) get their standard error by the delta
method, :math:`\mathrm{Var}\,g(\bar v) \approx \nabla g^T\,\mathrm{Cov}(\bar v)\,\nabla g`
(:func:`delta_method`, gradients by ``torch.func.jacrev``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

import torch

from ..combinatorics import joint_cumulant
from ..errors import SpecError
from ..notebook import MarkdownDisplay

__all__ = [
    "MomentAccumulator", "NPointAccumulator", "ConnectedAccumulator", "CorrelatorEstimate",
    "unique_entries", "entries_from_indices", "as_entries", "delta_method", "slot_label",
    "ELEMENT_BUDGET",
]

#: at most this many float64 numbers are materialised at once when forming products (memory bound)
ELEMENT_BUDGET = 1 << 22


# ----------------------------------------------------------------------------------------------------
# entries
# ----------------------------------------------------------------------------------------------------
def unique_entries(slots: int | Sequence[int], order: int, device=None) -> torch.Tensor:
    """All sorted ``order``-tuples (multisets) of the given slots: an ``(E, order)`` long tensor with
    :math:`E = \\binom{S+n-1}{n}`.  ``slots`` is a count ``S`` (slots ``0..S-1``) or a list of slots."""
    order = _check_order(order)
    if isinstance(slots, int):
        base = torch.arange(slots, device=device)
    else:
        base = torch.as_tensor(list(slots), dtype=torch.long, device=device)
        base = torch.unique(base)
    if base.numel() == 0:
        raise SpecError("no slots to form entries from")
    if order == 1:
        return base[:, None].clone()
    return torch.combinations(base, order, with_replacement=True)


def entries_from_indices(items: Iterable, outputs: int) -> torch.Tensor:
    """Entries from ``((p_1..p_n), (a_1..a_n))`` pairs (point indices, output indices), all of one order:
    slot :math:`s_i = p_i d + a_i` with ``d = outputs``."""
    rows = []
    for item in items:
        try:
            pts, outs = item
            pts, outs = tuple(int(p) for p in pts), tuple(int(a) for a in outs)
        except (TypeError, ValueError):
            raise SpecError(f"an entry is a pair ((points...), (outputs...)), got {item!r}") from None
        if len(pts) != len(outs):
            raise SpecError(f"entry {item!r}: as many output indices as points are needed")
        for a in outs:
            if not 0 <= a < outputs:
                raise SpecError(f"output index {a} out of range for {outputs} outputs")
        rows.append([p * outputs + a for p, a in zip(pts, outs)])
    if not rows:
        raise SpecError("no entries given")
    if len({len(r) for r in rows}) != 1:
        raise SpecError("all entries of one request must have the same order")
    return torch.tensor(rows, dtype=torch.long)


def as_entries(entries, slots: int, order: int | None = None) -> torch.Tensor:
    """Validate an ``(E, n)`` slot-index tensor (or nested list) against ``slots`` slots."""
    t = torch.as_tensor(entries, dtype=torch.long)
    if t.ndim == 1:
        t = t[None, :]
    if t.ndim != 2 or t.shape[1] < 1 or t.shape[0] < 1:
        raise SpecError(f"entries must have shape (E, order), got {tuple(t.shape)}")
    if order is not None and t.shape[1] != order:
        raise SpecError(f"entries have order {t.shape[1]}, expected {order}")
    if int(t.min()) < 0 or int(t.max()) >= slots:
        raise SpecError(f"slot index out of range: slots are 0..{slots - 1} (slot = point * d + output)")
    return t


def slot_label(entry: Sequence[int], outputs: int) -> str:
    """``G_{a1..an}(x_p1,...,x_pn)`` for one entry, e.g. ``G_01(x0,x2)``."""
    pts = [int(s) // outputs for s in entry]
    outs = [int(s) % outputs for s in entry]
    sep = "," if outputs > 10 else ""
    return f"G_{sep.join(str(a) for a in outs)}(" + ",".join(f"x{p}" for p in pts) + ")"


def _check_order(order) -> int:
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise SpecError(f"correlator order must be a positive integer, got {order!r}")
    if order > 8:
        raise SpecError(f"correlator order {order} is above the supported maximum of 8")
    return order


# ----------------------------------------------------------------------------------------------------
# streaming moments
# ----------------------------------------------------------------------------------------------------
class MomentAccumulator:
    """Streaming mean, variance (and optionally covariance) of ``size`` features, mergeable.

    ``update(values)`` takes an ``(m, size)`` batch (one row per network); ``merge(other)`` combines two
    accumulators exactly (see the module docstring).  Everything is float64 on ``device``.
    """

    def __init__(self, size: int, covariance: bool = False, device=None):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise SpecError(f"accumulator size must be a positive integer, got {size!r}")
        self.size = size
        self.track_covariance = bool(covariance)
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.count = 0
        self.mean_ = torch.zeros(size, dtype=torch.float64, device=self.device)
        self.m2 = torch.zeros(size, dtype=torch.float64, device=self.device)
        self.c2 = (torch.zeros(size, size, dtype=torch.float64, device=self.device)
                   if self.track_covariance else None)

    def __repr__(self):
        return f"MomentAccumulator(size={self.size}, count={self.count}, covariance={self.track_covariance})"

    def update(self, values: torch.Tensor, dim: int = 0) -> "MomentAccumulator":
        """Add a batch of observations: ``(m, size)`` (one row per network, ``dim=0``) or the
        entry-major ``(size, m)`` (``dim=1``).  NaN or infinite values are an error."""
        v = torch.as_tensor(values)
        if v.ndim == 1 and self.size == 1:
            v = v[:, None] if dim == 0 else v[None, :]
        if dim not in (0, 1) or v.ndim != 2 or v.shape[1 - dim] != self.size:
            want = f"(m, {self.size})" if dim == 0 else f"({self.size}, m)"
            raise SpecError(f"expected a batch of shape {want}, got {tuple(v.shape)}")
        m = v.shape[dim]
        if m == 0:
            return self
        v = v.to(dtype=torch.float64, device=self.device)
        c2_b = None
        if self.track_covariance:
            mean_b = v.mean(dim)
            centred = v - (mean_b if dim == 0 else mean_b[:, None])
            m2_b = (centred * centred).sum(dim)
            c2_b = centred.T @ centred if dim == 0 else centred @ centred.T
        else:  # one fused pass
            var_b, mean_b = torch.var_mean(v, dim=dim, correction=0)
            m2_b = var_b * m
        if not (torch.isfinite(mean_b).all() and torch.isfinite(m2_b).all()):  # NaN/inf anywhere shows here
            raise SpecError("Monte Carlo values contain NaN or infinite numbers (overflow); reduce the "
                            "parameter scales, the inputs or the correlator order")
        self._merge_stats(m, mean_b, m2_b, c2_b)
        return self

    def _merge_stats(self, n_b: int, mean_b, m2_b, c2_b):
        n_a = self.count
        if n_a == 0:
            self.count, self.mean_, self.m2 = n_b, mean_b.clone(), m2_b.clone()
            if self.track_covariance:
                self.c2 = c2_b.clone()
            return
        n = n_a + n_b
        delta = mean_b - self.mean_
        w = n_a * n_b / n
        self.mean_ = self.mean_ + delta * (n_b / n)
        self.m2 = self.m2 + m2_b + delta * delta * w
        if self.track_covariance:
            self.c2 = self.c2 + c2_b + torch.outer(delta, delta) * w
        self.count = n

    def merge(self, other: "MomentAccumulator") -> "MomentAccumulator":
        """Merge ``other`` into this accumulator (in place) and return self."""
        if not isinstance(other, MomentAccumulator) or other.size != self.size:
            raise SpecError("can only merge accumulators of the same size")
        if other.count == 0:
            return self
        c2 = None
        if self.track_covariance:
            if not other.track_covariance:
                raise SpecError("cannot merge an accumulator without covariance into one with covariance")
            c2 = other.c2.to(self.device)
        self._merge_stats(other.count, other.mean_.to(self.device), other.m2.to(self.device), c2)
        return self

    def __add__(self, other):
        out = self.copy()
        return out.merge(other)

    def copy(self) -> "MomentAccumulator":
        out = MomentAccumulator(self.size, self.track_covariance, self.device)
        out.count, out.mean_, out.m2 = self.count, self.mean_.clone(), self.m2.clone()
        if self.track_covariance:
            out.c2 = self.c2.clone()
        return out

    def _require(self, k: int, what: str):
        if self.count < k:
            raise SpecError(f"{what} needs at least {k} observations, have {self.count}")

    @property
    def mean(self) -> torch.Tensor:
        self._require(1, "a mean")
        return self.mean_

    @property
    def variance(self) -> torch.Tensor:
        """Unbiased per-feature sample variance."""
        self._require(2, "a variance")
        return self.m2 / (self.count - 1)

    @property
    def se(self) -> torch.Tensor:
        """Standard error of each feature mean, :math:`\\sqrt{s^2/n}`."""
        return torch.sqrt(self.variance / self.count)

    def covariance(self) -> torch.Tensor:
        """Unbiased sample covariance of the features (needs ``covariance=True``)."""
        if not self.track_covariance:
            raise SpecError("this accumulator does not track covariances; create it with covariance=True")
        self._require(2, "a covariance")
        return self.c2 / (self.count - 1)

    def mean_covariance(self) -> torch.Tensor:
        """Covariance matrix of the feature means, :math:`\\mathrm{Cov}(v)/n`."""
        return self.covariance() / self.count


def delta_method(fn: Callable[[torch.Tensor], torch.Tensor], mean: torch.Tensor,
                 mean_cov: torch.Tensor, block: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Value and delta-method standard error of :math:`g(\bar v)` for a smooth ``fn``: ``(F,) -> (E,)``.

    :math:`\mathrm{se}_e = \sqrt{J_e\,\mathrm{Cov}(\bar v)\,J_e^T}` with :math:`J = \partial g/\partial v`
    at the estimate (computed by ``torch.func.jacrev``, ``block`` outputs at a time).
    """
    mean = mean.detach()
    value = fn(mean).detach()
    flat = value.reshape(-1)
    out = torch.empty_like(flat)
    jac = torch.func.jacrev(lambda v: fn(v).reshape(-1))(mean)  # (E, F)
    for i in range(0, flat.numel(), block):
        j = jac[i:i + block]
        out[i:i + block] = ((j @ mean_cov) * j).sum(-1).clamp_min(0).sqrt()
    return value, out.reshape(value.shape)


# ----------------------------------------------------------------------------------------------------
# estimates
# ----------------------------------------------------------------------------------------------------
@dataclass
class CorrelatorEstimate(MarkdownDisplay):
    r"""Monte Carlo estimate of correlator entries with standard errors.

    ``entries[e]`` is a tuple of slots (``slot = point * outputs + output``); ``mean[e]`` estimates
    :math:`E[f_{a_1}(x_{p_1})\cdots f_{a_n}(x_{p_n})]` (or its connected part when ``connected``) and
    ``se[e]`` is its standard error.  ``samples`` counts networks (or single neurons for the
    neuron-level estimator).
    """

    order: int
    entries: torch.Tensor
    mean: torch.Tensor
    se: torch.Tensor
    points: torch.Tensor
    outputs: int
    samples: int
    estimator: str = "direct"
    connected: bool = False
    width: int | None = None
    note: str = ""
    _lookup: dict = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self.entries = self.entries.detach().cpu()

    def __repr__(self) -> str:
        kind = "connected " if self.connected else ""
        width = f", width {self.width}" if self.width is not None else ""
        return (f"CorrelatorEstimate({kind}order {self.order}, {len(self.entries)} entries, {self.samples} samples, "
                f"{self.estimator} estimator{width})")
        self.mean = self.mean.detach().cpu()
        self.se = self.se.detach().cpu()

    @property
    def num_points(self) -> int:
        return int(self.points.shape[0])

    def _index(self, slots) -> int:
        if self._lookup is None:
            self._lookup = {tuple(sorted(int(s) for s in row)): i for i, row in enumerate(self.entries.tolist())}
        key = tuple(sorted(int(s) for s in slots))
        if key not in self._lookup:
            raise SpecError(f"entry {key} was not estimated; request it in `entries`")
        return self._lookup[key]

    def get(self, points: Sequence[int], outputs: Sequence[int] | None = None) -> tuple[float, float]:
        """``(mean, se)`` of :math:`G_{a_1..a_n}(x_{p_1},...,x_{p_n})` (outputs default to all 0)."""
        points = [int(p) for p in points]
        outputs = [0] * len(points) if outputs is None else [int(a) for a in outputs]
        if len(points) != self.order or len(outputs) != self.order:
            raise SpecError(f"this estimate has order {self.order}; give {self.order} points and outputs")
        i = self._index([p * self.outputs + a for p, a in zip(points, outputs)])
        return float(self.mean[i]), float(self.se[i])

    def tensor(self, which: str = "mean") -> torch.Tensor:
        """The full symmetric tensor, shape ``(P,)*n + (d,)*n`` (points first, then outputs, as in the
        paper's code), rebuilt from the unique entries; every entry must have been estimated."""
        values = {"mean": self.mean, "se": self.se}[which]
        s, n = self.num_points * self.outputs, self.order
        if s ** n > 50_000_000:
            raise SpecError(f"the full tensor would have {s ** n} entries; use .get() or .mean instead")
        full = torch.full((s,) * n, float("nan"), dtype=torch.float64)
        for row, v in zip(self.entries.tolist(), values.tolist()):
            for perm in set(itertools.permutations(row)):
                full[perm] = v
        if torch.isnan(full).any():
            raise SpecError("not every entry was estimated; request all unique entries to build the tensor")
        p, d = self.num_points, self.outputs
        full = full.reshape(*([p, d] * n))
        return full.permute(*range(0, 2 * n, 2), *range(1, 2 * n, 2)).contiguous()

    def labels(self) -> list[str]:
        return [slot_label(row, self.outputs) for row in self.entries.tolist()]

    def markdown(self, max_rows: int = 40) -> str:
        """A Markdown table ``entry | estimate | s.e.`` (the first ``max_rows`` entries)."""
        kind = "connected " if self.connected else ""
        width = f", width {self.width}" if self.width is not None else ""
        head = (f"{kind}{self.order}-point function, {self.estimator} estimator, {self.samples} "
                f"{'neurons' if self.estimator == 'neuron' else 'networks'}{width}")
        lines = [head, "", "| entry | estimate | s.e. |", "|---|---:|---:|"]
        for i, label in enumerate(self.labels()[:max_rows]):
            lines.append(f"| {label} | {float(self.mean[i]):.6g} | {float(self.se[i]):.2g} |")
        if len(self.entries) > max_rows:
            lines.append(f"| ... {len(self.entries) - max_rows} more entries | | |")
        return "\n".join(lines)

    def __str__(self):
        return self.markdown()


# ----------------------------------------------------------------------------------------------------
# n-point accumulators over moment sources
# ----------------------------------------------------------------------------------------------------
def entry_blocks(num_entries: int, networks: int, order: int, budget: int = ELEMENT_BUDGET):
    """Slices of entries such that ``networks * block * order`` stays within ``budget`` numbers."""
    block = max(1, budget // max(1, networks * order))
    for start in range(0, num_entries, block):
        yield slice(start, min(num_entries, start + block))


class NPointAccumulator:
    r"""Streaming estimates of the n-point entries :math:`E[f_{s_1}\cdots f_{s_n}]` for several orders.

    ``entries`` maps each order to an ``(E, n)`` slot tensor (default: all unique entries, which is
    only sensible for small tensors).  ``update(source)`` takes a *moment source* (see
    :mod:`symcorr.montecarlo.ensemble`): anything with ``.size`` (networks in the chunk) and
    ``.products(entries) -> (size, E)`` giving, per network, an unbiased estimate of each product (the
    product itself, or its conditional expectation given the hidden layers).  Accumulators merge.
    """

    def __init__(self, points, outputs: int, orders: Sequence[int] = (2, 4),
                 entries: Mapping[int, torch.Tensor] | None = None, device=None, estimator: str = "direct"):
        self.points = torch.as_tensor(points, dtype=torch.float64).detach().cpu()
        if self.points.ndim != 2:
            raise SpecError(f"points must have shape (P, d_in), got {tuple(self.points.shape)}")
        self.outputs = int(outputs)
        self.slots = self.points.shape[0] * self.outputs
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.estimator = estimator
        entries = dict(entries or {})
        orders = sorted({_check_order(n) for n in (list(orders) + list(entries))})
        self.entries = {}
        for n in orders:
            e = entries.get(n)
            self.entries[n] = (unique_entries(self.slots, n) if e is None else as_entries(e, self.slots, n))
        self.acc = {n: MomentAccumulator(len(e), device=self.device) for n, e in self.entries.items()}
        self._dev_entries = {n: e.to(self.device) for n, e in self.entries.items()}

    @property
    def orders(self) -> list[int]:
        return list(self.entries)

    @property
    def count(self) -> int:
        return next(iter(self.acc.values())).count

    def update(self, source) -> "NPointAccumulator":
        for n, e in self._dev_entries.items():
            means, m2s = [], []
            for sl in entry_blocks(len(e), source.size, n):
                sub = MomentAccumulator(sl.stop - sl.start, device=self.device).update(source.products(e[sl]))
                means.append(sub.mean_)
                m2s.append(sub.m2)
            part = MomentAccumulator(len(e), device=self.device)
            part.count, part.mean_, part.m2 = source.size, torch.cat(means), torch.cat(m2s)
            self.acc[n].merge(part)
        return self

    def merge(self, other: "NPointAccumulator") -> "NPointAccumulator":
        if set(other.entries) != set(self.entries) or any(
                not torch.equal(other.entries[n], self.entries[n]) for n in self.entries):
            raise SpecError("can only merge accumulators of the same entries")
        for n in self.acc:
            self.acc[n].merge(other.acc[n])
        return self

    def estimate(self, order: int) -> CorrelatorEstimate:
        if order not in self.acc:
            raise SpecError(f"order {order} was not accumulated (have {self.orders})")
        acc = self.acc[order]
        se = acc.se if acc.count > 1 else torch.full_like(acc.mean_, math.inf)
        return CorrelatorEstimate(order, self.entries[order], acc.mean, se, self.points, self.outputs,
                                  acc.count, estimator=self.estimator)

    def estimates(self) -> dict[int, CorrelatorEstimate]:
        return {n: self.estimate(n) for n in self.orders}




class ConnectedAccumulator:
    r"""Connected correlators (joint cumulants) of chosen entries, with delta-method standard errors.

    For each requested entry :math:`(s_1..s_n)` it accumulates the products of every sub-multiset of
    slots jointly (with their covariance), then returns
    :math:`G^c_{s_1..s_n} = \sum_\pi (|\pi|-1)!(-1)^{|\pi|-1}\prod_{B\in\pi} G_B`, e.g. for zero-mean
    fields :math:`G^c_{1234} = G_{1234} - G_{12}G_{34} - G_{13}G_{24} - G_{14}G_{23}`.
    """

    def __init__(self, points, outputs: int, entries, device=None, estimator: str = "direct"):
        self.points = torch.as_tensor(points, dtype=torch.float64).detach().cpu()
        self.outputs = int(outputs)
        slots = self.points.shape[0] * self.outputs
        self.entries = as_entries(entries, slots)
        self.order = self.entries.shape[1]
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.estimator = estimator
        features: dict[tuple, int] = {}
        for row in self.entries.tolist():
            for r in range(1, len(row) + 1):
                for sub in itertools.combinations(range(len(row)), r):
                    key = tuple(sorted(row[i] for i in sub))
                    features.setdefault(key, len(features))
        self.features = features
        by_order: dict[int, list] = {}
        for key, idx in features.items():
            by_order.setdefault(len(key), []).append((idx, key))
        self._groups = [(torch.tensor([i for i, _ in items], device=self.device),
                         torch.tensor([k for _, k in items], dtype=torch.long, device=self.device))
                        for _, items in sorted(by_order.items())]
        self.acc = MomentAccumulator(len(features), covariance=True, device=self.device)

    def update(self, source) -> "ConnectedAccumulator":
        vals = torch.empty(len(self.features), source.size, dtype=torch.float64, device=self.device)
        for idx, ent in self._groups:
            vals[idx] = source.products(ent).T.to(torch.float64)
        self.acc.update(vals, dim=1)
        return self

    def merge(self, other: "ConnectedAccumulator") -> "ConnectedAccumulator":
        self.acc.merge(other.acc)
        return self

    def _fn(self, means: torch.Tensor) -> torch.Tensor:
        out = []
        for row in self.entries.tolist():
            def moment(block, row=row):
                return means[self.features[tuple(sorted(row[i] for i in block))]]
            out.append(joint_cumulant(moment, range(len(row))))
        return torch.stack(out)

    def estimate(self) -> CorrelatorEstimate:
        value, se = delta_method(self._fn, self.acc.mean, self.acc.mean_covariance())
        return CorrelatorEstimate(self.order, self.entries, value, se, self.points, self.outputs,
                                  self.acc.count, estimator=self.estimator, connected=True)
