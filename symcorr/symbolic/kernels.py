r"""Single-neuron moments and the table of known kernels.

One hidden neuron of a single-hidden-layer net is :math:`\phi(z(x))` with
:math:`z(x) = w\cdot x + b`, ``w`` a row of :math:`W^0` and ``b`` an entry of :math:`b^0`.  Its moments

.. math:: m_S = E\Big[\prod_{i\in S}\phi(z(x_i))\Big] = E\Big[\prod_u \phi(z(x_u))^{p_u}\Big]

(distinct points :math:`x_u` with multiplicities :math:`p_u`) are the building blocks of every
correlator (:mod:`symcorr.symbolic.correlator`).  For a Gaussian first layer,
:math:`w \sim N(\mu_w \mathbf 1, \sigma_w^2 V)` and :math:`b \sim N(\mu_b, \sigma_b^2)` (or no bias),
the pre-activations are jointly Gaussian with

.. math:: m(x) = \mu_w \mathbf 1^T x + \mu_b,\qquad k_0(x,x') = \sigma_b^2 + \sigma_w^2\, x^T V x'.

The table (rule, then the moments it gives in closed form; the rules for Gaussian pre-activations --
erf, relu, identity and a Gaussian Gauss-net -- are the one table of Gaussian closed forms,
:func:`symcorr.gaussian.closed_form`):

=====================  ==============================================================================
activation             closed form
=====================  ==============================================================================
gauss (Gauss-net)      any n: :math:`\exp(\sum_{i<j}k_0(x_i,x_j) - \tfrac12\sum_i k_0(x_i,x_i))`
                       (Gaussian MGF; the normaliser cancels the means); iid non-Gaussian laws at
                       explicit points: the same from the cumulant generating functions
cos (Cos-net)          any n: :math:`2^{-n}\sum_{\epsilon\in\{\pm1\}^n} \mathrm{Re}\,
                       \varphi_b(\textstyle\sum_i\epsilon_i)\,\varphi_w(\sum_i\epsilon_i x_i)`;
                       uniform phase: only patterns with :math:`\sum_i\epsilon_i = 0` survive
erf                    n=1: :math:`\mathrm{erf}(m/\sqrt{1+2k_0})`; n=2 (zero mean): the arcsine kernel
                       :math:`\tfrac2\pi\arcsin\big(2k_{12}/\sqrt{(1+2k_{11})(1+2k_{22})}\big)`
relu                   n=1: :math:`m\Phi(m/s) + s\varphi(m/s)`, :math:`s^2 = k_0(x,x)`; one point
                       squared: :math:`(m^2+s^2)\Phi(m/s) + ms\varphi(m/s)`; any power (zero mean):
                       :math:`\tfrac12 s^p 2^{p/2}\Gamma(\tfrac{p+1}2)/\sqrt\pi`;
                       n=2 (zero mean): the arc-cosine kernel of order 1,
                       :math:`\tfrac{\sqrt{k_{11}k_{22}}}{2\pi}(\sin\vartheta + (\pi-\vartheta)\cos\vartheta)`,
                       :math:`\cos\vartheta = k_{12}/\sqrt{k_{11}k_{22}}`
identity               any n: Isserlis/Wick with means
odd activations        (erf, tanh, identity, odd custom) with a symmetric first layer: odd n give 0
anything else          an unevaluated :class:`~symcorr.symbolic.integral.GaussianExpectation`
                       (Gaussian first layer) or a neuron-level
                       :class:`~symcorr.symbolic.integral.ParameterIntegral`
=====================  ==============================================================================
"""

from __future__ import annotations

import copy
from functools import lru_cache
from itertools import product
from typing import Sequence

import sympy as sp

from ..activations import Activation, activation_names
from ..distributions import Law, Normal
from ..errors import SpecError
from ..gaussian import Factor, closed_form
from .inputs import as_points, inner, is_explicit, linear_combination, sum_entries
from .integral import GaussianExpectation, IntegralKind, ParameterIntegral
from .rules import characteristic_polar

__all__ = ["FirstLayer", "neuron_moment", "moment_table", "KNOWN_KERNELS"]

#: activations with a closed-form table entry, and which moments are closed
KNOWN_KERNELS = {
    "gauss": "Gauss-net: all moments (Gaussian MGF)",
    "cos": "Cos-net: all moments (characteristic functions; uniform phase keeps zero-phase patterns)",
    "erf": "Erf-net: E[phi] and the arcsine kernel (zero-mean pre-activations)",
    "relu": "ReLU-net: E[phi], E[phi^p] at one point, and the arc-cosine kernel of order 1",
    "identity": "linear: all moments (Isserlis/Wick)",
}

_ODD = {"erf", "tanh", "identity"}


@lru_cache(maxsize=128)
def _is_odd_custom(activation: Activation) -> bool:
    r"""Does :math:`\phi(u) + \phi(-u)` simplify to 0?  False is no claim (the moments are then computed
    without the shortcut, so a False never gives a wrong result)."""
    if activation.normalised:
        return False
    u = sp.Symbol("u", real=True)
    expr = activation.sympy(u)
    try:
        return sp.simplify(expr + expr.subs(u, -u)) == 0
    except (NotImplementedError, sp.PolynomialError):  # SymPy cannot simplify this custom form: no claim
        return False


def _is_odd(activation: Activation) -> bool:
    return activation.name in _ODD or (activation.name not in _BUILTIN_NAMES and _is_odd_custom(activation))


#: the bound variable of activation Lambdas (one object, so equal integrals are equal expressions)
_U = sp.Dummy("u", real=True)

_BUILTIN_NAMES = frozenset(activation_names())


class FirstLayer:
    r"""The law of one hidden neuron's pre-activation :math:`z(x) = w\cdot x + b` (see module doc).

    ``FirstLayer.from_network(net)`` returns ``None`` when the hidden neurons are not iid (a row
    covariance or per-row mean of :math:`W^0`, a structured :math:`b^0`).
    """

    def __init__(self, network, weight: Law, bias: Law | None, activation: Activation):
        self.network = network
        self.d_in = network.input_dim
        self.weight = weight
        self.bias = bias
        self.activation = activation
        self.gaussian_weight = isinstance(weight, Normal)
        if self.gaussian_weight:
            self.w_mean = weight.loc
            self.w_var = weight.var
            self.metric = weight.col_cov
        self.gaussian_bias = bias is None or (isinstance(bias, Normal) and bias.is_iid)
        self.b_mean = sp.Integer(0) if bias is None else (bias.loc if self.gaussian_bias else bias.mean)
        self.b_var = sp.Integer(0) if bias is None else (bias.var if self.gaussian_bias else bias.variance)
        self._simplify = None
        self._gram: dict = {}

    def with_simplifier(self, fn) -> "FirstLayer":
        """A copy that applies ``fn`` (e.g. ``sympy.cancel``) to every inner product and mean of the
        inputs before they enter a moment."""
        out = copy.copy(self)
        out._simplify = fn
        out._gram = {}
        return out

    @classmethod
    def from_network(cls, network) -> "FirstLayer | None":
        w = network.weight(0).law
        b = network.bias(0)
        b = None if b is None else b.law
        if not w.is_iid and not isinstance(w, Normal):  # e.g. a Haar orthogonal block: dependent rows
            return None
        if isinstance(w, Normal) and not w.is_iid:
            if w.row_cov is not None or isinstance(w.loc, sp.MatrixBase):
                return None
        if isinstance(b, Normal) and not b.is_iid:
            return None
        return cls(network, w, b, network.layers[0].activation)

    @property
    def gaussian(self) -> bool:
        """Are the pre-activations jointly Gaussian (Gaussian weights and a Gaussian or no bias)?"""
        return self.gaussian_weight and self.gaussian_bias

    @property
    def symmetric(self) -> bool:
        """Is the law of (w, b) invariant under (w, b) -> (-w, -b)?"""
        ws = self.weight.is_symmetric
        bs = True if self.bias is None else self.bias.is_symmetric
        return bool(ws) and bool(bs)

    # --- Gaussian structure --------------------------------------------------------------------------
    def weight_gram(self, x, y) -> sp.Expr:
        r""":math:`\sigma_w^2 x^T V y` (the weight part of :math:`k_0`), cached per pair of points."""
        key = (x, y)
        hit = self._gram.get(key)
        if hit is None:
            if len(self._gram) > 20_000:
                self._gram.clear()
            hit = _distribute(self.w_var, inner(x, y, self.metric, self._simplify))
            self._gram[key] = self._gram[(y, x)] = hit
        return hit

    def weight_quadratic(self, coeffs, pts) -> sp.Expr:
        r""":math:`\sigma_w^2 v^TVv` for :math:`v = \sum_u c_u x_u`, from the Gram entries
        (bilinearity; equal to expanding ``v`` first, but reuses the cached entries)."""
        terms = []
        for u, cu in enumerate(coeffs):
            if cu == 0:
                continue
            terms.append(cu * cu * self.weight_gram(pts[u], pts[u]))
            for w in range(u + 1, len(pts)):
                if coeffs[w] != 0:
                    terms.append(2 * cu * coeffs[w] * self.weight_gram(pts[u], pts[w]))
        return sp.Add(*terms)

    def k0(self, x, y) -> sp.Expr:
        r""":math:`k_0(x,y) = \mathrm{Cov}(z(x), z(y)) = \sigma_b^2 + \sigma_w^2 x^T V y`."""
        return self.b_var + self.weight_gram(x, y)

    def mean(self, x) -> sp.Expr:
        r""":math:`m(x) = E[z(x)] = \mu_w \mathbf 1^T x + \mu_b`."""
        out = self.b_mean
        if self.w_mean != 0:
            out = out + _distribute(self.w_mean, sum_entries(x, self._simplify))
        return out

    def describe(self) -> str:
        return (rf"z(x) = w^T x + b,\ w \sim {self.weight.latex()}"
                + ("" if self.bias is None else rf",\ b \sim {self.bias.latex()}"))


def _distribute(c, expr) -> sp.Expr:
    """``c * expr`` distributed over the terms of ``expr`` (so that equal atoms from different
    products cancel structurally, e.g. under a translation of all inputs)."""
    return sp.Add(*[c * t for t in sp.Add.make_args(expr)])


# ----------------------------------------------------------------------------------------------------
# the rules
# ----------------------------------------------------------------------------------------------------
def _total(powers):
    return sum(powers)


def _table(fl: FirstLayer, pts, powers) -> sp.Expr | None:
    r"""The Gaussian table (:func:`symcorr.gaussian.closed_form`) at the jointly Gaussian pre-activations
    :math:`z(x_u) \sim N(m, k_0)`: :math:`E[\prod_u\phi(z(x_u))^{p_u}]`, or None where it has no rule."""
    factors = [Factor.of(fl.activation, 0, p) for p in powers]
    cov = sp.Matrix(len(pts), len(pts), lambda i, j: fl.k0(pts[i], pts[j]))
    return closed_form(factors, cov, [fl.mean(p) for p in pts])


def _gauss_rule(fl: FirstLayer, pts, powers):
    r"""Gauss-net: :math:`\phi = e^{z - \frac12\log E e^{2z}}`.  A Gaussian first layer: the table,
    :math:`\log m = \sum_{i<j}k_0(x_i,x_j) - \frac12\sum_i k_0(x_i,x_i)` (with multiplicities).  Otherwise the
    cumulant generating functions: Gaussian weights give
    :math:`\sigma_w^2[\sum_{i<j} q_{ij} - \frac12\sum_i q_{ii}]`, :math:`q = x^TVy`, an iid non-Gaussian law
    :math:`\sum_d K_w(\sum_u p_ux_{ud}) - \frac12\sum_u p_uK_w(2x_{ud})` at explicit points, and the bias
    :math:`K_b(n) - \frac n2 K_b(2)`."""
    if fl.gaussian:
        return _table(fl, pts, powers)
    n = _total(powers)
    if fl.gaussian_weight:
        w_part = sp.Integer(0)
        P = len(pts)
        for u in range(P):
            pu = powers[u]
            w_part += (sp.Rational(pu * (pu - 1), 2) - sp.Rational(pu, 2)) * fl.weight_gram(pts[u], pts[u])
            for v in range(u + 1, P):
                w_part += pu * powers[v] * fl.weight_gram(pts[u], pts[v])
    else:
        if not all(is_explicit(p) for p in pts) or not isinstance(fl.d_in, int):
            return None
        def kw(t):
            return sp.Integer(0) if t == 0 else fl.weight.cgf(t)
        w_part = sp.Integer(0)
        for d in range(fl.d_in):
            s = sum(powers[u] * pts[u][d, 0] for u in range(len(pts)))
            w_part += kw(s) - sp.Rational(1, 2) * sum(powers[u] * kw(2 * pts[u][d, 0]) for u in range(len(pts)))
    if fl.bias is None:
        b_part = sp.Integer(0)
    elif fl.gaussian_bias:
        b_part = fl.b_var * (sp.Rational(n * (n - 1), 2) - sp.Rational(n, 2))
    else:
        b_part = fl.bias.cgf(n) - sp.Rational(n, 2) * fl.bias.cgf(2)
    return sp.exp(w_part + b_part)


def _cos_rule(fl: FirstLayer, pts, powers):
    r"""Cos-net: :math:`\prod_i\cos z_i = 2^{-n}\sum_\epsilon e^{i\sum_i\epsilon_i z_i}`, so
    :math:`m = 2^{-n}\sum_\epsilon \mathrm{Re}[\varphi_b(s_\epsilon)\varphi_w(v_\epsilon)]`,
    :math:`s_\epsilon = \sum\epsilon_i`, :math:`v_\epsilon = \sum\epsilon_i x_i`.  At a point of
    multiplicity ``p`` with ``r`` plus signs the pattern weight is :math:`\binom pr`; patterns
    :math:`\epsilon` and :math:`-\epsilon` are complex conjugates and are summed once, doubled."""
    n = _total(powers)
    if not fl.gaussian_weight:
        if not all(is_explicit(p) for p in pts) or not isinstance(fl.d_in, int):
            return None
        if characteristic_polar(fl.weight, sp.Symbol("t")) is None:
            return None
    if characteristic_polar(fl.bias, sp.Symbol("t")) is None:
        return None
    terms = []
    seen = set()
    for r in product(*[range(p + 1) for p in powers]):
        neg = tuple(p - k for p, k in zip(powers, r))
        if neg in seen:
            continue
        seen.add(tuple(r))
        mult = 1 if neg == tuple(r) else 2
        weight = sp.Integer(mult)
        for p, k in zip(powers, r):
            weight *= sp.binomial(p, k)
        coeffs = [2 * k - p for p, k in zip(powers, r)]
        s = sum(coeffs)
        rho_b, th_b = characteristic_polar(fl.bias, s)
        if rho_b == 0:
            continue
        if all(k == 0 for k in coeffs):
            rho_w, th_w = sp.Integer(1), sp.Integer(0)
        elif fl.gaussian_weight:
            rho_w = sp.exp(-fl.weight_quadratic(coeffs, pts) / 2)
            th_w = sp.Add(*[k * (fl.mean(p) - fl.b_mean) for k, p in zip(coeffs, pts) if k != 0]) \
                if fl.w_mean != 0 else sp.Integer(0)
        else:
            v = linear_combination(coeffs, pts)
            rho_w, th_w = sp.Integer(1), sp.Integer(0)
            for d in range(fl.d_in):
                rr, tt = characteristic_polar(fl.weight, v[d, 0])
                rho_w, th_w = rho_w * rr, th_w + tt
        phase = th_b + th_w
        term = weight * rho_b * rho_w * (sp.cos(phase) if phase != 0 else 1)
        terms.append(term)
    return sp.Add(*terms) / 2 ** n


def _identity_rule(fl: FirstLayer, pts, powers):
    r"""Linear hidden layer, Gaussian z: Isserlis with means (the table),
    :math:`E[\prod z_i] = \sum_\pi \prod_{\{i\}} m_i \prod_{\{i,j\}} k_0(x_i,x_j)`."""
    return _table(fl, pts, powers)


def _erf_rule(fl: FirstLayer, pts, powers):
    r"""The table: :math:`E[\phi] = \mathrm{erf}(m/\sqrt{1+2k_0})`; two slots with zero mean (one point twice
    included, as the pair at coincident points): the arcsine kernel."""
    n = _total(powers)
    if n == 1:
        return _table(fl, pts, powers)
    if n == 2:
        pair = [pts[0], pts[0]] if len(pts) == 1 else list(pts)
        return _table(fl, pair, [1, 1])
    return None


def _relu_rule(fl: FirstLayer, pts, powers):
    r"""The table: one point (:math:`E[\phi]`, :math:`E[\phi^2]` with a mean; any power at zero mean) and the
    arc-cosine kernel of order 1 at two points (zero mean)."""
    if len(pts) == 1 or _total(powers) == 2:
        return _table(fl, pts, powers)
    return None


#: activation name -> (its rule, whether the rule needs jointly Gaussian pre-activations); a rule returns
#: the closed form or None (see :data:`KNOWN_KERNELS` for what each one covers)
_RULES = {
    "gauss": (_gauss_rule, False),
    "cos": (_cos_rule, False),
    "identity": (_identity_rule, True),
    "erf": (_erf_rule, True),
    "relu": (_relu_rule, True),
}


def neuron_moment(first_layer: FirstLayer, points: Sequence, powers: Sequence[int] | None = None) -> sp.Expr:
    r"""The single-neuron moment :math:`E[\prod_u \phi(z(x_u))^{p_u}]` by the table (module doc):
    a closed form where a rule applies, else an unevaluated Gaussian integral (Gaussian first layer)
    or neuron-level parameter integral.  ``points`` are normalised columns (distinct, in order)."""
    fl = first_layer
    pts = list(points)
    powers = [1] * len(pts) if powers is None else [int(p) for p in powers]
    n = _total(powers)
    act = fl.activation
    name = act.name if act.name in _BUILTIN_NAMES else None
    if n == 0:
        return sp.Integer(1)
    if n % 2 == 1 and _is_odd(act) and fl.symmetric:
        return sp.Integer(0)
    rule, needs_gaussian = _RULES.get(name, (None, False))
    result = None if rule is None or (needs_gaussian and not fl.gaussian) else rule(fl, pts, powers)
    if result is not None:
        return result
    if fl.gaussian and not act.normalised:
        phi = sp.Lambda(_U, act.sympy(_U))
        mean = [fl.mean(p) for p in pts]
        cov = [[fl.k0(p, q) for q in pts] for p in pts]
        return GaussianExpectation(phi, mean, cov, powers)
    return ParameterIntegral(fl.network, pts, powers, kind=IntegralKind.NEURON)


def moment_table(network, points, powers: Sequence[int] | None = None) -> sp.Expr:
    r"""Public entry to the single-neuron moment table:
    :math:`m = E[\prod_u\phi(z(x_u))^{p_u}]` for the hidden neurons of a single-hidden-layer
    ``network`` at ``points`` (lists or matrix expressions) with multiplicities ``powers``."""
    fl = FirstLayer.from_network(network)
    if fl is None:
        raise SpecError("the hidden neurons of this network are not iid (structured first-layer law); "
                        "there is no single-neuron moment")
    pts = as_points(points, network.input_dim)
    return neuron_moment(fl, pts, powers)
