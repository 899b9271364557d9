"""Tests for symcorr.distributions.base: the Law contract every law meets (exact moments/cumulants,
densities, seeded samplers, parameter validation, symbols and subs)."""

import math

import pytest
import sympy as sp
import torch

from symcorr.distributions import Laplace, Normal, Rademacher, Uniform, UniformCircle
from symcorr.errors import SpecError
from symcorr.rng import make_generator

x, t = sp.symbols("x t", real=True)
s = sp.Symbol("s", positive=True)

CONTINUOUS = [Normal(sp.Rational(1, 2), 3), Uniform(-1, 2), UniformCircle(), Laplace(1, 2)]
ALL = CONTINUOUS + [Rademacher(sp.Rational(3, 2))]


@pytest.mark.parametrize("law", CONTINUOUS, ids=repr)
def test_density_integrates_to_one_and_gives_the_moments(law):
    lo, hi = (-sp.oo, sp.oo)
    if isinstance(law, Uniform):
        lo, hi = law.low, law.high
    dens = law.density(x)
    assert sp.simplify(sp.integrate(dens, (x, lo, hi))) == 1
    for k in (1, 2, 3):
        assert sp.simplify(sp.integrate(x ** k * dens, (x, lo, hi)) - law.moment(k)) == 0


@pytest.mark.parametrize("law, kappa4", [
    (Normal(0, s ** 2), 0),
    (Uniform(-1, 1), sp.Rational(-2, 15)),
    (Laplace(0, s), 12 * s ** 4),
    (Rademacher(s), -2 * s ** 4),
    (UniformCircle(), -2 * sp.pi ** 4 / 15),
])
def test_fourth_cumulant(law, kappa4):
    assert sp.simplify(law.cumulant(4) - kappa4) == 0


@pytest.mark.parametrize("law", ALL, ids=repr)
def test_cumulants_are_the_taylor_coefficients_of_the_cgf(law):
    series = sp.series(law.cgf(t), t, 0, 5).removeO()
    for k in (1, 2, 3, 4):
        assert sp.simplify(series.coeff(t, k) * sp.factorial(k) - law.cumulant(k)) == 0


@pytest.mark.parametrize("law", ALL, ids=repr)
def test_characteristic_function_matches_mgf_at_imaginary_argument(law):
    for v in (sp.Rational(1, 3), sp.Rational(7, 5)):
        lhs = complex(sp.N(law.characteristic_function(v)))
        rhs = complex(sp.N(law.mgf(sp.I * v)))
        assert abs(lhs - rhs) < 1e-12


@pytest.mark.parametrize("law", ALL, ids=repr)
def test_sampler_mean_and_variance_within_standard_errors(law):
    """Seeded; tolerance 4 standard errors of the sample mean / variance."""
    n = 200_000
    sample = law.sample((n,), make_generator(7))
    mean, var = float(law.mean), float(law.variance)
    m4 = float(law.central_moment(4))
    assert abs(sample.mean().item() - mean) < 4 * math.sqrt(var / n)
    # exact variance of the unbiased sample variance: (mu_4 - (n-3)/(n-1) sigma^4) / n
    se_var = math.sqrt((m4 - (n - 3) / (n - 1) * var ** 2) / n)
    assert abs(sample.var().item() - var) < 4 * se_var


def test_sampler_check_detects_a_wrong_law():
    """The moment check above has power: a Uniform(-1, 2) sample fails the Uniform(-1, 1) check."""
    n = 200_000
    sample = Uniform(-1, 2).sample((n,), make_generator(7))
    target = Uniform(-1, 1)
    assert abs(sample.mean().item() - float(target.mean)) > 4 * math.sqrt(float(target.variance) / n)


@pytest.mark.parametrize("law", ALL, ids=repr)
def test_torch_cgf_matches_sympy(law):
    ts = torch.tensor([-0.4, -0.05, 0.0, 1e-5, 0.3], dtype=torch.float64)
    got = law.torch_cgf(ts)
    for tv, g in zip(ts.tolist(), got.tolist()):
        want = 0.0 if tv == 0 else float(sp.N(law.cgf(sp.nsimplify(tv))))
        assert g == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_seeded_sampling_is_reproducible_and_seeds_differ():
    a = Normal(0, 1).sample((5,), make_generator(3))
    b = Normal(0, 1).sample((5,), make_generator(3))
    c = Normal(0, 1).sample((5,), make_generator(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("make", [
    lambda: Normal(0, -1), lambda: Normal(0, 0), lambda: Uniform(1, 1), lambda: Uniform(2, 1),
    lambda: Laplace(0, -2), lambda: Rademacher(0), lambda: Normal(0, "abc def"),
    lambda: Normal(0, 1, cov=[[1, 2], [0, 1]]), lambda: Normal(0, 1, cov=[[1, 2], [2, 1]]),
    lambda: Normal(0, sp.Symbol("v", negative=True)),
])
def test_invalid_parameters_raise_spec_error(make):
    with pytest.raises(SpecError):
        make()


def test_symbolic_parameters_and_subs():
    sw, d = sp.Symbol("sigma_w", positive=True), sp.Symbol("D", integer=True, positive=True)
    law = Normal(0, sw ** 2 / d)
    assert law.free_symbols == {sw, d}
    assert law.subs({sw: 2, d: 4}) == Normal(0, 1)
    assert law.is_symmetric is True
    assert Normal(sp.Symbol("mu"), 1).is_symmetric is None
    assert Normal(1, 1).is_symmetric is False
    with pytest.raises(SpecError, match="depends on"):
        law.sample((3,), make_generator(0))


@pytest.mark.parametrize("make", [
    lambda: Normal(sp.I, 1), lambda: Normal([1, sp.I], 1), lambda: Laplace(1 + sp.I, 1),
    lambda: Uniform(sp.I, 2), lambda: Normal(0, 1, cov=[[1, sp.I], [sp.I, 1]]),
    lambda: Normal(sp.Symbol("mu", real=True), 1).subs({"mu": sp.I}),
    lambda: Normal(0, "sqrt(-1)"), lambda: Normal("1/0", 1), lambda: Normal(0, float("inf")),
])
def test_complex_or_infinite_parameters_raise_spec_error(make):
    with pytest.raises(SpecError, match="real|finite"):
        make()


def test_as_expr_and_numeric_value():
    import numpy as np

    from symcorr.distributions import as_expr, numeric_value

    assert as_expr("0.1") == sp.Rational(1, 10) and as_expr(0.5) == sp.Float(0.5)
    assert as_expr(np.float64(0.25)) == sp.Float(0.25) and as_expr(3) == sp.Integer(3)
    assert as_expr("sigma**2") == sp.Symbol("sigma", real=True) ** 2
    assert numeric_value("sqrt(4)/2") == 1.0
    with pytest.raises(SpecError, match="depends on the symbol"):
        numeric_value("x + 1")
    with pytest.raises(SpecError, match="boolean"):
        as_expr(True)


def test_law_subs_takes_names_and_expression_strings():
    sigma = sp.Symbol("sigma", positive=True)
    law = Normal(0, sigma ** 2)
    assert law.subs({"sigma": "1/2"}) == Normal(0, sp.Rational(1, 4))
    assert law.subs({"unused": 3}) == law
