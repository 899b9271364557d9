"""A small Markdown report builder: sections, paragraphs, tables, math and figures in one folder."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Sequence

__all__ = ["Report", "markdown_table"]


def _cell(value) -> str:
    text = str(value)
    return text.replace("|", r"\|").replace("\n", " ")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(_cell(h) for h in headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        row = list(row)
        if len(row) != len(headers):
            raise ValueError(f"table row has {len(row)} cells, expected {len(headers)}")
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return "\n".join(lines)


class Report:
    """Collects Markdown blocks; figures are saved next to ``report.md`` in ``out_dir``."""

    def __init__(self, title: str, out_dir):
        self.title = title
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.blocks: list[str] = [f"# {title}"]

    def section(self, title: str, level: int = 2) -> "Report":
        self.blocks.append("#" * level + " " + title)
        return self

    def text(self, markdown: str) -> "Report":
        self.blocks.append(markdown.strip())
        return self

    def math(self, latex: str) -> "Report":
        self.blocks.append(f"$$\n{latex}\n$$")
        return self

    def table(self, headers: Sequence[str], rows: Iterable[Sequence]) -> "Report":
        self.blocks.append(markdown_table(headers, rows))
        return self

    def figure_path(self, name: str) -> Path:
        """Where to save a figure called ``name`` (letters, digits, '-', '_', '.')."""
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ValueError(f"figure name {name!r} must use letters, digits, '-', '_' and '.' only")
        return self.out_dir / name

    def image(self, path, caption: str) -> "Report":
        path = Path(path)
        rel = path.relative_to(self.out_dir) if path.is_absolute() and self.out_dir in path.parents else path
        self.blocks.append(f"![{caption}]({rel.as_posix()})\n\n*{caption}*")
        return self

    def markdown(self) -> str:
        return "\n\n".join(self.blocks) + "\n"

    def write(self, name: str = "report.md") -> Path:
        path = self.out_dir / name
        path.write_text(self.markdown(), encoding="utf-8")
        return path
