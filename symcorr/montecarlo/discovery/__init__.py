r"""Symmetry discovery from samples: the Lie algebra of the continuous symmetries of the density,
estimated from Monte Carlo correlators, then each discovered generator and a few discrete candidates
tested with the calibrated invariance test.

For models the prover cannot read (any ensemble the numeric frame can sample, see
:class:`EnsembleLike`), the question "which rotations :math:`g = e^{tA}` of the inputs or outputs leave
the density invariant" is answered in three steps.

1. **Linearised invariance conditions.**  For :math:`A` in :math:`\mathfrak{so}(n)` (orthonormal basis
   :math:`L_1, \dots, L_B`, :math:`B = n(n-1)/2`, Frobenius norm 1) and every estimated entry :math:`e` of
   :math:`G^{(k)}`, invariance under :math:`e^{tA}` implies :math:`\frac{d}{dt}G^{(k)}_e[e^{tA}]|_{t=0} = 0`,
   which is linear in :math:`A = \sum_b a_b L_b`:

   .. math:: \sum_b a_b\, C_{eb} = 0,\qquad C_{eb} = E\Big[\sum_{i=1}^k (L_b f)_{s_i}\prod_{j\ne i} f_{s_j}\Big]
             \ \text{(outputs)},\quad
             C_{eb} = E\Big[\sum_i \nabla f_{s_i}(x_{p_i})\cdot L_b x_{p_i} \prod_{j\ne i} f_{s_j}\Big]\ \text{(inputs)}.

   Each network gives an unbiased :math:`C^{(m)}` (exact derivatives: the product rule on the sampled
   outputs or on the Gaussian read-out's conditional moments, forward-mode automatic differentiation
   otherwise), so :math:`\hat C = \frac1M\sum_m C^{(m)}` has standard errors.  The symmetries' Lie
   algebra is (contained in) the null space of :math:`C`.
2. **Calibrated rank decision.**  With entry weights :math:`w_e` (the inverse mean square of the
   per-network row, so every order counts alike) let :math:`\hat Q = \hat C^TW\hat C` and
   :math:`\hat N = \frac{1}{M(M-1)}\sum_m (C^{(m)}-\hat C)^TW(C^{(m)}-\hat C) + \epsilon^2 1`, the noise
   of :math:`\hat Q` (:math:`E[a^T\hat Qa] = a^T\hat Na` for a symmetry :math:`a`; :math:`\epsilon` the
   rounding floor of :func:`~symcorr.montecarlo.statistics.rounding_floor`, relative to the per-network
   rows).  The generalised eigenvalues :math:`\lambda_1\le\dots\le\lambda_B` of :math:`(\hat Q, \hat N)`
   are :math:`O(1)` along symmetries and grow like :math:`M` along broken directions.  **Rule:** the
   discovered algebra is spanned by the eigenvectors with :math:`\lambda_j \le \tau`, where :math:`\tau` is
   the :math:`1-\text{level}` quantile of the largest eigenvalue of the pure-noise pencil
   :math:`(\delta^{*T}W\delta^*, \hat N)`, :math:`\delta^* = \frac1M\sum_m\xi_m(C^{(m)}-\hat C)`,
   :math:`\xi_m` iid :math:`N(0,1)` (a multiplier bootstrap of the noise of :math:`\hat C`, ``bootstrap``
   replicates).  **False-alarm rate.**  If the true algebra :math:`V` has dimension :math:`k`, Courant-
   Fischer gives :math:`\lambda_k \le \max_{a\in V} a^T\hat Qa/a^T\hat Na \le \lambda_{\max}` of the noise
   pencil, so the rule reports fewer than :math:`k` dimensions with probability at most ``level``
   (asymptotically in :math:`M`; conservative).  A broken direction is reported only when its signal is
   below the noise of :math:`M` networks -- which step 3 tests.
3. **Confirmation** on *independent* networks (a second ensemble, or the other half of the chunks):
   every discovered generator at a few times, :math:`e^{tA_i}`, a few random elements of the discovered
   connected group, and discrete candidates (:math:`-1`, coordinate sign flips, transpositions,
   reflections along the fixed space and inside the moved space) are tested together with the paired
   invariance test of :mod:`symcorr.montecarlo.invariance` (paired z-scores, Holm over the whole family at
   ``alpha``).  A candidate is *confirmed* when none of its tests is rejected.  The discovered generators
   carry an estimation error of order :math:`M^{-1/2}`, which the confirmation sees as a small bias.

The result (:class:`DiscoveredSymmetries`) names the algebra when it is recognisable (e.g.
:math:`\mathfrak{so}(9)` on the complement of a fixed line), with the eigenvalues, the threshold and the
confirmation table.  Input discovery differentiates the forward pass once per generator: its cost grows
like :math:`d_{in}^2`.

Layout: :mod:`.tangents` (the per-network rows :math:`C^{(m)}` and the :class:`EnsembleLike` protocol),
:mod:`.rank` (the streaming sums and the rank rule, :func:`linearised_conditions`), and this module (the
candidates, the confirmation, :class:`DiscoveredSymmetries` and :func:`discover_symmetries`).
"""


from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import torch

from ...errors import SpecError
from ...groups import Orthogonal
from ...rng import child_seed, make_generator
from ...spec import Network
from ...verdicts import Expectation, Side
from ..ensemble import Ensemble
from ..estimators import select_entries
from ..invariance import InvarianceTestResult, PairedDifferences, invariance_result
from .rank import LinearisedConditions, linearised_conditions, stream
from .tangents import EnsembleLike, outputs_of, so_basis

__all__ = ["EnsembleLike", "Candidate", "DiscoveredSymmetries", "discover_symmetries", "so_basis",
           "linearised_conditions", "LinearisedConditions"]


@dataclass
class Candidate:
    """One tested group element: ``kind`` (``generator``, ``connected``, ``discrete``), a description, the
    matrix, and the outcome of its tests within the Holm family."""

    kind: str
    description: str
    element: torch.Tensor
    index: int | None = None      # generator candidates: the basis element A_i they exponentiate
    max_z: float = math.nan
    p_holm: float = math.nan
    verdict: Expectation = Expectation.UNDECIDED

    @property
    def confirmed(self) -> bool:
        return self.verdict is Expectation.INVARIANT


def _reflection(v: torch.Tensor) -> torch.Tensor:
    v = v / v.norm()
    return torch.eye(len(v), dtype=torch.float64) - 2 * torch.outer(v, v)


def _fixed_space(algebra: torch.Tensor, n: int, tol: float = 0.25) -> torch.Tensor:
    """Vectors annihilated by the whole algebra (columns), from the stacked basis' small singular values:
    for an orthonormal basis of so(W) the moved directions have singular value sqrt((dim W - 1)/2) >= 0.7."""
    if len(algebra) == 0:
        return torch.eye(n, dtype=torch.float64)
    stacked = algebra.reshape(-1, n)
    _, s, vh = torch.linalg.svd(stacked, full_matrices=True)
    s_full = torch.zeros(n, dtype=torch.float64)
    s_full[: len(s)] = s
    return vh[s_full < tol * max(float(s_full.max()), 1e-300)].T


def _candidates(algebra: torch.Tensor, n: int, times: Sequence[float], connected: int, seed: int,
                extra, discrete: str) -> list[Candidate]:
    out: list[Candidate] = []
    for i, a in enumerate(algebra):
        for t in times:
            out.append(Candidate("generator", f"exp({t:g} A_{i + 1})", torch.linalg.matrix_exp(t * a), i))
    if len(algebra) and connected:
        gen = make_generator(child_seed(seed, 5))
        for j in range(connected):
            c = torch.randn(len(algebra), generator=gen, dtype=torch.float64) * 2.0
            out.append(Candidate("connected", f"random element {j + 1} of the discovered connected group",
                                 torch.linalg.matrix_exp(torch.einsum("k,kij->ij", c, algebra))))
    eye = torch.eye(n, dtype=torch.float64)
    if discrete == "none":
        return out + [Candidate("discrete", f"candidate {k + 1}", torch.as_tensor(g, dtype=torch.float64))
                      for k, g in enumerate(extra or [])]
    out.append(Candidate("discrete", "-1", -eye))
    for i in range(n):
        flip = eye.clone()
        flip[i, i] = -1
        out.append(Candidate("discrete", f"sign flip of coordinate {i + 1}", flip))
    for i in range(n):
        for j in range(i + 1, n if discrete == "all" else min(n, i + 2)):
            swap = eye.clone()
            swap[[i, j]] = swap[[j, i]]
            out.append(Candidate("discrete", f"transposition ({i + 1} {j + 1})", swap))
    fixed = _fixed_space(algebra, n)
    if len(algebra):
        moved = torch.linalg.svd(fixed.T, full_matrices=True)[2][fixed.shape[1]:] if fixed.shape[1] else eye
        out.append(Candidate("discrete", "a reflection inside the moved space", _reflection(moved[0])))
    for k in range(fixed.shape[1] if len(algebra) else 0):
        out.append(Candidate("discrete", f"the reflection along fixed direction {k + 1}", _reflection(fixed[:, k])))
    for k, g in enumerate(extra or []):
        out.append(Candidate("discrete", f"candidate {k + 1}", torch.as_tensor(g, dtype=torch.float64)))
    return out


def _confirm(ens: EnsembleLike, x_points, on: Side, candidates: list[Candidate], orders, alpha: float,
             parity: int | None, outputs) -> InvarianceTestResult:
    grp = Orthogonal(candidates[0].element.shape[0])
    gs = torch.stack([c.element for c in candidates])
    x = ens.points(x_points)
    paired = None
    sel = None
    d = None
    count = 0
    moved = [grp.act_on_inputs(g.to(x.dtype).to(x.device), x) for g in gs] if on is Side.INPUT else None
    for chunk in stream(ens, parity):
        src = ens.source(chunk, x)
        if paired is None:
            d = outputs_of(src)
            sel = select_entries(x.shape[0], d, orders, None, outputs)
            paired = PairedDifferences(sel, len(gs), device=x.device)
        for k, g in enumerate(gs):
            src_g = ens.source(chunk, moved[k]) if moved is not None else src.act_on_outputs(grp, g.to(x.device))
            paired.update(k, src, src_g)
        count += int(getattr(src, "size", 0))
    if paired is None:
        raise SpecError("the ensemble gave no chunk of networks for the confirmation")
    diffs = paired.differences(x.dtype)
    estimator = getattr(ens, "estimator", "model")
    return invariance_result(grp, on, alpha, count, estimator, gs, x, d, sel, diffs)


def _apply_verdicts(candidates: list[Candidate], result: InvarianceTestResult) -> None:
    for k, c in enumerate(candidates):
        mask = result.element == k
        z, p = result.z[mask], result.p_holm[mask]
        if torch.isnan(z).any():
            c.verdict = Expectation.UNDECIDED
            continue
        c.max_z = float(z.abs().max()) if z.numel() else 0.0
        c.p_holm = float(p.min()) if p.numel() else 1.0
        c.verdict = Expectation.BROKEN if c.p_holm <= result.alpha else Expectation.INVARIANT


# ----------------------------------------------------------------------------------------------------
# the result
# ----------------------------------------------------------------------------------------------------
@dataclass
class DiscoveredSymmetries:
    """The outcome of :func:`discover_symmetries` (see the module docstring)."""

    on: Side
    dimension: int
    conditions: LinearisedConditions
    estimated: torch.Tensor
    candidates: list[Candidate] = field(default_factory=list)
    confirmation: InvarianceTestResult | None = None

    @property
    def estimated_dimension(self) -> int:
        """The dimension the rank rule reports (before the confirmation)."""
        return int(len(self.estimated))

    @property
    def algebra(self) -> torch.Tensor:
        """The confirmed part of the estimated basis: the :math:`A_i` none of whose :math:`e^{tA_i}` is rejected
        (``(k, n, n)``, orthonormal)."""
        rejected = {c.index for c in self.candidates if c.kind == "generator" and not c.confirmed}
        keep = [i for i in range(len(self.estimated)) if i not in rejected]
        if not self.candidates:
            keep = list(range(len(self.estimated)))
        return self.estimated[keep] if keep else self.estimated[:0]

    @property
    def lie_dimension(self) -> int:
        """The dimension of the discovered (confirmed) Lie algebra."""
        return int(len(self.algebra))

    @property
    def generators_confirmed(self) -> bool:
        tested = [c for c in self.candidates if c.kind in ("generator", "connected")]
        return all(c.confirmed for c in tested)

    @property
    def fixed_space(self) -> torch.Tensor:
        return _fixed_space(self.algebra, self.dimension)

    @property
    def moved_dimension(self) -> int:
        return self.dimension - int(self.fixed_space.shape[1])

    @property
    def recognised(self) -> str:
        """``so(k)`` when the algebra is all rotations of its moved space, else its dimension."""
        k, m = self.lie_dimension, self.moved_dimension
        if k == 0:
            return "0"
        if k == m * (m - 1) // 2:
            return f"so({m})"
        return f"a {k}-dimensional subalgebra of so({self.dimension})"

    def confirmed_discrete(self) -> list[Candidate]:
        return [c for c in self.candidates if c.kind == "discrete" and c.confirmed]

    @property
    def group_name(self) -> str:
        """The discovered group in words: e.g. ``O(9)`` (so(9) and a confirmed reflection inside the moved
        space), ``SO(9)``, or the trivial group ``1`` plus the confirmed discrete elements."""
        k, m = self.lie_dimension, self.moved_dimension
        if k and k == m * (m - 1) // 2 and self.generators_confirmed:
            inside = any(c.confirmed and c.description == "a reflection inside the moved space" for c in self.candidates)
            name = f"{'O' if inside else 'SO'}({m})"
        elif k:
            name = f"exp({self.recognised})"
        else:
            name = "1"
        extra = len([c for c in self.confirmed_discrete() if c.description != "a reflection inside the moved space"])
        return name + (f" and {extra} confirmed discrete element(s)" if extra else "")

    def summary(self) -> str:
        c = self.conditions
        unconfirmed = self.estimated_dimension - self.lie_dimension
        extra = f", {unconfirmed} rejected by the confirmation" if unconfirmed else ""
        return (f"discovered on the {self.on}s: Lie algebra {self.recognised} (dimension {self.lie_dimension} of "
                f"{len(c.basis)}; {c.null_dimension} generalised eigenvalues <= threshold {c.threshold:.3g} at level "
                f"{c.level}{extra}, {c.networks} networks, orders {', '.join(map(str, c.orders))}); group "
                f"{self.group_name}")

    def markdown(self, top: int = 12) -> str:
        c = self.conditions
        lines = [self.summary(), ""]
        ev = c.eigenvalues.tolist()
        k = c.null_dimension
        shown = ev[max(0, k - 3): k + 3]
        lines.append(f"Generalised eigenvalues around the threshold {c.threshold:.3g}: "
                     + ", ".join(f"{v:.3g}" for v in shown) + ".")
        if self.candidates:
            lines += ["", "| candidate | kind | verdict | max abs z | Holm p |", "|---|---|---|---:|---:|"]
            rows = sorted(self.candidates, key=lambda cand: (cand.kind != "generator", -cand.max_z if cand.max_z == cand.max_z else 0))
            gens = [r for r in rows if r.kind != "discrete"][:top]
            disc = [r for r in rows if r.kind == "discrete"]
            for r in gens + disc:
                lines.append(f"| {r.description} | {r.kind} | {r.verdict} | {r.max_z:.2f} | {r.p_holm:.3g} |")
        return "\n".join(lines)

    def __str__(self):
        return self.markdown()


def discover_symmetries(source, points, on: Side | str = Side.OUTPUT, *, orders: Sequence[int] = (1, 2),
                        networks: int = 20000, confirm_networks: int | None = None, seed: int = 0,
                        chunk: int | None = 1024, estimator: str = "auto", confirm: EnsembleLike | None = None,
                        level: float = 0.01, alpha: float = 0.01, bootstrap: int = 200,
                        times: Sequence[float] = (0.7,), connected: int = 2, candidates=None,
                        discrete: str = "basic",
                        outputs: Sequence[int] | None = None, device="auto", dtype=torch.float64) -> DiscoveredSymmetries:
    """Discover the continuous symmetries (and test discrete candidates) of the density of ``source``
    acting ``on`` its inputs or outputs (see the module docstring).

    ``source``: a concrete :class:`~symcorr.spec.Network` (then ``networks`` networks with seed
    ``child_seed(seed, 0)`` for discovery and ``confirm_networks`` with ``child_seed(seed, 1)`` for the
    confirmation) or any :class:`EnsembleLike` (then ``confirm``, an independent ensemble, or else the
    even chunks discover and the odd ones confirm).  ``points``: ``(P, d_in)`` inputs.  ``orders``:
    correlator orders of the conditions and of the confirmation.  ``level``: the rank rule's false-alarm
    rate (missing a true symmetry direction); ``alpha``: the family-wise level of the confirmation (Holm).
    ``times``: the :math:`t` of the tested :math:`e^{tA_i}`; ``connected``: random elements of the
    discovered connected group; ``discrete``: the discrete candidates, ``"basic"`` (:math:`-1`, the
    coordinate sign flips, the adjacent transpositions and the reflections along the fixed space and inside
    the moved space), ``"all"`` (every transposition) or ``"none"``; ``candidates``: extra elements."""
    if discrete not in ("basic", "all", "none"):
        raise SpecError(f"discrete must be 'basic', 'all' or 'none', got {discrete!r}", "discrete")
    on = Side.parse(on)
    if not (isinstance(level, float) and 0 < level < 1) or not (isinstance(alpha, float) and 0 < alpha < 1):
        raise SpecError("level and alpha must be floats in (0, 1)", "level")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or bootstrap < 20:
        raise SpecError(f"bootstrap must be an integer >= 20, got {bootstrap!r}", "bootstrap")
    if isinstance(source, Network):
        disc_ens = Ensemble(source, networks, seed=child_seed(seed, 0), chunk=chunk, device=device, dtype=dtype,
                            estimator=estimator)
        conf_ens = confirm or Ensemble(source, confirm_networks or networks, seed=child_seed(seed, 1), chunk=chunk,
                                       device=device, dtype=dtype, estimator=estimator)
        parities: tuple[int | None, int | None] = (None, None)
    else:
        for attr in ("chunks", "source", "points"):
            if not callable(getattr(source, attr, None)):
                raise SpecError(f"expected a Network or an ensemble with chunks(), source() and points(); "
                                f"{type(source).__name__} has no {attr}()", "source")
        disc_ens = source
        conf_ens = confirm if confirm is not None else source
        parities = (None, None) if confirm is not None else (0, 1)
    try:
        cond = linearised_conditions(disc_ens, points, on, orders=orders, parity=parities[0], level=level,
                                     bootstrap=bootstrap, seed=seed, outputs=outputs, dtype=dtype)
    except FloatingPointError as err:
        raise SpecError(f"discovery could not decide: {err}") from err
    algebra = cond.algebra()
    n = cond.basis.shape[-1]
    result = DiscoveredSymmetries(on, n, cond, algebra)
    cands = _candidates(algebra, n, times, connected, seed, candidates, discrete)
    if cands:
        test = _confirm(conf_ens, points, on, cands, orders, alpha, parities[1], outputs)
        _apply_verdicts(cands, test)
        result.candidates, result.confirmation = cands, test
    return result

