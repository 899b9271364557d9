r"""Declarative spec files (TOML) for derivations: network, laws, claims, Monte Carlo budget.

The format is documented in ``docs/spec-format.md``.  A minimal file::

    title = "Input rotations of an Erf-net"
    result = "R2"

    [symbols]
    N = "positive integer"
    D = "positive integer"
    sigma_w = "positive"

    [values]            # numbers used by the numeric frame
    N = 20
    D = 3
    sigma_w = 1

    [network]
    input_dim = "D"

    [[network.layers]]
    width = "N"
    activation = "erf"
    weight = { law = "normal", mean = 0, var = "sigma_w**2 / D" }
    bias = { law = "normal", var = 1 }

    [[network.layers]]
    width = 1
    weight = { law = "normal", var = "1/N" }

    [[claims]]
    group = "SO"          # dimension taken from the side it acts on
    on = "input"
    expect = "invariant"

    [montecarlo]
    networks = 100000
    seed = 0
    inputs = [[1, 0, 0], [0.5, 0.5, 0]]

Every problem raises :class:`~symcorr.errors.SpecError` naming the field: an unknown key or activation,
a negative variance, mismatched dimensions, an undeclared symbol in an expression.
"""

from __future__ import annotations

import dataclasses
import difflib
import keyword
import math
import tomllib
from pathlib import Path
from typing import Any

import sympy as sp

from . import distributions as dist
from . import expressions
from .errors import SpecError
from .groups import Group, parse_group
from .spec import Dense, Network
from .verdicts import CorrelatorKind, Expectation, Side

__all__ = ["SpecDocument", "Claim", "load_spec", "parse_spec", "parse_expression", "EXPECTATIONS"]

#: the verdicts a claim may expect
EXPECTATIONS = tuple(e.value for e in Expectation)

_TOP_KEYS = {"title", "result", "description", "symbols", "values", "network", "claims", "montecarlo",
             "experiment", "reference"}
_NETWORK_KEYS = {"input_dim", "layers", "name"}
_LAYER_KEYS = {"width", "activation", "weight", "bias"}
_CLAIM_KEYS = {"group", "on", "expect", "orders", "fix", "note", "finite_width", "correlator"}
_MC_KEYS = {"networks", "chunk", "seed", "inputs", "orders", "group_samples", "alpha", "dtype", "device",
            "estimator", "widths", "outputs"}
_LAW_KEYS = {
    "normal": {"mean", "var", "cov", "row_cov", "col_cov"},
    "uniform": {"low", "high"},
    "uniform_circle": set(),
    "laplace": {"loc", "scale"},
    "rademacher": {"scale"},
    "truncated_normal": {"mean", "std", "low", "high"},
    "point": {"value"},
    "orthogonal": {"gain"},
}
_ASSUMPTION_WORDS = {"positive": "positive", "negative": "negative", "integer": "integer", "real": "real",
                     "nonnegative": "nonnegative", "nonzero": "nonzero"}
_WORDS = ", ".join(sorted(_ASSUMPTION_WORDS))



@dataclasses.dataclass
class Claim:
    """One symmetry statement to derive/check: ``group`` acting ``on`` inputs or outputs, and the
    verdict the spec expects (``invariant``, ``broken`` or ``undecided``)."""

    group: Group
    on: Side
    expect: Expectation
    orders: list[int]
    note: str = ""
    finite_width: bool = True
    correlator: CorrelatorKind = CorrelatorKind.FUNCTION  # the network density, or its NTK


@dataclasses.dataclass
class SpecDocument:
    """A parsed spec file."""

    title: str
    result: str
    description: str
    symbols: dict[str, sp.Symbol]
    values: dict[sp.Symbol, Any]
    network: Network
    claims: list[Claim]
    montecarlo: dict
    experiment: dict | None
    path: Path | None = None

    def numeric_network(self, extra: dict | None = None) -> Network:
        """The network with the ``[values]`` table (and ``extra``) substituted; must be numeric."""
        values = dict(self.values)
        for k, v in (extra or {}).items():
            values[self.symbols.get(k, k) if isinstance(k, str) else k] = v
        net = self.network.subs(values)
        if not net.is_concrete:
            free = ", ".join(sorted(str(s) for s in net.free_symbols))
            raise SpecError(f"give numbers for {free} in the [values] table to run the numeric frame",
                            "values")
        return net


def _unknown_keys(table: dict, allowed: set, where: str):
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise SpecError(f"unknown key {key!r}{hint} (allowed: {', '.join(sorted(allowed))})", where)


def parse_expression(value, symbols: dict[str, sp.Symbol], where: str,
                     undeclared_hint: str = "declare it in [symbols]") -> sp.Expr:
    """A number or an expression string of a spec file.

    Strings go through the one safe parser :func:`symcorr.expressions.parse_expression` (grammar and
    limits in ``docs/spec-format.md``) over the declared ``symbols`` only: an undeclared name is an
    error.  Numbers are kept exact: a float 0.1 is read as 1/10, as is ``"0.1"`` in a string.
    """
    if isinstance(value, bool):
        raise SpecError(f"expected a number or expression, got {value!r}", where)
    if isinstance(value, int):
        return dist.as_expr(value, where)
    if isinstance(value, float):  # keep spec numbers exact: 0.1 -> 1/10 (as_expr refuses inf and nan)
        return sp.nsimplify(dist.as_expr(value, where), rational=True)
    if not isinstance(value, str):
        raise SpecError(f"expected a number or expression string, got {type(value).__name__}", where)
    expr = expressions.parse_expression(value, where, symbols=symbols, undeclared_hint=undeclared_hint)
    return sp.nsimplify(expr, rational=True) if expr.has(sp.Float) else expr


def _parse_symbols(table: dict) -> dict[str, sp.Symbol]:
    """``name = "positive integer"`` (words) or ``name = { positive = true }`` (a table of the same
    words); every symbol is real (a symbol without assumptions is declared ``real``)."""
    if not isinstance(table, dict):
        raise SpecError("must be a table of name = \"assumptions\"", "symbols")
    out = {}
    for name, spec in table.items():
        where = f"symbols.{name}"
        if not (name.isascii() and name.isidentifier()) or name.startswith("_") or keyword.iskeyword(name) \
                or name in expressions.RESERVED_NAMES:
            raise SpecError(f"{name!r} is not a valid symbol name (an ASCII identifier, not starting with "
                            f"'_', not one of {', '.join(sorted(expressions.RESERVED_NAMES))})", where)
        if isinstance(spec, dict):
            assumptions = {}
            for word, flag in spec.items():
                if word not in _ASSUMPTION_WORDS:
                    raise SpecError(f"unknown assumption {word!r} (use: {_WORDS})", where)
                if not isinstance(flag, bool):
                    raise SpecError(f"assumption {word!r} must be true or false, got {flag!r}", where)
                assumptions[_ASSUMPTION_WORDS[word]] = flag
        elif isinstance(spec, (str, list)) or spec is None:
            words = spec.replace(",", " ").split() if isinstance(spec, str) else list(spec or [])
            assumptions = {}
            for w in words:
                if not isinstance(w, str) or w not in _ASSUMPTION_WORDS:
                    raise SpecError(f"unknown assumption {w!r} (use: {_WORDS})", where)
                assumptions[_ASSUMPTION_WORDS[w]] = True
        else:
            raise SpecError(f"assumptions are words such as \"positive integer\", got {spec!r}", where)
        if not assumptions:
            assumptions["real"] = True
        try:
            symbol = sp.Symbol(name, **assumptions)
        except (ValueError, TypeError) as exc:  # inconsistent assumptions
            raise SpecError(f"inconsistent assumptions {assumptions} ({exc})", where) from None
        if symbol.is_real is not True:
            raise SpecError(f"symbols are real parameters; the assumptions {assumptions} leave {name} "
                            "possibly complex (add 'real')", where)
        out[name] = symbol
    return out


#: assumptions a [values] entry must satisfy, checked with SymPy's is_<assumption>
_VALUE_CHECKS = ("integer", "positive", "negative", "nonnegative", "nonzero")


def _parse_values(table: dict, symbols: dict) -> dict:
    if not isinstance(table, dict):
        raise SpecError("must be a table of name = number", "values")
    values = {}
    for name, value in table.items():
        where = f"values.{name}"
        if name not in symbols:
            raise SpecError(f"value for undeclared symbol {name!r}; declare it in [symbols]", where)
        sym = symbols[name]
        expr = parse_expression(value, {}, where, "a value is a number, not an expression in symbols")
        if not expr.is_number:
            raise SpecError(f"a value must be a number, got {value!r}", where)
        if sym.is_integer and not expr.is_integer:
            raise SpecError(f"{name} is declared integer, got {value!r}", where)
        for assumption in _VALUE_CHECKS[1:]:
            if getattr(sym, f"is_{assumption}") and getattr(expr, f"is_{assumption}") is not True:
                raise SpecError(f"{name} is declared {assumption}, got {value!r}", where)
        values[sym] = int(expr) if sym.is_integer else expr
    return values


def _parse_matrix(value, symbols, where):
    if isinstance(value, list):
        if value and isinstance(value[0], list):
            return [[parse_expression(v, symbols, f"{where}[{i}][{j}]") for j, v in enumerate(row)]
                    for i, row in enumerate(value)]
        return [parse_expression(v, symbols, f"{where}[{i}]") for i, v in enumerate(value)]
    return parse_expression(value, symbols, where)


def parse_law(table, symbols: dict, where: str) -> dist.Law | None:
    """Parse ``{ law = "normal", mean = 0, var = "1/N" }`` and friends (``none`` -> no parameter)."""
    if table is None or table == "none" or table is False:
        return None
    if isinstance(table, str):
        table = {"law": table}
    if not isinstance(table, dict):
        raise SpecError("a law is a table such as { law = \"normal\", var = 1 }", where)
    kind = table.get("law")
    if kind is None:
        raise SpecError("missing 'law' (one of: " + ", ".join(sorted(_LAW_KEYS)) + ")", where)
    kind = str(kind).lower()
    if kind not in _LAW_KEYS:
        close = difflib.get_close_matches(kind, sorted(_LAW_KEYS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise SpecError(f"unknown law {kind!r}{hint}", f"{where}.law")
    args = {k: v for k, v in table.items() if k != "law"}
    _unknown_keys(args, _LAW_KEYS[kind], where)
    parsed = {k: _parse_matrix(v, symbols, f"{where}.{k}") for k, v in args.items()}
    try:
        if kind == "normal":
            mean = parsed.pop("mean", 0)
            var = parsed.pop("var", 1)
            return dist.Normal(mean, var, **parsed)
        return dist.LAWS[kind](**parsed)
    except SpecError as err:
        raise err.at(where) from None


def _parse_network(table: dict, symbols: dict) -> Network:
    if not isinstance(table, dict):
        raise SpecError("missing [network] table", "network")
    _unknown_keys(table, _NETWORK_KEYS, "network")
    if "input_dim" not in table:
        raise SpecError("missing input_dim", "network")
    layers_t = table.get("layers")
    if not isinstance(layers_t, list) or not layers_t:
        raise SpecError("needs at least one [[network.layers]] entry", "network.layers")

    def size(value, where):
        expr = parse_expression(value, symbols, where)
        return int(expr) if expr.is_number and expr.is_integer else expr

    input_dim = size(table["input_dim"], "network.input_dim")
    layers = []
    for i, lt in enumerate(layers_t):
        where = f"network.layers[{i}]"
        if not isinstance(lt, dict):
            raise SpecError("each layer is a table", where)
        _unknown_keys(lt, _LAYER_KEYS, where)
        if "width" not in lt:
            raise SpecError("missing width", where)
        try:
            layers.append(Dense(size(lt["width"], f"{where}.width"), lt.get("activation", "identity"),
                                weight=parse_law(lt.get("weight"), symbols, f"{where}.weight"),
                                bias=parse_law(lt.get("bias"), symbols, f"{where}.bias")))
        except SpecError as err:
            raise (err if err.where and err.where.startswith("network") else err.at(where)) from None
    try:
        return Network(input_dim, layers, name=table.get("name"))
    except SpecError as err:
        raise (err if err.where and err.where.startswith("network") else err.at("network")) from None


def _parse_orders(value, where) -> list[int]:
    orders = value if isinstance(value, list) else [value]
    for k in orders:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1 or k > 8:
            raise SpecError(f"correlator orders must be integers in 1..8, got {k!r}", where)
    return orders


def _parse_claims(items, symbols, network: Network) -> list[Claim]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise SpecError("use [[claims]] entries", "claims")
    claims = []
    for i, ct in enumerate(items):
        where = f"claims[{i}]"
        _unknown_keys(ct, _CLAIM_KEYS, where)
        on = Side.parse(ct.get("on"), f"{where}.on")
        expect = Expectation.parse(ct.get("expect"), f"{where}.expect")
        dim = network.dimension(on)
        fix = ct.get("fix")
        if fix is not None:
            fix = [parse_expression(v, symbols, f"{where}.fix[{j}]") for j, v in enumerate(fix)]
        try:
            group = parse_group(ct.get("group", ""), dim=dim, symbols=symbols, fix=fix)
        except SpecError as err:
            raise err.at(where) from None
        correlator = CorrelatorKind.parse(ct.get("correlator", "function"), f"{where}.correlator")
        claims.append(Claim(group, on, expect, _parse_orders(ct.get("orders", [2, 4]), f"{where}.orders"),
                            str(ct.get("note", "")), bool(ct.get("finite_width", True)), correlator))
    return claims


def _parse_montecarlo(table, network: Network, values: dict) -> dict:
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise SpecError("must be a table", "montecarlo")
    _unknown_keys(table, _MC_KEYS, "montecarlo")
    out = dict(table)
    for key in ("networks", "chunk", "group_samples"):
        if key in out and (isinstance(out[key], bool) or not isinstance(out[key], int) or out[key] < 1):
            raise SpecError(f"must be a positive integer, got {out[key]!r}", f"montecarlo.{key}")
    if "seed" in out and (isinstance(out["seed"], bool) or not isinstance(out["seed"], int) or out["seed"] < 0):
        raise SpecError(f"must be a non-negative integer, got {out['seed']!r}", "montecarlo.seed")
    if "alpha" in out and not (isinstance(out["alpha"], (int, float)) and 0 < out["alpha"] < 1):
        raise SpecError(f"significance level must be in (0, 1), got {out['alpha']!r}", "montecarlo.alpha")
    if "orders" in out:
        out["orders"] = _parse_orders(out["orders"], "montecarlo.orders")
    if "inputs" in out:
        pts = out["inputs"]
        d = network.subs(values).input_dim
        if not isinstance(pts, list) or not pts:
            raise SpecError("inputs must be a non-empty list of points", "montecarlo.inputs")
        pts = [p if isinstance(p, list) else [p] for p in pts]
        for j, p in enumerate(pts):
            if isinstance(d, int) and len(p) != d:
                raise SpecError(f"point has {len(p)} coordinates, the network input dimension is {d}",
                                f"montecarlo.inputs[{j}]")
            for v in p:
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise SpecError(f"coordinates must be finite numbers, got {v!r}", f"montecarlo.inputs[{j}]")
        out["inputs"] = [[float(v) for v in p] for p in pts]
    return out


def parse_spec(data: dict, path: Path | None = None) -> SpecDocument:
    """Validate and build a :class:`SpecDocument` from a parsed TOML table."""
    if not isinstance(data, dict):
        raise SpecError("a spec file is a TOML table")
    _unknown_keys(data, _TOP_KEYS, "spec")
    symbols = _parse_symbols(data.get("symbols", {}))
    values = _parse_values(data.get("values", {}), symbols)
    network = _parse_network(data.get("network"), symbols)
    claims = _parse_claims(data.get("claims"), symbols, network)
    montecarlo = _parse_montecarlo(data.get("montecarlo"), network, values)
    experiment = data.get("experiment")
    if experiment is not None and (not isinstance(experiment, dict) or "kind" not in experiment):
        raise SpecError("[experiment] needs a 'kind'", "experiment")
    return SpecDocument(title=str(data.get("title", path.stem if path else "untitled")),
                        result=str(data.get("result", "")), description=str(data.get("description", "")),
                        symbols=symbols, values=values, network=network, claims=claims,
                        montecarlo=montecarlo, experiment=experiment, path=path)


#: the largest spec file read (spec files are a few kilobytes; this bounds the work a file can cause)
MAX_SPEC_BYTES = 1 << 20


def _decode(raw: bytes, path: Path) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SpecError(f"{path}: the file is UTF-16 text; save it as UTF-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 1]!r}); a spec file "
                        "is TOML in UTF-8") from None


def load_spec(path) -> SpecDocument:
    """Read and validate a TOML spec file; errors name the file and the field (an unreadable, non-UTF-8,
    oversized or too deeply nested file included)."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"spec file not found: {path}")
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise SpecError(f"{path}: {size} bytes; spec files are at most {MAX_SPEC_BYTES} bytes")
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(_decode(raw, path))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:
        raise SpecError(f"{path}: arrays or tables are nested too deeply to be a spec file") from None
    try:
        return parse_spec(data, path)
    except SpecError as err:
        raise err.in_file(path.name) from None
