"""symcorr.html: Markdown with LaTeX as an HTML page with MathML, checked in a real browser."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from browser import rendered_dom, screenshot, visible_text  # noqa: E402

from symcorr.html import markdown_to_html  # noqa: E402

SAMPLE = r"""# Title

## Kernel

The arcsine kernel $K(x,y) = \frac{2}{\pi}\arcsin\frac{2k_{12}}{\sqrt{(1+2k_{11})(1+2k_{22})}}$ and

$$
G^{(4)} = \sum_{\text{pairings}} \delta_{ab}\delta_{cd} K_{12}K_{34} + \frac{\sigma^4}{N}\left(m_4 - k_{12}k_{34}\right)
$$

### A table

| N | $G_4$ | price |
|---|---|---|
| 5 | $44.16$ | costs \$3 |

![A figure](plot.png)

*A caption.*
"""


def test_math_becomes_mathml_and_headings_get_a_table_of_contents(tmp_path):
    page = markdown_to_html(SAMPLE, title="t")
    assert page.math == 4 and page.math_errors == []
    assert page.html.count("<math") == 4 and "\\frac" not in page.html.split("<math")[0]
    assert [h[:2] for h in page.headings] == [(1, "Title"), (2, "Kernel"), (3, "A table")]
    assert '<a href="#kernel">' in page.html and 'id="kernel"' in page.html
    assert 'src="plot.png"' in page.html


def test_embedding_figures_as_data_uris(tmp_path):
    (tmp_path / "plot.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    page = markdown_to_html(SAMPLE, base_dir=tmp_path, embed=True)
    assert 'src="data:image/png;base64,' in page.html


def test_a_formula_that_cannot_be_converted_is_counted_not_hidden():
    page = markdown_to_html(r"bad $\frac{1}{$ formula and $x$")
    assert page.math_errors or page.math >= 1  # either counted as an error or converted: never silently raw
    if page.math_errors:
        assert 'class="tex-error"' in page.html


def test_the_browser_shows_no_raw_tex(tmp_path):
    out = tmp_path / "page.html"
    out.write_text(markdown_to_html(SAMPLE).html, encoding="utf-8")
    text = visible_text(rendered_dom(out))
    assert "Kernel" in text and "A caption." in text and "costs $3" in text.replace("\xa0", " ")
    raw = text.replace("costs $3", "")
    assert "$" not in raw and "\\frac" not in raw and "\\sum" not in raw
    # and the check itself can fail: a page with raw TeX is caught
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><p>$\\frac{1}{2}$</p></body></html>", encoding="utf-8")
    assert "\\frac" in visible_text(rendered_dom(bad))


def test_a_screenshot_shows_a_rendered_page(tmp_path):
    import matplotlib.image as mpimg

    out = tmp_path / "page.html"
    out.write_text(markdown_to_html(SAMPLE).html, encoding="utf-8")
    png = screenshot(out, tmp_path / "shot.png", size=(900, 700))
    pixels = mpimg.imread(png)
    assert pixels.shape[0] == 700 and pixels.shape[1] == 900
    assert float(np.std(pixels[..., :3])) > 0.05  # not a blank page
