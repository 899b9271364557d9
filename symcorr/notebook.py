"""Notebook display: objects with a ``markdown()`` view show it in Jupyter (tables, formulas rendered).

:class:`MarkdownDisplay` gives a class ``_repr_markdown_`` from its ``markdown()`` method; such classes also
define a short ``__repr__`` (one line, no tensor dumps).
"""

from __future__ import annotations

__all__ = ["MarkdownDisplay"]


class MarkdownDisplay:
    """Mixin: ``_repr_markdown_`` is ``self.markdown()``."""

    def _repr_markdown_(self) -> str:
        return self.markdown()  # type: ignore[attr-defined]
