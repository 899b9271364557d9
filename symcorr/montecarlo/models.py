r"""The numeric frame on any torch model: ensembles of initialised ``nn.Module`` networks.

The Monte Carlo frame only needs samples of :math:`f_\theta(x)` with :math:`\theta` drawn from the
initialisation law, so it serves models the spec cannot describe (convolutions, attention, a model
you wrote yourself).  A :class:`TorchModel` says how one network is drawn:

* ``TorchModel(factory, input_shape=...)``: ``factory(generator) -> nn.Module`` builds and initialises
  one network, drawing its random numbers from the ``torch.Generator`` it is given
  (``nn.init.kaiming_normal_(layer.weight, generator=g)``);
* ``TorchModel(module, init, input_shape=...)``: copies of ``module`` re-initialised by ``init``, either
  a callable ``init(module, generator)`` that re-initialises the copy in place, or an ``nn.init``
  function / ``functools.partial`` of one, applied with the generator to every parameter with at least
  two dimensions after each module's own ``reset_parameters()`` has re-drawn the others (a parameter
  that neither re-draws is refused: it would be the same in every network).

Torch's default initialisers (``reset_parameters``, run by every layer's constructor) draw from torch's
*global* generator.  The ensemble never leaves that to chance: every block of networks is built inside
``torch.random.fork_rng`` with the global generator seeded by ``child_seed(seed, 4, block)``, so default
initialisations are reproducible too and the caller's global RNG state is untouched.  Networks are built
on the CPU (one factory call per network: the only Python loop, over construction), cast to the
ensemble's dtype, moved to its device and put in ``eval()`` mode (dropout off, normalisation layers on
their buffers).

:class:`ModelEnsemble` has the interface of :class:`~symcorr.montecarlo.ensemble.Ensemble`: RNG blocks of
``block`` networks drawn from generators seeded ``child_seed(seed, 0, j)`` (so the networks do not
depend on ``chunk``), chunks of whole blocks, ``points(x)``, ``outputs``, ``source`` (a
:class:`~symcorr.montecarlo.ensemble.ProductSource`), plus ``ntk`` (per-parameter empirical NTK).  A chunk
is evaluated for all its networks at once with ``torch.func``: the parameters and buffers of its networks
are stacked (``stack_module_state``) and one ``vmap`` of ``functional_call`` runs them over the points
(the attention fast path and the flash/efficient SDPA kernels, which have no batching rules, are
switched off for the call).  Inputs have any shape: points are ``(P, *input_shape)``; outputs are
flattened to ``d = prod(output_shape)`` components, slot ``p * d + a`` as for specs.

:func:`make_ensemble`, :func:`check_model` and :func:`resolve_action` are the one place where
``estimate_correlators``, ``invariance_test``, ``assert_invariant``, ``ntk_moments`` and
``ntk_invariance_test`` meet either a spec (:class:`~symcorr.spec.Network`) or a :class:`TorchModel`.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import math
from typing import Callable, Iterator

import torch
import torch.nn as nn
from torch.func import functional_call, jacrev, stack_module_state, vmap

from ..errors import SpecError
from ..groups import Group, resolve_group
from ..rng import child_seed, make_generator, resolve_device
from ..spec import Network
from ..tensor_groups import resolve_axis_group
from ..verdicts import Side
from .accumulators import ELEMENT_BUDGET
from .ensemble import BLOCK_ELEMENTS, CHUNK_ELEMENTS, Ensemble, EnsembleChunk, ProductSource

__all__ = ["TorchModel", "ModelEnsemble", "make_ensemble", "check_model", "resolve_action", "vectorisable"]

#: the fixed seed of the reference network (parameter names, shapes, output shape)
_REFERENCE_SEED = 0


@contextlib.contextmanager
def vectorisable():
    """Torch settings under which ``vmap`` has batching rules for attention: the ``nn.MultiheadAttention``
    / ``TransformerEncoderLayer`` fast path off and ``scaled_dot_product_attention`` on its math kernel."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    before = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel([SDPBackend.MATH]):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(before)


def _is_tensor_initialiser(obj) -> bool:
    func = obj.func if isinstance(obj, functools.partial) else obj
    return getattr(func, "__module__", None) == "torch.nn.init"


def _post_order(module: nn.Module) -> list[nn.Module]:
    out = []
    for child in module.children():
        out += _post_order(child)
    return out + [module]


class TorchModel:
    """A random torch model: how one network is built and initialised (see the module docstring).

    ``input_shape``: the shape of one input point (``(d,)`` for an MLP, ``(C, L)`` for ``nn.Conv1d``,
    ``(T, d)`` for a transformer with ``batch_first=True``).  On construction one reference network is
    built (with a fixed seed) and evaluated at zeros to learn the parameter names and the output shape.
    """

    def __init__(self, model, init: Callable | None = None, *, input_shape, name: str | None = None):
        if isinstance(model, nn.Module):
            if init is None:
                raise SpecError("a module needs an init function (init(module, generator), or an nn.init function) "
                                "to draw new networks; for torch's default initialisation pass a factory, e.g. "
                                "TorchModel(lambda g: MyModel(), input_shape=...)", "init")
            self._template: nn.Module | None = model
            self._factory: Callable | None = None
        elif callable(model):
            self._template, self._factory = None, model
        else:
            raise SpecError(f"expected a factory (torch.Generator -> nn.Module) or an nn.Module, got "
                            f"{type(model).__name__}", "model")
        if init is not None and not callable(init):
            raise SpecError(f"init must be callable, got {type(init).__name__}", "init")
        self._init = init
        if isinstance(input_shape, int):
            input_shape = (input_shape,)
        try:
            shape = tuple(int(s) for s in input_shape)
        except (TypeError, ValueError):
            raise SpecError(f"input_shape must be a tuple of positive integers, got {input_shape!r}",
                            "input_shape") from None
        if not shape or any(s < 1 for s in shape) or any(isinstance(s, bool) for s in input_shape):
            raise SpecError(f"input_shape must be a non-empty tuple of positive integers, got {input_shape!r}",
                            "input_shape")
        self.input_shape = shape
        self.name = name
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_REFERENCE_SEED)
            reference = self._build(make_generator(_REFERENCE_SEED)).to(torch.float64).eval()
        self.parameter_names = [n for n, _ in reference.named_parameters()]
        self.buffer_names = [n for n, _ in reference.named_buffers()]
        if not self.parameter_names:
            raise SpecError("the model has no parameters: nothing is random", "model")
        #: parameter name -> shape (the "blocks" of the model, as for a spec)
        self.blocks = {n: tuple(p.shape) for n, p in reference.named_parameters()}
        self.parameter_count = sum(math.prod(s) for s in self.blocks.values())
        with torch.no_grad(), vectorisable():
            try:
                out = reference(torch.zeros((1, *shape), dtype=torch.float64))
            except (RuntimeError, ValueError, TypeError, IndexError) as exc:
                raise SpecError(f"the model cannot be evaluated on a batch of inputs of shape (P, *{shape}): "
                                f"{type(exc).__name__}: {exc}", "input_shape") from None
        if not isinstance(out, torch.Tensor) or out.ndim < 1 or out.shape[0] != 1:
            raise SpecError("the model must map a batch (P, *input_shape) to a tensor (P, ...) of outputs", "model")
        self.output_shape = tuple(out.shape[1:])
        self.output_dim = math.prod(self.output_shape)
        self._base = copy.deepcopy(reference).to("meta")

    # --- the interface the numeric frame shares with Network ---------------------------------------
    @property
    def input_dim(self) -> int:
        """The number of input coordinates ``prod(input_shape)``."""
        return math.prod(self.input_shape)

    def dimension(self, on) -> int:
        """The dimension a group acting ``on`` the flat inputs or the outputs has."""
        if Side.parse(on) is Side.OUTPUT:
            return self.output_dim
        if len(self.input_shape) != 1:
            raise SpecError(f"the inputs have shape {self.input_shape}: give a group acting on one axis "
                            "(symcorr.tensor_groups)", "group")
        return self.input_shape[0]

    def resolve_group(self, group, on) -> Group:
        """``group`` acting on the inputs (any shape, :func:`symcorr.tensor_groups.resolve_axis_group`) or
        the flat outputs."""
        shape = self.input_shape if Side.parse(on) is Side.INPUT else (self.output_dim,)
        return resolve_axis_group(group, shape)

    def _require_concrete(self, what: str) -> None:
        """A torch model is always numeric (the counterpart of ``Network._require_concrete``)."""

    def _as_inputs(self, x, dtype, device) -> torch.Tensor:
        """Points ``(P, *input_shape)`` (one point of ``input_shape`` is ``(1, *input_shape)``)."""
        x = torch.as_tensor(x, dtype=dtype, device=device)
        if tuple(x.shape) == self.input_shape:
            x = x[None]
        if tuple(x.shape[1:]) != self.input_shape or x.shape[0] < 1:
            raise SpecError(f"inputs must have shape (points, {', '.join(map(str, self.input_shape))}), got "
                            f"{tuple(x.shape)}", "x")
        if not torch.isfinite(x).all():
            raise SpecError("inputs contain NaN or infinite values", "x")
        return x

    def __repr__(self):
        label = self.name or (getattr(self._factory, "__name__", None) if self._factory is not None
                              else type(self._template).__name__)
        return (f"TorchModel({label}, input_shape={self.input_shape}, output_shape={self.output_shape}, "
                f"{self.parameter_count} parameters)")

    # --- drawing networks ----------------------------------------------------------------------------
    def _build(self, generator: torch.Generator) -> nn.Module:
        """One network: the factory's, or a re-initialised copy of the template (global RNG already seeded)."""
        if self._factory is not None:
            module = self._factory(generator)
            if not isinstance(module, nn.Module):
                raise SpecError(f"the factory must return an nn.Module, got {type(module).__name__}", "model")
        else:
            assert self._template is not None
            module = copy.deepcopy(self._template)
        init = self._init
        if init is None:
            return module
        if _is_tensor_initialiser(init):
            self._tensor_init(module, generator, reset=self._template is not None)
        else:
            init(module, generator)
        return module

    def _tensor_init(self, module: nn.Module, generator, reset: bool) -> None:
        """The nn.init function on every parameter with >= 2 dimensions; for a template (``reset``) every
        module's ``reset_parameters()`` first (children before parents, as constructors run), and a
        parameter with < 2 dimensions that none re-draws is an error."""
        init = self._init
        assert init is not None
        uncovered = []
        with torch.no_grad():
            if reset:
                for m in _post_order(module):
                    redraw = getattr(m, "reset_parameters", None)
                    if callable(redraw):
                        redraw()
            for m in module.modules():
                for pname, p in m.named_parameters(recurse=False):
                    if p.ndim >= 2:
                        init(p, generator=generator)
                    elif reset and not hasattr(m, "reset_parameters"):
                        uncovered.append(pname)
        if uncovered:
            raise SpecError(f"the parameter(s) {sorted(set(uncovered))} have fewer than 2 dimensions and no "
                            "reset_parameters() re-draws them, so they would be the same in every network; pass "
                            "init(module, generator) or a factory instead", "init")

    def draw_block(self, count: int, seed: int, dtype=torch.float64) -> dict[str, torch.Tensor]:
        """``count`` networks drawn one after the other from ``make_generator(seed)``, with torch's global
        generator forked and seeded by ``seed`` too: their parameters and buffers stacked, ``(count, ...)``.
        A factory builds one module per network; a template is re-initialised in place, once per network,
        in one working copy (no module construction)."""
        gen = make_generator(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            if self._factory is not None:
                modules = [self._build(gen).to(dtype).eval() for _ in range(count)]
                params, buffers = stack_module_state(modules)
                return {k: v.detach() for k, v in {**params, **buffers}.items()}
            assert self._template is not None
            work = copy.deepcopy(self._template)
            out: dict[str, torch.Tensor] = {}
            init = self._init
            assert init is not None
            for k in range(count):
                if _is_tensor_initialiser(init):
                    self._tensor_init(work, gen, reset=True)
                else:
                    init(work, gen)
                state = {**dict(work.named_parameters()), **dict(work.named_buffers())}
                if not out:
                    out = {n: torch.empty((count, *t.shape), dtype=dtype if t.is_floating_point() else t.dtype)
                           for n, t in state.items()}
                for n, t in state.items():
                    out[n][k] = t.detach()
            return out

    def forward(self, params: dict, x: torch.Tensor) -> torch.Tensor:
        """Every network of the stacked ``params`` (parameters and buffers, ``(m, ...)``) at the points ``x``:
        ``(m, P, d)``, vectorised (``vmap`` of ``functional_call``)."""
        base = self._base

        def one(p):
            return functional_call(base, p, (x,))

        with vectorisable():
            out = vmap(one)(params)
        return out.reshape(out.shape[0], x.shape[0], self.output_dim)


class ModelEnsemble:
    """``networks`` draws of a :class:`TorchModel`, streamed in chunks (see the module docstring)."""

    estimator = "direct"

    def __init__(self, model: TorchModel, networks: int, *, seed: int = 0, chunk: int | None = None,
                 block: int | None = None, device="auto", dtype=torch.float64):
        if not isinstance(model, TorchModel):
            raise SpecError(f"expected a TorchModel, got {type(model).__name__}", "model")
        for what, value in (("networks", networks), ("chunk", chunk), ("block", block)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise SpecError(f"{what} must be a positive integer, got {value!r}", what)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise SpecError(f"seed must be a non-negative integer, got {seed!r}", "seed")
        if dtype not in (torch.float64, torch.float32):
            raise SpecError(f"dtype must be torch.float64 or torch.float32, got {dtype}", "dtype")
        self.model = self.network = model
        self.networks, self.seed, self.dtype = networks, seed, dtype
        self.device = resolve_device(device)
        if block is None:
            block = 256
            while block > 1 and block * model.parameter_count > BLOCK_ELEMENTS:
                block //= 2
        self.block = block
        if chunk is None:
            chunk = max(block, min(4096, CHUNK_ELEMENTS // max(1, 4 * model.parameter_count)))
        self.chunk = max(block, (chunk // block) * block)

    def __len__(self):
        return self.networks

    def __repr__(self):
        return (f"ModelEnsemble({self.networks} networks of {self.model!r}, seed={self.seed}, chunk={self.chunk}, "
                f"block={self.block}, device={str(self.device)!r})")

    @property
    def num_chunks(self) -> int:
        return -(-self.networks // self.chunk)

    def _sample_block(self, j: int) -> dict[str, torch.Tensor]:
        count = min(self.block, self.networks - j * self.block)
        return self.model.draw_block(count, child_seed(self.seed, 0, j), self.dtype)

    def chunks(self) -> Iterator[EnsembleChunk]:
        """Chunks of whole RNG blocks; ``params`` holds the stacked parameters and buffers of the networks."""
        per_chunk = self.chunk // self.block
        total_blocks = -(-self.networks // self.block)
        for c in range(self.num_chunks):
            blocks = [self._sample_block(j) for j in range(c * per_chunk, min(total_blocks, (c + 1) * per_chunk))]
            stacked = {k: torch.cat([b[k] for b in blocks]).to(self.device) for k in blocks[0]}
            size = next(iter(stacked.values())).shape[0]
            yield EnsembleChunk(c, c * self.chunk, size, stacked)

    def points(self, x) -> torch.Tensor:
        return self.model._as_inputs(x, self.dtype, self.device)

    def outputs(self, chunk: EnsembleChunk, x) -> torch.Tensor:
        """``(size, P, d)`` outputs of the chunk's networks at the points ``x``."""
        with torch.no_grad():
            f = self.model.forward(chunk.params, self.points(x))
        if not torch.isfinite(f).all():
            raise SpecError("model outputs contain NaN or infinite values")
        return f

    def source(self, chunk: EnsembleChunk, x) -> ProductSource:
        return ProductSource(self.outputs(chunk, x))

    def ntk(self, chunk: EnsembleChunk, x1: torch.Tensor, x2: torch.Tensor, *, blocks=None,
            per_block: bool = False):
        r"""The empirical NTK :math:`\Theta_{ab}(x_p, x'_q) = \sum_{\theta_i\in\text{blocks}}\partial_i f_a(x_p)
        \partial_i f_b(x'_q)` of every network of the chunk, ``(size, P, P', d, d)`` (per parameter when
        ``per_block``), from per-network Jacobians (``vmap`` of ``jacrev``), in sub-batches of bounded memory."""
        model = self.model
        names = list(model.parameter_names if blocks is None else blocks)
        xs = torch.cat([x1, x2], 0)
        p1, p_all, d = x1.shape[0], xs.shape[0], model.output_dim
        base = model._base

        def f(sel, rest):
            return functional_call(base, {**sel, **rest}, (xs,)).reshape(p_all, d)

        sizes = sum(math.prod(model.blocks[n]) for n in names)
        step = max(1, ELEMENT_BUDGET // max(1, p_all * d * sizes))
        parts: dict[str, list[torch.Tensor]] = {n: [] for n in names}
        for s in range(0, chunk.size, step):
            sel = {n: chunk.params[n][s:s + step] for n in names}
            rest = {n: t[s:s + step] for n, t in chunk.params.items() if n not in sel}
            with vectorisable():
                jac = vmap(jacrev(f))(sel, rest)
            for n in names:
                j = jac[n].reshape(jac[n].shape[0], p_all, d, -1)
                parts[n].append(torch.einsum("mpai,mqbi->mpqab", j[:, :p1], j[:, p1:]).detach())
        terms = {n: torch.cat(parts[n]) for n in names}
        for n, t in terms.items():
            if not torch.isfinite(t).all():
                raise SpecError("the NTK contains NaN or infinite values (overflow)", n)
        return terms if per_block else sum(terms.values())


def check_model(model, estimator: str = "auto") -> None:
    """``model`` is a spec or a :class:`TorchModel` that ``estimator`` can serve; a SpecError otherwise."""
    if isinstance(model, TorchModel):
        if estimator not in ("auto", "direct"):
            raise SpecError(f"a torch model is sampled whole: estimator {estimator!r} needs a spec (Network); use "
                            "estimator='direct' or 'auto'", "estimator")
        return
    if not isinstance(model, Network):
        raise SpecError(f"expected a Network or a symcorr.montecarlo.TorchModel, got {type(model).__name__}")


def make_ensemble(model, networks: int, *, seed: int = 0, chunk: int | None = None, device="auto",
                  dtype=torch.float64, estimator: str = "auto"):
    """The ensemble of a spec (:class:`~symcorr.montecarlo.ensemble.Ensemble`) or of a torch model
    (:class:`ModelEnsemble`), with the same seeding and chunking rules."""
    check_model(model, estimator)
    if isinstance(model, TorchModel):
        return ModelEnsemble(model, networks, seed=seed, chunk=chunk, device=device, dtype=dtype)
    return Ensemble(model, networks, seed=seed, chunk=chunk, device=device, dtype=dtype, estimator=estimator)


def resolve_action(model, group, on) -> Group:
    """The group acting ``on`` the inputs or outputs of a spec or a torch model (shaped inputs take the
    groups of :mod:`symcorr.tensor_groups`)."""
    if isinstance(model, TorchModel):
        return model.resolve_group(group, on)
    return resolve_group(group, model.dimension(on))
