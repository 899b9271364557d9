"""Tests for symcorr.expressions: the one safe, bounded parser behind every string the library accepts.

Every hostile string is run through every entry point that accepts a string (the parser itself, the
law constructors, ``Network.subs``, input points of ``gp_limit``, group dimensions and stabiliser
vectors, activation arguments, and a spec file read with ``load_spec``).  Each must be refused with a
one-line SpecError, leave no side effect (a marker file that the string would create stays absent) and
return quickly: the time check (< 1 s per call, measured with ``time.perf_counter``) is a guard against
a hang or a blow-up, not a speed claim.
"""

import json
import os
import subprocess
import sys
import time

import pytest
import sympy as sp

from symcorr import size_symbol
from symcorr.activations import get_activation
from symcorr.distributions import Laplace, Normal, Rademacher, Uniform, as_expr
from symcorr.errors import SpecError
from symcorr.expressions import (MAX_DEPTH, MAX_DIGITS, MAX_LENGTH, MAX_NODES, MAX_SYMBOLIC_EXPONENT,
                                 parse_expression, positive_integer_symbol, real_symbol)
from symcorr.groups import SpecialOrthogonal, Stabilizer, parse_group
from symcorr.specfile import load_spec
from symcorr.symbolic import correlator
from symcorr.zoo import erf_net

HANG_GUARD_S = 1.0
CHILD_TIMEOUT_S = 180

x = sp.Symbol("x", real=True)
N = size_symbol("N")
s = sp.Symbol("s", positive=True)

SPEC = '''
title = "hostile input"

[symbols]
N = "positive integer"
sigma = "positive"

[values]
N = 4
sigma = 1

[network]
input_dim = 1

[[network.layers]]
width = "N"
activation = "erf"
weight = {{ law = "normal", var = "sigma**2" }}
bias = {{ law = "normal", var = {var} }}

[[network.layers]]
width = 1
weight = {{ law = "normal", var = "1/N" }}
'''


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string (every character escaped that TOML requires to be)."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        elif code > 0xFFFF:
            out.append(f"\\U{code:08X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def write_spec(tmp_path, var_toml: str):
    path = tmp_path / "spec.toml"
    path.write_text(SPEC.format(var=var_toml), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def gp():
    """A 2-point correlator with a symbolic width (gp_limit needs one); its points accept strings."""
    return correlator(erf_net(1, N, 1), 2)


def entry_points(gp, tmp_path):
    """Every public way a string becomes an expression: name -> callable(text)."""
    net = erf_net(1, N, 1, sigma_w0=s)
    return {
        "parse_expression": lambda text: parse_expression(text, "expr", unknown=real_symbol),
        "as_expr": lambda text: as_expr(text, "value"),
        "Normal(var)": lambda text: Normal(0, text),
        "Normal(mean)": lambda text: Normal(text, 1),
        "Normal(row mean)": lambda text: Normal([text, 0], 1),
        "Uniform(low)": lambda text: Uniform(text, 10 ** 6),
        "Laplace(scale)": lambda text: Laplace(0, text),
        "Rademacher(scale)": lambda text: Rademacher(text),
        "Law.subs": lambda text: Normal(0, s ** 2).subs({s: text}),
        "Network.subs": lambda text: net.subs({s: text}),
        "gp_limit point": lambda text: gp.gp_limit([[text], [1]]),
        "gp_limit whole point": lambda text: gp.gp_limit([text, [1]]),
        "correlator output index": lambda text: gp.gp_limit([[1], [1]], (text, 0)),
        "correlator width": lambda text: gp.expr([[1], [1]], (0, 0), width=text),
        "correlator numeric width": lambda text: gp.evaluate([[1.0], [0.5]], (0, 0), width=text),
        "group dimension": lambda text: parse_group(f"SO({text})"),
        "stabiliser vector": lambda text: Stabilizer(SpecialOrthogonal(2), [text, 1]),
        "activation": lambda text: get_activation("erf").sympy(text),
        "spec file": lambda text: load_spec(write_spec(tmp_path, toml_string(text))),
    }


#: strings that must be refused everywhere; "{marker}" is replaced by a path that must not appear
HOSTILE = [
    # code execution
    ("os.system", "__import__('os').system('touch {marker}') or 1"),
    ("os.system as a mean", "__import__('os').system('touch {marker}')"),
    ("pathlib touch", "__import__('pathlib').Path('{marker}').touch() or 1"),
    ("open", "open('{marker}', 'w') and 1"),
    ("exec", "exec(\"open('{marker}', 'w')\") or 1"),
    ("eval", "eval('1')"),
    ("lambda", "(lambda: __import__('os').system('touch {marker}'))()"),
    ("list comprehension", "[__import__('os').system('touch {marker}') for _ in (1,)]"),
    ("generator", "sum(1 for _ in (1,))"),
    ("f-string", "f\"{{__import__('os').system('touch {marker}')}}\""),
    ("attribute access", "x.__class__"),
    ("attribute chain", "().__class__.__bases__[0].__subclasses__()"),
    ("subscript", "x[0]"),
    ("dunder name", "__builtins__"),
    ("private name", "_x"),
    ("getattr", "getattr(x, 'real')"),
    ("walrus", "(y := 1)"),
    ("conditional", "1 if x else 2"),
    ("comparison", "x < 1"),
    ("boolean operator", "x or 1"),
    ("bit operator", "1 ^ 2"),
    ("dict", "{1: 2}"),
    ("set", "{1}"),
    ("string literal", "'abc'"),
    ("bytes literal", "b'1'"),
    ("complex literal", "1j"),
    ("ellipsis", "..."),
    ("None", "None"),
    ("True", "True"),
    ("keyword argument", "sqrt(x=4)"),
    ("star argument", "sqrt(*(4,))"),
    ("unknown function", "factorial(1000000)"),
    ("Symbol constructor", "Symbol('y', commutative=False)"),
    ("sympify inside", "sympify('1')"),
    ("function as value", "sqrt"),
    ("statement", "import os"),
    ("two statements", "1; 2"),
    ("syntax error", "1 +* 2"),
    ("empty", "   "),
    ("tuple", "(1, 2)"),
]

#: strings that would exhaust time or memory if SymPy evaluated them; refused before evaluation
RESOURCE = [
    ("tower 9^9^9^9", "9**9**9**9"),
    ("tower 10^10^10", "10**10**10"),
    ("tower of 2s", "2**2**2**2**2**2"),
    ("float tower", "1e308**1e308"),
    ("power of a power", "(10.0**300)**10"),
    ("huge power", "10**100000"),
    ("huge negative power", "10**-100000"),
    ("power of a rational", "(1 + 1/10**5)**(10**6)"),
    ("symbolic power", "(x + 1)**(10**6)"),
    ("symbolic exponent tower", "x**(2**N)"),
    ("exponential tower", "exp(exp(exp(10)))"),
    ("100k-term sum", "+".join(["1"] * 100_000)),
    ("deep parentheses", "(" * 100_000 + "1" + ")" * 100_000),
    ("deep unary minus", "-" * 100_000 + "1"),
    ("deep nesting within the length limit", "-" * (MAX_DEPTH + 10) + "1"),
    ("huge literal", "1" * 4000),
    ("long literal", "1" * 200),
    ("long name", "x" * (MAX_LENGTH + 1)),
    ("huge string", "1" * 1_000_000),
    ("long decimal exponent", "1e-99999999"),
    ("many nodes within the length and depth limits", None),  # balanced(7), built below
]

HOSTILE += [
    # non-finite or non-real values
    ("1e400", "1e400"),
    ("underflow", "1e-400"),
    ("division by zero", "1/0"),
    ("zero to a negative power", "0**-1"),
    ("log(0)", "log(0)"),
    ("tan pole", "tan(pi/2)"),
    ("oo", "oo"),
    ("-oo", "-oo"),
    ("zoo", "zoo"),
    ("nan", "nan"),
    ("inf", "inf"),
    ("I", "I"),
    ("sqrt(-1)", "sqrt(-1)"),
    ("(-1)**(1/2)", "(-1)**(1/2)"),
    # unicode tricks
    ("fullwidth dunder", "\uff3f\uff3fimport\uff3f\uff3f('os').system('touch {marker}')"),
    ("fullwidth letter", "\uff53qrt(4)"),
    ("mathematical bold x", "\U0001d431 + 1"),
    ("greek letter", "\u03c3**2"),
    ("right-to-left override", "1\u202e+2"),
    ("zero-width space", "1\u200b+2"),
    ("non-breaking space", "1\u00a0+ 2"),
    ("NUL", "1\x00"),
    ("escape", "1\x1b[2J"),
]




def balanced(levels: int) -> str:
    """A balanced sum of 2**levels terms: shallow (depth ~ levels) but with many nodes."""
    return "x" if levels == 0 else f"({balanced(levels - 1)}+{balanced(levels - 1)})"


RESOURCE = [(c, balanced(7) if t is None else t) for c, t in RESOURCE]


def check_refused(case, text, gp, tmp_path) -> list[str]:
    """Run ``text`` through every entry point; return the problems found (empty when all is well)."""
    marker = tmp_path / "PWNED"
    text = text.replace("{marker}", str(marker))
    problems = []
    for name, call in entry_points(gp, tmp_path).items():
        start = time.perf_counter()
        try:
            call(text)
            problems.append(f"{name}: {case} was accepted")
        except SpecError as err:
            message = str(err)
            if "\n" in message or len(message) > 400:
                problems.append(f"{name}: {case}: not a one-line message: {message!r}")
        elapsed = time.perf_counter() - start
        if elapsed >= HANG_GUARD_S:
            problems.append(f"{name}: {case} took {elapsed:.2f} s")
        if marker.exists():
            problems.append(f"{name}: {case} ran code")
    return problems


@pytest.mark.parametrize("case, template", HOSTILE, ids=[c for c, _ in HOSTILE])
def test_hostile_strings_are_refused_everywhere_without_side_effects(case, template, gp, tmp_path):
    assert check_refused(case, template, gp, tmp_path) == []


CHILD = """
import importlib.util, json, sys, tempfile, pathlib
spec = importlib.util.spec_from_file_location("hostile", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
gp = module.correlator(module.erf_net(1, module.N, 1), 2)
out = {}
for case, text in module.RESOURCE:
    out[case] = module.check_refused(case, text, gp, pathlib.Path(tempfile.mkdtemp()))
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def resource_results():
    """The resource cases run in a child process with a hard timeout: evaluating one of them by
    mistake would block in C code (a giant integer power) where no in-process guard can interrupt it;
    here it becomes a clean failure."""
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, __file__], capture_output=True, text=True,
                              timeout=CHILD_TIMEOUT_S, env={**os.environ, "OMP_NUM_THREADS": "1"})
    except subprocess.TimeoutExpired:
        pytest.fail(f"the resource cases did not finish within {CHILD_TIMEOUT_S} s: something was evaluated")
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", [c for c, _ in RESOURCE])
def test_resource_exhausting_strings_are_refused_before_evaluation(case, resource_results):
    assert resource_results[case] == []


#: entry points that take one scalar value (a number, a SymPy object or a string)
SCALAR_ENTRY_POINTS = ("parse_expression", "as_expr", "Normal(var)", "Normal(mean)", "Uniform(low)",
                       "Laplace(scale)", "Rademacher(scale)", "Law.subs", "Network.subs", "gp_limit point",
                       "stabiliser vector")


@pytest.mark.parametrize("value", [b"1", bytearray(b"1"), object(), {"a": 1}, 1 + 2j, float("inf"),
                                   float("nan")], ids=repr)
def test_values_that_are_neither_numbers_nor_strings_are_refused(value, gp, tmp_path):
    points = entry_points(gp, tmp_path)
    for name in SCALAR_ENTRY_POINTS:
        with pytest.raises(SpecError):
            points[name](value)


def test_every_entry_point_accepts_a_good_expression(gp, tmp_path):
    """The refusals above are not vacuous: the same entry points accept ordinary strings."""
    integers = {"group dimension": "3", "correlator output index": "0", "correlator width": "3",
                "correlator numeric width": "3"}
    results = {name: call(integers.get(name, "1/2 + sqrt(2)/4"))
               for name, call in entry_points(gp, tmp_path).items()}
    want = sp.Rational(1, 2) + sp.sqrt(2) / 4
    assert results["parse_expression"] == want and results["as_expr"] == want
    assert results["Normal(var)"].var == want and results["Normal(mean)"].loc == want
    assert results["Laplace(scale)"].scale == want
    assert results["Network.subs"].weight(0).law == Normal(0, want ** 2)
    assert results["group dimension"] == SpecialOrthogonal(3)
    assert results["stabiliser vector"].vector[0] == want
    assert results["spec file"].network.bias(0).law.var == want
    assert sp.simplify(results["gp_limit point"] - gp.gp_limit([[want], [1]])) == 0
    assert results["correlator output index"] == gp.gp_limit([[1], [1]], (0, 0))
    assert results["correlator width"] == gp.expr([[1], [1]], (0, 0), width=3)


@pytest.mark.parametrize("text, want", [
    ("sigma_w**2 / D", sp.Symbol("sigma_w", real=True) ** 2 / sp.Symbol("D", real=True)),
    ("0.1", sp.Rational(1, 10)),
    ("2.5e-3", sp.Rational(1, 400)),
    ("1/784", sp.Rational(1, 784)),
    ("-x**2/2", -x ** 2 / 2),
    ("2**1000", sp.Integer(2) ** 1000),
    ("2**2**2**2", sp.Integer(65536)),
    ("10**-3", sp.Rational(1, 1000)),
    ("(x + 1)**" + str(MAX_SYMBOLIC_EXPONENT), (x + 1) ** MAX_SYMBOLIC_EXPONENT),
    ("sqrt(2)*exp(-1/2)", sp.sqrt(2) * sp.exp(-sp.Rational(1, 2))),
    ("log(8, 2)", sp.Integer(3)),
    ("Rational(1, 3) + Integer(2)", sp.Rational(7, 3)),
    ("cos(pi) + sin(0) + tanh(0) + erf(0) + Abs(-2)", sp.Integer(1)),
    ("E", sp.E),
    ("x**N", x ** sp.Symbol("N", real=True)),
    ("  1 +\n 2 ", sp.Integer(3)),
])
def test_good_expressions_parse_to_the_expected_sympy_expression(text, want):
    assert parse_expression(text, "expr", unknown=real_symbol) == want


def test_limits_are_exact_at_the_boundary():
    """Just inside each limit is accepted, just outside refused."""
    ok = "+".join(["x"] * 20)
    assert parse_expression(ok, "e", unknown=real_symbol) == 20 * x
    assert parse_expression("1" * 100, "e") == sp.Integer("1" * 100)
    with pytest.raises(SpecError, match="more than 100 digits"):
        parse_expression("1" * 101, "e")
    with pytest.raises(SpecError, match="at most 100"):
        parse_expression(f"x**{MAX_SYMBOLIC_EXPONENT + 1}", "e", unknown=real_symbol)
    assert parse_expression("2**3000", "e") == sp.Integer(2) ** 3000  # ~903 digits < MAX_DIGITS
    with pytest.raises(SpecError, match=f"at most {MAX_DIGITS}"):
        parse_expression("2**4000", "e")


def test_names_follow_the_caller():
    """Spec files refuse undeclared names, the API makes real symbols, group dimensions sizes."""
    with pytest.raises(SpecError, match="unknown symbol 'y'.*declare it"):
        parse_expression("y + 1", "var", symbols={}, undeclared_hint="declare it in [symbols]")
    assert parse_expression("y", "v", unknown=real_symbol).is_real
    n = parse_expression("n", "v", unknown=positive_integer_symbol)
    assert n.is_integer and n.is_positive
    declared = sp.Symbol("sigma", positive=True)
    assert parse_expression("sigma**2", "v", symbols={"sigma": declared}) == declared ** 2
    assert Normal(0, "s**2").var == sp.Symbol("s", real=True) ** 2
    assert parse_expression("I", "v", allow_complex=True) == sp.I


def test_sequences_only_where_asked():
    assert parse_expression("(1, 1/2)", "p", sequence=True) == (1, sp.Rational(1, 2))
    assert parse_expression("[sqrt(4)]", "p", sequence=True) == (2,)
    assert parse_expression("3", "p", sequence=True) == (3,)
    with pytest.raises(SpecError, match="tuple or list is not accepted"):
        parse_expression("(1, 2)", "p")
    with pytest.raises(SpecError, match="tuple or list may only appear"):
        parse_expression("((1, 2), 3)", "p", sequence=True)


def test_errors_name_the_field():
    with pytest.raises(SpecError, match=r"^var: '9\*\*9\*\*9\*\*9': would build a number"):
        Normal(0, "9**9**9**9")
    with pytest.raises(SpecError, match=r"^mean: "):
        Normal("1/0", 1)
    with pytest.raises(SpecError, match=r"points\[0\]"):
        correlator(erf_net(1, N, 1), 2).gp_limit([["1e400"], [1]])


def test_no_string_reaches_sympys_parser(monkeypatch, gp, tmp_path):
    """SymPy's string parser (what ``sympify`` uses for text) is never called on the way."""
    import sympy.parsing.sympy_parser as parser
    import sympy.physics.units  # noqa: F401  (SymPy sympifies its own unit names when simplify first imports it)

    def forbidden(*args, **kwargs):
        raise AssertionError(f"parse_expr called with {args[:1]!r}")

    monkeypatch.setattr(parser, "parse_expr", forbidden)
    with pytest.raises(AssertionError, match="parse_expr called"):  # the guard itself works
        sp.sympify("1")
    integers = {"group dimension": "3", "correlator output index": "0", "correlator width": "3",
                "correlator numeric width": "3"}
    for name, call in entry_points(gp, tmp_path).items():
        call(integers.get(name, "sqrt(2)/2 + 0.5"))
