"""Numbers for Gaussian expectations (symcorr.symbolic.quadrature): Gauss-Hermite in the rank of the
covariance, seeded Monte Carlo."""

import numpy as np

from symcorr.symbolic.quadrature import (gauss_hermite_expectation, montecarlo_gaussian_expectation,
                                         reduce_covariance)


def test_gauss_hermite_is_exact_for_polynomials():
    cov = np.array([[2.0, 0.5, 0.1], [0.5, 1.0, 0.2], [0.1, 0.2, 0.5]])
    # E[z1 z2 z3^2] = S12 S33 + 2 S13 S23
    got = gauss_hermite_expectation(lambda z: z, [0, 0, 0], cov, (1, 1, 2), nodes=6)
    assert abs(got - (0.5 * 0.5 + 2 * 0.1 * 0.2)) < 1e-12


def test_singular_covariance_lowers_the_dimension_and_monte_carlo_agrees():
    cov = np.array([[1.0, 2.0], [2.0, 4.0]])  # rank one: z2 = 2 z1
    lmat = reduce_covariance(np.zeros(2), cov)
    assert lmat.shape == (2, 1) and np.allclose(lmat @ lmat.T, cov)
    # E[z1 z2] = 2 exactly (rank-one adaptive quadrature), and by seeded Monte Carlo within 4 s.e.
    assert abs(gauss_hermite_expectation(lambda z: z, [0, 0], cov, (1, 1)) - 2.0) < 1e-9
    value, se = montecarlo_gaussian_expectation(lambda t: t, [0.0, 0.0], cov, (1, 1), samples=40_000, seed=5)
    assert abs(value - 2.0) < 4 * se
    assert abs(value - 2.5) > 4 * se  # a wrong value is rejected
