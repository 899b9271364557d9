r"""n-point correlators of random networks as exact SymPy expressions.

.. math:: G^{(n)}_{a_1\cdots a_n}(x_1,\dots,x_n) = E\big[f_{a_1}(x_1)\cdots f_{a_n}(x_n)\big]
          = \int d\theta\,P(\theta)\,\prod_i f_{\theta,a_i}(x_i).

**Single hidden layer** :math:`f_a(x) = \sum_{j=1}^N W^1_{aj}\,\phi(z_j(x)) + b^1_a` with iid neurons
(iid rows of :math:`(W^0, b^0)`, iid columns of :math:`W^1`) is evaluated exactly by the rules of
:mod:`symcorr.symbolic.rules`:

1. *independence* of :math:`b^1` and :math:`(W^1, W^0, b^0)`: split the slots into those that take the
   bias (set ``B``) and the rest,
2. *sum over iid neurons*: the rest is partitioned into blocks sharing one neuron index; distinct
   blocks use distinct neurons (:math:`(N)_{|\pi|}` assignments) and columns of :math:`W^1` are
   independent of the hidden layer,

.. math:: G = \sum_{B}E\Big[\prod_{i\in B}b^1_{a_i}\Big]\sum_{\pi\in\Pi(B^c)}(N)_{|\pi|}
          \prod_{\beta\in\pi} E\Big[\prod_{i\in\beta}W^1_{a_i 1}\Big]\, m_\beta,
          \qquad m_\beta = E\Big[\prod_{i\in\beta}\phi(z(x_i))\Big],

3. read-out moments from the read-out law's *cumulants* (Wick pairings with :math:`\delta_{ab}` for a
   zero-mean Gaussian; means and non-Gaussian cumulants otherwise),
4. single-neuron moments :math:`m_\beta` from the kernel table (:mod:`symcorr.symbolic.kernels`).

For :math:`W^1\sim N(0,\sigma_{W1}^2/N)` this gives, e.g., the exact four-point function
:math:`G^{(4)} = \sum_{3}\delta\delta KK + \frac{\sigma_{W1}^4}{N}\sum_3\delta\delta(m_4 - kk)`.
The result is an exact rational function of the width ``N`` (symbolic or numeric); the
*connected* correlators (cumulants) are :math:`O(N^{1-n/2})` exactly, and the GP limit is the Wick sum
of the kernel.

**Any other network** (deep, structured laws, non-linear read-out) gives the unevaluated
:class:`~symcorr.symbolic.integral.ParameterIntegral` (odd correlators vanish exactly when the last
layer's laws are symmetric).
"""

from __future__ import annotations

from itertools import combinations
from typing import Sequence

import numpy as np
import sympy as sp

from ..errors import SpecError
from .inputs import as_points
from .integral import GaussianExpectation, ParameterIntegral, register_network_rules
from .kernels import FirstLayer, neuron_moment
from ..combinatorics import moment_cumulant_coefficient, set_partitions
from .rules import VectorLaw, wick_sum

__all__ = ["Correlator", "CorrelatorForm", "Terms", "correlator"]


# ----------------------------------------------------------------------------------------------------
# sums of monomials with width-dependent coefficients
# ----------------------------------------------------------------------------------------------------
class Terms(dict):
    r"""A sum :math:`\sum_k c_k(N)\, T_k`: ``key`` :math:`T_k` (width-free monomial: deltas, read-out
    constants, moment symbols) -> coefficient :math:`c_k(N)` (the width-dependent part)."""

    def __init__(self, width, *args):
        super().__init__(*args)
        self.width = width

    def _split(self, mono):
        w = self.width
        if isinstance(w, sp.Symbol):
            indep, dep = mono.as_independent(w, as_Add=False)
        else:
            indep, dep = mono, sp.Integer(1)
        coeff, key = indep.as_coeff_Mul()
        return key, coeff * dep

    def __setitem__(self, key, value):
        self._clean = False
        super().__setitem__(key, value)

    def add(self, mono, scale=1):
        if mono == 0:
            return
        key, c = self._split(sp.sympify(mono))
        self[key] = self.get(key, sp.Integer(0)) + scale * c

    def iadd(self, other: "Terms", scale=1):
        for key, c in other.items():
            self[key] = self.get(key, sp.Integer(0)) + scale * c
        return self

    def mul(self, other: "Terms") -> "Terms":
        out = Terms(self.width)
        for k1, c1 in self.items():
            for k2, c2 in other.items():
                key, num = self._split(k1 * k2)
                out[key] = out.get(key, sp.Integer(0)) + num * c1 * c2
        return out

    def cleaned(self) -> "Terms":
        """Coefficients simplified (``factor``), zero terms dropped."""
        if getattr(self, "_clean", False):
            return self
        out = Terms(self.width)
        memo: dict = {}
        for key, c in self.items():
            if c.free_symbols:
                if c not in memo:
                    memo[c] = sp.factor(sp.cancel(c))
                c = memo[c]
            if c != 0 and key != 0:
                out[key] = c
        out._clean = True  # set after the items (__setitem__ resets it)
        return out

    def to_expr(self) -> sp.Expr:
        """:math:`\\sum_c c \\cdot (\\sum \\text{keys with coefficient } c)`, grouped for reading."""
        groups: dict = {}
        for key, c in self.cleaned().items():
            num, rest = sp.sympify(c).as_coeff_Mul()
            groups.setdefault(rest, []).append(num * key)
        # numeric factors sit inside the sums, so rebuilding the expression (subs) keeps its shape
        return sp.Add(*[c * sp.Add(*keys) for c, keys in groups.items()])

    def laurent(self, lowest: int | None = None) -> dict:
        r"""``power -> Terms`` of the exact expansion :math:`\sum_p N^p \sum_k c_{k,p} T_k`.

        ``lowest`` (a negative power) truncates below; needed only where the coefficient is not a
        Laurent polynomial (then :func:`sympy.series` at :math:`N\to\infty` is used)."""
        out: dict[int, Terms] = {}
        for key, c in self.items():
            for p, v in laurent_coefficients(c, self.width, lowest).items():
                out.setdefault(p, Terms(self.width))[key] = out.get(p, {}).get(key, 0) + v
        return out


def laurent_coefficients(c, width, lowest: int | None = None) -> dict:
    """``power -> coefficient`` of ``c(N)`` as a Laurent series at ``N -> oo`` (exact when ``c`` is a
    rational function with a monomial denominator; otherwise a series truncated at ``lowest``)."""
    c = sp.sympify(c)
    if not isinstance(width, sp.Symbol) or width not in c.free_symbols:
        return {0: c} if c != 0 else {}
    c = sp.cancel(c)
    num, den = sp.fraction(c)
    try:
        pden = sp.Poly(den, width)
        pnum = sp.Poly(num, width)
    except sp.PolynomialError:
        pden = None
    if pden is not None and len(pden.terms()) == 1:
        ((k,), lc) = pden.terms()[0]
        out = {}
        for (e,), co in pnum.terms():
            out[e - k] = out.get(e - k, 0) + co / lc
        return {p: v for p, v in out.items() if v != 0}
    if lowest is None:
        raise SpecError(f"the width dependence {c} is not a Laurent polynomial in {width}; give an "
                        "expansion order")
    eps = sp.Dummy("eps", positive=True)
    ser = sp.series(c.subs(width, 1 / eps), eps, 0, -lowest + 1).removeO()
    out = {}
    for term in sp.Add.make_args(sp.expand(ser)):
        co, powr = term.as_independent(eps, as_Add=False)
        e = sp.degree(powr, eps) if powr != 1 else 0
        if powr != 1 and powr != eps ** e:
            raise SpecError(f"cannot expand {c} in powers of 1/{width}")
        out[-int(e)] = out.get(-int(e), 0) + co
    return {p: v for p, v in out.items() if v != 0}


# ----------------------------------------------------------------------------------------------------
# the model of a single-hidden-layer network
# ----------------------------------------------------------------------------------------------------
class _SingleLayer:
    """The laws that the exact evaluation needs, or ``reason`` why the network is not of that kind."""

    def __init__(self, network):
        self.reason = None
        self.first = self.column = self.bias = None
        self.width = network.layers[0].width if network.depth >= 1 else None
        if network.depth != 2:
            self.reason = f"depth {network.depth} (the exact rules cover one hidden layer)"
            return
        if network.layers[1].activation.name != "identity":
            self.reason = "the read-out layer has an activation (the exact rules need a linear read-out)"
            return
        self.first = FirstLayer.from_network(network)
        if self.first is None:
            self.reason = "the hidden neurons are not iid (structured first-layer law)"
            return
        self.column = VectorLaw.from_block(network.weight(1))
        if self.column is None:
            self.reason = "the read-out columns are not iid (column covariance or full-matrix mean)"
            return
        b1 = network.bias(1)
        self.bias = None if b1 is None else VectorLaw(b1.law, "bias")

    @property
    def supported(self) -> bool:
        return self.reason is None


def _last_layer_symmetric(network) -> bool:
    w = network.weight(-1).law.is_symmetric
    b = network.bias(-1)
    return bool(w) and (b is None or bool(b.law.is_symmetric))


def _label(us: Sequence[int]) -> str:
    if max(us) < 9:
        return "".join(str(u + 1) for u in us)
    return ",".join(str(u + 1) for u in us)


class _Builder:
    """Builds the moment sums for one list of points and indices (shared by all slot subsets, so the
    moment symbols are consistent between G, its sub-correlators and the connected parts)."""

    def __init__(self, corr: "Correlator", points: list, indices: list, first: FirstLayer | None):
        self.corr = corr
        self.points = points
        self.indices = indices
        self.first = first
        self.distinct: list = []
        self.slot_point: list[int] = []
        for p in points:
            for u, q in enumerate(self.distinct):
                if q == p:
                    self.slot_point.append(u)
                    break
            else:
                self.distinct.append(p)
                self.slot_point.append(len(self.distinct) - 1)
        self.symbols: dict[tuple, sp.Expr] = {}
        self.definitions: dict[sp.Symbol, sp.Expr] = {}
        self._terms: dict[tuple, Terms] = {}

    # --- single-neuron moments -----------------------------------------------------------------------
    def moment(self, slots) -> sp.Expr:
        counts: dict[int, int] = {}
        for s in slots:
            u = self.slot_point[s]
            counts[u] = counts.get(u, 0) + 1
        key = tuple(sorted(counts.items()))
        if key not in self.symbols:
            us = [u for u, _ in key]
            value = neuron_moment(self.first, [self.distinct[u] for u in us], [p for _, p in key])
            if value.is_number and value in (0, 1):
                self.symbols[key] = value
            else:
                flat = [u for u, p in key for _ in range(p)]
                head = "k" if len(flat) == 2 else "m"
                sym = sp.Symbol(f"{head}_{{{_label(flat)}}}")
                self.symbols[key] = sym
                self.definitions[sym] = value
        return self.symbols[key]

    # --- E[prod_{i in slots} f_{a_i}(x_i)] -----------------------------------------------------------
    def terms(self, slots: tuple) -> Terms:
        slots = tuple(sorted(slots))
        if slots in self._terms:
            return self._terms[slots]
        model = self.corr._model
        width = model.width
        out = Terms(width)
        if not slots:
            out.add(sp.Integer(1))
        elif not model.supported:
            if not (len(slots) % 2 == 1 and _last_layer_symmetric(self.corr.network)):
                out.add(ParameterIntegral(self.corr.network, [self.points[s] for s in slots],
                                          [self.indices[s] for s in slots]))
        else:
            self._single_layer_terms(model, slots, out)
        self._terms[slots] = out
        return out

    def _single_layer_terms(self, model: _SingleLayer, slots: tuple, out: Terms):
        idx = self.indices
        col, bias = model.column, model.bias
        for k in range(len(slots) + 1):
            if k and (bias is None or not bias.moment_orders(k)):
                continue
            for bset in combinations(slots, k):
                bmonos = bias.moment_monomials([idx[i] for i in bset]) if k else [sp.Integer(1)]
                if not bmonos:
                    continue
                rest = [s for s in slots if s not in bset]
                for part in set_partitions(rest, col.moment_orders):
                    monos = bmonos
                    msyms = sp.Integer(1)
                    for block in part:
                        cm = col.moment_monomials([idx[i] for i in block])
                        m = self.moment(block) if cm else 0
                        if not cm or m == 0:
                            monos = []
                            break
                        msyms = msyms * m
                        monos = [a * b for a in monos for b in cm]
                    if not monos:
                        continue
                    count = sp.ff(model.width, len(part))
                    if count == 0:
                        continue
                    for mono in monos:
                        out.add(mono * msyms * count)

    def connected(self, slots: tuple) -> Terms:
        r"""Joint cumulant :math:`\kappa(F_i: i\in\text{slots}) = \sum_\pi (-1)^{|\pi|-1}(|\pi|-1)!
        \prod_{B\in\pi}E[\prod_{i\in B}F_i]`."""
        width = self.corr._model.width
        total = Terms(width)
        for part in set_partitions(slots):
            prod = None
            for block in part:
                t = self.terms(block)
                if not t:
                    prod = None
                    break
                prod = t if prod is None else prod.mul(t)
            if prod is None:
                continue
            total.iadd(prod, moment_cumulant_coefficient(len(part)))
        return total


# ----------------------------------------------------------------------------------------------------
# the displayable result
# ----------------------------------------------------------------------------------------------------
class CorrelatorForm:
    r"""A correlator at given points in readable form, with :attr:`definitions` mapping each named
    piece to its expression.

    * ``style="moments"``: a sum over width-dependent coefficients times monomials in named
      single-neuron moments (``k_{12}``, ``m_{1234}``, ...); :attr:`terms` is the underlying
      :class:`Terms`.
    * ``style="cumulants"``: the moment-cumulant expansion
      :math:`G = \sum_\pi\prod_{B\in\pi}\kappa_B` with :math:`\kappa` of one slot named
      ``M_{i}``, of two slots ``K_{ij}`` (with the :math:`\delta_{a_ia_j}` pulled out when it factors)
      and of more slots ``G^{c}_{ijkl}`` (the connected correlators, :math:`O(N^{1-n/2})`) -- the
      paper's "GP part + connected part" reading.

    ``form.expr`` is the readable expression, ``form.expanded()`` substitutes the definitions
    (recursively), ``form.latex()`` / ``form.markdown()`` print both."""

    def __init__(self, title: str, terms: Terms | None, builder: _Builder, *, expr=None,
                 definitions: dict | None = None):
        self.title = title
        self.terms = terms.cleaned() if terms is not None else None
        self.builder = builder
        self._expr = self.terms.to_expr() if expr is None else expr
        defs = dict(definitions or {})
        defs.update(builder.definitions)
        # keep the definitions reachable from the expression, in order of appearance
        used: dict = {}
        frontier = [self._expr]
        while frontier:
            e = frontier.pop(0)
            for sym in sorted(e.free_symbols, key=str):
                if sym in defs and sym not in used:
                    used[sym] = defs[sym]
                    frontier.append(defs[sym])
        self.definitions = used
        self.width = builder.corr._model.width
        self.points = builder.points
        self.distinct_points = builder.distinct

    @property
    def expr(self) -> sp.Expr:
        return self._expr

    def expanded(self, width=None) -> sp.Expr:
        """The explicit expression (definitions substituted; ``width`` substituted for N if given)."""
        out = self._expr
        for _ in range(4):
            if not (out.free_symbols & set(self.definitions)):
                break
            out = out.xreplace(self.definitions)
        if width is not None and isinstance(self.width, sp.Symbol):
            out = out.subs(self.width, width)
        return out

    def latex(self) -> str:
        lines = [rf"{self.title} = {sp.latex(self.expr)}"]
        for s, v in self.definitions.items():
            lines.append(rf"{sp.latex(s)} = {sp.latex(v)}")
        return r",\\ ".join(lines) if len(lines) > 1 else lines[0]

    def markdown(self) -> str:
        out = [f"$${self.title} = {sp.latex(self.expr)}$$"]
        if self.distinct_points and not getattr(self, "generic", False):
            pts = ", ".join(f"$x_{{{u + 1}}} = {sp.latex(p)}$" for u, p in enumerate(self.distinct_points))
            out.append(f"Points: {pts}.")
        if self.definitions:
            out.append("where")
            for s, v in self.definitions.items():
                out.append(f"- ${sp.latex(s)} = {sp.latex(v)}$")
        return "\n\n".join(out[:2]) + ("\n\n" + "\n".join(out[2:]) if len(out) > 2 else "")

    def _repr_latex_(self):
        return f"$${self.latex()}$$"

    def __repr__(self):
        return f"CorrelatorForm({self.expr})"


def _cumulant_form(title: str, b: _Builder, slots: tuple) -> CorrelatorForm:
    r"""``G = sum_pi prod_B kappa_B`` with named cumulants (see :class:`CorrelatorForm`)."""
    names: dict[tuple, sp.Expr] = {}
    defs: dict = {}

    def piece(block):
        if block in names:
            return names[block]
        e = b.connected(block).cleaned().to_expr()
        label = _label(block)
        if e == 0:
            out = sp.Integer(0)
        elif len(block) == 1:
            out = sp.Symbol(f"M_{{{label}}}")
            defs[out] = e
        elif len(block) == 2:
            sym = sp.Symbol(f"K_{{{label}}}")
            delta = sp.KroneckerDelta(b.indices[block[0]], b.indices[block[1]])
            rest = e.xreplace({delta: 1}) if isinstance(delta, sp.KroneckerDelta) else e
            if isinstance(delta, sp.KroneckerDelta) and delta not in rest.atoms(sp.KroneckerDelta) \
                    and sp.expand(delta * rest - e) == 0:
                defs[sym], out = rest, delta * sym
            else:
                defs[sym], out = e, sym
        else:
            out = sp.Symbol(f"G^{{c}}_{{{label}}}")
            defs[out] = e
        names[block] = out
        return out

    total = []
    for part in set_partitions(slots):
        term = sp.Integer(1)
        for block in part:
            term = term * piece(tuple(block))
            if term == 0:
                break
        total.append(term)
    return CorrelatorForm(title, None, b, expr=sp.Add(*total), definitions=defs)


# ----------------------------------------------------------------------------------------------------
# the correlator
# ----------------------------------------------------------------------------------------------------
class Correlator:
    r"""The n-point function :math:`G^{(n)}_{a_1..a_n}(x_1..x_n)` of a network (module docstring).

    Points: lists/columns of numbers or expressions (length ``d_in``) or matrix expressions
    (``MatrixSymbol('x1', D, 1)``, ``R*x1``, ``x1 + c``).  Indices: ints or SymPy symbols (deltas
    become ``KroneckerDelta``); default all 0.
    """

    def __init__(self, network, n: int):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise SpecError(f"the correlator order n must be a positive integer, got {n!r}")
        self.network = network
        self.n = n
        self._model = _SingleLayer(network)
        self._cache: dict = {}

    # --- inputs --------------------------------------------------------------------------------------
    @property
    def width(self):
        """The hidden width (a SymPy symbol or an int) of a single-hidden-layer network."""
        return self._model.width

    @property
    def is_exact(self) -> bool:
        """True when the rules evaluate this network (single hidden layer, iid neurons)."""
        return self._model.supported

    @property
    def reason(self) -> str | None:
        """Why the correlator stays a parameter integral (None when :attr:`is_exact`)."""
        return self._model.reason

    def _indices(self, indices, n) -> list:
        if indices is None:
            return [sp.Integer(0)] * n
        if isinstance(indices, (int, sp.Basic)) and not isinstance(indices, sp.Tuple):
            indices = [indices]
        idx = list(indices)
        if len(idx) != n:
            raise SpecError(f"this is a {n}-point correlator; got {len(idx)} output indices", "indices")
        d_out = self.network.output_dim
        out = []
        for i, a in enumerate(idx):
            if isinstance(a, bool):
                raise SpecError(f"output index must be an integer or symbol, got {a!r}", f"indices[{i}]")
            a = sp.sympify(a)
            if a.is_number:
                if not a.is_integer or a < 0 or (isinstance(d_out, int) and a >= d_out):
                    raise SpecError(f"output index {a} out of range 0..{d_out}-1", f"indices[{i}]")
            elif not isinstance(a, sp.Symbol):
                raise SpecError(f"output index must be an integer or symbol, got {a}", f"indices[{i}]")
            out.append(a)
        return out

    def _builder(self, points, indices, simplify_inputs=None) -> _Builder:
        pts = as_points(points, self.network.input_dim, self.n)
        idx = self._indices(indices, self.n)
        key = (tuple(pts), tuple(idx), simplify_inputs)
        if key not in self._cache:
            first = self._model.first
            if first is not None and simplify_inputs is not None:
                first = first.with_simplifier(simplify_inputs)
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[key] = _Builder(self, pts, idx, first)
        return self._cache[key]

    def _title(self, idx, kind="G") -> str:
        sub = "".join(sp.latex(a) for a in idx) if all(sp.sympify(a).is_number for a in idx) \
            else " ".join(sp.latex(a) for a in idx)
        xs = ", ".join(f"x_{{{u}}}" for u in range(1, self.n + 1))
        return rf"{kind}^{{({self.n})}}_{{{sub}}}({xs})"

    # --- the exact expression ------------------------------------------------------------------------
    def form(self, points=None, indices=None, simplify_inputs=None, style: str = "moments") -> CorrelatorForm:
        """The readable form (named pieces + definitions, see :class:`CorrelatorForm` for the two
        styles ``"moments"`` and ``"cumulants"``); ``points=None`` uses generic symbolic points
        ``x_1..x_n`` and indices ``a_1..a_n``."""
        generic = points is None
        if generic:
            points, gen_idx = self.generic_points()
            indices = gen_idx if indices is None else indices
        b = self._builder(points, indices, simplify_inputs)
        if style == "cumulants":
            out = _cumulant_form(self._title(b.indices), b, tuple(range(self.n)))
        elif style == "moments":
            out = CorrelatorForm(self._title(b.indices), b.terms(tuple(range(self.n))), b)
        else:
            raise SpecError(f"unknown form style {style!r}; use 'moments' or 'cumulants'")
        out.generic = generic
        return out

    def _check_width(self, width):
        if width is not None and not isinstance(self.width, sp.Symbol) and sp.sympify(width) != self.width:
            raise SpecError(f"this network has the concrete width {self.width}; got width={width}")

    def expr(self, points, indices=None, width=None, simplify_inputs=None) -> sp.Expr:
        r"""The exact :math:`E[\prod_i f_{a_i}(x_i)]` (closed form where the rules apply, otherwise
        unevaluated integrals inside); ``width`` substitutes a value for the symbolic width.
        ``simplify_inputs`` (e.g. ``sympy.cancel``) is applied to every inner product / mean of the
        inputs before they enter the moments (useful with explicit parametrised group elements)."""
        self._check_width(width)
        return self.form(points, indices, simplify_inputs).expanded(width)

    def integral(self, points, indices=None) -> ParameterIntegral:
        """The unevaluated parameter-space integral (``.doit()`` applies the rules)."""
        pts = as_points(points, self.network.input_dim, self.n)
        return ParameterIntegral(self.network, pts, self._indices(indices, self.n))

    def generic_points(self):
        """Symbolic points ``x_1..x_n`` (scalars for ``d_in = 1``, else ``MatrixSymbol``) and indices
        ``a_1..a_n``."""
        d = self.network.input_dim
        if d == 1:
            pts = [[sp.Symbol(f"x_{i}", real=True)] for i in range(1, self.n + 1)]
        else:
            pts = [sp.MatrixSymbol(f"x_{i}", d, 1) for i in range(1, self.n + 1)]
        idx = [sp.Symbol(f"a_{i}", integer=True, nonnegative=True) for i in range(1, self.n + 1)]
        return pts, idx

    # --- width expansions ----------------------------------------------------------------------------
    def _require_width_symbol(self, what):
        if not self._model.supported:
            raise SpecError(f"{what} needs the exact single-hidden-layer rules; this network is "
                            f"unsupported: {self._model.reason}")
        if not isinstance(self.width, sp.Symbol):
            raise SpecError(f"{what} needs a symbolic hidden width; this network has width {self.width} "
                            "(build it with symcorr.size_symbol('N'))")

    def _defs_depend_on_width(self, b: _Builder) -> bool:
        return any(self.width in v.free_symbols for v in b.definitions.values())

    def inverse_width_coefficients(self, points, indices=None, order: int | None = None,
                                   connected: bool = False) -> dict:
        r"""``power p -> coefficient`` of :math:`N^p` in the exact expansion of :math:`G` (or of its
        connected part) at large N (explicit expressions)."""
        self._require_width_symbol("a 1/N expansion")
        b = self._builder(points, indices)
        terms = b.connected(tuple(range(self.n))) if connected else b.terms(tuple(range(self.n)))
        if self._defs_depend_on_width(b):
            raise SpecError("the first-layer laws depend on the width; the 1/N expansion of the "
                            "moments is not supported")
        lowest = None if order is None else -order
        out = {}
        for p, t in terms.laurent(lowest).items():
            if lowest is not None and p < lowest:
                continue
            out[p] = CorrelatorForm("", t, b).expanded()
        return {p: v for p, v in sorted(out.items(), reverse=True) if v != 0}

    def expand_in_inverse_width(self, points, indices=None, order: int = 1, connected: bool = False) -> sp.Expr:
        r""":math:`\sum_{p \ge -\text{order}} c_p N^p`: the exact large-N expansion truncated after
        :math:`N^{-\text{order}}`."""
        coeffs = self.inverse_width_coefficients(points, indices, order, connected)
        return sp.Add(*[c * self.width ** p for p, c in coeffs.items()])

    def gp_limit(self, points, indices=None) -> sp.Expr:
        r"""The infinite-width limit :math:`\lim_{N\to\infty}G` (the Wick sum of the kernel for a
        zero-mean read-out in the standard parameterisation); raises if G grows with N."""
        coeffs = self.inverse_width_coefficients(points, indices, order=0)
        grow = {p: c for p, c in coeffs.items() if p > 0}
        if grow:
            p = max(grow)
            raise SpecError(f"G^({self.n}) grows like {self.width}^{p} as {self.width} -> oo (coefficient "
                            f"{grow[p]}); the GP limit needs a read-out variance ~ 1/{self.width} and a "
                            f"read-out mean ~ 1/{self.width}")
        return coeffs.get(0, sp.Integer(0))

    def connected(self, points, indices=None, width=None) -> sp.Expr:
        r"""The connected correlator (joint cumulant) :math:`\sum_\pi (-1)^{|\pi|-1}(|\pi|-1)!
        \prod_{B\in\pi}G_B`; for iid neurons it is :math:`O(N^{1-n/2})` exactly."""
        return self.connected_form(points, indices).expanded(width)

    def connected_form(self, points=None, indices=None) -> CorrelatorForm:
        if points is None:
            points, gen_idx = self.generic_points()
            indices = gen_idx if indices is None else indices
        b = self._builder(points, indices)
        return CorrelatorForm(self._title(b.indices, "G_c"), b.connected(tuple(range(self.n))), b)

    def wick(self, points, indices=None) -> sp.Expr:
        r"""The Wick sum :math:`\sum_{\text{pairings}}\prod\delta_{a_ia_j}K(x_i,x_j)` of the
        infinite-width kernel :math:`K = G^{(2)}_{\infty}` (diagonal in the output index)."""
        pts = as_points(points, self.network.input_dim, self.n)
        idx = self._indices(indices, self.n)
        g2 = correlator(self.network, 2)
        return wick_sum(lambda x, y: g2.gp_limit([x, y], [0, 0]), pts, idx)

    # --- numerics ------------------------------------------------------------------------------------
    def evaluate(self, points, indices=None, **options):
        r"""Numeric value at numeric points: a float for one point set (``(n, d_in)``), an ndarray for
        a batch (``(B, n, d_in)``).  Closed forms are evaluated exactly (then rounded);
        :class:`GaussianExpectation` moments by Gauss-Hermite quadrature (``method="montecarlo"`` for
        seeded Monte Carlo); :class:`ParameterIntegral` by seeded Monte Carlo (``samples``, ``seed``).
        See :meth:`evaluate_with_error` for the error estimates."""
        value, _ = self._evaluate(points, indices, **options)
        return value

    def evaluate_with_error(self, points, indices=None, **options):
        """``(value, error)``: the error propagates the Monte Carlo standard errors of unevaluated
        integrals (first order) and the quadrature convergence indicator; 0 for closed forms."""
        return self._evaluate(points, indices, **options)

    def _evaluate(self, points, indices=None, *, method: str = "quadrature", samples: int = 200_000,
                  seed: int = 0, width=None):
        try:
            arr = np.asarray(points.detach().cpu() if hasattr(points, "detach") else points, dtype=float)
        except (TypeError, ValueError):
            raise SpecError("numeric evaluation needs numeric points (an array of shape (n, d_in))",
                            "points") from None
        d = self.network.input_dim
        if isinstance(d, int) and d == 1 and arr.ndim >= 1 and arr.shape[-1] == self.n and \
                not (arr.ndim >= 2 and arr.shape[-2:] == (self.n, 1)):
            arr = arr[..., None]  # scalar inputs: (n,) or (batch, n)
        if arr.ndim == 3:
            pairs = [self._evaluate(a, indices, method=method, samples=samples, seed=seed, width=width)
                     for a in arr]
            return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
        if arr.ndim != 2 or arr.shape[0] != self.n or (isinstance(d, int) and arr.shape[1] != d):
            raise SpecError(f"points must have shape ({self.n}, {d}) or (batch, {self.n}, {d}), got "
                            f"{arr.shape}", "points")
        if not np.isfinite(arr).all():
            raise SpecError("points contain NaN or infinite values", "points")
        pts = [[sp.Rational(float(v)) for v in row] for row in arr]  # exact binary values
        free = set(self.network.free_symbols)
        if width is not None and isinstance(self.width, sp.Symbol):
            free.discard(self.width)
        if free:
            raise SpecError("numeric evaluation needs a concrete network; substitute "
                            + ", ".join(sorted(str(s) for s in free)) + " (network.subs({...}))")
        form = self.form(pts, indices)
        values, errors = {}, {}
        for sym, definition in form.definitions.items():
            values[sym], errors[sym] = _numeric(definition, method, samples, seed)
        total, err2 = 0.0, 0.0
        w = width if width is not None else self.width
        expr_sym = form.expr
        if isinstance(self.width, sp.Symbol):
            expr_sym = expr_sym.subs(self.width, w)
        for atom in expr_sym.atoms(ParameterIntegral):  # an unsupported network: MC per integral
            dummy = sp.Dummy("I")
            expr_sym = expr_sym.xreplace({atom: dummy})
            values[dummy], errors[dummy] = atom.montecarlo(samples, seed)
        at = {k: sp.Float(v) for k, v in values.items()}
        total = complex(sp.N(expr_sym.xreplace(at)))
        for sym, e in errors.items():  # first-order propagation of the integrals' errors
            if e:
                deriv = sp.diff(expr_sym, sym).xreplace(at)
                err2 += (float(sp.N(deriv)) * e) ** 2
        if abs(total.imag) > 1e-9 * max(1.0, abs(total.real)) or not np.isfinite(total.real):
            raise SpecError(f"the correlator is not a finite real number at these points ({total})")
        return float(total.real), float(np.sqrt(err2))

    # --- printing ------------------------------------------------------------------------------------
    def latex(self) -> str:
        """The formula at generic points: cumulant (GP + connected) form with its definitions."""
        return self.form(style=self._display_style).latex()

    def markdown(self) -> str:
        head = f"**{self.n}-point function** of {self.network.name or 'the network'}"
        if not self.is_exact:
            head += f" (unevaluated parameter integral: {self.reason})"
        return head + "\n\n" + self.form(style=self._display_style).markdown()

    @property
    def _display_style(self) -> str:
        return "cumulants" if self.is_exact else "moments"

    def _repr_latex_(self):
        return f"$${self.latex()}$$"

    def __repr__(self):
        return f"Correlator(n={self.n}, network={self.network.name or self.network!r})"


def _numeric(definition: sp.Expr, method: str, samples: int, seed: int) -> tuple[float, float]:
    """Numeric value and error of a moment definition (closed form, Gaussian integral or parameter
    integral, possibly inside an expression)."""
    values, err = {}, 0.0
    for atom in definition.atoms(GaussianExpectation):
        values[atom], e = atom.numeric(method, samples=samples, seed=seed) if method == "montecarlo" \
            else atom.numeric("quadrature")
        err = max(err, e)
    for atom in definition.atoms(ParameterIntegral):
        values[atom], e = atom.montecarlo(samples, seed)
        err = max(err, e)
    expr = definition.xreplace({k: sp.Float(v) for k, v in values.items()}) if values else definition
    value = complex(sp.N(expr))
    if abs(value.imag) > 1e-9 * max(1.0, abs(value.real)) or not np.isfinite(value.real):
        raise SpecError(f"a single-neuron moment is not a finite real number ({value}): {definition}")
    return float(value.real), err


_CORRELATORS: dict = {}


def correlator(network, n: int) -> Correlator:
    r"""The n-point function of ``network`` (cached per network and order)."""
    key = (network, n)
    try:
        hit = _CORRELATORS.get(key)
    except TypeError:
        hit = None
    if hit is None:
        hit = Correlator(network, n)
        try:
            if len(_CORRELATORS) > 128:
                _CORRELATORS.clear()
            _CORRELATORS[key] = hit
        except TypeError:
            pass
    return hit


def _exact_rules(network, points, labels):
    """``ParameterIntegral.doit``: the exact n-point function where the rules apply, else None."""
    corr = correlator(network, len(points))
    return corr.expr(points, labels) if corr.is_exact else None


register_network_rules(_exact_rules)
