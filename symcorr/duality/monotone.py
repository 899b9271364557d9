r"""The diagonal monotonicity argument for deep networks: :math:`E[f_1(x)^2]` is a strictly increasing function
of the first layer's pre-activation variance (or of the absolute value of its mean), at every width and in
the infinite-width limit.

**Setting** (the notation of :mod:`symcorr.deep.layers`): :math:`z^{(0)} = W^0x + b^0`,
:math:`z^{(l)} = W^l\phi_{l-1}(z^{(l-1)}) + b^l` for :math:`l = 1..L`, output :math:`f = \phi_L(z^{(L)})`.

**Hypotheses** (:func:`monotone_chain` checks them and says which one fails):

* (H0) the first layer is Gaussian with iid units: :math:`z^{(0)}_i(x) \sim N(m(x), v(x))`,
  :math:`m(x) = \mu_b + \mu_w\mathbf 1^Tx`, :math:`v(x) = \sigma_b^2 + \sigma_w^2x^TVx`;
* (H1) every activation :math:`\phi_0, \dots, \phi_{L-1}` (and :math:`\phi_L` when the read-out is not
  linear) is one of :data:`MONOTONE`: :math:`|\phi(u)|` is nondecreasing in :math:`|u|` on each side of 0 and
  strictly increasing on at least one side (identity, tanh, erf: odd and strictly increasing; relu: strictly
  increasing on :math:`(0,\infty)`, 0 on :math:`(-\infty, 0]`).  Excluded, with the reason: step
  (:math:`E[\mathrm{step}(\sqrt k\xi)^2] = 1/2` for every k), sigmoid and softplus (:math:`|\phi|` decreases
  as :math:`u \to -\infty`), gelu and silu (:math:`u\Phi(u)` has a minimum near :math:`u = -0.75`), cos and
  sin (oscillate), gauss (normalised: :math:`E[\phi^2] = 1`), custom activations (not checked);
* (H2, every width) the hidden layers :math:`1..L-1` have iid Gaussian weights with mean 0 and positive
  variance and zero-mean Gaussian or no biases; (H2', infinite width) the NNGP limit exists
  (:class:`~symcorr.deep.nngp.NNGP`: iid zero-mean hidden weights with :math:`\mathrm{Var} = C_W/n`) with
  every :math:`C_W^{(l)} > 0`;
* (H3) the read-out is linear with iid zero-mean weights of positive variance (any bias law), or a
  non-linear read-out of :data:`MONOTONE` with Gaussian zero-mean weights and a zero-mean Gaussian or no bias.

**The argument at every width** (H0, H1, H2, H3).  At one input x, given layer :math:`l-1`, the
pre-activations :math:`z^{(l)}_j(x)` are iid :math:`N(0, \hat G^{(l)})` with
:math:`\hat G^{(l+1)} = C_b^{(l+1)} + \mathrm{Var}(W^{l+1})\sum_j\phi_l(z^{(l)}_j)^2`.  Writing
:math:`z^{(l)}_j = \sqrt{\hat G^{(l)}}\,\xi_j` with fresh iid standard normals :math:`\xi_j`, each
:math:`\phi_l(\sqrt k\,\xi)^2` is nondecreasing in k for every :math:`\xi` and strictly increasing for
:math:`\xi` in a set of positive probability (H1), so :math:`\hat G^{(l+1)}` is a nondecreasing function of
:math:`\hat G^{(l)}` along every realisation of the :math:`\xi`, strictly increasing on an event of positive
probability.  By induction (coupling the :math:`\xi` of two inputs),
:math:`E[f_1(x)^2] = \mathrm{Var}(W^L_{1j})\,E\sum_j\phi_{L-1}(z^{(L-1)}_j(x))^2 + E[(b^L_1)^2]` is a strictly
increasing function of the law of :math:`\hat G^{(1)}(x)` in the stochastic order.  That law depends on x only
through :math:`(m(x), v(x))`, and

* at :math:`m = 0`: :math:`\phi_0(\sqrt v\,\xi)^2` is nondecreasing in v pointwise (H1): strictly increasing
  in :math:`v` (:attr:`Case.VARIANCE`);
* at equal :math:`v > 0`, for :math:`|\phi_0|` even (identity, tanh, erf): :math:`P(|m + \sqrt v\xi| \le t)
  = \Phi((t-m)/\sqrt v) - \Phi((-t-m)/\sqrt v)` is strictly decreasing in :math:`|m|` for every :math:`t > 0`,
  so :math:`\phi_0(z^{(0)})^2` is stochastically strictly increasing in :math:`|m|`, and the quantile coupling
  of the iid units carries it to :math:`\hat G^{(1)}` (:attr:`Case.MEAN`); for relu
  :math:`\mathrm{relu}(m + \sqrt v\xi)^2` is nondecreasing in m pointwise and strictly increasing where
  :math:`m + \sqrt v\xi > 0`: strictly increasing in m (:attr:`Case.MEAN`, signed).

So :math:`G^{(2)}_{11}(gx, gx) \ne G^{(2)}_{11}(x, x)` whenever the case's quantity differs at x and gx: the
density is not invariant under g, at every width.  **In the GP limit** (H0, H1, H2', H3) the same holds for
:math:`K^{(l+1)}(x,x) = C_b + C_W E_{u\sim N(0, K^{(l)}(x,x))}[\phi_l(u)^2]`, a strictly increasing function of
:math:`K^{(l)}(x,x)`; and without (H0) for a first layer whose one-point moment
:math:`E[\phi_0(z^{(0)}(x))^2]` is an exact closed form (:attr:`Case.FIRST_METRIC`: :math:`K^{(L)}(x,x)` is a
strictly increasing function of :math:`K^{(1)}(x,x)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import sympy as sp

from ..activations import Activation, get_activation
from ..deep import NNGP, LayerStack
from ..distributions import Normal
from ..errors import SpecError
from ..spec import Network
from ..symbolic.kernels import FirstLayer
from .exact import zero_status

__all__ = ["MONOTONE", "Monotone", "Case", "MonotoneChain", "FirstLayerLaw", "monotone_chain", "monotone_name",
           "compare_first_layer"]


@dataclass(frozen=True)
class Monotone:
    """An activation for which :math:`|\\phi(u)|` is nondecreasing in :math:`|u|` on each side of 0 and strictly
    increasing on one side; ``even``: :math:`|\\phi(-u)| = |\\phi(u)|`; ``reason``: the one-line proof."""

    name: str
    even: bool
    reason: str


#: the activations the argument covers (module docstring: why the others are excluded)
MONOTONE = {
    "identity": Monotone("identity", True, "$|u|$ is even and strictly increasing in $|u|$"),
    "tanh": Monotone("tanh", True, "tanh is odd and strictly increasing, so $|\\tanh u| = \\tanh|u|$"),
    "erf": Monotone("erf", True, "erf is odd and strictly increasing, so $|\\mathrm{erf}\\,u| = \\mathrm{erf}\\,|u|$"),
    "relu": Monotone("relu", False, "$\\mathrm{relu}(u) = u$ for $u > 0$ and $0$ for $u \\le 0$"),
}


def monotone_name(act: Activation) -> Monotone | None:
    """The table entry of a built-in activation of :data:`MONOTONE` (a custom activation cannot take a
    built-in name, and equality compares the functions too), else None."""
    entry = MONOTONE.get(act.name)
    return entry if entry is not None and act == get_activation(entry.name) else None


class Case(StrEnum):
    """Which first-layer quantity the diagonal two-point function is strictly increasing in."""

    VARIANCE = "variance"          # v(x), the first-layer mean vanishing at both points
    MEAN = "mean"                  # |m(x)| (relu: m(x)) at equal variance
    FIRST_METRIC = "first-metric"  # K^(1)(x, x), an exact closed form (GP limit only)


@dataclass(frozen=True)
class MonotoneChain:
    """What :func:`monotone_chain` read: the activations layer by layer, whether the argument holds at every
    width and in the GP limit, whether the first activation is in the table (the (m, v) cases), and the
    reasons it does not hold where it does not."""

    activations: tuple[str, ...]
    linear_readout: bool
    every_width: bool
    gp_limit: bool
    first: Monotone | None
    reasons: tuple[str, ...] = ()


def _zero(expr) -> bool:
    if isinstance(expr, sp.MatrixBase):
        return all(_zero(v) for v in expr)
    return zero_status(expr) is True


def _positive(expr) -> bool:
    return sp.sympify(expr).is_positive is True


def _readout_reason(stack: LayerStack) -> str | None:
    """Why (H3) fails, or None."""
    rec = stack.readout
    law = rec.weight
    if not _zero(rec.weight_mean):
        return "the read-out weights have a non-zero mean"
    if rec.activation.name == "identity" and rec.activation == get_activation("identity"):
        if isinstance(law, Normal) and not law.is_iid:
            if law.col_cov is not None:
                return "the read-out weight columns are correlated (col_cov)"
            var = law.entry(0, 0).var
        elif law.is_iid:
            var = law.variance
        else:
            return f"the read-out weights are not independent ({law!r})"
        return None if _positive(var) else "the read-out weight variance is not positive"
    if monotone_name(rec.activation) is None:
        return f"the read-out activation {rec.activation.name} is not one of {', '.join(MONOTONE)}"
    if not (isinstance(law, Normal) and law.is_iid and _positive(law.var)):
        return "a non-linear read-out needs iid Gaussian weights of positive variance"
    bias = rec.bias
    if bias is not None and not (isinstance(bias, Normal) and bias.is_iid and _zero(bias.loc)):
        return "a non-linear read-out needs a zero-mean Gaussian or no bias"
    return None


def monotone_chain(net: Network) -> MonotoneChain | None:
    """The hypotheses (H1)-(H3) read from a network of depth >= 2 (module docstring); None when the network
    is not a stack the deep recursions read (:class:`~symcorr.deep.layers.LayerStack` refuses it)."""
    try:
        stack = LayerStack.from_network(net)
    except SpecError:
        return None
    acts = tuple(rec.activation.name for rec in stack.layers)
    structural = [f"the activation {rec.activation.name} of {rec.name} is not one for which $|\\phi(u)|$ is "
                  f"monotone in $|u|$ ({', '.join(MONOTONE)})"
                  for rec in stack.layers[1:-1] if monotone_name(rec.activation) is None]
    readout = _readout_reason(stack)
    if readout is not None:
        structural.append(readout)
    reasons = list(structural)
    gaussian = all(isinstance(rec.weight, Normal) and _positive(rec.weight_var) for rec in stack.layers[1:-1])
    if not gaussian:
        reasons.append("a hidden layer's weights are not Gaussian with positive variance (the argument at every "
                       "width needs each layer to be Gaussian given the one before)")
    gp = False
    try:
        gp = all(_positive(c) for c in NNGP(net).c_w[1:])
        if not gp:
            reasons.append("some $C_W^{(l)}$ of the infinite-width limit is not positive")
    except SpecError as err:
        reasons.append(f"no infinite-width limit ({err.reason})")
    return MonotoneChain(acts, stack.readout.activation.name == "identity", not structural and gaussian,
                         not structural and gp, monotone_name(stack.first.activation), tuple(reasons))


@dataclass(frozen=True)
class FirstLayerLaw:
    r"""A Gaussian first layer with iid units: :math:`m(x) = \mu_b + \mu_w\mathbf 1^Tx`,
    :math:`v(x) = \sigma_b^2 + \sigma_w^2 x^TVx` (:math:`V = 1` without a column covariance)."""

    w_mean: sp.Expr
    w_var: sp.Expr
    metric: sp.Matrix | None
    b_mean: sp.Expr
    b_var: sp.Expr

    @classmethod
    def of(cls, net: Network) -> "FirstLayerLaw | None":
        first = FirstLayer.from_network(net)
        if first is None or not first.gaussian:
            return None
        metric = None if first.metric is None else sp.Matrix(first.metric)
        return cls(sp.sympify(first.w_mean), sp.sympify(first.w_var), metric, sp.sympify(first.b_mean),
                   sp.sympify(first.b_var))

    def mean(self, x) -> sp.Expr:
        return sp.expand(self.b_mean + self.w_mean * sum(x))

    def variance(self, x) -> sp.Expr:
        v = sp.Matrix(x)
        quad = (v.T * v)[0, 0] if self.metric is None else (v.T * self.metric * v)[0, 0]
        return sp.expand(self.b_var + self.w_var * quad)


@dataclass(frozen=True)
class FirstLayerComparison:
    """The first-layer quantities at x and at gx, and the case of the argument they decide (None: none)."""

    case: Case | None
    mean: tuple[sp.Expr, sp.Expr]
    variance: tuple[sp.Expr, sp.Expr]
    direction: int = 0     # +1: E[f_1^2] increases from x to gx, -1: decreases


def compare_first_layer(law: FirstLayerLaw, first: Monotone, x, gx) -> FirstLayerComparison:
    """Which case (module docstring) the points x and gx fall in: :attr:`Case.VARIANCE` when the mean
    vanishes at both and the variances differ, :attr:`Case.MEAN` when the variances agree and the
    (absolute, for even activations) means differ."""
    m0, m1 = law.mean(x), law.mean(gx)
    v0, v1 = law.variance(x), law.variance(gx)
    out = FirstLayerComparison(None, (m0, m1), (v0, v1))
    if _zero(m0) and _zero(m1) and zero_status(v1 - v0) is False:
        return FirstLayerComparison(Case.VARIANCE, (m0, m1), (v0, v1), 1 if sp.N(v1 - v0) > 0 else -1)
    if zero_status(v1 - v0) is not True:
        return out
    h0, h1 = (sp.Abs(m0), sp.Abs(m1)) if first.even else (m0, m1)
    if zero_status(h1 - h0) is not False:
        return out
    if not first.even and not (_positive(v0) or _positive(m0) or _positive(m1)):
        return out   # relu of a constant non-positive pre-activation: 0 at both points
    return FirstLayerComparison(Case.MEAN, (m0, m1), (v0, v1), 1 if sp.N(h1 - h0) > 0 else -1)
