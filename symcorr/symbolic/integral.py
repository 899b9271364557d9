r"""Unevaluated expectations: the parameter-space integral and the Gaussian integral of one neuron.

Two SymPy expression classes stand for integrals that the rules of :mod:`symcorr.symbolic.rules`
cannot (or do not) do in closed form.  Both are ordinary SymPy expressions: they print (str, LaTeX),
take part in sums and products, can be substituted into, and evaluate numerically.

:class:`GaussianExpectation`
    .. math:: \mathbb E_{z\sim\mathcal N(\mu,\Sigma)}\Big[\prod_u \phi(z_u)^{p_u}\Big]

    the single-neuron moment of a network whose first-layer pre-activations are Gaussian.  Its
    arguments are the activation (a ``Lambda``), the mean vector, the covariance (upper triangle) and
    the powers; the inputs enter **only** through :math:`\mu_u = m(x_u)` and
    :math:`\Sigma_{uv} = k_0(x_u, x_v)`.  Numeric value: tensor-product Gauss-Hermite quadrature in the
    rank of :math:`\Sigma` (a deterministic value, also what ``sympy.N`` returns), or seeded Monte
    Carlo with a standard error (:meth:`GaussianExpectation.numeric`).

:class:`ParameterIntegral`
    .. math:: \int d\theta\,P(\theta)\,F(\theta)

    over named parameter blocks, with ``F`` either the product of network outputs
    :math:`\prod_i f_{a_i}(x_i)` (``kind="network"``: any depth, any laws) or the product of one
    hidden neuron's activations :math:`\prod_u \phi(w\cdot x_u + b)^{p_u}` over the law of one row of
    :math:`W^0` and one entry of :math:`b^0` (``kind="neuron"``).  It records which blocks and which
    inputs it depends on, and evaluates by seeded Monte Carlo (``net.sample`` / ``net.forward``) with a
    standard error.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Callable

import numpy as np
import sympy as sp
import torch
from sympy.core.symbol import Str

from ..activations import TORCH_TRANSLATIONS
from ..errors import SpecError
from ..rng import make_generator
from ..spec import Dense, Network
from ..verdicts import parse_choice
from .quadrature import (DEFAULT_NODES, gauss_hermite_expectation, montecarlo_gaussian_expectation,
                         reduce_covariance)

__all__ = ["GaussianExpectation", "ParameterIntegral", "IntegralKind", "NumericMethod", "register_network",
           "registered_network", "register_network_rules"]


class IntegralKind(StrEnum):
    """What a :class:`ParameterIntegral` integrates: the network outputs or one hidden neuron."""

    NETWORK = "network"  # prod_i f_{a_i}(x_i) over all parameters
    NEURON = "neuron"  # prod_u phi(w.x_u + b)^{p_u} over one row of W^0 and one entry of b^0

    @classmethod
    def parse(cls, value, where: str = "kind") -> "IntegralKind":
        return parse_choice(cls, value, where)


class NumericMethod(StrEnum):
    """How an unevaluated Gaussian integral becomes a number."""

    QUADRATURE = "quadrature"  # Gauss-Hermite in the rank of the covariance (deterministic)
    MONTECARLO = "montecarlo"  # seeded Monte Carlo with a standard error

    @classmethod
    def parse(cls, value, where: str = "method") -> "NumericMethod":
        return parse_choice(cls, value, where)


# ----------------------------------------------------------------------------------------------------
# numeric helpers
# ----------------------------------------------------------------------------------------------------
def _numpy_function(phi: sp.Lambda):
    u = phi.variables[0]
    return sp.lambdify(u, phi.expr, modules=["scipy", "numpy"])


def _torch_function(phi: sp.Lambda):
    """``phi`` on torch tensors (a ``Piecewise`` has no torch translation: through numpy)."""
    if isinstance(phi.expr, sp.Piecewise):
        f_np = _numpy_function(phi)
        return lambda t: torch.as_tensor(np.asarray(f_np(t.numpy()), dtype=float))
    f = sp.lambdify(phi.variables[0], phi.expr, modules=[TORCH_TRANSLATIONS, "math"])

    def f_torch(t):
        out = f(t)
        return out if isinstance(out, torch.Tensor) else torch.full_like(t, float(out))
    return f_torch


# ----------------------------------------------------------------------------------------------------
# Gaussian expectation of one neuron
# ----------------------------------------------------------------------------------------------------
_U = sp.Dummy("u", real=True)


class GaussianExpectation(sp.Expr):
    r""":math:`\mathbb E_{z\sim\mathcal N(\mu,\Sigma)}[\prod_u \phi(z_u)^{p_u}]`, unevaluated.

    ``GaussianExpectation(phi, mean, cov, powers)``: ``phi`` a ``Lambda`` (or a callable mapping a
    SymPy symbol to an expression), ``mean`` a list of the :math:`\mu_u`, ``cov`` the symmetric
    :math:`\Sigma` (a SymPy matrix or list of rows), ``powers`` the positive integers :math:`p_u`.
    Properties: :attr:`covariance`, :attr:`mean`, :attr:`powers`, :attr:`activation`.
    """

    is_commutative = True
    is_real = True

    def __new__(cls, phi, mean, cov, powers):
        if isinstance(cov, sp.Tuple):  # rebuilt from args (subs, xreplace): cov is the upper triangle
            return sp.Expr.__new__(cls, phi, sp.Tuple(*mean), cov, sp.Tuple(*powers))
        if not isinstance(phi, sp.Lambda):
            phi = sp.Lambda(_U, phi(_U))
        mean = [sp.sympify(m) for m in mean]
        p = len(mean)
        cov = sp.ImmutableMatrix(cov)
        if cov.shape != (p, p):
            raise SpecError(f"covariance must be {p} x {p}, got {cov.shape}")
        powers = [int(k) for k in powers]
        if len(powers) != p or any(k < 1 for k in powers):
            raise SpecError("powers must be positive integers, one per variable")
        upper = [cov[i, j] for i in range(p) for j in range(i, p)]
        return sp.Expr.__new__(cls, phi, sp.Tuple(*mean), sp.Tuple(*upper), sp.Tuple(*powers))

    # --- structure -----------------------------------------------------------------------------------
    @property
    def activation(self) -> sp.Lambda:
        return self.args[0]

    @property
    def mean(self) -> sp.ImmutableMatrix:
        return sp.ImmutableMatrix(list(self.args[1]))

    @property
    def dimension(self) -> int:
        return len(self.args[1])

    @property
    def covariance(self) -> sp.ImmutableMatrix:
        p = self.dimension
        upper = list(self.args[2])
        mat = [[None] * p for _ in range(p)]
        k = 0
        for i in range(p):
            for j in range(i, p):
                mat[i][j] = mat[j][i] = upper[k]
                k += 1
        return sp.ImmutableMatrix(mat)

    @property
    def powers(self) -> tuple:
        return tuple(int(k) for k in self.args[3])

    def integrand(self, names: str = "z") -> sp.Expr:
        r""":math:`\prod_u \phi(z_u)^{p_u}` with symbols ``z_1, z_2, ...``."""
        zs = sp.symbols(f"{names}_1:{self.dimension + 1}", real=True)
        return sp.Mul(*[self.activation(z) ** p for z, p in zip(zs, self.powers)])

    # --- printing ------------------------------------------------------------------------------------
    def _latex(self, printer):
        zs = sp.symbols(f"z_1:{self.dimension + 1}", real=True)
        body = printer._print(sp.Mul(*[self.activation(z) ** p for z, p in zip(zs, self.powers)]))
        mean = "0" if all(m == 0 for m in self.args[1]) else printer._print(self.mean).replace(r"\\", "\\\\\n")
        # one matrix row per source line (TeX ignores the newlines): a 4 x 4 covariance of long entries
        # would otherwise be one line of thousands of characters in a Markdown report
        cov = printer._print(self.covariance).replace(r"\\", "\\\\\n")
        return rf"\mathbb{{E}}_{{z\sim\mathcal{{N}}\left({mean},\ {cov}\right)}}\left[{body}\right]"

    def _sympystr(self, printer):
        zs = sp.symbols(f"z_1:{self.dimension + 1}", real=True)
        body = printer._print(sp.Mul(*[self.activation(z) ** p for z, p in zip(zs, self.powers)]))
        mean = "0" if all(m == 0 for m in self.args[1]) else printer._print(list(self.args[1]))
        cov = printer._print(self.covariance.tolist())
        return f"E[{body}; z ~ N({mean}, {cov})]"

    # --- numerics ------------------------------------------------------------------------------------
    def _numeric_args(self):
        if self.free_symbols:
            names = ", ".join(sorted(str(s) for s in self.free_symbols))
            raise SpecError(f"the Gaussian integral still depends on {names}; substitute values first")
        mean = np.array([float(sp.N(m)) for m in self.args[1]])
        cov = np.array(self.covariance.evalf().tolist(), dtype=float)
        return mean, cov

    def numeric(self, method: str = NumericMethod.QUADRATURE, *, nodes: int | None = None,
                samples: int = 400_000, seed: int = 0) -> tuple[float, float]:
        """``(value, error)``.  ``quadrature``: Gauss-Hermite; the error is the change from halving the
        nodes (a convergence indicator, not a statistical s.e.).  ``montecarlo``: ``samples`` seeded
        draws (``torch.Generator``); the error is one standard error."""
        method = NumericMethod.parse(method)
        mean, cov = self._numeric_args()
        if method is NumericMethod.QUADRATURE:
            f = _numpy_function(self.activation)
            r = reduce_covariance(mean, cov).shape[1]
            value = gauss_hermite_expectation(f, mean, cov, self.powers, nodes)
            if r <= 1 and nodes is None:  # exact (rank 0) or adaptive quadrature to ~1e-11
                return value, 0.0
            n = nodes or DEFAULT_NODES.get(r, 8)
            coarse = gauss_hermite_expectation(f, mean, cov, self.powers, max(2, n // 2))
            return value, abs(value - coarse)
        return montecarlo_gaussian_expectation(_torch_function(self.activation), mean, cov, self.powers,
                                               samples, seed)

    def _eval_evalf(self, prec):
        if self.free_symbols:
            return None
        value, _ = self.numeric(NumericMethod.QUADRATURE)
        return sp.Float(value, prec)


# ----------------------------------------------------------------------------------------------------
# the parameter-space integral
# ----------------------------------------------------------------------------------------------------
_NETWORKS: dict[str, object] = {}

#: ``rules(network, points, labels) -> expression | None``: the exact evaluation of a network-kind
#: integral (None where no rule applies).  The rules live above this module (the correlator builds
#: these integrals), so they register themselves here instead of being imported.
_NETWORK_RULES: list[Callable] = []


def register_network_rules(rules: Callable) -> None:
    """Make ``ParameterIntegral(..., kind="network").doit()`` apply ``rules`` (see ``_NETWORK_RULES``);
    :mod:`symcorr.symbolic.correlator` registers the exact single-hidden-layer rules on import."""
    if rules not in _NETWORK_RULES:
        _NETWORK_RULES.append(rules)


def register_network(network) -> str:
    """A stable tag for a network (its repr), stored so unevaluated integrals can find it again."""
    tag = f"{network.name or 'net'}#{abs(hash(repr(network))) % 10**8:08d}"
    _NETWORKS.setdefault(tag, network)
    return tag


def registered_network(tag: str):
    try:
        return _NETWORKS[tag]
    except KeyError:
        raise SpecError(f"no network registered under {tag!r}") from None


class ParameterIntegral(sp.Expr):
    r"""The parameter-space integral :math:`\int d\theta\, P(\theta)\, F(\theta)`, unevaluated.

    ``ParameterIntegral(network, points, labels, kind="network")``:

    * ``kind="network"``: :math:`F = \prod_i f_{\theta, a_i}(x_i)` with ``labels`` the output indices
      :math:`a_i` -- the n-point function of any network;
    * ``kind="neuron"``: :math:`F = \prod_u \phi(w\cdot x_u + b)^{p_u}` over one hidden neuron's
      first-layer parameters (a row ``w`` of :math:`W^0`, an entry ``b`` of :math:`b^0`), ``labels`` the
      powers :math:`p_u` -- a single-neuron moment without closed form.

    Attributes: :attr:`network`, :attr:`blocks` (the parameter blocks integrated over), :attr:`points`,
    :attr:`labels`.  :meth:`montecarlo` estimates it with a standard error.
    """

    is_commutative = True
    is_real = True

    def __new__(cls, network, points, labels, kind: str = IntegralKind.NETWORK):
        if isinstance(network, Str):  # rebuilt from args by subs/xreplace: (tag, kind, points, labels)
            return sp.Expr.__new__(cls, network, points, labels, kind)
        kind = IntegralKind.parse(kind)
        tag = network if isinstance(network, str) else register_network(network)
        pts = [sp.ImmutableMatrix(p) if isinstance(p, sp.MatrixBase) else p for p in points]
        labs = [sp.sympify(a) for a in labels]
        if len(labs) != len(pts):
            raise SpecError("one label (output index or power) per point is needed")
        return sp.Expr.__new__(cls, Str(tag), Str(kind.value), sp.Tuple(*pts), sp.Tuple(*labs))

    @property
    def network(self):
        return registered_network(self.args[0].name)

    @property
    def kind(self) -> IntegralKind:
        return IntegralKind(self.args[1].name)

    @property
    def points(self) -> list:
        return list(self.args[2])

    @property
    def labels(self) -> tuple:
        return tuple(self.args[3])

    @property
    def blocks(self) -> tuple[str, ...]:
        """Names of the parameter blocks the integrand depends on."""
        if self.kind is IntegralKind.NEURON:
            net = self.network
            return ("W0[j,:]",) + (("b0[j]",) if net.bias(0) is not None else ())
        return tuple(self.network.blocks)

    @property
    def free_symbols(self):
        out = set()
        for p in self.args[2]:
            out |= p.free_symbols
        for a in self.args[3]:
            out |= a.free_symbols
        return out

    def _body_latex(self, printer):
        pts = [printer._print(p) for p in self.points]
        if self.kind is IntegralKind.NETWORK:
            return r"\,".join(rf"f_{{{printer._print(a)}}}\left({x}\right)" for a, x in zip(self.labels, pts))
        net = self.network
        act = net.layers[0].activation.name
        b = " + b" if net.bias(0) is not None else ""
        parts = []
        for p, x in zip(self.labels, pts):
            power = "" if p == 1 else f"^{{{printer._print(p)}}}"
            parts.append(rf"\phi_{{\mathrm{{{act}}}}}\left(w^{{T}} {x}{b}\right){power}")
        return r"\,".join(parts)

    def _latex(self, printer):
        blocks = ", ".join(b.replace("[", "_{[").replace("]", "]}") for b in self.blocks)
        return rf"\int d\theta_{{{blocks}}}\,P(\theta)\,{self._body_latex(printer)}"

    def _sympystr(self, printer):
        pts = ", ".join(printer._print(list(p)) if isinstance(p, sp.MatrixBase) else printer._print(p)
                        for p in self.points)
        labs = ", ".join(printer._print(a) for a in self.labels)
        what = "indices" if self.kind is IntegralKind.NETWORK else "powers"
        return f"ParameterIntegral[{self.kind} {self.args[0].name}; points ({pts}); {what} ({labs})]"

    def doit(self, **hints):
        """Apply the registered evaluation rules (:func:`symcorr.symbolic.correlator`) to a
        network-kind integral; unchanged where no rule applies."""
        if self.kind is not IntegralKind.NETWORK:
            return self
        for rules in _NETWORK_RULES:
            value = rules(self.network, self.points, self.labels)
            if value is not None:
                return value
        return self

    # --- numerics ------------------------------------------------------------------------------------
    def montecarlo(self, samples: int = 100_000, seed: int = 0, chunk: int = 20_000,
                   values: dict | None = None) -> tuple[float, float]:
        """``(mean, standard error)`` of the integrand over ``samples`` networks (or neurons) drawn
        with a seeded ``torch.Generator``; ``values`` substitutes remaining symbols of the network."""
        net = self.network.subs(values or {})
        if self.kind is IntegralKind.NEURON:  # one hidden neuron: only the first layer's laws matter
            bias = net.bias(0)
            net = Network(net.input_dim, [Dense(1, net.layers[0].activation, weight=net.weight(0).law,
                                                bias=None if bias is None else bias.law)])
        if not net.is_concrete:
            free = ", ".join(sorted(str(s) for s in net.free_symbols))
            raise SpecError(f"Monte Carlo needs a concrete network; substitute {free} (values=...)")
        pts = []
        for p in self.points:
            if not isinstance(p, sp.MatrixBase) or p.free_symbols:
                raise SpecError("Monte Carlo needs numeric points")
            pts.append([float(v) for v in p])
        x = torch.tensor(pts, dtype=torch.float64)
        labels = [int(a) for a in self.labels]
        gen = make_generator(seed)
        s1 = s2 = 0.0
        done = 0
        if self.kind is IntegralKind.NEURON:
            layer = net.layers[0]
        while done < samples:
            m = min(chunk, samples - done)
            if self.kind is IntegralKind.NETWORK:
                params = net.sample(m, generator=gen)
                f = net.forward(params, x)
                val = torch.ones(m, dtype=torch.float64)
                for i, a in enumerate(labels):
                    val = val * f[:, i, a]
            else:
                w = net.weight(0).sample(m, generator=gen)[:, 0, :]
                z = w @ x.T
                if net.bias(0) is not None:
                    z = z + net.bias(0).sample(m, generator=gen)[:, :1]
                if layer.activation.normalised:
                    log_norm = net.log_normaliser(0, x)[:, 0]
                    h = layer.activation.torch(z, log_norm[None, :])
                else:
                    h = layer.activation.torch(z)
                val = torch.ones(m, dtype=torch.float64)
                for u, p in enumerate(labels):
                    val = val * h[:, u] ** p
            s1 += float(val.sum())
            s2 += float((val * val).sum())
            done += m
        mu = s1 / samples
        var = max(s2 / samples - mu * mu, 0.0)
        return mu, math.sqrt(var / max(samples - 1, 1))
