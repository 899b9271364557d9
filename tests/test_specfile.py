"""Tests for symcorr.specfile: the TOML spec-file format and its validation."""

import textwrap

import pytest
import sympy as sp

from symcorr.errors import SpecError
from symcorr.groups import SpecialOrthogonal, Stabilizer, Translations
from symcorr.specfile import load_spec

GOOD = textwrap.dedent("""
    title = "Erf-net rotations"
    result = "R2"

    [symbols]
    N = "positive integer"
    D = "positive integer"
    sigma_w = "positive"
    mu = "real"

    [values]
    N = 20
    D = 3
    sigma_w = 1
    mu = 0.1

    [network]
    input_dim = "D"

    [[network.layers]]
    width = "N"
    activation = "erf"
    weight = { law = "normal", mean = 0, var = "sigma_w**2 / D" }
    bias = { law = "normal", var = 1 }

    [[network.layers]]
    width = 3
    weight = { law = "normal", mean = ["mu", "mu", 0], var = "1/N" }

    [[claims]]
    group = "SO"
    on = "input"
    expect = "invariant"

    [[claims]]
    group = "SO"
    on = "output"
    fix = [1, 1, 0]
    expect = "invariant"
    orders = [1, 2]

    [[claims]]
    group = "translations"
    on = "input"
    expect = "broken"

    [montecarlo]
    networks = 1000
    seed = 0
    inputs = [[1, 0, 0], [0.5, 0.5, 0]]
""")


def write(tmp_path, text, name="spec.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_spec_parses(tmp_path):
    doc = load_spec(write(tmp_path, GOOD))
    D, N = doc.symbols["D"], doc.symbols["N"]
    assert D.is_integer and D.is_positive
    assert doc.network.input_dim == D and doc.network.widths == [N, 3]
    assert doc.values[doc.symbols["mu"]] == sp.Rational(1, 10)
    assert [c.group for c in doc.claims] == [SpecialOrthogonal(D), Stabilizer(SpecialOrthogonal(3), [1, 1, 0]),
                                             Translations(D)]
    assert doc.claims[1].orders == [1, 2] and doc.claims[0].orders == [2, 4]
    net = doc.numeric_network()
    assert net.is_concrete and net.weight(0).shape == (20, 3)
    assert doc.montecarlo["inputs"] == [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]


@pytest.mark.parametrize("old, new, match", [
    ('var = 1 }', 'var = -1 }', r"layers\[0\]\.bias\.var: variance must be positive"),
    ('"erf"', '"erff"', "did you mean 'erf'"),
    ("[[1, 0, 0], [0.5", "[[1, 0], [0.5", "input dimension is 3"),
    ("sigma_w**2", "sigma_x**2", "unknown symbol 'sigma_x'"),
    ('["mu", "mu", 0]', '["mu", 0]', "per-row vector of length 3"),
    ("seed = 0", "sed = 0", "did you mean 'seed'"),
    ('law = "normal", mean = 0', 'law = "gaussian", mean = 0', "unknown law 'gaussian'"),
    ('expect = "broken"', 'expect = "maybe"', "'expect' must be one of"),
    ('on = "input"\nexpect = "broken"', 'on = "hidden"\nexpect = "broken"', "'on' must be"),
    ('group = "translations"', 'group = "SU(2)"', "unknown group"),
    ('N = 20', 'N = 2.5', "declared integer"),
    ('sigma_w = 1\n', 'sigma_w = -1\n', "declared positive"),
    ('width = 3', 'width = 0', "positive integer"),
    ('networks = 1000', 'networks = -5', "positive integer"),
    ('[[network.layers]]\nwidth = "N"', '[[network.layers]]\nwdith = "N"', "did you mean 'width'"),
])
def test_invalid_specs_name_the_field(tmp_path, old, new, match):
    assert old in GOOD
    with pytest.raises(SpecError, match=match):
        load_spec(write(tmp_path, GOOD.replace(old, new, 1)))


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "nope.toml")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(write(tmp_path, "title = \n"))


def test_numeric_network_needs_values(tmp_path):
    text = GOOD.replace("N = 20\n", "")
    doc = load_spec(write(tmp_path, text))
    with pytest.raises(SpecError, match="give numbers for N"):
        doc.numeric_network()
    assert doc.numeric_network({"N": 4}).widths == [4, 3]


def test_other_laws_and_no_bias(tmp_path):
    text = GOOD.replace('bias = { law = "normal", var = 1 }', 'bias = { law = "uniform_circle" }')
    text = text.replace('weight = { law = "normal", mean = 0, var = "sigma_w**2 / D" }',
                        'weight = { law = "laplace", scale = "sigma_w" }')
    doc = load_spec(write(tmp_path, text))
    assert doc.network.bias(0).law.kind == "uniform_circle"
    assert doc.network.weight(0).law.kind == "laplace"
    assert doc.network.bias(1) is None


def test_expressions_cannot_run_code(tmp_path):
    """Expressions are checked on the syntax tree before SymPy sees them: nothing is executed."""
    text = GOOD.replace('"sigma_w**2 / D"', '"__import__(\'os\').getcwd()"')
    with pytest.raises(SpecError, match="only the functions"):
        load_spec(write(tmp_path, text))


@pytest.mark.parametrize("old, new, match", [
    ('mu = "real"', 'mu = { commutative = false }', "unknown assumption 'commutative'"),
    ('mu = "real"', 'mu = "real commutative"', "unknown assumption 'commutative'"),
    ('mu = "real"', 'mu = { real = false }', "possibly complex"),
    ('mu = "real"', 'mu = { real = "yes" }', "must be true or false"),
    ('mu = "real"', '__import__ = "real"\nmu = "real"', "not a valid symbol name"),
    ('mu = "real"', 'pi = "real"\nmu = "real"', "not a valid symbol name"),
    ('mu = "real"', 'sqrt = "real"\nmu = "real"', "not a valid symbol name"),
    ('mu = 0.1', 'mu = "sqrt(-1)"', "not real"),
    ('mu = 0.1', 'mu = "1/0"', "not finite"),
    ('mu = 0.1', 'mu = "10**10**10"', "refused before evaluation"),
    ('mu = 0.1', 'mu = "N"', "a value is a number"),
    ('mu = 0.1', 'mu = 1e400', "finite"),
    ('sigma_w = "positive"', 'sigma_w = "negative"', "declared negative"),
    ('var = 1 }', 'var = 1e400 }', "finite"),
    ('var = 1 }', 'var = nan }', "finite"),
    ('var = 1 }', 'var = -inf }', "finite"),
    ('var = 1 }', 'var = "sqrt(-1)" }', "not real"),
    ('var = 1 }', 'var = "Symbol(\'x\')" }', "only the functions"),
    ('inputs = [[1, 0, 0]', 'inputs = [[inf, 0, 0]', "finite numbers"),
    ('width = 3', 'width = "5/2"', "positive integer"),
])
def test_hostile_or_inconsistent_values_name_the_field(tmp_path, old, new, match):
    """Symbols are real with documented assumptions only; values satisfy them and are finite and real."""
    assert old in GOOD
    with pytest.raises(SpecError, match=match):
        load_spec(write(tmp_path, GOOD.replace(old, new, 1)))


def test_symbol_assumptions_as_a_table(tmp_path):
    doc = load_spec(write(tmp_path, GOOD.replace('mu = "real"', "mu = { nonnegative = true }")))
    mu = doc.symbols["mu"]
    assert mu.is_real and mu.is_nonnegative and mu.is_commutative
