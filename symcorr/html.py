r"""Markdown with LaTeX mathematics as one self-contained HTML page (MathML, a table of contents).

A symcorr report is Markdown with ``$...$`` and ``$$...$$`` mathematics.  :func:`markdown_to_html`
parses it with markdown-it-py (CommonMark plus tables and the dollar-math plugin of mdit-py-plugins),
converts every formula to MathML with latex2mathml (browsers render MathML natively: no JavaScript, no
network access), numbers nothing, and adds

* a table of contents of the ``##`` and ``###`` headings, each heading with an anchor;
* figures as relative links (the page lives next to them), or embedded as data URIs with ``embed=True``;
* a small style sheet (readable line length, scrolling for wide tables and formulas).

A formula latex2mathml cannot convert is shown as its source in a ``<code>`` element with the class
``tex-error`` and counted in :attr:`HtmlPage.math_errors`, so a test can require zero.
"""

from __future__ import annotations

import base64
import html
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path

import latex2mathml.converter
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

__all__ = ["markdown_to_html", "HtmlPage"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 62rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #1a1a1a; }
h1, h2, h3, h4 { line-height: 1.25; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
table { border-collapse: collapse; display: block; overflow-x: auto; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; vertical-align: top; }
th { background: #f3f3f3; } tr:nth-child(even) td { background: #fafafa; }
math[display="block"] { display: block; overflow-x: auto; overflow-y: hidden; margin: .8rem 0; }
code { background: #f4f4f4; padding: 0 .2rem; } pre { background: #f4f4f4; padding: .6rem; overflow-x: auto; }
img { max-width: 100%; } figure { margin: 1rem 0; } figcaption { font-style: italic; color: #444; }
nav.toc { background: #f8f8f8; border: 1px solid #e2e2e2; padding: .5rem 1rem; }
nav.toc ul { margin: .2rem 0; } .tex-error { color: #a00; }
mtd[columnalign="left"] { text-align: left; } mtd[columnalign="right"] { text-align: right; }
"""


@dataclass
class HtmlPage:
    """The rendered page: ``html`` (the document), ``math`` (formulas converted), ``math_errors``
    (formulas left as source), ``headings`` (level, text, anchor) of the table of contents."""

    html: str
    math: int = 0
    math_errors: list[str] = field(default_factory=list)
    headings: list[tuple[int, str, str]] = field(default_factory=list)


def _slug(text: str, used: set) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    slug, k = base, 2
    while slug in used:
        slug, k = f"{base}-{k}", k + 1
    used.add(slug)
    return slug


def _math(latex: str, display: bool, page: HtmlPage) -> str:
    # latex2mathml turns ``split`` (not ``aligned``) into a MathML table; both align rows at ``&``
    source = latex.strip().replace("\\begin{aligned}", "\\begin{split}").replace("\\end{aligned}", "\\end{split}")
    try:
        out = latex2mathml.converter.convert(source, display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises many exception types; the formula is shown as source
        page.math_errors.append(f"{type(exc).__name__}: {latex[:200]}")
        return f'<code class="tex-error">{html.escape(latex)}</code>'
    page.math += 1
    return out


def markdown_to_html(markdown: str, *, title: str = "symcorr report", base_dir=None, embed: bool = False) -> HtmlPage:
    """Render ``markdown`` (module docstring).  ``base_dir``: where relative image links point (needed for
    ``embed=True``)."""
    page = HtmlPage("")
    md = MarkdownIt("commonmark", {"html": False}).enable("table").use(dollarmath_plugin, allow_space=True,
                                                                       double_inline=True)
    md.add_render_rule("math_inline", lambda self, tokens, idx, options, env: _math(tokens[idx].content, False, page))
    md.add_render_rule("math_inline_double",
                       lambda self, tokens, idx, options, env: _math(tokens[idx].content, True, page))
    md.add_render_rule("math_block", lambda self, tokens, idx, options, env: _math(tokens[idx].content, True, page))
    md.add_render_rule("math_block_label",
                       lambda self, tokens, idx, options, env: _math(tokens[idx].content, True, page))
    tokens = md.parse(markdown)
    used: set = set()
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            inline = tokens[i + 1]
            text = "".join(c.content for c in (inline.children or []) if c.type in ("text", "code_inline"))
            anchor = _slug(text, used)
            tok.attrSet("id", anchor)
            page.headings.append((int(tok.tag[1]), text, anchor))
        if tok.type == "inline" and tok.children:
            for child in tok.children:
                if child.type == "image":
                    src = str(child.attrGet("src") or "")
                    if embed and base_dir is not None and not re.match(r"^[a-z]+:", src):
                        path = Path(base_dir) / src
                        if path.is_file():
                            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                            data = base64.b64encode(path.read_bytes()).decode("ascii")
                            child.attrSet("src", f"data:{mime};base64,{data}")
    body = md.renderer.render(tokens, md.options, {})
    toc = "".join(
        f'<li style="margin-left:{(level - 2) * 1.2}rem"><a href="#{anchor}">{html.escape(text)}</a></li>'
        for level, text, anchor in page.headings if level in (2, 3))
    nav = f'<nav class="toc"><strong>Contents</strong><ul>{toc}</ul></nav>' if toc else ""
    page.html = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                 f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                 f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>\n"
                 f"<body>\n{nav}\n{body}</body></html>\n")
    return page
