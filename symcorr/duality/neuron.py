r"""The single-neuron moments of a first-layer unit :math:`z(x) = w\cdot x + b`: exact where a closed form
exists, deterministic quadrature with an error estimate otherwise.

:math:`m = E\big[\prod_k f_k(z(x_k))\big]` for activations or their derivatives :math:`f_k` is computed

* exactly for exponential-polynomial activations (cos, sin, the normalised exponential ``gauss``,
  identity) from the moment generating function of the first-layer laws,
  :math:`E[e^{t\cdot w + s b}] = \prod_j M_w(t_j) M_b(s)` (complex arguments give the characteristic
  function): e.g. :math:`E[\prod_k\cos z_k] = 2^{-n}\sum_{\epsilon\in\{\pm1\}^n} E[e^{i\sum_k\epsilon_k z_k}]`;
* exactly from the Gaussian closed forms (arc-cosine, arcsine, Gaussian integrals) for ReLU / erf and
  their derivatives at one or two points when :math:`z` is Gaussian (:mod:`symcorr.gaussian`);
* otherwise by **deterministic product Gauss quadrature** (Gauss-Hermite for Gaussian directions,
  two-sided Gauss-Laguerre for Laplace, Gauss-Legendre for uniform laws) at two resolutions; the
  difference of the two is reported as the error estimate.  Results of this kind are marked
  ``method="quadrature"`` and never count as exact.

The network models built on these moments are in :mod:`symcorr.duality.moments`.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import sympy as sp
import torch

from ..distributions import Laplace, Law, Normal, Rademacher, Uniform
from ..errors import SpecError
from ..gaussian import Factor, closed_form, gauss_hermite
from ..gaussian.quadrature import product_integrand
from ..spec import Network
from .engines import Unsupported
from .values import Value

__all__ = ["Neuron", "DERIVATIVE"]


# ----------------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------------


def _is_zero_number(t) -> bool:
    t = sp.sympify(t)
    return t == 0 or (t.is_number and sp.N(abs(t), 30) == 0)


def _law_mgf(law: Law, t) -> sp.Expr:
    r""":math:`E[e^{tX}]` for real or complex t (analytic continuation of the MGF; 1 at t = 0)."""
    t = sp.sympify(t)
    if _is_zero_number(t):
        return sp.Integer(1)
    if isinstance(law, Laplace) and t.is_number:
        re_t = abs(complex(sp.N(t)).real) * float(sp.N(law.scale))
        if re_t >= 1:
            raise Unsupported(f"E[exp(t X)] diverges for the Laplace law at t = {t}")
    return law.mgf(t)


#: the derivative of each moment name: (its name, the sign it carries)
DERIVATIVE = {"cos": ("sin", -1), "sin": ("cos", 1), "gauss": ("gauss", 1), "identity": ("one", 1),
               "relu": ("relu'", 1), "erf": ("erf'", 1), "tanh": ("tanh'", 1)}

_EXP_FORMS = {  # f(z) = sum_r c_r exp(lambda_r z)
    "cos": [(sp.Rational(1, 2), sp.I), (sp.Rational(1, 2), -sp.I)],
    "sin": [(-sp.I / 2, sp.I), (sp.I / 2, -sp.I)],
    "one": [(sp.Integer(1), sp.Integer(0))],
}

_TORCH = {
    "cos": torch.cos, "sin": torch.sin, "one": torch.ones_like, "identity": lambda z: z,
    "relu": torch.relu, "relu'": lambda z: (z > 0).to(z.dtype), "erf": torch.erf,
    "erf'": lambda z: 2 / math.sqrt(math.pi) * torch.exp(-z * z), "tanh": torch.tanh,
    "tanh'": lambda z: 1 - torch.tanh(z) ** 2,
}


#: moment names of this module that the Gaussian table knows: (activation, derivative order)
_TABLE_FACTORS = {"relu": ("relu", 0), "relu'": ("relu", 1), "erf": ("erf", 0), "erf'": ("erf", 1)}


def _table_factor(name: str, power: int = 1) -> Factor:
    if name not in _TABLE_FACTORS:
        raise Unsupported(name)
    activation, derivative = _TABLE_FACTORS[name]
    return Factor.of(activation, derivative, power)


def _quad_rule(law: Law | None, q: int):
    """Nodes and weights (numpy) integrating against the law (or the point 0 when ``law`` is None)."""
    if law is None:
        return np.zeros(1), np.ones(1)
    if isinstance(law, Normal) and law.is_iid:
        p = law.numeric_params()
        t, w = np.polynomial.hermite_e.hermegauss(q)
        return p["mean"] + math.sqrt(p["var"]) * t, w / math.sqrt(2 * math.pi)
    if isinstance(law, Laplace):
        p = law.numeric_params()
        u, w = np.polynomial.laguerre.laggauss(q)
        return (np.concatenate([p["loc"] + p["scale"] * u, p["loc"] - p["scale"] * u]),
                np.concatenate([w, w]) / 2)
    if isinstance(law, Uniform):  # includes the uniform phase
        lo, hi = float(sp.N(law.low)), float(sp.N(law.high))
        t, w = np.polynomial.legendre.leggauss(q)
        return lo + (hi - lo) * (t + 1) / 2, w / 2
    if isinstance(law, Rademacher):
        s = float(sp.N(law.scale))
        return np.array([-s, s]), np.array([0.5, 0.5])
    raise Unsupported(f"no quadrature rule for {law!r}")




# ----------------------------------------------------------------------------------------------------
# one hidden unit of the first layer
# ----------------------------------------------------------------------------------------------------
class Neuron:
    r"""One first-layer unit :math:`z(x) = w\cdot x + b` (``w`` a row of :math:`W^0`, ``b`` an entry of
    :math:`b^0`), for networks whose first-layer units are iid."""

    def __init__(self, network: Network):
        d = network.input_dim
        if not isinstance(d, int):
            raise Unsupported("the input dimension must be concrete")
        self.d = d
        self.activation = network.layers[0].activation
        law = network.weight(0).law
        self.w_iid: Law | None = None
        self.w_mean = self.w_var = self.w_cov = None
        if law.is_iid:
            self.w_iid = law
        else:
            assert isinstance(law, Normal)
            if law.row_cov is not None:
                u = sp.Matrix(law.row_cov)
                if not (u - u[0, 0] * sp.eye(u.rows)).is_zero_matrix:
                    raise Unsupported("first-layer units are correlated (row_cov)")
            scale = law.row_cov[0, 0] if law.row_cov is not None else 1
            loc = law.loc
            if isinstance(loc, sp.MatrixBase):
                rows = {tuple(loc.row(i)) for i in range(loc.rows)}
                if loc.cols == 1:
                    if len(set(loc)) != 1:
                        raise Unsupported("first-layer units have different means")
                    mean = [loc[0, 0]] * d
                elif len(rows) != 1:
                    raise Unsupported("first-layer units have different means")
                else:
                    mean = list(loc.row(0))
            else:
                mean = [loc] * d
            self.w_mean = sp.Matrix(mean)
            self.w_var = law.var * scale
            self.w_cov = sp.Matrix(law.col_cov) if law.col_cov is not None else sp.eye(d)
        bias = network.bias(0)
        self.b_law = None if bias is None else bias.law
        if self.b_law is not None and not self.b_law.is_iid:
            b = self.b_law
            assert isinstance(b, Normal)  # the only structured bias law
            if b.cov is not None or len(set(b.loc)) != 1:
                raise Unsupported("first-layer biases are not iid")
            self.b_law = Normal(b.loc[0, 0], b.var)
        self._cache: dict = {}

    @property
    def gaussian(self) -> bool:
        w_gauss = self.w_iid is None or isinstance(self.w_iid, Normal)
        return w_gauss and (self.b_law is None or isinstance(self.b_law, Normal))

    def mgf(self, t, s) -> sp.Expr:
        r""":math:`E[e^{t\cdot w + s b}]` (complex arguments allowed)."""
        if self.w_iid is not None:
            out = sp.Mul(*[_law_mgf(self.w_iid, tj) for tj in t])
        else:
            tv = sp.Matrix(t)
            assert self.w_mean is not None and self.w_cov is not None  # the structured Normal case
            out = sp.exp((self.w_mean.T * tv)[0, 0] + self.w_var * (tv.T * self.w_cov * tv)[0, 0] / 2)
        if self.b_law is not None:
            out = out * _law_mgf(self.b_law, s)
        return out

    def mean_cov(self, points):
        """Means and covariance matrix of :math:`(z(x_1), ..., z(x_n))` (any law with two moments)."""
        xs = [sp.Matrix(p) for p in points]
        if self.w_iid is not None:
            mu_w, var_w = self.w_iid.mean, self.w_iid.variance
            means = [mu_w * sum(x) for x in xs]
            cov = sp.Matrix(len(xs), len(xs), lambda i, j: var_w * (xs[i].T * xs[j])[0, 0])
        else:
            means = [(self.w_mean.T * x)[0, 0] for x in xs]
            cov = sp.Matrix(len(xs), len(xs), lambda i, j: self.w_var * (xs[i].T * self.w_cov * xs[j])[0, 0])
        if self.b_law is not None:
            means = [m + self.b_law.mean for m in means]
            cov = cov + self.b_law.variance * sp.ones(len(xs), len(xs))
        return [sp.simplify(m) for m in means], cov.applyfunc(sp.simplify)

    def log_normaliser(self, x) -> sp.Expr:
        r""":math:`\tfrac12\log E[e^{2z(x)}]` (the Gauss-net normaliser)."""
        return sp.log(self.mgf([2 * xj for xj in x], 2)) / 2

    # --- the single-neuron moment ------------------------------------------------------------------
    def moment(self, factors) -> Value:
        r""":math:`E[\prod_k f_k(z(x_k))]` for ``factors = [(name, point), ...]``, name one of the
        activation names or a derivative (``"relu'"``, ``"sin"``, ``"one"``...)."""
        key = tuple(sorted(((f, tuple(sp.sympify(v) for v in p)) for f, p in factors), key=sp.srepr))
        if key in self._cache:
            return self._cache[key]
        factors = [(f, [sp.sympify(v) for v in p]) for f, p in factors]
        for p in (p for _, p in factors):
            if len(p) != self.d:
                raise Unsupported(f"point {p} has the wrong dimension")
        value = None
        names = {f for f, _ in factors}
        if names <= {"cos", "sin", "one", "gauss", "identity"}:
            value = self._exp_route(factors)
        elif self.gaussian:
            try:
                value = self._gaussian_table(factors)
            except Unsupported:
                value = None
        if value is None:
            value = self._quadrature(factors)
        self._cache[key] = value
        return value

    def _exp_route(self, factors) -> Value:
        ids = [k for k, (f, _) in enumerate(factors) if f == "identity"]
        if ids and (self.w_iid is not None and isinstance(self.w_iid, Uniform) or isinstance(self.b_law, Uniform)):
            raise Unsupported("identity factors with a uniform law")
        svars = sp.symbols(f"s0:{len(factors)}")
        forms = []
        for k, (f, x) in enumerate(factors):
            if f == "identity":
                forms.append([(sp.Integer(1), None)])
            elif f == "gauss":
                forms.append([(sp.exp(-self.log_normaliser(x)), sp.Integer(1))])
            else:
                forms.append(_EXP_FORMS[f])
        total = sp.Integer(0)
        for choice in itertools.product(*forms):
            coef = sp.Mul(*[c for c, _ in choice])
            lam = [svars[k] if lam is None else lam for k, (_, lam) in enumerate(choice)]
            t = [sum(lam[k] * factors[k][1][j] for k in range(len(factors))) for j in range(self.d)]
            s = sum(lam)
            g = self.mgf(t, s)
            for k in ids:
                g = sp.diff(g, svars[k])
            g = g.subs({svars[k]: 0 for k in ids})
            total += coef * g
        total = sp.simplify(sp.expand_complex(total) if not total.free_symbols - set() else total)
        return Value.exact(total)

    def _gaussian_table(self, factors) -> Value:
        """One- and two-point moments of a Gaussian pre-activation from the table of Gaussian closed forms
        (:func:`symcorr.gaussian.closed_form`); only the point masses (zero variance) are written here."""
        names = [f for f, _ in factors]
        points = [p for _, p in factors]
        means, cov = self.mean_cov(points)
        if len(factors) == 1:
            m, v = means[0], cov[0, 0]
            f = names[0]
            if v == 0:
                if f == "relu":
                    return Value.exact(sp.Max(m, 0))
                if f == "erf":
                    return Value.exact(sp.erf(m))
                raise Unsupported("degenerate pre-activation")
            return self._closed([_table_factor(f)], cov, means)
        if len(factors) != 2 or names[0] != names[1]:
            raise Unsupported("only one- and two-point Gaussian tables")
        f = names[0]
        k11, k22, k12 = cov[0, 0], cov[1, 1], cov[0, 1]
        same = sp.simplify(k11 - k12) == 0 and sp.simplify(k22 - k12) == 0 and sp.simplify(means[0] - means[1]) == 0
        if f == "relu" and same and not all(_is_zero_number(m) for m in means):
            m, v = means[0], k11
            if v == 0:
                return Value.exact(sp.Max(m, 0) ** 2)
            return self._closed([_table_factor(f, power=2)], cov[:1, :1], means[:1])
        if not all(_is_zero_number(m) for m in means):
            raise Unsupported("two-point tables need zero-mean pre-activations")
        if f in ("relu", "relu'") and (_is_zero_number(k11) or _is_zero_number(k22)):
            if f == "relu":
                return Value.exact(0)
            raise Unsupported("Heaviside at 0")
        return self._closed([_table_factor(f)] * 2, cov, None)

    @staticmethod
    def _closed(factors, cov, means) -> Value:
        value = closed_form(factors, cov, means)
        if value is None:
            raise Unsupported(f"no closed form for {factors}")
        return Value.exact(value)

    def _torch_fn(self, name, point):
        if name == "gauss":
            ln = float(sp.N(self.log_normaliser(point)))
            return lambda z: torch.exp(z - ln)
        if name in _TORCH:
            return _TORCH[name]
        if name == self.activation.name and not self.activation.normalised:
            return self.activation.torch
        raise Unsupported(f"no numerical form for {name!r}")

    def _quadrature(self, factors) -> Value:
        if any(sp.sympify(v).free_symbols for _, p in factors for v in p):
            raise Unsupported("quadrature needs numeric points")
        fns = [self._torch_fn(f, p) for f, p in factors]
        pts = np.array([[float(sp.N(v)) for v in p] for _, p in factors])  # (n, d)
        if any(s.free_symbols for s in self.mean_cov([[0] * self.d])[1]):
            raise Unsupported("symbolic law parameters")
        estimates = []
        if self.gaussian:  # the one Gauss-Hermite rule (symcorr.gaussian.quadrature), at this engine's resolutions
            means, cov = self.mean_cov([p for _, p in factors])
            m = torch.tensor([float(sp.N(v)) for v in means], dtype=torch.float64)
            c = torch.tensor([[float(sp.N(cov[i, j])) for j in range(cov.cols)] for i in range(cov.rows)],
                             dtype=torch.float64)
            evals = np.linalg.eigvalsh(c.numpy())
            r = int((evals > 1e-13 * max(1.0, float(evals.max()))).sum())
            if r > 4:
                raise Unsupported("too many quadrature dimensions")
            integrand = product_integrand(fns)
            for q in _resolutions(r):
                try:
                    value, _ = gauss_hermite(integrand, c, m, resolutions=(q,))
                except SpecError as err:  # an overflowing integrand or a covariance the rule refuses: decline
                    raise Unsupported(err.reason) from None
                estimates.append(float(value))
        else:
            if self.w_iid is None:
                raise Unsupported("structured non-Gaussian first layer")
            used = [j for j in range(self.d) if np.any(pts[:, j] != 0)]
            dims = len(used) + (1 if self.b_law is not None else 0)
            if dims > 4:
                raise Unsupported("too many quadrature dimensions")
            for q in _resolutions(dims):
                rules = [_quad_rule(self.w_iid, q) for _ in used] + ([_quad_rule(self.b_law, q)]
                                                                      if self.b_law is not None else [])
                nodes = np.meshgrid(*[r[0] for r in rules], indexing="ij")
                wts = np.ones(1)
                for r in rules:
                    wts = np.multiply.outer(wts, r[1])
                cols = [g.reshape(-1) for g in nodes]
                z = np.zeros((cols[0].size if cols else 1, len(factors)))
                for k in range(len(factors)):
                    for idx, j in enumerate(used):
                        z[:, k] += cols[idx] * pts[k, j]
                    if self.b_law is not None:
                        z[:, k] += cols[-1]
                estimates.append(self._integrate(fns, torch.tensor(z, dtype=torch.float64),
                                                 torch.tensor(wts.reshape(-1), dtype=torch.float64)))
        lo, hi = estimates
        return Value.numeric(hi, abs(hi - lo) + 1e-13 * max(1.0, abs(hi)))

    @staticmethod
    def _integrate(fns, z, w) -> float:
        prod = torch.ones_like(w)
        for k, fn in enumerate(fns):
            prod = prod * fn(z[:, k])
        if not torch.isfinite(prod).all():
            raise Unsupported("the integrand overflows")
        return float((prod * w).sum())


def _resolutions(dims: int):
    hi = {0: 1, 1: 240, 2: 160, 3: 60, 4: 26}[dims]
    return (max(1, hi // 2), hi)
