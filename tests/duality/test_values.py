"""The values of the prover's engines (symcorr.duality.values): exact stays exact, quadrature errors add up."""

import sympy as sp

from symcorr.duality.values import Value


def test_value_arithmetic_propagates_quadrature_errors():
    exact = Value.exact(sp.Rational(1, 2))
    num = Value.numeric(2.0, 0.1)
    prod = exact * num + num
    assert not prod.is_exact and prod.num == 3.0 and abs(prod.err - 0.15) < 1e-15
    assert (exact + exact).expr == 1
