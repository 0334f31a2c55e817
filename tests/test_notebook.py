"""examples/tour.ipynb runs in a real Jupyter kernel (nbclient, ipykernel) and shows what it
says: the README's tour output, derivatives as HTML tables, the explain report and the graph.
Its functions are defined in notebook cells, so this also checks that srcad finds their
source there."""

import base64
import re
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "tour.ipynb"


def _run(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _text(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def _data(cell, mime):
    found = [o.data[mime] for o in cell.outputs
             if o.output_type in ("execute_result", "display_data") and mime in o.data]
    assert len(found) == 1, (mime, cell.outputs)
    return found[0]


def test_the_tour_notebook_runs_and_shows_its_outputs(tmp_path):
    cells = _run(tmp_path)
    assert not [o for c in cells for o in c.outputs if o.output_type == "error"]
    tour, table, network, explain, graph = cells
    assert "    dy = 2 * x * dx\n" in _text(tour) and _text(tour).endswith("\n6.0\n")
    html = _data(table, "text/html")
    assert "grad_f" in html and re.search(r"dx.*=.*2.*\*.*x.*\*.*dy", html)
    assert _text(network) == "(3,) (2, 3)\n"
    assert "matmul_adjoint_left" in _data(network, "text/html")
    report = _data(explain, "text/plain")
    assert report.startswith("explain: grad of network with respect to W")
    assert "rule: np.tanh: adjoint rule elementwise.tanh" in report
    png = base64.b64decode(_data(graph, "image/png"))
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
