r"""Streaming ensembles of networks drawn from one spec: batched, chunked, seeded, device-aware.

An :class:`Ensemble` of ``networks`` networks is cut into *RNG blocks* of ``block`` networks; block
``j`` is drawn by ``network.sample`` from its own generator seeded with ``child_seed(seed, 0, j)``.  The
block size depends only on the network (a memory bound per block), so the networks of an ensemble are
the same whatever ``chunk`` is: ``chunk`` (rounded to whole blocks) only sets how many networks are
processed at once, i.e. the memory in use.  Every chunk is evaluated for all its networks at once
(``network.forward`` is batched over the ensemble): there is no Python loop over networks.

Moment sources
--------------
Accumulators (:mod:`.accumulators`) consume *moment sources*: objects with ``size`` (networks in the
chunk) and ``products(entries) -> (size, E)`` returning, per network, an unbiased estimate of each
product :math:`f_{s_1}\cdots f_{s_n}`.  The result is the transpose (a view) of an entry-major buffer
(one row per entry, networks contiguous), because gathering whole rows is far faster than gathering
columns; reductions over the networks (dim 0) stay contiguous:

* :class:`ProductSource` (``estimator="direct"``): the products of the sampled outputs themselves.
* :class:`GaussianReadoutSource` (``estimator="readout"``): the last layer is linear with a Gaussian law,
  :math:`f = W^L h + b^L`, so given the last hidden layer :math:`h` the outputs are jointly Gaussian with

  .. math:: \mu_{pa} = \sum_j M_{aj} h_j(x_p) + m_a,\qquad
            C_{(pa),(qb)} = v\,U_{ab}\,h(x_p)^T V h(x_q) + v_b\,C^b_{ab}

  (:math:`E W^L = M`, :math:`\mathrm{Cov}(W_{aj}, W_{bk}) = v U_{ab} V_{jk}`,
  :math:`b^L \sim N(m, v_b C^b)`), and the conditional moment is Isserlis' theorem with means,

  .. math:: E\Big[\prod_{i=1}^n f_{s_i}\,\Big|\,h\Big] = \sum_{\text{partial matchings }\pi}
            \prod_{\{i,j\}\in\pi} C_{s_i s_j}\prod_{k\ \text{unmatched}} \mu_{s_k},

  which integrates the last layer out exactly (Rao-Blackwellisation: same mean, never larger
  variance).  The last layer is then not even sampled.

Both sources transform under output group elements (``act_on_outputs``) so that invariance tests can
pair :math:`f` and :math:`g\cdot f` on the same networks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import torch

from ..combinatorics import partial_matchings
from ..distributions import Normal, numeric_value
from ..budget import ensemble_bytes, require_memory
from ..errors import SpecError
from ..groups import Group
from ..rng import child_seed, make_generator, resolve_device
from ..spec import Network

__all__ = ["Ensemble", "EnsembleChunk", "ProductSource", "GaussianReadoutSource", "ReadoutLaw",
           "readout_law", "ESTIMATORS"]

#: the per-network estimators an ensemble offers
ESTIMATORS = ("direct", "readout", "auto")

#: one RNG block holds at most this many float64 parameter numbers (64 MiB)
BLOCK_ELEMENTS = 1 << 23
#: default memory bound of a chunk, in numbers (parameters plus outputs), 256 MiB in float64
CHUNK_ELEMENTS = 1 << 25


# ----------------------------------------------------------------------------------------------------
# moment sources
# ----------------------------------------------------------------------------------------------------
class ProductSource:
    """Per-network products of sampled outputs ``f`` of shape ``(m, P, d)`` (slot = p * d + a)."""

    kind = "direct"

    def __init__(self, f: torch.Tensor):
        if f.ndim != 3:
            raise SpecError(f"outputs must have shape (networks, points, outputs), got {tuple(f.shape)}")
        self.f = f
        self.size = f.shape[0]
        self.rows = f.reshape(f.shape[0], -1).T.to(torch.float64).contiguous()  # (S, m)

    def products(self, entries: torch.Tensor) -> torch.Tensor:
        r""":math:`\prod_i f_{s_i}` for every network and entry: ``(m, E)`` (a transposed view)."""
        entries = entries.to(self.rows.device)
        out = torch.index_select(self.rows, 0, entries[:, 0])
        for i in range(1, entries.shape[1]):
            out *= torch.index_select(self.rows, 0, entries[:, i])
        return out.T

    def act_on_outputs(self, group: Group, g: torch.Tensor) -> "ProductSource":
        """The source of :math:`g\\cdot f` (e.g. :math:`\\rho f` for a rotation)."""
        return ProductSource(group.act_on_outputs(g.to(self.f.device), self.f))


class GaussianReadoutSource:
    r"""Conditional moments of a Gaussian read-out given the last hidden layer (see module docstring).

    ``mean``: ``(m, P, d)``; ``cov``: ``(m, P, d, P, d)``; ``zero_mean`` skips the matchings with
    unmatched positions (exact when the conditional mean vanishes identically).
    """

    kind = "readout"

    def __init__(self, mean: torch.Tensor, cov: torch.Tensor, zero_mean: bool = False):
        m, p, d = mean.shape
        if cov.shape != (m, p, d, p, d):
            raise SpecError(f"covariance must have shape {(m, p, d, p, d)}, got {tuple(cov.shape)}")
        self.mean = mean.to(torch.float64)
        self.cov = cov.to(torch.float64)
        self.size, self.points, self.outputs = m, p, d
        self.zero_mean = bool(zero_mean)
        s = p * d
        self._mean_rows = self.mean.reshape(m, s).T.contiguous()  # (S, m)
        self._cov_rows = self.cov.reshape(m, s * s).T.contiguous()  # (S*S, m)

    def products(self, entries: torch.Tensor) -> torch.Tensor:
        """Conditional expectations of the products, ``(m, E)`` (a transposed view)."""
        entries = entries.to(self._mean_rows.device)
        n = entries.shape[1]
        s = self.points * self.outputs
        out = torch.zeros(entries.shape[0], self.size, dtype=torch.float64, device=self._mean_rows.device)
        for pairs, singles in partial_matchings(n, self.zero_mean):
            term = None
            for i, j in pairs:
                factor = torch.index_select(self._cov_rows, 0, entries[:, i] * s + entries[:, j])
                term = factor if term is None else term.mul_(factor)
            for k in singles:
                factor = torch.index_select(self._mean_rows, 0, entries[:, k])
                term = factor if term is None else term.mul_(factor)
            out += term
        return out.T

    def act_on_outputs(self, group: Group, g: torch.Tensor) -> "GaussianReadoutSource":
        r"""The conditional law of :math:`g\cdot f`: :math:`\rho\mu`, :math:`(\rho\otimes\rho)C` for a
        linear group, :math:`\mu + c` for translations."""
        g = g.to(device=self.mean.device, dtype=torch.float64)
        if group.is_linear:
            mean = self.mean @ g.T
            cov = torch.einsum("ab,mpbqe,ce->mpaqc", g, self.cov, g)
            return GaussianReadoutSource(mean, cov, self.zero_mean)
        return GaussianReadoutSource(self.mean + g, self.cov, zero_mean=False)


# ----------------------------------------------------------------------------------------------------
# the Gaussian read-out law
# ----------------------------------------------------------------------------------------------------
@dataclass
class ReadoutLaw:
    r"""Numbers of a Gaussian last layer :math:`f = W h + b`: :math:`E W = M` (``(d, N)``),
    :math:`\mathrm{Cov}(W_{aj}, W_{bk}) = v U_{ab} V_{jk}`, :math:`b \sim N(m_b, v_b C_b)`
    (``U``/``V``/``C_b`` are ``None`` for identities; ``has_bias`` False for no bias)."""

    mean: torch.Tensor
    var: float
    row_cov: torch.Tensor | None
    col_cov: torch.Tensor | None
    has_bias: bool
    bias_mean: torch.Tensor
    bias_var: float
    bias_cov: torch.Tensor | None

    @property
    def zero_mean(self) -> bool:
        return bool((self.mean == 0).all()) and bool((self.bias_mean == 0).all())

    def to(self, device, dtype=torch.float64) -> "ReadoutLaw":
        def mv(t):
            return None if t is None else t.to(device=device, dtype=dtype)
        return ReadoutLaw(mv(self.mean), self.var, mv(self.row_cov), mv(self.col_cov), self.has_bias,
                          mv(self.bias_mean), self.bias_var, mv(self.bias_cov))

    def conditional(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean ``(m, P, d)`` and covariance ``(m, P, d, P, d)`` of the outputs given ``h`` ``(m, P, N)``."""
        h = h.to(torch.float64)
        mean = h @ self.mean.T
        if self.has_bias:
            mean = mean + self.bias_mean
        hv = h if self.col_cov is None else h @ self.col_cov
        gram = hv @ h.transpose(-1, -2)  # (m, P, P): h(x_p)^T V h(x_q)
        d = self.mean.shape[0]
        u = self.row_cov if self.row_cov is not None else torch.eye(d, dtype=h.dtype, device=h.device)
        cov = self.var * gram[:, :, None, :, None] * u[None, None, :, None, :]
        if self.has_bias:
            cb = self.bias_cov if self.bias_cov is not None else torch.eye(d, dtype=h.dtype, device=h.device)
            cov = cov + self.bias_var * cb[None, None, :, None, :]
        return mean, cov


def _matrix(mat) -> torch.Tensor:
    return torch.tensor([[numeric_value(v, "cov") for v in mat.row(i)] for i in range(mat.rows)],
                        dtype=torch.float64)


def readout_law(network: Network) -> ReadoutLaw:
    """The Gaussian last layer of a concrete network, or a SpecError saying why it cannot be integrated
    out (non-linear last layer, non-Gaussian weights or bias)."""
    last = network.layers[-1]
    where = f"layers[{network.depth - 1}]"
    if last.activation.name != "identity":
        raise SpecError(f"the last layer applies {last.activation.name!r}; integrating it out needs a "
                        "linear read-out", where)
    wblock = network.weight(-1)
    law = wblock.law
    if not isinstance(law, Normal):
        raise SpecError(f"the read-out weights are {type(law).__name__}, not Gaussian; use "
                        "estimator='direct'", f"{where}.weight")
    shape = tuple(int(s) for s in wblock.shape)
    mean = law._mean_tensor(shape, torch.float64, "cpu")
    var = numeric_value(law.var, "var")
    row_cov = None if law.row_cov is None else _matrix(law.row_cov)
    col_cov = None if law.col_cov is None else _matrix(law.col_cov)
    bblock = network.bias(-1)
    d = shape[0]
    if bblock is None:
        return ReadoutLaw(mean, var, row_cov, col_cov, False, torch.zeros(d, dtype=torch.float64), 0.0, None)
    blaw = bblock.law
    if not isinstance(blaw, Normal):
        raise SpecError(f"the read-out bias is {type(blaw).__name__}, not Gaussian; use estimator='direct'",
                        f"{where}.bias")
    bmean = blaw._mean_tensor((d,), torch.float64, "cpu").reshape(d)
    bcov = None if blaw.cov is None else _matrix(blaw.cov)
    return ReadoutLaw(mean, var, row_cov, col_cov, True, bmean, numeric_value(blaw.var, "var"), bcov)


# ----------------------------------------------------------------------------------------------------
# the ensemble
# ----------------------------------------------------------------------------------------------------
@dataclass
class EnsembleChunk:
    """``size`` networks ``start .. start+size-1`` of the ensemble; ``params`` maps block names to
    ``(size, *shape)`` tensors (for the read-out estimator, the hidden blocks only)."""

    index: int
    start: int
    size: int
    params: dict


def _check_positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(f"{what} must be a positive integer, got {value!r}", what)
    return value


class Ensemble:
    """``networks`` random networks of one concrete spec, streamed in chunks (see module docstring).

    ``estimator``: ``"direct"`` (sample every layer, products of outputs), ``"readout"`` (integrate a
    Gaussian last layer out exactly) or ``"auto"`` (read-out when the last layer allows it).
    ``device``: ``"auto"`` (default: CUDA when present, else the CPU), ``None``/``"cpu"`` or
    ``"cuda"``.  ``dtype`` is the
    dtype of sampling and forward passes (moments are always accumulated in float64).
    """

    def __init__(self, network: Network, networks: int, *, seed: int = 0, chunk: int | None = None,
                 block: int | None = None, device="auto", dtype=torch.float64, estimator: str = "auto"):
        if not isinstance(network, Network):
            raise SpecError(f"expected a Network, got {type(network).__name__}")
        network._require_concrete("Monte Carlo")
        self.network = network
        self.networks = _check_positive_int(networks, "networks")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise SpecError(f"seed must be a non-negative integer, got {seed!r}", "seed")
        self.seed = seed
        self.device = resolve_device(device)
        if dtype not in (torch.float64, torch.float32):
            raise SpecError(f"dtype must be torch.float64 or torch.float32, got {dtype}", "dtype")
        self.dtype = dtype
        if estimator not in ESTIMATORS:
            raise SpecError(f"unknown estimator {estimator!r}; use one of {', '.join(ESTIMATORS)}", "estimator")
        itemsize = torch.finfo(dtype).bits // 8
        whole = sum(math.prod(int(s) for s in b.shape) for b in network.blocks.values())
        require_memory(whole * itemsize, f"one network of this spec ({whole:,} parameters)", "use smaller widths",
                       "networks")
        self.readout: ReadoutLaw | None = None
        if estimator in ("readout", "auto"):
            try:
                self.readout = readout_law(network).to(self.device)
            except SpecError:
                if estimator == "readout":
                    raise
        self.estimator = "readout" if self.readout is not None else "direct"
        if self.estimator == "readout":
            self.sampled = Network(network.input_dim, network.layers[:-1]) if network.depth > 1 else None
        else:
            self.sampled = network
        per_network = 0 if self.sampled is None else sum(
            math.prod(int(s) for s in b.shape) for b in self.sampled.blocks.values())
        if block is None:
            block = 1024
            while block > 1 and block * per_network > BLOCK_ELEMENTS:
                block //= 2
        self.block = _check_positive_int(block, "block")
        if chunk is None:
            widest = max(int(w) for w in [network.input_dim, *network.widths])
            per = max(1, per_network + 16 * widest)
            chunk = max(self.block, min(16384, CHUNK_ELEMENTS // per))
        chunk = _check_positive_int(chunk, "chunk")
        self.chunk = max(self.block, (chunk // self.block) * self.block)
        require_memory(ensemble_bytes(per_network, min(self.chunk, self.networks), itemsize),
                       f"a chunk of {min(self.chunk, self.networks):,} networks", "pass a smaller chunk (or none: "
                       "the default fits the memory)", "chunk")

    def __len__(self):
        return self.networks

    def __repr__(self):
        return (f"Ensemble({self.networks} networks, seed={self.seed}, chunk={self.chunk}, block={self.block}, "
                f"estimator={self.estimator!r}, device={str(self.device)!r})")

    @property
    def num_chunks(self) -> int:
        return -(-self.networks // self.chunk)

    def _sample_block(self, j: int) -> dict:
        n = min(self.block, self.networks - j * self.block)
        if self.sampled is None:
            return {"_count": torch.empty(n, 0)}
        gen = make_generator(child_seed(self.seed, 0, j), self.device)
        return self.sampled.sample(n, generator=gen, dtype=self.dtype, device=self.device)

    def chunks(self) -> Iterator[EnsembleChunk]:
        """The chunks in order; each holds whole RNG blocks (the last may be partial)."""
        per_chunk = self.chunk // self.block
        total_blocks = -(-self.networks // self.block)
        for c in range(self.num_chunks):
            blocks = [self._sample_block(j) for j in range(c * per_chunk, min(total_blocks, (c + 1) * per_chunk))]
            params = {k: torch.cat([b[k] for b in blocks]) if len(blocks) > 1 else blocks[0][k] for k in blocks[0]}
            size = next(iter(params.values())).shape[0]
            yield EnsembleChunk(c, c * self.chunk, size, params)

    def points(self, x) -> torch.Tensor:
        """Validated input points ``(P, d_in)`` on the ensemble's device and dtype."""
        return self.network._as_inputs(x, self.dtype, self.device)

    def outputs(self, chunk: EnsembleChunk, x) -> torch.Tensor:
        """Sampled outputs ``(size, P, d_out)`` (direct estimator only)."""
        if self.estimator != "direct":
            raise SpecError("outputs are not sampled by the read-out estimator; use estimator='direct'")
        return self.network.forward(chunk.params, self.points(x))

    def hidden(self, chunk: EnsembleChunk, x) -> torch.Tensor:
        """Last hidden layer ``(size, P, N)`` (read-out estimator)."""
        x = self.points(x)
        if self.sampled is None:
            return x.expand(chunk.size, *x.shape)
        return self.sampled.forward(chunk.params, x)

    def source(self, chunk: EnsembleChunk, x):
        """The moment source of this chunk at points ``x``."""
        if self.estimator == "direct":
            return ProductSource(self.outputs(chunk, x))
        mean, cov = self.readout.conditional(self.hidden(chunk, x))
        if not (torch.isfinite(mean).all() and torch.isfinite(cov).all()):
            raise SpecError("hidden-layer values overflow; reduce the parameter scales or the inputs")
        return GaussianReadoutSource(mean, cov, zero_mean=self.readout.zero_mean)
