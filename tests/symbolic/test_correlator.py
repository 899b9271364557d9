"""Exact finite-width correlators: paper.md 3.5 (G4), the SO(5) table, GP limit, connected pieces,
symmetry breaking by a read-out mean, non-Gaussian read-outs, deep networks, errors."""

import pytest
import sympy as sp

from symcorr import Dense, Network, Normal, Rademacher, size_symbol
from symcorr.deep.finite_width import FiniteWidth
from symcorr.deep.nngp import NNGP
from symcorr.errors import SpecError
from symcorr.symbolic import (CorrelatorForm, FormStyle, InnerProduct, ParameterIntegral, correlator, inner,
                              kernel, moment_table, wick_sum)
from symcorr.zoo import cos_net, erf_net, gauss_net, relu_net, tanh_net

N = size_symbol("N")
D = size_symbol("D")
a, b, c, d = sp.symbols("a b c d", integer=True, nonnegative=True)
xs = sp.symbols("x1:7", real=True)
P4 = [[v] for v in xs[:4]]


def same(u, v) -> bool:
    diff = sp.expand(u - v)
    return diff == 0 or sp.simplify(diff) == 0


def paper_g4(net, pts, idx, s1sq):
    """paper.md 3.5: sum_3 dd KK + (s1^4/N) sum_3 dd (m4 - k k)."""
    K = kernel(net)
    m4 = moment_table(net, pts)

    def k(i, j):
        return moment_table(net, [pts[i], pts[j]])

    dd = sp.KroneckerDelta
    pairs = [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2))]
    gp = sum(dd(idx[i], idx[j]) * dd(idx[p], idx[q]) * K(pts[i], pts[j]) * K(pts[p], pts[q])
             for (i, j), (p, q) in pairs)
    conn = sum(dd(idx[i], idx[j]) * dd(idx[p], idx[q]) * (m4 - k(i, j) * k(p, q)) for (i, j), (p, q) in pairs)
    return gp + s1sq ** 2 / N * conn


@pytest.mark.parametrize("maker", [tanh_net, gauss_net])
def test_g4_reproduces_the_exact_finite_width_formula(maker):
    s1 = sp.Symbol("sigma_w1", positive=True)
    net = maker(1, N, 4, sigma_w1=s1)
    got = correlator(net, 4).expr(P4, (a, b, c, d))
    assert same(got, paper_g4(net, P4, (a, b, c, d), s1 ** 2))


def test_g4_formula_check_detects_a_wrong_coefficient():
    net = tanh_net(1, N, 4)
    got = correlator(net, 4).expr(P4, (a, b, c, d))
    assert not same(got, paper_g4(net, P4, (a, b, c, d), sp.Integer(2)))


def test_so5_table_numbers():
    # paper.md 3.5: Gauss-net, sigma = 1, d_in = 1, all four inputs x = -0.006
    net = gauss_net(1, N, 5)
    G = correlator(net, 4)
    x = [[sp.Rational(-6, 1000)]] * 4
    table = {5: (44.16, 14.72), 10: (28.08, 9.36), 50: (15.22, 5.07), 100: (13.61, 4.54), 1000: (12.16, 4.05)}
    for width, (aaaa, aabb) in table.items():
        g_aaaa = float(G.expr(x, (2, 2, 2, 2), width=width))
        g_aabb = float(G.expr(x, (1, 1, 3, 3), width=width))
        assert abs(g_aaaa - aaaa) < 6e-3 and abs(g_aabb - aabb) < 6e-3
        assert abs(g_aaaa - 3 * g_aabb) < 1e-9  # isotropy: G_aaaa = 3 G_aabb at every width
    assert G.gp_limit(x, (0, 0, 0, 0)) == 12 and G.gp_limit(x, (0, 0, 1, 1)) == 4
    assert G.expr(x, (0, 1, 2, 3)) == 0 and G.expr(x, (0, 0, 0, 1)) == 0


@pytest.mark.parametrize("maker", [erf_net, cos_net, gauss_net])
def test_gp_limit_is_the_wick_sum_of_the_kernel(maker):
    net = maker(1, N, 3)
    K = kernel(net)
    G4 = correlator(net, 4)
    assert same(G4.gp_limit(P4, (a, b, c, d)), wick_sum(K, P4, (a, b, c, d)))
    pts6 = [[sp.Rational(k, 7)] for k in (1, 2, 3, 1, 5, 6)]
    idx6 = (0, 0, 1, 1, 2, 2)
    G6 = correlator(net, 6)
    gp6 = G6.gp_limit(pts6, idx6)
    assert same(gp6, wick_sum(K, pts6, idx6))
    assert same(gp6, G6.wick(pts6, idx6))
    # odd correlators vanish (zero-mean read-out)
    assert correlator(net, 3).expr(P4[:3], (a, b, c)) == 0


def test_connected_four_point_is_exactly_order_one_over_n():
    net = gauss_net(1, N, 3)
    G = correlator(net, 4)
    coeffs = G.inverse_width_coefficients(P4, (a, b, c, d), connected=True)
    assert list(coeffs) == [-1]
    s = sp.KroneckerDelta
    m4 = moment_table(net, P4)
    k = lambda i, j: moment_table(net, [P4[i], P4[j]])  # noqa: E731
    want = (s(a, b) * s(c, d) + s(a, c) * s(b, d) + s(a, d) * s(b, c)) * m4 - (
        s(a, b) * s(c, d) * k(0, 1) * k(2, 3) + s(a, c) * s(b, d) * k(0, 2) * k(1, 3)
        + s(a, d) * s(b, c) * k(0, 3) * k(1, 2))
    assert same(coeffs[-1], want)
    assert same(G.connected(P4, (a, b, c, d)) * N, want)


@pytest.mark.parametrize("maker", [gauss_net, erf_net, relu_net, cos_net])
def test_connected_six_point_is_exactly_order_one_over_n_squared(maker):
    net = maker(1, N, 2)
    G = correlator(net, 6)
    pts = [[sp.Rational(k, 10)] for k in (1, 2, 3, 4, 5, 6)]
    for idx in [(0,) * 6, (0, 0, 1, 1, 0, 0), (0, 1, 0, 1, 1, 1)]:
        coeffs = G.inverse_width_coefficients(pts, idx, connected=True)
        assert list(coeffs) == [-2], (maker, idx, coeffs)
    # the full 6-point function has 1, 1/N and 1/N^2 pieces
    assert sorted(G.inverse_width_coefficients(pts, (0,) * 6)) == [-2, -1, 0]


def test_expansion_in_inverse_width_is_exact():
    net = gauss_net(1, N, 2)
    G = correlator(net, 4)
    pts = [[sp.Rational(k, 5)] for k in (1, 2, 3, 4)]
    full = G.expr(pts)
    assert same(G.expand_in_inverse_width(pts, order=1), full)  # G4 is exactly GP + c/N
    assert same(G.expand_in_inverse_width(pts, order=0), G.gp_limit(pts))


def test_readout_mean_gives_g1_and_breaks_the_output_symmetry():
    # paper R4: G^(1)_a = mu N E[relu(w.x)] = mu N |x| / sqrt(2 pi d_in) on the shifted rows
    mu = sp.Symbol("mu", positive=True)
    k, d_out, d_in = 3, 10, 3
    net = relu_net(d_in, N, d_out, sigma_b0=None, sigma_b1=None, readout_mean=[mu] * k + [0] * (d_out - k))
    G1 = correlator(net, 1)
    x = sp.Matrix([1, 2, -2])
    for row in (0, 2):
        assert same(G1.expr([x], (row,)), mu * N * 3 / sp.sqrt(2 * sp.pi * d_in))
    assert G1.expr([x], (5,)) == 0
    X = sp.MatrixSymbol("x", d_in, 1)
    assert same(G1.expr([X], (1,)), mu * N * sp.sqrt(inner(X, X)) / sp.sqrt(2 * sp.pi * d_in))
    # G2 is no longer diagonal: the mean couples different outputs
    G2 = correlator(net, 2)
    assert G2.expr([x, x], (0, 1)) != 0 and G2.expr([x, x], (0, 5)) == 0
    # a read-out mean that does not scale like 1/N has no GP limit
    with pytest.raises(SpecError, match="grows like"):
        G1.gp_limit([x], (0,))


def test_non_gaussian_readout_uses_its_cumulants():
    # W1 ~ Rademacher(s/sqrt(N)): E[W^4] = s^4/N^2 (instead of 3 s^4/N^2)
    s = sp.Symbol("s", positive=True)
    net = Network(1, [Dense(N, "tanh", weight=Normal(0, 1), bias=Normal(0, 1)),
                      Dense(2, weight=Rademacher(s / sp.sqrt(N)))])
    G = correlator(net, 4)
    x = [[sp.Rational(1, 3)]] * 4
    m4 = moment_table(net, x[:1], [4])
    k = moment_table(net, x[:1], [2])
    assert same(G.expr(x, (0, 0, 0, 0)), s ** 4 / N * m4 + 3 * s ** 4 * (N - 1) / N * k ** 2)
    assert same(G.expr(x, (0, 0, 1, 1)), s ** 4 / N * m4 + s ** 4 * (N - 1) / N * k ** 2)
    # the isotropy identity G_aaaa = 3 G_aabb fails: the Rademacher law is not rotation invariant
    assert not same(G.expr(x, (0, 0, 0, 0)), 3 * G.expr(x, (0, 0, 1, 1)))


def test_concrete_width_gives_numbers_and_counts_neurons_exactly():
    net = gauss_net(1, 1, 2)  # one neuron: (N)_2 = 0, no products of distinct neurons
    G = correlator(net, 4)
    x = [[sp.Rational(1, 10)]] * 4
    m4 = moment_table(net, x[:1], [4])
    # G_0000 = 3 K^2 + 3 (m4 - k^2) with N = 1, K = 1 + k, k = 1 at one point
    assert same(G.expr(x), 3 * 4 + 3 * (m4 - 1))
    with pytest.raises(SpecError):
        G.expand_in_inverse_width(x)
    with pytest.raises(SpecError):
        G.expr(x, width=3)


def test_symbolic_dimension_and_matrix_symbol_points():
    net = gauss_net(D, N, 3)
    X = [sp.MatrixSymbol(f"x{i}", D, 1) for i in range(1, 3)]
    K = correlator(net, 2).expr(X, (0, 0))
    want = 1 + sp.exp(-inner(X[0], X[0]) / (2 * D) + inner(X[1], X[0]) / D - inner(X[1], X[1]) / (2 * D))
    assert K - want == 0  # canonical inner products: equal without simplification
    assert K.atoms(InnerProduct) == {inner(X[0], X[0]), inner(X[0], X[1]), inner(X[1], X[1])}


def test_deep_networks_stay_parameter_integrals():
    net = Network(2, [Dense(N, "tanh", weight=Normal(0, 1), bias=Normal(0, 1)),
                      Dense(N, "tanh", weight=Normal(0, 1 / N)), Dense(3, weight=Normal(0, 1 / N))])
    G = correlator(net, 2)
    assert not G.is_exact and "depth 3" in G.reason
    e = G.expr([[1, 2], [3, 4]], (0, 1))
    assert isinstance(e, ParameterIntegral)
    assert e.blocks == ("W0", "b0", "W1", "W2") and e.points[1] == sp.Matrix([3, 4])
    assert r"\int d\theta" in sp.latex(e) and "ParameterIntegral" in str(e)
    assert e.subs(N, 4).network.widths == [N, N, 3]  # the integral keeps its network
    # odd correlators vanish by the reflection symmetry of the last layer
    assert correlator(net, 3).expr([[1, 2], [3, 4], [0, 1]]) == 0
    # the large-width expansion exists (issue 9): the GP limit is the NNGP kernel; the 1/N terms of a tanh
    # net have no closed form (tanh's pair function has none) and say where the numbers are
    assert G.is_deep and G.gp_limit([[1, 2], [3, 4]], (0, 0)) == NNGP(net).metrics([[1, 2], [3, 4]])[-1][0, 1]
    with pytest.raises(SpecError, match="available numerically"):
        G.inverse_width_coefficients([[1, 2], [3, 4]])
    non_gaussian = net.replace_layer(1, weight=Rademacher(1 / sp.sqrt(N)))
    with pytest.raises(SpecError, match="Gaussian hidden-layer weights"):
        correlator(non_gaussian, 2).gp_limit([[1, 2], [3, 4]])


def test_parameter_integral_doit_applies_the_rules():
    net = erf_net(1, N, 2)
    G = correlator(net, 2)
    integral = G.integral([[sp.Rational(1, 2)], [1]], (1, 1))
    assert isinstance(integral, ParameterIntegral)
    assert integral.doit() == G.expr([[sp.Rational(1, 2)], [1]], (1, 1))


def test_forms_print_with_moment_symbols():
    G = correlator(tanh_net(1, N, 3), 4)
    form = G.form(P4, (0, 0, 1, 1))
    assert isinstance(form, CorrelatorForm)
    names = {str(s) for s in form.definitions}
    assert names == {"k_{12}", "k_{34}", "m_{1234}"}
    assert same(form.expanded(), G.expr(P4, (0, 0, 1, 1)))
    md = G.markdown()
    assert "4-point function" in md and "m_{1234}" in md and r"\mathbb{E}" in md
    assert "G^{(4)}" in G.latex() and G._repr_latex_().startswith("$$")


@pytest.mark.parametrize("bad", [
    lambda G: G.expr([[1], [2], [3]]),                 # wrong number of points
    lambda G: G.expr([[1, 2]] * 4),                     # wrong input dimension
    lambda G: G.expr([[1]] * 4, (0, 0, 0, 7)),          # output index out of range
    lambda G: G.expr([[1]] * 4, (0, 0, 0)),             # wrong number of indices
    lambda G: G.expr([[1]] * 4, (0, 0, 0, 0.5)),        # non-integer index
    lambda G: G.evaluate([[1]] * 4),                    # symbolic width: no numbers
])
def test_bad_inputs_raise_spec_errors(bad):
    with pytest.raises(SpecError):
        bad(correlator(gauss_net(1, N, 3), 4))


def test_bad_orders_and_symbolic_dimension_with_explicit_points():
    with pytest.raises(SpecError):
        correlator(gauss_net(1, N), 0)
    with pytest.raises(SpecError, match="MatrixSymbol"):
        correlator(gauss_net(D, N), 2).expr([[1, 2], [3, 4]])


def test_cumulant_form_reads_gp_part_plus_connected_part():
    G = correlator(erf_net(1, N, 3), 4)
    form = G.form(P4, (a, b, c, d), style="cumulants")
    K = {s: sp.Symbol(f"K_{{{s}}}") for s in ("12", "34", "13", "24", "14", "23")}
    dd = sp.KroneckerDelta
    want = (dd(a, b) * dd(c, d) * K["12"] * K["34"] + dd(a, c) * dd(b, d) * K["13"] * K["24"]
            + dd(a, d) * dd(b, c) * K["14"] * K["23"] + sp.Symbol("G^{c}_{1234}"))
    assert form.expr == want
    assert same(form.expanded(), G.expr(P4, (a, b, c, d)))
    assert form.definitions[K["12"]] == 1 + sp.Symbol("k_{12}")
    # the connected piece is the 1/N part
    assert N ** -1 in sp.Mul.make_args(sp.factor(form.definitions[sp.Symbol("G^{c}_{1234}")]))
    with pytest.raises(SpecError):
        G.form(P4, style="diagrams")
    assert G.form(P4, (a, b, c, d), style=FormStyle.CUMULANTS).expr == want


def test_cached_results_cannot_be_changed_by_a_caller():
    """correlator() shares one Correlator per (network, order): nothing a caller can reach through a
    returned result may change what a later call returns."""
    net = erf_net(1, N, 3)
    pts, idx = [[sp.Rational(1, 3)], [sp.Rational(1, 2)], [1], [2]], (0, 0, 1, 1)
    G = correlator(net, 4)
    want = G.expr(pts, idx)
    want_connected = G.connected(pts, idx)
    want_cumulants = G.form(pts, idx, style="cumulants").expanded()
    assert correlator(net, 4) is G  # the cache hands out the same object ...
    with pytest.raises(AttributeError):  # ... so it is immutable
        G.n = 2
    with pytest.raises(AttributeError):
        G.network = gauss_net(1, N, 3)
    for style in ("moments", "cumulants"):
        form = G.form(pts, idx, style=style)
        sym = next(iter(form.definitions))
        with pytest.raises(TypeError):
            form.definitions[sym] = sp.Integer(0)
        with pytest.raises(AttributeError):
            form.title = "changed"
        with pytest.raises(TypeError):
            form.points[0] = sp.Matrix([5])
        assert not hasattr(form, "builder")  # the cached moment sums are not reachable
        if form.terms is not None:
            key = next(iter(form.terms))
            with pytest.raises(TypeError):
                form.terms[key] = sp.Integer(0)
            with pytest.raises(TypeError):
                form.terms.update({key: sp.Integer(0)})
            form.terms.copy()[key] = sp.Integer(0)  # a copy is the caller's own
    form = G.connected_form(pts, idx)
    with pytest.raises(TypeError):
        form.terms.add(sp.Symbol("k_{12}"))
    coeffs = G.inverse_width_coefficients(pts, idx)
    coeffs.clear()  # a fresh dict per call
    assert G.inverse_width_coefficients(pts, idx) != {}
    assert correlator(net, 4).expr(pts, idx) == want
    assert correlator(net, 4).connected(pts, idx) == want_connected
    assert correlator(net, 4).form(pts, idx, style="cumulants").expanded() == want_cumulants


def test_the_cache_tells_equal_networks_with_different_names_apart():
    a = erf_net(1, N, 3)
    b = Network(a.input_dim, a.layers, name="renamed")
    assert a == b and correlator(a, 2) is not correlator(b, 2)
    assert "renamed" in correlator(b, 2).markdown() and "renamed" not in correlator(a, 2).markdown()
    assert correlator(a, 2).expr([[1], [2]]) == correlator(b, 2).expr([[1], [2]])


def test_a_haar_orthogonal_block_is_not_read_as_iid_neurons_or_columns():
    """orthogonal_ rows (and columns) are dependent: the single-hidden-layer rules must not sum over iid
    neurons.  The correlator stays the whole-network integral, and its seeded Monte Carlo value agrees with the
    ensemble within 4.5 s.e."""
    import math

    import numpy as np
    import torch

    from symcorr.distributions import HaarOrthogonal
    from symcorr.montecarlo import estimate_correlators
    from symcorr.symbolic.integral import ParameterIntegral

    for net in (Network(2, [Dense(3, "erf", weight=HaarOrthogonal(1)), Dense(1)]),
                Network(2, [Dense(3, "erf"), Dense(2, weight=HaarOrthogonal(1))])):
        g2 = correlator(net, 2)
        assert g2.reason is not None and "not iid" in g2.reason
        assert isinstance(g2.expr([[1, 0], [0, 1]], (0, 0)), ParameterIntegral)
    net = Network(2, [Dense(3, "erf", weight=HaarOrthogonal(1), bias=None), Dense(1)])
    pts = np.array([[1.0, 0.0], [0.6, 0.8]])
    value, err = correlator(net, 2).evaluate_with_error(pts, (0, 0), samples=40000, seed=1)
    est = estimate_correlators(net, torch.tensor(pts), orders=(2,), networks=40000, seed=2, estimator="direct",
                               entries={2: torch.tensor([[0, 1]])}, device="cpu")[2]
    assert abs(value - float(est.mean[0])) < 4.5 * math.sqrt(err ** 2 + float(est.se[0]) ** 2)


# ----------------------------------------------------------------------------------------------------
# deep networks: the 1/n expansion of the finite-width recursion (symcorr.deep.finite_width)
# ----------------------------------------------------------------------------------------------------
def _deep(act, widths, d_out=2):
    layers = [Dense(widths[0], act, weight=Normal(0, sp.Rational(3, 4)), bias=Normal(0, sp.Rational(1, 10)))]
    for w_in, w in zip(widths, widths[1:]):
        layers.append(Dense(w, act, weight=Normal(0, sp.Rational(3, 2) / w_in), bias=Normal(0, sp.Rational(1, 10))))
    layers.append(Dense(d_out, weight=Normal(0, sp.Rational(3, 2) / widths[-1])))
    return Network(2, layers)


XD = [[1, 0], [sp.Rational(3, 5), -sp.Rational(4, 5)]]


def test_deep_correlators_expand_to_order_one_over_n():
    net = _deep("erf", [N, N])
    G4, G2 = correlator(net, 4), correlator(net, 2)
    assert G4.is_deep and not G4.is_exact and isinstance(G4.expr(XD * 2), ParameterIntegral)
    pts, idx = [XD[0], XD[0], XD[1], XD[1]], (0, 0, 1, 1)
    K = NNGP(net).metrics(XD)[-1]
    wick = K[0, 0] * K[1, 1]  # the output deltas leave one pairing
    assert G4.gp_limit(pts, idx) == wick == G4.wick(pts, idx)
    coeffs = G4.inverse_width_coefficients(pts, idx)
    lead, corrections = FiniteWidth(net).expansion(pts, idx)
    assert set(coeffs) == {0, -1} and coeffs[0] == wick and same(coeffs[-1], sum(c for _, c in corrections))
    connected = G4.inverse_width_coefficients(pts, (0, 0, 0, 0), connected=True)
    assert set(connected) == {-1}
    assert same(G4.connected(pts, (0, 0, 0, 0)), connected[-1] / N)
    assert float(G4.connected(pts, (0, 0, 0, 0), width=10)) == pytest.approx(float(connected[-1]) / 10)
    assert same(G4.expand_in_inverse_width(pts, idx), coeffs[0] + coeffs[-1] / N)
    assert G4.expand_in_inverse_width(pts, idx, order=0) == wick
    two = G2.inverse_width_coefficients(XD, (1, 1))
    assert two[0] == K[0, 1] and float(two[-1]) < 0  # erf: the metric shrinks at finite width
    assert G2.inverse_width_coefficients(XD, (0, 1)) == {}  # output delta
    assert correlator(net, 3).inverse_width_coefficients(XD + XD[:1]) == {}  # odd: zero-mean read-out
    with pytest.raises(SpecError, match="leading order"):
        G4.inverse_width_coefficients(pts, idx, order=2)


def test_deep_correlators_with_per_layer_widths():
    n1, n2 = size_symbol("n1"), size_symbol("n2")
    pts = [XD[0], XD[0], XD[1], XD[1]]
    per_layer = FiniteWidth(_deep("relu", [n1, n2])).expansion(pts, (0, 0, 0, 0), connected=True)[1]
    c1, c2 = [c for _, c in per_layer]
    # multiples of one symbol: the 1/N coefficient is sum_l c_l / alpha_l
    multiple = correlator(_deep("relu", [2 * N, N]), 4)
    assert sp.simplify(multiple.inverse_width_coefficients(pts, (0, 0, 0, 0), connected=True)[-1] - (c1 / 2 + c2)) == 0
    assert float(multiple.connected(pts, (0, 0, 0, 0), width=10)) == pytest.approx(float(c1 / 20 + c2 / 10))
    # separate symbols: no single 1/N, but the expansion sum_l c_l / n_l
    separate = correlator(_deep("relu", [n1, n2]), 4)
    with pytest.raises(SpecError, match="one symbol"):
        separate.inverse_width_coefficients(pts, (0, 0, 0, 0), connected=True)
    assert sp.simplify(separate.connected(pts, (0, 0, 0, 0)) - (c1 / n1 + c2 / n2)) == 0
    # numbers: the leading-order value at those widths
    concrete = correlator(_deep("relu", [30, 20]), 4)
    assert float(concrete.connected(pts, (0, 0, 0, 0))) == pytest.approx(float(c1 / 30 + c2 / 20), rel=1e-12)
    with pytest.raises(SpecError):
        concrete.inverse_width_coefficients(pts, (0, 0, 0, 0))


def test_deep_six_point_functions_through_one_over_n():
    """A deep linear net at one point: E[f^6] = 15 K^3 prod_l (1 + 2/n_l)(1 + 4/n_l) exactly (moments of
    chi-squares), so the 1/n term is 15 K^3 sum_l 6/n_l; the connected six-point function starts at 1/n^2."""
    n1, n2 = size_symbol("n1"), size_symbol("n2")
    net = Network(1, [Dense(n1, weight=Normal(0, 2)), Dense(n2, weight=Normal(0, 3 / n1)),
                      Dense(1, weight=Normal(0, sp.Rational(1, 2) / n2))])
    G6 = correlator(net, 6)
    x = [[sp.Rational(1, 3)]] * 6
    K = 2 * 3 * sp.Rational(1, 2) * sp.Rational(1, 9)
    assert sp.simplify(G6.expand_in_inverse_width(x) - 15 * K ** 3 * (1 + 6 / n1 + 6 / n2)) == 0
    assert G6.expand_in_inverse_width(x, connected=True) == 0
    with pytest.raises(SpecError, match="starts at order"):
        G6.connected(x)
