"""The layering of symcorr.duality, read from the source: imports point down only (no cycle between its
modules, no import inside a function to dodge one), and decisions compare typed members, never the bare
strings of sides, correlator kinds, verdicts, step statuses or group families."""

import ast
from pathlib import Path

import pytest

import symcorr.duality

PACKAGE = Path(symcorr.duality.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")

#: the strings that have a typed member (symcorr.verdicts, Family, Multiplication, WitnessKind, ...)
TYPED_STRINGS = {"input", "output", "function", "ntk", "proven", "refuted", "undecided", "invariant", "broken",
                 "established", "fails", "open", "info", "SO", "O", "S", "B", "T", "right", "left",
                 "input-linear", "output-linear", "input-translation", "output-translation", "correlator",
                 "quadrature", "ntk-mean", "kernel", "structural", "mean", "weight", "bias", "monotone",
                 "inverse-width", "gp-kernel", "output-mean", "variance", "first-metric", "width-series", "contrast",
                 "decides"}


def _tree(name):
    return ast.parse((PACKAGE / f"{name}.py").read_text())


def _duality_imports(tree, name):
    """The sibling modules a module imports at its top level (``from .x import``, ``from . import x``)."""
    out = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                out.add(node.module.split(".")[0])
            else:
                out |= {a.name for a in node.names}
    return out - {name}


def test_the_modules_import_each_other_without_a_cycle():
    graph = {m: _duality_imports(_tree(m), m) for m in MODULES}
    assert graph["catalogue"] >= {"decision"} and "prover" not in graph["catalogue"]
    assert "catalogue" not in graph["decision"] and "prover" not in graph["decision"]
    order, state = [], {}

    def visit(m, path):
        if state.get(m) == "done":
            return
        assert state.get(m) != "active", "import cycle: " + " -> ".join(path + [m])
        state[m] = "active"
        for dep in sorted(graph[m]):
            visit(dep, path + [m])
        state[m] = "done"
        order.append(m)

    for m in MODULES:
        visit(m, [])
    assert order.index("decision") < order.index("catalogue") < order.index("prover")
    assert order.index("render") < order.index("prover")


def _function_level_imports(tree):
    """(function, module) for every import of a symcorr module inside a function body."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and (inner.level > 0 or (inner.module or "").startswith("symcorr")):
                    out.append((node.name, inner.module))
    return out


def _bare_comparisons(tree):
    """(line, string) for every comparison with a string that has a typed member."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                values = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
                out += [(node.lineno, v.value) for v in values
                        if isinstance(v, ast.Constant) and v.value in TYPED_STRINGS]
    return out


def _broad_handlers(tree):
    """Lines of ``except:``, ``except Exception`` and ``except BaseException`` handlers."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler):
            names = list(node.type.elts) if isinstance(node.type, ast.Tuple) else [node.type]
            if node.type is None or any(isinstance(t, ast.Name) and t.id in ("Exception", "BaseException")
                                        for t in names):
                out.append(node.lineno)
    return out


@pytest.mark.parametrize("name", MODULES + ["__init__"])
def test_no_function_level_imports_of_symcorr(name):
    assert _function_level_imports(_tree(name)) == []


@pytest.mark.parametrize("name", MODULES)
def test_no_comparison_with_a_bare_typed_string(name):
    assert _bare_comparisons(_tree(name)) == []


@pytest.mark.parametrize("name", MODULES)
def test_exception_handlers_are_narrow(name):
    """``except Exception`` appears once, in engines.run_engine (the boundary that makes failures visible)."""
    assert len(_broad_handlers(_tree(name))) == (1 if name == "engines" else 0)


def test_the_source_checks_flag_a_bad_module():
    """Each check above can fail: a cycle-dodging import, a bare comparison, a broad handler."""
    tree = ast.parse("def f(on):\n    from .prover import prove_invariance\n    try:\n"
                     "        return on in ('input', 'output') or prove_invariance == 'proven'\n"
                     "    except Exception:\n        pass\n")
    assert _function_level_imports(tree) == [("f", "prover")]
    assert [v for _, v in _bare_comparisons(tree)] == ["input", "output", "proven"]
    assert _broad_handlers(tree) == [5]
