"""The layout of symcorr.symbolic: imports point down and sit at module top level, no module is over
about 500 lines, and every public name is importable from the package."""

import ast
import importlib
import sys
from pathlib import Path

import pytest

import symcorr.symbolic as symbolic

PACKAGE = Path(symbolic.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
#: the layers below symcorr.symbolic (BRIEF: errors/verdicts/... -> distributions, activations, groups,
#: gaussian -> spec -> symbolic)
BELOW = {"errors", "verdicts", "expressions", "combinatorics", "rng", "budget", "gaussian", "distributions",
         "activations", "groups", "spec"}
#: function-level imports that are not there to dodge a cycle: (module, imported module, why)
LAZY = {("quadrature", "scipy"): "scipy.integrate costs ~0.6 s to import; only rank-one quadrature needs it"}


def _tree(module: str) -> ast.Module:
    return ast.parse((PACKAGE / f"{module}.py").read_text())


def _imports(node) -> list[tuple[int, str]]:
    """(level, module) of the import statements in ``node``'s subtree."""
    out = []
    for n in ast.walk(node):
        if isinstance(n, ast.ImportFrom):
            out.append((n.level, n.module or ""))
        elif isinstance(n, ast.Import):
            out.extend((0, a.name) for a in n.names)
    return out


def _sibling_imports(module: str) -> set[str]:
    """symcorr.symbolic modules that ``module`` imports at top level."""
    out = set()
    for level, name in _imports(_tree(module)):
        if level == 1:
            out.add(name.split(".")[0] if name else "__init__")
    return out


def test_imports_sit_at_module_top_level():
    for module in MODULES:
        tree = _tree(module)
        top = {id(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))}
        for n in ast.walk(tree):
            if isinstance(n, (ast.Import, ast.ImportFrom)) and id(n) not in top:
                name = n.module if isinstance(n, ast.ImportFrom) else n.names[0].name
                assert (module, (name or "").split(".")[0]) in LAZY, \
                    f"symcorr.symbolic.{module} imports {name!r} inside a function (line {n.lineno})"


def test_the_symbolic_modules_form_no_import_cycle():
    graph = {m: _sibling_imports(m) for m in MODULES}
    assert all(not (deps - set(MODULES)) for deps in graph.values()), graph
    done: set = set()

    def visit(m, path):
        assert m not in path, f"import cycle: {' -> '.join(path + [m])}"
        if m not in done:
            for dep in graph[m]:
                visit(dep, path + [m])
            done.add(m)

    for m in MODULES:
        visit(m, [])


def test_the_symbolic_modules_import_only_lower_layers():
    for module in MODULES:
        for level, name in _imports(_tree(module)):
            if level == 2:  # from ..x import ...
                assert name.split(".")[0] in BELOW, f"symcorr.symbolic.{module} imports symcorr.{name}"
            elif level == 0:
                assert not name.startswith("symcorr"), f"symcorr.symbolic.{module} imports {name} absolutely"


def test_the_layout_checks_can_fail(tmp_path, monkeypatch):
    """The checks above see a function-level import and a cycle when there is one."""
    fake = tmp_path / "pkg"
    fake.mkdir()
    (fake / "a.py").write_text("from .b import g\n\ndef f():\n    from .c import h\n    return h\n")
    (fake / "b.py").write_text("from .a import f\n")
    (fake / "c.py").write_text("")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    monkeypatch.setattr(sys.modules[__name__], "MODULES", ["a", "b", "c"])
    with pytest.raises(AssertionError, match="inside a function"):
        test_imports_sit_at_module_top_level()
    with pytest.raises(AssertionError, match="import cycle"):
        test_the_symbolic_modules_form_no_import_cycle()


@pytest.mark.parametrize("module", MODULES)
def test_no_module_is_over_500_lines_without_a_reason(module):
    text = (PACKAGE / f"{module}.py").read_text()
    lines = text.count("\n")
    assert lines <= 500 or "must stay one module" in text[:3000], f"{module}.py has {lines} lines"


def test_every_public_name_is_importable_from_the_package():
    for name in symbolic.__all__:
        assert hasattr(symbolic, name), name
    for module in MODULES:
        mod = importlib.import_module(f"symcorr.symbolic.{module}")
        for name in getattr(mod, "__all__", []):
            assert hasattr(mod, name), f"symcorr.symbolic.{module}.{name}"
