"""The prose of the other parameter maps: every step of a generator-route proof is written from the
decision (statuses copied, never recomputed), with the map, its Jacobian and the law of every changed
block; Markdown and LaTeX stay balanced."""

import sympy as sp

from symcorr import Dense, Network, Normal, Uniform, size_symbol, zoo
from symcorr.duality import decide_invariance, prove_invariance, render
from symcorr.duality.render_maps import element_tex
from symcorr.verdicts import StepStatus

N = size_symbol("N")
HALF = sp.Rational(1, 2)


def test_element_names():
    assert element_tex(-sp.eye(3)) == "-1" and element_tex(sp.eye(2)) == "1"
    assert element_tex(sp.Matrix([[0, 1], [1, 0]])).startswith(r"\left[")


def test_a_sign_chain_proof_names_the_map_its_jacobian_and_the_negated_laws():
    net = Network(2, [Dense(N, "erf", weight=Normal(1, 1)), Dense(1, weight=Normal(0, 1 / N))])
    d = decide_invariance(net, "parity", "input")
    steps = render.proof_steps(d)
    titles = [s.title for s in steps]
    assert titles[:3] == ["Absorb", "Change variables", "Density of $W^{0}$"]
    assert "Generators" in titles and "Generator $-1$" in titles and titles[-1] == "Conclusion"
    gen = steps[titles.index("Generator $-1$")]
    assert "is odd" in gen.body and r"T: (W^{1}) \mapsto (-W^{1})" in gen.body and "Jacobian" in gen.body
    density = steps[titles.index("Generator $-1$") + 1]
    assert density.title == "Density of $W^{1}$" and density.status is StepStatus.ESTABLISHED
    assert steps[2].status is StepStatus.FAILS
    text = prove_invariance(net, "parity", "input").latex()
    assert text.count("{") == text.count("}") and text.count("$") % 2 == 0


def test_the_identity_map_of_an_even_activation():
    net = Network(1, [Dense(3, "cos", weight=Normal(1, 1)), Dense(1, weight=Normal(0, 1))])
    md = prove_invariance(net, "O", "input").markdown()
    assert "is even" in md and r"T = \mathrm{id}" in md and "nothing to check" in md


def test_the_gauge_proof_text():
    md = prove_invariance(zoo.cos_net(2, N, 1, phase=Uniform(0, sp.pi)), "translations", "input").markdown()
    assert r"\phi(z + \pi) = -\phi(z)" in md and r"S_i: (W^{1}_{:,i}, b^0_i) \mapsto (-W^{1}_{:,i}, b^0_i + \pi)" in md
    assert "it is:" in md and md.count("$") % 2 == 0


def test_the_neuron_permutation_text():
    net = Network(2, [Dense(2, "erf", weight=Normal([[1, 0], [0, 1]], 1)), Dense(1, weight=Normal(0, HALF))])
    md = prove_invariance(net, "permutations", "input").markdown()
    assert "Permuting the hidden neurons of layer 0" in md and "PMg = M" in md and "gMP^T = M" in md
