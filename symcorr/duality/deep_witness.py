r"""Witnesses for deep networks (two or more hidden layers): exact function-space arguments that a claimed
symmetry fails -- at every width, in the infinite-width (GP) limit, or for every large width.  A deep network's
correlators have no closed form at a finite width, so :func:`deep_witness` tries, in this order, the arguments
whose scope covers the claim (:class:`WidthScope`):

1. :attr:`Argument.MONOTONE` -- :math:`E[f_1(x)^2]` is a strictly increasing function of a first-layer quantity
   (its variance, or the absolute value of its mean) at every width and in the GP limit
   (:mod:`.monotone`, with the hypotheses): a group element that changes that quantity at some x refutes the
   claim, with no quadrature.  In the GP limit also through an exact :math:`K^{(1)}(x,x)`;
2. :attr:`Argument.GP_KERNEL` -- the GP kernel :math:`K(x,y) = \lim G^{(2)}_{11}` (:mod:`symcorr.deep.nngp`,
   nested closed forms) at rational probe points and at the moved points: a non-zero difference, evaluated to
   40 digits, refutes the GP-limit claim;
3. :attr:`Argument.INVERSE_WIDTH` -- for a claim about every width N (symbolic hidden widths, all growing with
   one N): :math:`G^{(n)}_N(gx) - G^{(n)}_N(x) = \delta_0 + \delta_1/N + O(1/N^2)` (the 1/N series of
   :mod:`symcorr.deep.finite_width`).  If the GP term :math:`\delta_0 \ne 0` (step 2) the difference is
   non-zero for all large N; if the 1/N coefficients :math:`\delta_1 \ne 0` exactly, it is non-zero for all
   large N whatever :math:`\delta_0` is.  Either way "invariant for every N" is refuted;
4. :attr:`Argument.OUTPUT_MEAN` -- output actions: with a linear read-out whose weights have mean 0,
   :math:`G^{(1)}_a(x) = E[b^L_a]` exactly at every width, so :math:`\rho E[b^L] \ne E[b^L]` refutes.

At a numeric width only the every-width arguments (1 and 4) count: a GP-limit or 1/N difference says nothing
exact about one finite N, and the claim stays undecided (the Monte Carlo test is then shown next to it by
``symcorr check``, never counted as a proof).  Symbols other than the widths are replaced by numbers (the spec's
``[values]`` or small defaults, :func:`~symcorr.duality.witness.default_values`): one instance refutes a claim
about every value, and the witness records the instance.  The GP limit of a deep network is proven invariant through its first metric (:mod:`.kernel`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import sympy as sp

from ..deep import NNGP, FiniteWidth, InfiniteWidthKernel
from ..distributions import Normal
from ..errors import SpecError
from ..groups import Group
from ..spec import Network
from ..symbolic.kernels import neuron_moment
from ..verdicts import Side, StepStatus
from . import elements as el
from .elements import Family
from .engines import EngineFailure, Unsupported, run_engine
from .monotone import Case, FirstLayerLaw, MonotoneChain, compare_first_layer, monotone_chain
from .proof import Witness, WitnessKind
from .values import Value
from .witness import act_input, default_values, differs, fmt_points, has_integral, make_witness, probe_points

__all__ = ["Argument", "WidthScope", "DeepWitnessStep", "deep_witness", "deep_witness_step", "DEEP_ENGINE"]

#: the name under which this module reports
DEEP_ENGINE = "symcorr.duality.deep_witness"


class Argument(StrEnum):
    """Which exact argument refutes a deep-network claim (module docstring)."""

    MONOTONE = "monotone"
    GP_KERNEL = "gp-kernel"
    INVERSE_WIDTH = "inverse-width"
    OUTPUT_MEAN = "output-mean"


class WidthScope(StrEnum):
    """Where a deep witness holds: at every width (and in the limit), in the GP limit, or for all large N."""

    EVERY_WIDTH = "every width"
    GP_LIMIT = "GP limit"
    LARGE_WIDTH = "every large width"


@dataclass(frozen=True)
class DeepWitnessStep:
    """The deep-network witness search: the witness (or None), the argument and its scope, the hypotheses it
    read (:class:`~symcorr.duality.monotone.MonotoneChain`), the case of the monotone argument, the GP terms at
    the points of a 1/N witness, the arguments that did not apply with the reason, and engine failures."""

    witness: Witness | None
    argument: Argument | None = None
    scope: WidthScope | None = None
    chain: MonotoneChain | None = None
    case: Case | None = None
    leading: tuple = ()
    numeric_width: bool = False
    not_applied: tuple[tuple[str, str], ...] = ()
    failures: tuple[EngineFailure, ...] = ()

    @property
    def status(self) -> StepStatus:
        return StepStatus.FAILS if self.witness is not None else StepStatus.OPEN


@dataclass
class _Search:
    net: Network
    group: Group
    on: Side
    subs: dict
    finite_width: bool
    numeric_width: bool
    not_applied: list = field(default_factory=list)
    failures: list = field(default_factory=list)

    def skip(self, what: str, why: str) -> None:
        self.not_applied.append((what, why))

    def run(self, task: str, fn, *args):
        """``fn(*args)`` through :func:`run_engine`; a failure is recorded (None returned), a decline is None
        too (:mod:`symcorr.deep` and :mod:`symcorr.symbolic` decline with a SpecError)."""
        try:
            value, failure = run_engine(DEEP_ENGINE, task, _declining, fn, *args)
        except Unsupported:
            return None
        if failure is not None:
            self.failures.append(failure)
        return value


def _declining(fn, *args):
    """``fn(*args)``, a SpecError (the engine's "not for this network or point") turned into Unsupported."""
    try:
        return fn(*args)
    except SpecError as err:
        raise Unsupported(err.reason) from None


def _hidden_width_symbols(net: Network) -> set:
    out: set = set()
    for w in net.widths[:-1]:
        out |= sp.sympify(w).free_symbols
    return out


def _instance(network: Network, group: Group, values):
    """(network, group, substitutions) with every symbol but the hidden widths replaced by a number."""
    widths = _hidden_width_symbols(network)
    subs = {s: v for s, v in default_values(network, group, values).items() if s not in widths}
    net = network.subs(subs) if subs else network
    grp = group.subs(subs) if subs and isinstance(group.n, sp.Basic) else group
    return net, grp, subs


def _candidate_points(d: int, law: FirstLayerLaw | None) -> list[list]:
    """The origin, the probe points of :mod:`.witness`, and (with a first-layer mean) the same points moved
    along :math:`\\mathbf 1` onto the hyperplane where the first-layer mean vanishes."""
    pts: list[list] = [[sp.Integer(0)] * d]
    for group in probe_points(d, 2) + probe_points(d, 1):
        for p in group:
            if p not in pts:
                pts.append(list(p))
    if law is not None and sp.sympify(law.w_mean).is_number and law.w_mean != 0:
        extra = []
        for p in pts:
            shift = law.mean(p) / (law.w_mean * d)
            q = [sp.nsimplify(v - shift) for v in p]
            if q not in pts and q not in extra:
                extra.append(q)
        pts += extra
    return pts


def _elements(group: Group):
    """The witness elements of :mod:`.elements`; for translations also a shift orthogonal to
    :math:`\\mathbf 1` (it keeps a first-layer mean :math:`\\mu_w\\mathbf 1^Tx` unchanged)."""
    out = list(el.witness_elements(group))
    n = el.concrete_dim(group)
    if el.family(group) is Family.T and n is not None and n > 1:
        out.append((sp.Matrix([sp.Rational(1, 2), -sp.Rational(1, 2)] + [0] * (n - 2)), "the shift"))
    return out


# ----------------------------------------------------------------------------------------------------
# 1. the monotone argument
# ----------------------------------------------------------------------------------------------------
def _diag_witness(search: _Search, g, gdesc, x, gx, qty: str, before, after, details, case: Case, direction: int):
    """A monotone witness; ``data`` holds the diagonal points and the sign of the change of
    :math:`G^{(2)}_{11}(x, x)` it implies (``direction``)."""
    w = make_witness(g, gdesc, qty, Value.exact(before), Value.exact(after), search.subs, details, DEEP_ENGINE,
                     WitnessKind.MONOTONE)
    w.data = {"n": 2, "points": [x, x], "moved": [gx, gx], "indices": (0, 0), "case": str(case),
              "direction": direction}
    return w


def _first_layer_cases(search: _Search, chain: MonotoneChain, every_width: bool):
    """The first (element, point) at which a first-layer case of the monotone argument applies (a Gaussian
    first layer whose activation is in the table), as ``(witness, case)``."""
    law = FirstLayerLaw.of(search.net)
    if law is None or chain.first is None:
        search.skip("monotone", "the first layer is not Gaussian with iid units" if law is None else
                    f"the first activation {chain.activations[0]} is not one for which $|\\phi(u)|$ is monotone in $|u|$")
        return None
    fam = el.family(search.group)
    for g, gdesc in _elements(search.group):
        for x in _candidate_points(search.net.input_dim, law):
            gx = act_input(g, x, fam)
            cmp = compare_first_layer(law, chain.first, x, gx)
            if cmp.case is None:
                continue
            where = ("every width" + (" and in the GP limit" if chain.gp_limit else "")) if every_width \
                else "in the GP limit"
            moved = "x + c" if fam is Family.T else "g x"
            if cmp.case is Case.VARIANCE:
                qty = (f"the first-layer variance $v(x) = \\mathrm{{Var}}\\,z^{{0}}_i(x)$ at $x = {_point(x)}$ "
                       f"versus at ${moved}$ (the first-layer mean vanishes at both)")
                before, after = cmp.variance
            else:
                absolute = "|m(x)|" if chain.first.even else "m(x)"
                qty = (f"the first-layer mean ${absolute}$, $m(x) = E[z^{{0}}_i(x)]$, at $x = {_point(x)}$ "
                       f"versus at ${moved}$ (the variance $v = {sp.latex(cmp.variance[0])}$ is the same at both)")
                before, after = (abs(cmp.mean[0]), abs(cmp.mean[1])) if chain.first.even else cmp.mean
            trend = "increases" if cmp.direction > 0 else "decreases"
            details = [f"$G^{{(2)}}_{{11}}(x, x) = E[f_1(x)^2]$ is a strictly increasing function of this "
                       f"quantity at {where} (the 'Deep network' step), so it {trend} too: "
                       f"$G^{{(2)}}_{{11}}({moved}, {moved}) \\ne G^{{(2)}}_{{11}}(x, x)$."]
            return _diag_witness(search, g, gdesc, x, gx, qty, before, after, details, cmp.case,
                                 cmp.direction), cmp.case
    search.skip("monotone", "no probed element changes the first-layer variance (at mean 0) or mean (at equal "
                "variance)")
    return None


def _first_metric(search: _Search):
    r"""GP limit: :math:`K^{(L)}(x,x)` is strictly increasing in :math:`K^{(1)}(x,x) = C_b + C_W
    E[\phi_0(z^{(0)}(x))^2]`; compare exact closed forms of the one-point moment."""
    net = search.net
    try:
        from_net = NNGP(net)
    except SpecError as err:
        search.skip("first metric", err.reason)
        return None
    first = from_net.first
    fam = el.family(search.group)
    c_w, c_b = from_net.c_w[1], from_net.c_b[1]
    for g, gdesc in _elements(search.group):
        for x in _candidate_points(net.input_dim, None):
            gx = act_input(g, x, fam)
            vals: list[sp.Expr] = []
            for p in (x, gx):
                m = search.run("the first layer's one-point moment", neuron_moment, first,
                               [sp.ImmutableMatrix(p)], [2])
                if m is None or has_integral(sp.sympify(m)) or sp.sympify(m).free_symbols:
                    vals = []
                    break
                vals.append(sp.sympify(c_b + c_w * m))
            if len(vals) == 2 and differs(Value.exact(vals[0]), Value.exact(vals[1])):
                moved = "x + c" if fam is Family.T else "g x"
                qty = f"the first metric $K^{{(1)}}(x, x)$ at $x = {_point(x)}$ versus at ${moved}$"
                direction = 1 if sp.N(vals[1] - vals[0]) > 0 else -1
                trend = "increases" if direction > 0 else "decreases"
                details = [f"The GP kernel $K^{{(L)}}(x, x)$ is a strictly increasing function of $K^{{(1)}}(x, x)$ "
                           f"(the 'Deep network' step), so it {trend} too."]
                return _diag_witness(search, g, gdesc, x, gx, qty, vals[0], vals[1], details, Case.FIRST_METRIC,
                                     direction), Case.FIRST_METRIC
    search.skip("first metric", "the first layer's one-point moment has no closed form at the probe points, or "
                "does not move")
    return None


# ----------------------------------------------------------------------------------------------------
# 2. the GP kernel at rational points
# ----------------------------------------------------------------------------------------------------
def _pairs(d: int):
    diag = [[p, p] for p in _candidate_points(d, None)[:3]]
    return diag + [list(pair) for pair in probe_points(d, 2) if pair[0] != pair[1]]


def _gp_kernel(search: _Search):
    try:
        kernel = InfiniteWidthKernel(search.net)
    except SpecError as err:
        search.skip("GP kernel", err.reason)
        return None
    fam = el.family(search.group)
    closed = False
    for g, gdesc in el.witness_elements(search.group):
        for x, y in _pairs(search.net.input_dim):
            gx, gy = act_input(g, x, fam), act_input(g, y, fam)
            vals: list[Value] = []
            for p, q in ((x, y), (gx, gy)):
                e = search.run("the GP kernel at the probe points", kernel.expr, p, q)
                if e is None or has_integral(sp.sympify(e)) or sp.sympify(e).free_symbols:
                    break
                vals.append(Value.exact(e))
            if len(vals) < 2:
                continue
            closed = True
            if differs(vals[0], vals[1]):
                moved = "x + c" if fam is Family.T else "g x"
                qty = (f"the GP kernel $K(x, y) = \\lim_{{N\\to\\infty}} G^{{(2)}}_{{11}}(x, y)$ at $(x, y) = "
                       f"{fmt_points([x, y])}$ versus at the moved points (${moved}$)")
                w = make_witness(g, gdesc, qty, vals[0], vals[1], search.subs, [], DEEP_ENGINE, WitnessKind.KERNEL)
                w.data = {"n": 2, "points": [x, y], "moved": [gx, gy], "indices": (0, 0)}
                return w, (vals[0].expr, vals[1].expr)
    search.skip("GP kernel", "the kernel does not move at the probe points" if closed else
                "no closed form at the probe points (an activation without one: only quadrature)")
    return None


# ----------------------------------------------------------------------------------------------------
# 3. the 1/N coefficient
# ----------------------------------------------------------------------------------------------------
def _one_width(net: Network):
    """``(network, N, ratios)``: every hidden-width symbol replaced by one symbol N and each source layer's
    fan-in as ``ratio * N``; None when a fan-in is not a positive rational multiple of N."""
    symbols = sorted(_hidden_width_symbols(net), key=str)
    N = symbols[0]
    one = net.subs({s: N for s in symbols[1:]}) if len(symbols) > 1 else net
    ratios = []
    for w in one.widths[:-1]:
        r = sp.simplify(sp.sympify(w) / N)
        if not (r.is_Rational and r > 0):
            return None
        ratios.append(r)
    return one, N, ratios


def _inverse_width(search: _Search):
    found = _one_width(search.net)
    if found is None:
        return None
    net, N, ratios = found
    fw = FiniteWidth(net)
    fam = el.family(search.group)
    d = net.input_dim
    slots = [((0, 0), False), ((0, 1), False), ((0, 0, 1, 1), True)]
    pairs = _pairs(d)
    pairs = pairs[:2] + pairs[3:4]   # two diagonal pairs and one off the diagonal: each series is costly
    for g, gdesc in el.witness_elements(search.group, limit=3):
        for x, y in pairs:
            gx, gy = act_input(g, x, fam), act_input(g, y, fam)
            for idx, connected in (slots if x != y else slots[:1] + slots[2:]):   # (x, x): (0, 1) is (0, 0)
                pick = lambda a, b: [a if s == 0 else b for s in idx]  # noqa: E731
                out = []
                for pts in (pick(x, y), pick(gx, gy)):
                    res = search.run("the 1/N series at the probe points", fw.expansion, pts, (0,) * len(idx),
                                     connected, 1)
                    if res is None:
                        break
                    lead, corr = res
                    coef = sp.Add(*[c / r for (_, c), r in zip(corr, ratios)])
                    if any(has_integral(sp.sympify(e)) or sp.sympify(e).free_symbols for e in (lead, coef)):
                        break
                    out.append((sp.sympify(lead), coef))
                if len(out) < 2 or not differs(Value.exact(out[0][1]), Value.exact(out[1][1])):
                    continue
                n = len(idx)
                name = "G^{(4)}_{c}" if connected else "G^{(2)}"
                moved = "x + c" if fam is Family.T else "g x"
                args = ", ".join(f"x_{k + 1}" for k in range(n))
                qty = (f"the coefficient of $1/{sp.latex(N)}$ in ${name}$ at the points $({args}) = "
                       f"{fmt_points(pick(x, y))}$ versus at the moved points (${moved}$)")
                details = [f"The ${sp.latex(N)} \\to \\infty$ terms are {_short(out[0][0])} and {_short(out[1][0])}."]
                w = make_witness(g, gdesc, qty, Value.exact(out[0][1]), Value.exact(out[1][1]), search.subs, details,
                                 DEEP_ENGINE, WitnessKind.INVERSE_WIDTH)
                w.data = {"n": n, "points": pick(x, y), "moved": pick(gx, gy), "indices": (0,) * n,
                          "connected": connected, "width": N}
                return w, (out[0][0], out[1][0])
    search.skip("1/N series", "no exact 1/N coefficient moves at the probe points")
    return None


def _point(x) -> str:
    """One point in LaTeX (without the parentheses of a tuple of points)."""
    return fmt_points([x])[1:-1]


def _short(expr) -> str:
    return f"{complex(sp.N(expr, 30)).real:.8g}" if sp.sympify(expr).is_number else f"${sp.latex(expr)}$"


# ----------------------------------------------------------------------------------------------------
# 4. output actions: the mean
# ----------------------------------------------------------------------------------------------------
def _output_mean(search: _Search):
    net = search.net
    last = net.depth - 1
    if net.layers[last].activation.name != "identity":
        search.skip("output mean", "the read-out is not linear")
        return None
    law = net.weight(last).law
    mean = law.loc if isinstance(law, Normal) else law.mean
    if not all(sp.sympify(v).is_zero for v in (mean if isinstance(mean, sp.MatrixBase) else [mean])):
        search.skip("output mean", "the read-out weights have a non-zero mean")
        return None
    d_out = net.output_dim
    bias = net.bias(last)
    if bias is None:
        mu = sp.zeros(d_out, 1)
    else:
        b = bias.law
        loc = b.loc if isinstance(b, Normal) else b.mean
        mu = sp.Matrix(loc) if isinstance(loc, sp.MatrixBase) else sp.sympify(loc) * sp.ones(d_out, 1)
    for g, gdesc in el.witness_elements(search.group):
        rot = sp.Matrix(g) * mu
        for a in range(d_out):
            if differs(Value.exact(mu[a]), Value.exact(rot[a])):
                qty = (f"the component $G^{{(1)}}_{{{a + 1}}}(x) = E[b^{{{last}}}_{{{a + 1}}}]$ (every $x$) versus "
                       f"$(g\\,G^{{(1)}})_{{{a + 1}}}$")
                details = [f"With a linear read-out whose weights have mean 0 and are independent of the hidden "
                           f"layers, $G^{{(1)}}(x) = E[W^{{{last}}}]\\,E[\\phi(z^{{({last - 1})}}(x))] + E[b^{{{last}}}] = "
                           f"E[b^{{{last}}}]$ exactly, at every width and in the GP limit."]
                w = make_witness(g, gdesc, qty, Value.exact(mu[a]), Value.exact(rot[a]), search.subs, details,
                                 DEEP_ENGINE, WitnessKind.MEAN)
                w.data = {"n": 1, "index": (a,)}
                return w
    search.skip("output mean", "the read-out bias mean is fixed by the probed elements")
    return None


# ----------------------------------------------------------------------------------------------------
# the search
# ----------------------------------------------------------------------------------------------------
def deep_witness(network: Network, group: Group, on: Side, *, finite_width: bool = True,
                 values: dict | None = None) -> DeepWitnessStep:
    """Search for an exact witness against ``group`` acting on ``on`` for a network with two or more hidden
    layers (module docstring); a claim about the infinite-width limit when ``finite_width`` is False."""
    on = Side.parse(on)
    net, grp, subs = _instance(network, group, values)
    numeric = not _hidden_width_symbols(net)
    if not isinstance(net.input_dim, int) or el.concrete_dim(grp) is None or \
            (el.family(grp) is not Family.T and el.is_trivial(grp)) or set(net.free_symbols) - _hidden_width_symbols(net):
        return DeepWitnessStep(None, numeric_width=numeric,
                               not_applied=(("every argument", "the network or the group is not concrete"),))
    search = _Search(net, grp, on, subs, finite_width, numeric)

    def done(witness, argument, scope, **kw):
        return DeepWitnessStep(witness, argument, scope, numeric_width=numeric, not_applied=tuple(search.not_applied),
                               failures=tuple(search.failures), **kw)

    if on is Side.OUTPUT:
        w = _output_mean(search)
        return done(w, Argument.OUTPUT_MEAN if w else None, WidthScope.EVERY_WIDTH if w else None)
    chain = monotone_chain(net)
    if chain is None:
        search.skip("every argument", "the deep recursions do not read this network (symcorr.deep.layers)")
        return done(None, None, None)
    both = chain.every_width and chain.gp_limit
    if chain.every_width and (finite_width or chain.gp_limit):
        found = _first_layer_cases(search, chain, every_width=both or finite_width)
        if found is not None:
            return done(found[0], Argument.MONOTONE, WidthScope.EVERY_WIDTH if finite_width or both
                        else WidthScope.GP_LIMIT, chain=chain, case=found[1])
    elif not chain.every_width:
        search.skip("monotone at every width", "; ".join(chain.reasons))
    if finite_width and numeric:
        search.skip("GP limit and 1/N series", "the width is numeric: a difference in the infinite-width limit or "
                    "in the 1/N series says nothing exact about one finite width")
        return done(None, None, None, chain=chain)
    large = finite_width
    if large:
        reason = _no_expansion(net)
        if reason is not None:
            search.skip("GP limit and 1/N series", f"no 1/N expansion for this network ({reason}), so the limit "
                        "says nothing about large finite widths")
            return done(None, None, None, chain=chain)
    scope = WidthScope.LARGE_WIDTH if large else WidthScope.GP_LIMIT
    if chain.gp_limit:
        found = None if chain.every_width else _first_layer_cases(search, chain, every_width=False)
        found = found or _first_metric(search)
        if found is not None:
            return done(found[0], Argument.MONOTONE, scope, chain=chain, case=found[1])
    elif not chain.every_width:
        search.skip("monotone in the GP limit", "; ".join(chain.reasons))
    gp = _gp_kernel(search)
    if gp is not None:
        return done(gp[0], Argument.GP_KERNEL, scope, chain=chain, leading=gp[1])
    if large:
        inv = _inverse_width(search)
        if inv is not None:
            return done(inv[0], Argument.INVERSE_WIDTH, WidthScope.LARGE_WIDTH, chain=chain, leading=inv[1])
    return done(None, None, None, chain=chain)


def _no_expansion(net: Network) -> str | None:
    """Why the 1/N expansion of :mod:`symcorr.deep.finite_width` does not exist for this network (None: it
    does, so its finite-width correlators tend to the GP limit like ``K + O(1/N)``)."""
    found = _one_width(net)
    if found is None:
        return "a hidden width is not a rational multiple of one width symbol"
    try:
        FiniteWidth(found[0])
    except SpecError as err:
        return err.reason
    return None


def deep_witness_step(network: Network, group: Group, on: Side, *, finite_width: bool = True,
                      values: dict | None = None) -> DeepWitnessStep:
    """:func:`deep_witness` through :func:`~symcorr.duality.engines.run_engine`: a failing search is an open
    step with the failure, never evidence."""
    try:
        step, failure = run_engine(DEEP_ENGINE, "the deep-network witness search", deep_witness, network, group,
                                   on, finite_width=finite_width, values=values)
    except Unsupported:
        return DeepWitnessStep(None, not_applied=(("every argument", "declined"),))
    return step if failure is None else DeepWitnessStep(None, failures=(failure,))
