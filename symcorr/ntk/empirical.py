r"""The empirical neural tangent kernel of every network of an ensemble, per parameter block.

For one network :math:`f_\theta: R^{d_{in}} \to R^{d_{out}}` the empirical NTK is

.. math:: \Theta_{ab}(x, x'; \theta) = \sum_p \partial_p f_a(x;\theta)\, \partial_p f_b(x';\theta),

a sum over every parameter :math:`p` (every entry of every block ``W0, b0, W1, ...``).  It is itself
a random variable of :math:`\theta \sim P(\theta)`, so it has correlators
:math:`E[\Theta]`, :math:`E[\Theta\otimes\Theta]`, ... which are parameter-space integrals just like the
network's own correlators (paper section 5; :mod:`symcorr.ntk.moments`, :mod:`symcorr.ntk.expectation`).

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
by :math:`s_B^2 = \mathrm{Var}(B_{ij})` (:func:`block_scales`) and gives the width-independent kernel
whose :math:`N\to\infty` limit is the classic infinite-width NTK.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

from ..activations import Activation
from ..distributions import Normal, numeric_value
from ..errors import SpecError
from ..montecarlo.models import TorchModel
from ..spec import Network
from ..verdicts import Parameterisation, parse_choice

__all__ = ["empirical_ntk", "block_scales", "check_blocks", "check_parameterisation", "check_points",
           "activation_derivative", "Parameterisation", "PARAMETERISATIONS", "METHODS"]


#: the parameterisations of the kernel (see the module docstring)
PARAMETERISATIONS = tuple(p.value for p in Parameterisation)
#: how the kernel is computed
METHODS = ("auto", "layerwise", "autograd")


def check_parameterisation(parameterisation) -> Parameterisation:
    """``parameterisation`` as a :class:`Parameterisation` member; a SpecError naming the field otherwise."""
    return parse_choice(Parameterisation, parameterisation, "parameterisation")


def check_points(network: Network | TorchModel, x, dtype, device, what: str) -> torch.Tensor:
    """``x`` as a ``(P, d_in)`` tensor of ``dtype`` on ``device``; a SpecError naming ``what`` otherwise."""
    try:
        return network._as_inputs(x, dtype, device)
    except SpecError as err:
        raise SpecError(err.reason, what) from None


def activation_derivative(act: Activation, z: torch.Tensor, log_norm: torch.Tensor | None) -> torch.Tensor:
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
        derivs.append(activation_derivative(layer.activation, z, log_norm))
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


def block_scales(network: Network, parameterisation: str) -> dict:
    """Factor per block: 1 (standard) or the entry variance (NTK parameterisation)."""
    parameterisation = check_parameterisation(parameterisation)
    scales = {}
    for name, block in network.blocks.items():
        if parameterisation is Parameterisation.STANDARD:
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
    if method not in METHODS:
        raise SpecError(f"unknown method {method!r}; use one of {', '.join(METHODS)}", "method")
    n = network.check_parameters(params)
    del n
    first = params["W0"]
    x1 = check_points(network, x, first.dtype, first.device, "x")
    x2 = x1 if x2 is None else check_points(network, x2, first.dtype, first.device, "x2")
    xs = torch.cat([x1, x2], 0)
    scales = block_scales(network, parameterisation)
    if method == "auto":
        method = "layerwise" if _layerwise_supported(network) else "autograd"
    if method == "layerwise" and not _layerwise_supported(network):
        raise SpecError("the layerwise NTK needs the normalised 'gauss' activation to be in the first "
                        "layer only (its normaliser would depend on earlier parameters); use "
                        "method='autograd'", "method")
    fn = _layerwise_blocks if method == "layerwise" else _autograd_blocks
    names = check_blocks(network, blocks)
    terms = fn(network, params, xs, x1.shape[0])
    terms = {name: terms[name] * scales[name] if scales[name] != 1.0 else terms[name] for name in names}
    for name, t in terms.items():
        if not torch.isfinite(t).all():
            raise SpecError("the NTK contains NaN or infinite values (overflow)", name)
    if per_block:
        return terms
    return sum(terms.values())


def check_blocks(network: Network | TorchModel, blocks) -> list:
    """The parameter blocks to sum over, in network order (all when ``blocks`` is None); a SpecError
    naming ``blocks`` for unknown or empty selections."""
    if blocks is None:
        return list(network.blocks)
    if isinstance(blocks, str):
        blocks = [blocks]
    unknown = set(blocks) - set(network.blocks)
    if unknown or not blocks:
        raise SpecError(f"unknown parameter block(s) {sorted(unknown)}; the network has "
                        f"{list(network.blocks)}", "blocks")
    return [name for name in network.blocks if name in set(blocks)]
