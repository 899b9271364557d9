"""The package's import graph: no cycles, no library module importing the CLI, layers only point down.

The graph is built statically from every ``import`` statement in symcorr/ (module level and inside
functions alike: an import moved into a function to dodge a cycle is still a cycle).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "symcorr"

#: the layers, from the bottom up; a module may import its own layer and the ones below it
LAYERS = [
    ["symcorr.errors", "symcorr.verdicts", "symcorr.expressions", "symcorr.combinatorics", "symcorr.rng",
     "symcorr.runtime", "symcorr.progress", "symcorr.report", "symcorr.data", "symcorr.optim",
     "symcorr.outputs", "symcorr.html", "symcorr.version", "symcorr.budget", "symcorr.notebook",
     "symcorr.distributed"],
    ["symcorr.distributions", "symcorr.activations", "symcorr.groups", "symcorr.gaussian", "symcorr.torch_models",
     "symcorr.tensor_groups"],
    ["symcorr.spec", "symcorr"],
    ["symcorr.specfile", "symcorr.zoo", "symcorr.symbolic", "symcorr.deep", "symcorr.montecarlo"],
    ["symcorr.duality", "symcorr.ntk", "symcorr.training", "symcorr.testing"],
    ["symcorr.experiments"],
    ["symcorr.claims"],
    ["symcorr.reproduce"],
    ["symcorr.cli", "symcorr.__main__"],
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def import_graph() -> dict[str, set[str]]:
    """``module -> {symcorr modules it imports}`` (a ``from pkg import name`` that names a submodule is
    an edge to that submodule)."""
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = _resolve(module, is_package, node.level, node.module)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            for t in targets:
                while t and t not in modules:  # `import symcorr.a.b` where b is not a module file
                    t = t.rpartition(".")[0]
                if t and t != module and t.startswith("symcorr"):
                    graph[module].add(t)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _layer(module: str) -> int:
    best, rank = -1, None
    for i, names in enumerate(LAYERS):
        for prefix in names:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), i
    if rank is None:
        raise AssertionError(f"{module} is in no layer of tests/test_architecture.py: add it to LAYERS")
    return rank


def test_the_graph_sees_known_edges():
    graph = import_graph()
    assert "symcorr.errors" in graph["symcorr.spec"]
    assert "symcorr.spec" in graph["symcorr.montecarlo.ensemble"]
    assert any(m.startswith("symcorr.duality") for m in graph["symcorr.claims"])


def test_no_import_cycles():
    assert _cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_library_module_imports_the_cli():
    bad = sorted(f"{m} -> {t}" for m, ts in import_graph().items() for t in ts
                 if t.startswith("symcorr.cli") and not m.startswith("symcorr.cli") and m != "symcorr.__main__")
    assert bad == []


def test_every_module_has_a_layer():
    for module in import_graph():
        _layer(module)


def test_imports_only_point_down():
    upward = sorted(f"{m} (layer {_layer(m)}) -> {t} (layer {_layer(t)})"
                    for m, ts in import_graph().items() for t in ts if _layer(t) > _layer(m))
    assert upward == []


@pytest.mark.parametrize("module,target", [("symcorr.spec", "symcorr.cli"), ("symcorr.groups", "symcorr.spec")])
def test_the_layer_rule_rejects_upward_edges(module, target):
    assert _layer(target) > _layer(module)


_VOCABULARY = ("proven", "refuted", "undecided", "input", "output", "invariant", "broken", "function", "ntk",
               "standard", "established", "fails")
_BARE = re.compile(r"""(==|!=|\bin\s*\(|\bnot in\s*\()\s*["'](%s)["']""" % "|".join(_VOCABULARY))


def bare_vocabulary_comparisons(source: str) -> list[str]:
    """Lines comparing with a bare verdict / side / kind literal (use the enums of symcorr.verdicts)."""
    out = []
    for number, line in enumerate(source.splitlines(), 1):
        code = line.split("#", 1)[0]
        if _BARE.search(code) and not code.lstrip().startswith(("r\"", "\"", "'", "``")):
            out.append(f"{number}: {line.strip()}")
    return out


def test_decisions_compare_typed_values_not_bare_strings():
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.name == "verdicts.py":
            continue
        found += [f"{path.relative_to(ROOT.parent)}:{hit}" for hit in bare_vocabulary_comparisons(path.read_text())]
    assert found == []


def test_the_bare_comparison_finder_finds_one():
    assert bare_vocabulary_comparisons('if on == "input":\n    pass\nx = Side.INPUT') == ['1: if on == "input":']
