"""Property test: on random single-hidden-layer networks every verdict is checked independently with the
closed-form correlators of symcorr.symbolic (developer A's engine, not the prover's own):

* ``proven``  => G^(1), G^(2) are exactly invariant under concrete group elements at random points;
* ``refuted`` => the witness element is in the group and, re-evaluated with symcorr.symbolic, the
  witness quantity really changes (when that engine has a closed form for it).

A wrong "proven" is the worst bug the prover can have; this test hunts for it."""

import itertools
import random

import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from symcorr import Dense, Laplace, Network, Normal, Uniform, UniformCircle
from symcorr.duality import prove_invariance, symmetry_group
from symcorr.duality import elements as el
from symcorr.duality.witness import act_input as _act_input, has_integral as _has_integral

symbolic = pytest.importorskip("symcorr.symbolic")

R = sp.Rational


@st.composite
def cases(draw):
    act = draw(st.sampled_from(["erf", "relu", "gauss", "cos"]))
    d = draw(st.integers(1, 2))
    d_out = draw(st.integers(1, 2))
    width = draw(st.integers(1, 3))
    w0 = [Normal(0, R(1, 2)), Normal(R(1, 2), R(1, 2))]
    if d == 2:
        w0.append(Normal(0, R(1, 2), col_cov=[[2, 0], [0, 1]]))
    if act in ("gauss", "cos"):  # closed forms for any law with a characteristic function
        w0 += [Laplace(0, R(1, 4)), Uniform(0, R(1, 2))]
    b0 = [None, Normal(0, R(1, 4))] + ([UniformCircle()] if act in ("cos", "gauss") else [])
    if act == "cos":
        b0.append(Uniform(0, sp.pi))   # half a period: the gauge argument
    w1 = [Normal(0, R(1, width)), Normal([R(1, 2)] + [0] * (d_out - 1), R(1, width))]
    if d_out == 2:
        w1.append(Normal(0, R(1, width), row_cov=[[2, 0], [0, 1]]))
    b1 = [None, Normal(0, 1), Normal([R(1, 2)] + [0] * (d_out - 1), 1)]
    net = Network(d, [Dense(width, act, weight=draw(st.sampled_from(w0)), bias=draw(st.sampled_from(b0))),
                      Dense(d_out, weight=draw(st.sampled_from(w1)), bias=draw(st.sampled_from(b1)))])
    group, on = draw(st.sampled_from([("SO", "input"), ("O", "input"), ("signed_permutations", "input"),
                                      ("permutations", "input"), ("translations", "input"), ("SO", "output"),
                                      ("signed_permutations", "output"), ("parity", "input"), ("parity", "output"),
                                      ("sign_flips", "input"), ("exact", "input"), ("exact", "output")]))
    return net, group, on


def _points(d, n, seed):
    rng = random.Random(seed)
    return [[R(rng.randint(-7, 7), rng.randint(2, 6)) for _ in range(d)] for _ in range(n)]


def _differ(a, b):
    return abs(complex(sp.N(sp.sympify(a) - sp.sympify(b), 40))) > 1e-25


def _check_proven(net, group, on):
    d_out = net.output_dim
    for n in (1, 2):
        G = symbolic.correlator(net, n)
        pts = _points(net.input_dim, n, seed=n)
        for g, _ in el.witness_elements(group):
            if on == "input":
                a = G.expr(pts)
                b = G.expr([_act_input(g, p, el.family(group)) for p in pts])
                if _has_integral(a) or _has_integral(b):
                    continue
                assert not _differ(a, b), (net, group, g)
            else:
                tensor = {idx: G.expr(pts, idx) for idx in itertools.product(range(d_out), repeat=n)}
                if any(_has_integral(v) for v in tensor.values()):
                    continue
                for idx in tensor:
                    rot = sum(sp.Mul(*[g[idx[k], c[k]] for k in range(n)]) * tensor[c] for c in tensor)
                    assert not _differ(rot, tensor[idx]), (net, group, g, idx)


def _check_refuted(net, group, on, proof):
    w = proof.witness
    if w.kind == "structural" or not w.data:
        return
    g = sp.Matrix(w.element)
    if el.family(group) != "T":
        t = torch.tensor([[float(v) for v in g.row(i)] for i in range(g.rows)], dtype=torch.float64)
        assert group.subs(w.values).contains(t)
    concrete = net.subs(w.values)
    G = symbolic.correlator(concrete, w.data["n"])
    if on == "input":
        a, b = G.expr(w.data["points"], w.data["indices"]), G.expr(w.data["moved"], w.data["indices"])
        if not (_has_integral(a) or _has_integral(b)):
            assert _differ(a, b), (net, group, w.markdown())
    else:
        n, idx = w.data["n"], w.data["index"]
        d_out = concrete.output_dim
        tensor = {c: G.expr(w.data["points"], c) for c in itertools.product(range(d_out), repeat=n)}
        if not any(_has_integral(v) for v in tensor.values()):
            rot = sum(sp.Mul(*[g[idx[k], c[k]] for k in range(n)]) * tensor[c] for c in tensor)
            assert _differ(rot, tensor[idx]), (net, group, w.markdown())


@settings(deadline=None)  # examples: the Hypothesis profile (25 by default, 300 "thorough")
@given(cases())
def test_every_verdict_is_confirmed_by_the_symbolic_correlators(case):
    net, group, on = case
    if group == "exact":   # the group symmetry_group reports (catalogue or exact law group)
        group = symmetry_group(net, on)
        if group is None:
            return
    proof = prove_invariance(net, group, on, orders=(1, 2), residual=False)
    if proof.verdict == "proven":
        _check_proven(net, proof.group, on)
    elif proof.verdict == "refuted":
        _check_refuted(net, proof.group, on, proof)


# ----------------------------------------------------------------------------------------------------
# deep networks (two hidden layers): every verdict re-checked with the numeric infinite-width kernel
# (generated torch code and quadrature with errors, symcorr.deep.gram) and the numeric 1/N tables
# (symcorr.deep.finite_width.values), engines independent of the prover's exact arithmetic
# ----------------------------------------------------------------------------------------------------
from symcorr.deep import FiniteWidth  # noqa: E402
from symcorr.errors import SpecError  # noqa: E402
from symcorr.testing.strategies import deep_claims  # noqa: E402

WIDTH = sp.Symbol("N", positive=True, integer=True)


def _numeric(net):
    """The network at a concrete width (the strategies' variances are C/N, so the GP limit does not move)."""
    return net.subs({WIDTH: 4}) if WIDTH in net.free_symbols else net


def _gp_gram(net, points, indices=(0, 0)):
    X = torch.tensor([[float(v) for v in p] for p in points], dtype=torch.float64)
    values, errors = symbolic.kernel(_numeric(net)).gram_with_error(X, limit=True, indices=indices)
    return values, errors


def _check_deep_proven(net, group, on):
    """Proven (at a finite width or in the limit) => the GP kernel is invariant at random points under the
    witness elements, within 10 estimated errors."""
    pts = _points(net.input_dim, 2, seed=7)
    fam = el.family(group)
    try:
        if on == "input":
            k, e = _gp_gram(net, pts)
            for g, _ in el.witness_elements(group):
                kg, eg = _gp_gram(net, [_act_input(g, p, fam) for p in pts])
                assert torch.all((kg - k).abs() <= 10 * (e + eg) + 1e-9), (net, group, g)
        else:
            d_out = net.output_dim
            G = {(a, b): _gp_gram(net, pts, (a, b)) for a in range(d_out) for b in range(d_out)}
            for g, _ in el.witness_elements(group):
                g = [[float(v) for v in row] for row in sp.Matrix(g).tolist()]
                for a in range(d_out):
                    for b in range(d_out):
                        rot = sum(g[a][c] * g[b][e] * G[(c, e)][0] for c in range(d_out) for e in range(d_out))
                        err = sum(G[key][1] for key in G)
                        assert torch.all((rot - G[(a, b)][0]).abs() <= 10 * err + 1e-9), (net, group, g)
    except SpecError:  # no infinite-width kernel for this network (e.g. a read-out weight mean): nothing to compare
        return


def _check_deep_refuted(net, group, on, proof):
    try:
        _recheck_deep_witness(net, group, proof.witness)
    except SpecError:  # the numeric engine cannot evaluate there (e.g. a zero-variance ReLU at the origin)
        return


def _recheck_deep_witness(net, group, w):
    g = sp.Matrix(w.element)
    if el.family(group) != "T":
        t = torch.tensor([[float(v) for v in g.row(i)] for i in range(g.rows)], dtype=torch.float64)
        assert group.subs(w.values).contains(t)
    concrete = net.subs(w.values)
    data = w.data
    if w.kind == "monotone":
        k, e = _gp_gram(concrete, data["points"][:1])
        kg, eg = _gp_gram(concrete, data["moved"][:1])
        change = float((kg - k)[0, 0]) * data["direction"]
        assert change > -10 * float(e[0, 0] + eg[0, 0]) - 1e-12, (net, group, w.markdown())
    elif w.kind == "kernel":
        k, e = _gp_gram(concrete, data["points"])
        kg, eg = _gp_gram(concrete, data["moved"])
        exact = float(sp.N(w.after - w.before, 30))
        numeric = float(kg[0, -1] - k[0, -1])
        assert abs(numeric - exact) <= 10 * float(e[0, -1] + eg[0, -1]) + 1e-9, (net, group, w.markdown())
    elif w.kind == "inverse-width":
        fw = FiniteWidth(concrete)
        for pts, exact in ((data["points"], w.before), (data["moved"], w.after)):
            distinct = [list(p) for i, p in enumerate(pts) if list(p) not in [list(q) for q in pts[:i]]]
            slots = [distinct.index(list(p)) for p in pts]
            X = torch.tensor([[float(v) for v in p] for p in distinct], dtype=torch.float64)
            values = fw.values(X)
            if data["connected"]:
                coef, err = values.connected(slots)
                num, err = float(coef[:, 0].sum()), float(err[:, 0].sum())
            else:
                num = float(values.shift[:, 0, slots[0], slots[1]].sum())
                err = float(values.shift_error[:, 0, slots[0], slots[1]].sum())
            assert abs(num - float(sp.N(exact, 30))) <= 10 * err + 1e-9, (net, group, w.markdown())


#: a dozen deep claims in the default profile (each runs the deep prover and several kernel grids); all of the
#: profile's examples in the "thorough" one
DEEP_EXAMPLES = 12 if settings.default.max_examples <= 25 else settings.default.max_examples


@settings(deadline=None, max_examples=DEEP_EXAMPLES)
@given(deep_claims())
def test_every_deep_verdict_is_confirmed_by_the_numeric_kernels(claim):
    proof = prove_invariance(claim.network, claim.group, claim.on, finite_width=claim.finite_width, orders=(1, 2),
                             residual=False)
    if proof.verdict == "proven":
        _check_deep_proven(claim.network, proof.group, claim.on)
    elif proof.verdict == "refuted":
        _check_deep_refuted(claim.network, proof.group, claim.on, proof)


def test_the_deep_rechecks_fail_on_a_tampered_witness():
    """The re-checks above can fail: a monotone witness with its direction flipped, a kernel witness with a
    wrong value and a 1/N witness with a wrong coefficient are each rejected by the numeric engines."""
    import copy

    R = sp.Rational
    tanh = Network(3, [Dense(WIDTH, "tanh", weight=Normal(0, R(1, 3)), bias=Normal(0, R(1, 10))),
                       Dense(WIDTH, "tanh", weight=Normal(0, 2 / WIDTH), bias=Normal(0, R(1, 10))),
                       Dense(1, weight=Normal(0, 1 / WIDTH))])
    cos = Network(1, [Dense(WIDTH, "erf", weight=Normal(0, 1), bias=Normal(0, R(1, 10))),
                      Dense(WIDTH, "cos", weight=Normal(0, 2 / WIDTH), bias=Normal(0, R(1, 10))),
                      Dense(1, weight=Normal(0, 1 / WIDTH))])
    gauss = Network(1, [Dense(WIDTH, "gauss", weight=Normal(0, 1), bias=Normal(0, R(1, 10))),
                        Dense(WIDTH, "erf", weight=Normal(0, 2 / WIDTH), bias=Normal(0, R(1, 10))),
                        Dense(1, weight=Normal(0, 1 / WIDTH), bias=Normal(0, R(1, 10)))])
    for net, finite, kind in ((tanh, True, "monotone"), (cos, False, "kernel"), (gauss, True, "inverse-width")):
        proof = prove_invariance(net, "translations", "input", finite_width=finite, residual=False)
        assert proof.verdict == "refuted" and proof.witness.kind == kind
        _recheck_deep_witness(net, proof.group, proof.witness)   # the true witness passes
        bad = copy.deepcopy(proof.witness)
        if kind == "monotone":
            bad.data["direction"] = -bad.data["direction"]
        else:
            bad.after = bad.after + R(1, 100)
        with pytest.raises(AssertionError):
            _recheck_deep_witness(net, proof.group, bad)
