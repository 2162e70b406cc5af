"""The sweep's figure: each configuration's score against each swept parameter, the mean with
its 95% interval, one panel per parameter, one colour per setting of the other parameters.

A function of finished numbers (sweep.json's records) that returns a matplotlib ``Figure``;
``output.figures.save_png`` writes it.
"""

import numpy as np
from matplotlib.figure import Figure

from lstmstate.core.statistics import ACCURACY
from lstmstate.output import figures  # noqa: F401  (chooses matplotlib's Agg backend first)

MAX_LEGEND = 12  # more settings of the other parameters than this are drawn, not named


def score_against_parameters(records: list[dict], grid: dict[str, list], swept: list[str]) -> Figure:
    """One panel per swept parameter (``swept``; with none, one panel over the configurations):
    the parameter's values along x in the grid's order, each finished configuration's mean score
    with its 95% interval; along a numeric parameter, configurations that differ only in it are
    joined by a line (a line between framings or experiments would suggest an order they lack)."""
    finished = [r for r in records if r["status"] == "done" and r.get("mean") is not None]
    panels = swept or ["configuration"]
    figure = Figure(figsize=(4.2 * len(panels) + 1.0, 3.6), dpi=figures.DPI, layout="constrained")
    axes_row = figure.subplots(1, len(panels), squeeze=False)[0]
    metric = finished[0]["metric"] if finished else ACCURACY
    scale, unit = (100, "%") if metric == ACCURACY else (1, "")
    for axes, parameter in zip(axes_row, panels):
        if parameter == "configuration":
            positions = {r["label"] or r["name"]: i for i, r in enumerate(finished)}
            groups = {"": finished}
            key = lambda r: r["label"] or r["name"]  # noqa: E731
        else:
            positions = {_word(value): i for i, value in enumerate(grid[parameter])}
            groups = {}
            for r in finished:
                others = " ".join(f"{n}={_word(v)}" for n, v in r["parameters"].items()
                                  if n != parameter and n in swept)
                groups.setdefault(others, []).append(r)
            key = lambda r, p=parameter: _word(r["parameters"][p])  # noqa: E731
        width = 0.5 / max(1, len(groups))
        for index, (others, members) in enumerate(groups.items()):
            offset = (index - (len(groups) - 1) / 2) * width
            members = sorted(members, key=lambda r: positions[key(r)])
            x = np.array([positions[key(r)] for r in members]) + offset
            mean = scale * np.array([r["mean"] for r in members])
            low = scale * np.array([r["ci95"][0] for r in members])
            high = scale * np.array([r["ci95"][1] for r in members])
            axes.errorbar(x, mean, yerr=[mean - low, high - mean], fmt="o-" if _numeric(grid.get(parameter)) else "o",
                          ms=4, capsize=3, lw=1, label=(others or None) if index < MAX_LEGEND else None)
        axes.set_xticks(range(len(positions)), list(positions), rotation=30 if parameter == "configuration" else 0,
                        ha="right" if parameter == "configuration" else "center", fontsize=8)
        axes.set_xlim(-0.6, len(positions) - 0.4)
        axes.set_xlabel(parameter)
        axes.set_ylabel("accuracy (%)" if metric == ACCURACY else metric.upper())
        axes.grid(axis="y", alpha=0.3)
        if any(label for label in axes.get_legend_handles_labels()[1]):
            axes.legend(fontsize=7, loc="best")
    figure.suptitle(f"Score against the swept parameters: mean over seeds, 95% interval "
                    f"({'higher' if metric == ACCURACY else 'lower'} is better)", fontsize=9)
    return figure


def _word(value) -> str:
    return "none" if value is None else str(value)


def _numeric(values) -> bool:
    return bool(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
