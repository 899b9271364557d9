"""The exact large-width (Laurent) expansion of width-dependent coefficients (symcorr.symbolic.laurent)."""

import sympy as sp

from symcorr import size_symbol
from symcorr.symbolic.laurent import laurent_coefficients


def test_laurent_coefficients_are_exact():
    N = size_symbol("N")
    assert laurent_coefficients(N * (N - 1) * (N - 2) / N ** 3, N) == {0: 1, -1: -3, -2: 2}
    assert laurent_coefficients(sp.Integer(5), N) == {0: 5}
    # not a Laurent polynomial: a series, truncated
    series = laurent_coefficients(N / (N + 1), N, lowest=-2)
    assert series == {0: 1, -1: -1, -2: 1}
