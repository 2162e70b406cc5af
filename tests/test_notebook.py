"""The quickstart notebook executed headless, as Jupyter would run it: its run shows the table
and the figure inline, the progress bar renders, and the forecast is a table of years."""

import base64
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent / "notebooks" / "quickstart.ipynb"
PNG = b"\x89PNG\r\n\x1a\n"


def test_the_quickstart_notebook_shows_its_table_and_figure():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    (parameters,) = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    parameters.source = "SEEDS, EPOCHS = 2, 2"  # the notebook's own code, trained briefly
    NotebookClient(notebook, timeout=600, kernel_name="python3").execute()
    outputs = {cell.source: cell.outputs for cell in notebook.cells if cell.cell_type == "code"}

    def html(source_start: str) -> list[str]:
        (source,) = [s for s in outputs if s.startswith(source_start)]
        return [o.data["text/html"] for o in outputs[source] if "text/html" in o.get("data", {})]

    progress, shown = html("run = ls.fit(")  # the bar, then the run itself
    assert "<progress value='2' max='2'" in progress and "2/2 epochs x 2 seeds" in progress
    assert "<table" in shown and "AR(" in shown and "verdict:" in shown
    embedded = shown.split("data:image/png;base64,", 1)[1].split("'", 1)[0]
    assert base64.b64decode(embedded).startswith(PNG)
    (forecast,) = html("run.forecast(12)")
    assert "<table" in forecast and "2009" in forecast and "2020" in forecast and "median" in forecast
    (figure,) = [o for o in outputs['run.plot("forecast", horizon=12)'] if "image/png" in o.get("data", {})]
    assert base64.b64decode(figure.data["image/png"]).startswith(PNG)
