r"""The GP-limit step: is the infinite-width kernel invariant, :math:`K(gx, gy) = K(x, y)`?

For a single-hidden-layer network with a zero-mean read-out whose variance scales as :math:`c/N`, the
infinite-width limit is the Gaussian process with mean 0 and kernel :math:`K(x, y) = G^{(2)}(x, y)`
(exact, :mod:`symcorr.duality.moments`).  A Gaussian law is fixed by its mean and kernel, so the GP is
invariant iff :math:`K(gx, gy) - K(x, y) \equiv 0`; this is decided with symbolic points and
one-parameter subgroups generating the group (rational Cayley rotations
:math:`\cos = (1-a^2)/(1+a^2)`, :math:`\sin = 2a/(1+a^2)`, plus the discrete generators; a symbolic
shift :math:`c` for translations) by the exact zero test :func:`symcorr.duality.exact.zero_test`.  A
non-zero difference gives a kernel witness at a rational point.

For a network with two or more hidden layers (:func:`deep_kernel_invariance`) the infinite-width limit is the GP
whose kernel the NNGP recursion :math:`K^{(l+1)} = C_b + C_W E[\phi_l(u)\phi_l(v)]` builds from the first
metric :math:`K^{(1)}(x, y) = C_b^{(1)} + C_W^{(1)}E[\phi_0(z^{(0)}(x))\phi_0(z^{(0)}(y))]` (centred Gaussian
hidden layers), so the inputs enter only through :math:`K^{(1)}`: if :math:`K^{(1)}(gx, gy) = K^{(1)}(x, y)`
exactly (the check above, on the first layer with a linear read-out whose two-point function is
:math:`K^{(1)}`), every metric and the GP (mean :math:`E[b^L]`, constant) are invariant.  A moving
:math:`K^{(1)}` proves nothing here (the recursion need not separate its values): deep refutations are
:mod:`symcorr.duality.deep_witness`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..deep import InfiniteWidthKernel
from ..distributions import Normal
from ..errors import SpecError
from ..groups import Group
from ..spec import Dense, Network
from . import elements as el
from .elements import Family
from .engines import EngineFailure, Unsupported, run_engine
from .exact import zero_test
from .moments import TwoLayerModel
from .proof import Witness, WitnessKind
from .witness import OWN_ENGINE, act_input, fmt_points, make_witness, concretize, zero_mean_readout

__all__ = ["KernelCheck", "kernel_invariance", "deep_kernel_invariance", "gp_kernel_check", "one_parameter_elements", "pretty_kernel"]


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


def one_parameter_elements(group: Group):
    """Elements depending on one parameter ``a`` that together generate the group (plane rotations with
    the rational Cayley parametrisation), plus the discrete generators; translations: a symbolic c."""
    fam = el.family(group)
    n = group.n
    if fam is Family.T:
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


@dataclass
class KernelCheck:
    """The outcome of :func:`kernel_invariance`: ``invariant`` True / False / None (the engine does not
    apply, or the simplification is inconclusive), the kernel, a witness when False, and a failure when
    the engine failed (then ``invariant`` is None)."""

    invariant: bool | None = None
    kernel: sp.Expr | None = None
    witness: Witness | None = None
    failure: EngineFailure | None = None


def kernel_invariance(network: Network, group: Group, values: dict | None = None) -> KernelCheck:
    r"""Is the GP kernel :math:`K(x, y)` invariant, :math:`K(gx, gy) = K(x, y)` for all x, y, g?

    Decided with symbolic points and one-parameter (Cayley) rotations that generate the group, by exact
    simplification (:func:`symcorr.duality.exact.zero_test`)."""
    try:
        check, failure = run_engine(OWN_ENGINE, "the GP kernel", _kernel_invariance, network, group, values)
    except Unsupported:
        return KernelCheck()
    return check if failure is None else KernelCheck(failure=failure)


def _kernel_invariance(network: Network, group: Group, values: dict | None) -> KernelCheck:
    if not _gp_scaling(network):
        return KernelCheck()
    net, grp, subs = concretize(network, group, values)
    model = TwoLayerModel(net)
    if not zero_mean_readout(net) or el.concrete_dim(grp) is None:
        return KernelCheck()
    d = net.input_dim
    xs = sp.symbols(f"x0:{d}", real=True)
    ys = sp.symbols(f"y0:{d}", real=True)
    fam = el.family(grp)
    k = model.gp_kernel(list(xs), list(ys))
    if not k.is_exact:
        return KernelCheck()
    status = True
    for g, params in one_parameter_elements(grp):
        gx = act_input(g, list(xs), fam)
        gy = act_input(g, list(ys), fam)
        try:
            kg = model.gp_kernel(gx, gy)
        except Unsupported:
            return KernelCheck(None, k.expr)
        if not kg.is_exact:
            return KernelCheck(None, k.expr)
        s, point = zero_test(kg.expr - k.expr, list(xs) + list(ys) + list(params))
        if s is False:
            gnum = g.subs(point) if params else g
            xv = [point[v] for v in xs]
            yv = [point[v] for v in ys]
            before = model.gp_kernel(xv, yv)
            after = model.gp_kernel(act_input(gnum, xv, fam), act_input(gnum, yv, fam))
            if not (before.is_finite and after.is_finite):
                failure = EngineFailure.non_finite(OWN_ENGINE, "the GP kernel at the witness points",
                                                   f"{before.num}, {after.num}")
                return KernelCheck(None, pretty_kernel(k.expr), failure=failure)
            wit = make_witness(gnum, "The group element", f"the GP kernel $K(x, y)$ at $(x, y) = "
                                f"{fmt_points([xv, yv])}$ versus at the moved points", before, after, subs, [],
                                OWN_ENGINE, WitnessKind.KERNEL)
            return KernelCheck(False, pretty_kernel(k.expr), wit)
        if s is None:
            status = None
    return KernelCheck(status, pretty_kernel(k.expr))


# ----------------------------------------------------------------------------------------------------
# deep networks: the GP limit through the first metric
# ----------------------------------------------------------------------------------------------------
def _first_metric_network(network: Network) -> Network:
    r"""The first layer with a linear read-out whose two-point function is :math:`K^{(1)}` exactly:
    weights :math:`N(0, C_W^{(1)}/n_1)`, bias :math:`N(0, C_b^{(1)})`.  Declines a network without an
    infinite-width limit."""
    try:
        kernel = InfiniteWidthKernel(network)
    except SpecError as err:
        raise Unsupported(err.reason) from None
    c_w, c_b = kernel.nngp.c_w[1], kernel.nngp.c_b[1]
    width = network.widths[0]
    return Network(network.input_dim, [network.layers[0],
                                       Dense(1, "identity", weight=Normal(0, c_w / width),
                                             bias=Normal(0, c_b) if sp.sympify(c_b) != 0 else None)])


def deep_kernel_invariance(network: Network, group: Group, values: dict | None = None) -> KernelCheck:
    """Is the GP limit of a deep network invariant?  True when the first metric :math:`K^{(1)}` is exactly
    invariant (module docstring); None otherwise (a moving :math:`K^{(1)}` does not refute: the recursion
    need not separate its values; the witnesses of :mod:`symcorr.duality.deep_witness` do that)."""
    try:
        first, failure = run_engine(OWN_ENGINE, "the first metric of the deep network", _first_metric_network,
                                    network)
    except Unsupported:
        return KernelCheck()
    if failure is not None:
        return KernelCheck(failure=failure)
    check = kernel_invariance(first, group, values)
    if check.invariant is True:
        return check
    return KernelCheck(None, check.kernel, None, check.failure)


def gp_kernel_check(network: Network, group: Group, values: dict | None = None) -> KernelCheck:
    """The GP-limit step for any depth: :func:`kernel_invariance` for one hidden layer, through the first
    metric (:func:`deep_kernel_invariance`) for two or more."""
    return kernel_invariance(network, group, values) if network.depth < 3 else \
        deep_kernel_invariance(network, group, values)
