r"""The Gaussian tables one layer of the finite-width recursion needs, over the covariance entries of a
set of points, in both frames (:mod:`symcorr.deep.finite_width` runs the recursion).

For ``P`` points the unordered entries :math:`e = (i, j)`, :math:`i \le j` (:class:`PairEntries`), and at
a metric :math:`K` and an activation :math:`\phi`:

* :math:`g_e = \langle\sigma_i\sigma_j\rangle_K` -- the pair function :math:`F(K_{ii}, K_{ij}, K_{jj})`, or
  the one-point function :math:`g(K_{ii})` on the diagonal (:class:`~symcorr.gaussian.PairExpectation`);
* its Jacobian :math:`\partial g_e/\partial G_v` and Hessian over the entry's variables
  :math:`v \in (ii, ij, jj)` (Price's theorem; on the diagonal only :math:`g'` and :math:`g''`);
* the four-point moments :math:`\langle\sigma_a\sigma_b\sigma_c\sigma_d\rangle_K` over the 4-multisets of
  the points (coincident points merged into powers, so the covariance keeps its rank):
  closed forms where :mod:`symcorr.gaussian.forms` has them (exponential polynomials at any points, ReLU at
  one or two distinct points), Gauss-Hermite quadrature with an error estimate otherwise.

Numeric tables are batched over ``B`` point sets (``K`` of shape ``(B, P, P)``): one call per
multiplicity pattern and derivative order, no loop over the batch.
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Sequence

import sympy as sp
import torch

from ..errors import SpecError
from ..gaussian import K11, K12, K22, Factor, GaussianMoment, pair_expectation
from ..symbolic.integral import GaussianExpectation

__all__ = ["PairEntries", "compress", "gaussian_moment", "moments_torch", "numeric_tables", "symbolic_tables",
           "sandwich", "jacobian_times", "hessian_contract"]

_U = sp.Dummy("u", real=True)
#: first- and second-order covariance derivatives (d11, d12, d22) of the pair function
ORDERS_1 = ((1, 0, 0), (0, 1, 0), (0, 0, 1))
ORDERS_2 = ((2, 0, 0), (1, 1, 0), (1, 0, 1), (0, 2, 0), (0, 1, 1), (0, 0, 2))
#: (u, v) of each second-order derivative in the Hessian over the variables (ii, ij, jj)
H_SLOTS = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))


class PairEntries:
    r"""The unordered covariance entries :math:`e = (i, j)`, :math:`i \le j`, of ``P`` points;
    :attr:`variables` ``[e] = (ii, ij, jj)`` are the entries :math:`g_e` depends on (all three ``ii`` for a
    diagonal entry, whose one-point function has one variable)."""

    def __init__(self, points: int):
        self.points = int(points)
        self.pairs = tuple((i, j) for i in range(self.points) for j in range(i, self.points))
        self._index = {}
        for e, (i, j) in enumerate(self.pairs):
            self._index[(i, j)] = self._index[(j, i)] = e
        self.variables = tuple((self._index[(i, i)], e, self._index[(j, j)]) for e, (i, j) in enumerate(self.pairs))
        self.diagonal = tuple(i == j for i, j in self.pairs)

    @property
    def size(self) -> int:
        return len(self.pairs)

    def index(self, i: int, j: int) -> int:
        return self._index[(i, j)]

    def multisets(self, order: int) -> list[tuple]:
        """All sorted multisets of ``order`` points."""
        return list(itertools.combinations_with_replacement(range(self.points), order))

    def four_point_index(self) -> tuple[list[tuple], list[list[int]]]:
        """The 4-multisets and, for every pair of entries ``(e, f)``, the position of ``e + f`` among them."""
        ms = self.multisets(4)
        pos = {m: q for q, m in enumerate(ms)}
        table = [[pos[tuple(sorted(self.pairs[e] + self.pairs[f]))] for f in range(self.size)] for e in range(self.size)]
        return ms, table


def compress(multiset: Sequence[int]) -> tuple[tuple, tuple]:
    """Distinct points (in order) and their multiplicities."""
    pts = sorted(set(multiset))
    return tuple(pts), tuple(multiset.count(p) for p in pts)


@lru_cache(maxsize=256)
def gaussian_moment(activation, powers: tuple) -> GaussianMoment:
    """The (cached) :class:`~symcorr.gaussian.GaussianMoment` of ``activation`` to the given powers."""
    return GaussianMoment([Factor.of(activation, 0, p) for p in powers])


def _at(expr, values: dict):
    """``expr`` at ``values`` (``xreplace``: one rebuild, no ``subs`` machinery), or None."""
    return None if expr is None else expr.xreplace(values)


def symbolic_tables(act, k: sp.Matrix, entries: PairEntries, where: str = "activation"):
    r"""At the metric ``k`` (a P x P SymPy matrix): ``g`` (per entry), its Jacobian and Hessian over each
    entry's variables (lists) and the four-point moments (per 4-multiset, :meth:`PairEntries.multisets`),
    in SymPy: closed forms, an unevaluated :class:`~symcorr.symbolic.integral.GaussianExpectation` for a
    four-point moment without one, and a SpecError for a pair function without closed-form covariance
    derivatives (its mixed Price derivatives, e.g. :math:`\frac12E[\phi''(u)\phi(v)]`, are not single-
    activation Gaussian integrals)."""
    pair = pair_expectation(act)
    g: list = []
    jac: list = []
    hess: list = []
    zero = sp.Integer(0)
    for i, j in entries.pairs:
        values: list
        if i == j:
            d = [pair.diagonal_sympy(k[i, i], order) for order in range(3)]
            values = [d[0], d[1], zero, zero, d[2], zero, zero, zero, zero, zero]
        else:
            at = {K11: k[i, i], K12: k[i, j], K22: k[j, j]}
            values = [_at(pair.expr(*o), at) for o in ((0, 0, 0),) + ORDERS_1 + ORDERS_2]
        if any(v is None for v in values):
            raise SpecError(f"the covariance derivatives of E[{act.name}(u) {act.name}(v)] have no closed form; "
                            "the finite-width coefficient of this network is available numerically "
                            "(FiniteWidth(net).values(points))", where)
        g.append(values[0])
        jac.append(values[1:4])
        h: list = [[zero] * 3 for _ in range(3)]
        for (u, v), value in zip(H_SLOTS, values[4:]):
            h[u][v] = h[v][u] = value
        hess.append(h)
    phi = sp.Lambda(_U, act.sympy(_U))
    moments = []
    for points, powers in map(compress, entries.multisets(4)):
        cov = sp.Matrix(len(points), len(points), lambda a, b: k[points[a], points[b]])
        value = gaussian_moment(act, powers).sympy(cov)
        moments.append(value if value is not None else GaussianExpectation(phi, [0] * len(points), cov, powers))
    return g, jac, hess, moments


def sandwich(jac, cov, entries: PairEntries, e: int, f: int) -> sp.Expr:
    r""":math:`(J\,\mathrm{Cov}\,J^T)_{ef} = \sum_{u,v}J_{e,u}J_{f,v}\,\mathrm{Cov}[\mathrm{var}(e,u), \mathrm{var}(f,v)]`
    in SymPy (``jac`` per entry over its variables, ``cov`` a matrix over the entries)."""
    out = []
    for u, ju in enumerate(jac[e]):
        if ju == 0:
            continue
        for v, jv in enumerate(jac[f]):
            if jv != 0:
                out.append(ju * jv * cov[entries.variables[e][u], entries.variables[f][v]])
    return sp.Add(*out)


def jacobian_times(jac, vec, entries: PairEntries, e: int) -> sp.Expr:
    r""":math:`\sum_u J_{e,u}\,v[\mathrm{var}(e,u)]` (``vec`` a column over the entries)."""
    return sp.Add(*[ju * vec[entries.variables[e][u], 0] for u, ju in enumerate(jac[e]) if ju != 0])


def hessian_contract(hess, cov, entries: PairEntries, e: int) -> sp.Expr:
    r""":math:`\sum_{u,v}H_{e,uv}\,\mathrm{Cov}[\mathrm{var}(e,u), \mathrm{var}(e,v)]` (ordered pairs)."""
    var = entries.variables[e]
    return sp.Add(*[hess[e][u][v] * cov[var[u], var[v]] for u in range(3) for v in range(3) if hess[e][u][v] != 0])


def moments_torch(act, cov: torch.Tensor, mean: torch.Tensor | None, multisets: Sequence[tuple]):
    r""":math:`E[\prod_u\phi(z_u)^{p_u}]` for every multiset and every point set of the batch: ``cov``
    ``(B, P, P)``, ``mean`` ``(B, P)`` or None; grouped by multiplicity pattern, one batched call each.
    Returns ``(values, errors)`` of shape ``(B, len(multisets))``."""
    B = cov.shape[0]
    values = torch.zeros(B, len(multisets), dtype=torch.float64)
    errors = torch.zeros_like(values)
    groups: dict = {}
    for q, mset in enumerate(multisets):
        d, p = compress(tuple(mset))
        groups.setdefault(p, []).append((q, d))
    for powers, items in groups.items():
        qs = torch.tensor([q for q, _ in items], dtype=torch.long)
        idx = torch.tensor([d for _, d in items], dtype=torch.long)  # (G, r)
        G, r = idx.shape
        c = cov[:, idx[:, :, None], idx[:, None, :]].reshape(B * G, r, r)
        m = None if mean is None else mean[:, idx].reshape(B * G, r)
        value, error = gaussian_moment(act, powers).torch(c, m)
        values[:, qs] = value.reshape(B, G)
        errors[:, qs] = error.reshape(B, G)
    return values, errors


def numeric_tables(act, K: torch.Tensor, K_err: torch.Tensor, entries: PairEntries):
    r"""At the metrics ``K`` ``(B, P, P)``: ``g`` ``(B, M)``, its Jacobian ``(B, M, 3)`` and Hessian
    ``(B, M, 3, 3)`` over each entry's variables, and the four-point moments ``(B, M, M)``, each with its
    error (the table's, plus the metric's error through the next derivative for g and the Jacobian)."""
    pair = pair_expectation(act)
    B, M = K.shape[0], entries.size
    ii = torch.tensor([i for i, _ in entries.pairs], dtype=torch.long)
    jj = torch.tensor([j for _, j in entries.pairs], dtype=torch.long)
    diag = torch.tensor(entries.diagonal)
    g, ge = torch.zeros(B, M, dtype=torch.float64), torch.zeros(B, M, dtype=torch.float64)
    jac, je = torch.zeros(B, M, 3, dtype=torch.float64), torch.zeros(B, M, 3, dtype=torch.float64)
    hess, he = torch.zeros(B, M, 3, 3, dtype=torch.float64), torch.zeros(B, M, 3, 3, dtype=torch.float64)
    off = ~diag
    if bool(off.any()):
        a, b = ii[off], jj[off]
        k11, k12, k22 = K[:, a, a], K[:, a, b], K[:, b, b]
        g[:, off], ge[:, off] = pair.torch(k11, k12, k22)
        for u, o in enumerate(ORDERS_1):
            jac[:, off, u], je[:, off, u] = pair.torch(k11, k12, k22, o)
        for (u, v), o in zip(H_SLOTS, ORDERS_2):
            value, error = pair.torch(k11, k12, k22, o)
            hess[:, off, u, v], he[:, off, u, v] = value, error
            hess[:, off, v, u], he[:, off, v, u] = value, error
    if bool(diag.any()):
        kd = K[:, ii[diag], ii[diag]]
        g[:, diag], ge[:, diag] = pair.diagonal_torch(kd, 0)
        jac[:, diag, 0], je[:, diag, 0] = pair.diagonal_torch(kd, 1)
        hess[:, diag, 0, 0], he[:, diag, 0, 0] = pair.diagonal_torch(kd, 2)
    var = torch.tensor(entries.variables, dtype=torch.long)
    kerr = K_err[:, torch.tensor([i for i, _ in entries.pairs]), torch.tensor([j for _, j in entries.pairs])]
    kv = kerr[:, var]  # (B, M, 3): the metric's error on each variable (a diagonal entry uses slot 0 only)
    ge = ge + (jac.abs() * kv).sum(-1)
    je = je + (hess.abs() * kv[:, :, None, :]).sum(-1)
    ms, table = entries.four_point_index()
    m4, m4e = moments_torch(act, K, None, ms)
    idx = torch.tensor(table, dtype=torch.long)
    return g, ge, jac, je, hess, he, m4[:, idx], m4e[:, idx]
