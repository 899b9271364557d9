"""docs/examples/notebook.ipynb runs in a Jupyter kernel and every result shows as rich output."""

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "examples" / "notebook.ipynb"


def test_the_example_notebook_executes_with_rich_outputs():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    results = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
               if out.get("output_type") == "execute_result"]
    assert len(results) == 4
    assert not any(out.get("output_type") == "error" for cell in nb.cells for out in cell.get("outputs", []))
    for out in results:
        data = out["data"]
        assert "text/markdown" in data or "text/latex" in data, data.keys()
        assert len(data["text/plain"]) < 300 and "tensor(" not in data["text/plain"]
    assert "Verdict: proven" in results[1]["data"]["text/markdown"]
    assert "invariant" in results[3]["data"]["text/markdown"]
