"""The cells page: what ``trained.cells`` found, as the lines the command line prints, a
self-contained ``cells.html`` with the text coloured by each chosen cell's state (as in Karpathy,
Johnson and Fei-Fei 2015, figure 2), and the same strips as a PNG for a terminal user. For a model
of numbers the "text" is the target's values, rounded, and the PNG draws the state as a line.

Nothing here measures: every number comes from a ``trained.cells.Cells``.
"""

from html import escape
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from lstmstate.core import series_features, text_features
from lstmstate.output import markup
from lstmstate.output.figures import DPI, save_png
from lstmstate.storage import runfolder
from lstmstate.storage.files import write_atomically
from lstmstate.trained.cells import EXCERPT, Cell, Cells

LEVELS = 10  # colour steps on each side of 0: fine enough to follow a cell, few enough for short class names
PNG_SYMBOLS = 120  # symbols per strip in the PNG: each must stay readable at the figure's width
PNG_ROWS = 600  # a series' rows per panel of the PNG: lines, not tiles, so many more fit
PAGE = "cells.html"  # the page's name in the experiment's folder
HEADER = ["feature", "seed", "unit", "r", "95% interval", "untrained |r|", "symbol alone |r|"]
# What each feature is, in words: a text's and a series' (their names differ).
DESCRIPTIONS = {**{name: words for name, (words, _) in text_features.FEATURES.items()}, **series_features.FEATURES}

STRIP_STYLE = "".join(
    [".strip { font-family: 'DejaVu Sans Mono', monospace; font-size: .85rem; white-space: pre-wrap; "
     "line-height: 1.5; border: 1px solid #eee; padding: .4rem; word-break: break-all; }",
     ".strip span { padding: 0 .02rem; } .nl { color: #999; } .legend span { padding: 0 .4rem; }"]
    # Blue for a positive state, red for a negative one, deeper with |state| (the paper's colours).
    + [f".p{k} {{ background: rgba(49, 99, 189, {k / LEVELS:.2f}); }} "
       f".n{k} {{ background: rgba(200, 60, 55, {k / LEVELS:.2f}); }}" for k in range(1, LEVELS + 1)])


def unit_name(cell: Cell) -> str:
    """``h 3`` or ``c 11``: the state and the unit's index."""
    return f"{cell.kind} {cell.unit}"


def _r(value: float) -> str:
    return f"{value:+.3f}"


def rows(cells: Cells) -> list[list[str]]:
    """The table's rows, feature by feature, seed by seed (``HEADER``'s columns)."""
    return [[cell.feature, str(cell.seed), unit_name(cell), _r(cell.correlation),
             f"[{_r(cell.low)}, {_r(cell.high)}]", f"{cell.untrained:.3f}", f"{cell.symbol_alone:.3f}"]
            for cell in cells.cells]


def spread_lines(cells: Cells) -> list[str]:
    """Across seeds, per feature: the mean of the best |r| and its range (nothing for one seed)."""
    lines = []
    for feature in cells.features():
        values = np.array([abs(cell.correlation) for cell in cells.of(feature)])
        if len(values) > 1:
            lines.append(f"{feature}: best |r| over {len(values)} seeds, mean {values.mean():.3f}, "
                         f"range {values.min():.3f}..{values.max():.3f}")
    return lines


def _item(cells: Cells) -> str:
    """What one step of the measured text is: a symbol, or a row of a series."""
    return "row" if cells.numbers else "symbol"


def about(cells: Cells) -> list[str]:
    """What was measured, how, and how to read it, in plain sentences."""
    seeds = sorted({cell.seed for cell in cells.cells})
    item, text = _item(cells), "series" if cells.numbers else "text"
    lines = [f"{cells.name}: {cells.measured:,} {item}s of {cells.source}; seed{'s' if len(seeds) > 1 else ''} "
             f"{', '.join(map(str, seeds))}; {cells.units} units, each with h and c",
             f"r: Pearson correlation of the unit's state after each {item} with the feature there, the unit chosen "
             "for the largest |r| of any h or c; 95% interval of that unit's r from a bootstrap over blocks of "
             f"{cells.block} consecutive {item}s (the unit is chosen on the whole {text})"]
    if cells.numbers:
        lines += ["untrained |r|: the largest |r| of the same seed's initial weights (before training) on the same "
                  "rows; symbol alone |r|: here the input row alone, the most any linear function of the row just "
                  "read (the scaled values the model reads there) reaches. A unit above both holds something "
                  "training put there that the row just read does not say",
                  "the state is read from the series' first row, as training read it; the season's phase is the "
                  "row's place in the run's season (the seasonal naive baseline's), row 0 at phase 0"]
    else:
        lines.append("untrained |r|: the largest |r| of the same seed's initial weights (before training) on the "
                     "same text; symbol alone |r|: the most any function of the current symbol reaches. A unit "
                     "above both holds something training put there that the symbol just read does not say")
    if cells.constant:
        why = "constant over these rows, or the run has no season" if cells.numbers else \
            "constant over this text, or no line break"
        lines.append(f"not measured ({why}): {', '.join(cells.constant)}")
    return lines


def lines(cells: Cells) -> list[str]:
    """What ``lstmstate cells`` prints: the sentences, the table, the spread over seeds."""
    table = [HEADER, *rows(cells)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    printed = ["  ".join(value.ljust(width) if i < 3 else value.rjust(width)
                         for i, (value, width) in enumerate(zip(row, widths))).rstrip() for row in table]
    return [*about(cells), "", *printed, *([""] + spread_lines(cells) if spread_lines(cells) else [])]


def _level(value: float, scale: float) -> str:
    step = int(round(min(abs(value) / scale, 1.0) * LEVELS)) if scale > 0 else 0
    return "" if step == 0 else f"{'p' if value > 0 else 'n'}{step}"


def strip_html(text: tuple[str, ...], values: np.ndarray, separator: str = "") -> str:
    """The text, each symbol's background the state after it: blue positive, red negative, scaled
    to the largest |state| shown. A line break shows as ``↵`` and breaks the line; ``separator``
    goes between symbols (a space between a series' values).

    >>> strip_html(("a", "<", "\\n"), np.array([1.0, -0.5, 0.0]))
    '<div class="strip"><span class="p10">a</span><span class="n5">&lt;</span><span class="nl">↵</span>\\n</div>'
    """
    scale = float(np.max(np.abs(values))) if len(values) else 0.0
    spans = []
    for symbol, value in zip(text, values):
        shown = '<span class="nl">↵</span>\n' if symbol == "\n" else escape(symbol)
        level = _level(float(value), scale)
        spans.append(f'<span class="{level}">{shown}</span>' if level else shown)  # near 0: left white
    return f'<div class="strip">{separator.join(spans)}</div>'


def strip_title(cell: Cell) -> str:
    """What a strip shows, in words: the feature, the seed, the unit and its numbers."""
    return (f"{cell.feature} ({DESCRIPTIONS.get(cell.feature, 'a feature of this version')}): seed {cell.seed}, unit {unit_name(cell)}, "
            f"r = {_r(cell.correlation)} [{_r(cell.low)}, {_r(cell.high)}]; untrained {cell.untrained:.3f}, "
            f"symbol alone {cell.symbol_alone:.3f}")


def page(cells: Cells) -> str:
    """``cells.html``: the sentences, one strip per feature (the seed whose unit goes most with it),
    the table of every seed."""
    return markup.page(f"cells: {cells.name}", [f"<h1>What the state holds: {escape(cells.name)}</h1>",
                                                *section(cells, "h2")])


def section(cells: Cells, heading: str) -> list[str]:
    """The page's body, its headings ``heading`` (the report puts it under a heading of its own)."""
    tops = [cells.top(feature) for feature in cells.features()]
    shown = min(len(cells.text), *(len(top.excerpt) for top in tops)) if tops else 0
    item = _item(cells)
    more = f" The first {shown:,} {item}s of {cells.measured:,} are shown." if shown < cells.measured else ""
    body = [f"<style>{STRIP_STYLE}</style>", markup.bullets(about(cells)),
            f'<p class="legend">Each {"value" if cells.numbers else "symbol"} is coloured by the unit\'s state after reading it: '
            f'<span class="p8">positive</span> <span class="n8">negative</span>, deeper for larger |state| '
            f"(scaled to the largest shown).{more}</p>"]
    for top in tops:
        body += [f"<{heading}>{escape(top.feature)}</{heading}>", f"<p>{escape(strip_title(top))}</p>",
                 strip_html(cells.text[:shown], top.excerpt[:shown], " " if cells.numbers else "")]
    body += [f"<{heading}>Every seed</{heading}>", markup.table(HEADER, rows(cells), numeric={3, 4, 5, 6})]
    if spread_lines(cells):
        body.append(markup.bullets(spread_lines(cells)))
    return body


def report_html(payload: dict, number: int) -> list[str]:
    """The run report's section on what the state holds: every experiment ``lstmstate cells`` kept."""
    parts = []
    for name, block in payload.get("cells", {}).items():
        parts += [f"<h3>{escape(name)}</h3>", *section(Cells.from_payload(name, block), "h4"),
                  f'<p>The whole page: <a href="{escape(name)}/{PAGE}">{escape(name)}/{PAGE}</a>.</p>']
    return [f"<h2>{number}. What the state holds</h2>", *parts] if parts else []


def report_markdown(payload: dict, number: int) -> list[str]:
    """``report_html`` in Markdown: the sentences and the table; the coloured text is on the page."""
    parts = []
    for name, block in payload.get("cells", {}).items():
        cells = Cells.from_payload(name, block)
        parts += [f"### {name}", "", *[f"- {line}" for line in about(cells)], "", markup.markdown_table(HEADER, rows(cells)),
                  "", *[f"- {line}" for line in spread_lines(cells)], "", f"The text coloured by each cell: [{name}/{PAGE}]({name}/{PAGE})", ""]
    return [f"## {number}. What the state holds", "", *parts] if parts else []


def figure(cells: Cells, features: list[str] | None = None, start: int = 0) -> Figure:
    """The page's strips as a PNG: per feature (every one measured, or ``features``), the top
    unit's state over ``PNG_SYMBOLS`` symbols from ``start`` as coloured tiles, each with its symbol."""
    features = cells.features() if features is None else features
    if cells.numbers:
        return _series_figure(cells, features, start)
    shown = min(PNG_SYMBOLS, len(cells.text), EXCERPT)
    if not 0 <= start <= min(len(cells.text), EXCERPT) - shown:
        raise ValueError(f"start {start} leaves fewer than {shown} symbols of the excerpt kept ({EXCERPT})")
    fig, axes = plt.subplots(len(features), 1, figsize=(0.11 * shown + 1.0, 0.75 * len(features) + 0.4), dpi=DPI,
                             layout="constrained", squeeze=False)
    for axis, feature in zip(axes[:, 0], features):
        top = cells.top(feature)
        values = top.excerpt[start:start + shown]
        scale = float(np.max(np.abs(values))) or 1.0
        axis.imshow(values[None, :], cmap="RdBu", vmin=-scale, vmax=scale, aspect="auto")
        for x, symbol in enumerate(cells.text[start:start + shown]):
            axis.text(x, 0, "↵" if symbol == "\n" else symbol, ha="center", va="center", fontsize=7,
                      family="monospace")
        axis.set_xticks([])
        axis.set_yticks([])
        axis.set_title(f"{feature}: seed {top.seed}, {unit_name(top)}, r = {_r(top.correlation)} "
                       f"(untrained {top.untrained:.2f}, symbol alone {top.symbol_alone:.2f})", fontsize=8, loc="left")
    return fig


def _series_figure(cells: Cells, features: list[str], start: int) -> Figure:
    """``figure`` for a model of numbers: per feature, the top unit's state as a line over
    ``PNG_ROWS`` rows from ``start``, the series' values behind it in grey (their own scale)."""
    shown = min(PNG_ROWS, len(cells.text), EXCERPT)
    if not 0 <= start <= min(len(cells.text), EXCERPT) - shown:
        raise ValueError(f"start {start} leaves fewer than {shown} rows of the excerpt kept ({EXCERPT})")
    values = np.array([float(value) for value in cells.text[start:start + shown]])
    rows = np.arange(start, start + shown)
    fig, axes = plt.subplots(len(features), 1, figsize=(9.0, 1.4 * len(features) + 0.4), dpi=DPI,
                             layout="constrained", squeeze=False, sharex=True)
    for axis, feature in zip(axes[:, 0], features):
        top = cells.top(feature)
        behind = axis.twinx()  # the values on a scale of their own: the state's shape is what is compared
        behind.plot(rows, values, color="0.75", linewidth=0.8)
        behind.set_yticks([])
        axis.set_zorder(behind.get_zorder() + 1)
        axis.patch.set_visible(False)
        axis.plot(rows, top.excerpt[start:start + shown], color="#3163bd", linewidth=1.0)
        axis.tick_params(labelsize=7)
        axis.set_title(f"{feature}: seed {top.seed}, {unit_name(top)}, r = {_r(top.correlation)} "
                       f"(untrained {top.untrained:.2f}, input row alone {top.symbol_alone:.2f}); grey: the values",
                       fontsize=8, loc="left")
    axes[-1, 0].set_xlabel("row measured (from 0)", fontsize=8)
    return fig


def write(cells: Cells, html: Path | None = None, png: Path | None = None) -> list[Path]:
    """Write ``page`` to ``html`` (None: ``cells.html`` in the experiment's folder, checked as every
    write into a run folder is) and, when given, ``figure`` to ``png``; the paths written."""
    if not cells.cells:
        raise ValueError("no feature varies over this text: nothing to show")
    if html is None:
        if cells.folder is None:
            raise ValueError("the run is not in a folder: say where the page goes")
        html = runfolder.target(cells.folder.parent, cells.folder.name, PAGE)
    _written("--out", html, lambda: write_atomically(Path(html), page(cells).encode("utf-8")))
    written = [Path(html)]
    if png is not None:
        _written("--png", png, lambda: save_png(figure(cells), Path(png)))
        written.append(Path(png))
    return written


def _written(option: str, path: Path, write) -> None:
    """``write()``, a full or read-only disk one line naming ``option``: the rename writes whole
    files, so what was there before stays as it was."""
    try:
        write()
    except OSError as error:
        raise ValueError(f"cannot write {option} {path}: {error.strerror or error}; nothing there was changed, "
                         "and the run folder's results.json is as it was") from None
