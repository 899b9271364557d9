"""symcorr.report."""

import pytest

from symcorr.report import Report, markdown_table


def test_table_escapes_pipes_and_checks_widths():
    assert markdown_table(["a", "b"], [[1, "x|y"]]).splitlines()[2] == r"| 1 | x\|y |"
    with pytest.raises(ValueError, match="2 cells"):
        markdown_table(["a"], [[1, 2]])


def test_report_writes_markdown_with_relative_figures(tmp_path):
    rep = Report("T", tmp_path)
    rep.section("S").text("hello").math("x^2").table(["h"], [["v"]])
    fig = rep.figure_path("f.png")
    fig.write_bytes(b"png")
    rep.image(fig, "cap")
    path = rep.write()
    text = path.read_text()
    assert text.startswith("# T") and "## S" in text and "$$\nx^2\n$$" in text and "![cap](f.png)" in text
    with pytest.raises(ValueError, match="letters"):
        rep.figure_path("../evil.png")
