r"""Function-space witnesses: a concrete group element and a correlator that changes.

A refutation must be about the *network density*, not the parameter law (a non-invariant parameter law
only shows that one parameter map fails to absorb the action).  The witnesses searched here are

* input actions: :math:`G^{(n)}(g x_1, \dots, g x_n) \ne G^{(n)}(x_1, \dots, x_n)` at concrete points
  (translations: :math:`x_k + c`);
* output actions: :math:`(\rho^{\otimes n} G^{(n)})_{a} \ne G^{(n)}_{a}` for some output indices;
* NTK claims: the expected NTK :math:`E[\Theta(x, y)]` moves;
* GP-limit claims: :math:`G^{(2)}`, i.e. the kernel, moves (the exact kernel check is
  :mod:`symcorr.duality.kernel`).

If the density were invariant all of these would be equalities, so any inequality refutes invariance.
Symbols of the network are replaced by numbers (the spec's ``[values]`` or small defaults): a claim
about every value of a symbol is refuted by one instance, and the witness records the instance.

Correlators come from the exact single-hidden-layer engine (:mod:`symcorr.duality.moments`) and from
the closed forms of :mod:`symcorr.symbolic`.  Values obtained by quadrature count only when the
difference exceeds 50 times the estimated error.

An engine that declines (:class:`~symcorr.duality.engines.Unsupported`) says nothing; one that fails
(raises anything else, or returns a NaN or an infinity) is recorded as an
:class:`~symcorr.duality.engines.EngineFailure` in the :class:`WitnessSearch` (or :class:`KernelCheck`)
and not asked again; the proof shows the failure, and nothing is concluded from it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import sympy as sp

from ..errors import SpecError
from ..groups import Group
from ..spec import Network
from ..symbolic import GaussianExpectation, ParameterIntegral
from ..symbolic import correlator as symbolic_correlator
from ..verdicts import CorrelatorKind, Side
from . import elements as el
from .elements import Family
from .engines import EngineFailure, Unsupported, run_engine
from .moments import OneLayerModel, TwoLayerModel, Value
from .proof import Witness, WitnessKind

__all__ = ["default_values", "concretize", "WitnessSearch", "witness_search", "translation_witness", "differs",
           "zero_mean_readout", "act_input", "fmt_points", "make_witness", "has_integral", "probe_points",
           "OWN_ENGINE"]

#: the name under which the prover's own single-hidden-layer engine reports
OWN_ENGINE = "symcorr.duality.moments"

#: a quadrature difference must exceed this many estimated errors to count
QUADRATURE_MARGIN = 50.0


def default_values(network: Network, group: Group | None = None, values: dict | None = None) -> dict:
    """Numbers for the free symbols: ``values`` first (keys symbols or names), then defaults (input and
    output dimensions 2, other sizes 3, positive parameters 1, other reals 1/2)."""
    syms = set(network.free_symbols)
    if group is not None and isinstance(group.n, sp.Basic):
        syms |= group.n.free_symbols
    given = {}
    for k, v in (values or {}).items():
        given[str(k)] = v
    out = {}
    for s in sorted(syms, key=str):
        if str(s) in given:
            out[s] = sp.sympify(given[str(s)])
        elif s.is_integer and s.is_positive:
            out[s] = 2 if s in (network.input_dim, network.output_dim) else 3
        elif s.is_positive or s.is_nonnegative:
            out[s] = sp.Integer(1)
        else:
            out[s] = sp.Rational(1, 2)
    return out


def concretize(network: Network, group: Group, values: dict | None = None):
    """(network, group, substitutions) with every symbol replaced by a number."""
    subs = default_values(network, group, values)
    net = network.subs(subs) if subs else network
    grp = group.subs(subs) if subs and isinstance(group.n, sp.Basic) else group
    return net, grp, subs


def differs(a: Value, b: Value) -> bool:
    """Is ``b - a`` certainly non-zero?  Exact values: evaluated to 30 digits; quadrature values: the
    difference must exceed ``QUADRATURE_MARGIN`` times the sum of the error estimates.  (Non-finite
    values never get here: :meth:`WitnessSearch.value` records them as failures.)"""
    if a.num is None or b.num is None or not (a.is_finite and b.is_finite):
        return False
    diff = abs(b.num - a.num)
    scale = 1.0 + abs(a.num) + abs(b.num)
    if a.is_exact and b.is_exact:
        d = sp.N(b.expr - a.expr, 40)
        return abs(complex(d)) > 1e-25 * scale
    return diff > QUADRATURE_MARGIN * (a.err + b.err) + 1e-10 * scale


# ----------------------------------------------------------------------------------------------------
# correlator engines
# ----------------------------------------------------------------------------------------------------
class _OwnEngine:
    name = OWN_ENGINE

    def __init__(self, net):
        self.model = TwoLayerModel(net) if net.depth == 2 else OneLayerModel(net)

    def correlator(self, points, indices):
        return self.model.correlator(points, indices)

    def neuron_moment(self, points):
        return self.model.neuron.moment([(self.model.activation, p) for p in points])


class _SymbolicEngine:
    """The closed forms of :mod:`symcorr.symbolic` (``correlator(network, n)``), used when they are
    closed forms.  It declines (SpecError, NotImplementedError) networks and orders it has no rules for."""

    name = "symcorr.symbolic"

    def __init__(self, net):
        self.net = net
        self._cache = {}

    def correlator(self, points, indices):
        n = len(points)
        try:
            if n not in self._cache:
                self._cache[n] = symbolic_correlator(self.net, n)
            expr = self._cache[n].expr([list(p) for p in points], tuple(indices))
        except (SpecError, NotImplementedError) as exc:  # the module declines this network or order
            raise Unsupported(str(exc)) from None
        expr = sp.sympify(expr)
        if has_integral(expr) or expr.free_symbols:
            raise Unsupported("not a closed form")
        return Value.exact(expr)


def has_integral(expr) -> bool:
    """Does the expression contain an unevaluated integral (SymPy's or symcorr.symbolic's)?"""
    return any(expr.has(k) for k in (sp.Integral, GaussianExpectation, ParameterIntegral))


@dataclass
class WitnessSearch:
    """The outcome of :func:`witness_search`: a witness (or None) and the engines that failed."""

    witness: Witness | None = None
    failures: list[EngineFailure] = field(default_factory=list)
    _broken: set = field(default_factory=set, repr=False)

    def value(self, engine: str, task: str, fn, *args) -> Value:
        """``fn(*args)``, a finite :class:`Value`.  Raises Unsupported when the engine declines, and
        also when it fails (raises, or returns a NaN or an infinity): the failure is recorded and the
        engine is not asked again."""
        if engine in self._broken:
            raise Unsupported(f"{engine} failed earlier in this search")
        val, failure = run_engine(engine, task, fn, *args)
        if failure is None and not val.is_finite:
            failure = EngineFailure.non_finite(engine, task, val.num if val.num is not None else val.expr)
        if failure is not None:
            self.failures.append(failure)
            self._broken.add(engine)
            raise Unsupported(failure.reason)
        return val

    def make(self, engine_cls, net):
        """An engine for ``net``, or None when it declines or fails (a failure is recorded)."""
        try:
            engine, failure = run_engine(engine_cls.name, "setting up the engine", engine_cls, net)
        except Unsupported:
            return None
        if failure is not None:
            self.failures.append(failure)
        return engine


# ----------------------------------------------------------------------------------------------------
# probes
# ----------------------------------------------------------------------------------------------------
def _unit(d, i, scale):
    return [scale if j == i else sp.Integer(0) for j in range(d)]


def probe_points(d: int, n: int):
    """Probe points: an axis point, and two generic points whose differences have no zero coordinate
    (so that e.g. a sign flip of one coordinate changes every difference)."""
    half = sp.Rational(1, 2)
    p1 = _unit(d, 0, half)
    p2 = [half if j == 0 else sp.Rational((-1) ** j, j + 2) for j in range(d)]
    p3 = [sp.Rational((-1) ** (j + 1), j + 3) for j in range(d)]
    if n == 1:
        return [[p1], [p2]]
    if n == 2:
        return [[p1, p1], [p1, p2], [p2, p3]]
    if n == 3:
        return [[p1, p1, p1], [p1, p2, p3]]
    if n == 4:
        tenth = [_unit(d, 0, sp.Rational(k, 10)) for k in (1, 2, 3, 4)]
        return [tenth, [p1] * 4, [p1, p2, p3, p3]]
    return [[p1] * n]


def act_input(g, point, fam):
    if fam is Family.T:
        return [sp.nsimplify(point[j] + g[j]) for j in range(len(point))]
    v = sp.Matrix(g) * sp.Matrix(point)
    return [sp.radsimp(x) for x in v]


def _fmt_point(p) -> str:
    if len(p) == 1:
        return sp.latex(p[0])
    nonzero = [(j, v) for j, v in enumerate(p) if v != 0]
    if len(p) > 4 and len(nonzero) <= 2:
        if not nonzero:
            return "0"
        return " + ".join(f"{sp.latex(v)}\\,e_{{{j + 1}}}" for j, v in nonzero)
    return "(" + ", ".join(sp.latex(v) for v in p) + ")"


def fmt_points(points):
    return "(" + ", ".join(_fmt_point(p) for p in points) + ")"


# ----------------------------------------------------------------------------------------------------
# the search
# ----------------------------------------------------------------------------------------------------
def _input_witness(search, engines, group, orders, subs):
    fam = el.family(group)
    d = group.n
    for n in orders:
        for engine in engines:
            task = f"G^({n}) at the probe points"
            for g, gdesc in el.witness_elements(group):
                for pts in probe_points(d, n):
                    moved = [act_input(g, p, fam) for p in pts]
                    try:
                        before = search.value(engine.name, task, engine.correlator, pts, (0,) * n)
                        after = search.value(engine.name, task, engine.correlator, moved, (0,) * n)
                    except Unsupported:
                        continue
                    if differs(before, after):
                        what = "x_k + c" if fam is Family.T else "g x_k"
                        qty = (f"$G^{{({n})}}$ at the points $x = {fmt_points(pts)}$ versus at ${what}$")
                        details = []
                        if n >= 2 and hasattr(engine, "neuron_moment"):
                            moment = f"the single-neuron moment m_{n}"
                            try:
                                m0 = search.value(engine.name, moment, engine.neuron_moment, pts)
                                m1 = search.value(engine.name, moment, engine.neuron_moment, moved)
                                details.append(f"The single-neuron moment $m_{{{n}}} = E[\\prod_k \\phi(z(x_k))]$ "
                                               f"goes from {_num(m0)} to {_num(m1)}.")
                            except Unsupported:
                                pass
                        w = make_witness(g, gdesc, qty, before, after, subs, details, engine.name)
                        w.data = {"n": n, "points": pts, "moved": moved, "indices": (0,) * n}
                        return w
    return None


def _num(v: Value) -> str:
    if v.is_exact:
        return f"{complex(v.num).real:.6g}"
    return f"{complex(v.num).real:.6g} (± {v.err:.1g})"


def make_witness(g, gdesc, qty, before, after, subs, details, engine, kind=WitnessKind.CORRELATOR):
    exact = before.is_exact and after.is_exact
    return Witness(element_name="c" if sp.Matrix(g).cols == 1 else "g",
        element=sp.Matrix(g), element_description=gdesc[0].upper() + gdesc[1:], quantity=qty,
        before=before.expr if exact else before.num.real, after=after.expr if exact else after.num.real,
        kind=kind if exact else WitnessKind.QUADRATURE, error=max(before.err, after.err), values=dict(subs),
        details=details, engine=engine)


def _moved_rows(g) -> list[int]:
    n = g.rows
    rows = [i for i in range(n) if any(g[i, j] != (1 if i == j else 0) for j in range(n))]
    rest = [i for i in range(n) if i not in rows]
    return rows + rest[:1]


def _output_witness(search, engines, group, orders, d_in, subs):
    for n in orders:
        if n > 4:
            continue
        for engine in engines:
            task = f"G^({n}) components at the probe points"
            for g, gdesc in el.witness_elements(group):
                idx = _moved_rows(g)
                if len(idx) ** n > 256:
                    continue
                for pts in probe_points(d_in, n)[:2]:
                    cache = {}

                    def entry(b):
                        if b not in cache:
                            cache[b] = search.value(engine.name, task, engine.correlator, pts, b)
                        return cache[b]

                    try:
                        for a in _tuples(idx, n):
                            rotated = Value.exact(0)
                            for b in _tuples(idx, n):
                                coef = sp.Mul(*[g[a[k], b[k]] for k in range(n)])
                                if coef != 0:
                                    rotated = rotated + entry(b) * coef
                            if differs(entry(a), rotated):
                                name = "G^{(1)}" if n == 1 else f"G^{{({n})}}"
                                qty = (f"the component ${name}_{{{','.join(str(i + 1) for i in a)}}}$ at "
                                       f"$x = {fmt_points(pts)}$ versus $(g^{{\\otimes {n}}}{name})_"
                                       f"{{{','.join(str(i + 1) for i in a)}}}$")
                                w = make_witness(g, gdesc, qty, entry(a), rotated, subs, [], engine.name)
                                w.data = {"n": n, "points": pts, "index": a}
                                return w
                    except Unsupported:
                        continue
    return None


def _tuples(idx, n):
    return list(itertools.product(idx, repeat=n))


def _ntk_witness(search, net, group, on, subs):
    engine = search.make(_OwnEngine, net)
    if engine is None:
        return None
    model = engine.model
    fam = el.family(group)
    d = net.input_dim
    task = "the expected NTK at the probe points"
    for g, gdesc in el.witness_elements(group):
        for x, y in probe_points(d, 2):
            try:
                if on is Side.INPUT:
                    before = search.value(OWN_ENGINE, task, model.ntk_mean, x, y)
                    after = search.value(OWN_ENGINE, task, model.ntk_mean, act_input(g, x, fam), act_input(g, y, fam))
                    if differs(before, after):
                        qty = (f"the expected NTK $E[\\Theta_{{11}}(x, y)]$ at $(x, y) = {fmt_points([x, y])}$ "
                               f"versus at the moved points")
                        return make_witness(g, gdesc, qty, before, after, subs, [], OWN_ENGINE, WitnessKind.NTK_MEAN)
                else:
                    idx = _moved_rows(g)
                    mat = {(a, b): search.value(OWN_ENGINE, task, model.ntk_mean, x, y, a, b) for a in idx for b in idx}
                    for a in idx:
                        for b in idx:
                            rot = Value.exact(0)
                            for c in idx:
                                for e in idx:
                                    coef = g[a, c] * g[b, e]
                                    if coef != 0:
                                        rot = rot + mat[(c, e)] * coef
                            if differs(mat[(a, b)], rot):
                                qty = (f"the expected NTK component $E[\\Theta_{{{a + 1}{b + 1}}}]$ at "
                                       f"$(x, y) = {fmt_points([x, y])}$ versus $(gE[\\Theta]g^T)_{{{a + 1}{b + 1}}}$")
                                return make_witness(g, gdesc, qty, mat[(a, b)], rot, subs, [], OWN_ENGINE,
                                                     WitnessKind.NTK_MEAN)
            except Unsupported:
                continue
    return None


def witness_search(network: Network, group: Group, on: Side | str, *,
                   correlator: CorrelatorKind | str = CorrelatorKind.FUNCTION, orders=(1, 2, 4),
                   values: dict | None = None, finite_width: bool = True, use_symbolic: bool = True) -> WitnessSearch:
    """Search for a function-space witness that ``group`` acting on ``on`` is not a symmetry; the
    result also lists the engines that failed (:class:`WitnessSearch`)."""
    on, correlator = Side.parse(on), CorrelatorKind.parse(correlator)
    search = WitnessSearch()
    try:
        (net, grp, subs), failure = run_engine("symcorr.duality.witness", "substituting numbers for the symbols",
                                               concretize, network, group, values)
    except Unsupported:
        return search
    if failure is not None:
        search.failures.append(failure)
        return search
    if not net.is_concrete or el.concrete_dim(grp) is None:
        return search
    if el.family(grp) is not Family.T and el.is_trivial(grp):
        return search
    if correlator is CorrelatorKind.NTK:
        search.witness = _ntk_witness(search, net, grp, on, subs)
        return search
    engines = [e for e in (search.make(_OwnEngine, net), search.make(_SymbolicEngine, net) if use_symbolic else None)
               if e is not None]
    if not engines:
        return search
    orders = sorted(set(orders))
    if not finite_width:
        if not zero_mean_readout(net):
            return search
        orders = [2]
    if on is Side.INPUT:
        search.witness = _input_witness(search, engines, grp, orders, subs)
    else:
        search.witness = _output_witness(search, engines, grp, orders, net.input_dim, subs)
    return search


def translation_witness(group: Group) -> Witness:
    """The structural witness against output translations: no law on :math:`\\mathbb R^d` is invariant
    under every shift, so the law of :math:`f_1(x)` moves (its mean, when finite, by 1)."""
    mean = sp.Symbol("E[f_1(x)]")
    return Witness(sp.Matrix([1] + [0] * (int(group.n) - 1)) if isinstance(group.n, int) else None,
                   "The shift c = e_1", "the law of $f_1(x)$ (when finite, its mean $G^{(1)}_1(x)$)",
                   mean, mean + 1, kind=WitnessKind.STRUCTURAL, element_name="c")


def zero_mean_readout(net: Network) -> bool:
    """Does the single-hidden-layer network have a zero-mean read-out (so that G^(2) is the GP kernel)?"""
    try:
        model = TwoLayerModel(net)
    except Unsupported:
        return False
    return model.column_moment([0]) == 0 and all(model.column_moment([a]) == 0 for a in range(model.d_out)) and \
        all(model.bias_moment([a]) == 0 for a in range(model.d_out))
