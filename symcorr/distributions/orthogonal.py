r"""The Haar law of a (semi-)orthogonal matrix: ``torch.nn.init.orthogonal_(tensor, gain)``.

A block :math:`W \in R^{n\times m}` with this law is :math:`W = g\,Q` where :math:`Q` is uniformly
(Haar) distributed on the Stiefel manifold: orthonormal columns :math:`Q^TQ = 1_m` when :math:`n\ge m`,
orthonormal rows :math:`QQ^T = 1_n` when :math:`n < m`.  Torch draws it as the QR factorisation of a
standard Gaussian :math:`n\times m` matrix (transposed first when :math:`n < m`) with the columns of
:math:`Q` multiplied by the signs of :math:`\mathrm{diag}(R)` (Mezzadri 2007), which is exactly the Haar
measure; :meth:`HaarOrthogonal.sample_block` runs the same algorithm batched over the ensemble.

**Not iid.**  The entries are dependent (the rows or columns are orthonormal) and their marginal law
depends on the block's shape, so the scalar methods of :class:`~symcorr.distributions.Law`
(``moment``, ``variance``, ``density``, ``mgf``, ``sample``, ...) refuse with a SpecError; the block
methods below take the shape.

**Invariance.**  For :math:`U\in O(n)`, :math:`V\in O(m)` the map :math:`Q\mapsto UQV` preserves the
Stiefel manifold and its Haar measure (the measure is the image of the Haar measure of
:math:`O(\max(n, m))`, which is left and right invariant), so :math:`UWV \overset{d}{=} W`: the law is
invariant under left and right orthogonal multiplication (:mod:`symcorr.duality.invariance`).

**Moments** (exact).  Let :math:`N = \max(n, m)`.  :math:`W` is :math:`g` times a block of a Haar
:math:`O(N)` matrix :math:`O` (:math:`W = gO_{[:, :m]}` or :math:`g O_{[:, :n]}^T`), so

* :math:`E[W] = 0`, and every odd moment vanishes (:math:`W \mapsto -W` is in the invariance group);
* one entry is :math:`g` times a coordinate of a uniform unit vector of :math:`R^N`
  (:math:`u_1^2 \sim \mathrm{Beta}(\tfrac12, \tfrac{N-1}2)`):
  :math:`E[W_{ij}^{2k}] = g^{2k}\,\frac{(2k-1)!!}{N(N+2)\cdots(N+2k-2)}`, e.g. :math:`E W_{ij}^2 = g^2/N`,
  :math:`E W_{ij}^4 = 3g^4/(N(N+2))`;
* second moments :math:`E[W_{ij}W_{kl}] = \frac{g^2}{N}\,\delta_{ik}\delta_{jl}`;
* fourth moments by the orthogonal Weingarten calculus (Collins-Sniady 2006):
  :math:`E[\prod_{t=1}^4 W_{i_tj_t}] = g^4\sum_{p,q}\Delta_p(i)\Delta_q(j)\,\mathrm{Wg}(p, q)` over the
  three pairings :math:`p, q` of four positions (:math:`\Delta_p(i) = \prod_{\{s,t\}\in p}\delta_{i_si_t}`),
  :math:`\mathrm{Wg}(p,p) = \frac{N+1}{N(N-1)(N+2)}`, :math:`\mathrm{Wg}(p,q\neq p) = \frac{-1}{N(N-1)(N+2)}`
  (:math:`N\ge2`; for :math:`N = 1`, :math:`W = \pm g`).  E.g. :math:`E[W_{11}^2W_{12}^2] = g^4/(N(N+2))`
  and :math:`E[W_{11}W_{22}W_{12}W_{21}] = -g^4/(N(N-1)(N+2))`.

Block moments of orders 1 to 4 are given (:meth:`HaarOrthogonal.block_moment`); higher orders need the
Weingarten function of larger pairings and raise a SpecError.
"""

from __future__ import annotations

from typing import Sequence

import sympy as sp
import torch

from ..errors import SpecError
from .base import Law, _check_order, _check_sign, _generator_device, as_expr

__all__ = ["HaarOrthogonal"]

_NOT_IID = ("the entries of a Haar orthogonal block are not iid and their law depends on the block's shape; "
            "use the block methods (entry_moment(k, shape), block_moment(entries, shape), sample_block)")

#: the three pairings of four positions
_PAIRINGS = (((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2)))


def _size(value):
    return value if isinstance(value, sp.Basic) else sp.Integer(int(value))


class HaarOrthogonal(Law):
    r""":math:`W = g\,Q` with :math:`Q` Haar on the (semi-)orthogonal :math:`n\times m` matrices
    (``torch.nn.init.orthogonal_(W, gain=g)``); see the module docstring."""

    kind = "orthogonal"

    def __init__(self, gain=1):
        self.gain = as_expr(gain, "gain")
        _check_sign(self.gain, "gain", strict=True, name="gain")

    def _params(self):
        return {"gain": self.gain}

    def latex(self):
        g = "" if self.gain == 1 else sp.latex(self.gain) + r"\,"
        return g + r"\mathrm{Haar}(\mathrm{St})"

    # --- entry-level methods: refused (not iid, shape dependent) ---------------------------------
    @property
    def is_iid(self) -> bool:
        return False

    @property
    def is_symmetric(self):
        return True

    @property
    def mean(self):
        """:math:`E[W_{ij}] = 0` for every shape."""
        return sp.Integer(0)

    @property
    def variance(self):
        raise SpecError(_NOT_IID + "; entry_variance(shape) = gain**2 / max(n, m)")

    def density(self, x):
        raise SpecError("a Haar orthogonal block lives on the Stiefel manifold: it has no Lebesgue density; "
                        + _NOT_IID)

    def log_density(self, x):
        return self.density(x)

    def moment(self, k):
        raise SpecError(_NOT_IID)

    def cumulant(self, k):
        raise SpecError(_NOT_IID)

    def central_moment(self, k):
        raise SpecError(_NOT_IID)

    def mgf(self, t):
        raise SpecError(_NOT_IID)

    def cgf(self, t):
        raise SpecError(_NOT_IID)

    def characteristic_function(self, t):
        raise SpecError(_NOT_IID)

    def sample(self, shape, generator=None, dtype=torch.float64, device=None):
        raise SpecError("a Haar orthogonal law is drawn for a whole block: use sample_block(n, shape, ...)")

    def torch_cgf(self, t):
        raise SpecError(_NOT_IID)

    # --- block methods ---------------------------------------------------------------------------
    def check_block(self, shape, where=None):
        shape = tuple(shape)
        if len(shape) != 2:
            raise SpecError(f"an orthogonal law needs a matrix block (torch's orthogonal_ refuses tensors with "
                            f"fewer than 2 dimensions), got the shape {shape}", where)

    def block_mean(self, shape):
        return sp.Integer(0)

    @staticmethod
    def dimension(shape) -> sp.Expr:
        r""":math:`N = \max(n, m)`: the Haar group :math:`O(N)` the block is cut from."""
        n, m = (_size(s) for s in shape)
        return sp.Max(n, m)

    def entry_moment(self, k: int, shape) -> sp.Expr:
        r""":math:`E[W_{ij}^k] = g^k (k-1)!!/(N(N+2)\cdots(N+k-2))` for even ``k``, 0 for odd ``k``."""
        k = _check_order(k)
        self.check_block(shape)
        if k % 2:
            return sp.Integer(0)
        n = self.dimension(shape)
        value = sp.Integer(1)
        for i in range(k // 2):
            value = value * (2 * i + 1) / (n + 2 * i)
        return self.gain ** k * value

    def entry_variance(self, shape) -> sp.Expr:
        """:math:`\\mathrm{Var}(W_{ij}) = g^2/\\max(n, m)`."""
        return self.entry_moment(2, shape)

    def block_moment(self, entries: Sequence[tuple], shape) -> sp.Expr:
        r""":math:`E[\prod_t W_{i_tj_t}]` for ``entries = [(i_1, j_1), ...]`` (orders 1 to 4, exact; see the
        module docstring).  Indices may be integers or SymPy symbols (giving KroneckerDeltas)."""
        self.check_block(shape)
        entries = [tuple(e) for e in entries]
        k = len(entries)
        if k == 0:
            return sp.Integer(1)
        if k % 2:
            return sp.Integer(0)
        if k > 4:
            raise SpecError(f"block moments of a Haar orthogonal law are given up to order 4, got order {k}")
        n = self.dimension(shape)
        i = [e[0] for e in entries]
        j = [e[1] for e in entries]
        if k == 2:
            return self.gain ** 2 * sp.KroneckerDelta(i[0], i[1]) * sp.KroneckerDelta(j[0], j[1]) / n

        def delta(idx, pairing):
            return sp.Mul(*[sp.KroneckerDelta(idx[s], idx[t]) for s, t in pairing])

        if n == 1:  # W = +-g: every even moment is g^k
            return self.gain ** 4
        denom = n * (n - 1) * (n + 2)
        total = sp.Integer(0)
        for p in _PAIRINGS:
            for q in _PAIRINGS:
                wg = (n + 1) / denom if p == q else -1 / denom
                total += delta(i, p) * delta(j, q) * wg
        return sp.simplify(self.gain ** 4 * total)

    def sample_block(self, n, shape, generator=None, dtype=torch.float64, device=None):
        """``n`` draws of ``gain * Q``, batched: torch's ``orthogonal_`` algorithm (QR of a Gaussian
        matrix, transposed when ``rows < cols``, columns of Q times the signs of diag(R))."""
        self.check_block(shape)
        rows, cols = (int(s) for s in shape)
        gain = self.numeric_params()["gain"]
        dev = _generator_device(generator, device)
        z = torch.randn((n, rows, cols), generator=generator, dtype=dtype, device=dev)
        wide = rows < cols
        if wide:
            z = z.transpose(-1, -2)
        q, r = torch.linalg.qr(z)
        signs = torch.sign(torch.diagonal(r, dim1=-2, dim2=-1))
        signs = torch.where(signs == 0, torch.ones_like(signs), signs)
        q = q * signs[..., None, :]
        if wide:
            q = q.transpose(-1, -2)
        return (gain * q).contiguous()

    def block_linear_cgf(self, shape, h, t):
        raise SpecError("the gauss activation's normaliser log E[exp(2 (W h)_i)] is not available for a Haar "
                        "orthogonal block (its rows are not independent)")

    def block_log_density(self, theta):
        raise SpecError("a Haar orthogonal block lives on the Stiefel manifold: it has no Lebesgue density "
                        "(its law is invariant under W -> U W V for orthogonal U, V)")

