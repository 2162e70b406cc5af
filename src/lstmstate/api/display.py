"""How a result shows in a notebook: its sentences, its tables and its figure as one piece of
HTML (``_repr_html_``), the figure embedded as a PNG so the saved notebook holds it.

``output.figures`` draws on matplotlib's Agg backend, chosen before pyplot is imported, so a
notebook's inline backend never registers its display of figures; ``show_figures_inline`` asks
IPython for it (``select_figure_formats``, what ``%matplotlib inline`` does) so that a Figure
returned from ``run.plot()`` appears under the cell.
"""

import base64
import html

import pandas as pd

from lstmstate.api.progress import in_notebook


def figure_html(figure) -> str:
    """``figure`` as an ``<img>`` holding its PNG; the figure is closed."""
    from lstmstate.output import figures

    png = base64.b64encode(figures.to_png(figure)).decode("ascii")
    return f"<img src='data:image/png;base64,{png}' style='max-width:100%'/>"


def page(title: str, sentences: list[str], tables: list[tuple[str, pd.DataFrame]], figure=None) -> str:
    """One result as HTML: a title, sentences, captioned tables and the figure."""
    parts = [f"<div class='lstmstate'><h4>{html.escape(title)}</h4>"]
    parts += [f"<p>{html.escape(sentence)}</p>" for sentence in sentences if sentence]
    for caption, table in tables:
        parts.append(f"<p><b>{html.escape(caption)}</b></p>")
        parts.append(table.to_html(float_format=lambda value: f"{value:.4g}", na_rep="-", border=0))
    if figure is not None:
        parts.append(figure_html(figure))
    parts.append("</div>")
    return "\n".join(parts)


def text(title: str, sentences: list[str]) -> str:
    """The same result for a front end without HTML (a terminal's ``repr``)."""
    return "\n".join([title, *(f"  {sentence}" for sentence in sentences if sentence)])


def show_figures_inline() -> None:
    """In a notebook, have IPython show matplotlib figures as PNG when it does not already."""
    if not in_notebook():
        return
    from IPython import get_ipython
    from IPython.core.pylabtools import select_figure_formats
    from matplotlib.figure import Figure

    shell = get_ipython()
    formatters = shell.display_formatter.formatters
    for kind in ("image/png", "image/svg+xml", "application/pdf", "image/jpeg"):
        try:
            formatters[kind].lookup_by_type(Figure)
            return  # the user's choice (%matplotlib inline, a figure format) stands
        except KeyError:
            continue
    select_figure_formats(shell, {"png"})
