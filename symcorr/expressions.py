r"""The one parser for every expression string symcorr accepts (spec files and the Python API).

A string such as ``"sigma_w**2 / D"`` becomes a SymPy expression in three steps, none of which runs
Python code or lets SymPy evaluate the raw text:

1. **Syntax.**  ``ast.parse(text, mode="eval")`` after refusing sources longer than
   :data:`MAX_LENGTH` characters or containing a non-ASCII or control character (so no Unicode
   look-alikes, no NFKC-normalised dunder names, no bidirectional overrides).
2. **Checks on the tree, before anything is evaluated.**  At most :data:`MAX_NODES` nodes, nesting
   depth at most :data:`MAX_DEPTH`; only the grammar below; integer literals of at most
   :data:`MAX_LITERAL_DIGITS` digits, float literals finite in double precision; and a conservative
   size estimate for every sub-expression (see *Size bound*) that refuses exponent towers such as
   ``9**9**9**9`` or ``(10.0**300)**10`` before SymPy would try to compute them.
3. **Construction.**  The SymPy expression is built node by node from the checked tree (no
   ``eval``, no ``sympify`` of the text).  The result must be a finite expression (no ``oo``,
   ``zoo``, ``nan``, e.g. from ``1/0``) and, unless the caller allows complex values, real (no ``I``,
   e.g. from ``sqrt(-1)``).

Grammar::

    expr   := number | name | expr op expr | -expr | +expr | (expr) | func(expr[, expr])
    op     := + | - | * | / | **
    number := integer or decimal literal (1, 0.1, 2.5e-3; read exactly: 0.1 -> 1/10)
    name   := an ASCII identifier not starting with "_": pi, E, a caller's symbol, or (for callers
              that allow it) a new symbol
    func   := sqrt exp log sin cos tan sinh cosh tanh erf Abs Rational Integer Float

A top-level tuple or list ``(1, 2, 3)`` is accepted only where the caller asks for a sequence.  ``I``
(the imaginary unit) is a name only where the caller allows complex values; ``oo``, ``zoo`` and
``nan`` are never accepted.  How an unknown name is treated is the caller's choice: spec files refuse
it (every symbol is declared in ``[symbols]``), the Python API makes it a real symbol
(:func:`real_symbol`), group dimensions make it a positive-integer symbol.

Size bound
----------
For every node the checker computes :math:`s \ge \log_{10} 2`, an upper bound on the number of decimal digits
of the exact numbers SymPy would build there (numerator and denominator of a rational) and on
:math:`|\log_{10}|v||` for a non-zero numeric value :math:`v`, and :math:`h \le s`, an upper bound on
:math:`\log_{10}|v|`:

.. math:: s(n) = \max(\log_{10} 2, \log_{10}|n|),\quad s(a \pm b) = s(a \cdot b) = s(a / b) = s(a) + s(b),\quad
          s(a^e) = s(a)\, 10^{h(e)}\ (+ s(e)),\quad s(e^{a}) = \max(s(a), 10^{h(a)}/\ln 10).

An expression is refused when some :math:`s` exceeds :data:`MAX_DIGITS`.  A power whose base
contains symbols may have an exponent of at most :data:`MAX_SYMBOLIC_EXPONENT` in absolute value,
and an exponent that contains symbols may not itself contain a power (``2**(10**N)`` would explode on
substitution).
"""

from __future__ import annotations

import ast
import dataclasses
import math
from decimal import Decimal, InvalidOperation
from typing import Callable, Mapping

import sympy as sp

from .errors import SpecError

__all__ = [
    "parse_expression",
    "real_symbol",
    "positive_integer_symbol",
    "FUNCTIONS",
    "CONSTANTS",
    "RESERVED_NAMES",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_DEPTH",
    "MAX_LITERAL_DIGITS",
    "MAX_DIGITS",
    "MAX_SYMBOLIC_EXPONENT",
]

#: longest accepted source, in characters
MAX_LENGTH = 1000
#: most syntax-tree nodes (every node of Python's ``ast``, including operators)
MAX_NODES = 400
#: deepest nesting of the syntax tree (a chain ``a + b + c`` nests one level per term)
MAX_DEPTH = 64
#: most digits of an integer literal
MAX_LITERAL_DIGITS = 100
#: most decimal digits of any exact number the expression builds (see the module docstring)
MAX_DIGITS = 1000
#: largest |exponent| of a power whose base contains symbols
MAX_SYMBOLIC_EXPONENT = 100

_LN10 = math.log(10.0)
#: the least size of a node (an integer 0, 1 or 2 costs about log10(2) digits)
_MIN_DIGITS = math.log10(2.0)


@dataclasses.dataclass(frozen=True)
class _Function:
    build: Callable
    min_args: int
    max_args: int
    #: "bounded" (|f| <= 1-ish), "exp" (grows like e^a), "log", "same" (like its argument), "root",
    #: "rational" (exact number from numeric literals)
    growth: str


#: the callable functions: name -> (SymPy builder, arity, growth class used by the size bound)
FUNCTIONS: dict[str, _Function] = {
    "sqrt": _Function(sp.sqrt, 1, 1, "root"),
    "exp": _Function(sp.exp, 1, 1, "exp"),
    "log": _Function(sp.log, 1, 2, "log"),
    "sin": _Function(sp.sin, 1, 1, "bounded"),
    "cos": _Function(sp.cos, 1, 1, "bounded"),
    "tan": _Function(sp.tan, 1, 1, "same"),
    "sinh": _Function(sp.sinh, 1, 1, "exp"),
    "cosh": _Function(sp.cosh, 1, 1, "exp"),
    "tanh": _Function(sp.tanh, 1, 1, "bounded"),
    "erf": _Function(sp.erf, 1, 1, "bounded"),
    "Abs": _Function(sp.Abs, 1, 1, "same"),
    "Rational": _Function(lambda p, q=sp.Integer(1): sp.Rational(p, q), 1, 2, "rational"),
    "Integer": _Function(sp.Integer, 1, 1, "rational"),
    "Float": _Function(sp.Float, 1, 1, "rational"),
}

#: names with a fixed meaning (``I`` only where the caller allows complex values)
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}

#: names that can never be symbols (functions, constants, non-finite SymPy atoms)
RESERVED_NAMES = frozenset(FUNCTIONS) | frozenset(CONSTANTS) | {"I", "oo", "zoo", "nan", "inf"}

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_UNARY = (ast.USub, ast.UAdd)


def real_symbol(name: str) -> sp.Symbol:
    """The Python API's reading of an unknown name: a real symbol ``Symbol(name, real=True)``."""
    return sp.Symbol(name, real=True)


def positive_integer_symbol(name: str) -> sp.Symbol:
    """A size or dimension: ``Symbol(name, integer=True, positive=True)``."""
    return sp.Symbol(name, integer=True, positive=True)


@dataclasses.dataclass(frozen=True)
class _Size:
    """Conservative size of a sub-expression (see the module docstring)."""

    digits: float  # s: digits of exact numbers built here, >= |log10|value|| for numbers, >= log10 2
    log10: float   # h: >= log10|value| (0 when |value| <= 1 or unknown), <= digits
    numeric: bool  # no symbols below this node
    has_pow: bool  # a power occurs below (or at) this node


def parse_expression(text, where: str | None = None, *, symbols: Mapping[str, sp.Symbol] | None = None,
                     unknown: Callable[[str], sp.Symbol] | None = None, undeclared_hint: str = "",
                     allow_complex: bool = False, sequence: bool = False):
    """Parse ``text`` safely into a SymPy expression (or a tuple of them when ``sequence``).

    ``symbols`` maps names to the caller's symbols (with their assumptions).  ``unknown`` builds a
    symbol for any other name (e.g. :func:`real_symbol`); when it is ``None`` an unknown name is a
    :class:`SpecError` (with ``undeclared_hint`` appended, e.g. "declare it in [symbols]").
    ``allow_complex`` admits ``I`` and complex results; ``sequence`` admits a top-level tuple/list and
    then always returns a tuple.  Every refusal is a one-line :class:`SpecError` naming ``where``.
    """
    if not isinstance(text, str):
        raise SpecError(f"expected an expression string, got {type(text).__name__}", where)
    shown = text if len(text) <= 60 else text[:57] + "..."
    if len(text) > MAX_LENGTH:
        raise SpecError(f"expression is {len(text)} characters long; at most {MAX_LENGTH} are accepted",
                        where)
    for ch in text:
        if not (" " <= ch <= "~" or ch in "\t\n\r"):
            raise SpecError(f"expression {shown!r} contains the character {ch!r}; only printable ASCII "
                            "is accepted", where)
    source = " ".join(text.split())  # line breaks and tabs are spaces: an expression is one line
    if not source:
        raise SpecError("empty expression", where)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise SpecError(f"cannot parse expression {shown!r} ({exc.msg})", where) from None
    except (RecursionError, MemoryError, ValueError):
        raise SpecError(f"expression {shown!r} is too deeply nested", where) from None
    checker = _Checker(source, shown, where, symbols or {}, unknown, undeclared_hint, allow_complex)
    checker.check_shape(tree)
    body = tree.body
    if isinstance(body, (ast.Tuple, ast.List)):
        if not sequence:
            raise SpecError(f"{shown!r}: a tuple or list is not accepted here; give one expression",
                            where)
        for element in body.elts:
            checker.measure(element)
        values = tuple(checker.finish(checker.build(element)) for element in body.elts)
        return values
    checker.measure(body)
    value = checker.finish(checker.build(body))
    return (value,) if sequence else value


class _Checker:
    """Validates, measures and then builds one parsed expression."""

    def __init__(self, source, shown, where, symbols, unknown, hint, allow_complex):
        self.source = source
        self.shown = shown
        self.where = where
        self.symbols = dict(symbols)
        self.unknown = unknown
        self.hint = hint
        self.allow_complex = allow_complex
        self.names: dict[str, sp.Expr] = {}
        self.float_values: dict[int, sp.Rational] = {}

    def fail(self, message: str):
        raise SpecError(f"{self.shown!r}: {message}", self.where)

    # --- 1. shape: node count and depth, iteratively (no recursion on an unchecked tree) -------------
    def check_shape(self, tree) -> None:
        count = 0
        stack = [(tree, 1)]
        while stack:
            node, depth = stack.pop()
            count += 1
            if count > MAX_NODES:
                self.fail(f"more than {MAX_NODES} syntax nodes; split the expression")
            if depth > MAX_DEPTH:
                self.fail(f"nested deeper than {MAX_DEPTH} levels")
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))

    # --- 2. grammar and size bound (recursion depth <= MAX_DEPTH) ------------------------------------
    def measure(self, node) -> _Size:
        if isinstance(node, ast.Call):
            return self._measure_call(node)
        if isinstance(node, ast.Constant):
            return self._measure_constant(node)
        if isinstance(node, ast.Name):
            return self._measure_name(node.id)
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, _UNARY):
                self.fail(f"the operator {type(node.op).__name__} is not allowed (use + - * / **)")
            return self.measure(node.operand)
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOPS:
                self.fail(f"the operator {type(node.op).__name__} is not allowed (use + - * / **)")
            left, right = self.measure(node.left), self.measure(node.right)
            if isinstance(node.op, ast.Pow):
                return self._measure_power(left, right)
            log10 = {ast.Add: max(left.log10, right.log10) + math.log10(2.0),
                     ast.Sub: max(left.log10, right.log10) + math.log10(2.0),
                     ast.Mult: left.log10 + right.log10,
                     ast.Div: left.log10 + right.digits}[type(node.op)]
            return self._sized(left.digits + right.digits, log10, left.numeric and right.numeric,
                               left.has_pow or right.has_pow)
        if isinstance(node, (ast.Tuple, ast.List)):
            self.fail("a tuple or list may only appear as the whole expression where a sequence is "
                      "expected")
        self.fail(f"{type(node).__name__} is not allowed; only numbers, names, + - * / ** and the "
                  f"functions {', '.join(sorted(FUNCTIONS))}")

    def _sized(self, digits, log10, numeric, has_pow) -> _Size:
        digits = max(_MIN_DIGITS, digits)
        log10 = min(max(0.0, log10), digits)
        if digits > MAX_DIGITS:
            self.fail(f"would build a number of about {digits:.3g} digits (at most {MAX_DIGITS} are "
                      "accepted); refused before evaluation")
        return _Size(digits, log10, numeric, has_pow)

    def _measure_constant(self, node) -> _Size:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"only numeric constants are allowed, got {type(value).__name__}")
        if isinstance(value, int):
            digits = len(str(abs(value))) if abs(value) < 10 ** MAX_LITERAL_DIGITS else MAX_LITERAL_DIGITS + 1
            if digits > MAX_LITERAL_DIGITS:
                self.fail(f"an integer literal has more than {MAX_LITERAL_DIGITS} digits")
            log10 = math.log10(abs(value)) if value else 0.0
            return self._sized(log10, log10, True, False)
        literal = ast.get_source_segment(self.source, node) or repr(value)
        if not math.isfinite(value):
            self.fail(f"the number {literal} is not finite in double precision")
        try:
            exact = Decimal(literal)
        except InvalidOperation:  # pragma: no cover - Python already parsed it as a float
            self.fail(f"cannot read the number {literal}")
        if value == 0.0 and exact != 0:
            self.fail(f"the number {literal} underflows to 0 in double precision")
        _, mantissa, exponent = exact.as_tuple()
        digits = len(mantissa) + abs(exponent)
        if digits > MAX_DIGITS:
            self.fail(f"the number {literal} has too many digits")
        numerator, denominator = exact.as_integer_ratio()
        self.float_values[id(node)] = sp.Rational(numerator, denominator)
        log10 = math.log10(abs(value)) if value else 0.0
        return self._sized(digits, log10, True, False)

    def _measure_name(self, name: str) -> _Size:
        if name.startswith("_"):
            self.fail(f"names may not start with '_' ({name!r})")
        if name in FUNCTIONS:
            self.fail(f"{name!r} is a function; call it, e.g. {name}(x)")
        if name in CONSTANTS:
            self.names[name] = CONSTANTS[name]
            return _Size(math.log10(3.2), math.log10(3.2), True, False)  # pi < E < 3.2
        if name == "I":
            if not self.allow_complex:
                self.fail("the imaginary unit I is not accepted here; the value must be real")
            self.names[name] = sp.I
            return _Size(_MIN_DIGITS, 0.0, True, False)
        if name in RESERVED_NAMES:
            self.fail(f"{name!r} is not finite; only finite values are accepted")
        if name in self.symbols:
            self.names[name] = self.symbols[name]
        elif self.unknown is not None:
            self.names[name] = self.unknown(name)
        else:
            hint = f"; {self.hint}" if self.hint else ""
            raise SpecError(f"unknown symbol {name!r} in {self.shown!r}{hint}", self.where)
        sym = self.names[name]
        numeric = isinstance(sym, sp.Basic) and not sym.free_symbols
        return _Size(1.0, 0.0, numeric, False)

    def _measure_power(self, base: _Size, exponent: _Size) -> _Size:
        if not exponent.numeric:
            if exponent.has_pow:
                self.fail("an exponent that contains symbols may not itself contain a power")
            return self._sized(base.digits + exponent.digits, 0.0, False, True)
        largest = 10.0 ** min(exponent.log10, 12.0)  # >= |exponent|
        if not base.numeric:
            if largest > MAX_SYMBOLIC_EXPONENT:
                self.fail(f"the exponent of a power of a symbolic base may be at most "
                          f"{MAX_SYMBOLIC_EXPONENT} in absolute value")
            return self._sized(base.digits * largest + exponent.digits, 0.0, False, True)
        digits = base.digits * largest + exponent.digits
        return self._sized(digits, base.digits * largest, True, True)

    def _measure_call(self, node) -> _Size:
        if not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
            self.fail(f"only the functions {', '.join(sorted(FUNCTIONS))} may be called")
        name = node.func.id
        spec = FUNCTIONS[name]
        if node.keywords:
            self.fail(f"{name}() takes no keyword arguments")
        if not spec.min_args <= len(node.args) <= spec.max_args:
            want = (str(spec.min_args) if spec.min_args == spec.max_args
                    else f"{spec.min_args} or {spec.max_args}")
            self.fail(f"{name}() takes {want} argument(s), got {len(node.args)}")
        if spec.growth == "rational":
            for arg in node.args:
                inner = arg.operand if isinstance(arg, ast.UnaryOp) else arg
                if not (isinstance(inner, ast.Constant) and isinstance(inner.value, (int, float))
                        and not isinstance(inner.value, bool)) or (name == "Integer" and
                                                                  not isinstance(inner.value, int)):
                    kind = "an integer literal" if name == "Integer" else "number literals"
                    self.fail(f"{name}() takes {kind}")
        args = [self.measure(a) for a in node.args]
        digits = sum(a.digits for a in args)
        numeric = all(a.numeric for a in args)
        has_pow = any(a.has_pow for a in args)
        first = args[0]
        if spec.growth == "exp":
            log10 = 10.0 ** min(first.log10, 12.0) / _LN10 if numeric else 0.0
            return self._sized(max(digits, log10), log10, numeric, has_pow)
        if spec.growth == "log":
            return self._sized(digits, math.log10(first.digits * _LN10 + 1.0), numeric, has_pow)
        if spec.growth == "bounded":
            return self._sized(digits, 0.0, numeric, has_pow)
        if spec.growth == "rational" and len(args) == 2:
            return self._sized(digits, args[0].log10 + args[1].digits, numeric, has_pow)
        return self._sized(digits, first.log10, numeric, has_pow)  # same, root, rational

    # --- 3. construction from the checked tree --------------------------------------------------------
    def build(self, node) -> sp.Expr:
        try:
            return self._build(node)
        except (TypeError, ValueError, ArithmeticError, sp.SympifyError) as exc:
            self.fail(f"cannot evaluate ({type(exc).__name__}: {str(exc).splitlines()[0][:80]})")

    def _build(self, node) -> sp.Expr:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, int):
                return sp.Integer(node.value)
            return self.float_values[id(node)]
        if isinstance(node, ast.Name):
            return self.names[node.id]
        if isinstance(node, ast.UnaryOp):
            operand = self._build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            left, right = self._build(node.left), self._build(node.right)
            op = type(node.op)
            if op is ast.Add:
                return left + right
            if op is ast.Sub:
                return left - right
            if op is ast.Mult:
                return left * right
            if op is ast.Div:
                return left / right
            return sp.Pow(left, right)
        if isinstance(node, ast.Call):
            args = [self._build(a) for a in node.args]
            return FUNCTIONS[node.func.id].build(*args)
        raise AssertionError(f"unchecked node {type(node).__name__}")  # pragma: no cover

    def finish(self, expr) -> sp.Expr:
        if not isinstance(expr, sp.Expr):
            self.fail("is not an arithmetic expression")
        if expr.has(sp.oo, sp.S.NegativeInfinity, sp.zoo, sp.nan):
            self.fail(f"evaluates to {expr}, which is not finite")
        if not self.allow_complex and (expr.has(sp.I) or expr.is_extended_real is False):
            self.fail(f"evaluates to {expr}, which is not real")
        return expr
