"""Readable symbolic output: named vector parameters, parenthesised powers of inner products, long sums
broken over the rows of an aligned environment."""

import re

import sympy as sp

from symcorr import Dense, Network, Normal, size_symbol
from symcorr.symbolic import correlator
from symcorr.symbolic.display import ROW_WIDTH, aligned, display_math, equation_lines
from symcorr.symbolic.entries import NamedEntry, entry_definitions, named_entries
from symcorr.symbolic.inputs import inner

N = size_symbol("N")
mu = sp.Symbol("mu", real=True)


def _shifted_readout_net():
    return Network(3, [Dense(N, "relu", weight=Normal(0, sp.Rational(1, 3))),
                       Dense(10, weight=Normal([mu] * 3 + [0] * 7, 1 / N))])


def test_named_entries_evaluate_at_integers_and_print_once():
    M = named_entries(r"\mu^{W}", "muW", sp.Matrix([mu, mu, 0]))
    a = sp.Symbol("a", integer=True)
    assert M(0) == mu and M(2) == 0 and isinstance(M(a), NamedEntry)
    assert sp.latex(M(a)) == r"\mu^{W}_{a}" and (M(a) * 2).subs(a, 1) == 2 * mu
    assert named_entries(r"\mu^{W}", "muW", sp.Matrix([mu, mu, 0])) is M  # equal values, equal expressions
    assert entry_definitions(M(a) + M(a) ** 2) == [r"\mu^{W}_{a} = 0\ \left(a \in \{2\}\right),\ \mu\ \text{otherwise}"]


def test_the_readout_mean_vector_is_named_not_printed_in_every_term():
    g4 = correlator(_shifted_readout_net(), 4)
    tex = g4.latex()
    assert r"\mu^{W}_{a_{1}}" in tex and r"\mu\\\mu" not in tex  # no column vector (mu \\ mu \\ ...) in terms
    assert tex.count(r"\mu^{W}_{a} &= ") == 1
    # the named form has the same values: at explicit indices and points it equals the direct evaluation
    pts = [[1, 0, 0], [0, 1, 0], [sp.Rational(1, 2), 0, 1], [0, 0, 1]]
    a = sp.symbols("a1:5", integer=True)
    generic = g4.expr(pts, a)
    for idx in [(0, 0, 0, 0), (0, 1, 5, 5), (2, 2, 9, 3)]:
        direct = g4.expr(pts, idx)
        assert sp.simplify(generic.subs(dict(zip(a, idx))) - direct) == 0


def test_powers_of_inner_products_are_parenthesised():
    x, y = sp.MatrixSymbol("x_1", 3, 1), sp.MatrixSymbol("x_2", 3, 1)
    tex = sp.latex(inner(x, y) ** 2 * inner(x, x))
    assert r"\left(x_{1}^{T} x_{2}\right)^{2}" in tex and "x_{2}^{2}" not in tex


def test_long_sums_break_into_rows_of_an_aligned_environment():
    z = sp.symbols("z0:40")
    expr = sp.Add(*[(k + 1) * s ** 2 for k, s in enumerate(z)])
    rows = equation_lines("S", expr)
    assert len(rows) > 2 and rows[0].startswith("S &= ") and all(r.startswith("&\\quad") for r in rows[1:])
    assert all(len(r) <= ROW_WIDTH + 40 for r in rows)
    assert sp.parse_expr  # rows rejoin to the expression: every term appears once
    joined = " ".join(rows)
    assert all(joined.count(f"z_{{{k}}}^{{2}}") == 1 for k in range(40))
    common = equation_lines("T", sp.Symbol("c") * sp.Add(*z))
    assert common[0].startswith("T &= c \\left(") or "c" in common[0]
    block = display_math(rows)
    assert block.startswith("$$\n\\begin{aligned}") and block.endswith("\\end{aligned}\n$$")
    assert all(len(line) < 400 for line in block.splitlines())


def test_correlator_latex_is_valid_inside_display_math():
    """No bare \\\\ between top-level items (TeX parsers reject it inside $$): rows live in aligned."""
    tex = correlator(_shifted_readout_net(), 2).latex()
    assert tex.startswith("\\begin{aligned}") and tex.endswith("\\end{aligned}")
    body = tex[len("\\begin{aligned}"):-len("\\end{aligned}")]
    assert "\\begin{aligned}" not in body and re.search(r"&=", body)
    assert aligned(["a &= b", "c &= d"]) == "\\begin{aligned}\na &= b \\\\\nc &= d\n\\end{aligned}"
