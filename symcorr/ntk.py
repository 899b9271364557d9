r"""The neural tangent kernel (NTK) of a random network: empirical, in expectation, and its symmetries.

For one network :math:`f_\theta: R^{d_{in}} \to R^{d_{out}}` the empirical NTK is

.. math:: \Theta_{ab}(x, x'; \theta) = \sum_p \partial_p f_a(x;\theta)\, \partial_p f_b(x';\theta),

a sum over every parameter :math:`p` (every entry of every block ``W0, b0, W1, ...``).  It is itself
a random variable of :math:`\theta \sim P(\theta)`, so it has correlators
:math:`E[\Theta]`, :math:`E[\Theta\otimes\Theta]`, ... which are parameter-space integrals just like the
network's own correlators (paper section 5).

Per block the sum factorises.  With :math:`z^l = W^l h^l + b^l`, :math:`h^{l+1} = \phi_l(z^l)` and the
back-propagated sensitivities :math:`\delta^l_a(x) = \partial f_a(x)/\partial z^l`,

.. math:: \Theta^{W^l}_{ab}(x,x') = \big(\delta^l_a(x)\cdot\delta^l_b(x')\big)\,\big(h^l(x)\cdot h^l(x')\big),
          \qquad \Theta^{b^l}_{ab}(x,x') = \delta^l_a(x)\cdot\delta^l_b(x'),

with :math:`\delta^L_a = e_a \odot \phi_L'(z^L)` and
:math:`\delta^l_a = (\delta^{l+1}_a W^{l+1}) \odot \phi_l'(z^l)` (``method="layerwise"``).  The same
kernel from full per-network Jacobians by ``torch.func.jacrev`` (``method="autograd"``) serves any
network the spec can describe (also a normalised ``gauss`` layer deeper than the first, whose normaliser
depends on earlier parameters) and cross-checks the layerwise formula.

Parameterisations.  symcorr networks are in the *standard* parameterisation (:math:`W \sim
N(0,\sigma^2/\mathrm{fan\_in})`, gradients with respect to :math:`W`), in which the last-layer block
:math:`\Theta^{W^L} = \sum_j h_j(x) h_j(x')` grows like the width :math:`N` (paper section 3.7).  With
``parameterisation="ntk"`` every block is written :math:`W = \mu + s\,\omega` with :math:`\omega` of unit
variance and differentiated with respect to :math:`\omega`; this multiplies block :math:`B`'s contribution
by :math:`s_B^2 = \mathrm{Var}(B_{ij})` and gives the width-independent kernel whose :math:`N\to\infty`
limit is the classic infinite-width NTK.

Expectation at initialisation (single hidden layer, :func:`ntk_expectation`).  For
:math:`f = W^1\phi(W^0x + b^0) + b^1` with :math:`z = W^0_{j\cdot}x + b^0_j` Gaussian with covariance
:math:`k_0`, neurons iid and the read-out independent with second moments
:math:`S_{ab} = E\sum_j W^1_{aj}W^1_{bj}`, exactly at every width (standard parameterisation)

.. math:: E[\Theta_{ab}(x,x')] = \delta_{ab}\,[b^1] + \delta_{ab} N\,E[\phi(z)\phi(z')]
          + S_{ab}\,\big(x\cdot x' + [b^0]\big)\,E[\dot\phi(z)\dot\phi(z')],

(:math:`[\cdot]` = 1 when the block exists; :math:`z` has covariance
:math:`k_0(x,x') = v\,x^TVx' + \sigma_{b0}^2` with :math:`V` the column covariance of
:math:`W^0 \sim N(0, v)`, identity for iid entries, while the :math:`W^0` gradient always brings the
Euclidean :math:`x\cdot x'`) and :math:`S_{ab} = \sigma_{W1}^2\delta_{ab} + N\mu_a\mu_b` for iid entries with row means
:math:`\mu_a`.  Closed forms: ReLU :math:`E[\dot\phi\dot\phi'] = (\pi-\vartheta)/2\pi`,
:math:`\cos\vartheta = k_{12}/\sqrt{k_{11}k_{22}}`; erf
:math:`E[\dot\phi\dot\phi'] = \tfrac{4}{\pi}[(1+2k_{11})(1+2k_{22}) - 4k_{12}^2]^{-1/2}`; Gauss-net
:math:`E[\phi\phi'] = E[\dot\phi\dot\phi'] = e^{k_{12} - (k_{11}+k_{22})/2}`; Cos-net with uniform phase
:math:`E[\cos z\cos z'] = E[\sin z\sin z'] = \tfrac12 e^{-\sigma^2 |x-x'|^2_V/2}`.  Other activations
(tanh) stay an unevaluated Gaussian integral, evaluated numerically by Gauss-Hermite quadrature.

Symmetries (paper section 5).  If an output rotation is absorbed by an *orthogonal* parameter map,
:math:`J(T_\rho\theta) = \rho J(\theta) T_\rho^T` and :math:`\Theta(T_\rho\theta) = \rho\Theta(\theta)\rho^T`,
so the law of :math:`\Theta` is conjugation invariant and :math:`E[\Theta_{ab}]\propto\delta_{ab}`; an input
rotation absorbed by :math:`W^0\mapsto W^0R` gives the law of :math:`\Theta(Rx,Rx')` = law of
:math:`\Theta(x,x')`.  The parameter map must be orthogonal because the NTK uses the Euclidean metric on
:math:`\theta`: the Cos-net translation :math:`b^0 \mapsto b^0 + W^0c` is a shear, and the Cos-net NTK is
**not** translation invariant (its :math:`W^0` block carries :math:`x\cdot x'`), although the Cos-net
function density is.  :func:`ntk_invariance_test` checks such statements by Monte Carlo: paired
differences on one ensemble, z-scores with Holm's correction (see ``docs/ntk.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import sympy as sp
import torch

from .activations import Activation
from .distributions import Normal, numeric_value
from .errors import SpecError
from .groups import Group, resolve_group
from .montecarlo.accumulators import ELEMENT_BUDGET, MomentAccumulator, unique_entries
from .montecarlo.ensemble import Ensemble
from .montecarlo.invariance import group_elements
from .montecarlo.statistics import (HolmVerdict, floored_se, holm_adjust, paired_z, rounding_floor,
                                  two_sided_p)
from .spec import Network

__all__ = [
    "empirical_ntk", "ntk_moments", "NTKMoments", "ntk_invariance_test", "NTKInvarianceResult",
    "ntk_expectation", "NTKExpectation", "gaussian_pair_expectations",
]

_PARAMETERISATIONS = ("standard", "ntk")
#: an NTK invariance test refuses to form more paired statistics than this (memory and Holm power)
_MAX_TESTS = 1 << 22
_METHODS = ("auto", "layerwise", "autograd")


# ====================================================================================================
# empirical NTK
# ====================================================================================================
def _check_points(network: Network, x, dtype, device, what: str) -> torch.Tensor:
    try:
        return network._as_inputs(x, dtype, device)
    except SpecError as err:
        raise SpecError(err.reason, what) from None


def _activation_derivative(act: Activation, z: torch.Tensor, log_norm: torch.Tensor | None) -> torch.Tensor:
    r""":math:`\phi'(z)` elementwise (autograd on the elementwise map, normaliser held fixed)."""
    if act.name == "identity":
        return torch.ones_like(z)
    with torch.enable_grad():
        zz = z.detach().requires_grad_(True)
        y = act.torch(zz, log_norm) if act.normalised else act.torch(zz)
        (g,) = torch.autograd.grad(y.sum(), zz)
    return g


def _layerwise_supported(network: Network) -> bool:
    return not any(layer.activation.normalised for layer in network.layers[1:])


def _layerwise_blocks(network: Network, params, xs: torch.Tensor, split: int) -> dict:
    """Per-block NTK from back-propagated sensitivities (see module docstring)."""
    h = xs
    hs, derivs = [], []
    for l, layer in enumerate(network.layers):
        z = torch.matmul(h, params[f"W{l}"].transpose(-1, -2))
        b = params.get(f"b{l}")
        if b is not None:
            z = z + b[:, None, :]
        log_norm = network.log_normaliser(l, h).to(z.dtype) if layer.activation.normalised else None
        hs.append(h)
        derivs.append(_activation_derivative(layer.activation, z, log_norm))
        h = layer.activation.torch(z, log_norm) if layer.activation.normalised else layer.activation.torch(z)
    if not torch.isfinite(h).all():
        raise SpecError("network output contains NaN or infinite values (overflow); check the parameter "
                        "scales and inputs")
    d = int(network.output_dim)
    # delta^L_{a,i} = delta_{ai} phi_L'(z^L_i): shape (n, P, d, width_L)
    eye = torch.eye(d, dtype=h.dtype, device=h.device)
    delta = eye[None, None] * derivs[-1][:, :, None, :]
    out = {}
    for l in reversed(range(len(network.layers))):
        d1, d2 = delta[:, :split], delta[:, split:]
        dd = torch.einsum("mpai,mqbi->mpqab", d1, d2)
        hl = hs[l]
        if hl.ndim == 2:  # the input points, shared by every network
            hh = (hl[:split] @ hl[split:].T)[None]
        else:
            hh = torch.einsum("mpj,mqj->mpq", hl[:, :split], hl[:, split:])
        out[f"W{l}"] = dd * hh[..., None, None]
        if f"b{l}" in network.blocks:
            out[f"b{l}"] = dd
        if l > 0:
            delta = torch.matmul(delta, params[f"W{l}"][:, None]) * derivs[l - 1][:, :, None, :]
    return out


def _autograd_blocks(network: Network, params, xs: torch.Tensor, split: int) -> dict:
    """Per-block NTK from per-network Jacobians ``torch.func.jacrev`` of the ensemble forward.

    Networks do not share parameters, so the Jacobian of :math:`\\sum_m f_{\\theta_m}(x)` with respect to
    the batched parameters is the stack of per-network Jacobians (no loop over networks).
    """
    n = network.check_parameters(params)
    d = int(network.output_dim)
    p_tot = xs.shape[0]

    def summed(p):
        return network.forward(p, xs).sum(0)  # (P, d)

    jac = torch.func.jacrev(summed)(dict(params))
    out = {}
    for name, j in jac.items():
        j = j.reshape(p_tot, d, n, -1).permute(2, 0, 1, 3)  # (n, P, d, block size)
        out[name] = torch.einsum("mpai,mqbi->mpqab", j[:, :split], j[:, split:])
    return out


def _block_scales(network: Network, parameterisation: str) -> dict:
    """Factor per block: 1 (standard) or the entry variance (NTK parameterisation)."""
    if parameterisation not in _PARAMETERISATIONS:
        raise SpecError(f"unknown parameterisation {parameterisation!r}; use 'standard' or 'ntk'",
                        "parameterisation")
    scales = {}
    for name, block in network.blocks.items():
        if parameterisation == "standard":
            scales[name] = 1.0
            continue
        law = block.law
        if isinstance(law, Normal):
            if law.cov is not None or law.row_cov is not None or law.col_cov is not None:
                raise SpecError("the NTK parameterisation rescales each block by one standard deviation; "
                                "this block has a structured covariance", name)
            scales[name] = numeric_value(law.var, f"{name}.var")
        else:
            scales[name] = numeric_value(law.variance, f"{name}.variance")
    return scales


def empirical_ntk(network: Network, params: Mapping[str, torch.Tensor], x, x2=None, *,
                  parameterisation: str = "standard", method: str = "auto", per_block: bool = False,
                  blocks: Sequence[str] | None = None):
    r"""Empirical NTK of every network in the ensemble ``params``.

    Returns :math:`\Theta_{ab}(x_p, x'_q;\theta_m)` as a tensor of shape ``(n, P, P', d_out, d_out)``
    (``x2`` defaults to ``x``), or with ``per_block=True`` a dict ``block name -> tensor`` whose sum is the
    NTK.  ``method``: ``"layerwise"`` (hand-derived back-propagation; every network but one with a
    normalised ``gauss`` layer after the first), ``"autograd"`` (``torch.func.jacrev``) or ``"auto"``.
    ``blocks`` restricts the sum over parameters to those blocks (the NTK when only they are trained).
    """
    if not isinstance(network, Network):
        raise SpecError(f"expected a Network, got {type(network).__name__}", "network")
    network._require_concrete("the empirical NTK")
    if method not in _METHODS:
        raise SpecError(f"unknown method {method!r}; use one of {', '.join(_METHODS)}", "method")
    n = network.check_parameters(params)
    del n
    first = params["W0"]
    x1 = _check_points(network, x, first.dtype, first.device, "x")
    x2 = x1 if x2 is None else _check_points(network, x2, first.dtype, first.device, "x2")
    xs = torch.cat([x1, x2], 0)
    scales = _block_scales(network, parameterisation)
    if method == "auto":
        method = "layerwise" if _layerwise_supported(network) else "autograd"
    if method == "layerwise" and not _layerwise_supported(network):
        raise SpecError("the layerwise NTK needs the normalised 'gauss' activation to be in the first "
                        "layer only (its normaliser would depend on earlier parameters); use "
                        "method='autograd'", "method")
    fn = _layerwise_blocks if method == "layerwise" else _autograd_blocks
    names = _check_blocks(network, blocks)
    terms = fn(network, params, xs, x1.shape[0])
    terms = {name: terms[name] * scales[name] if scales[name] != 1.0 else terms[name] for name in names}
    for name, t in terms.items():
        if not torch.isfinite(t).all():
            raise SpecError("the NTK contains NaN or infinite values (overflow)", name)
    if per_block:
        return terms
    return sum(terms.values())


def _check_blocks(network: Network, blocks) -> list:
    if blocks is None:
        return list(network.blocks)
    if isinstance(blocks, str):
        blocks = [blocks]
    unknown = set(blocks) - set(network.blocks)
    if unknown or not blocks:
        raise SpecError(f"unknown parameter block(s) {sorted(unknown)}; the network has "
                        f"{list(network.blocks)}", "blocks")
    return [name for name in network.blocks if name in set(blocks)]


# ====================================================================================================
# streaming moments (accumulators of symcorr.montecarlo)
# ====================================================================================================
@dataclass
class NTKMoments:
    r"""Monte Carlo estimates of :math:`E[\Theta_{ab}(x_p, x'_q)]` and
    :math:`E[\Theta_{ab}(x_p,x'_q)\Theta_{cd}(x_r,x'_s)]` with standard errors.

    ``mean``/``se``: shape ``(P, P', d, d)``.  ``second``/``second_se``: shape
    ``(P, P', d, d, P, P', d, d)`` (``None`` for ``order=1``).  ``block_mean``/``block_se``: the per-block
    contributions to the mean (their sum is ``mean``).
    """

    x: torch.Tensor
    x2: torch.Tensor
    networks: int
    parameterisation: str
    mean: torch.Tensor
    se: torch.Tensor
    block_mean: dict
    block_se: dict
    second: torch.Tensor | None = None
    second_se: torch.Tensor | None = None

    def markdown(self) -> str:
        d = self.mean.shape[-1]
        lines = [f"NTK moments from {self.networks} networks ({self.parameterisation} parameterisation)", "",
                 "| p | q | a | b | E[Theta_ab(x_p, x'_q)] | s.e. |", "|---|---|---|---|---|---|"]
        for p in range(self.mean.shape[0]):
            for q in range(self.mean.shape[1]):
                for a in range(d):
                    for b in range(d):
                        lines.append(f"| {p} | {q} | {a} | {b} | {float(self.mean[p, q, a, b]):.6g} | "
                                     f"{float(self.se[p, q, a, b]):.3g} |")
        return "\n".join(lines)


def _check_count(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(f"must be a positive integer, got {value!r}", what)
    return value


def _ensemble(network: Network, networks: int, seed: int, chunk: int, dtype, device) -> Ensemble:
    """The networks of :class:`symcorr.montecarlo.Ensemble` (same seed, same networks as its tests)."""
    return Ensemble(network, networks, seed=seed, chunk=chunk, device=device, dtype=dtype, estimator="direct")


def _moments_update(acc: MomentAccumulator, batch: torch.Tensor) -> None:
    acc.update(batch.reshape(batch.shape[0], -1))


def ntk_moments(network: Network, x, x2=None, *, networks: int, seed: int, chunk: int | None = None,
                order: int = 2, parameterisation: str = "standard", method: str = "auto",
                blocks: Sequence[str] | None = None, dtype=torch.float64, device=None) -> NTKMoments:
    """Stream ``networks`` draws of ``network`` in chunks and accumulate the NTK correlators.

    The networks are those of ``symcorr.montecarlo.Ensemble(network, networks, seed=seed)`` (independent
    of ``chunk``, which only bounds the memory); moments are merged with its ``MomentAccumulator``.
    ``order`` 1 estimates :math:`E[\\Theta]`, order 2 also :math:`E[\\Theta\\otimes\\Theta]`.
    """
    networks = _check_count(networks, "networks")
    if chunk is not None:
        _check_count(chunk, "chunk")
    if networks < 2:
        raise SpecError("standard errors need at least two networks", "networks")
    if order not in (1, 2):
        raise SpecError(f"order must be 1 or 2, got {order!r}", "order")
    network._require_concrete("the NTK moments")
    names = _check_blocks(network, blocks)
    ens = _ensemble(network, networks, seed, chunk, dtype, device)
    x1 = _check_points(network, x, dtype, ens.device, "x")
    x2t = x1 if x2 is None else _check_points(network, x2, dtype, ens.device, "x2")
    shape = (x1.shape[0], x2t.shape[0], int(network.output_dim), int(network.output_dim))
    k = math.prod(shape)
    first = MomentAccumulator(k, device=ens.device)
    second = MomentAccumulator(k * k, device=ens.device) if order == 2 else None
    block_acc = {name: MomentAccumulator(k, device=ens.device) for name in names}
    for part in ens.chunks():
        per_block = empirical_ntk(network, part.params, x1, x2t, parameterisation=parameterisation,
                                  method=method, per_block=True, blocks=names)
        theta = sum(per_block.values())
        _moments_update(first, theta)
        for name, t in per_block.items():
            _moments_update(block_acc[name], t)
        if second is not None:
            flat = theta.reshape(part.size, -1)
            step = max(1, ELEMENT_BUDGET // (k * k))
            sub = MomentAccumulator(k * k, device=ens.device)
            for s in range(0, part.size, step):
                piece = flat[s:s + step]
                sub.update((piece[:, :, None] * piece[:, None, :]).reshape(piece.shape[0], -1))
            second.merge(sub)
    out = NTKMoments(x1, x2t, networks, parameterisation, first.mean.reshape(shape), first.se.reshape(shape),
                     {n: a.mean.reshape(shape) for n, a in block_acc.items()},
                     {n: a.se.reshape(shape) for n, a in block_acc.items()})
    if second is not None:
        out.second = second.mean.reshape(shape + shape)
        out.second_se = second.se.reshape(shape + shape)
    return out


# ====================================================================================================
# paired invariance test of the NTK law
# ====================================================================================================
def _products(stat: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    r""":math:`\prod_i s_{e_i}` for every row of ``index`` (an ``(E, n)`` tensor of columns): stat
    ``(..., K)`` -> ``(..., E)``."""
    return stat[..., index].prod(-1)


@dataclass
class NTKInvarianceResult(HolmVerdict):
    r"""Outcome of :func:`ntk_invariance_test`; the NTK analogue of
    :class:`symcorr.montecarlo.InvarianceTestResult` (same statistic, same decision rule).

    For each group element :math:`g_k`, order :math:`n` and statistic :math:`s` (an entry of
    :math:`\Theta`, or a product of two entries), the per-network paired difference
    :math:`D_m = s(\text{sample}_m) - s(g_k\cdot\text{sample}_m)` is averaged over the ensemble;
    :math:`z = \bar D/\sqrt{s_D^2/M + \epsilon^2}` (with :math:`\epsilon` the floating-point floor of
    :mod:`symcorr.montecarlo.invariance`), two-sided normal p-values, Holm-adjusted over all hypotheses.
    ``verdict`` is ``"broken"`` when some adjusted p-value is :math:`\le\alpha`, else ``"invariant"``
    (no evidence of breaking at this sample size).  ``difference``/``se``/``z``/``p_holm``: dicts
    ``order -> (elements, statistics)`` tensors; ``labels``: ``order -> names of the statistics``.
    """

    group: str
    on: str
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

    def markdown(self, top: int = 10) -> str:
        lines = [self.summary(), "", "| g | n | statistic | s - g.s | s.e. | z | Holm p |",
                 "|---:|---:|---|---:|---:|---:|---:|"]
        for r in self.rows(top):
            lines.append(f"| {r['element']} | {r['order']} | {r['statistic']} | {r['difference']:.4g} | "
                         f"{r['se']:.2g} | {r['z']:.2f} | {r['p_holm']:.2g} |")
        return "\n".join(lines)

    def __str__(self):
        return self.markdown()


def _resolve_group(group, network: Network, on: str) -> Group:
    grp = resolve_group(group, network.dimension(on))
    if on == "output" and not grp.is_linear:
        raise SpecError("translations act on inputs only", "group")
    return grp


def ntk_invariance_test(network: Network, group, on: str, x, x2=None, *, networks: int, seed: int,
                        group_samples: int = 4, elements=None, orders: Sequence[int] = (1, 2),
                        alpha: float = 0.01, chunk: int | None = None, parameterisation: str = "standard",
                        method: str = "auto", blocks: Sequence[str] | None = None, dtype=torch.float64,
                        device=None) -> NTKInvarianceResult:
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
    (e.g. all but ``W0`` for Cos-net, whose translation breaking sits in the ``W0`` block).
    """
    if not isinstance(network, Network):
        raise SpecError(f"expected a Network, got {type(network).__name__}", "network")
    network._require_concrete("an NTK invariance test")
    names = _check_blocks(network, blocks)
    networks = _check_count(networks, "networks")
    if networks < 2:
        raise SpecError("standard errors need at least two networks", "networks")
    orders = tuple(sorted(set(orders)))
    if not orders or any(o not in (1, 2) for o in orders):
        raise SpecError(f"NTK orders must be 1 and/or 2, got {orders!r}", "orders")
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise SpecError(f"alpha must lie in (0, 1), got {alpha!r}", "alpha")
    grp = _resolve_group(group, network, on)
    g = group_elements(grp, group_samples, seed, elements)
    ens = _ensemble(network, networks, seed, chunk, dtype, device)
    x1 = _check_points(network, x, dtype, ens.device, "x")
    x2t = x1 if x2 is None else _check_points(network, x2, dtype, ens.device, "x2")
    g = g.to(dtype=dtype, device=ens.device)
    moved_points = ([(grp.act_on_inputs(gk, x1), grp.act_on_inputs(gk, x2t)) for gk in g]
                    if on == "input" else None)
    d = int(network.output_dim)
    entry_labels = [f"Theta_{a}{b}(x{p}, x'{q})" for p in range(x1.shape[0]) for q in range(x2t.shape[0])
                    for a in range(d) for b in range(d)]
    k_entries, k_el = len(entry_labels), g.shape[0]
    sizes = {n: math.comb(k_entries + n - 1, n) for n in orders}
    if k_el * sum(sizes.values()) > _MAX_TESTS:
        raise SpecError(f"{k_el * sum(sizes.values())} tests ({k_entries} NTK entries, orders {orders}, "
                        f"{k_el} group elements) exceed the limit of {_MAX_TESTS}; use fewer points or "
                        "order 1 only", "orders")
    index = {n: unique_entries(k_entries, n, device=ens.device) for n in orders}
    labels = {n: [" * ".join(entry_labels[i] for i in row) for row in index[n].tolist()] for n in orders}
    step = max(1, ELEMENT_BUDGET // (k_el * max(sizes.values()) * max(orders)))
    diff = {n: MomentAccumulator(k_el * index[n].shape[0], device=ens.device) for n in orders}
    scale = {n: torch.zeros(k_el, index[n].shape[0], dtype=torch.float64, device=ens.device) for n in orders}
    kw = dict(parameterisation=parameterisation, method=method, blocks=names)
    for part in ens.chunks():
        theta = empirical_ntk(network, part.params, x1, x2t, **kw)
        moved = []
        for kk in range(k_el):
            if on == "output":
                moved.append(torch.einsum("ac,mpqcd,bd->mpqab", g[kk], theta, g[kk]))
            else:
                moved.append(empirical_ntk(network, part.params, *moved_points[kk], **kw))
        base_all = theta.reshape(part.size, 1, -1).to(torch.float64)
        moved_all = torch.stack(moved, 1).reshape(part.size, k_el, -1).to(torch.float64)
        for s0 in range(0, part.size, step):  # bounded memory: at most ELEMENT_BUDGET products at once
            base, moved_t = base_all[s0:s0 + step], moved_all[s0:s0 + step]
            for n in orders:
                a, b = _products(base, index[n]), _products(moved_t, index[n])
                diff[n].update((a - b).reshape(a.shape[0], -1))
                scale[n] += (a * a + b * b).sum(0)
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


# ====================================================================================================
# expectation at initialisation: closed forms
# ====================================================================================================
def _pair_symbolic(act: Activation, k11, k12, k22, phase: bool, var_w=None, dist2=None):
    r"""SymPy :math:`(E[\phi(z)\phi(z')], E[\dot\phi(z)\dot\phi(z')])` for a centred Gaussian pair with
    covariance ``[[k11, k12], [k12, k22]]`` (or, for ``phase=True``, Cos-net with uniform phase, where
    only the squared distance ``dist2`` of the weight part matters)."""
    name = act.name
    if phase:
        if name != "cos":
            raise SpecError("with a uniform-phase hidden bias a closed form exists for the cos activation "
                            f"only, not {name!r}; use ntk_moments (Monte Carlo)", "layers[0].bias")
        e = sp.exp(-dist2 / 2) / 2
        return e, e
    if name == "relu":
        cos_t = k12 / sp.sqrt(k11 * k22)
        t = sp.acos(cos_t)
        return (sp.sqrt(k11 * k22) / (2 * sp.pi) * (sp.sin(t) + (sp.pi - t) * cos_t),
                (sp.pi - t) / (2 * sp.pi))
    if name == "erf":
        return (2 / sp.pi * sp.asin(2 * k12 / sp.sqrt((1 + 2 * k11) * (1 + 2 * k22))),
                4 / (sp.pi * sp.sqrt((1 + 2 * k11) * (1 + 2 * k22) - 4 * k12 ** 2)))
    if name == "gauss":
        e = sp.exp(k12 - (k11 + k22) / 2)
        return e, e
    if name == "cos":
        minus, plus = sp.exp(-(k11 + k22 - 2 * k12) / 2), sp.exp(-(k11 + k22 + 2 * k12) / 2)
        return (minus + plus) / 2, (minus - plus) / 2
    if name == "identity":
        return k12, sp.Integer(1)
    # no rule: the Gaussian integral itself
    u, v = sp.Symbol("u", real=True), sp.Symbol("v", real=True)
    det = k11 * k22 - k12 ** 2
    pdf = sp.exp(-(k22 * u ** 2 - 2 * k12 * u * v + k11 * v ** 2) / (2 * det)) / (2 * sp.pi * sp.sqrt(det))
    lim = ((u, -sp.oo, sp.oo), (v, -sp.oo, sp.oo))
    return (sp.Integral(act.sympy(u) * act.sympy(v) * pdf, *lim),
            sp.Integral(act.derivative(u) * act.derivative(v) * pdf, *lim))


_GH_NODES = 80


def gaussian_pair_expectations(act: Activation, k11: torch.Tensor, k12: torch.Tensor, k22: torch.Tensor,
                               *, phase: bool = False, dist2: torch.Tensor | None = None):
    r"""Numeric :math:`(E[\phi(z)\phi(z')], E[\dot\phi(z)\dot\phi(z')])` for centred Gaussian
    :math:`(z, z')` with covariance ``[[k11, k12], [k12, k22]]`` (tensors of one shape), by the closed
    forms of the module docstring or, for other activations, by ``80 x 80``-node Gauss-Hermite
    quadrature.  ``phase=True``: Cos-net with uniform phase (uses ``dist2``)."""
    name = act.name
    if phase:
        if name != "cos":
            raise SpecError(f"uniform-phase closed form only for cos, not {name!r}")
        e = 0.5 * torch.exp(-dist2 / 2)
        return e, e
    if name == "relu":
        norm = torch.sqrt(k11 * k22)
        cos_t = (k12 / norm).clamp(-1.0, 1.0)
        t = torch.arccos(cos_t)
        return norm / (2 * math.pi) * (torch.sin(t) + (math.pi - t) * cos_t), (math.pi - t) / (2 * math.pi)
    if name == "erf":
        a, b = 1 + 2 * k11, 1 + 2 * k22
        return (2 / math.pi * torch.asin((2 * k12 / torch.sqrt(a * b)).clamp(-1.0, 1.0)),
                4 / (math.pi * torch.sqrt(a * b - 4 * k12 ** 2)))
    if name == "gauss":
        e = torch.exp(k12 - (k11 + k22) / 2)
        return e, e
    if name == "cos":
        minus, plus = torch.exp(-(k11 + k22 - 2 * k12) / 2), torch.exp(-(k11 + k22 + 2 * k12) / 2)
        return (minus + plus) / 2, (minus - plus) / 2
    if name == "identity":
        return k12.clone(), torch.ones_like(k12)
    nodes, weights = np.polynomial.hermite_e.hermegauss(_GH_NODES)
    s = torch.tensor(nodes, dtype=torch.float64)
    w = torch.tensor(weights / math.sqrt(2 * math.pi), dtype=torch.float64)
    l11 = torch.sqrt(k11)
    l21 = torch.where(l11 > 0, k12 / l11.clamp_min(1e-300), torch.zeros_like(k12))
    l22 = torch.sqrt((k22 - l21 ** 2).clamp_min(0.0))
    z1 = l11[..., None, None] * s[:, None]
    z2 = l21[..., None, None] * s[:, None] + l22[..., None, None] * s[None, :]
    ww = w[:, None] * w[None, :]
    f1, f2 = act.torch(z1).expand_as(z2), act.torch(z2)
    g1, g2 = _activation_derivative(act, z1, None).expand_as(z2), _activation_derivative(act, z2, None)
    return (f1 * f2 * ww).sum((-1, -2)), (g1 * g2 * ww).sum((-1, -2))


@dataclass
class _SingleLayerLaws:
    """What the closed form needs from a single-hidden-layer network."""

    activation: Activation
    width: object  # int or SymPy symbol
    var_w0: sp.Expr
    col_cov: sp.Matrix | None
    var_b0: sp.Expr | None  # None: no hidden bias
    phase: bool  # uniform-phase hidden bias (Cos-net)
    readout_second: sp.Matrix  # S_ab = E sum_j W1_aj W1_bj
    has_b1: bool
    var_w1: sp.Expr
    out_dim: int
    in_dim: int


def _single_layer_laws(network: Network) -> _SingleLayerLaws:
    if not isinstance(network, Network):
        raise SpecError(f"expected a Network, got {type(network).__name__}", "network")
    if network.depth != 2:
        raise SpecError(f"the closed-form NTK expectation covers single-hidden-layer networks (depth 2), "
                        f"this one has depth {network.depth}; use ntk_moments (Monte Carlo)", "layers")
    hidden, readout = network.layers
    if readout.activation.name != "identity":
        raise SpecError("the read-out layer must be linear (identity activation)", "layers[1].activation")
    if not isinstance(network.output_dim, int) or not isinstance(network.input_dim, int):
        raise SpecError("the closed form needs concrete input and output dimensions", "network")
    n = hidden.width
    w0 = network.weight(0).law
    if not (isinstance(w0, Normal) and w0.cov is None and w0.row_cov is None
            and not isinstance(w0.loc, sp.MatrixBase) and sp.sympify(w0.loc).is_zero):
        raise SpecError("the closed form needs W0 ~ Normal(0, v) (iid rows; a col_cov is allowed); use "
                        "ntk_moments (Monte Carlo) for other laws", "layers[0].weight")
    b0 = network.bias(0)
    phase = False
    var_b0 = None
    if b0 is not None:
        law = b0.law
        if getattr(law, "is_periodic", False):
            phase = True
            var_b0 = sp.pi ** 2 / 3
        elif isinstance(law, Normal) and law.is_iid and sp.sympify(law.loc).is_zero:
            var_b0 = law.var
        else:
            raise SpecError("the closed form needs the hidden bias to be Normal(0, v), a uniform phase "
                            "(with cos) or absent", "layers[0].bias")
    if phase and hidden.activation.normalised:
        raise SpecError("no closed form for a gauss layer with a uniform-phase bias", "layers[0].bias")
    w1 = network.weight(1)
    law1 = w1.law
    d = network.output_dim
    if isinstance(law1, Normal):
        mean = law1.block_mean(w1.shape)
        u = law1.row_cov if law1.row_cov is not None else sp.eye(d)
        if law1.cov is not None:
            raise SpecError("unexpected vector covariance on a weight block", "layers[1].weight")
        if law1.col_cov is not None:
            if not isinstance(n, int):
                raise SpecError("a col_cov on W1 needs a concrete width", "layers[1].weight")
            trace_v = sp.trace(law1.col_cov)
        else:
            trace_v = n
        var1 = law1.var
        second = var1 * trace_v * sp.Matrix(u)
        if isinstance(mean, sp.MatrixBase):
            rows_constant = all(mean[a, j] == mean[a, 0] for a in range(d) for j in range(mean.cols))
            if rows_constant:
                mu = [mean[a, 0] for a in range(d)]
                second = second + n * sp.Matrix(d, d, lambda a, b: mu[a] * mu[b])
            else:
                second = second + sp.Matrix(mean) * sp.Matrix(mean).T
        else:
            second = second + n * mean ** 2 * sp.ones(d, d)
    else:
        var1 = law1.variance
        mu = law1.mean
        second = n * var1 * sp.eye(d) + n * mu ** 2 * sp.ones(d, d)
    return _SingleLayerLaws(hidden.activation, n, w0.var, w0.col_cov, var_b0, phase, second,
                            network.bias(1) is not None, var1, d, network.input_dim)


class NTKExpectation:
    r"""Exact :math:`E[\Theta_{ab}(x, x')]` at initialisation for a single-hidden-layer network.

    ``blocks(x, x2, a, b)``: dict block -> SymPy expression; ``expr(x, x2, a, b)``: their sum (closed
    form where a rule applies, otherwise an unevaluated ``Integral``); ``evaluate(x, x2)``: float64 tensor
    ``(P, P', d, d)`` (same formulas in torch, quadrature for integrals); ``latex()``/``markdown()``:
    the formula in terms of :math:`x\cdot x'`, :math:`|x|^2`, :math:`|x'|^2`.

    In the ``"ntk"`` parameterisation the result does not depend on the width ``N`` (only through the
    read-out mean, if any): it is the infinite-width NTK, on which each network's NTK concentrates with
    fluctuations :math:`O(N^{-1/2})`.  In the ``"standard"`` one the :math:`W^1` term is :math:`N` times
    larger, :math:`N E[\phi\phi']` (paper section 3.7).
    """

    def __init__(self, network: Network, parameterisation: str = "standard"):
        if parameterisation not in _PARAMETERISATIONS:
            raise SpecError(f"unknown parameterisation {parameterisation!r}; use 'standard' or 'ntk'",
                            "parameterisation")
        self.network = network
        self.parameterisation = parameterisation
        self.laws = _single_layer_laws(network)
        if parameterisation == "ntk":
            for name, block in network.blocks.items():  # as empirical_ntk: one scale per block
                law = block.law
                if isinstance(law, Normal) and not law.is_iid and (law.cov is not None or law.row_cov is not None
                                                                   or law.col_cov is not None):
                    raise SpecError("the NTK parameterisation rescales each block by one standard "
                                    "deviation; this block has a structured covariance", name)

    # --- symbolic ------------------------------------------------------------------------------------
    def _scales(self) -> dict:
        laws = self.laws
        if self.parameterisation == "standard":
            return {"W0": 1, "b0": 1, "W1": 1, "b1": 1}
        b1 = self.network.bias(1)
        var_b1 = 1
        if b1 is not None:
            law = b1.law
            var_b1 = law.var if isinstance(law, Normal) and law.is_iid else law.variance
        return {"W0": laws.var_w0, "b0": laws.var_b0 if laws.var_b0 is not None else 1,
                "W1": laws.var_w1, "b1": var_b1}

    def _terms(self, q11, q12, q22, dist2, a: int, b: int, dot=None) -> dict:
        """Blocks from the V-inner products ``q`` (for the law of z) and the Euclidean ``dot`` = x.x'
        (from the W0 gradient; equal to ``q12`` when W0 has iid entries)."""
        dot = q12 if dot is None else dot
        laws = self.laws
        k11, k12, k22 = laws.var_w0 * q11, laws.var_w0 * q12, laws.var_w0 * q22
        if laws.var_b0 is not None and not laws.phase:
            k11, k12, k22 = k11 + laws.var_b0, k12 + laws.var_b0, k22 + laws.var_b0
        e_ff, e_dd = _pair_symbolic(laws.activation, k11, k12, k22, laws.phase, dist2=laws.var_w0 * dist2)
        delta = sp.Integer(1 if a == b else 0)
        s_ab = laws.readout_second[a, b]
        sc = self._scales()
        terms = {"W0": sc["W0"] * s_ab * dot * e_dd}
        if laws.var_b0 is not None:
            terms["b0"] = sc["b0"] * s_ab * e_dd
        terms["W1"] = sc["W1"] * delta * laws.width * e_ff
        if laws.has_b1:
            terms["b1"] = sc["b1"] * delta
        return terms

    def _check_index(self, a, b):
        d = self.laws.out_dim
        for name, v in (("a", a), ("b", b)):
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < d:
                raise SpecError(f"output index must be an integer in [0, {d}), got {v!r}", name)

    def _inner(self, x, x2):
        d_in = self.laws.in_dim
        v = sp.Matrix(self.laws.col_cov) if self.laws.col_cov is not None else sp.eye(d_in)
        cols = []
        for name, pt in (("x", x), ("x2", x2)):
            m = sp.Matrix(pt) if not isinstance(pt, sp.MatrixBase) else sp.Matrix(pt)
            if len(m) != d_in:
                raise SpecError(f"a point must have {d_in} entries, got {len(m)}", name)
            cols.append(m.reshape(d_in, 1))
        p, q = cols
        diff = p - q
        return ((p.T * v * p)[0, 0], (p.T * v * q)[0, 0], (q.T * v * q)[0, 0], (diff.T * v * diff)[0, 0],
                (p.T * q)[0, 0])

    def blocks(self, x, x2=None, a: int = 0, b: int = 0) -> dict:
        """Per-block contributions ``{"W0": ..., "b0": ..., "W1": ..., "b1": ...}`` (SymPy)."""
        self._check_index(a, b)
        q11, q12, q22, dist2, dot = self._inner(x, x if x2 is None else x2)
        return self._terms(q11, q12, q22, dist2, a, b, dot)

    def expr(self, x, x2=None, a: int = 0, b: int = 0) -> sp.Expr:
        r""":math:`E[\Theta_{ab}(x, x')]` as one SymPy expression."""
        return sp.Add(*self.blocks(x, x2, a, b).values())

    def _generic(self, a: int, b: int) -> sp.Expr:
        v_note = self.laws.col_cov is not None
        q11 = sp.Symbol(r"x^T V x" if v_note else r"|x|^2", positive=True)
        q22 = sp.Symbol(r"x'^T V x'" if v_note else r"|x'|^2", positive=True)
        q12 = sp.Symbol(r"x^T V x'" if v_note else r"x \cdot x'", real=True)
        dist2 = sp.Symbol(r"|x - x'|_V^2" if v_note else r"|x - x'|^2", nonnegative=True)
        dot = sp.Symbol(r"x \cdot x'", real=True) if v_note else None
        return sp.Add(*self._terms(q11, q12, q22, dist2, a, b, dot).values())

    def latex(self) -> str:
        lines = [rf"\mathbb{{E}}[\Theta_{{00}}(x,x')] = {sp.latex(self._generic(0, 0))}"]
        if self.laws.out_dim > 1:
            lines.append(rf"\mathbb{{E}}[\Theta_{{01}}(x,x')] = {sp.latex(self._generic(0, 1))}")
        return r" \\ ".join(lines)

    def markdown(self) -> str:
        lines = [f"Expected NTK at initialisation ({self.parameterisation} parameterisation) of", "",
                 self.network.markdown(), "", "$$" + self.latex().replace(r" \\ ", "$$\n\n$$") + "$$"]
        return "\n".join(lines)

    def _repr_latex_(self):
        return f"${self.latex()}$"

    # --- numeric -------------------------------------------------------------------------------------
    def evaluate(self, x, x2=None, per_block: bool = False):
        r"""Float64 tensor :math:`E[\Theta_{ab}(x_p, x'_q)]` of shape ``(P, P', d, d)`` (with
        ``per_block`` a dict block -> tensor, summing to it)."""
        laws = self.laws
        net = self.network
        for s in (laws.width,):
            if not isinstance(s, int):
                raise SpecError(f"numeric evaluation needs a concrete width, got {s}; use network.subs")
        x1 = _check_points(net, x, torch.float64, None, "x")
        x2t = x1 if x2 is None else _check_points(net, x2, torch.float64, None, "x2")
        v = (torch.tensor([[numeric_value(e, "col_cov") for e in laws.col_cov.row(i)]
                           for i in range(laws.col_cov.rows)], dtype=torch.float64)
             if laws.col_cov is not None else torch.eye(laws.in_dim, dtype=torch.float64))
        q11 = torch.einsum("pi,ij,pj->p", x1, v, x1)[:, None]
        q22 = torch.einsum("qi,ij,qj->q", x2t, v, x2t)[None, :]
        q12 = x1 @ v @ x2t.T
        dist2 = q11 + q22 - 2 * q12
        vw = numeric_value(laws.var_w0, "W0.var")
        k11, k12, k22 = vw * q11 + 0 * q12, vw * q12, vw * q22 + 0 * q12
        if laws.var_b0 is not None and not laws.phase:
            vb = numeric_value(laws.var_b0, "b0.var")
            k11, k12, k22 = k11 + vb, k12 + vb, k22 + vb
        e_ff, e_dd = gaussian_pair_expectations(laws.activation, k11, k12, k22, phase=laws.phase,
                                                dist2=vw * dist2)
        d = laws.out_dim
        s_ab = torch.tensor([[numeric_value(laws.readout_second[a, b], "W1") for b in range(d)]
                             for a in range(d)], dtype=torch.float64)
        sc = {k: numeric_value(sp.sympify(v_), k) for k, v_ in self._scales().items()}
        eye = torch.eye(d, dtype=torch.float64)
        out = {"W0": sc["W0"] * ((x1 @ x2t.T) * e_dd)[..., None, None] * s_ab}
        if laws.var_b0 is not None:
            out["b0"] = sc["b0"] * e_dd[..., None, None] * s_ab
        out["W1"] = sc["W1"] * laws.width * e_ff[..., None, None] * eye
        if laws.has_b1:
            out["b1"] = sc["b1"] * eye.expand_as(out["W1"]).clone()
        return out if per_block else sum(out.values())


def ntk_expectation(network: Network, parameterisation: str = "standard") -> NTKExpectation:
    r"""The exact expected NTK at initialisation of a single-hidden-layer network
    (:class:`NTKExpectation`; formula in the module docstring)."""
    return NTKExpectation(network, parameterisation)
