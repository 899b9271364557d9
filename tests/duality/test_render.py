"""The prose of a decision: each typed reason is written down, failures are quoted safely, and the text
is the decision's (render decides nothing)."""

import re

import pytest
import sympy as sp

from symcorr import Dense, Laplace, Network, Normal, size_symbol, zoo
from symcorr.duality import decide_invariance, render
from symcorr.duality.absorb import AbsorptionReason, absorb
from symcorr.duality.engines import EngineFailure
from symcorr.duality.invariance import LawReason, block_invariance
from symcorr.duality.proof import ProofStep, _tex_text
from symcorr.groups import Permutations, SignedPermutations, SpecialOrthogonal, Translations
from symcorr.verdicts import StepStatus

N, D = size_symbol("N"), size_symbol("D")


def test_every_absorption_reason_has_its_sentence():
    nets = [zoo.erf_net(2, N, 2), zoo.erf_net(2, N, 2, sigma_b0=None), Network(2, [Dense(3, "erf"), Dense(2, "tanh")]),
            Network(2, [Dense(3, "erf"), Dense(2, "relu")]), zoo.erf_net(2, N, 2, sigma_b1=None)]
    groups = [(SpecialOrthogonal(2), "input"), (Translations(2), "input"), (SpecialOrthogonal(2), "output"),
              (Permutations(2), "output"), (SignedPermutations(2), "output"), (Translations(2), "output")]
    seen = {}
    for net in nets:
        for group, on in groups:
            ab = absorb(net, group, on)
            seen.setdefault(ab.reason, render.absorption_text(ab))
    expected = set(AbsorptionReason) - {AbsorptionReason.ODDNESS_UNDECIDED}   # see test_absorb
    assert set(seen) == expected
    assert all(len(text) > 30 and text.count("$") % 2 == 0 for text in seen.values())
    assert "Hence $f_\\theta(R x) = f_{T_{R}\\theta}(x)$ with $T_{R}: W^{0} \\mapsto W^{0} R$." in \
        seen[AbsorptionReason.DENSE_FIRST_LAYER]
    assert "shear of parameter space" in seen[AbsorptionReason.SHIFT_INTO_FIRST_BIAS]


def test_law_text_and_conditions():
    mu = sp.Symbol("mu", real=True)
    check = block_invariance(zoo.erf_net(2, N, 1).replace_layer(0, weight=Normal(mu, 1)).weight(0),
                             SpecialOrthogonal(2), "right", "R")
    body, equations = render.law_text(check)
    assert check.reason is LawReason.MEAN_MOVED_UNLESS_ZERO and "unless $\\mu = 0$" in body and equations == []
    assert render.law_condition(check) == "The law of $W^{0}$ is invariant iff $\\mu = 0$."
    trace = block_invariance(zoo.erf_net(D, N, 1).weight(0), SpecialOrthogonal(D), "right", "R")
    body, equations = render.law_text(trace)
    assert "trace form" in body and len(equations) == 2 and "cyclicity" in equations[1]
    assert render.law_condition(trace) is None
    lap = block_invariance(zoo.erf_net(2, 3, 1).replace_layer(0, weight=Laplace(0, 1)).weight(0),
                           SpecialOrthogonal(2), "right", "R")
    assert "Maxwell" in render.law_text(lap)[0]


def test_failure_text_is_safe_in_markdown_and_latex():
    failure = EngineFailure("symcorr.symbolic", "G^(2) at the probe points",
                            "ValueError: bad $x^{2}$ in `code` \\frac{1}{0} ≠ ~")
    text = render.failure_text(failure)
    assert text.startswith("Could not decide: `symcorr.symbolic` failed while computing G^(2) at the probe points")
    assert "ValueError" in text and text.count("`") % 2 == 0 and "$" not in text
    tex = ProofStep("Engine failure", text, StepStatus.OPEN).latex()
    assert all(ord(ch) < 128 for ch in tex) and "$" not in tex.replace(r"$\times$", "")
    body = tex.replace(r"\{", "").replace(r"\}", "")
    assert body.count("{") == body.count("}")
    assert re.search(r"\\texttt\{symcorr\.symbolic\}", _tex_text(text))
    assert r"G\textasciicircum{}(2)" in tex and r"\textasciitilde{}" in tex


@pytest.mark.parametrize("net, group, on, kw", [
    (zoo.erf_net(D, N, 2), "SO", "input", {}),
    (zoo.gauss_net(1, N, 1), "translations", "input", {"values": {N: 2}}),
    (zoo.gauss_net(1, N, 1), "translations", "input", {"finite_width": False}),
    (zoo.cos_net(2, N, 1), "translations", "input", {"correlator": "ntk"}),
    (zoo.erf_net(2, 3, 2), "translations", "output", {}),
    (Network(1, [Dense(3, "cos", weight=Normal(1, 1)), Dense(1, weight=Normal(0, 1))]), "O", "input", {}),
    (Network(1, [Dense(3, "cos", weight=Normal(1, 1), bias=Normal(1, 1)), Dense(3, "tanh"),
                 Dense(1, weight=Normal(0, 1))]), "O", "input", {}),
], ids=["proven", "gauss-finite", "gauss-gp", "cos-ntk", "output-shift", "generators", "undecided"])
def test_one_rendered_step_per_decided_step_and_the_closing_step(net, group, on, kw):
    d = decide_invariance(net, group, on, **kw)
    steps = render.proof_steps(d)
    titles = [s.title for s in steps]
    assert titles[0] == "Absorb"
    closing = {"parameter-map": "Conclusion", "generators": "Conclusion", "gp-kernel": "GP limit",
               "witness": "Witness", "structural": "Witness", "none": "Undecided"}[d.route]
    assert closing in titles
    # statuses are copied from the decision, never recomputed
    assert steps[0].status is d.absorption.status
    for law, step in zip(d.laws, [s for s in steps if s.title.startswith("Density")]):
        assert step.status is law.status


def test_the_haar_and_point_mass_steps_are_written_from_their_checks():
    import torch.nn as nn

    from symcorr import Network
    from symcorr.duality import prove_invariance

    net = Network.from_torch(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)),
                             init={0: {"weight": nn.init.orthogonal_, "bias": nn.init.zeros_}})
    proof = prove_invariance(net, "SO", "input")
    assert proof.verdict == "proven"
    text = proof.markdown()
    assert "Haar-distributed (semi-)orthogonal" in text and "U\\,W^{0}\\,V" in text and "iid" not in text.split("Density")[1]
    zero = Network.from_torch(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)), init={0: nn.init.zeros_})
    assert "point mass at 0" in prove_invariance(zero, "SO", "input").markdown()
