r"""Closed forms of Gaussian expectations of activations: the SymPy rules, written once.

For a Gaussian vector :math:`u \sim N(m, \Sigma)` and activations :math:`\phi_i` (with derivative orders
:math:`d_i` and powers :math:`p_i`), :func:`closed_form` returns

.. math:: E\Big[\prod_i \big(\phi_i^{(d_i)}(u_i)\big)^{p_i}\Big]

as a SymPy expression of the entries of :math:`\Sigma` and :math:`m` where a rule applies, else ``None``.
The rules, each an exact identity:

* **Isserlis** (``identity`` only): :math:`E[\prod u] = \sum_\pi\prod m\prod\Sigma` over pairings with
  singletons; **Gauss-net** (``gauss`` only): one exponential, the means cancel;
* **exponential polynomials** (``identity``, ``cos``, ``sin``, the normalised exponential ``gauss``
  :math:`\phi(u) = e^{u - m - \Sigma_{uu}}`): each factor is a finite sum
  :math:`\sum_r c_r u^{k_r} e^{\lambda_r u}` (:math:`\cos u = \tfrac12 e^{iu} + \tfrac12 e^{-iu}`, ...), and
  :math:`E[\prod_i u_i^{k_i} e^{\lambda\cdot u}] = \partial_t^k M(t)|_{t=\lambda}` with the moment
  generating function :math:`M(t) = e^{t\cdot m + \frac12 t^T\Sigma t}`; any number of points, any means;
* **ReLU and its derivatives** (``relu``; ``relu' = step``; ``relu'' = \delta``), zero means: the
  arc-cosine kernels of orders 1 and 0 (Cho and Saul 2009),

  .. math:: E[\mathrm{relu}(u)\mathrm{relu}(v)] = \frac{\sqrt{k_{11}k_{22}}}{2\pi}\big(\sin\vartheta
            + (\pi - \vartheta)\cos\vartheta\big),\qquad E[\mathrm{step}(u)\mathrm{step}(v)]
            = \frac{\pi - \vartheta}{2\pi},

  :math:`\cos\vartheta = \rho = k_{12}/\sqrt{k_{11}k_{22}}` (:math:`\sin\vartheta` written
  :math:`\sqrt{1-\rho^2}`), and at two points to any powers (the four-point moments of
  the finite-width recursion at two distinct points),

  .. math:: E[\mathrm{relu}(u)^p\mathrm{relu}(v)^q] = \frac{k_{11}^{p/2}k_{22}^{q/2}}{2\pi}\,2^{(p+q)/2}
            \Gamma\big(\tfrac{p+q}2+1\big)\int_{\vartheta-\pi/2}^{\pi/2}\cos^p\varphi\,\cos^q(\varphi-\vartheta)\,d\varphi

  (polar coordinates of the whitened pair: the radial integral times the angular one over the wedge where
  both are positive; :math:`p = q = 2` is Cho and Saul's :math:`J_2`); one point with a mean:
  :math:`E[\mathrm{relu}(u)] = m\Phi(m/s) + s\varphi(m/s)`, :math:`E[\mathrm{relu}(u)^2] = (m^2+s^2)\Phi(m/s) + ms\varphi(m/s)`,
  :math:`E[\mathrm{step}(u)] = \Phi(m/s)`, :math:`E[\delta(u)] = \varphi(m/s)/s`; one point, zero mean, any
  power: :math:`E[\mathrm{relu}(u)^p] = \tfrac12 (2s^2)^{p/2}\Gamma(\tfrac{p+1}{2})/\sqrt\pi`;
* **erf** (zero means at two points): the arcsine kernel (Williams 1997)
  :math:`E[\mathrm{erf}(u)\mathrm{erf}(v)] = \tfrac2\pi\arcsin\frac{2k_{12}}{\sqrt{(1+2k_{11})(1+2k_{22})}}`
  and :math:`E[\mathrm{erf}'(u)\mathrm{erf}'(v)] = \frac{4}{\pi\sqrt{(1+2k_{11})(1+2k_{22})-4k_{12}^2}}`;
  one point with a mean: :math:`E[\mathrm{erf}(u)] = \mathrm{erf}(m/\sqrt{1+2s^2})`,
  :math:`E[\mathrm{erf}'(u)] = \frac{2}{\sqrt{\pi(1+2s^2)}}e^{-m^2/(1+2s^2)}`;
* **parity**: with zero means, a product whose total parity is odd (odd activations: erf, tanh, sin,
  identity; each derivative flips the parity) has expectation 0.

Everything else (tanh, GELU-like and user activations, ReLU at three or more points, ...) has no rule
here: the numeric frame integrates it by Gauss-Hermite quadrature with an error estimate
(:mod:`symcorr.gaussian.quadrature`) and the symbolic frame keeps an unevaluated integral.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import sympy as sp

from ..activations import Activation, get_activation
from ..combinatorics import set_partitions
from ..errors import SpecError

__all__ = ["Factor", "closed_form", "parity", "EXPONENTIAL_POLYNOMIALS", "PIECEWISE_LINEAR", "CLOSED_PAIRS"]

#: activations that are finite sums of c u^k e^{lambda u}: closed forms at any number of points
EXPONENTIAL_POLYNOMIALS = frozenset({"identity", "cos", "sin", "gauss"})
#: activations whose pair expectations are the arc-cosine kernels
PIECEWISE_LINEAR = frozenset({"relu", "step"})
#: activations with a closed-form two-point function E[phi(u) phi(v)] at zero means
CLOSED_PAIRS = EXPONENTIAL_POLYNOMIALS | PIECEWISE_LINEAR | {"erf"}

_ODD = {"erf", "tanh", "sin", "identity"}
_EVEN = {"cos"}


@dataclass(frozen=True)
class Factor:
    """One factor :math:`(\\phi^{(d)}(u_i))^p` of a Gaussian expectation: an activation, a derivative
    order ``d`` (with respect to its argument) and a power ``p``."""

    activation: Activation
    derivative: int = 0
    power: int = 1

    @classmethod
    def of(cls, activation, derivative: int = 0, power: int = 1) -> "Factor":
        if isinstance(derivative, bool) or not isinstance(derivative, int) or derivative < 0:
            raise SpecError(f"derivative order must be a non-negative integer, got {derivative!r}", "derivative")
        if isinstance(power, bool) or not isinstance(power, int) or power < 0:
            raise SpecError(f"power must be a non-negative integer, got {power!r}", "power")
        return cls(get_activation(activation), derivative, power)

    @property
    def name(self) -> str:
        return self.activation.name

    def parity(self) -> int | None:
        """+1 (even), -1 (odd) or None (neither, or unknown) of :math:`(\\phi^{(d)})^p`."""
        base = parity(self.activation)
        if base is None:
            return None
        single = base * (-1) ** self.derivative
        return 1 if self.power % 2 == 0 else single


def parity(activation: Activation) -> int | None:
    """+1 for an even activation, -1 for an odd one, None otherwise (custom activations: None)."""
    name = activation.name
    if name in _ODD:
        return -1
    if name in _EVEN:
        return 1
    return None


def _is_zero(expr) -> bool:
    expr = sp.sympify(expr)
    return expr == 0 or expr.is_zero is True


# ----------------------------------------------------------------------------------------------------
# exponential polynomials: sums of c u^k e^{lambda u}
# ----------------------------------------------------------------------------------------------------
def _exp_terms(factor: Factor, mean, var) -> list[tuple[sp.Expr, int, sp.Expr]] | None:
    """``[(c, k, lambda)]`` with :math:`(\\phi^{(d)}(u))^p = \\sum c\\, u^k e^{\\lambda u}`."""
    name, d = factor.name, factor.derivative
    if name == "identity":
        single = [(sp.Integer(1), 1, sp.Integer(0))] if d == 0 else ([(sp.Integer(1), 0, sp.Integer(0))]
                                                                      if d == 1 else [])
    elif name in ("cos", "sin"):
        i = sp.I
        base = ([(sp.Rational(1, 2), i), (sp.Rational(1, 2), -i)] if name == "cos"
                else [(1 / (2 * i), i), (-1 / (2 * i), -i)])
        single = [(c * lam ** d, 0, lam) for c, lam in base]
    elif name == "gauss":
        # the Gauss-net activation exp(u - (1/2) log E[e^{2u}]) = exp(u - m - s^2) for u ~ N(m, s^2)
        single = [(sp.exp(-mean - var), 0, sp.Integer(1))]
    else:
        return None
    out = [(sp.Integer(1), 0, sp.Integer(0))]
    for _ in range(factor.power):
        out = [(c1 * c2, k1 + k2, l1 + l2) for c1, k1, l1 in out for c2, k2, l2 in single]
    return out


def _isserlis(factors: Sequence[Factor], cov: sp.Matrix, mean: list) -> sp.Expr:
    r"""Identity factors (derivative 0: :math:`u_i`; 1: the constant 1; higher: 0) by Isserlis' theorem with
    means, :math:`E[\prod_s u_{i_s}] = \sum_\pi \prod_{\{s\}\in\pi} m_{i_s} \prod_{\{s,t\}\in\pi}\Sigma_{i_si_t}`
    over the partitions of the slots (a factor of power p is p slots) into singletons and pairs."""
    if any(f.derivative > 1 for f in factors):
        return sp.Integer(0)
    slots = [i for i, f in enumerate(factors) if f.derivative == 0 for _ in range(f.power)]
    out = []
    for part in set_partitions(range(len(slots)), lambda s: s <= 2):
        term = sp.Integer(1)
        for block in part:
            if len(block) == 1:
                term *= mean[slots[block[0]]]
            else:
                term *= cov[slots[block[0]], slots[block[1]]]
            if term == 0:
                break
        out.append(term)
    return sp.Add(*out)


def _gauss_product(factors: Sequence[Factor], cov: sp.Matrix) -> sp.Expr:
    r"""Normalised exponentials :math:`\phi(u) = e^{u - m - \Sigma_{uu}}` (every derivative is the function
    itself): :math:`E[\prod_i\phi(u_i)^{p_i}] = \exp\big(\sum_i(\tfrac{p_i^2}2 - p_i)\Sigma_{ii}
    + \sum_{i<j}p_ip_j\Sigma_{ij}\big)` (the means cancel), as one exponential."""
    n = len(factors)
    p = [f.power for f in factors]
    exponent = sp.Integer(0)
    for i in range(n):
        exponent += (sp.Rational(p[i] * p[i], 2) - p[i]) * cov[i, i]
        for j in range(i + 1, n):
            exponent += p[i] * p[j] * cov[i, j]
    return sp.exp(exponent)


def _exponential_polynomial(factors: Sequence[Factor], cov: sp.Matrix, mean: list) -> sp.Expr:
    names = {f.name for f in factors}
    if names == {"identity"}:
        return _isserlis(factors, cov, mean)
    if names == {"gauss"}:
        return _gauss_product(factors, cov)
    n = len(factors)
    t = sp.symbols(f"t0:{n}")
    tv = sp.Matrix(t)
    mgf = sp.exp((sp.Matrix(mean).T * tv)[0, 0] + (tv.T * cov * tv)[0, 0] / 2)
    per_factor = []
    for i, f in enumerate(factors):
        terms = _exp_terms(f, mean[i], cov[i, i])
        if terms is None:  # pragma: no cover - callers pass exponential polynomials only
            raise SpecError(f"{f.name!r} is not an exponential polynomial", "factors")
        per_factor.append(terms)
    total = sp.Integer(0)
    derivative_cache: dict = {}
    for choice in itertools.product(*per_factor):
        coeff = sp.Mul(*[c for c, _, _ in choice])
        if coeff == 0:
            continue
        ks = tuple(k for _, k, _ in choice)
        lam = [l for _, _, l in choice]
        if ks not in derivative_cache:
            g = mgf
            for i, k in enumerate(ks):
                if k:
                    g = sp.diff(g, t[i], k)
            derivative_cache[ks] = g
        total += coeff * derivative_cache[ks].subs(dict(zip(t, lam)), simultaneous=True)
    return _real_part(sp.expand(total))


def _split_numeric(expr: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """``(Re, Im)`` of a sum of terms ``c * R`` with complex numbers ``c`` and real factors ``R`` (the
    covariance and mean entries are real by construction, whatever their SymPy assumptions say)."""
    re_terms, im_terms = [], []
    for term in sp.Add.make_args(sp.expand(expr)):
        coeff, rest = term.as_coeff_mul()
        c = sp.Mul(*[a for a in rest if a.is_number], coeff)
        r = sp.Mul(*[a for a in rest if not a.is_number])
        cr, ci = sp.re(c), sp.im(c)
        if cr != 0:
            re_terms.append(cr * r)
        if ci != 0:
            im_terms.append(ci * r)
    return sp.Add(*re_terms), sp.Add(*im_terms)


def _real_part(expr: sp.Expr) -> sp.Expr:
    """The real part of a sum of ``c * P * exp(a + i b)`` with real ``P``, ``a``, ``b`` and complex numbers
    ``c``, as ``e^a (Re(cP) cos b - Im(cP) sin b)`` (no Re()/Im() left over)."""
    out = []
    for term in sp.Add.make_args(expr):
        exps = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.exp)]
        rest = sp.Mul(*[f for f in sp.Mul.make_args(term) if not isinstance(f, sp.exp)])
        a, b = _split_numeric(sp.Add(*[e.args[0] for e in exps]))
        cr, ci = _split_numeric(rest)
        part = cr * sp.cos(b) - ci * sp.sin(b) if b != 0 else cr
        out.append(sp.exp(a) * part if a != 0 else part)
    total = sp.Add(*out)
    if any(isinstance(x, (sp.re, sp.im)) for x in sp.preorder_traversal(total)):  # pragma: no cover - guard
        raise SpecError("internal: the real part of an exponential-polynomial expectation could not be "
                        "separated")
    return total


# ----------------------------------------------------------------------------------------------------
# ReLU / step / delta and erf
# ----------------------------------------------------------------------------------------------------
_RELU_CHAIN = {("relu", 0): "relu", ("relu", 1): "step", ("relu", 2): "delta",
               ("step", 0): "step", ("step", 1): "delta"}
_ERF_CHAIN = {("erf", 0): "erf", ("erf", 1): "erf'"}


def _phi(x):
    return sp.exp(-x ** 2 / 2) / sp.sqrt(2 * sp.pi)


def _Phi(x):
    return (1 + sp.erf(x / sp.sqrt(2))) / 2


def _one_point(kind: str, power: int, m, v) -> sp.Expr | None:
    s = sp.sqrt(v)
    zero = _is_zero(m)
    if kind == "relu":
        if zero:
            return (sp.Rational(1, 2) * v ** sp.Rational(power, 2) * 2 ** sp.Rational(power, 2)
                    * sp.gamma(sp.Rational(power + 1, 2)) / sp.sqrt(sp.pi))
        if power == 1:
            return m * _Phi(m / s) + s * _phi(m / s)
        if power == 2:
            return (m ** 2 + v) * _Phi(m / s) + m * s * _phi(m / s)
        return None
    if kind == "step":
        return sp.Rational(1, 2) if zero else _Phi(m / s)
    if kind == "delta":
        return _phi(m / s) / s if power == 1 else None
    if kind == "erf":
        if power == 1:
            return sp.erf(m / sp.sqrt(1 + 2 * v))
        if power == 2 and zero:
            return 2 / sp.pi * sp.asin(2 * v / (1 + 2 * v))
        return None
    if kind == "erf'":
        if power == 1:
            return 2 / sp.sqrt(sp.pi * (1 + 2 * v)) * sp.exp(-m ** 2 / (1 + 2 * v))
        if power == 2 and zero:
            return 4 / (sp.pi * sp.sqrt(1 + 4 * v))
        return None
    return None


def _two_points(kinds: tuple[str, str], k11, k12, k22) -> sp.Expr | None:
    """Zero-mean pair expectations of the piecewise-linear and erf chains."""
    pair = tuple(kinds)
    root = sp.sqrt(k11 * k22)
    rho = k12 / root
    if pair == ("relu", "relu"):
        # the arc-cosine form sqrt(k11 k22) (sin t + (pi - t) cos t) / 2 pi, cos t = rho: near rho = 1 its
        # rounding errors cancel to first order (sqrt(k11 k22 - k12^2) alone would lose half the digits)
        return root / (2 * sp.pi) * (sp.sqrt(1 - rho ** 2) + (sp.pi - sp.acos(rho)) * rho)
    if pair == ("step", "step"):
        return (sp.pi - sp.acos(rho)) / (2 * sp.pi)
    if pair in (("relu", "step"), ("step", "relu")):
        # E[u 1(u>0) 1(v>0)] by Stein's lemma: k11 E[delta(u) 1(v>0)] + k12 E[1(u>0) delta(v)]
        a, b = (k11, k22) if pair == ("relu", "step") else (k22, k11)
        return (sp.sqrt(a) + k12 / sp.sqrt(b)) / (2 * sp.sqrt(2 * sp.pi))
    if pair in (("relu", "delta"), ("delta", "relu")):
        # E[relu(u) delta(v)] = p_v(0) E[relu(u) | v = 0], u | v=0 ~ N(0, k11 - k12^2/k22)
        b = k22 if pair == ("relu", "delta") else k11
        a = k11 if pair == ("relu", "delta") else k22
        return sp.sqrt(a * b - k12 ** 2) / (2 * sp.pi * b)
    if pair in (("step", "delta"), ("delta", "step")):
        # E[1(u>0) delta(v)] = p_v(0) P(u > 0 | v = 0) = p_v(0) / 2
        b = k22 if pair == ("step", "delta") else k11
        return 1 / (2 * sp.sqrt(2 * sp.pi * b))
    if pair == ("delta", "delta"):
        return 1 / (2 * sp.pi * sp.sqrt(k11 * k22 - k12 ** 2))
    if pair == ("erf", "erf"):
        return 2 / sp.pi * sp.asin(2 * k12 / sp.sqrt((1 + 2 * k11) * (1 + 2 * k22)))
    if pair == ("erf'", "erf'"):
        return 4 / (sp.pi * sp.sqrt((1 + 2 * k11) * (1 + 2 * k22) - 4 * k12 ** 2))
    return None


_THETA = sp.Symbol("theta", positive=True)
_VARPHI = sp.Symbol("varphi", real=True)


@lru_cache(maxsize=32)
def _relu_angular(p: int, q: int) -> sp.Expr:
    r""":math:`A_{pq}(\theta) = \int_{\theta-\pi/2}^{\pi/2}\cos^p\varphi\cos^q(\varphi-\theta)\,d\varphi` for
    :math:`\theta\in[0,\pi]` (a trigonometric polynomial in :math:`\theta` plus :math:`\pi-\theta` times one),
    computed once per pair of powers."""
    integrand = sp.expand(sp.expand_trig(sp.cos(_VARPHI) ** p * sp.cos(_VARPHI - _THETA) ** q))
    return sp.expand(sp.expand_trig(sp.integrate(integrand, (_VARPHI, _THETA - sp.pi / 2, sp.pi / 2))))


def _relu_powers(p: int, q: int, k11, k12, k22) -> sp.Expr:
    r""":math:`E[\mathrm{relu}(u)^p\mathrm{relu}(v)^q]` at zero means (module docstring): the angular integral
    with :math:`\cos\theta = \rho`, :math:`\sin\theta = \sqrt{1-\rho^2}` (:math:`\theta\in[0,\pi]`)."""
    rho = k12 / sp.sqrt(k11 * k22)
    angular = _relu_angular(p, q).subs({sp.sin(_THETA): sp.sqrt(1 - rho ** 2), sp.cos(_THETA): rho})
    angular = angular.subs(_THETA, sp.acos(rho))
    radial = 2 ** sp.Rational(p + q, 2) * sp.gamma(sp.Rational(p + q, 2) + 1)
    return k11 ** sp.Rational(p, 2) * k22 ** sp.Rational(q, 2) * radial * angular / (2 * sp.pi)


def _chain_kind(factor: Factor) -> str | None:
    key = (factor.name, factor.derivative)
    return _RELU_CHAIN.get(key) or _ERF_CHAIN.get(key)


# ----------------------------------------------------------------------------------------------------
# the front
# ----------------------------------------------------------------------------------------------------
def closed_form(factors: Sequence[Factor], cov, mean=None) -> sp.Expr | None:
    r""":math:`E[\prod_i(\phi_i^{(d_i)}(u_i))^{p_i}]` for :math:`u\sim N(m,\Sigma)` (``cov`` an n x n
    SymPy matrix, ``mean`` a length-n list, default 0) by the rules of the module docstring, or ``None``
    when no rule applies.  Factors with power 0 are dropped; a normalised ``gauss`` factor is
    :math:`e^{u - m - \Sigma_{uu}}`."""
    cov = sp.Matrix(cov)
    n = len(factors)
    if cov.shape != (n, n):
        raise SpecError(f"covariance has shape {cov.shape}, expected ({n}, {n}) for {n} factors", "cov")
    mean = [sp.Integer(0)] * n if mean is None else [sp.sympify(m) for m in mean]
    if len(mean) != n:
        raise SpecError(f"mean has {len(mean)} entries, expected {n}", "mean")
    keep = [i for i, f in enumerate(factors) if f.power > 0]
    if len(keep) < n:
        factors = [factors[i] for i in keep]
        cov = cov.extract(keep, keep)
        mean = [mean[i] for i in keep]
        n = len(factors)
    if n == 0:
        return sp.Integer(1)
    zero_mean = all(_is_zero(m) for m in mean)
    if zero_mean:
        parities = [f.parity() for f in factors]
        if all(p is not None for p in parities) and sp.prod(parities) == -1:
            return sp.Integer(0)
    names = {f.name for f in factors}
    if names <= EXPONENTIAL_POLYNOMIALS:
        return _exponential_polynomial(factors, cov, mean)
    chain = [_chain_kind(f) for f in factors]
    kinds = tuple(k for k in chain if k is not None)
    if len(kinds) < n:
        return None
    if n == 1:
        return _one_point(kinds[0], factors[0].power, mean[0], cov[0, 0])
    if n == 2 and zero_mean and all(f.power == 1 for f in factors):
        return _two_points((kinds[0], kinds[1]), cov[0, 0], cov[0, 1], cov[1, 1])
    if n == 2 and zero_mean and kinds == ("relu", "relu"):
        return _relu_powers(factors[0].power, factors[1].power, cov[0, 0], cov[0, 1], cov[1, 1])
    return None
