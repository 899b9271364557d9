r"""The prose of a proof: an :class:`~symcorr.duality.decision.InvarianceDecision` written as numbered
:class:`~symcorr.duality.proof.ProofStep` s (text with inline ``$...$`` mathematics, valid in Markdown and
LaTeX), and the conditions it states.

Nothing is decided here: every function reads the typed decisions of :mod:`.absorb`, :mod:`.invariance`
and :mod:`.decision` and only writes them down.  :class:`~symcorr.duality.proof.InvarianceProof`
renders the steps as a Markdown or LaTeX document.

* :func:`proof_steps` -- all the steps of a decision, in order;
* :func:`absorption_text`, :func:`law_text`, :func:`law_condition` -- the text of one absorption and
  of one law check;
* :func:`failure_text` -- an engine failure, as the body of an open step;
* the generator route (one step per generator, with its map and law checks); the prose of the other maps
  themselves is in :mod:`.render_maps`, that of the GP-limit and deep-network steps in :mod:`.render_deep`.
"""

from __future__ import annotations

import sympy as sp

from ..distributions import HaarOrthogonal
from ..verdicts import CorrelatorKind, ProofVerdict, Side, StepStatus
from .absorb import Absorption, AbsorptionReason, Action
from .decision import ElementStep, GeneratorRoute, GpLimitStep, InvarianceDecision, LawStep, Route
from .engines import EngineFailure
from .invariance import LawCheck, LawReason, Multiplication
from .proof import ProofStep, block_tex
from .render_deep import deep_steps, deep_undecided_text, gp_step
from .render_maps import (element_map_jacobian, element_map_text, element_tex, gauge_text, parity_mean_text,
                          two_sided_text)

__all__ = ["proof_steps", "conditions", "absorption_text", "law_text", "law_condition", "failure_text"]

_ONES = r"\mathbf 1"


# ----------------------------------------------------------------------------------------------------
# engine failures
# ----------------------------------------------------------------------------------------------------
def _plain(text: str) -> str:
    """An error message made safe inside Markdown code and LaTeX text (no math or group delimiters)."""
    for bad, good in (("`", "'"), ("$", ""), ("\\", "/"), ("{", "("), ("}", ")")):
        text = text.replace(bad, good)
    return text.encode("ascii", "replace").decode("ascii")


def failure_text(failure: EngineFailure) -> str:
    """``engine`` failed while computing ``task`` (reason): nothing is concluded from it."""
    return (f"Could not decide: `{failure.engine}` failed while computing {_plain(failure.task)} "
            f"(`{_plain(failure.reason)}`). Nothing is concluded from this computation.")


# ----------------------------------------------------------------------------------------------------
# step 1: absorption
# ----------------------------------------------------------------------------------------------------
def _absorption_formulas(ab: Absorption) -> tuple[str, str, str]:
    """(the map T_g, the absorption identity, the Jacobian) in LaTeX."""
    g = ab.letter
    if ab.action is Action.INPUT_LINEAR:
        n1 = sp.latex(ab.jacobian_power)
        return (rf"W^{{0}} \mapsto W^{{0}} {g}", rf"f_\theta({g} x) = f_{{T_{{{g}}}\theta}}(x)",
                rf"\left|\det\left({g}^T \otimes 1_{{{n1}}}\right)\right| = |\det {g}|^{{{n1}}} = 1")
    if ab.action is Action.INPUT_TRANSLATION:
        mapping = (r"(W^{0}, b^{0}) \mapsto (W^{0}, b^{0} + W^{0} c)" if ab.valid else
                   r"b^{0} \mapsto b^{0} + W^{0} c")
        jac = r"\det\begin{pmatrix} 1 & 0 \\ \partial(W^{0}c)/\partial W^{0} & 1\end{pmatrix} = 1"
        return mapping, r"f_\theta(x + c) = f_{T_c\theta}(x)", jac if ab.valid else "-"
    if ab.action is Action.OUTPUT_TRANSLATION:
        bl = block_tex(ab.blocks[0])
        return rf"{bl} \mapsto {bl} + c", r"f_{T_c\theta} = f_\theta + c", "1" if ab.valid else "-"
    wl = block_tex(ab.blocks[0])
    mapping = (rf"({wl}, {block_tex(ab.bias_block)}) \mapsto ({g} {wl}, {g} {block_tex(ab.bias_block)})"
               if ab.bias_block else rf"{wl} \mapsto {g} {wl}")
    return (mapping, rf"f_{{T_{{{g}}}\theta}}(x) = {g} f_\theta(x)",
            rf"|\det {g}|^{{{sp.latex(ab.jacobian_power)}}} = 1")


def _absorption_reason(ab: Absorption) -> str:
    g, act = ab.letter, ab.activation
    wl = block_tex(ab.blocks[0])
    bl = block_tex("b" + ab.blocks[0][1:])
    R = AbsorptionReason
    reasons = {
        R.DENSE_FIRST_LAYER: rf"The first layer is dense: $W^{{0}}({g}x) + b^{{0}} = (W^{{0}}{g})x + b^{{0}}$; every "
                             "later layer sees $x$ only through this pre-activation.",
        R.NO_FIRST_BIAS: "The first layer has no bias, so there is no parameter to absorb the shift "
                         "$W^{0}(x + c) = W^{0}x + W^{0}c$ into.",
        R.SHIFT_INTO_FIRST_BIAS: "$W^{0}(x + c) + b^{0} = W^{0}x + (b^{0} + W^{0}c)$: the shift moves into the "
                                 "first-layer bias.",
        R.NOT_AFFINE_LAST_LAYER: "The last layer is not linear with a bias, so $f + c$ is not a network of "
                                 "the same form.",
        R.AFFINE_LAST_LAYER: "The last layer is linear with a bias.",
        R.LINEAR_LAST_LAYER: f"The last layer is linear: ${g}({wl}h + {bl}) = ({g}{wl})h + {g}{bl}$ "
                             "for every last hidden layer $h$.",
        R.ELEMENTWISE_PERMUTES: f"The last activation ({act}) acts elementwise, so it commutes with "
                                f"permutation matrices: $\\phi({g}z) = {g}\\phi(z)$.",
        R.ODD_SIGNED_PERMUTES: f"The last activation ({act}) is odd and elementwise, so it commutes with "
                               f"signed permutations: $\\phi({g}z) = {g}\\phi(z)$.",
        R.ODDNESS_UNDECIDED: f"The last activation ({act}) acts elementwise, so it commutes with signed "
                             "permutations if it is odd; SymPy could not decide whether it is, so whether a map of "
                             "the last-layer parameters absorbs the action is open.",
    }
    if ab.reason in reasons:
        return reasons[ab.reason]
    why = ("it is not odd, so it does not commute with sign flips" if ab.reason is R.NOT_ODD else
           "an elementwise nonlinearity does not commute with rotations")
    return (f"The last layer applies the nonlinearity {act}; {why}, so ${g} f_\\theta$ is not a network of "
            "the same form and no map of the last-layer parameters absorbs the action.")


def _absorption_notes(ab: Absorption) -> list[str]:
    if ab.action is Action.INPUT_LINEAR and ab.normalised:
        return ["The normalised activation divides by $\\sqrt{E[e^{2z}]}$, a functional of the law of "
                "the pre-activation $z = W^0x + b^0$; under $T_g$ that law is unchanged whenever "
                "the density is (step 3), so the normaliser is absorbed too."]
    if ab.action is Action.INPUT_TRANSLATION and ab.valid:
        return ["$T_c$ is a shear of parameter space (unit Jacobian) but not an orthogonal map."]
    if ab.reason is AbsorptionReason.ELEMENTWISE_PERMUTES and ab.normalised:
        return ["Each output unit's normaliser is a functional of the law of its row of the last "
                "layer; rows exchanged by the permutation have the same law whenever the density is "
                "invariant (step 3), so the normalisers are permuted consistently."]
    return []


def absorption_text(ab: Absorption) -> str:
    """The body of the Absorb step."""
    reason = _absorption_reason(ab)
    if not ab.valid:
        return reason
    mapping, identity, _ = _absorption_formulas(ab)
    body = f"{reason} Hence ${identity}$ with $T_{{{ab.letter}}}: {mapping}$."
    notes = _absorption_notes(ab)
    return body + (" " + " ".join(notes) if notes else "")


def _correlator_chain(action: Action, g: str) -> str:
    if action is Action.INPUT_LINEAR:
        return (rf"G^{{(n)}}({g}x_1,\dots,{g}x_n) = \int d\theta\, P(\theta) \prod_i f_\theta({g}x_i) "
                rf"= \int d\theta\, P(\theta) \prod_i f_{{T_{{{g}}}\theta}}(x_i) "
                rf"= \int d\theta'\, P(T_{{{g}}}^{{-1}}\theta')\left|\det\tfrac{{\partial\theta}}{{\partial\theta'}}\right| "
                rf"\prod_i f_{{\theta'}}(x_i)")
    if action is Action.INPUT_TRANSLATION:
        return (r"G^{(n)}(x_1 + c,\dots,x_n + c) = \int d\theta\, P(\theta) \prod_i f_{T_c\theta}(x_i) "
                r"= \int d\theta'\, P(T_c^{-1}\theta')\left|\det\tfrac{\partial\theta}{\partial\theta'}\right| "
                r"\prod_i f_{\theta'}(x_i)")
    return (rf"({g}^{{\otimes n}}G^{{(n)}})_{{a_1\dots a_n}} = \int d\theta\, P(\theta) \prod_i ({g}f_\theta)_{{a_i}}(x_i) "
            rf"= \int d\theta'\, P(T_{{{g}}}^{{-1}}\theta')\left|\det\tfrac{{\partial\theta}}{{\partial\theta'}}\right| "
            rf"\prod_i f_{{\theta',a_i}}(x_i)")


def _change_of_variables(ab: Absorption, status: StepStatus) -> ProofStep:
    blocks = ", ".join(f"${block_tex(b)}$" for b in ab.blocks)
    return ProofStep(
        "Change variables",
        f"Substitute $\\theta' = T_{{{ab.letter}}}\\theta$; it changes only {blocks}, which are drawn independently "
        f"of the other blocks. Its Jacobian is ${_absorption_formulas(ab)[2]}$.", status,
        [_correlator_chain(ab.action, ab.letter)])


# ----------------------------------------------------------------------------------------------------
# step 3: the laws
# ----------------------------------------------------------------------------------------------------
def _word_expr(word):
    factors = [s.T if t else s for s, t in word]
    return factors[0] if len(factors) == 1 else sp.MatMul(*factors, evaluate=False)


def _trace_equations(check: LawCheck) -> list[str]:
    t = check.trace
    g = sp.latex(t.element)
    eqs = [rf"\log P({sp.latex(t.block)}) = {sp.latex(t.log_density)}"]
    parts = [rf"\mathrm{{tr}}\left({sp.latex(_word_expr(word)) if word else '1'}\right)" for word in t.words]
    rel = rf"{g}{g}^{{T}} = {g}^{{T}}{g} = 1"
    eqs.append(" = ".join(parts) + (rf"\quad\text{{(cyclicity, }}{rel}\text{{)}}" if t.reduced else ""))
    return eqs


def _vec_tex(v: sp.Matrix) -> str:
    return sp.latex(sp.Matrix(v).T) + "^T"


def _structured_text(check: LawCheck, tex: str) -> str:
    g = check.letter
    is_bias = check.block.startswith("b")
    parts = [f"{m.name} ${_vec_tex(m.vector)}$ is "
             + ("fixed" if m.fixed else ("moved" if m.fixed is False else "possibly moved")) for m in check.means]
    cov = check.covariance
    if cov is not None:
        parts.append(f"${cov.name} = {sp.latex(cov.matrix)}$ "
                     + ("commutes with every element" if cov.commutes else
                        ("does not commute with the group" if cov.commutes is False else "may not commute with the group")))
    if is_bias:
        rule = f"${g}m = m$ and ${g}C{g}^T = C$"
    elif check.side is Multiplication.RIGHT:
        rule = f"$M{g} = M$ and ${g}^TV{g} = V$"
    else:
        rule = f"${g}M = M$ and ${g}U{g}^T = U$"
    return (f"${tex}$ is Gaussian with mean $M$ and Kronecker covariance; a Gaussian law is fixed by its mean "
            f"and covariance, so it is invariant iff {rule} for every element (decided on a basis of the Lie "
            "algebra and the discrete generators): " + ("; ".join(parts) if parts else
                                                        "the mean vanishes and the covariance is isotropic") + ".")


def _haar_text(check: LawCheck, tex: str) -> str:
    gain = check.law.gain if isinstance(check.law, HaarOrthogonal) else 1
    scale = "" if gain == 1 else f"${sp.latex(gain)}$ times "
    head = (f"${tex}$ is {scale}a Haar-distributed (semi-)orthogonal matrix (torch's `orthogonal_`): its law is "
            "the image of the Haar measure of $O(\\max(n, m))$ on the Stiefel manifold, which is invariant under "
            f"${tex} \\mapsto U{tex}V$ for all orthogonal $U$ and $V$ (the Haar measure is left and right invariant)")
    if check.status is None:
        return head + "; the group does not consist of orthogonal matrices, so this does not decide it."
    moved = f"{tex}{check.letter}" if check.side is Multiplication.RIGHT else f"{check.letter}{tex}"
    dims = " (for every dimension)" if check.symbolic_dimension else ""
    return head + f". Every element ${check.letter}$ of the group is orthogonal, so ${moved}$ has the law of ${tex}${dims}."


def _shear_text(check: LawCheck) -> str:
    w = sp.latex(check.period) if check.period is not None else None
    if check.reason is LawReason.UNIFORM_PHASE:
        return (f"$b^0$ has iid uniform entries on an interval of length ${w}$ and the "
                f"first activation ({check.activation}) has period ${w}$, so $f$ depends on $b^0$ "
                f"only modulo ${w}$, where $b^0$ is uniform on the torus "
                f"$(\\mathbb R/{w}\\mathbb Z)^N$. The uniform (Haar) measure of the torus is "
                "invariant under every shift, in particular under $b^0 \\mapsto b^0 + W^0c$ for each "
                "fixed $W^0$; $W^0$ is independent of $b^0$, so the joint law is invariant (Fubini).")
    if check.reason is LawReason.PERIODICITY_UNDECIDED:
        return (f"$b^0$ has iid uniform entries on an interval of length ${w}$; whether the first activation "
                f"({check.activation}) has period ${w}$ could not be decided, so whether the shear "
                "$b^0 \\mapsto b^0 + W^0c$ leaves the law of $f$ unchanged is open.")
    if check.reason is LawReason.PHASE_NOT_PERIODIC:
        reason = (f"the first activation ({check.activation}) is not periodic with the period "
                  f"${w}$ of the bias law, so the bias acts on the real line")
    else:
        reason = f"$b^0$ has the law ${check.law.latex()}$ on the real line"
    return (f"{reason}. Given $W^0$, $b^0 + W^0c$ is $b^0$ shifted by $W^0c$; its law is the convolution "
            "of the law of $b^0$ with that of $W^0c$, which differs from the law of $b^0$ unless "
            "$W^0c = 0$ almost surely (no probability law on $\\mathbb R$ is invariant under a "
            "non-degenerate random shift).")


def law_text(check: LawCheck) -> tuple[str, list[str]]:
    """The body and the display equations of a Density step."""
    R = LawReason
    tex, law, g = block_tex(check.block), check.law, check.letter
    reason = check.reason
    if reason is R.TRIVIAL_GROUP:
        return f"{check.group!r} is the trivial group.", []
    if reason is R.TRACE_FORM:
        return (f"${tex}$ has iid $\\mathcal N(0, {sp.latex(law.var)})$ entries, so its log-density "
                "is a trace form, unchanged by any orthogonal matrix (here the generic element "
                f"with ${g}^T{g} = 1$, any dimension):", _trace_equations(check))
    if reason is R.TRACE_FORM_IRREDUCIBLE:
        return "the trace form could not be reduced", []
    if reason in (R.MEAN_FIXED, R.MEAN_MOVED_UNLESS_ZERO, R.MEAN_FIXING_UNDECIDED, R.MEAN_MOVED):
        mu = sp.latex(law.loc)
        desc = f"${tex}$ has iid $\\mathcal N({mu}, {sp.latex(law.var)})$ entries"
        return {
            R.MEAN_FIXED: f"{desc}: the covariance $\\sigma^2 1\\otimes 1$ is unchanged by any orthogonal map, "
                          f"and the mean ${mu}\\,{_ONES}$ is unchanged because every element fixes "
                          f"${_ONES}$ ({_ONES}$^T{g} = ${_ONES}$^T$).",
            R.MEAN_MOVED_UNLESS_ZERO: f"{desc}; the mean ${mu}\\,{_ONES}$ is moved by the group unless ${mu} = 0$.",
            R.MEAN_FIXING_UNDECIDED: f"{desc}; whether the group fixes {_ONES} is undecided.",
            R.MEAN_MOVED: f"{desc}: its mean ${mu}\\,{_ONES}$ is not fixed by the group.",
        }[reason], []
    if reason is R.STRUCTURED_SYMBOLIC_DIMENSION:
        return (f"${tex}$ has a structured law; a symbolic group dimension cannot be checked against it.", [])
    if reason is R.STRUCTURED_GAUSSIAN:
        return _structured_text(check, tex), []
    if reason is R.HAAR_ORTHOGONAL:
        equations = [rf"P(U\,{tex}\,V) = P({tex})\quad\text{{for all }} U^TU = 1,\ V^TV = 1"] if check.status else []
        return _haar_text(check, tex), equations
    if reason is R.POINT_MASS_ZERO:
        moved = f"0\\,{g} = 0" if check.side is Multiplication.RIGHT else f"{g}\\,0 = 0"
        return (f"${tex} = 0$ almost surely (a point mass at 0, torch's `zeros_`), and ${moved}$: the law is "
                "unchanged by every linear map."), []
    if reason in (R.UNIFORM_PHASE, R.PERIODICITY_UNDECIDED, R.PHASE_NOT_PERIODIC, R.SHIFT_ON_THE_LINE):
        return _shear_text(check), []
    if reason is R.HALF_PERIOD_PHASE:
        gauge_body, equations = law_text(check.gauge) if check.gauge is not None else ("", [])
        return gauge_text(check, gauge_body), equations
    if reason is R.PARITY_MEAN:
        return parity_mean_text(check, tex), []
    if reason is R.TWO_SIDED_GAUSSIAN:
        return two_sided_text(check, tex), []
    desc = f"${tex}$ has iid entries with the non-Gaussian law ${law.latex()}$"
    if reason is R.PRODUCT_PERMUTATIONS:
        tail = "" if check.symbolic_dimension else ", and the group consists of permutations"
        return desc + f": a product of identical factors is invariant under every permutation of the entries{tail}.", []
    if reason is R.PRODUCT_NOT_SYMMETRIC:
        return desc + ", which is not symmetric, so a sign flip changes it.", []
    if reason is R.PRODUCT_SYMMETRY_UNDECIDED:
        return desc + "; whether it is symmetric is undecided.", []
    if reason is R.PRODUCT_ROTATION_CUMULANT:
        note = " (for every dimension $\\geq 2$)" if check.symbolic_dimension else ""
        return (desc + ": a product law invariant under a rotation that mixes two entries would be Gaussian "
                "(Maxwell); concretely" + note + ":", [])
    if reason is R.PRODUCT_NO_CUMULANT:
        return desc + "; no cumulant distinguishes the rotated entries up to order 8.", []
    extra = " and it is symmetric, so sign flips leave it unchanged" if check.sign_flips else ""
    return (desc + ": a product of identical factors is invariant under permutations of the entries"
            f"{extra}; the group consists of signed permutations.", [])


def law_condition(check: LawCheck) -> str | None:
    """The condition on the symbols under which the law is invariant, when the check names one."""
    tex = block_tex(check.block)
    if check.reason is LawReason.MEAN_MOVED_UNLESS_ZERO:
        return f"The law of ${tex}$ is invariant iff ${sp.latex(check.law.loc)} = 0$."
    if check.reason is LawReason.STRUCTURED_GAUSSIAN and check.status is None:
        return f"The law of ${tex}$ is invariant only for the symbol values that make the conditions above hold."
    if check.reason is LawReason.PRODUCT_SYMMETRY_UNDECIDED:
        return "Invariant under sign flips iff the law is symmetric."
    return None


def _law_step(step: LawStep) -> ProofStep:
    title = f"Density of ${block_tex(step.block)}$"
    if step.check is None:
        return ProofStep(title, failure_text(step.failure), StepStatus.OPEN)
    body, equations = law_text(step.check)
    return ProofStep(title, body, step.status, equations)


# ----------------------------------------------------------------------------------------------------
# the other steps
# ----------------------------------------------------------------------------------------------------
def _ntk_step(letter: str, orthogonal: bool, status: StepStatus) -> ProofStep:
    if orthogonal:
        return ProofStep(
            "NTK", f"$T_{{{letter}}}$ is an orthogonal linear map of parameter space ($T^TT = 1$). "
                   f"Differentiating the absorption identity gives $T^T\\nabla_\\theta f(T\\theta; x) = "
                   f"\\nabla_\\theta (g\\cdot f)(\\theta; x)$, so $\\Theta(T_{{{letter}}}\\theta; x, y) = "
                   f"\\nabla(g\\cdot f)(x)^T (T^TT)^{{-1}} \\nabla(g\\cdot f)(y)$: "
                   f"$\\Theta(\\theta; {letter}x, {letter}y)$ for inputs, ${letter}\\Theta(\\theta){letter}^T$ for "
                   "outputs. The NTK transforms covariantly and its law inherits the invariance of $P(\\theta)$.",
            status)
    return ProofStep(
        "NTK", f"$T_{{{letter}}}$ is not orthogonal on parameter space (a shear), so it does not preserve "
               "the Euclidean metric that defines $\\Theta = \\nabla f\\cdot\\nabla f$: the duality argument "
               "for the density does not carry over to the NTK.", status)


def _conclusion(action: Action, g: str, correlator: CorrelatorKind, finite_width: bool) -> ProofStep:
    if action is Action.INPUT_LINEAR:
        eq = rf"G^{{(n)}}({g}x_1,\dots,{g}x_n) = G^{{(n)}}(x_1,\dots,x_n)"
        text = (f"For every $n$, all points and every width (the argument never used the width), ${eq}$. "
                f"More strongly, $f_\\theta({g}\\,\\cdot) = f_{{T_{g}\\theta}}$ with $T_{g}\\theta$ distributed "
                "as $\\theta$, so the law of the random function itself is invariant (no moment determinacy "
                "needed).")
    elif action is Action.INPUT_TRANSLATION:
        eq = r"G^{(n)}(x_1 + c,\dots,x_n + c) = G^{(n)}(x_1,\dots,x_n)"
        text = (f"For every $n$ and every width, ${eq}$: the correlators depend on differences of the inputs "
                "only, and the law of $f$ is translation invariant.")
    else:
        eq = rf"{g}^{{\otimes n}}G^{{(n)}} = G^{{(n)}}"
        text = (f"For every $n$ and every width, ${eq}$: the correlators are invariant tensors in their output "
                f"indices, and the law of $f$ equals that of ${g}f$.")
    if correlator is CorrelatorKind.NTK:
        text += (" The same holds for the law of the empirical NTK $\\Theta(x, y) = \\nabla_\\theta f(x)\\cdot"
                 "\\nabla_\\theta f(y)$, since $T_g$ is orthogonal (step above).")
    if not finite_width:
        text += " In particular the infinite-width (GP) limit, a limit of invariant laws, is invariant."
    return ProofStep("Conclusion", text)


def _gp_step(gp: GpLimitStep) -> ProofStep | None:
    """The GP-limit step; None when the kernel check did not apply (nothing to say)."""
    if gp.failure is not None:
        return ProofStep("GP limit", failure_text(gp.failure), StepStatus.OPEN)
    return gp_step(gp)


def _element_steps(number: int, step: ElementStep) -> list[ProofStep]:
    g = element_tex(step.element)
    title = f"Generator ${g}$"
    if step.map is None:
        ab = step.absorption
        if ab is None:
            return [ProofStep(title, failure_text(step.failure) if step.failure else "Could not be absorbed.",
                              StepStatus.OPEN)]
        head = ProofStep(title, "The standard map absorbs it: " + absorption_text(ab), ab.status)
    else:
        head = ProofStep(title, element_map_text(step.map) + " " + element_map_jacobian(step.map),
                         StepStatus.ESTABLISHED)
    laws = [_law_step(s) for s in step.laws]
    if step.map is not None and not step.laws:
        laws = [ProofStep("Density", "$T$ changes no parameter, so there is nothing to check.", StepStatus.ESTABLISHED)]
    return [head] + laws


def _generator_steps(route: GeneratorRoute, complete: bool) -> list[ProofStep]:
    """The group decided one generator at a time."""
    what = ("its identity component and " if route.identity_group is not None else "")
    gens = ", ".join(f"${element_tex(e.element)}$" for e in route.elements)
    steps = [ProofStep("Generators", "The law of $f$ is invariant under a group iff it is invariant under a set of "
                       f"generators, and each generator may be absorbed by its own parameter map. The group is generated "
                       f"by {what}the element(s) {gens}.", StepStatus.ESTABLISHED if complete else StepStatus.OPEN)]
    ident = route.identity_absorption
    if route.identity_group is not None and ident is not None:
        steps.append(ProofStep("Identity component", "The standard map absorbs it: " + absorption_text(ident),
                               ident.status))
        steps += [_law_step(s) for s in route.identity]
    for k, e in enumerate(route.elements):
        steps += _element_steps(k, e)
    return steps


def _structural_steps(decision: InvarianceDecision) -> list[ProofStep]:
    step = decision.absorption
    if step.absorption is None:
        absorb_step = ProofStep("Absorb", failure_text(step.failure), StepStatus.OPEN)
    else:
        ab = step.absorption
        absorb_step = ProofStep("Absorb", _absorption_reason(ab)
                                + (f" $T_c: {_absorption_formulas(ab)[0]}$." if ab.valid else ""),
                                StepStatus.ESTABLISHED if ab.valid else StepStatus.FAILS)
    return [absorb_step, ProofStep(
        "Density", "No probability law on $\\mathbb R^{d}$ is invariant under all translations: if the law "
                   "$\\mu$ of $f(x)$ satisfied $\\mu(A + c) = \\mu(A)$ for every $c$, the disjoint unit cubes "
                   "$[k, k+1)^d$, $k \\in \\mathbb Z$, would all have the same probability, which cannot sum to 1.",
        decision.impossibility.status),
        ProofStep("Witness", decision.witness.markdown(), StepStatus.FAILS)]


def proof_steps(decision: InvarianceDecision) -> list[ProofStep]:
    """The numbered steps of the proof, in the order of the argument."""
    if decision.route is Route.STRUCTURAL:
        return _structural_steps(decision)
    steps: list[ProofStep] = []
    absorption = decision.absorption
    ab = absorption.absorption
    if ab is None:
        steps.append(ProofStep("Absorb", failure_text(absorption.failure), StepStatus.OPEN))
    else:
        steps.append(ProofStep("Absorb", absorption_text(ab), absorption.status))
    if decision.change_of_variables is not None:
        steps.append(_change_of_variables(decision.change_of_variables.absorption,
                                          decision.change_of_variables.status))
    steps += [_law_step(s) for s in decision.laws]
    if decision.ntk is not None:
        steps.append(_ntk_step(decision.ntk.letter, decision.ntk.orthogonal, decision.ntk.status))
    if decision.route is Route.PARAMETER_MAP:
        steps.append(_conclusion(ab.action, ab.letter, decision.correlator, decision.finite_width))
        return steps
    if decision.generators is not None:
        steps += _generator_steps(decision.generators, decision.route is Route.GENERATORS)
    if decision.route is Route.GENERATORS:
        action = Action.INPUT_LINEAR if decision.on is Side.INPUT else Action.OUTPUT_LINEAR
        steps.append(_conclusion(action, "g", decision.correlator, decision.finite_width))
        return steps
    if decision.gp_limit is not None and (gp := _gp_step(decision.gp_limit)) is not None:
        steps.append(gp)
    if decision.verdict is ProofVerdict.PROVEN:   # by the GP kernel
        return steps
    search, deep = decision.witness_search, decision.deep
    failures = (deep.failures if deep is not None else ()) + (tuple(search.failures) if search is not None else ())
    steps += [ProofStep("Engine failure", failure_text(f), StepStatus.OPEN) for f in failures]
    if deep is not None:
        steps += deep_steps(deep)
    if decision.verdict is ProofVerdict.REFUTED:
        what = "the NTK" if decision.correlator is CorrelatorKind.NTK else "the density"
        steps.append(ProofStep(
            "Witness", "The transformed ensemble differs from the original in a function-space quantity "
                       f"(computed by `{decision.witness.engine}`; see the witness below), so {what} is not "
                       "invariant.", StepStatus.FAILS))
        if decision.contrast is not None and (gp := _gp_step(decision.contrast)) is not None:
            steps.append(gp)
        return steps
    if search is None:
        body = ("The duality argument does not go through (see the failed or open steps), and no function-space "
                "witness was searched for. The density may still be invariant under another parameter map.")
    else:
        body = ("The duality argument does not go through (see the failed or open steps) and no "
                "function-space witness was found "
                f"(correlators of orders {', '.join(map(str, search.orders))} were searched where they can be "
                "computed). The density may still be invariant under another parameter map.")
        if failures:
            body += " The search is incomplete: an engine failed (see above)."
    deep_ntk = decision.network.depth >= 3 and decision.correlator is CorrelatorKind.NTK
    steps.append(ProofStep("Undecided", body + deep_undecided_text(deep, deep_ntk), StepStatus.OPEN))
    return steps


def conditions(decision: InvarianceDecision) -> list[str]:
    """The conditions on the network's symbols that the law checks name (e.g. :math:`\\mu = 0`)."""
    out = [law_condition(s.check) for s in decision.laws if s.check is not None]
    return [c for c in out if c]
