"""Proof objects render to readable Markdown and well-formed LaTeX."""

import re

import pytest
import sympy as sp

from symcorr import size_symbol, zoo
from symcorr.duality import InvarianceProof, ProofStep, prove_invariance
from symcorr.duality.proof import _tex_text

N = size_symbol("N")
D = size_symbol("D")

PROOFS = [
    (zoo.erf_net(D, N, 2), "SO", "input", {}),
    (zoo.relu_net(3, N, 4, readout_mean=[1, 1, 0, 0]), "SO", "output", {}),
    (zoo.gauss_net(1, N, 1), "translations", "input", {"values": {N: 2}}),
    (zoo.cos_net(2, N, 1), "translations", "input", {"correlator": "ntk"}),
    (zoo.erf_net(2, 3, 1), "translations", "output", {}),
]


def _balanced(tex: str) -> bool:
    body = tex.replace(r"\{", "").replace(r"\}", "").replace(r"\$", "")
    depth = 0
    for ch in body:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0 and body.count("$") % 2 == 0


@pytest.mark.parametrize("net, group, on, kw", PROOFS, ids=lambda v: getattr(v, "name", str(v)))
def test_latex_is_ascii_and_balanced(net, group, on, kw):
    proof = prove_invariance(net, group, on, **kw)
    tex = proof.latex()
    assert all(ord(ch) < 128 for ch in tex), {ch for ch in tex if ord(ch) >= 128}
    assert _balanced(tex)
    assert tex.count(r"\begin{enumerate}") == tex.count(r"\end{enumerate}") == 1
    assert rf"\textbf{{{proof.verdict}}}" in tex


def test_markdown_of_the_paper_style_proof():
    md = prove_invariance(zoo.erf_net(D, N, 2), "SO", "input").markdown()
    assert "**Verdict: proven.**" in md
    for number, title in enumerate(["Absorb", "Change variables", "Density of $W^{0}$", "Conclusion"], 1):
        assert f"{number}. **{title}**" in md
    assert r"T_{R}: W^{0} \mapsto W^{0} R" in md
    assert r"|\det R|^{N} = 1" in md
    assert r"\mathrm{tr}\left(R^{T} \left({W^{0}}\right)^{T} {W^{0}} R\right) = " \
           r"\mathrm{tr}\left(\left({W^{0}}\right)^{T} {W^{0}} R R^{T}\right)" in md


def test_refutation_markdown_names_the_witness_and_the_residual_group():
    proof = prove_invariance(zoo.relu_net(3, N, 4, readout_mean=[1, 1, 0, 0]), "SO", "output")
    md = proof.markdown()
    assert "**Witness.**" in md and "G^{(1)}" in md
    assert "**Residual group.** Stab(SO(4), [1, 1, 0, 0]) ≅ SO(3)" in md
    assert str(proof) == md and "refuted" in repr(proof)


def test_tex_text_escapes_only_outside_math():
    assert _tex_text("a_b 50% & $x_1 \\to y$ → `code`") == r"a\_b 50\% \& $x_1 \to y$ $\to$ \texttt{code}"


def test_proof_object_validation():
    step = ProofStep("Absorb", "text")
    with pytest.raises(ValueError):
        InvarianceProof(None, None, "input", "function", True, "maybe", [step])
    with pytest.raises(ValueError, match="witness"):
        InvarianceProof(None, None, "input", "function", True, "refuted", [step])
    p = InvarianceProof(None, None, "input", "function", True, "undecided", [step])
    assert p.invariant is None and p.expectation == "undecided"
    assert step.markdown(1).startswith("1. **Absorb**")
    assert ProofStep("GP", "x", "info", ["a = b"]).latex().endswith(r"\[ a = b \]")


def test_witness_values_are_exact_where_possible():
    w = prove_invariance(zoo.relu_net(3, 4, 2, readout_mean=[sp.Rational(1, 5), 0]), "SO", "output").witness
    assert isinstance(w.before, sp.Basic) and not w.before.free_symbols
    assert re.search(r"changes from .* to ", w.markdown())
