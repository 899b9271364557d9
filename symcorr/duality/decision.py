r"""Deciding one group action: the steps of the duality argument as typed decisions, without prose.

:func:`decide_invariance` returns an :class:`InvarianceDecision`, one frozen dataclass per step, each
with a :class:`~symcorr.verdicts.StepStatus`:

1. :class:`AbsorptionStep` -- a parameter map :math:`T_g` with :math:`f_{T_g\theta} = g\cdot f_\theta`
   (:mod:`.absorb`);
2. :class:`ChangeOfVariablesStep` -- :math:`\theta' = T_g\theta` and its Jacobian;
3. :class:`LawStep` per changed block -- :math:`P(T_g\theta) = P(\theta)`, decided exactly
   (:mod:`.invariance`);
4. :class:`NtkStep` (NTK claims) -- :math:`T_g` orthogonal on parameter space;

and then the verdict (:class:`Route` says how it was reached):

* ``proven`` by the parameter map when steps 1-4 are all established;
* otherwise ``proven`` one generator at a time (:class:`GeneratorRoute`, ``Route.GENERATORS``) when the
  identity component takes the standard map and every discrete generator the standard map or another one
  (:func:`.absorb.alternative_maps`: sign chains, hidden-neuron permutations);
* otherwise, for infinite-width input claims, :class:`GpLimitStep` (``role=DECIDES``): proven when
  :math:`K(gx, gy) = K(x, y)` exactly, refuted with a kernel witness when not (two or more hidden layers:
  proven when the first metric :math:`K^{(1)}` is invariant, :func:`.kernel.deep_kernel_invariance`);
* otherwise, for two or more hidden layers, :class:`~.deep_witness.DeepWitnessStep`: refuted by an exact
  argument at every width (``Route.WITNESS``), in the GP limit (``Route.GP_KERNEL``) or for every large width
  of a claim about every N (``Route.WIDTH_SERIES``, :mod:`.deep_witness`);
* otherwise :class:`WitnessStep`: refuted when a function-space witness is found (:mod:`.witness`);
* ``undecided`` otherwise.  A failed parameter-space step alone never refutes: another parameter map
  might absorb the action.

A refuted finite-width input-translation claim also gets a :class:`GpLimitStep` with
``role=CONTRAST`` (Gauss-net: the GP kernel is invariant although the finite-width density is not).
Output translations are refuted structurally (:class:`ShiftImpossibilityStep`).

Every engine runs through :func:`symcorr.duality.engines.run_engine`: one that fails leaves its step
open with the failure (:class:`~symcorr.duality.engines.EngineFailure`) and is never taken as evidence.

This module decides one group; the residual-subgroup search is built on it
(:mod:`symcorr.duality.catalogue`), and :func:`symcorr.duality.prove_invariance` combines both with
the rendering (:mod:`symcorr.duality.render`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Callable

import sympy as sp

from ..errors import SpecError
from ..groups import GeneratedGroup, Group, Parity
from ..spec import Network, ParameterBlock
from ..verdicts import CorrelatorKind, ProofVerdict, Side, StepStatus
from . import elements as el
from .absorb import Absorption, Action, ElementMap, MapKind, absorb, alternative_maps
from .elements import Family, catalogue_group
from .engines import EngineFailure, Unsupported, run_engine
from .invariance import LawCheck, Multiplication, block_invariance, shear_invariance, two_sided_invariance
from .deep_witness import DeepWitnessStep, WidthScope, deep_witness_step
from .kernel import gp_kernel_check
from .proof import ParameterWitness, Witness
from .witness import translation_witness, witness_search

__all__ = ["Route", "GpRole", "AbsorptionStep", "ChangeOfVariablesStep", "LawStep", "NtkStep", "GpLimitStep",
           "WitnessStep", "ShiftImpossibilityStep", "ElementStep", "GeneratorRoute", "InvarianceDecision",
           "decide_invariance", "witness_orders"]


class Route(StrEnum):
    """How a verdict was reached."""

    PARAMETER_MAP = "parameter-map"   # proven: absorb, change variables, invariant laws (and NTK)
    GENERATORS = "generators"         # proven one generator at a time, each absorbed by its own map
    GP_KERNEL = "gp-kernel"           # the infinite-width kernel is (not) invariant
    WITNESS = "witness"               # refuted by a function-space witness
    STRUCTURAL = "structural"         # refuted: no law on R^d is invariant under every shift
    WIDTH_SERIES = "width-series"     # refuted for every large width N: the large-N series of a correlator
    NONE = "none"                     # undecided


class GpRole(StrEnum):
    """What the GP-kernel check is for: deciding an infinite-width claim, or a contrast (information)."""

    DECIDES = "decides"
    CONTRAST = "contrast"


def _status(value: bool | None) -> StepStatus:
    return {True: StepStatus.ESTABLISHED, False: StepStatus.FAILS, None: StepStatus.OPEN}[value]


@dataclass(frozen=True)
class AbsorptionStep:
    """Step 1: the parameter map (None when the absorption engine failed)."""

    absorption: Absorption | None
    failure: EngineFailure | None = None

    @property
    def status(self) -> StepStatus:
        return StepStatus.OPEN if self.absorption is None else self.absorption.status


@dataclass(frozen=True)
class ChangeOfVariablesStep:
    r"""Step 2: substitute :math:`\theta' = T_g\theta` (only the blocks of the map change)."""

    absorption: Absorption

    @property
    def status(self) -> StepStatus:
        return StepStatus.ESTABLISHED if self.absorption.jacobian_one else StepStatus.FAILS


@dataclass(frozen=True)
class LawStep:
    """Step 3 for one block: the law check (None when the invariance engine failed)."""

    block: str
    check: LawCheck | None
    failure: EngineFailure | None = None

    @property
    def status(self) -> StepStatus:
        return StepStatus.OPEN if self.check is None else self.check.step_status


@dataclass(frozen=True)
class NtkStep:
    """Step 4 (NTK claims): is :math:`T_g` orthogonal on parameter space?"""

    letter: str
    orthogonal: bool

    @property
    def status(self) -> StepStatus:
        return StepStatus.ESTABLISHED if self.orthogonal else StepStatus.FAILS


@dataclass(frozen=True)
class GpLimitStep:
    """The GP-kernel check: ``invariant`` True / False / None, the kernel, its witness, a failure; ``deep``:
    the network has two or more hidden layers and ``kernel`` is its first metric :math:`K^{(1)}`."""

    role: GpRole
    invariant: bool | None
    kernel: sp.Expr | None = None
    witness: Witness | None = None
    failure: EngineFailure | None = None
    deep: bool = False

    @property
    def status(self) -> StepStatus:
        if self.failure is not None:
            return StepStatus.OPEN
        return StepStatus.INFO if self.role is GpRole.CONTRAST else _status(self.invariant)


@dataclass(frozen=True)
class WitnessStep:
    """The function-space witness search: the witness found (or None), the orders searched and the
    engines that failed during the search."""

    witness: Witness | None
    orders: tuple[int, ...]
    failures: tuple[EngineFailure, ...] = ()

    @property
    def status(self) -> StepStatus:
        return StepStatus.FAILS if self.witness is not None else StepStatus.OPEN


@dataclass(frozen=True)
class ShiftImpossibilityStep:
    """Output translations: no probability law on :math:`\\mathbb R^d` is invariant under every shift."""

    @property
    def status(self) -> StepStatus:
        return StepStatus.FAILS


@dataclass(frozen=True)
class ElementStep:
    """One discrete generator decided on its own: the standard map's absorption of it, the other map used
    (``None``: the standard one), and the law checks of the blocks that map changes."""

    element: sp.ImmutableMatrix
    absorption: Absorption | None
    map: ElementMap | None
    laws: tuple[LawStep, ...]
    ntk: bool = False                 # an NTK claim: the map must be orthogonal
    failure: EngineFailure | None = None

    @property
    def orthogonal(self) -> bool:
        return self.map.orthogonal if self.map is not None else bool(self.absorption and self.absorption.orthogonal)

    @property
    def status(self) -> StepStatus:
        if self.map is None and (self.absorption is None or self.absorption.valid is not True):
            return StepStatus.OPEN if self.absorption is None or self.absorption.valid is None else StepStatus.FAILS
        if self.ntk and not self.orthogonal:
            return StepStatus.FAILS
        statuses = [s.status for s in self.laws]
        if any(st is StepStatus.FAILS for st in statuses):
            return StepStatus.FAILS
        return StepStatus.ESTABLISHED if all(st is StepStatus.ESTABLISHED for st in statuses) else StepStatus.OPEN


@dataclass(frozen=True)
class GeneratorRoute:
    r"""The group decided one generator at a time: a law invariant under every generator is invariant
    under the group they generate, and each generator may be absorbed by its own parameter map.  The
    identity component (``identity``, when the group has a Lie algebra) takes the standard map; every
    discrete generator the standard map or another one (:func:`.absorb.alternative_maps`).  ``complete``
    when every step is established (the route proves the group)."""

    identity_group: Group | None
    identity_absorption: Absorption | None
    identity: tuple[LawStep, ...]
    elements: tuple[ElementStep, ...]
    complete: bool

    @property
    def status(self) -> StepStatus:
        return StepStatus.ESTABLISHED if self.complete else StepStatus.OPEN

    @property
    def failures(self) -> tuple[EngineFailure, ...]:
        out = [s.failure for s in self.identity] + [e.failure for e in self.elements]
        out += [s.failure for e in self.elements for s in e.laws]
        return tuple(f for f in out if f is not None)


@dataclass(frozen=True)
class InvarianceDecision:
    """Every step of the argument for one network, group and side, and the verdict they give."""

    network: Network
    group: Group
    on: Side
    correlator: CorrelatorKind
    finite_width: bool
    verdict: ProofVerdict
    route: Route
    absorption: AbsorptionStep
    change_of_variables: ChangeOfVariablesStep | None = None
    laws: tuple[LawStep, ...] = ()
    ntk: NtkStep | None = None
    gp_limit: GpLimitStep | None = None
    witness_search: WitnessStep | None = None
    contrast: GpLimitStep | None = None
    impossibility: ShiftImpossibilityStep | None = None
    witness: Witness | None = None
    generators: GeneratorRoute | None = None
    deep: DeepWitnessStep | None = None

    def __post_init__(self):
        if self.verdict is ProofVerdict.REFUTED and self.witness is None:
            raise ValueError("a refutation needs a witness")

    @property
    def steps(self) -> tuple:
        """The steps that were taken, in the order of the argument."""
        parts = [self.absorption, self.impossibility, self.change_of_variables, *self.laws, self.ntk,
                 self.generators, self.gp_limit, self.deep, self.witness_search, self.contrast]
        return tuple(p for p in parts if p is not None)

    @property
    def parameter_witness(self) -> ParameterWitness | None:
        """The first law check's counterexample (an element under which a block's law moves)."""
        return next((s.check.witness for s in self.laws if s.check is not None and s.check.witness is not None
                     and s.check.status is not True), None)

    @property
    def failures(self) -> tuple[EngineFailure, ...]:
        """Every engine failure met on the way (none of them decided anything)."""
        out = [self.absorption.failure] + [s.failure for s in self.laws]
        out += [s.failure for s in (self.gp_limit, self.contrast) if s is not None]
        if self.witness_search is not None:
            out += list(self.witness_search.failures)
        if self.deep is not None:
            out += list(self.deep.failures)
        if self.generators is not None:
            out += list(self.generators.failures)
        return tuple(f for f in out if f is not None)


def witness_orders(orders, on: Side) -> tuple[int, ...]:
    """The correlator orders searched for witnesses: the requested ones, plus 2 (and 1 for outputs,
    where the mean :math:`G^{(1)}` is the first thing a rotation moves)."""
    return tuple(sorted({int(k) for k in orders} | ({1, 2} if on is Side.OUTPUT else {2})))


def _guarded(engine: str, task: str, fn, *args):
    """A parameter-space engine never declines: Unsupported is a failure here too."""
    try:
        return run_engine(engine, task, fn, *args)
    except Unsupported as exc:
        return None, EngineFailure.from_exception(engine, task, exc)


def _law_steps(network: Network, group: Group, ab: Absorption) -> list[LawStep]:
    jobs: list[tuple[ParameterBlock, Multiplication]] = []
    if ab.action is Action.INPUT_LINEAR:
        jobs = [(network.weight(0), Multiplication.RIGHT)]
    elif ab.action is Action.OUTPUT_LINEAR:
        last = network.depth - 1
        jobs = [(network.weight(last), Multiplication.LEFT)]
        bias = network.bias(last)
        if bias is not None:
            jobs.append((bias, Multiplication.LEFT))
    else:  # input translations: the joint law of (W0, b0) under the shear
        check, failure = _guarded("symcorr.duality.invariance", "the law of (W0, b0) under the shear",
                                  shear_invariance, network, group)
        return [LawStep("b0", check, failure)]
    steps = []
    for block, side in jobs:
        check, failure = _guarded("symcorr.duality.invariance", f"the law of {block.name}", block_invariance,
                                  block, group, side, ab.letter)
        steps.append(LawStep(block.name, check, failure))
    return steps


def _all_established(steps) -> bool:
    return all(s.status is StepStatus.ESTABLISHED for s in steps)


def _map_law_steps(network: Network, m: ElementMap) -> list[LawStep]:
    """The law checks of the blocks an alternative map changes."""
    jobs: list[tuple[str, Callable[[], LawCheck]]] = []

    def left(block: ParameterBlock, group: Group, letter: str) -> tuple[str, Callable[[], LawCheck]]:
        return block.name, lambda: block_invariance(block, group, Multiplication.LEFT, letter)

    if m.kind is MapKind.SIGN_CHAIN:
        for name in m.negated:   # W -> -W, b -> -b: the law must be symmetric
            block = network.blocks[name]
            jobs.append(left(block, Parity(block.shape[0]), "P"))
    elif m.permutation is not None and m.layer is not None:
        p, g = sp.Matrix(m.permutation), sp.Matrix(m.element)
        layer = m.layer
        hidden = GeneratedGroup(p.rows, (), [p])
        if m.on is Side.OUTPUT:
            jobs.append(left(network.weight(layer), hidden, "P"))
            bias = network.bias(layer)
            if bias is not None:
                jobs.append(left(bias, hidden, "P"))
            weight = network.weight(layer + 1)
            jobs.append((weight.name, lambda: two_sided_invariance(weight, g, p)))
            out_bias = network.bias(layer + 1)
            if out_bias is not None:
                jobs.append(left(out_bias, GeneratedGroup(g.rows, (), [g]), "g"))
        else:
            first, nxt = network.weight(0), network.weight(1)
            jobs.append((first.name, lambda: two_sided_invariance(first, p, g.T)))
            bias = network.bias(0)
            if bias is not None:
                jobs.append(left(bias, hidden, "P"))
            jobs.append((nxt.name, lambda: block_invariance(nxt, hidden, Multiplication.RIGHT, "P")))
    steps = []
    for name, job in jobs:
        check, failure = _guarded("symcorr.duality.invariance", f"the law of {name}", job)
        steps.append(LawStep(name, check, failure))
    return steps


def _element_step(network: Network, g: sp.Matrix, on: Side, ntk: bool) -> ElementStep:
    """One discrete generator: the standard map first, then every other map that may absorb it."""
    single = GeneratedGroup(g.rows, (), [g])
    ab, failure = _guarded("symcorr.duality.absorb", "absorbing the element into the parameters", absorb,
                           network, single, on)
    laws: tuple[LawStep, ...] = ()
    if ab is not None and ab.valid is True and ab.jacobian_one and (not ntk or ab.orthogonal):
        laws = tuple(_law_steps(network, single, ab))
        if laws and _all_established(laws):
            return ElementStep(sp.ImmutableMatrix(g), ab, None, laws, ntk)
    for m in alternative_maps(network, g, on):
        alt = tuple(_map_law_steps(network, m))
        step = ElementStep(sp.ImmutableMatrix(g), ab, m, alt, ntk)
        if step.status is StepStatus.ESTABLISHED:
            return step
    return ElementStep(sp.ImmutableMatrix(g), ab, None, laws, ntk, failure)


def _generator_route(network: Network, group: Group, on: Side, correlator: CorrelatorKind) -> GeneratorRoute | None:
    """Decide ``group`` one generator at a time (see :class:`GeneratorRoute`); None when it has no discrete
    generator (nothing beyond the standard route) or a symbolic dimension."""
    n = el.concrete_dim(group)
    if n is None:
        return None
    discrete = el.discrete_generators(group)
    if not discrete:
        return None
    lie = el.lie_algebra(group)
    ident_group: Group | None = None
    ident_ab: Absorption | None = None
    identity: tuple[LawStep, ...] = ()
    if lie:
        ident_group = GeneratedGroup(n, [(gen.a, gen.b) for gen in lie], (),
                                     name=f"the identity component of {group!r}")
        ident_ab, _ = _guarded("symcorr.duality.absorb", "absorbing the identity component", absorb, network,
                               ident_group, on)
        if ident_ab is None or ident_ab.valid is not True:
            return None
        identity = tuple(_law_steps(network, ident_group, ident_ab))
        if not _all_established(identity):
            return None
    elements: list[ElementStep] = []
    for g in discrete:
        step = _element_step(network, sp.Matrix(g), on, correlator is CorrelatorKind.NTK)
        elements.append(step)
        if step.status is not StepStatus.ESTABLISHED:
            return GeneratorRoute(ident_group, ident_ab, identity, tuple(elements), False)
    return GeneratorRoute(ident_group, ident_ab, identity, tuple(elements), True)


def _small(network: Network) -> bool:
    """Small enough for the contrast GP-kernel check (at most 3 inputs)."""
    return network.depth >= 2 and (not isinstance(network.input_dim, int) or network.input_dim <= 3)


#: the route of a deep refutation, by where its argument holds
_DEEP_ROUTE = {WidthScope.EVERY_WIDTH: Route.WITNESS, WidthScope.GP_LIMIT: Route.GP_KERNEL,
               WidthScope.LARGE_WIDTH: Route.WIDTH_SERIES}


def decide_invariance(network: Network, group, on: Side | str = Side.INPUT,
                      correlator: CorrelatorKind | str = CorrelatorKind.FUNCTION, *, finite_width: bool = True,
                      values: dict | None = None, orders=(1, 2, 4), search_witness: bool = True) -> InvarianceDecision:
    """Decide whether ``group`` acting on ``on`` is a symmetry of the network density (``correlator=
    "function"``) or of the law of its empirical NTK (``"ntk"``); see the module docstring.  Arguments
    as for :func:`symcorr.duality.prove_invariance` (which adds the residual group and the text)."""
    if not isinstance(network, Network):
        raise SpecError(f"expected a Network, got {type(network).__name__}")
    on, correlator = Side.parse(on), CorrelatorKind.parse(correlator)
    group = catalogue_group(network, group, on)
    orders = witness_orders(orders, on)
    fam = el.family(group)
    ab, failure = _guarded("symcorr.duality.absorb", "absorbing the action into the parameters", absorb,
                           network, group, on)
    absorption = AbsorptionStep(ab, failure)
    base = InvarianceDecision(network=network, group=group, on=on, correlator=correlator, finite_width=finite_width,
                              verdict=ProofVerdict.UNDECIDED, route=Route.NONE, absorption=absorption)
    if fam is Family.T and on is Side.OUTPUT:
        return dataclasses.replace(base, verdict=ProofVerdict.REFUTED, route=Route.STRUCTURAL,
                                   impossibility=ShiftImpossibilityStep(), witness=translation_witness(group))
    change: ChangeOfVariablesStep | None = None
    laws: tuple[LawStep, ...] = ()
    if ab is not None and ab.valid:
        change = ChangeOfVariablesStep(ab)
        laws = tuple(_law_steps(network, group, ab))
    ntk = NtkStep(ab.letter, ab.orthogonal) if correlator is CorrelatorKind.NTK and ab is not None else None
    base = dataclasses.replace(base, change_of_variables=change, laws=laws, ntk=ntk)
    established = (ab is not None and ab.valid is True and ab.jacobian_one and bool(laws)
                   and all(s.status is StepStatus.ESTABLISHED for s in laws)
                   and (ntk is None or ntk.status is StepStatus.ESTABLISHED))
    if established:
        return dataclasses.replace(base, verdict=ProofVerdict.PROVEN, route=Route.PARAMETER_MAP)
    if fam is not Family.T:
        generators = _generator_route(network, group, on, correlator)
        base = dataclasses.replace(base, generators=generators)
        if generators is not None and generators.complete:
            return dataclasses.replace(base, verdict=ProofVerdict.PROVEN, route=Route.GENERATORS)
    verdict, route, witness, gp = ProofVerdict.UNDECIDED, Route.NONE, None, None
    deep_net, deep = network.depth >= 3, None
    if search_witness and deep_net and correlator is CorrelatorKind.FUNCTION:  # exact, cheap: before the GP proof
        deep = deep_witness_step(network, group, on, finite_width=finite_width, values=values)
        if deep.witness is not None:
            verdict, witness = ProofVerdict.REFUTED, deep.witness
            route = _DEEP_ROUTE[deep.scope] if deep.scope is not None else Route.WITNESS
    if witness is None and not finite_width and correlator is CorrelatorKind.FUNCTION and on is Side.INPUT:
        kc = gp_kernel_check(network, group, values)
        gp = GpLimitStep(GpRole.DECIDES, kc.invariant, kc.kernel, kc.witness, kc.failure, deep_net)
        if kc.invariant is True:
            return dataclasses.replace(base, gp_limit=gp, verdict=ProofVerdict.PROVEN, route=Route.GP_KERNEL,
                                       deep=deep)
        if kc.invariant is False:
            verdict, route, witness = ProofVerdict.REFUTED, Route.GP_KERNEL, kc.witness
    search = None
    if witness is None and search_witness:
        try:
            result, failure = run_engine("symcorr.duality.witness", "the witness search", witness_search,
                                         network, group, on, correlator=correlator, orders=orders, values=values,
                                         finite_width=finite_width)
        except Unsupported:
            result, failure = None, None
        found = result.witness if result is not None else None
        failures = tuple(result.failures) if result is not None else ()
        search = WitnessStep(found, orders, failures + ((failure,) if failure is not None else ()))
        if found is not None:
            verdict, route, witness = ProofVerdict.REFUTED, Route.WITNESS, found
    contrast = None
    if (verdict is ProofVerdict.REFUTED and finite_width and correlator is CorrelatorKind.FUNCTION
            and fam is Family.T and on is Side.INPUT and _small(network)
            and (not deep_net or route is Route.WIDTH_SERIES)):
        kc = gp_kernel_check(network, group, values)
        contrast = GpLimitStep(GpRole.CONTRAST, kc.invariant, kc.kernel, None, kc.failure, deep_net)
    return dataclasses.replace(base, verdict=verdict, route=route, gp_limit=gp, witness_search=search,
                               contrast=contrast, witness=witness, deep=deep)
