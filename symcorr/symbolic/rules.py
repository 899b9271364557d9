r"""Evaluation rules for parameter-space expectations (no ``sympy.stats``, no brute-force integrals).

The rules, each an exact identity:

* **Independence factorisation.**  Independent parameter blocks give one expectation per block:
  :math:`E[F(\theta_1)G(\theta_2)] = E[F(\theta_1)]\,E[G(\theta_2)]`.
* **Moments from cumulants** (for a random vector :math:`v` with joint cumulants :math:`\kappa`):
  :math:`E[v_{a_1}\cdots v_{a_k}] = \sum_{\pi} \prod_{B\in\pi} \kappa(v_{a_i}: i\in B)` over the set
  partitions :math:`\pi` of the slots.  For an iid law the joint cumulant of a block is
  :math:`\kappa_{|B|}\prod_{i\in B}\delta_{a_{i_0}a_i}`; for a Gaussian only blocks of size 1 (mean)
  and 2 (covariance) survive, which is **Isserlis/Wick**: :math:`E[\prod v] = \sum_{\text{pairings}}
  \prod \mathrm{Cov}` (+ means).
* **Gaussian MGF:** :math:`E[e^{t\cdot z}] = e^{t\cdot\mu + \frac12 t^T\Sigma t}`; for iid non-Gaussian
  entries :math:`E[e^{w\cdot v}] = \prod_d M_w(v_d)`.
* **Characteristic functions / uniform phase:** :math:`E[e^{isb}] = \varphi_b(s)`; for the uniform
  phase :math:`b\sim U[-\pi,\pi)`, :math:`\varphi_b(s) = \delta_{s0}` at integer ``s``, so averaging a
  product of cosines keeps only the sign patterns with zero total phase.
* **Sum over iid neurons:** :math:`E[\prod_i \sum_j X_{j,i}] = \sum_{\pi} (N)_{|\pi|}
  \prod_{B\in\pi} E[\prod_{i\in B} X_{1,i}]` (the neurons in different blocks are distinct;
  :math:`(N)_k = N(N-1)\cdots(N-k+1)` counts the injective assignments).
* **Moment-cumulant (connected) inversion:** :math:`\kappa(F_1..F_n) = \sum_\pi (-1)^{|\pi|-1}
  (|\pi|-1)! \prod_{B\in\pi} E[\prod_{i\in B}F_i]`.
"""

from __future__ import annotations

from typing import Callable, Sequence

import sympy as sp

from ..combinatorics import perfect_matchings, set_partitions
from .entries import named_entries
from ..distributions import Laplace, Law, Normal, Rademacher, Uniform, UniformCircle

__all__ = ["moment_monomials", "wick_sum", "VectorLaw", "characteristic_polar"]


def moment_monomials(slots: Sequence, cumulant: Callable[[tuple], sp.Expr],
                     orders: Callable[[int], bool]) -> list[sp.Expr]:
    r"""The terms of :math:`E[\prod_{i\in\text{slots}} v_i] = \sum_\pi \prod_{B\in\pi}\kappa(B)` as a
    list of products (zero terms dropped).  ``cumulant(block)`` gives the joint cumulant of the slots
    in ``block``; ``orders(k)`` says whether order-``k`` cumulants can be non-zero."""
    out = []
    for part in set_partitions(slots, orders):
        term = sp.Integer(1)
        for block in part:
            kappa = cumulant(block)
            if kappa == 0:
                term = sp.Integer(0)
                break
            term = term * kappa
        if term != 0:
            out.append(term)
    return out


def wick_sum(kernel: Callable, points: Sequence, indices: Sequence | None = None) -> sp.Expr:
    r"""The Gaussian-process n-point function
    :math:`\sum_{\text{pairings}}\prod_{(i,j)} \delta_{a_ia_j} K(x_i, x_j)` (0 for odd n).

    ``kernel(x, x')`` returns :math:`K`; ``indices`` default to all 0 (no deltas).
    """
    n = len(points)
    idx = list(indices) if indices is not None else [0] * n
    total = []
    for matching in perfect_matchings(range(n)):
        term = sp.Integer(1)
        for i, j in matching:
            term = term * sp.KroneckerDelta(idx[i], idx[j]) * kernel(points[i], points[j])
        total.append(term)
    return sp.Add(*total)


# ----------------------------------------------------------------------------------------------------
# the law of a random vector (a column of the read-out weight, or the read-out bias)
# ----------------------------------------------------------------------------------------------------
def _delta_chain(indices: Sequence) -> sp.Expr:
    first = indices[0]
    out = sp.Integer(1)
    for a in indices[1:]:
        out = out * sp.KroneckerDelta(first, a)
    return out


class VectorLaw:
    r"""Joint cumulants of a random vector :math:`v \in R^{d}` whose law comes from a parameter block:
    a column :math:`W^L_{\cdot j}` of a read-out weight (columns iid) or the read-out bias.

    * iid entries with law ``L``: :math:`\kappa(v_{a_1},..,v_{a_k}) = \kappa_k(L)\prod_i \delta_{a_1a_i}`;
    * Gaussian with per-row mean :math:`\mu_a` and row covariance :math:`\sigma^2U_{ab}` (a structured
      ``Normal``): :math:`\kappa_1 = \mu_a`, :math:`\kappa_2 = \sigma^2 U_{ab}`, higher cumulants 0.

    ``VectorLaw.from_block(block)`` returns ``None`` when the columns of the block are not iid
    (a column covariance, a full-matrix mean): then the sum over neurons does not factorise.
    """

    def __init__(self, law: Law, role: str):
        self.law = law
        self.role = role
        self._cache: dict[int, sp.Expr] = {}
        self.structured = isinstance(law, Normal) and not law.is_iid
        if self.structured:
            self.mean_vec = law.loc if isinstance(law.loc, sp.MatrixBase) else None
            self.mean_scalar = None if self.mean_vec is not None else law.loc
            self.cov = law.row_cov if role == "weight" else law.cov
            # named entries (mu^W_a, U_ab, ...) so that a symbolic output index does not print the vector
            tag, sub = ("W", "U") if role == "weight" else ("b", "C")
            self._mean_entry: type | None = (None if self.mean_vec is None
                                             else named_entries(rf"\mu^{{{tag}}}", f"mu{tag}", self.mean_vec))
            self._cov_entry: type | None = None if self.cov is None else named_entries(sub, sub, self.cov)

    @classmethod
    def from_block(cls, block) -> "VectorLaw | None":
        law = block.law
        if not law.is_iid and not isinstance(law, Normal):  # e.g. a Haar orthogonal block: dependent columns
            return None
        if isinstance(law, Normal) and not law.is_iid:
            if block.role == "weight":
                if law.col_cov is not None:
                    return None
                if isinstance(law.loc, sp.MatrixBase) and law.loc.cols != 1:
                    return None
        return cls(law, block.role)

    def kappa(self, k: int) -> sp.Expr:
        """Cumulant of order ``k`` of an iid entry."""
        if k not in self._cache:
            if isinstance(self.law, Normal):
                self._cache[k] = self.law.loc if k == 1 else (self.law.var if k == 2 else sp.Integer(0))
            else:
                self._cache[k] = sp.expand(self.law.cumulant(k))
        return self._cache[k]

    def orders(self, k: int) -> bool:
        """Can a joint cumulant of order k be non-zero (structurally)?"""
        if self.structured:
            if k == 1:
                return self.mean_vec is not None or self.mean_scalar != 0
            return k == 2
        return self.kappa(k) != 0

    def mean(self, a) -> sp.Expr:
        if self.structured:
            return self._mean_entry(a) if self._mean_entry is not None else self.mean_scalar
        return self.kappa(1)

    def cumulant(self, indices: tuple) -> sp.Expr:
        """Joint cumulant of the entries ``v_a`` for ``a`` in ``indices``."""
        k = len(indices)
        if self.structured:
            if k == 1:
                return self.mean(indices[0])
            if k == 2:
                a, b = indices
                var = self.law.var
                if self._cov_entry is None:
                    return var * sp.KroneckerDelta(a, b)
                return var * self._cov_entry(a, b)
            return sp.Integer(0)
        kap = self.kappa(k)
        if kap == 0:
            return kap
        return kap * _delta_chain(indices)

    def moment_monomials(self, indices: Sequence) -> list[sp.Expr]:
        r""":math:`E[\prod_i v_{a_i}]` as a list of monomials (see :func:`moment_monomials`)."""
        idx = list(indices)
        return moment_monomials(range(len(idx)), lambda block: self.cumulant(tuple(idx[i] for i in block)),
                                self.orders)

    def moment_orders(self, k: int) -> bool:
        """Can the k-th joint moment be non-zero, i.e. can k be written as a sum of allowed orders?"""
        reach = [True] + [False] * k
        for total in range(1, k + 1):
            reach[total] = any(reach[total - j] and self.orders(j) for j in range(1, total + 1))
        return reach[k]

    @property
    def is_symmetric(self) -> bool:
        if self.structured:
            return self.mean_vec is None and self.mean_scalar == 0
        return bool(self.law.is_symmetric)


# ----------------------------------------------------------------------------------------------------
# characteristic functions in polar form
# ----------------------------------------------------------------------------------------------------
def characteristic_polar(law: Law | None, t) -> tuple[sp.Expr, sp.Expr] | None:
    r""":math:`E[e^{itX}] = \rho(t)\,e^{i\theta(t)}` with real :math:`\rho, \theta` for the laws whose
    characteristic function is known in closed form (``None`` otherwise).  ``law=None`` is the point
    mass at 0 (no bias): :math:`\rho = 1,\ \theta = 0`.

    * Normal :math:`(\mu,\sigma^2)`: :math:`\rho = e^{-\sigma^2t^2/2}`, :math:`\theta = \mu t`;
    * uniform phase :math:`U[-\pi,\pi)`: :math:`\rho = \sin(\pi t)/(\pi t)` (:math:`=\delta_{t0}` at
      integers), :math:`\theta = 0`; Uniform :math:`[a,b)`: :math:`\rho = \sin(wt)/(wt)` with
      :math:`w = (b-a)/2`, :math:`\theta = t(a+b)/2`;
    * Laplace :math:`(\mu, s)`: :math:`\rho = 1/(1+s^2t^2)`, :math:`\theta = \mu t`;
    * Rademacher :math:`(\pm s)`: :math:`\rho = \cos(st)`, :math:`\theta = 0`.
    """
    t = sp.sympify(t)
    if law is None:
        return sp.Integer(1), sp.Integer(0)
    if isinstance(law, Normal):
        if not law.is_iid:
            return None
        return sp.exp(-law.var * t ** 2 / 2), law.loc * t
    if isinstance(law, UniformCircle) or isinstance(law, Uniform):
        if t == 0:
            return sp.Integer(1), sp.Integer(0)
        w = (law.high - law.low) / 2
        c = (law.high + law.low) / 2
        return sp.sin(w * t) / (w * t), sp.simplify(c) * t
    if isinstance(law, Laplace):
        return 1 / (1 + law.scale ** 2 * t ** 2), law.loc * t
    if isinstance(law, Rademacher):
        return sp.cos(law.scale * t), sp.Integer(0)
    return None
