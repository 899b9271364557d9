r"""The leading finite-width corrections of a deep network: the four-point vertex and the 1/n shift of the
metric, layer by layer, in both frames (Yaida 2019; Roberts, Yaida and Hanin 2022, ch. 4).

Notation of :class:`~symcorr.deep.layers.LayerStack`: :math:`z^{(l)} = W^l\sigma^{(l-1)} + b^l`,
:math:`\sigma^{(l-1)}_j = \phi_{l-1}(z^{(l-1)}_j)`, layer :math:`l` has fan-in :math:`n_l` (the width of
:math:`z^{(l-1)}`), :math:`\mathrm{Var}(W^l_{ij}) = C_W^{(l)}/n_l` exactly, :math:`b^l_i \sim N(0, C_b^{(l)})`,
Gaussian hidden and read-out weights, output :math:`f = z^{(L)}` (a linear read-out).

**The exact structure.**  Given layer :math:`l-1`, the :math:`z^{(l)}_i` are iid Gaussian with the
*empirical metric*

.. math:: \hat G^{(l)}_{ab} = C_b^{(l)} + \frac{C_W^{(l)}}{n_l}\sum_{j=1}^{n_l}\sigma^{(l-1)}_{j;a}\sigma^{(l-1)}_{j;b}
          \qquad(a, b\ \text{sample points}),

so :math:`E[z_{i_1;a_1}z_{i_2;a_2}] = \delta_{i_1i_2}E[\hat G_{a_1a_2}]` and the connected four-point function is

.. math:: G^c_{(i_1a_1)\cdots(i_4a_4)} = \delta_{i_1i_2}\delta_{i_3i_4}\,\mathrm{Cov}(\hat G_{a_1a_2}, \hat G_{a_3a_4})
          + \delta_{i_1i_3}\delta_{i_2i_4}\,\mathrm{Cov}(\hat G_{a_1a_3},\hat G_{a_2a_4})
          + \delta_{i_1i_4}\delta_{i_2i_3}\,\mathrm{Cov}(\hat G_{a_1a_4},\hat G_{a_2a_3}),

exactly, at every width.  Given layer :math:`l-2`, the :math:`z^{(l-1)}_j` are iid :math:`N(0,\hat G^{(l-1)})`;
the law of total covariance, and :math:`\hat G^{(l-1)} = K^{(l-1)} + O(n^{-1/2})`, give to leading order

.. math:: \mathrm{Cov}^{(l)}_{(a_1a_2)(a_3a_4)} = \frac{(C_W^{(l)})^2}{n_l}\Big[\langle\sigma_{a_1}\sigma_{a_2}\sigma_{a_3}
          \sigma_{a_4}\rangle - \langle\sigma_{a_1}\sigma_{a_2}\rangle\langle\sigma_{a_3}\sigma_{a_4}\rangle\Big]_{K^{(l-1)}}
          + (C_W^{(l)})^2\sum_{e,f} \frac{\partial g_{a_1a_2}}{\partial G_e}\frac{\partial g_{a_3a_4}}{\partial G_f}
          \,\mathrm{Cov}^{(l-1)}_{ef},

.. math:: \delta G^{(l)}_{ab} = E[\hat G^{(l)}_{ab}] - K^{(l)}_{ab} = C_W^{(l)}\Big[\sum_e\frac{\partial g_{ab}}{\partial G_e}
          \delta G^{(l-1)}_e + \frac12\sum_{e,f}\frac{\partial^2 g_{ab}}{\partial G_e\,\partial G_f}\mathrm{Cov}^{(l-1)}_{ef}\Big]

(the delta method for :math:`E[g(\hat G)]`), where :math:`g_{ab}(G) = \langle\sigma_a\sigma_b\rangle_G` is the
Gaussian pair function of :mod:`symcorr.gaussian` and :math:`e, f` run over the *unordered* covariance
entries: :math:`g_{ab} = F(G_{aa}, G_{ab}, G_{bb})` for :math:`a \ne b`, with Price's derivatives
(:math:`\partial F/\partial k_{12} = E[\phi'\phi']`, :math:`\partial F/\partial k_{11} = \frac12E[\phi''\phi]`),
and the one-point function :math:`g(G_{aa}) = E[\phi(u)^2]` on the diagonal (never the pair function at
:math:`\rho = 1`).  The first layer is exact: its units are iid (Gaussian or not), so
:math:`\mathrm{Cov}^{(1)} = (C_W^{(1)})^2(m_{a_1a_2a_3a_4} - m_{a_1a_2}m_{a_3a_4})/n_1` (single-neuron moments
of :mod:`symcorr.symbolic.kernels`) and :math:`\delta G^{(1)} = 0`.  In Roberts-Yaida-Hanin's vertex
:math:`V^{(l)} = n_l\,\mathrm{Cov}^{(l)}` the second term carries the ratio :math:`n_l/n_{l-1}`
(docs/symbolic.md, "Deep networks at finite width", has the conventions and the checks of each).

Every correction is a sum over the layers it comes from, :math:`X = \sum_s X_s/n_s` (the local term of
layer :math:`s` is :math:`\propto 1/n_s`, and the propagation is width-free), and that is how the
results are kept: per source layer, so that any per-layer widths (numbers, one symbol ``N`` or
multiples of it, separate symbols) are applied at the end.

A **non-linear read-out** :math:`f = \phi_L(z^{(L)})` would need the Gaussian expectations of the
products of :math:`\phi_L` under :math:`K + \delta G` *and* their fourth covariance derivatives
contracted with the vertex (the non-Gaussian correction of :math:`z^{(L)}`); it is
refused.  Non-Gaussian hidden or read-out weights would add their fourth cumulants at the same order;
refused too.

Frames: :meth:`FiniteWidth.terms` (SymPy: nested closed forms, unevaluated
:class:`~symcorr.symbolic.integral.GaussianExpectation` for four-point moments without one; hidden
activations whose pair function has no closed-form covariance derivatives -- tanh, GELU, ... -- are
refused there), :meth:`FiniteWidth.values` and :func:`finite_width_gram` (torch, batched over point sets,
error estimates: the quadrature or rounding error of every Gaussian expectation propagated to first order
with absolute values through the recursion, and the metric's own error through the first and second
covariance derivatives; its effect on the fourth moments is not propagated -- for the built-in
activations the metric is exact to rounding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import sympy as sp
import torch

from ..combinatorics import perfect_matchings
from ..distributions import Normal
from ..errors import SpecError
from ..spec import Network
from ..symbolic.deep_expansion import register_deep_expansion
from ..symbolic.inputs import as_points
from ..symbolic.integral import GaussianExpectation
from ..symbolic.kernels import FirstLayer, neuron_moment
# sibling modules that import symcorr.symbolic are bound as module objects: symcorr.symbolic imports this
# module (the registration below), so either may be half-initialised when the other is imported first
from . import layer_tables as _tables
from . import nngp as _nngp
from .layers import LayerStack

__all__ = ["FiniteWidth", "FiniteWidthTerms", "FiniteWidthValues", "finite_width_gram"]


def _zero(expr) -> bool:
    expr = sp.sympify(expr)
    return expr == 0 or expr.is_zero is True


# ----------------------------------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FiniteWidthTerms:
    r"""The symbolic result at ``points`` (distinct columns): :attr:`kernel` :math:`K^{(L)}`, and per
    source layer :math:`s` (fan-in :attr:`widths` ``[s]``) :attr:`shift` ``[s]`` (P x P) and
    :attr:`covariance` ``[s]`` (entries x entries) with
    :math:`E[\hat G] = K + \sum_s \mathrm{shift}_s/n_s` and
    :math:`\mathrm{Cov}(\hat G_e, \hat G_f) = \sum_s \mathrm{covariance}_s[e, f]/n_s` to order :math:`1/n`."""

    points: tuple
    entries: _tables.PairEntries
    widths: tuple
    kernel: sp.ImmutableMatrix
    shift: tuple
    covariance: tuple

    def metric_covariance(self, i: int, j: int, k: int, l: int) -> tuple:
        """``(c_s)`` per source layer: :math:`\\mathrm{Cov}(\\hat G_{ij}, \\hat G_{kl}) = \\sum_s c_s/n_s`."""
        e, f = self.entries.index(i, j), self.entries.index(k, l)
        return tuple(c[e, f] for c in self.covariance)


class FiniteWidthValues:
    r"""The numeric result for a batch of ``B`` point sets of ``P`` points: tensors :attr:`kernel`
    ``(B, P, P)``, :attr:`shift` ``(S, B, P, P)`` and :attr:`covariance` ``(S, B, M, M)`` (``S`` source
    layers, ``M`` entries; meanings as in :class:`FiniteWidthTerms`), each with an ``*_error`` tensor."""

    def __init__(self, entries: _tables.PairEntries, widths: tuple, kernel, kernel_error, shift, shift_error,
                 covariance, covariance_error):
        self.entries, self.widths = entries, widths
        self.kernel, self.kernel_error = kernel, kernel_error
        self.shift, self.shift_error = shift, shift_error
        self.covariance, self.covariance_error = covariance, covariance_error

    def width_values(self, widths=None) -> torch.Tensor:
        """The fan-ins :math:`n_s` as numbers: ``None`` (the network's, which must be concrete), a mapping
        ``{symbol: value}`` substituted into them, or one number per source layer."""
        return _width_values(self.widths, widths)

    def connected(self, slots: Sequence[int], outputs: Sequence | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Per source layer, the coefficient of :math:`1/n_s` in the connected four-point function at the
        point ``slots`` (4 indices into the points) and ``outputs`` (default all equal):
        :math:`\sum_{\rm pairings}\delta\delta\,\mathrm{Cov}_s`; ``(values, errors)`` of shape ``(S, B)``."""
        if len(slots) != 4:
            raise SpecError(f"the connected four-point function needs 4 slots, got {len(slots)}", "slots")
        outs = [0, 0, 0, 0] if outputs is None else list(outputs)
        value = torch.zeros(self.covariance.shape[:2], dtype=torch.float64)
        error = torch.zeros_like(value)
        for (a, b), (c, d) in perfect_matchings(range(4)):
            if outs[a] != outs[b] or outs[c] != outs[d]:
                continue
            e, f = self.entries.index(slots[a], slots[b]), self.entries.index(slots[c], slots[d])
            value = value + self.covariance[:, :, e, f]
            error = error + self.covariance_error[:, :, e, f]
        return value, error

    def at_widths(self, widths=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        r"""``(shift, shift_error, covariance, covariance_error)`` summed over the source layers at the
        given fan-ins: :math:`\sum_s X_s/n_s`."""
        n = self.width_values(widths)
        inv = (1.0 / n)[:, None, None, None]
        return ((self.shift * inv).sum(0), (self.shift_error * inv).sum(0),
                (self.covariance * inv).sum(0), (self.covariance_error * inv).sum(0))


def _width_values(symbolic: tuple, widths) -> torch.Tensor:
    if widths is not None and not isinstance(widths, Mapping):
        values = [float(w) for w in widths]
        if len(values) != len(symbolic):
            raise SpecError(f"give one width per hidden layer ({len(symbolic)}), got {len(values)}", "widths")
    else:
        mapping = {} if widths is None else {sp.Symbol(k) if isinstance(k, str) else k: v for k, v in widths.items()}
        exprs = [sp.sympify(w).subs(mapping) for w in symbolic]
        free = set().union(*(e.free_symbols for e in exprs))
        if free:
            raise SpecError(f"the hidden widths depend on {sorted(map(str, free))}; pass widths={{...}} or "
                            "one number per hidden layer", "widths")
        values = [float(e) for e in exprs]
    if any(not v > 0 for v in values):
        raise SpecError(f"widths must be positive, got {values}", "widths")
    return torch.tensor(values, dtype=torch.float64)


# ----------------------------------------------------------------------------------------------------
# the recursion
# ----------------------------------------------------------------------------------------------------
class FiniteWidth:
    r"""The 1/n corrections of a network's metric (module docstring): :meth:`terms` (SymPy),
    :meth:`values` (torch), :meth:`expansion` (the n-point functions through 1/n, for the correlator)."""

    def __init__(self, network: Network):
        if not isinstance(network, Network):
            raise SpecError(f"expected a Network, got {type(network).__name__}", "network")
        if network.depth < 2:
            raise SpecError("a network without a hidden layer is Gaussian at every width", "layers")
        self.network = network
        self.stack = LayerStack.from_network(network, gaussian_hidden=True)
        readout = self.stack.readout
        where = readout.name
        if readout.activation.name != "identity":
            raise SpecError(f"the read-out applies {readout.activation.name!r}; the finite-width recursion gives "
                            "the read-out pre-activation: a non-linear read-out would need the fourth covariance "
                            "derivatives of its Gaussian expectations contracted with the four-point vertex (the "
                            "non-Gaussian correction of z^(L)), which are not implemented", f"{where}.activation")
        if not isinstance(readout.weight, Normal):
            raise SpecError(f"the finite-width recursion needs Gaussian read-out weights, got {readout.weight!r} "
                            "(a fourth cumulant adds terms at the same order)", f"{where}.weight")
        if not _zero(readout.weight_mean) or not _zero(readout.bias_mean):
            raise SpecError("the finite-width recursion needs a zero-mean read-out (weights and bias)", where)
        if readout.bias is not None and not isinstance(readout.bias, Normal):
            raise SpecError(f"the read-out bias must be Gaussian, got {readout.bias!r}", f"{where}.bias")
        widths = set(self.stack.width_symbols)
        self.c_w, self.c_b = [sp.Integer(0)], [sp.Integer(0)]
        for rec in self.stack.layers[1:]:
            c_w, c_b = rec.c_w, rec.c_b
            if widths & (sp.sympify(c_w).free_symbols | sp.sympify(c_b).free_symbols):
                raise SpecError(f"the 1/n expansion needs Var(W^{rec.index}) = C_W / fan_in exactly and a "
                                f"width-free bias variance; here fan_in * var = {c_w}, bias var = {c_b}",
                                f"{rec.name}.weight.var")
            self.c_w.append(sp.sympify(c_w))
            self.c_b.append(sp.sympify(c_b))
        first_laws = [self.stack.first.weight] + ([] if self.stack.first.bias is None else [self.stack.first.bias])
        if widths & set().union(*(law.free_symbols for law in first_laws)):
            raise SpecError("the first layer's laws depend on a hidden width; the 1/n expansion needs them "
                            "width-free", "layers[0]")
        first = FirstLayer.from_network(network)
        if first is None:
            raise SpecError("the first layer's units are not iid; the recursion needs iid units", "layers[0]")
        self.first: FirstLayer = first
        self.nngp = _nngp.NNGP(network)
        # the metric does not depend on the widths (C_W is width-free): its numbers come from the network at
        # any concrete widths (NNGP.metrics_torch needs a concrete network)
        self._numeric_nngp = _nngp.NNGP(network.subs({w: 1 for w in widths})) if widths else self.nngp
        #: the fan-in of each source layer s = 1..L (the width its local term is divided by)
        self.widths = tuple(sp.sympify(w) for w in self.stack.hidden_widths)
        self._terms: dict = {}

    def __repr__(self):
        return f"FiniteWidth({self.network!r})"

    # --- symbolic ------------------------------------------------------------------------------------
    def terms(self, points) -> FiniteWidthTerms:
        """The symbolic corrections at the distinct ``points`` (see :class:`FiniteWidthTerms`)."""
        pts = as_points(points, self.network.input_dim)
        key = tuple(pts)
        if len(set(key)) < len(key):
            raise SpecError("the points must be distinct (a repeated point is the same metric entry)", "points")
        if key not in self._terms:
            if len(self._terms) > 64:
                self._terms.clear()
            self._terms[key] = self._build_terms(pts)
        return self._terms[key]

    def _build_terms(self, pts) -> FiniteWidthTerms:
        entries = _tables.PairEntries(len(pts))
        M = entries.size
        metrics = self.nngp.metrics(pts)
        m2 = [self._first_moment([pts[i]], [2]) if i == j else self._first_moment([pts[i], pts[j]], [1, 1])
              for i, j in entries.pairs]
        ms, table = entries.four_point_index()
        m4 = [self._first_moment([pts[u] for u in d], list(p)) for d, p in map(_tables.compress, ms)]
        c1 = self.c_w[1] ** 2
        covs = [sp.Matrix(M, M, lambda e, f: c1 * (m4[table[e][f]] - m2[e] * m2[f]))]
        shifts = [sp.zeros(M, 1)]
        for l in range(1, self.stack.depth - 1):
            g, jac, hess, mom = _tables.symbolic_tables(self.stack.layers[l].activation, metrics[l - 1], entries,
                                                          f"layers[{l}].activation")
            c = self.c_w[l + 1]
            new_covs, new_shifts = [], []
            for cov, shift in zip(covs, shifts):
                new_covs.append(sp.Matrix(M, M, lambda e, f: c ** 2 * _tables.sandwich(jac, cov, entries, e, f)))
                new_shifts.append(sp.Matrix(M, 1, lambda e, _: c * (_tables.jacobian_times(jac, shift, entries, e)
                                                                     + _tables.hessian_contract(hess, cov, entries, e) / 2)))
            new_covs.append(sp.Matrix(M, M, lambda e, f: c ** 2 * (mom[table[e][f]] - g[e] * g[f])))
            new_shifts.append(sp.zeros(M, 1))
            covs, shifts = new_covs, new_shifts
        P = len(pts)
        as_matrix = [sp.ImmutableMatrix(P, P, lambda i, j: s[entries.index(i, j), 0]) for s in shifts]
        return FiniteWidthTerms(tuple(pts), entries, self.widths, sp.ImmutableMatrix(metrics[-1]), tuple(as_matrix),
                                tuple(sp.ImmutableMatrix(c) for c in covs))

    def _first_moment(self, pts, powers) -> sp.Expr:
        """A single-neuron moment of the first layer (:func:`~symcorr.symbolic.kernels.neuron_moment`), with
        an unevaluated Gaussian expectation replaced by the Gaussian table's closed form where it has one
        (e.g. ReLU at two points to higher powers)."""
        value = neuron_moment(self.first, pts, powers)
        if isinstance(value, GaussianExpectation):
            closed = _tables.gaussian_moment(self.first.activation, value.powers).sympy(value.covariance,
                                                                                      list(value.mean))
            if closed is not None:
                return closed
        return value

    # --- numeric -------------------------------------------------------------------------------------
    def values(self, points) -> FiniteWidthValues:
        """The numeric corrections at numeric ``points`` ``(P, d_in)`` (distinct), batch of one."""
        x = self._inputs(points)
        if torch.unique(x, dim=0).shape[0] < x.shape[0]:
            raise SpecError("the points must be distinct (a repeated point is the same metric entry)", "points")
        return self._values(x, torch.arange(x.shape[0])[None, :])

    def _inputs(self, points) -> torch.Tensor:
        free = set().union(*(sp.sympify(v).free_symbols for v in self.c_w + self.c_b))
        if free or not self._laws_concrete():
            raise SpecError("numeric values need concrete laws; substitute the symbols first (network.subs({...})); "
                            "the widths may stay symbolic", "network")
        return self.network._as_inputs(points, torch.float64, "cpu")

    def _laws_concrete(self) -> bool:
        widths = set(self.stack.width_symbols)
        return not (set(self.network.free_symbols) - widths)

    def _values(self, x: torch.Tensor, subsets: torch.Tensor) -> FiniteWidthValues:
        r"""The recursion on ``B`` point sets ``subsets`` ``(B, P)`` (indices into the points ``x``), batched."""
        B, P = subsets.shape
        entries = _tables.PairEntries(P)
        S = self.stack.depth - 1
        metrics, metric_err = self._numeric_nngp.metrics_torch(x)
        sub = (slice(None), subsets[:, :, None], subsets[:, None, :])
        K, K_err = metrics[sub], metric_err[sub]  # (L, B, P, P)
        m2, m2_err, m4, m4_err = self._first_tables(x, subsets, entries)
        c_w = [float(c) for c in self.c_w]
        M = entries.size
        cov = torch.zeros(S, B, M, M, dtype=torch.float64)
        cov_err = torch.zeros_like(cov)
        shift, shift_err = torch.zeros(S, B, M, dtype=torch.float64), torch.zeros(S, B, M, dtype=torch.float64)
        cov[0] = c_w[1] ** 2 * (m4 - m2[:, :, None] * m2[:, None, :])
        cov_err[0] = c_w[1] ** 2 * (m4_err + m2_err[:, :, None] * m2.abs()[:, None, :] + m2.abs()[:, :, None] * m2_err[:, None, :])
        var = torch.tensor(entries.variables, dtype=torch.long)  # (M, 3)
        for l in range(1, S):
            t = _tables.numeric_tables(self.stack.layers[l].activation, K[l - 1], K_err[l - 1], entries)
            g, ge, jac, je, hess, he, mom, me = t
            c = c_w[l + 1]
            prev, prev_e = cov[:l], cov_err[:l]
            vj = prev[..., var[:, :, None, None], var[None, None, :, :]]  # (s, B, M, 3, M, 3)
            vje = prev_e[..., var[:, :, None, None], var[None, None, :, :]]
            ja, ea = jac.abs(), je
            new_cov = c * c * torch.einsum("bmu,sbmunv,bnv->sbmn", jac, vj, jac)
            new_cov_e = c * c * (torch.einsum("bmu,sbmunv,bnv->sbmn", ja, vje, ja)
                                 + 2 * torch.einsum("bmu,sbmunv,bnv->sbmn", ea, vj.abs(), ja))
            vh = prev[..., var[:, :, None], var[:, None, :]]  # (s, B, M, 3, 3)
            vhe = prev_e[..., var[:, :, None], var[:, None, :]]
            sj, sje = shift[:l][..., var], shift_err[:l][..., var]  # (s, B, M, 3)
            new_shift = c * (torch.einsum("bmu,sbmu->sbm", jac, sj) + 0.5 * torch.einsum("bmuv,sbmuv->sbm", hess, vh))
            new_shift_e = c * (torch.einsum("bmu,sbmu->sbm", ja, sje) + torch.einsum("bmu,sbmu->sbm", ea, sj.abs())
                               + 0.5 * (torch.einsum("bmuv,sbmuv->sbm", hess.abs(), vhe)
                                        + torch.einsum("bmuv,sbmuv->sbm", he, vh.abs())))
            cov[:l], cov_err[:l] = new_cov, torch.maximum(new_cov_e, new_cov_e.transpose(-1, -2))
            shift[:l], shift_err[:l] = new_shift, new_shift_e
            cov[l] = c * c * (mom - g[:, :, None] * g[:, None, :])
            cov_err[l] = c * c * (me + ge[:, :, None] * g.abs()[:, None, :] + g.abs()[:, :, None] * ge[:, None, :])
        if not (bool(torch.isfinite(cov).all()) and bool(torch.isfinite(shift).all())):
            raise SpecError("a finite-width correction is not finite at these points (perfectly correlated "
                            "pre-activations at distinct points, e.g. collinear inputs of a bias-free ReLU net, make "
                            "the second covariance derivatives of the pair function diverge)", "points")
        ii = torch.tensor([[entries.index(i, j) for j in range(P)] for i in range(P)], dtype=torch.long)
        return FiniteWidthValues(entries, self.widths, K[-1], K_err[-1], shift[..., ii], shift_err[..., ii],
                                 cov, cov_err)

    def _first_tables(self, x, subsets, entries: _tables.PairEntries):
        """Single-neuron moments of the first layer over the entries (m2, ``(B, M)``) and the pairs of
        entries (m4, ``(B, M, M)``): Gaussian quadrature / closed forms, or exact SymPy moments."""
        ms, table = entries.four_point_index()
        fl = self.first
        if fl.gaussian and not fl.activation.normalised:
            metric = float(fl.b_var) + float(fl.w_var) * _inner(x, fl.metric)
            mean = float(fl.b_mean) + float(fl.w_mean) * x.sum(-1)
            cov_b = metric[subsets[:, :, None], subsets[:, None, :]]
            mean_b = mean[subsets]
            v2, e2 = _tables.moments_torch(fl.activation, cov_b, mean_b, [p for p in entries.pairs])
            v4, e4 = _tables.moments_torch(fl.activation, cov_b, mean_b, ms)
        else:
            pts = _nngp.exact_points(x)

            def exact(sets):
                out = [[_nngp.first_layer_moment(fl, [pts[row[u]] for u in d], list(p))
                        for d, p in map(_tables.compress, sets)] for row in subsets.tolist()]
                value = torch.tensor(out, dtype=torch.float64)
                return value, 64 * torch.finfo(torch.float64).eps * value.abs().clamp_min(1.0)
            v2, e2 = exact(entries.pairs)
            v4, e4 = exact(ms)
        idx = torch.tensor(table, dtype=torch.long)
        return v2, e2, v4[:, idx], e4[:, idx]

    # --- the correlator's view -----------------------------------------------------------------------
    def expansion(self, points, indices, connected: bool = False, order: int = 1) -> tuple:
        r"""The n-point function (or its connected part) of the read-out through order 1/n:
        ``(leading, ((n_s, c_s), ...))`` with :math:`G = \text{leading} + \sum_s c_s/n_s + O(1/n^2)`
        (``order=0``: the leading term only, from the NNGP metric alone, and no corrections).

        :math:`E[\prod_i z_{a_i}(x_i)] = \sum_{\rm pairings}\prod\delta\,E[\prod_{\rm pairs}\hat G]`, and to
        order 1/n :math:`E[\prod_p\hat G_p] = \prod_pK_p + \sum_p\delta G_p\prod_{q\ne p}K_q +
        \sum_{p<q}\mathrm{Cov}_{pq}\prod_{r\ne p,q}K_r` (higher joint cumulants of :math:`\hat G` are
        :math:`O(1/n^2)`).  Odd n vanish (zero-mean Gaussian read-out).  Connected: n = 2 is the full
        two-point function, n = 4 the pairings of the covariance, n >= 6 vanish through order 1/n."""
        n = len(points)
        S = len(self.widths)
        if n % 2 == 1 or (connected and n >= 6):
            return sp.Integer(0), tuple((w, sp.Integer(0)) for w in self.widths) if order else ()
        distinct: list = []
        slot = []
        for p in as_points(points, self.network.input_dim):
            for u, q in enumerate(distinct):
                if q == p:
                    slot.append(u)
                    break
            else:
                distinct.append(p)
                slot.append(len(distinct) - 1)
        if order == 0:
            kernel = self.nngp.metrics(distinct)[-1]
            lead = sp.Integer(0)
            if not connected or n == 2:
                for pairing in perfect_matchings(range(n)):
                    lead += sp.Mul(*[sp.KroneckerDelta(indices[a], indices[b]) * kernel[slot[a], slot[b]]
                                     for a, b in pairing])
            return lead, ()
        t = self.terms(distinct)
        lead, corr = sp.Integer(0), [sp.Integer(0)] * S
        for pairing in perfect_matchings(range(n)):
            delta = sp.Mul(*[sp.KroneckerDelta(indices[a], indices[b]) for a, b in pairing])
            if delta == 0:
                continue
            pairs = [(slot[a], slot[b]) for a, b in pairing]
            ks = [t.kernel[i, j] for i, j in pairs]
            if connected and n == 4:
                for s in range(S):
                    corr[s] += delta * t.metric_covariance(*pairs[0], *pairs[1])[s]
                continue
            lead += delta * sp.Mul(*ks)
            for s in range(S):
                term = sp.Integer(0)
                for p, (i, j) in enumerate(pairs):
                    term += t.shift[s][i, j] * sp.Mul(*(ks[:p] + ks[p + 1:]))
                    for q in range(p + 1, len(pairs)):
                        rest = [ks[r] for r in range(len(pairs)) if r not in (p, q)]
                        term += t.metric_covariance(i, j, *pairs[q])[s] * sp.Mul(*rest)
                corr[s] += delta * term
        return lead, tuple(zip(self.widths, corr))


# ----------------------------------------------------------------------------------------------------
# numeric tables
# ----------------------------------------------------------------------------------------------------
def _inner(x: torch.Tensor, metric) -> torch.Tensor:
    if metric is None:
        return x @ x.T
    v = torch.tensor([[float(e) for e in metric.row(i)] for i in range(metric.rows)], dtype=torch.float64)
    return x @ v @ x.T


# ----------------------------------------------------------------------------------------------------
# the Gram matrix with its 1/n correction
# ----------------------------------------------------------------------------------------------------
def finite_width_gram(network: Network, X, Y=None, *, widths=None, limit: bool = False
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""``(values, errors)`` ``(n, m)``: :math:`E[\hat G^{(L)}(x_i, y_j)] = K(x_i, y_j) + \sum_s
    \delta G_s(x_i,y_j)/n_s` to order 1/n (``limit=True``: the NNGP kernel :math:`K` alone), the two-point
    function of the read-out without its output delta.  ``widths`` as in
    :meth:`FiniteWidthValues.width_values` (default the network's concrete widths).

    Vectorised: the metric of all points at once (:class:`~symcorr.deep.nngp.NNGP`), then one batched
    recursion over all the two-point systems :math:`\{x_i, y_j\}` (a pair's correction depends only on the
    entries :math:`ii, ij, jj`); coincident pairs use the one-point system."""
    fw = FiniteWidth(network)
    x = fw._inputs(X)
    y = x if Y is None else fw._inputs(Y)
    n, m = x.shape[0], y.shape[0]
    pts = torch.cat([x, y])
    if limit:
        values, errors = fw._numeric_nngp.metrics_torch(pts)
        return values[-1][:n, n:], errors[-1][:n, n:]
    width_values = _width_values(fw.widths, widths)
    same = (x[:, None, :] == y[None, :, :]).all(-1)  # (n, m)
    out = torch.zeros(n, m, dtype=torch.float64)
    err = torch.zeros_like(out)
    inv = (1.0 / width_values)[:, None]
    pi, pj = torch.nonzero(~same, as_tuple=True)
    if pi.numel():
        res = fw._values(pts, torch.stack([pi, n + pj], -1))
        out[pi, pj] = res.kernel[:, 0, 1] + (res.shift[:, :, 0, 1] * inv).sum(0)
        err[pi, pj] = res.kernel_error[:, 0, 1] + (res.shift_error[:, :, 0, 1] * inv).sum(0)
    si, sj = torch.nonzero(same, as_tuple=True)
    if si.numel():
        res = fw._values(pts, si[:, None])
        out[si, sj] = res.kernel[:, 0, 0] + (res.shift[:, :, 0, 0] * inv).sum(0)
        err[si, sj] = res.kernel_error[:, 0, 0] + (res.shift_error[:, :, 0, 0] * inv).sum(0)
    return out, err


register_deep_expansion(FiniteWidth)
