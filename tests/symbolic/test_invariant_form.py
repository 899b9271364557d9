"""Correlators in the invariants of translations (squared distances) and rotations (inner products): the form
where one exists (exact: it expands back to the correlator), a "no" with a witness that an independent
evaluation confirms, and "could not decide" (never a form) where neither can be shown."""

import numpy as np
import pytest
import sympy as sp

from symcorr import Dense, Network, Normal, size_symbol
from symcorr.distributions import Laplace
from symcorr.errors import SpecError
from symcorr.groups import Permutations, SpecialOrthogonal, Translations
from symcorr.html import markdown_to_html
from symcorr.symbolic import InvariantForm, Invariants, SquaredDistance, correlator, invariant_form, kernel
from symcorr.symbolic.inputs import InnerProduct, inner
from symcorr.zoo import cos_net, erf_net, gauss_net

N = size_symbol("N")
D = sp.Symbol("D", integer=True, positive=True)
QUARTER = sp.Rational(1, 4)


def _expand(e):
    return sp.expand(e, deep=True, power_exp=False, power_base=False, log=False)


def _cos_gaussian_phase(width=N):
    """Cos-net with b0 ~ N(0, 1): k_12 = (exp(-|x1 - x2|^2/4) + exp(-|x1 + x2|^2/4)/e^2)/2."""
    return Network(2, [Dense(width, "cos", weight=Normal(0, sp.Rational(1, 2)), bias=Normal(0, 1)),
                       Dense(1, weight=Normal(0, 1 / N if width is N else sp.Rational(1, width)))])


def _first_layer_mean(d=3, width=N, activation="identity"):
    """W0 ~ N(1/2, 1/3): the pre-activation mean (1/2) 1^T x is not a function of inner products."""
    readout = Normal(0, 1 / N) if width is N else Normal(0, sp.Rational(1, width))
    return Network(d, [Dense(width, activation, weight=Normal(QUARTER * 2, sp.Rational(1, 3)), bias=Normal(0, 1)),
                       Dense(1, weight=readout)])


def _witness_confirmed(G, form: InvariantForm, indices):
    """The witness, checked by an independent evaluation (the correlator's own numbers at its points)."""
    w = form.witness
    pts = [[float(v) for v in (p if isinstance(p, tuple) else (p,))] for p in w.points]
    moved = [[float(v) for v in (p if isinstance(p, tuple) else (p,))] for p in w.moved]
    before, after = G.evaluate(pts, indices), G.evaluate(moved, indices)
    assert before == pytest.approx(w.before, rel=1e-9) and after == pytest.approx(w.after, rel=1e-9)
    assert abs(after - before) > 1e-6 * max(1.0, abs(before))


# --- yes -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("d", [D, 3, 1])
def test_the_gauss_net_kernel_is_a_function_of_the_distance(d):
    K = kernel(gauss_net(d, N))
    form = K.invariant_form("translations")
    assert form.exists and form.decided and form.rewritten and form.invariants is Invariants.DISTANCES
    k12 = [v for s, v in form.definitions.items() if str(s) == "k_{12}"][0]
    assert k12.atoms(SquaredDistance) and not k12.atoms(InnerProduct)  # only |x1 - x2|^2 is left
    pts, _ = correlator(gauss_net(d, N), 2).generic_points()
    original = K(*pts)
    assert _expand(form.in_points() - original) == 0  # exact: the form expands back to the kernel
    bar = r"\left(x_{1} - x_{2}\right)^{2}" if d == 1 else r"\lVert x_{1} - x_{2} \rVert^{2}"
    assert bar in form.markdown() and bar in form.latex() and form._repr_latex_().startswith("$$")


def test_an_erf_net_is_a_function_of_inner_products_and_a_cos_net_with_a_uniform_phase_of_distances():
    G = correlator(erf_net(D, N), 2)
    for group in ("SO", "O", SpecialOrthogonal(D)):
        form = G.invariant_form(group)
        assert form.exists and not form.rewritten and form.invariants is Invariants.INNER_PRODUCTS
    assert "(and under $\\mathrm{O}(D)$)" in G.invariant_form("SO").markdown()
    G4 = correlator(cos_net(2, N), 4)  # b0 uniform on the circle: every correlator, at every width
    form = G4.invariant_form(Translations(2))
    assert form.exists and form.definitions  # rewritten piece by piece (k_ij, m_1234, G^c_1234)
    pts, idx = G4.generic_points()
    assert _expand(form.in_points() - G4.expr(pts, idx)) == 0


def test_scalar_points_pair_into_products_and_so1_is_trivial():
    erf1 = erf_net(1, N)
    form = correlator(erf1, 4).invariant_form("O")
    assert form.exists and form.scalar and "x_i x_j" in form.sentence()
    trivial = correlator(_first_layer_mean(d=1, activation="cos"), 2).invariant_form("SO")
    assert trivial.exists and "trivial group" in trivial.sentence()


# --- no ------------------------------------------------------------------------------------------------
def test_the_cos_net_with_a_gaussian_phase_is_not_a_function_of_the_distance():
    """The second term exp(-|x1 + x2|^2/4)/e^2 of k_12 moves with translations."""
    G = correlator(_cos_gaussian_phase(), 2)
    form = G.invariant_form("translations")
    assert not form.exists and form.decided and form.expr is None and not form.rewritten
    assert form.residual == ("x_{1}^{T} x_{1}", "x_{2}^{T} x_{2}")
    assert "depends on $x_{1}^{T} x_{1}$, $x_{2}^{T} x_{2}$ beyond them" in form.markdown()
    assert "translation by" in form.witness.element and form.latex().startswith(r"\text{no form")
    with pytest.raises(SpecError, match="no form in the squared distances"):
        form.in_points()
    concrete = correlator(_cos_gaussian_phase(width=3), 2)
    _witness_confirmed(concrete, concrete.invariant_form("translations"), [0, 0])


def test_an_erf_net_is_rotation_but_not_translation_invariant_in_form():
    net = erf_net(3, 4)
    G = correlator(net, 2)
    assert G.invariant_form("SO").exists
    form = G.invariant_form("translations")
    assert not form.exists and form.decided
    _witness_confirmed(G, form, [0, 0])


@pytest.mark.parametrize("activation", ["identity", "cos"])
def test_a_first_layer_weight_mean_breaks_the_inner_product_form(activation):
    G = correlator(_first_layer_mean(width=3, activation=activation), 2)
    form = G.invariant_form("SO")
    assert not form.exists and form.decided
    assert r"\mathbf{1}^{T} x_{1}" in form.residual and "rotation" in form.witness.element
    _witness_confirmed(G, form, [0, 0])
    symbolic = correlator(_first_layer_mean(d=D), 2).invariant_form("O")  # symbolic D: witness at D = 3
    assert not symbolic.exists and symbolic.decided and ("D", "3") in symbolic.witness.parameters


def test_an_anisotropic_first_layer_leaves_the_coordinates():
    net = Network(3, [Dense(4, "erf", weight=Normal(0, sp.Rational(1, 3), col_cov=[[2, 0, 0], [0, 1, 0], [0, 0, 1]]),
                            bias=Normal(0, 1)), Dense(1, weight=Normal(0, QUARTER))])
    G = correlator(net, 2)
    form = G.invariant_form("SO")
    assert not form.exists and form.decided
    assert r"\text{the coordinates of } x_{1}" in form.residual
    _witness_confirmed(G, form, [0, 0])


def test_the_gauss_net_four_point_function_moves_under_translations():
    """R3: the finite-width moment m_1234 depends on sum x_i^2 (the spec's note)."""
    G = correlator(gauss_net(1, N), 4)
    form = G.invariant_form("translations")
    assert not form.exists and form.decided and "x_{1}^{2}" in form.residual
    concrete = correlator(gauss_net(1, 2), 4)
    _witness_confirmed(concrete, concrete.invariant_form("translations"), [0, 0, 0, 0])


# --- could not decide ----------------------------------------------------------------------------------
def test_an_unevaluated_integral_is_undecided_never_a_form():
    net = Network(2, [Dense(N, "erf", weight=Laplace(0, 1)), Dense(1, weight=Normal(0, 1 / N))])
    form = correlator(net, 2).invariant_form("SO")
    assert not form.exists and not form.decided and form.witness is None and form.expr is None
    assert form.markdown().startswith("Could not decide") and "unevaluated" in form.note
    assert form.rows() == [] and "undecided" in form.latex()


def test_an_invariant_function_the_rewrite_cannot_see_is_undecided_not_refuted():
    """cos((x1 + x2)/2) is even, so the 1-d cos net with a weight mean IS O(1) invariant; the pairing into
    products leaves x_1, x_2 inside the cosine, and the reflection moves nothing: no witness, no "no"."""
    form = correlator(_first_layer_mean(d=1, activation="cos"), 2).invariant_form("O")
    assert not form.exists and not form.decided and form.witness is None
    assert "no point set" in form.note


# --- printing and errors -------------------------------------------------------------------------------
def test_powers_of_distances_are_parenthesised_and_the_html_renders():
    x1, x2 = sp.MatrixSymbol("x_1", D, 1), sp.MatrixSymbol("x_2", D, 1)
    d = SquaredDistance(x2, x1)
    assert d == SquaredDistance(x1, x2) and sp.latex(d ** 2) == r"\left(\lVert x_{1} - x_{2} \rVert^{2}\right)^{2}"
    assert _expand(d.in_points() - (inner(x1, x1) - 2 * inner(x1, x2) + inner(x2, x2))) == 0
    f = sp.exp(-(inner(x1, x1) - 2 * inner(x1, x2) + inner(x2, x2)) ** 2)
    form = invariant_form(f, [x1, x2], "translations")
    assert form.exists and form.expr == sp.exp(-d ** 2)
    for shown in (form, correlator(_cos_gaussian_phase(), 2).invariant_form("translations")):
        page = markdown_to_html(shown.markdown(), title="t")
        assert page.math_errors == [] and page.math > 0
        assert all(ord(ch) < 128 for ch in shown.markdown())


def test_bad_arguments_are_spec_errors():
    x1, x2 = sp.MatrixSymbol("x_1", 3, 1), sp.MatrixSymbol("x_2", 3, 1)
    f = inner(x1, x2)
    with pytest.raises(SpecError, match="invariant forms are known for translations"):
        invariant_form(f, [x1, x2], Permutations(3))
    with pytest.raises(SpecError, match="symbolic points"):
        invariant_form(f, [[1, 2, 3], x2], "SO")
    with pytest.raises(SpecError, match="dimension"):
        invariant_form(f, [x1, x2], SpecialOrthogonal(4))
    with pytest.raises(SpecError, match="mix"):
        invariant_form(f, [x1, sp.Symbol("y")], "SO")
    form = invariant_form(f, [x1, x2], "O")
    with pytest.raises(Exception):
        form.exists = False  # frozen
    assert repr(form) == "InvariantForm(O(3): in the inner products)"


def test_the_witness_is_reproducible_and_exact():
    G = correlator(_cos_gaussian_phase(), 2)
    a, b = G.invariant_form("translations"), G.invariant_form("translations")
    assert a.witness == b.witness
    assert all(isinstance(v, sp.Rational) for p in a.witness.points for v in p)
    shift = [sp.Matrix(m) - sp.Matrix(p) for p, m in zip(a.witness.points, a.witness.moved)]
    assert shift[0] == shift[1] and np.any(np.array(shift[0], dtype=float) != 0)  # one translation c


def test_a_fixed_vector_is_named_and_a_difference_along_it_is_not_a_distance():
    """u^T x is not an inner product of the points; u^T (x_1 - x_2) is translation invariant but is not a function
    of |x_1 - x_2|^2 either: the witness is then a rotation (an isometry), not a translation."""
    x1, x2, u = (sp.MatrixSymbol(name, 3, 1) for name in ("x_1", "x_2", "u"))
    f = sp.exp(inner(u, x1) - inner(x1, x1))
    rotations = invariant_form(f, [x1, x2], "SO")
    assert not rotations.exists and rotations.decided and rotations.residual == ("u^{T} x_{1}",)
    along = invariant_form(sp.exp(inner(u, x1) - inner(u, x2)), [x1, x2], "translations")
    assert not along.exists and along.decided and "rotation" in along.witness.element
    assert along.witness.before != pytest.approx(along.witness.after)
