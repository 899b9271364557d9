r"""Function-space witnesses: a concrete group element and a correlator that changes.

A refutation must be about the *network density*, not the parameter law (a non-invariant parameter law
only shows that one parameter map fails to absorb the action).  The witnesses searched here are

* input actions: :math:`G^{(n)}(g x_1, \dots, g x_n) \ne G^{(n)}(x_1, \dots, x_n)` at concrete points
  (translations: :math:`x_k + c`);
* output actions: :math:`(\rho^{\otimes n} G^{(n)})_{a} \ne G^{(n)}_{a}` for some output indices;
* NTK claims: the expected NTK :math:`E[\Theta(x, y)]` moves;
* GP-limit claims: the kernel moves.

If the density were invariant all of these would be equalities, so any inequality refutes invariance.
Symbols of the network are replaced by numbers (the spec's ``[values]`` or small defaults): a claim
about every value of a symbol is refuted by one instance, and the witness records the instance.

Correlators come from the exact single-hidden-layer engine (:mod:`symcorr.duality.moments`) and, when
the developer-A module :mod:`symcorr.symbolic` is importable, from its closed forms.  Values obtained
by quadrature count only when the difference exceeds 50 times the estimated error.
"""

from __future__ import annotations

import random

import sympy as sp

from ..groups import Group
from ..spec import Network
from . import elements as el
from .moments import OneLayerModel, TwoLayerModel, Unsupported, Value
from .proof import Witness

__all__ = ["default_values", "concretize", "find_witness", "kernel_invariance", "differs", "zero_test"]

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
    difference must exceed ``QUADRATURE_MARGIN`` times the sum of the error estimates."""
    if a.num is None or b.num is None:
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
    name = "symcorr.duality.moments"

    def __init__(self, net):
        self.model = TwoLayerModel(net) if net.depth == 2 else OneLayerModel(net)

    def correlator(self, points, indices):
        return self.model.correlator(points, indices)

    def neuron_moment(self, points):
        return self.model.neuron.moment([(self.model.activation, p) for p in points])


class _SymbolicEngine:
    """Developer A's closed forms (``symcorr.symbolic.correlator``), used when they are closed forms."""

    name = "symcorr.symbolic"

    def __init__(self, net):
        from ..symbolic import correlator  # noqa: F401  (raises ImportError when absent)

        self.net = net
        self._cache = {}

    def correlator(self, points, indices):
        from ..symbolic import correlator

        n = len(points)
        if n not in self._cache:
            self._cache[n] = correlator(self.net, n)
        try:
            expr = self._cache[n].expr([list(p) for p in points], tuple(indices))
        except Exception as exc:  # the module declines this network or order
            raise Unsupported(str(exc)) from None
        expr = sp.sympify(expr)
        if _has_integral(expr) or expr.free_symbols:
            raise Unsupported("not a closed form")
        return Value.exact(expr)


def _has_integral(expr) -> bool:
    """Does the expression contain an unevaluated integral (SymPy's or symcorr.symbolic's)?"""
    kinds = [sp.Integral]
    try:
        from ..symbolic import GaussianExpectation, ParameterIntegral

        kinds += [GaussianExpectation, ParameterIntegral]
    except ImportError:  # pragma: no cover - the module is optional for the prover
        pass
    return any(expr.has(k) for k in kinds)


def _engines(net: Network, use_symbolic: bool = True):
    out = []
    try:
        out.append(_OwnEngine(net))
    except Unsupported:
        pass
    if use_symbolic:
        try:
            out.append(_SymbolicEngine(net))
        except ImportError:
            pass
        except Exception:  # pragma: no cover - a broken optional engine must not stop the prover
            pass
    return out


# ----------------------------------------------------------------------------------------------------
# probes
# ----------------------------------------------------------------------------------------------------
def _unit(d, i, scale):
    return [scale if j == i else sp.Integer(0) for j in range(d)]


def _probes(d: int, n: int):
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


def _act_input(g, point, fam):
    if fam == "T":
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


def _fmt_points(points):
    return "(" + ", ".join(_fmt_point(p) for p in points) + ")"


# ----------------------------------------------------------------------------------------------------
# the search
# ----------------------------------------------------------------------------------------------------
def _input_witness(engines, group, orders, subs):
    fam = el.family(group)
    d = group.n
    for n in orders:
        for engine in engines:
            for g, gdesc in el.witness_elements(group):
                for pts in _probes(d, n):
                    moved = [_act_input(g, p, fam) for p in pts]
                    try:
                        before = engine.correlator(pts, (0,) * n)
                        after = engine.correlator(moved, (0,) * n)
                    except Unsupported:
                        continue
                    if differs(before, after):
                        what = "x_k + c" if fam == "T" else "g x_k"
                        qty = (f"$G^{{({n})}}$ at the points $x = {_fmt_points(pts)}$ versus at ${what}$")
                        details = []
                        if n >= 2 and hasattr(engine, "neuron_moment"):
                            try:
                                m0, m1 = engine.neuron_moment(pts), engine.neuron_moment(moved)
                                details.append(f"The single-neuron moment $m_{{{n}}} = E[\\prod_k \\phi(z(x_k))]$ "
                                               f"goes from {_num(m0)} to {_num(m1)}.")
                            except Unsupported:
                                pass
                        w = _make_witness(g, gdesc, qty, before, after, subs, details, engine.name)
                        w.data = {"n": n, "points": pts, "moved": moved, "indices": (0,) * n}
                        return w
    return None


def _num(v: Value) -> str:
    if v.is_exact:
        return f"{complex(v.num).real:.6g}"
    return f"{complex(v.num).real:.6g} (± {v.err:.1g})"


def _make_witness(g, gdesc, qty, before, after, subs, details, engine):
    exact = before.is_exact and after.is_exact
    return Witness(element_name="c" if sp.Matrix(g).cols == 1 else "g",
        element=sp.Matrix(g), element_description=gdesc[0].upper() + gdesc[1:], quantity=qty,
        before=before.expr if exact else before.num.real, after=after.expr if exact else after.num.real,
        kind="correlator" if exact else "quadrature", error=max(before.err, after.err), values=dict(subs),
        details=details, engine=engine)


def _moved_rows(g) -> list[int]:
    n = g.rows
    rows = [i for i in range(n) if any(g[i, j] != (1 if i == j else 0) for j in range(n))]
    rest = [i for i in range(n) if i not in rows]
    return rows + rest[:1]


def _output_witness(engines, group, orders, d_in, subs):
    for n in orders:
        if n > 4:
            continue
        for engine in engines:
            for g, gdesc in el.witness_elements(group):
                idx = _moved_rows(g)
                if len(idx) ** n > 256:
                    continue
                for pts in _probes(d_in, n)[:2]:
                    cache = {}

                    def entry(b):
                        if b not in cache:
                            cache[b] = engine.correlator(pts, b)
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
                                       f"$x = {_fmt_points(pts)}$ versus $(g^{{\\otimes {n}}}{name})_"
                                       f"{{{','.join(str(i + 1) for i in a)}}}$")
                                w = _make_witness(g, gdesc, qty, entry(a), rotated, subs, [], engine.name)
                                w.data = {"n": n, "points": pts, "index": a}
                                return w
                    except Unsupported:
                        continue
    return None


def _tuples(idx, n):
    import itertools

    return list(itertools.product(idx, repeat=n))


def _ntk_witness(net, group, on, subs):
    try:
        model = TwoLayerModel(net) if net.depth == 2 else OneLayerModel(net)
    except Unsupported:
        return None
    fam = el.family(group)
    d = net.input_dim
    for g, gdesc in el.witness_elements(group):
        for x, y in _probes(d, 2):
            try:
                if on == "input":
                    before = model.ntk_mean(x, y)
                    after = model.ntk_mean(_act_input(g, x, fam), _act_input(g, y, fam))
                    if differs(before, after):
                        qty = (f"the expected NTK $E[\\Theta_{{11}}(x, y)]$ at $(x, y) = {_fmt_points([x, y])}$ "
                               f"versus at the moved points")
                        w = _make_witness(g, gdesc, qty, before, after, subs, [], "symcorr.duality.moments")
                        w.kind = "ntk-mean"
                        return w
                else:
                    idx = _moved_rows(g)
                    mat = {(a, b): model.ntk_mean(x, y, a, b) for a in idx for b in idx}
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
                                       f"$(x, y) = {_fmt_points([x, y])}$ versus $(gE[\\Theta]g^T)_{{{a + 1}{b + 1}}}$")
                                w = _make_witness(g, gdesc, qty, mat[(a, b)], rot, subs, [], "symcorr.duality.moments")
                                w.kind = "ntk-mean"
                                return w
            except Unsupported:
                continue
    return None


def find_witness(network: Network, group: Group, on: str, *, correlator: str = "function",
                 orders=(1, 2, 4), values: dict | None = None, finite_width: bool = True,
                 use_symbolic: bool = True) -> Witness | None:
    """Search for a function-space witness that ``group`` acting on ``on`` is not a symmetry."""
    try:
        net, grp, subs = concretize(network, group, values)
    except Exception:
        return None
    if not net.is_concrete or el.concrete_dim(grp) is None:
        return None
    if el.family(grp) != "T" and el.is_trivial(grp):
        return None
    if correlator == "ntk":
        return _ntk_witness(net, grp, on, subs)
    engines = _engines(net, use_symbolic)
    if not engines:
        return None
    orders = sorted(set(orders))
    if not finite_width:
        if not _zero_mean_readout(net):
            return None
        orders = [2]
    if on == "input":
        return _input_witness(engines, grp, orders, subs)
    return _output_witness(engines, grp, orders, net.input_dim, subs)


def _zero_mean_readout(net: Network) -> bool:
    try:
        model = TwoLayerModel(net)
    except Unsupported:
        return False
    return model.column_moment([0]) == 0 and all(model.column_moment([a]) == 0 for a in range(model.d_out)) and \
        all(model.bias_moment([a]) == 0 for a in range(model.d_out))


# ----------------------------------------------------------------------------------------------------
# the GP kernel
# ----------------------------------------------------------------------------------------------------
def _gp_scaling(network: Network) -> bool:
    r"""Does the read-out variance scale as :math:`c/N` with the (symbolic) hidden width N, so that the
    infinite-width limit exists?  (A concrete width is taken as given.)"""
    if network.depth != 2:
        return False
    width = network.widths[0]
    law = network.weight(1).law
    if not isinstance(width, sp.Symbol):
        return True
    var = law.variance if law.is_iid else law.var
    bias = network.bias(1)
    ok = not sp.simplify(var * width).has(width)
    return ok and (bias is None or not bias.law.free_symbols & {width})


def pretty_kernel(expr):
    """Display form of a kernel: exponents factored (e.g. :math:`e^{-(x-y)^2/2}`)."""
    return expr.replace(lambda e: isinstance(e, sp.exp), lambda e: sp.exp(sp.factor(sp.expand(e.args[0]))))


def _one_parameter_elements(group: Group):
    """Elements depending on one parameter ``a`` that together generate the group (plane rotations with
    the rational Cayley parametrisation), plus the discrete generators; translations: a symbolic c."""
    fam = el.family(group)
    n = group.n
    if fam == "T":
        cs = sp.symbols(f"c0:{n}", real=True)
        return [(sp.Matrix(cs), list(cs))]
    a = sp.Symbol("a", real=True)
    out = []
    for gen in el.lie_algebra(group):
        rot = el.plane_rotation(gen, n)  # rot - rot^T = 2 sin(alpha) L' with L' the unit generator
        unit = ((rot - rot.T) / (2 * el.SIN_ALPHA)).applyfunc(sp.radsimp)
        cos_a, sin_a = (1 - a ** 2) / (1 + a ** 2), 2 * a / (1 + a ** 2)
        out.append(((sp.eye(n) + sin_a * unit + (1 - cos_a) * unit * unit).applyfunc(sp.radsimp), [a]))
    out += [(g, []) for g in el.discrete_generators(group)]
    return out


def zero_test(expr, syms=None, tries: int = 4, seed: int = 1, max_ops: int = 3000):
    """Exact zero test for a closed-form expression.

    Returns ``(False, point)`` when the expression is non-zero at a random rational point (evaluated
    to 40 digits, which settles it), ``(True, None)`` when it simplifies to 0, ``(None, None)``
    otherwise (too large to simplify, or SymPy cannot decide)."""
    expr = sp.sympify(expr)
    if expr == 0:
        return True, None
    syms = sorted(expr.free_symbols, key=str) if syms is None else [s for s in syms if s in expr.free_symbols]
    rng = random.Random(seed)
    for _ in range(tries):
        point = {s: sp.Rational(rng.randint(-9, 9), rng.randint(2, 9)) for s in syms}
        try:
            val = sp.N(expr.subs(point), 40)
        except Exception:
            continue
        if val.is_number and val.is_finite is not False and abs(complex(val)) > 1e-25:
            return False, point
    cheap = sp.cancel(sp.expand(expr))
    if cheap == 0:
        return True, None
    if sp.count_ops(cheap) > max_ops:
        return None, None
    if sp.simplify(cheap) == 0:
        return True, None
    return None, None


def kernel_invariance(network: Network, group: Group, values: dict | None = None):
    r"""Is the GP kernel :math:`K(x, y)` invariant, :math:`K(gx, gy) = K(x, y)` for all x, y, g?

    Decided with symbolic points and one-parameter (Cayley) rotations that generate the group, by exact
    simplification.  Returns ``(status, K expression, witness or None)``; status None when the engine
    does not apply or the simplification is inconclusive."""
    if not _gp_scaling(network):
        return None, None, None
    try:
        net, grp, subs = concretize(network, group, values)
        model = TwoLayerModel(net)
    except Exception:
        return None, None, None
    if not _zero_mean_readout(net) or el.concrete_dim(grp) is None:
        return None, None, None
    d = net.input_dim
    xs = sp.symbols(f"x0:{d}", real=True)
    ys = sp.symbols(f"y0:{d}", real=True)
    fam = el.family(grp)
    try:
        k = model.gp_kernel(list(xs), list(ys))
    except (Unsupported, Exception):
        return None, None, None
    if not k.is_exact:
        return None, None, None
    status = True
    for g, params in _one_parameter_elements(grp):
        gx = _act_input(g, list(xs), fam)
        gy = _act_input(g, list(ys), fam)
        try:
            kg = model.gp_kernel(gx, gy)
        except Exception:
            return None, k.expr, None
        if not kg.is_exact:
            return None, k.expr, None
        s, point = zero_test(kg.expr - k.expr, list(xs) + list(ys) + list(params))
        if s is False:
            gnum = g.subs(point) if params else g
            xv = [point[v] for v in xs]
            yv = [point[v] for v in ys]
            before = model.gp_kernel(xv, yv)
            after = model.gp_kernel(_act_input(gnum, xv, fam), _act_input(gnum, yv, fam))
            wit = _make_witness(gnum, "The group element", f"the GP kernel $K(x, y)$ at $(x, y) = "
                                f"{_fmt_points([xv, yv])}$ versus at the moved points", before, after, subs, [],
                                "symcorr.duality.moments")
            wit.kind = "kernel"
            return False, pretty_kernel(k.expr), wit
        if s is None:
            status = None
    return status, pretty_kernel(k.expr), None
