r"""The Fashion-MNIST model: its initial law (drawn through the spec), targets, prediction, forward pass.

Model ("ReLUNet"): :math:`f(x) = W^1\,\mathrm{relu}(W^0 x)`, :math:`x\in\mathbb R^{784}`,
:math:`W^0\in\mathbb R^{50\times784}`, :math:`W^1\in\mathbb R^{10\times50}`, no biases.

Initial law.  The unshifted law is a :class:`~symcorr.spec.Network` spec, :func:`paper_network`
(``zoo.relu_net(784, 50, 10)`` without biases; ``derivations/fashion_mnist.toml`` describes the same
law, checked in the tests); the experiment shifts the mean of the first k rows of the read-out::

    W0[i, j] ~ N(0, 1/784)                          iid
    W1[a, i] ~ N(mu * 1[a < k], 1/50)               iid; rows a = 0..k-1 get mean mu

Every draw goes through the spec's own sampling (:meth:`symcorr.spec.Network.sample`; the shift is
the Normal law's location, see :func:`spec_init_sampler`): :func:`spec_init_sampler` turns a spec
into an :data:`InitSampler`, and :func:`init_weights` is that sampler for :func:`paper_network`.
(The original code draws all of W1 from N(0, 1/50) and then redraws the first k rows from
N(mu, 1/50); that is the same law.)

Targets (one-hot "hot": t = e_c; one-cold "cold": t = 1 - e_c) and prediction: argmax_a f_a(x) for
"hot", argmin_a f_a(x) for "cold".

The forward pass of M models at once (:func:`forward`, :func:`evaluate`): the first layer of all M
models is one matrix product ``W0_all (M*50, 784) @ x^T (784, B)``; it goes through oneDNN
(``torch.ops.mkldnn._linear_pointwise``, exact float32, with the relu fused) when that operator is
available and correct, which on the AVX-512 machines measured here is about twice as fast as
``torch.mm``; otherwise through ``torch.mm``.  The 10x50 second layer is a batched product
(``torch.bmm``) over models.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ...distributions import Normal
from ...errors import SpecError
from ...spec import Network
from ...zoo import relu_net

__all__ = ["N_IN", "WIDTH", "N_OUT", "PAPER_MUS", "PAPER_KS", "TARGETS", "InitSampler", "paper_network",
           "init_weights", "spec_init_sampler", "make_targets", "predict", "forward", "evaluate"]

N_IN, WIDTH, N_OUT = 784, 50, 10
#: the paper's grid: mu in 0.00, 0.01, ..., 0.20 and k in 0, 2, ..., 10
PAPER_MUS = tuple(round(0.01 * i, 2) for i in range(21))
PAPER_KS = (0, 2, 4, 6, 8, 10)
TARGETS = ("hot", "cold")

#: An initial-weight sampler: ``(M, mus, ks, generators) -> (W0 (M, width, n_in), W1 (M, n_out, width))``.
InitSampler = Callable[[int, Sequence[float], Sequence[int], Any], "tuple[torch.Tensor, torch.Tensor]"]


# ---------------------------------------------------------------------------------------------------
# The initial law, sampled through the spec
# ---------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def paper_network(n_in: int = N_IN, width: int = WIDTH, n_out: int = N_OUT) -> Network:
    """The experiment's unshifted initial law as a spec: ``n_in -> width (relu) -> n_out``, no biases,
    ``W0 ~ N(0, 1/n_in)``, ``W1 ~ N(0, 1/width)`` (:func:`symcorr.zoo.relu_net`)."""
    return relu_net(n_in, width, n_out, sigma_b0=None, sigma_b1=None)


def _check_grid(M, mus, ks, n_rows: int):
    """Validated ``(mus, ks)`` as length-M arrays (scalars are shared by all models)."""
    if isinstance(M, bool) or not isinstance(M, (int, np.integer)) or M < 1:
        raise SpecError(f"number of models must be a positive integer, got {M!r}", "M")
    M = int(M)
    mus_a = np.full(M, mus, dtype=np.float64) if np.ndim(mus) == 0 else np.asarray(mus, dtype=np.float64)
    ks_a = np.full(M, ks) if np.ndim(ks) == 0 else np.asarray(ks)
    if mus_a.shape != (M,):
        raise SpecError(f"expected {M} values, got shape {mus_a.shape}", "mus")
    if ks_a.shape != (M,):
        raise SpecError(f"expected {M} values, got shape {ks_a.shape}", "ks")
    if not np.all(np.isfinite(mus_a)):
        raise SpecError("mu must be finite", "mus")
    if ks_a.dtype.kind not in "iu" or np.any(ks_a < 0) or np.any(ks_a > n_rows):
        raise SpecError(f"k must be integers in 0..{n_rows}, got {ks_a.tolist()}", "ks")
    return M, mus_a, ks_a


def _shifted_sampler(network: Network, layer: int) -> InitSampler:
    r"""The sampler of ``network`` with rows ``0..k-1`` of layer ``layer``'s weight given mean ``mu``
    (that weight's variance and row/column covariances kept); see :func:`spec_init_sampler`.

    A Normal law is a location family, :math:`N(M, \Sigma) = M + N(0, \Sigma)`: the draw is
    ``Network.sample`` of the spec with that weight's mean set to 0 (the spec's variance and
    covariances, and every other block's law, exactly as the spec samples them), plus the experiment's
    mean :math:`M_m = \mu_m u_m 1^T`.  This is bit for bit ``Network.sample`` of the spec whose weight
    law is :math:`N(M_m, \Sigma)` (checked in the tests), without re-evaluating the symbolic
    mean matrix for every model.
    """
    block = network.weight(layer)
    law = block.law
    if not isinstance(law, Normal):
        raise SpecError("the shifted layer must have a Normal weight law", f"layers[{layer}].weight")
    n_rows = int(block.shape[0])
    centred = network.replace_layer(layer, weight=Normal(0, law.var, row_cov=law.row_cov,
                                                         col_cov=law.col_cov))
    first, last = network.weight(0).name, network.weight(network.depth - 1).name

    def sampler(M, mus, ks, generators, dtype: torch.dtype = torch.float32):
        M, mus_a, ks_a = _check_grid(M, mus, ks, n_rows)
        if isinstance(generators, torch.Generator):
            params = centred.sample(M, generator=generators, dtype=dtype)
        else:
            gens = list(generators)
            if len(gens) != M:
                raise SpecError(f"expected one generator per model ({M}), got {len(gens)}", "generator")
            params = {name: torch.empty(M, *(int(s) for s in b.shape), dtype=dtype)
                      for name, b in centred.blocks.items()}
            for m, g in enumerate(gens):      # initialisation only; training has no loop over models
                for name, t in centred.sample(1, generator=g, dtype=dtype).items():
                    params[name][m] = t[0]
        rows = torch.arange(n_rows)[None, :] < torch.as_tensor(ks_a, dtype=torch.int64)[:, None]  # (M, rows)
        mean = torch.as_tensor(mus_a, dtype=torch.float64)[:, None] * rows                     # M_m, per row
        params[block.name].add_(mean.to(dtype)[:, :, None])
        return params[first], params[last]

    return sampler


@functools.lru_cache(maxsize=8)
def _paper_sampler(n_in: int, width: int, n_out: int) -> InitSampler:
    network = paper_network(n_in, width, n_out)
    return _shifted_sampler(network, network.depth - 1)          # the read-out's rows are shifted


def init_weights(M: int, mus, ks, generator, *, n_in: int = N_IN, width: int = WIDTH,
                 n_out: int = N_OUT, dtype: torch.dtype = torch.float32):
    r"""Draw M independent initialisations of the paper's ReLUNet: :func:`spec_init_sampler` of
    :func:`paper_network`.

    For model m with parameters ``(mus[m], ks[m])``::

        W0[m] ~ N(0, 1/n_in)   iid entries, shape (width, n_in)
        W1[m] = Z + mus[m] * u_m 1^T,   Z ~ N(0, 1/width) iid, shape (n_out, width),
                u_m = (1, ..., 1, 0, ..., 0)  (ks[m] ones)

    i.e. the first ``ks[m]`` output rows of W1 have mean ``mus[m]``, all other entries mean 0, and every
    entry of W1 has variance 1/width.  ``mus``/``ks``: scalars (shared) or length-M sequences;
    ``generator``: see :func:`spec_init_sampler`.  Returns ``(W0, W1)`` of shapes
    ``(M, width, n_in)`` and ``(M, n_out, width)``.
    """
    for name, v in (("n_in", n_in), ("width", width), ("n_out", n_out)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise SpecError(f"must be a positive integer, got {v!r}", name)
    return _paper_sampler(int(n_in), int(width), int(n_out))(M, mus, ks, generator, dtype=dtype)


def spec_init_sampler(network, shifted_layer: int = -1) -> InitSampler:
    r"""An :data:`InitSampler` that draws from a :class:`~symcorr.spec.Network` spec (e.g.
    ``derivations/fashion_mnist.toml``), so the experiment and the symbolic side read one description.

    For model ``m`` the weight of layer ``shifted_layer`` gets the per-row mean
    :math:`\mu_m (1,\dots,1,0,\dots,0)` (``k_m`` ones) with the spec's variance (and row/column
    covariances); every other law is the spec's.  Each draw is ``Network.sample`` of the spec (with that
    weight centred) plus the mean shift, which is exactly ``Network.sample`` of the shifted spec.
    The spec must be the paper's architecture: ``784 -> 50 (relu) -> 10``, no biases, Normal laws.

    The sampler is called as ``sampler(M, mus, ks, generators)`` (``dtype=torch.float32`` by default).
    ``generators``: a sequence of M ``torch.Generator`` (model m draws all its blocks, in the spec's
    order, from ``generators[m]``, so a model's initialisation does not depend on which other models are
    drawn with it; :func:`~symcorr.experiments.fashion_mnist.run_sweep` uses this), or one generator
    (one ``Network.sample`` of M networks: each block for all M models, block after block).
    """
    if not isinstance(network, Network):
        raise SpecError(f"expected a Network, got {type(network).__name__}", "network")
    dims = (network.input_dim, *network.widths)
    acts = [layer.activation.name for layer in network.layers]
    if dims != (N_IN, WIDTH, N_OUT) or acts != ["relu", "identity"]:
        raise SpecError(f"the Fashion-MNIST experiment trains 784 -> 50 (relu) -> 10 networks; the spec has "
                        f"sizes {dims} and activations {acts}", "network")
    if any(b.role == "bias" for b in network.blocks.values()):
        raise SpecError("the Fashion-MNIST experiment's networks have no biases; remove them from the spec",
                        "network")
    return _shifted_sampler(network, shifted_layer % network.depth)


# ---------------------------------------------------------------------------------------------------
# Targets, prediction, forward pass
# ---------------------------------------------------------------------------------------------------

def check_target(target: str) -> str:
    """``target`` if it is ``"hot"`` or ``"cold"``, else a SpecError naming ``targets``."""
    if target not in TARGETS:
        raise SpecError(f"must be 'hot' (one-hot) or 'cold' (one-cold), got {target!r}", "targets")
    return target


def make_targets(labels, target: str = "hot", n_out: int = N_OUT) -> torch.Tensor:
    """Float32 targets ``(n, n_out)``: one-hot ``e_c`` ("hot") or one-cold ``1 - e_c`` ("cold")."""
    check_target(target)
    y = torch.as_tensor(np.asarray(labels), dtype=torch.int64)
    t = torch.nn.functional.one_hot(y, n_out).to(torch.float32)
    return 1.0 - t if target == "cold" else t


def predict(outputs: torch.Tensor, target: str = "hot", dim: int = -1) -> torch.Tensor:
    """Predicted class: ``argmax`` of the outputs for one-hot targets, ``argmin`` for one-cold."""
    check_target(target)
    return outputs.argmax(dim) if target == "hot" else outputs.argmin(dim)


_ONEDNN_NT = None       # cached: the oneDNN op, or False


def onednn_op():
    """oneDNN's ``linear_pointwise`` operator (``a (p, K), b (q, K) -> a @ b.T``, optionally with a
    fused relu) if this torch build has it and it computes a known product correctly; else ``False``
    (cached).  Only "the operator is missing" (AttributeError) and "it cannot run here" (RuntimeError,
    e.g. an unsupported CPU or a changed signature) mean falling back to ``torch.mm``; any other error
    surfaces."""
    global _ONEDNN_NT
    if _ONEDNN_NT is None:
        _ONEDNN_NT = False
        try:
            op = torch.ops.mkldnn._linear_pointwise
            g = torch.Generator().manual_seed(0)
            a, b = torch.randn(7, 33, generator=g), torch.randn(5, 33, generator=g)
            r = op(a, b, None, "none", [], "")
        except (AttributeError, RuntimeError):     # operator missing in this build, or unsupported CPU
            return _ONEDNN_NT
        if r.shape == (7, 5) and torch.allclose(r, a @ b.t(), rtol=1e-5, atol=1e-5):
            _ONEDNN_NT = op
    return _ONEDNN_NT


def gemm_nt(gemm: str):
    """A function ``(a (p, K), b (q, K), relu=False) -> a @ b.T`` (or ``relu(a @ b.T)``), contiguous
    float32 inputs: oneDNN's (``"onednn"``, or ``"auto"`` when available) or ``torch.mm`` (``"torch"``)."""
    if gemm not in ("auto", "onednn", "torch"):
        raise SpecError(f"must be 'auto', 'onednn' or 'torch', got {gemm!r}", "gemm")
    op = onednn_op() if gemm != "torch" else False
    if gemm == "onednn" and not op:
        raise SpecError("oneDNN's linear operator is not available in this torch build; use 'auto'",
                        "gemm")
    if op:
        return lambda a, b, relu=False: op(a, b, None, "relu" if relu else "none", [], "")
    return lambda a, b, relu=False: torch.mm(a, b.t()).clamp_min_(0) if relu else torch.mm(a, b.t())


def forward(W0: torch.Tensor, W1: torch.Tensor, x: torch.Tensor, *, gemm: str = "auto") -> torch.Tensor:
    """Outputs of all M models on inputs ``x`` (n, n_in): a tensor ``(M, n, n_out)``."""
    M, width, _ = W0.shape
    mm = gemm_nt(gemm)
    Zt = mm(W0.reshape(M * width, -1).contiguous(), x.contiguous(), relu=True).view(M, width, -1)
    return torch.bmm(Zt.transpose(1, 2), W1.transpose(1, 2))


def evaluate(W0, W1, x, labels, target: str = "hot", *, batch_size: int = 2500,
             gemm: str = "auto") -> torch.Tensor:
    """Number of correct predictions of each model on ``(x, labels)``: an int64 tensor ``(M,)``.
    ``gemm``: a name as in :func:`gemm_nt` or a function it returned."""
    check_target(target)
    mm = gemm_nt(gemm) if isinstance(gemm, str) else gemm
    M, width, _ = W0.shape
    W0f = W0.reshape(M * width, -1).contiguous()
    y = torch.as_tensor(labels, dtype=torch.int64)
    correct = torch.zeros(M, dtype=torch.int64)
    with torch.no_grad():
        for s in range(0, x.shape[0], batch_size):
            xb = x[s:s + batch_size]
            Zt = mm(W0f, xb, relu=True).view(M, width, -1)           # relu(W0 x), (M, width, nb)
            out = torch.bmm(W1, Zt)                                  # (M, n_out, nb)
            # .max(1).indices: same as argmax (first maximal index) but ~10x faster over a strided dim
            pred = out.max(1).indices if target == "hot" else out.min(1).indices
            correct += (pred == y[s:s + batch_size]).sum(1)
    return correct
