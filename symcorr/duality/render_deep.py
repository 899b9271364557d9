r"""The prose of the infinite-width and deep-network steps: the GP-kernel step (one hidden layer, or a deep
network through its first metric) and the deep-network witness step (:mod:`.deep_witness`, with the
monotone argument of :mod:`.monotone` written out with its hypotheses).

Nothing is decided here: the functions read :class:`~symcorr.duality.decision.GpLimitStep` and
:class:`~symcorr.duality.deep_witness.DeepWitnessStep` and write them down.
"""

from __future__ import annotations

import sympy as sp

from ..verdicts import StepStatus
from .decision import GpLimitStep, GpRole
from .deep_witness import Argument, DeepWitnessStep, WidthScope
from .monotone import MONOTONE, Case
from .proof import ProofStep

__all__ = ["gp_step", "deep_steps", "deep_undecided_text"]

_RECURSION = (r"K^{(l+1)}(x, y) = C_b^{(l+1)} + C_W^{(l+1)}\,E\big[\phi_l(u)\phi_l(v)\big],\quad "
              r"(u, v) \sim N\Big(0, \begin{pmatrix} K^{(l)}(x,x) & K^{(l)}(x,y) \\ K^{(l)}(x,y) & K^{(l)}(y,y)"
              r"\end{pmatrix}\Big)")
_EMPIRICAL = (r"\hat G^{(l+1)}(x) = C_b^{(l+1)} + \mathrm{Var}(W^{l+1}_{ij})\sum_{j=1}^{n_{l+1}}"
              r"\phi_l\Big(\sqrt{\hat G^{(l)}(x)}\,\xi_j\Big)^2,\qquad \xi_j \sim N(0, 1)\ \text{iid}")


def gp_step(gp: GpLimitStep) -> ProofStep | None:
    """The GP-limit step of a :class:`~symcorr.duality.decision.GpLimitStep` whose engine did not fail; None
    when the kernel check did not apply (nothing to say)."""
    contrast = gp.role is GpRole.CONTRAST
    kernel = sp.latex(gp.kernel) if gp.kernel is not None else None
    if gp.deep:
        if gp.invariant is not True:
            return None
        body = ("The infinite-width limit of this deep network is the Gaussian process whose kernel the NNGP "
                "recursion builds layer by layer from the first metric (centred Gaussian hidden layers), so the "
                f"inputs enter only through $K^{{(1)}}(x, y) = {kernel}$. $K^{{(1)}}(gx, gy) - K^{{(1)}}(x, y)$ "
                "simplifies to 0 for symbolic points and one-parameter subgroups generating the group, so every "
                "metric $K^{(l)}$ and the GP (its mean $E[b^L]$ does not depend on $x$) are invariant")
        if contrast:
            return ProofStep("GP limit", "By contrast, in the infinite-width limit: " + body[0].lower() + body[1:]
                             + ": the symmetry holds for the GP but not at finite width.", gp.status, [_RECURSION])
        return ProofStep("GP limit", body + ".", gp.status, [_RECURSION])
    if contrast:
        if gp.invariant is not True:
            return None
        return ProofStep("GP limit", f"By contrast the infinite-width kernel $K(x, y) = {kernel}$ is invariant "
                                     "(exact simplification): the symmetry holds for the GP but not at finite width.",
                         gp.status)
    if gp.invariant is True:
        return ProofStep("GP limit", "The infinite-width limit is the Gaussian process with mean 0 and kernel "
                                     f"$K(x, y) = {kernel}$, and $K(gx, gy) - K(x, y)$ simplifies to 0 for symbolic "
                                     "points and one-parameter subgroups generating the group, so the GP (a Gaussian law "
                                     "fixed by its mean and kernel) is invariant.", gp.status)
    if gp.invariant is False:
        return ProofStep("GP limit", f"The GP kernel $K(x, y) = {kernel}$ is not invariant.", gp.status)
    return None


def _activation_facts(acts) -> str:
    seen = []
    for name in acts:
        entry = MONOTONE.get(name)
        if entry is not None and entry.reason not in seen:
            seen.append(entry.reason)
    return "; ".join(seen)


def _monotone_text(step: DeepWitnessStep) -> tuple[str, list[str]]:
    chain = step.chain
    assert chain is not None
    acts = chain.activations if not chain.linear_readout else chain.activations[:-1]
    hidden = len(chain.activations) - 1
    every = step.scope is WidthScope.EVERY_WIDTH
    later = step.case is Case.FIRST_METRIC   # the first activation need not be monotone then
    used = acts[1:] if later else acts
    which = "the activations after the first are" if later else "its activations are"
    head = (f"The network has {hidden} hidden layers; {which} {', '.join(used)}, and for each of them "
            f"$|\\phi(u)|$ is nondecreasing in $|u|$ on each side of 0 and strictly increasing on one side "
            f"({_activation_facts(used)}). ")
    if step.case is Case.FIRST_METRIC:
        body = (head + "In the infinite-width limit $K^{(l+1)}(x, x) = C_b^{(l+1)} + C_W^{(l+1)}E_{u \\sim N(0, "
                "K^{(l)}(x, x))}[\\phi_l(u)^2]$ with every $C_W^{(l)} > 0$, and $E[\\phi_l(\\sqrt k\\,\\xi)^2]$ is "
                "strictly increasing in $k$ (pointwise in $\\xi$, strictly on a set of positive probability), so "
                "$K^{(L)}(x, x)$, hence $G^{(2)}_{11}(x, x)$ in the limit, is a strictly increasing function of the "
                "first metric $K^{(1)}(x, x)$, an exact closed form here.")
        return body, []
    if every:
        body = (head + "The hidden layers are Gaussian with mean 0, so at one input $x$, given layer $l-1$, the "
                "pre-activations of layer $l$ are iid $N(0, \\hat G^{(l)}(x))$, with the recursion below. Coupling "
                "the $\\xi_j$, $\\hat G^{(l+1)}$ is a nondecreasing function of $\\hat G^{(l)}$ for every "
                "realisation and strictly increasing on an event of positive probability, so by induction "
                "$G^{(2)}_{11}(x, x) = E[f_1(x)^2]$ (a linear read-out with zero-mean weights: "
                "$\\mathrm{Var}(W^L_{1j})E\\sum_j\\phi(z^{(L-1)}_j)^2 + E[(b^L_1)^2]$) is a strictly increasing "
                "function of the law of the first layer's $\\phi_0(z^{0}_i(x))^2$ in the stochastic order, at "
                "every width (and, with every $C_W^{(l)} > 0$ in the limit, for the GP kernel $K^{(L)}(x, x)$). ")
        eqs = [_EMPIRICAL]
    else:
        body = (head + "In the infinite-width limit $K^{(l+1)}(x, x) = C_b^{(l+1)} + C_W^{(l+1)}E_{u\\sim N(0, "
                "K^{(l)}(x, x))}[\\phi_l(u)^2]$ with every $C_W^{(l)} > 0$ is a strictly increasing function of "
                "$K^{(l)}(x, x)$, so the GP kernel $K^{(L)}(x, x)$ is a strictly increasing function of the law of "
                "the first layer's $\\phi_0(z^{0}_i(x))^2$. ")
        eqs = []
    first = chain.first
    if step.case is Case.VARIANCE:
        body += ("The first layer is Gaussian, $z^{0}_i(x) \\sim N(m(x), v(x))$, and here $m = 0$ at both points: "
                 "$\\phi_0(\\sqrt{v}\\,\\xi)^2$ is nondecreasing in $v$ pointwise, strictly on a set of positive "
                 "probability, so the two-point function on the diagonal is a strictly increasing function of "
                 "$v(x)$ alone.")
    elif first is not None and first.even:
        body += ("The first layer is Gaussian, $z^{0}_i(x) \\sim N(m(x), v(x))$, with the same $v$ at both points; "
                 f"$|\\phi_0|$ is even ({first.name}), and $P(|m + \\sqrt{{v}}\\,\\xi| \\le t)$ is strictly decreasing "
                 "in $|m|$ for every $t > 0$, so $\\phi_0(z^{0}_i)^2$ is stochastically strictly increasing in "
                 "$|m|$ (a quantile coupling of the iid units carries this through): the diagonal two-point "
                 "function is a strictly increasing function of $|m(x)|$ at fixed $v$.")
    else:
        body += ("The first layer is Gaussian, $z^{0}_i(x) \\sim N(m(x), v(x))$, with the same $v$ at both points; "
                 "$\\mathrm{relu}(m + \\sqrt{v}\\,\\xi)^2$ is nondecreasing in $m$ pointwise and strictly increasing "
                 "where $m + \\sqrt v\\,\\xi > 0$, so the diagonal two-point function is a strictly increasing "
                 "function of $m(x)$ at fixed $v$.")
    return body, eqs


def _scope_text(step: DeepWitnessStep) -> str:
    if step.scope is WidthScope.EVERY_WIDTH:
        limit = " and in the infinite-width limit" if step.chain is None or step.chain.gp_limit else ""
        return f"The witness below holds at every width (numeric or symbolic){limit}."
    if step.scope is WidthScope.GP_LIMIT:
        return "The witness below is about the infinite-width limit, which the claim concerns."
    return ("The claim is about every width $N$ of the hidden layers. The correlators at width $N$ have the 1/N "
            "expansion of `symcorr.deep.finite_width`, $G_N = G_\\infty + \\delta G/N + O(1/N^2)$ (Yaida 2019; "
            "Roberts, Yaida and Hanin 2022), so the change of a correlator under $g$ is "
            "$\\delta_0 + \\delta_1/N + O(1/N^2)$. ")


def deep_steps(step: DeepWitnessStep) -> list[ProofStep]:
    """The deep-network step of a refutation: the argument of its witness (nothing without a witness; the
    engine failures are rendered with the other failures)."""
    if step.witness is None:
        return []
    arg = step.argument
    eqs: list[str] = []
    if arg is Argument.MONOTONE:
        body, eqs = _monotone_text(step)
        if step.scope is WidthScope.LARGE_WIDTH:
            body += (" " + _scope_text(step) + "The difference of the diagonal two-point functions tends to a "
                     "non-zero $\\delta_0$ of known sign, so it is non-zero for all large $N$: the claim "
                     "\"invariant for every $N$\" is false.")
        else:
            body += " " + _scope_text(step)
    elif arg is Argument.GP_KERNEL:
        body = ("The infinite-width limit is the Gaussian process with the NNGP kernel $K$ of the recursion below "
                "(nested closed forms, `symcorr.deep.nngp`), evaluated exactly at rational points: it changes, so "
                "the GP is not invariant. ")
        if step.scope is WidthScope.LARGE_WIDTH:
            body += (_scope_text(step) + "Here $\\delta_0 \\ne 0$, so the change is non-zero for all large $N$: "
                     "the claim \"invariant for every $N$\" is false.")
        eqs = [_RECURSION]
    elif arg is Argument.INVERSE_WIDTH:
        body = (_scope_text(step) + "Here the $1/N$ coefficients differ exactly, $\\delta_1 \\ne 0$ (the $N \\to "
                "\\infty$ terms are in the witness). If $\\delta_0 \\ne 0$ the change is non-zero for all large $N$; "
                "if $\\delta_0 = 0$ it is $\\delta_1/N + O(1/N^2)$, non-zero for all large $N$ too. Either way the "
                "claim \"invariant for every $N$\" is false.")
    else:
        body = ("The read-out is linear with zero-mean weights independent of the hidden layers, so the mean "
                "$G^{(1)}(x) = E[b^L]$ at every width and in the limit; the group moves it.")
    return [ProofStep("Deep network", body, StepStatus.FAILS, eqs)]


def deep_undecided_text(step: DeepWitnessStep | None, deep_ntk: bool = False) -> str:
    """What the undecided step says about a deep network: the arguments tried and why each did not apply
    (``deep_ntk``: an NTK claim about a deep network, for which no witness is computed), and where the Monte
    Carlo evidence is."""
    if deep_ntk:
        return (" No NTK witness is computed for a network with two or more hidden layers. The calibrated Monte "
                "Carlo test of the claim (`symcorr check` shows it next to the verdict) is evidence, not a proof.")
    if step is None:
        return ""
    tried = "; ".join(f"{what}: {why}" for what, why in step.not_applied)
    text = " For this deep network no exact function-space argument applies" + (f" ({tried})" if tried else "") + "."
    if step.numeric_width:
        text += (" At a numeric width only an argument that holds at every width is exact; a difference in the "
                 "GP limit or in the 1/N series would say nothing about one finite width.")
    return text + (" The calibrated Monte Carlo test of the claim (`symcorr check` shows it next to the verdict, "
                   "`symcorr montecarlo` runs it) is evidence, not a proof.")
