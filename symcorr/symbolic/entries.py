r"""Vector and matrix parameters printed as named entries, defined once.

A read-out mean that differs from row to row (the paper's :math:`\mu_{W^1}` on the first ``k`` of 10
rows) enters the correlators as :math:`E[W_{a j}] = \mu_a`.  With a symbolic output index ``a`` SymPy
would print the whole column vector inside every term; instead the vector is a :class:`NamedEntry`
function ``mu^{W}(a)`` printed :math:`\mu^{W}_{a}`, which

* evaluates to the number at integer indices (so substituting ``a = 0`` gives the entry, and numeric
  evaluation sees plain numbers), and
* stays an unevaluated named entry at symbolic indices, with its definition given once
  (:func:`entry_definitions`): :math:`\mu^{W}_{a} = \mu` for :math:`a \in \{0, 1, 2\}`, :math:`0` otherwise.

:func:`named_entries` caches the function class per (name, values), so equal parameters give equal
expressions.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

__all__ = ["NamedEntry", "named_entries", "entry_definitions"]


class NamedEntry(sp.Function):
    """An entry of a named vector (one index) or matrix (two indices) parameter."""

    _values: sp.ImmutableMatrix = sp.ImmutableMatrix([[0]])
    _tex = "M"
    _label = "M"
    is_real = True

    @classmethod
    def eval(cls, *index):
        if all(getattr(i, "is_Integer", False) for i in index):
            m = cls._values
            if len(index) == 1:
                return m[int(index[0]), 0] if m.cols == 1 else m[0, int(index[0])]
            return m[int(index[0]), int(index[1])]
        return None

    def _latex(self, printer):
        sub = "".join(printer._print(i) for i in self.args)
        return f"{self._tex}_{{{sub}}}"

    def _sympystr(self, printer):
        return f"{self._label}[{', '.join(printer._print(i) for i in self.args)}]"

    @classmethod
    def definition_latex(cls) -> str:
        """``\\mu^{W}_{a} = \\mu\\ (a \\in \\{0, 1, 2\\}),\\ 0\\ \\text{otherwise}`` (vectors) or the matrix."""
        m = cls._values
        if 1 in m.shape:
            values = list(m)
            groups: dict = {}
            for i, v in enumerate(values):
                groups.setdefault(v, []).append(i)
            common = max(groups, key=lambda v: len(groups[v]))
            parts = [rf"{sp.latex(v)}\ \left(a \in \{{{', '.join(map(str, idx))}\}}\right)"
                     for v, idx in groups.items() if v != common]
            tail = rf"{sp.latex(common)}\ \text{{otherwise}}" if parts else sp.latex(common)
            return rf"{cls._tex}_{{a}} = " + r",\ ".join(parts + [tail])
        return rf"{cls._tex}_{{ab}} = \left[{sp.latex(m)}\right]_{{ab}}"


@lru_cache(maxsize=256)
def _entry_class(tex: str, label: str, values: sp.ImmutableMatrix) -> type:
    return type(f"NamedEntry_{label}", (NamedEntry,), {"_values": values, "_tex": tex, "_label": label})


def named_entries(tex: str, label: str, matrix) -> type:
    """The function class of a named parameter: ``tex`` its LaTeX name (``\\mu^{W}``), ``label`` a plain
    name (``muW``), ``matrix`` its values (a column vector or a square matrix)."""
    return _entry_class(tex, label, sp.ImmutableMatrix(matrix))


def entry_definitions(expr) -> list[str]:
    """The LaTeX definitions of the named parameters that appear in ``expr``, each once."""
    seen: list = []
    for atom in sp.sympify(expr).atoms(sp.Function):
        cls = type(atom)
        if issubclass(cls, NamedEntry) and cls not in seen:
            seen.append(cls)
    return [cls.definition_latex() for cls in sorted(seen, key=lambda c: c._label)]
