r"""``prove_invariance``: the symmetry-via-duality argument, step by step, with a conservative verdict.

For a group element g acting on the inputs or outputs, the prover

1. absorbs the action into a parameter map :math:`T_g` (:mod:`.absorb`),
2. changes variables :math:`\theta' = T_g\theta` (Jacobian 1 for every catalogue action),
3. decides exactly whether the law of the changed blocks is invariant (:mod:`.invariance`),
4. for NTK claims, requires :math:`T_g` to be orthogonal on parameter space,

and concludes ``proven`` only if every step is established.  Otherwise it looks for a function-space
witness (:mod:`.witness`) and says ``refuted`` if one is found, ``undecided`` if not.  A failed
parameter-space step alone never refutes: another parameter map might absorb the action (e.g. an even
activation without bias makes :math:`x\mapsto -x` a symmetry whatever the law of :math:`W^0`).

Claims about the infinite-width (GP) limit (``finite_width=False``) are proven either by the
finite-width proof (the limit of invariant laws is invariant) or by showing :math:`K(gx, gy) = K(x, y)`
exactly for the GP kernel of a single-hidden-layer network with a zero-mean read-out.
"""

from __future__ import annotations

import sympy as sp

from ..errors import SpecError
from ..groups import Group, resolve_group
from ..spec import Network
from . import elements as el
from .absorb import absorb
from .invariance import LawCheck, block_invariance, shear_invariance
from .proof import InvarianceProof, ProofStep, Witness
from .witness import find_witness, kernel_invariance

__all__ = ["prove_invariance", "catalogue_group"]


def catalogue_group(network: Network, group, on) -> Group:
    """``group`` resolved on the ``on`` side of ``network`` (:func:`symcorr.groups.resolve_group`) and
    checked to be a group the prover knows (raises SpecError for groups outside the catalogue)."""
    group = resolve_group(group, network.dimension(on))
    el.family(group)
    return group


def _tex(name: str) -> str:
    return f"{name[0]}^{{{name[1:]}}}"


def _correlator_chain(kind: str, letter: str) -> str:
    g = letter
    if kind == "input-linear":
        return (rf"G^{{(n)}}({g}x_1,\dots,{g}x_n) = \int d\theta\, P(\theta) \prod_i f_\theta({g}x_i) "
                rf"= \int d\theta\, P(\theta) \prod_i f_{{T_{{{g}}}\theta}}(x_i) "
                rf"= \int d\theta'\, P(T_{{{g}}}^{{-1}}\theta')\left|\det\tfrac{{\partial\theta}}{{\partial\theta'}}\right| "
                rf"\prod_i f_{{\theta'}}(x_i)")
    if kind == "input-translation":
        return (r"G^{(n)}(x_1 + c,\dots,x_n + c) = \int d\theta\, P(\theta) \prod_i f_{T_c\theta}(x_i) "
                r"= \int d\theta'\, P(T_c^{-1}\theta')\left|\det\tfrac{\partial\theta}{\partial\theta'}\right| "
                r"\prod_i f_{\theta'}(x_i)")
    return (rf"({g}^{{\otimes n}}G^{{(n)}})_{{a_1\dots a_n}} = \int d\theta\, P(\theta) \prod_i ({g}f_\theta)_{{a_i}}(x_i) "
            rf"= \int d\theta'\, P(T_{{{g}}}^{{-1}}\theta')\left|\det\tfrac{{\partial\theta}}{{\partial\theta'}}\right| "
            rf"\prod_i f_{{\theta',a_i}}(x_i)")


def _conclusion(kind: str, letter: str, correlator: str, finite_width: bool) -> ProofStep:
    g = letter
    if kind == "input-linear":
        eq = rf"G^{{(n)}}({g}x_1,\dots,{g}x_n) = G^{{(n)}}(x_1,\dots,x_n)"
        text = (f"For every $n$, all points and every width (the argument never used the width), ${eq}$. "
                f"More strongly, $f_\\theta({g}\\,\\cdot) = f_{{T_{g}\\theta}}$ with $T_{g}\\theta$ distributed "
                "as $\\theta$, so the law of the random function itself is invariant (no moment determinacy "
                "needed).")
    elif kind == "input-translation":
        eq = r"G^{(n)}(x_1 + c,\dots,x_n + c) = G^{(n)}(x_1,\dots,x_n)"
        text = (f"For every $n$ and every width, ${eq}$: the correlators depend on differences of the inputs "
                "only, and the law of $f$ is translation invariant.")
    else:
        eq = rf"{g}^{{\otimes n}}G^{{(n)}} = G^{{(n)}}"
        text = (f"For every $n$ and every width, ${eq}$: the correlators are invariant tensors in their output "
                f"indices, and the law of $f$ equals that of ${g}f$.")
    if correlator == "ntk":
        text += (" The same holds for the law of the empirical NTK $\\Theta(x, y) = \\nabla_\\theta f(x)\\cdot"
                 "\\nabla_\\theta f(y)$, since $T_g$ is orthogonal (step above).")
    if not finite_width:
        text += " In particular the infinite-width (GP) limit, a limit of invariant laws, is invariant."
    return ProofStep("Conclusion", text)


def _law_step(check: LawCheck) -> ProofStep:
    status = {True: "established", False: "fails", None: "open"}[check.status]
    return ProofStep(f"Density of ${_tex(check.block)}$", check.body, status, list(check.equations))


def prove_invariance(network: Network, group, on: str = "input", correlator: str = "function", *,
                     finite_width: bool = True, values: dict | None = None, orders=(1, 2, 4),
                     search_witness: bool = True, residual: bool = True) -> InvarianceProof:
    r"""Prove or refute that ``group`` acting on the ``on`` side is a symmetry of the network density
    (``correlator="function"``) or of the law of the empirical NTK (``correlator="ntk"``).

    ``group``: a :class:`~symcorr.groups.Group` or a name such as ``"SO"``, ``"SO(3)"``,
    ``"translations"`` (the dimension of the side is used).  ``finite_width=False`` asks about the
    infinite-width (GP) limit.  ``values``: numbers for the network's symbols, used only to evaluate
    witnesses.  ``orders``: correlator orders searched for witnesses.  Returns an
    :class:`InvarianceProof` with verdict ``proven`` / ``refuted`` / ``undecided``.
    """
    if not isinstance(network, Network):
        raise SpecError(f"expected a Network, got {type(network).__name__}")
    if correlator not in ("function", "ntk"):
        raise SpecError(f"'correlator' must be 'function' or 'ntk', got {correlator!r}", "correlator")
    group = catalogue_group(network, group, on)
    orders = tuple(sorted({int(k) for k in orders} | ({1, 2} if on == "output" else {2})))
    fam = el.family(group)
    if fam == "T" and on == "output":
        return _output_translations(network, group, correlator, finite_width)
    ab = absorb(network, group, on)
    steps: list[ProofStep] = []
    letter = ab.letter
    if ab.valid:
        body = f"{ab.reason} Hence ${ab.identity_latex}$ with $T_{{{letter}}}: {ab.map_latex}$."
        if ab.notes:
            body += " " + " ".join(ab.notes)
        steps.append(ProofStep("Absorb", body))
    else:
        steps.append(ProofStep("Absorb", ab.reason, "fails"))
    checks: list[LawCheck] = []
    if ab.valid:
        blocks = ", ".join(f"${_tex(b)}$" for b in ab.blocks)
        steps.append(ProofStep(
            "Change variables",
            f"Substitute $\\theta' = T_{{{letter}}}\\theta$; it changes only {blocks}, which are drawn independently "
            f"of the other blocks. Its Jacobian is ${ab.jacobian_latex}$.", "established",
            [_correlator_chain(ab.action, letter)]))
        if ab.action == "input-linear":
            checks.append(block_invariance(network.weight(0), group, "right", letter))
        elif ab.action == "output-linear":
            last = network.depth - 1
            checks.append(block_invariance(network.weight(last), group, "left", letter))
            if network.bias(last) is not None:
                checks.append(block_invariance(network.bias(last), group, "left", letter))
        elif ab.action == "input-translation":
            checks.append(shear_invariance(network, group))
        steps += [_law_step(c) for c in checks]
    ntk_ok = True
    if correlator == "ntk":
        if ab.orthogonal:
            steps.append(ProofStep(
                "NTK", f"$T_{{{letter}}}$ is an orthogonal linear map of parameter space ($T^TT = 1$). "
                       f"Differentiating the absorption identity gives $T^T\\nabla_\\theta f(T\\theta; x) = "
                       f"\\nabla_\\theta (g\\cdot f)(\\theta; x)$, so $\\Theta(T_{{{letter}}}\\theta; x, y) = "
                       f"\\nabla(g\\cdot f)(x)^T (T^TT)^{{-1}} \\nabla(g\\cdot f)(y)$: "
                       f"$\\Theta(\\theta; {letter}x, {letter}y)$ for inputs, ${letter}\\Theta(\\theta){letter}^T$ for "
                       "outputs. The NTK transforms covariantly and its law inherits the invariance of $P(\\theta)$."))
        else:
            ntk_ok = False
            steps.append(ProofStep(
                "NTK", f"$T_{{{letter}}}$ is not orthogonal on parameter space (a shear), so it does not preserve "
                       "the Euclidean metric that defines $\\Theta = \\nabla f\\cdot\\nabla f$: the duality argument "
                       "for the density does not carry over to the NTK.", "fails"))
    conditions = [c.condition for c in checks if c.condition]
    param_witness = next((c.witness for c in checks if c.witness is not None and c.status is not True), None)
    established = bool(ab.valid) and ab.jacobian_one and checks and all(c.status is True for c in checks) and ntk_ok
    if established:
        steps.append(_conclusion(ab.action, letter, correlator, finite_width))
        return InvarianceProof(network, group, on, correlator, finite_width, "proven", steps,
                               parameter_witness=None, conditions=conditions)
    verdict, witness = "undecided", None
    # the infinite-width limit: decide on the GP kernel
    if not finite_width and correlator == "function" and on == "input":
        status, kexpr, kwit = kernel_invariance(network, group, values)
        if status is True:
            steps.append(ProofStep(
                "GP limit", "The infinite-width limit is the Gaussian process with mean 0 and kernel "
                            f"$K(x, y) = {sp.latex(kexpr)}$, and $K(gx, gy) - K(x, y)$ simplifies to 0 for symbolic "
                            "points and one-parameter subgroups generating the group, so the GP (a Gaussian law "
                            "fixed by its mean and kernel) is invariant."))
            return InvarianceProof(network, group, on, correlator, finite_width, "proven", steps,
                                   parameter_witness=param_witness, conditions=conditions)
        if status is False:
            steps.append(ProofStep("GP limit", f"The GP kernel $K(x, y) = {sp.latex(kexpr)}$ is not invariant.",
                                   "fails"))
            witness, verdict = kwit, "refuted"
    if witness is None and search_witness:
        witness = find_witness(network, group, on, correlator=correlator, orders=orders, values=values,
                               finite_width=finite_width)
        if witness is not None:
            verdict = "refuted"
    if verdict == "refuted":
        steps.append(ProofStep(
            "Witness", "The transformed ensemble differs from the original in a function-space quantity "
                       f"(computed by `{witness.engine}`; see the witness below), so "
                       + ("the NTK" if correlator == "ntk" else "the density") + " is not invariant.", "fails"))
        if finite_width and correlator == "function" and fam == "T" and on == "input" and _small(network):
            status, kexpr, _ = kernel_invariance(network, group, values)
            if status is True:
                steps.append(ProofStep(
                    "GP limit", f"By contrast the infinite-width kernel $K(x, y) = {sp.latex(kexpr)}$ is invariant "
                                "(exact simplification): the symmetry holds for the GP but not at finite width.",
                    "info"))
    else:
        steps.append(ProofStep(
            "Undecided", "The duality argument does not go through (see the failed or open steps) and no "
                         "function-space witness was found "
                         f"(correlators of orders {', '.join(map(str, orders))} were searched where they can be "
                         "computed). The density may still be invariant under another parameter map.", "open"))
    res = None
    if residual and verdict != "proven" and fam in ("SO", "O") and el.concrete_dim(group) is not None:
        from .catalogue import largest_proven_subgroup

        res = largest_proven_subgroup(network, group, on, correlator=correlator, finite_width=finite_width)
    return InvarianceProof(network, group, on, correlator, finite_width, verdict, steps, witness=witness,
                           parameter_witness=param_witness, conditions=conditions, residual=res)


def _small(network: Network) -> bool:
    return network.depth == 2 and (not isinstance(network.input_dim, int) or network.input_dim <= 3)


def _output_translations(network, group, correlator, finite_width) -> InvarianceProof:
    ab = absorb(network, group, "output")
    steps = [ProofStep("Absorb", ab.reason + (f" $T_c: {ab.map_latex}$." if ab.valid else ""),
                       "established" if ab.valid else "fails")]
    steps.append(ProofStep(
        "Density", "No probability law on $\\mathbb R^{d}$ is invariant under all translations: if the law "
                   "$\\mu$ of $f(x)$ satisfied $\\mu(A + c) = \\mu(A)$ for every $c$, the disjoint unit cubes "
                   "$[k, k+1)^d$, $k \\in \\mathbb Z$, would all have the same probability, which cannot sum to 1.",
        "fails"))
    mean = sp.Symbol("E[f_1(x)]")
    witness = Witness(sp.Matrix([1] + [0] * (int(group.n) - 1)) if isinstance(group.n, int) else None,
                      "The shift c = e_1", "the law of $f_1(x)$ (when finite, its mean $G^{(1)}_1(x)$)",
                      mean, mean + 1, kind="structural", element_name="c")
    steps.append(ProofStep("Witness", witness.markdown(), "fails"))
    return InvarianceProof(network, group, "output", correlator, finite_width, "refuted", steps, witness=witness)
