r"""The n-point correlator of a random network, :func:`correlator` / :class:`Correlator`.

.. math:: G^{(n)}_{a_1\cdots a_n}(x_1,\dots,x_n) = E\big[f_{a_1}(x_1)\cdots f_{a_n}(x_n)\big]
          = \int d\theta\,P(\theta)\,\prod_i f_{\theta,a_i}(x_i).

A :class:`Correlator` is the object users hold; it presents one network's n-point function:

* exact expressions (:meth:`~Correlator.expr`) and readable forms (:meth:`~Correlator.form`,
  :mod:`symcorr.symbolic.form`) from the exact single-hidden-layer rules
  (:mod:`symcorr.symbolic.single_layer`), or the unevaluated
  :class:`~symcorr.symbolic.integral.ParameterIntegral` for any other network;
* the connected part (joint cumulant), the exact large-width expansion
  (:mod:`symcorr.symbolic.laurent`), the GP limit and the Wick sum of the kernel;
* numbers (closed forms exactly, unevaluated integrals by quadrature or seeded Monte Carlo, with
  errors) and printing (LaTeX, Markdown, notebook reprs).

**Deep networks** (depth >= 3: two or more hidden layers) have no exact expression here (``expr`` stays
the parameter integral), but their large-width expansion through order 1/n is known: the NNGP metric,
its 1/n shift and the four-point vertex of the finite-width recursion (:mod:`symcorr.deep.finite_width`).
:meth:`Correlator.inverse_width_coefficients`, :meth:`~Correlator.expand_in_inverse_width`,
:meth:`~Correlator.connected` (to leading order), :meth:`~Correlator.gp_limit` and
:meth:`~Correlator.wick` use it.  That module sits above this one (it builds on the NNGP metric, which
builds on the single-neuron moments here), so it registers itself when ``symcorr.symbolic`` is imported
(:mod:`.deep_expansion`), like the rules registered with :mod:`.integral`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..distributions import as_expr
from ..budget import check_correlator_order
from ..errors import SpecError
from .deep_expansion import deep_expansion, inverse_width_powers, single_width_symbol
from .form import CorrelatorForm, FormStyle, cumulant_form
from .inputs import as_points
from .integral import GaussianExpectation, NumericMethod, ParameterIntegral, register_network_rules
from .invariant_form import InvariantForm, invariant_form
from .rules import wick_sum
from .single_layer import MomentSums, SingleLayerModel

__all__ = ["Correlator", "correlator"]


# ----------------------------------------------------------------------------------------------------
# the correlator
# ----------------------------------------------------------------------------------------------------
class Correlator:
    r"""The n-point function :math:`G^{(n)}_{a_1..a_n}(x_1..x_n)` of a network (module docstring).

    Points: lists/columns of numbers or expressions (length ``d_in``) or matrix expressions
    (``MatrixSymbol('x1', D, 1)``, ``R*x1``, ``x1 + c``).  Indices: ints or SymPy symbols (deltas
    become ``KroneckerDelta``); default all 0.

    Immutable (:func:`correlator` shares one per network and order): its attributes cannot be set,
    and what it returns is immutable too (SymPy expressions, :class:`CorrelatorForm`) or a fresh
    object (dicts of coefficients, lists of generic points).
    """

    # the attributes, set once in __init__ (object.__setattr__: the class refuses assignment)
    _network: object
    _n: int
    _model: SingleLayerModel
    _sums: dict
    _forms: dict
    _expansions: dict
    _deep: list

    def __init__(self, network, n: int):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise SpecError(f"the correlator order n must be a positive integer, got {n!r}")
        check_correlator_order(n, "n")
        object.__setattr__(self, "_network", network)
        object.__setattr__(self, "_n", n)
        object.__setattr__(self, "_model", SingleLayerModel.of(network))
        object.__setattr__(self, "_sums", {})  # (points, indices, simplifier) -> MomentSums (a memo)
        object.__setattr__(self, "_forms", {})  # (MomentSums, style, generic) -> CorrelatorForm (a memo)
        object.__setattr__(self, "_expansions", {})  # (MomentSums, order, connected) -> ((p, c_p), ...)
        object.__setattr__(self, "_deep", [])  # the deep expansion (built on first use; a one-item memo)

    def __setattr__(self, name, value):
        raise AttributeError(f"a Correlator is immutable (cannot set {name!r}); build another with "
                             "correlator(network, n)")

    def __delattr__(self, name):
        raise AttributeError(f"a Correlator is immutable (cannot delete {name!r})")

    @property
    def network(self):
        """The network whose n-point function this is."""
        return self._network

    @property
    def n(self) -> int:
        """The order n (number of points)."""
        return self._n

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
            a = as_expr(a, f"indices[{i}]")  # a string index is parsed safely, never run
            if a.is_number:
                if not a.is_integer or a < 0 or (isinstance(d_out, int) and a >= d_out):
                    raise SpecError(f"output index {a} out of range 0..{d_out}-1", f"indices[{i}]")
            elif not isinstance(a, sp.Symbol):
                raise SpecError(f"output index must be an integer or symbol, got {a}", f"indices[{i}]")
            out.append(a)
        return out

    def _builder(self, points, indices, simplify_inputs=None) -> MomentSums:
        pts = as_points(points, self.network.input_dim, self.n)
        idx = self._indices(indices, self.n)
        key = (tuple(pts), tuple(idx), simplify_inputs)
        if key not in self._sums:
            first = self._model.first
            if first is not None and simplify_inputs is not None:
                first = first.with_simplifier(simplify_inputs)
            if len(self._sums) > 256:
                self._sums.clear()
                self._forms.clear()
                self._expansions.clear()
            self._sums[key] = MomentSums(self.network, self._model, pts, idx, first)
        return self._sums[key]

    def _title(self, idx, kind="G") -> str:
        sub = "".join(sp.latex(a) for a in idx) if all(sp.sympify(a).is_number for a in idx) \
            else " ".join(sp.latex(a) for a in idx)
        xs = ", ".join(f"x_{{{u}}}" for u in range(1, self.n + 1))
        return rf"{kind}^{{({self.n})}}_{{{sub}}}({xs})"

    # --- the exact expression ------------------------------------------------------------------------
    def form(self, points=None, indices=None, simplify_inputs=None,
             style: str = FormStyle.MOMENTS) -> CorrelatorForm:
        """The readable form (named pieces + definitions, see :class:`CorrelatorForm` for the two
        styles ``"moments"`` and ``"cumulants"``, :class:`FormStyle`); ``points=None`` uses generic
        symbolic points ``x_1..x_n`` and indices ``a_1..a_n``."""
        style = FormStyle.parse(style)
        generic = points is None
        if generic:
            points, gen_idx = self.generic_points()
            indices = gen_idx if indices is None else indices
        return self._form(self._builder(points, indices, simplify_inputs), style, generic)

    def _form(self, b: MomentSums, style: FormStyle | None, generic: bool = False) -> CorrelatorForm:
        """The form in ``style`` at ``b``'s points (``None``: the connected part), built once (forms
        are immutable, so the memo can hand out the same one)."""
        key = (b, style, generic)
        hit = self._forms.get(key)
        if hit is None:
            slots = tuple(range(self.n))
            if style is FormStyle.CUMULANTS:
                hit = cumulant_form(self._title(b.indices), b, slots, generic)
            elif style is FormStyle.MOMENTS:
                hit = CorrelatorForm(self._title(b.indices), b.terms(slots), b, generic=generic)
            else:
                hit = CorrelatorForm(self._title(b.indices, "G_c"), b.connected(slots), b)
            self._forms[key] = hit
        return hit

    def invariant_form(self, group, points=None, indices=None) -> InvariantForm:
        r"""The correlator in the invariants of ``group`` acting on the inputs (squared distances
        :math:`\lVert x_i - x_j\rVert^2` for translations, inner products :math:`x_i^Tx_j` for SO/O), piece by
        piece of its printed form, or why there is none (a typed answer with the dependence left and a
        witness: :mod:`symcorr.symbolic.invariant_form`).  ``points=None``: the generic points."""
        form = self.form(points, indices, style=self._display_style)
        return invariant_form(form, self.generic_points()[0] if points is None else points, group)

    def _check_width(self, width):
        if width is not None and not isinstance(self.width, sp.Symbol) and as_expr(width, "width") != self.width:
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
    @property
    def is_deep(self) -> bool:
        """True for a network with two or more hidden layers: its width expansions come from the
        finite-width recursion (leading order in 1/n), not from exact expressions."""
        return self.network.depth >= 3 and not self._model.supported

    def _deep_expansion(self):
        if not self._deep:
            self._deep.append(deep_expansion(self.network))
        return self._deep[0]

    def _deep_terms(self, points, indices, connected: bool, order: int = 1):
        pts = as_points(points, self.network.input_dim, self.n)
        idx = self._indices(indices, self.n)
        key = ("deep", tuple(pts), tuple(idx), bool(connected), min(int(order), 1))
        hit = self._expansions.get(key)
        if hit is None:
            hit = self._deep_expansion().expansion(pts, idx, connected, min(int(order), 1))
            if len(self._expansions) > 256:
                self._expansions.clear()
            self._expansions[key] = hit
        return hit

    def _require_width_symbol(self, what):
        if not self._model.supported:
            raise SpecError(f"{what} needs the exact single-hidden-layer rules; this network is "
                            f"unsupported: {self._model.reason}")
        if not isinstance(self.width, sp.Symbol):
            raise SpecError(f"{what} needs a symbolic hidden width; this network has width {self.width} "
                            "(build it with symcorr.size_symbol('N'))")

    def _defs_depend_on_width(self, b: MomentSums) -> bool:
        return any(self.width in v.free_symbols for v in b.definitions.values())

    def inverse_width_coefficients(self, points, indices=None, order: int | None = None,
                                   connected: bool = False) -> dict:
        r"""``power p -> coefficient`` of :math:`N^p` in the exact expansion of :math:`G` (or of its
        connected part) at large N (explicit expressions).

        Deep networks (:attr:`is_deep`): the expansion through 1/N from the finite-width recursion
        (``order`` at most 1; every hidden width a positive rational multiple of one symbol ``N``)."""
        if self.is_deep:
            N = single_width_symbol(self._deep_expansion().widths)
            lead, corrections = self._deep_terms(points, indices, connected, 1 if order is None else order)
            return inverse_width_powers(lead, corrections, N, order)
        self._require_width_symbol("a 1/N expansion")
        b = self._builder(points, indices)
        key = (b, order, bool(connected))
        hit = self._expansions.get(key)
        if hit is None:
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
            hit = tuple((p, v) for p, v in sorted(out.items(), reverse=True) if v != 0)
            self._expansions[key] = hit
        return dict(hit)  # a fresh dict per call: the memo keeps the (immutable) items

    def expand_in_inverse_width(self, points, indices=None, order: int = 1, connected: bool = False) -> sp.Expr:
        r""":math:`\sum_{p \ge -\text{order}} c_p N^p`: the exact large-N expansion truncated after
        :math:`N^{-\text{order}}`.

        Deep networks: :math:`G_\infty + \sum_l c_l/n_l` through order 1/n for any hidden widths (one
        symbol, multiples of it, separate symbols or numbers); ``order`` 0 or 1."""
        if self.is_deep:
            if order > 1:
                raise SpecError("the deep-network expansion is known to leading order, 1/n (order=1)")
            lead, corrections = self._deep_terms(points, indices, connected, order)
            return lead + sp.Add(*[c / w for w, c in corrections])
        coeffs = self.inverse_width_coefficients(points, indices, order, connected)
        return sp.Add(*[c * self.width ** p for p, c in coeffs.items()])

    def gp_limit(self, points, indices=None) -> sp.Expr:
        r"""The infinite-width limit :math:`\lim_{N\to\infty}G` (the Wick sum of the kernel for a
        zero-mean read-out in the standard parameterisation); raises if G grows with N.  Deep networks:
        the Wick sum of the NNGP kernel, whatever the hidden widths."""
        if self.is_deep:
            return self._deep_terms(points, indices, False, 0)[0]
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
        \prod_{B\in\pi}G_B`; for iid neurons it is :math:`O(N^{1-n/2})` exactly.

        Deep networks: to **leading order** in 1/n (the n = 4 vertex term :math:`\sum_l c_l/n_l`, the
        n = 2 function through 1/n; odd n vanish); n >= 6 start at order :math:`1/n^2`, which is not
        implemented (a SpecError)."""
        if self.is_deep:
            if self.n >= 6 and self.n % 2 == 0:
                raise SpecError(f"the connected {self.n}-point function of a deep network starts at order "
                                f"1/n^{self.n // 2 - 1}; only the leading 1/n order is implemented")
            out = self.expand_in_inverse_width(points, indices, order=1, connected=True)
            if width is not None:  # the one width symbol N (hidden widths multiples of it)
                out = out.subs(single_width_symbol(self._deep_expansion().widths), as_expr(width, "width"))
            return out
        return self.connected_form(points, indices).expanded(width)

    def connected_form(self, points=None, indices=None) -> CorrelatorForm:
        if points is None:
            points, gen_idx = self.generic_points()
            indices = gen_idx if indices is None else indices
        b = self._builder(points, indices)
        return self._form(b, None)

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

    def _evaluate(self, points, indices=None, *, method: str = NumericMethod.QUADRATURE,
                  samples: int = 200_000, seed: int = 0, width=None):
        method = NumericMethod.parse(method)
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
        w = as_expr(width, "width") if width is not None else self.width
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
        return FormStyle.CUMULANTS if self.is_exact else FormStyle.MOMENTS

    def _repr_latex_(self):
        return f"$${self.latex()}$$"

    def __repr__(self):
        return f"Correlator(n={self.n}, network={self.network.name or self.network!r})"


def _numeric(definition: sp.Expr, method: NumericMethod, samples: int, seed: int) -> tuple[float, float]:
    """Numeric value and error of a moment definition (closed form, Gaussian integral or parameter
    integral, possibly inside an expression)."""
    values, err = {}, 0.0
    for atom in definition.atoms(GaussianExpectation):
        values[atom], e = atom.numeric(method, samples=samples, seed=seed)
        err = max(err, e)
    for atom in definition.atoms(ParameterIntegral):
        values[atom], e = atom.montecarlo(samples, seed)
        err = max(err, e)
    expr = definition.xreplace({k: sp.Float(v) for k, v in values.items()}) if values else definition
    value = complex(sp.N(expr))
    if abs(value.imag) > 1e-9 * max(1.0, abs(value.real)) or not np.isfinite(value.real):
        raise SpecError(f"a single-neuron moment is not a finite real number ({value}): {definition}")
    return float(value.real), err


#: (network, its name, n) -> Correlator.  The values are immutable (see :class:`Correlator`), so sharing
#: them cannot let one caller's changes reach another's results.  Networks compare equal regardless of
#: their names; the name is part of the key because the printed forms show it.
_CORRELATORS: dict = {}


def correlator(network, n: int) -> Correlator:
    r"""The n-point function of ``network`` (cached per network and order; immutable)."""
    key = (network, getattr(network, "name", None), n)
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
