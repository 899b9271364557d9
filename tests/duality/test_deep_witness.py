"""Witnesses for deep networks (symcorr.duality.deep_witness, .monotone): the issue's refutations, the claims
that must stay proven, the undecided cases at a numeric width, the arguments re-checked by independent
numerics (the numeric NNGP kernel, the numeric 1/N tables) and by seeded Monte Carlo (tolerances in standard
errors, with a case where the symmetry holds that the same statistic must not flag)."""

import math

import numpy as np
import pytest
import sympy as sp
import torch

from symcorr import Dense, Laplace, Network, Normal
from symcorr.deep import FiniteWidth
from symcorr.duality import prove_invariance
from symcorr.duality.deep_witness import Argument, WidthScope, deep_witness
from symcorr.duality.elements import catalogue_group
from symcorr.duality.monotone import MONOTONE, Case, monotone_chain, monotone_name
from symcorr.activations import get_activation
from symcorr.symbolic import kernel
from symcorr.verdicts import Side

R = sp.Rational
N = sp.Symbol("N", positive=True, integer=True)
D = sp.Symbol("D", positive=True, integer=True)


def deep_net(act, hidden, width, d=3, w_mean=0, first=None, bias_mean=0, readout_bias_mean=0, d_out=1):
    """``hidden`` hidden layers of ``act`` (the first one ``first``), Gaussian biases, variances C/fan_in."""
    layers = [Dense(width, first or act, weight=Normal(w_mean, R(1, 1) / d), bias=Normal(bias_mean, R(1, 10)))]
    for _ in range(hidden - 1):
        layers.append(Dense(width, act, weight=Normal(0, 2 / sp.sympify(width)), bias=Normal(0, R(1, 10))))
    mean = [readout_bias_mean] + [0] * (d_out - 1)
    layers.append(Dense(d_out, weight=Normal(0, 1 / sp.sympify(width)), bias=Normal(mean if d_out > 1 else
                                                                                   readout_bias_mean, R(1, 10))))
    return Network(d, layers, name=f"{hidden}-hidden-layer {act}-net")


def _gram(net, points):
    concrete = net.subs({N: 8}) if N in net.free_symbols else net
    X = torch.tensor([[float(v) for v in p] for p in points], dtype=torch.float64)
    return kernel(concrete).gram_with_error(X, limit=True)


# ----------------------------------------------------------------------------------------------------
# the refutations
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("hidden", [2, 3])
@pytest.mark.parametrize("width, finite", [(N, False), (N, True), (16, True)], ids=["GP", "symbolic-N", "N=16"])
def test_deep_tanh_net_with_gaussian_biases_is_not_translation_invariant(hidden, width, finite):
    net = deep_net("tanh", hidden, width)
    proof = prove_invariance(net, "translations", "input", finite_width=finite)
    assert proof.verdict == "refuted"
    w = proof.witness
    assert w.kind == "monotone" and w.data["case"] == Case.VARIANCE and w.data["direction"] == 1
    assert proof.decision.deep.scope is WidthScope.EVERY_WIDTH
    assert proof.decision.route == "witness"
    # the variance moves exactly: 1/10 at the origin, 1/10 + |c|^2/3 at the shifted point
    assert w.before == R(1, 10) and w.after == R(1, 10) + R(1, 4) / 3
    # independent check in the GP limit: the numeric NNGP kernel increases as the witness says
    k, e = _gram(net, [w.data["points"][0], w.data["moved"][0]])
    assert k[1, 1] - k[0, 0] > 10 * (e[0, 0] + e[1, 1])
    text = proof.markdown()
    assert "strictly increasing" in text and "tanh is odd and strictly increasing" in text
    assert "every width" in text
    tex = proof.latex()
    assert all(ord(ch) < 128 for ch in tex) and "\\hat G^{(l+1)}(x)" in tex


@pytest.mark.parametrize("act", ["erf", "relu"])
@pytest.mark.parametrize("width, finite", [(N, False), (N, True), (16, True)], ids=["GP", "symbolic-N", "N=16"])
def test_deep_net_with_a_first_layer_weight_mean_is_not_so3_invariant(act, width, finite):
    net = deep_net(act, 2, width, w_mean=R(1, 2))
    proof = prove_invariance(net, "SO(3)", "input", finite_width=finite, residual=False)
    assert proof.verdict == "refuted"
    w = proof.witness
    assert w.kind == "monotone" and w.data["case"] == Case.MEAN
    k, e = _gram(net, [w.data["points"][0], w.data["moved"][0]])
    change = (k[1, 1] - k[0, 0]) * w.data["direction"]
    assert change > 10 * (e[0, 0] + e[1, 1])
    assert ("$|\\phi_0|$ is even" in proof.markdown()) == (act == "erf")


def test_gauss_first_layer_deep_net_gp_invariant_but_refuted_at_every_large_width():
    """The deep analogue of R3: a Gauss-net first layer makes the first metric, hence the GP, translation
    invariant; the 1/N coefficient of G^(2) moves, so 'invariant for every N' is refuted; at N = 16 no exact
    argument exists."""
    net = Network(1, [Dense(N, "gauss", weight=Normal(0, R(1, 4)), bias=Normal(0, R(1, 4))),
                      Dense(N, "erf", weight=Normal(0, 2 / N), bias=Normal(0, R(1, 10))),
                      Dense(1, weight=Normal(0, 1 / N), bias=Normal(0, R(1, 10)))])
    gp = prove_invariance(net, "translations", "input", finite_width=False)
    assert gp.verdict == "proven" and gp.decision.route == "gp-kernel" and gp.decision.gp_limit.deep
    proof = prove_invariance(net, "translations", "input")
    assert proof.verdict == "refuted" and proof.decision.route == "width-series"
    w = proof.witness
    assert w.kind == "inverse-width" and proof.decision.deep.argument is Argument.INVERSE_WIDTH
    lead = [sp.N(v, 30) for v in proof.decision.deep.leading]
    assert abs(lead[0] - lead[1]) < 1e-25       # the GP terms agree
    # the exact 1/N coefficients against the numeric 1/N tables (torch, symcorr.deep.finite_width.values)
    fw = FiniteWidth(net)
    for pts, exact in ((w.data["points"], w.before), (w.data["moved"], w.after)):
        values = fw.values(torch.tensor([[float(pts[0][0])]], dtype=torch.float64))
        assert float(values.shift[:, 0, 0, 0].sum()) == pytest.approx(float(exact), rel=1e-9, abs=1e-12)
    text = proof.markdown()
    assert "\\delta_1" in text and "By contrast" in text
    numeric = prove_invariance(net.subs({N: 16}), "translations", "input")
    assert numeric.verdict == "undecided"
    assert "numeric width" in numeric.markdown() and "symcorr check" in numeric.markdown()


def test_a_gp_kernel_witness_where_the_monotone_argument_does_not_apply():
    """cos hidden layers are outside the monotone table; the NNGP kernel has nested closed forms and moves."""
    net = deep_net("cos", 2, N, d=1, first="erf")
    proof = prove_invariance(net, "translations", "input", finite_width=False)
    assert proof.verdict == "refuted" and proof.decision.route == "gp-kernel"
    w = proof.witness
    assert w.kind == "kernel" and proof.decision.deep.argument is Argument.GP_KERNEL
    k, e = _gram(net, w.data["points"])
    kg, eg = _gram(net, w.data["moved"])
    exact = float(sp.N(w.after - w.before, 30))
    assert abs(float(kg[0, 1] - k[0, 1]) - exact) <= 10 * float(e[0, 1] + eg[0, 1]) + 1e-12
    assert abs(exact) > 1e-3
    large = prove_invariance(net, "translations", "input")
    assert large.verdict == "refuted" and large.decision.route == "width-series"
    assert "\\delta_0 \\ne 0" in large.markdown()


def test_a_deep_read_out_bias_mean_refutes_output_rotations_at_every_width():
    net = deep_net("tanh", 2, 16, d_out=2, readout_bias_mean=R(1, 2))
    proof = prove_invariance(net, "SO(2)", "output")
    assert proof.verdict == "refuted" and proof.witness.kind == "mean"
    assert proof.decision.deep.argument is Argument.OUTPUT_MEAN


# ----------------------------------------------------------------------------------------------------
# what must stay proven, and what the arguments must not refute
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("act", ["tanh", "erf", "relu"])
@pytest.mark.parametrize("finite", [True, False], ids=["finite", "GP"])
def test_zero_mean_deep_nets_stay_proven_under_input_rotations_and_output_rotations(act, finite):
    net = deep_net(act, 3, N, d=D)
    proof = prove_invariance(net, "SO", "input", finite_width=finite)
    assert proof.verdict == "proven" and proof.decision.route == "parameter-map"
    out = prove_invariance(deep_net(act, 3, N, d_out=3), "SO", "output", finite_width=finite)
    assert out.verdict == "proven" and out.decision.route == "parameter-map"


@pytest.mark.parametrize("net, group", [
    (deep_net("tanh", 3, N), "SO(3)"),                      # the law of W0 is rotation invariant
    (deep_net("relu", 2, N, d=2), "O(2)"),
    (Network(2, [Dense(N, "tanh", weight=Normal(R(1, 2), R(1, 2))), Dense(N, "tanh", weight=Normal(0, 1 / N)),
                 Dense(1, weight=Normal(0, 1 / N))]), "parity"),   # x -> -x: odd, bias-free, |m(-x)| = |m(x)|
], ids=["tanh-SO3", "relu-O2", "tanh-mean-parity"])
def test_the_deep_arguments_find_nothing_where_the_symmetry_holds(net, group):
    grp = catalogue_group(net, group, "input")
    for finite in (True, False):
        step = deep_witness(net, grp, Side.INPUT, finite_width=finite)
        assert step.witness is None, step.witness.markdown()
    assert prove_invariance(net, group, "input", residual=False).verdict != "refuted"


def test_the_monotone_table_admits_only_the_activations_it_proves():
    assert set(MONOTONE) == {"identity", "tanh", "erf", "relu"}
    for name in ("step", "sigmoid", "softplus", "gelu", "silu", "cos", "sin", "gauss"):
        assert monotone_name(get_activation(name)) is None
    # a step hidden layer: E[step(sqrt(k) xi)^2] = 1/2 for every k, so the diagonal does not move: not used
    net = Network(3, [Dense(N, "tanh", weight=Normal(0, R(1, 3)), bias=Normal(0, R(1, 10))),
                      Dense(N, "step", weight=Normal(0, 2 / N)), Dense(1, weight=Normal(0, 1 / N))])
    chain = monotone_chain(net)
    assert not chain.every_width and not chain.gp_limit and "step" in chain.reasons[0]
    # the monotonicity the table claims, checked by quadrature on a grid of k
    nodes, weights = (torch.tensor(a, dtype=torch.float64) for a in np.polynomial.hermite_e.hermegauss(80))
    weights = weights / math.sqrt(2 * math.pi)
    ks = torch.linspace(0.05, 4, 40, dtype=torch.float64)
    for name in MONOTONE:
        act = get_activation(name)
        g = torch.stack([(act.torch(torch.sqrt(k) * nodes) ** 2 * weights).sum() for k in ks])
        assert torch.all(g[1:] > g[:-1]), name
    step = get_activation("step")
    g = torch.stack([(step.torch(torch.sqrt(k) * nodes) ** 2 * weights).sum() for k in ks])
    assert torch.allclose(g, torch.full_like(g, 0.5))


@pytest.mark.parametrize("net", [
    deep_net("gelu", 2, 16, d=2),
    Network(2, [Dense(16, "tanh", weight=Laplace(0, R(1, 2)), bias=Normal(0, R(1, 4))),
                Dense(16, "tanh", weight=Normal(0, R(1, 8))), Dense(1, weight=Normal(0, R(1, 16)))]),
], ids=["gelu-hidden", "laplace-first-layer"])
def test_undecided_at_a_numeric_width_without_an_exact_witness(net):
    proof = prove_invariance(net, "translations", "input")
    assert proof.verdict == "undecided" and proof.witness is None
    text = proof.markdown()
    assert "no exact function-space argument applies" in text and "Monte Carlo" in text


# ----------------------------------------------------------------------------------------------------
# Monte Carlo: the sign of the change the witness predicts, at a small numeric width
# ----------------------------------------------------------------------------------------------------
def _paired_z(net, x, gx, networks=40000, seed=11):
    """z-score of E[f_1(gx)^2] - E[f_1(x)^2] from one seeded ensemble (paired)."""
    params = net.sample(networks, seed=seed)
    f = net.forward(params, torch.tensor([x, gx], dtype=torch.float64))[:, :, 0]
    diff = f[:, 1] ** 2 - f[:, 0] ** 2
    return float(diff.mean() / (diff.std() / math.sqrt(networks)))


def test_monte_carlo_sees_the_predicted_change_and_no_change_under_a_true_symmetry():
    """At width 4, 40000 networks: the translated diagonal moves by more than 5 s.e. in the predicted
    direction; the rotated one (SO(3) holds) stays within 4 s.e."""
    net = deep_net("tanh", 3, 4)
    proof = prove_invariance(net, "translations", "input")
    w = proof.witness
    x = [float(v) for v in w.data["points"][0]]
    gx = [float(v) for v in w.data["moved"][0]]
    assert _paired_z(net, x, gx) * w.data["direction"] > 5
    x = [0.6, 0.0, 0.0]
    rx = [0.36, 0.48, 0.0]   # the rotation by arccos(3/5) in the (1, 2) plane
    assert abs(_paired_z(net, x, rx)) < 4
    mean_net = deep_net("erf", 2, 4, w_mean=R(1, 2))
    proof = prove_invariance(mean_net, "SO(3)", "input", residual=False)
    w = proof.witness
    x = [float(v) for v in w.data["points"][0]]
    gx = [float(v) for v in w.data["moved"][0]]
    assert _paired_z(mean_net, x, gx) * w.data["direction"] > 5


def test_a_deep_ntk_claim_without_an_exact_argument_stays_undecided_and_says_so():
    proof = prove_invariance(deep_net("tanh", 3, N), "translations", "input", correlator="ntk")
    assert proof.verdict == "undecided" and proof.witness is None
    assert "No NTK witness is computed for a network with two or more hidden layers" in proof.markdown()
