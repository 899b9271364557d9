r"""The prose of the parameter maps beyond the standard table (sign chains through odd and even
activations, hidden-neuron permutations, the half-period gauge of periodic activations) and of the exact
invariance group of a law (:func:`law_group_text`).

Nothing is decided here: the functions read :class:`~symcorr.duality.absorb.ElementMap` and
:class:`~symcorr.duality.invariance.LawCheck` objects and write them down (text with inline ``$...$``
mathematics, valid in Markdown and LaTeX).  :mod:`symcorr.duality.render` assembles them into proofs.
"""

from __future__ import annotations

import sympy as sp

from ..verdicts import Side
from ..groups import Group
from ..groups.invariance import Ambient
from .absorb import ElementMap, MapKind
from .invariance import LawCheck, LawReason
from .law_group import ConstraintKind, LawGroup
from .proof import block_tex

__all__ = ["element_tex", "element_map_text", "element_map_jacobian", "gauge_text", "parity_mean_text",
           "two_sided_text", "law_group_text"]


def element_tex(g) -> str:
    """A group element in LaTeX: ``-1`` for minus the identity, else the matrix."""
    g = sp.Matrix(g)
    if g == -sp.eye(g.rows):
        return "-1"
    if g == sp.eye(g.rows):
        return "1"
    return sp.latex(g)


def _blocks(names) -> str:
    return ", ".join(block_tex(b) for b in names)


def _negation(names) -> str:
    if not names:
        return r"T = \mathrm{id}"
    return rf"T: ({_blocks(names)}) \mapsto ({', '.join('-' + block_tex(b) for b in names)})"


def _sign_chain_text(m: ElementMap) -> str:
    parts = []
    if m.on is Side.INPUT:
        parts.append("$W^{0}(-x) = -(W^{0}x)$")
        for link in m.links:
            z = f"z^{{{link.layer}}}"
            bias = f" together with ${block_tex(link.bias)}$" if link.bias else ""
            if link.odd:
                parts.append(f"${z}$ changes sign{bias}, and $\\phi_{{{link.layer}}}$ ({link.activation}) is odd: "
                             f"$\\phi(-{z}) = -\\phi({z})$, so $h^{{{link.layer}}} \\mapsto -h^{{{link.layer}}}$")
            else:
                parts.append(f"${z}$ changes sign{bias}, and $\\phi_{{{link.layer}}}$ ({link.activation}) is even: "
                             f"$\\phi(-{z}) = \\phi({z})$, so $h^{{{link.layer}}}$ is unchanged and the sign stops")
        if m.weight is not None:
            w = block_tex(m.weight)
            parts.append(f"the next weight absorbs the sign: $(-{w})(-h) = {w}h$")
        text = "; ".join(parts) + "."
        return (f"{text[0].upper()}{text[1:]} Hence $f_\\theta(-x) = f_{{T\\theta}}(x)$ for every $\\theta$ with "
                f"${_negation(m.negated)}$.")
    for link in reversed(m.links):
        z = f"z^{{{link.layer}}}"
        if link.activation == "identity":
            parts.append(f"the last layer is linear: $-f = -{z}$")
        else:
            parts.append(f"$\\phi_{{{link.layer}}}$ ({link.activation}) is odd: $-\\phi({z}) = \\phi(-{z})$")
    weight = m.weight or "W0"
    w = block_tex(weight)
    layer = weight[1:]
    parts.append(f"and $-z^{{{layer}}} = (-{w})h + (-b^{{{layer}}})$: negating ${w}$ and every bias from layer {layer} "
                 "up carries the sign to the output")
    text = "; ".join(parts) + "."
    return (f"{text[0].upper()}{text[1:]} Hence $-f_\\theta = f_{{T\\theta}}$ for every $\\theta$ with "
            f"${_negation(m.negated)}$.")


def _permutation_text(m: ElementMap) -> str:
    p = sp.latex(sp.Matrix(m.permutation))
    g = element_tex(m.element)
    l = m.layer if m.layer is not None else 0
    hid = f"h^{{{l}}}"
    if m.on is Side.OUTPUT:
        w = block_tex(f"W{l + 1}")
        return (f"Permuting the hidden neurons of layer {l} by $P = {p}$ (rows of $W^{{{l}}}$ and $b^{{{l}}}$, columns of "
                f"${w}$) leaves every $f_\\theta$ unchanged, since $\\phi(Pz) = P\\phi(z)$ and $P^TP = 1$. Composed with "
                f"the standard map: $T: ({w}, W^{{{l}}}, b^{{{l}}}) \\mapsto (g{w}P^T, PW^{{{l}}}, Pb^{{{l}}})$ with "
                f"$g = {g}$ (and $b \\mapsto gb$ for the read-out bias), so $g f_\\theta = f_{{T\\theta}}$ with "
                f"${hid} \\mapsto P{hid}$; $P$ is chosen so that $gMP^T = M$ for the mean $M$ of ${w}$.")
    return (f"Permuting the hidden neurons of layer 0 by $P = {p}$ (rows of $W^{{0}}$ and $b^{{0}}$, columns of $W^{{1}}$) "
            f"leaves every $f_\\theta$ unchanged. Composed with the standard map: $T: (W^{{0}}, b^{{0}}, W^{{1}}) \\mapsto "
            f"(PW^{{0}}g, Pb^{{0}}, W^{{1}}P^T)$ with $g = {g}$, so $f_\\theta(gx) = f_{{T\\theta}}(x)$; $P$ is chosen "
            "so that $PMg = M$ for the mean $M$ of $W^{0}$.")


def element_map_text(m: ElementMap) -> str:
    """How the map absorbs its element (the body of its Absorb step)."""
    if m.kind is MapKind.SIGN_CHAIN:
        return _sign_chain_text(m)
    return _permutation_text(m)


def element_map_jacobian(m: ElementMap) -> str:
    """The Jacobian of an alternative map: a signed permutation of the parameter entries."""
    if m.kind is MapKind.SIGN_CHAIN and not m.negated:
        return "$T$ is the identity (Jacobian 1)."
    kind = "sign changes" if m.kind is MapKind.SIGN_CHAIN else "a permutation (with the signs of $g$) of entries"
    return (f"$T$ is linear and made of {kind} of the blocks ${_blocks(m.blocks)}$: orthogonal, with Jacobian "
            "$|\\det \\partial(T\\theta)/\\partial\\theta| = 1$.")


def gauge_text(check: LawCheck, gauge_body: str) -> str:
    """The half-period gauge: why the density equals that of a law with a full-period uniform phase."""
    h = sp.latex(check.period)
    w = block_tex(check.gauge_block or "W1")
    gauge_body = gauge_body.rstrip(":").rstrip()
    verdict = {True: "it is", False: "it is not", None: "whether it is could not be decided"}[check.status]
    return (f"$b^0$ has iid uniform entries on an interval of length ${h}$, half a period of the first activation "
            f"({check.activation}), which changes sign under a half-period shift: $\\phi(z + {h}) = -\\phi(z)$. So for each "
            f"neuron $i$ the gauge map $S_i: ({w}_{{:,i}}, b^0_i) \\mapsto (-{w}_{{:,i}}, b^0_i + {h})$ leaves every "
            f"$f_\\theta$ unchanged (a sign change and a shift: Jacobian 1). With iid fair signs $\\epsilon_i$, "
            f"$\\tilde\\theta = S^\\epsilon\\theta$ has $f_{{\\tilde\\theta}} = f_\\theta$, and $\\tilde b^0_i$ is uniform "
            f"on a whole period $2\\cdot{h}$; $\\tilde{{{w}}}$ has the law of ${w}$, independent of $\\tilde b^0$, iff the law "
            f"of ${w}$ is invariant under changing the sign of one column ({verdict}: {gauge_body}). Then the network "
            f"density is that of $\\tilde\\theta$, whose phase is uniform (Haar) on the torus, invariant under "
            f"$b^0 \\mapsto b^0 + W^0c$ for each fixed $W^0$ (independent of $b^0$, Fubini).")


def parity_mean_text(check: LawCheck, tex: str) -> str:
    ok = {True: "vanishes, so the law is symmetric", False: "does not vanish, so the law is not symmetric",
          None: "may not vanish"}[check.status]
    return (f"${tex}$ is Gaussian, so $-{tex}$ has the same covariance and the opposite mean; its law is unchanged "
            f"iff the mean vanishes (in any dimension). The mean {ok}.")


def two_sided_text(check: LawCheck, tex: str) -> str:
    p = sp.latex(sp.Matrix(check.permutation)) if check.permutation is not None else "P"
    ok = {True: "all hold", False: "one fails", None: "could not all be decided"}[check.status]
    return (f"${tex}$ is Gaussian with mean $M$ and Kronecker covariance $\\sigma^2U\\otimes V$; under "
            f"$W \\mapsto gWP^T$ (here $P = {p}$) the mean becomes $gMP^T$ and the covariance "
            f"$\\sigma^2(gUg^T)\\otimes(PVP^T)$, so the law is unchanged iff $gMP^T = M$, $gUg^T = U$ and $PVP^T = V$: "
            f"{ok}.")


def law_reason_is_map(check: LawCheck) -> bool:
    return check.reason in (LawReason.HALF_PERIOD_PHASE, LawReason.PARITY_MEAN, LawReason.TWO_SIDED_GAUSSIAN)


def _constraint_text(c) -> str:
    where = f"${block_tex(c.block)}$" if c.block[:1] in ("W", "b") and c.block[1:].isdigit() else c.block
    if c.kind is ConstraintKind.FIXED:
        return f"{c.name} of {where} fixed, $gu = u$ for $u = {sp.latex(sp.Matrix(c.value).T)}^T$"
    if c.kind is ConstraintKind.FORM:
        return f"the covariance factor ${c.name} = {sp.latex(sp.Matrix(c.value))}$ of {where} preserved, $g{c.name}g^T = {c.name}$"
    what = "signed permutations" if c.kind is ConstraintKind.SIGNED_PERMUTATION else "permutations"
    if c.block[:1] in ("W", "b"):
        return f"{where} has iid non-Gaussian entries (${c.name}$): only {what} preserve a product law"
    return f"the last activation {c.name} commutes only with {what}"


def law_group_text(side: Side, lg: LawGroup, catalogue: Group | None, reported: Group | None,
                   proven: bool | None) -> str:
    """One paragraph on one side: the catalogue answer, the exact law group with its derivation and
    structure, whether the prover proves it, and what :func:`~symcorr.duality.symmetry_group` reports."""
    head = f"**{str(side).capitalize()}s.** "
    cat = f"catalogue: `{catalogue!r}`" if catalogue is not None else "catalogue: nothing non-trivial proven"
    if lg.group is None:
        return head + cat + f"; exact law group: not computed ({lg.reason})."
    g = lg.group
    parts = [_constraint_text(c) for c in lg.constraints] or ["the law is invariant under every orthogonal map"]
    structure = g.describe().splitlines()[1:]
    generic = ""
    if lg.generic:
        syms = ", ".join(f"${sp.latex(e)} \\ne 0$" for e in lg.generic)
        generic = f" This is the group for {syms}; at special values it can be larger."
    verdict = {True: "proven by the prover", False: "not proven", None: "not decided"}[proven]
    rep = f"`{reported!r}`" if reported is not None else "nothing non-trivial"
    whole = (" A Gaussian law is fixed by its mean and covariance, so these are all the orthogonal maps that "
             "preserve it." if g.ambient is Ambient.O else " An orthogonal map preserving a product of non-Gaussian "
             "factors is a (signed) permutation: a row mixing two entries changes a cumulant of order >= 3.")
    return (head + cat + f"; exact law group ${g.latex()}$ (`{g!r}`, {verdict}), the orthogonal maps $g$ with: "
            + "; ".join(parts) + "." + whole + generic
            + " Structure: " + "; ".join(structure) + f". `symmetry_group` reports {rep}.")
