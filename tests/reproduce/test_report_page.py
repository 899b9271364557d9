"""What a reader of ``symcorr reproduce`` sees: a report of bounded size with short lines, long inputs
summarised, vector parameters named once, and ``report.html`` rendered by a real browser with its math as
MathML, its figures shown and no raw TeX."""

import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
from browser import rendered_dom, screenshot, visible_text  # noqa: E402

from symcorr.reproduce import reproduce  # noqa: E402

from .test_driver import VERTEX  # noqa: E402  (a small finite-width experiment: a table and a figure)

#: issue 11: the default report is under 80 KB with no line over 1,000 characters
MAX_BYTES = 80_000
MAX_LINE = 1000

# a read-out mean on some rows (a vector parameter) and 784-dimensional Monte Carlo inputs (a long list)
MEAN_SPEC = textwrap.dedent("""
    title = "A read-out mean on three of ten rows"
    [symbols]
    N = "positive integer"
    mu = "real"
    [values]
    N = 4
    mu = 0.2
    [network]
    input_dim = 784
    [[network.layers]]
    width = "N"
    activation = "relu"
    weight = { law = "normal", var = "1/784" }
    [[network.layers]]
    width = 10
    weight = { law = "normal", mean = ["mu", "mu", "mu", 0, 0, 0, 0, 0, 0, 0], var = "1/N" }
    [[claims]]
    group = "SO"
    on = "output"
    expect = "broken"
    orders = [1, 2]
    [[claims]]
    group = "SO"
    on = "input"
    expect = "invariant"
    orders = [2]
    [montecarlo]
    networks = 2500
    seed = 2
    group_samples = 2
    inputs = [INPUTS]
""")



@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("page")
    specs = root / "specs"
    specs.mkdir()
    rng = np.random.default_rng(0)
    inputs = ", ".join("[" + ", ".join(f"{v:.6f}" for v in rng.normal(size=784)) + "]" for _ in range(3))
    (specs / "mean.toml").write_text(MEAN_SPEC.replace("INPUTS", inputs))
    (specs / "vertex.toml").write_text(VERTEX)
    checks = reproduce(root / "out", derivations=specs, progress=False, log=None)
    return root / "out", checks


def test_every_row_is_a_check_and_they_agree(report):
    _, checks = report
    assert checks and all(c.agrees for c in checks)


def test_size_and_lines_are_bounded_and_long_inputs_are_summarised(report):
    out, _ = report
    for page in [out / "report.md", *sorted((out / "specs").glob("*.md"))]:
        text = page.read_text()
        assert len(text.encode()) < MAX_BYTES, page.name
        longest = max(len(line) for line in text.splitlines())
        assert longest <= MAX_LINE, (page.name, longest)
    text = (out / "report.md").read_text()
    assert "784" in text and "norm" in text  # the inputs: their dimension and norms, not 2,352 floats
    assert len(re.findall(r"-?\d\.\d{6}", text)) < 50


def test_a_vector_parameter_is_named_once(report):
    out, _ = report
    page = (out / "specs" / "mean.md").read_text()
    blocks = re.findall(r"\\begin\{matrix\}(.*?)\\end\{matrix\}", page)
    with_mean = [b for b in blocks if r"\mu" in b]
    assert len(with_mean) <= 2, len(with_mean)  # in the law table, not in every term
    assert not any("\\\\" in b for b in with_mean)  # and never as a 10-row column
    definitions = page.count(r"\mu^{W}_{a} &= \mu")
    assert definitions >= 1  # named mu^W_a and defined beside the equations that use it


def test_the_browser_shows_math_figures_and_a_table_of_contents(report, tmp_path):
    import matplotlib.image as mpimg

    out, _ = report
    page = out / "report.html"
    dom = rendered_dom(page)
    assert dom.count("<math") >= 5
    text = visible_text(dom)
    assert "Summary" in text and "Contents" in text
    assert "$" not in text and "\\frac" not in text and "\\begin" not in text
    images = re.findall(r'<img[^>]+src="([^"]+)"', dom)
    assert images, "the finite-width figure is missing"
    for src in images:
        assert src.startswith("data:image/png;base64,") or (page.parent / src).is_file(), src
    # every spec's derivation page renders too
    for spec_page in sorted((out / "specs").glob("*.html")):
        spec_text = visible_text(rendered_dom(spec_page))
        assert "$" not in spec_text and "\\frac" not in spec_text, spec_page.name
    png = screenshot(page, tmp_path / "report.png", size=(1000, 1400))
    pixels = mpimg.imread(png)
    assert float(np.std(pixels[..., :3])) > 0.05  # a rendered page, not a blank one


def test_every_shipped_derivation_page_has_short_lines():
    """The spec pages of the main job (derive reports of every shipped spec): no line over 1,000
    characters (a 4 x 4 covariance of an unevaluated Gaussian expectation once made one of 2,159)."""
    from symcorr.claims import derive_report
    from symcorr.reproduce import default_derivations

    for path in sorted(default_derivations().glob("*.toml")):
        text = derive_report(path, "md", (2, 4))
        longest = max(len(line) for line in text.splitlines())
        assert longest <= MAX_LINE, (path.name, longest)
