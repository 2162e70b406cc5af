"""Figures: pictures of finished results, each a function of numbers that returns a figure.

Nothing here trains or computes a statistic: the numbers come from ``results.json`` (and, for
state, from ``state_trace``); each function draws them and returns a matplotlib ``Figure``, which
``save_png`` writes. Matplotlib runs on the Agg backend, so no display is needed.
"""

import io
import string
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from lstmstate.storage.files import write_atomically  # noqa: E402

POPULATION_COLOR = "#4c72b0"  # one seed's accuracy, the mean curve
PUBLISHED_COLOR = "#c44e52"  # the tutorial's single published run
CEILING_COLOR = "#8c8c8c"  # what a memoryless model can reach
RIGHT_COLOR = "#55a868"  # a generated letter that is the true next letter
WRONG_COLOR = "#c44e52"
COLD_COLOR = "#dd8452"  # every seed started cold
PRIMED_COLOR = "#4c72b0"  # every seed primed first
DPI = 110  # sharp enough on screen, small enough to embed several in one HTML file


def accuracy_per_seed(experiments: dict) -> Figure:
    """Each experiment's accuracy on every seed as dots over a box, the mean with its 95%
    interval, and the tutorial's published figure as a red cross.

    ``experiments`` maps a name to its results.json entry (``accuracy.per_seed`` etc.).
    """
    names = list(experiments)
    figure, axes = plt.subplots(figsize=(8.5, 0.55 * len(names) + 1.4), dpi=DPI, layout="constrained")
    jitter = np.random.default_rng(0)  # fixed: the same results draw the same picture
    for row, name in enumerate(names):
        entry = experiments[name]
        per_seed = 100 * np.asarray(entry["accuracy"]["per_seed"], np.float64)  # (seed,)
        y = len(names) - 1 - row  # first experiment at the top, as in the tables
        axes.boxplot(per_seed, positions=[y], vert=False, widths=0.6, showfliers=False, patch_artist=True,
                     boxprops={"facecolor": "#e8eef7", "edgecolor": "#9aaccc"},
                     medianprops={"color": "#9aaccc"}, whiskerprops={"color": "#9aaccc"},
                     capprops={"color": "#9aaccc"})
        axes.scatter(per_seed, y + jitter.uniform(-0.18, 0.18, len(per_seed)), s=14, color=POPULATION_COLOR,
                     alpha=0.75, zorder=3, label="one seed" if row == 0 else None)
        low, high = entry["accuracy"]["ci95"]
        axes.errorbar(100 * entry["accuracy"]["mean"], y + 0.36, xerr=[[100 * (entry["accuracy"]["mean"] - low)],
                      [100 * (high - entry["accuracy"]["mean"])]], fmt="o", color="black", ms=4, capsize=3,
                      zorder=4, label="mean, 95% interval" if row == 0 else None)
        ceiling = entry.get("memoryless_ceiling")
        if ceiling is not None and ceiling < 1:
            axes.plot([100 * ceiling] * 2, [y - 0.4, y + 0.4], color=CEILING_COLOR, lw=2, ls=":", zorder=2,
                      label="memoryless ceiling" if "memoryless ceiling" not in _labels(axes) else None)
        published = entry.get("published_accuracy")
        if published is not None:
            axes.scatter([100 * published], [y], marker="X", s=90, color=PUBLISHED_COLOR, edgecolor="white",
                         zorder=5, label="tutorial's published run" if "tutorial's published run" not in _labels(axes) else None)
    axes.set_yticks(range(len(names)), [_seed_label(name, experiments[name]) for name in reversed(names)], fontsize=8)
    axes.set_xlim(-3, 103)
    axes.set_ylim(-0.7, len(names) - 0.3)
    axes.set_xlabel("accuracy on the training patterns (%)")
    axes.grid(axis="x", alpha=0.3)
    axes.set_title("Accuracy of every seed, against the tutorial's single published run", fontsize=10)
    figure.legend(loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    return figure


BASELINE_COLORS = ("#c44e52", "#dd8452", "#8172b3", "#937860", "#da8bc3")  # one per baseline, in order


def scores_against_baselines(experiments: dict, baselines: list[dict], metric: str, unit: str) -> Figure:
    """Every seed's held-out score of each framing (dots, mean with its 95% interval) and every
    baseline on the same metric as a vertical line across all framings, so a reader sees at once
    whether the seeds clear the strongest classical model.

    ``experiments`` maps a framing to its results.json entry (``holdout.per_seed``, ``holdout.mean``,
    ``holdout.ci95``); ``baselines`` are results.json's baseline dicts (``name``, ``metric``, ``score``).
    """
    names = list(experiments)
    scale = 100.0 if metric == "accuracy" else 1.0
    figure, axes = plt.subplots(figsize=(8.5, 0.6 * len(names) + 1.8), dpi=DPI, layout="constrained")
    jitter = np.random.default_rng(0)  # fixed: the same results draw the same picture
    for row, name in enumerate(names):
        holdout = experiments[name]["holdout"]
        per_seed = scale * np.asarray([v for v in holdout["per_seed"] if v is not None], np.float64)
        y = len(names) - 1 - row
        axes.scatter(per_seed, y + jitter.uniform(-0.18, 0.18, len(per_seed)), s=16, color=POPULATION_COLOR,
                     alpha=0.75, zorder=3, label="one seed" if row == 0 else None)
        if holdout.get("mean") is not None and None not in holdout.get("ci95", [None]):
            mean, (low, high) = scale * holdout["mean"], (scale * v for v in holdout["ci95"])
            axes.errorbar(mean, y + 0.3, xerr=[[mean - low], [high - mean]], fmt="o", color="black", ms=4,
                          capsize=3, zorder=4, label="mean, 95% interval" if row == 0 else None)
    for index, baseline in enumerate(b for b in baselines if b["metric"] == metric and b["score"] is not None):
        color = BASELINE_COLORS[index % len(BASELINE_COLORS)]
        axes.axvline(scale * baseline["score"], color=color, lw=1.6, ls="--", zorder=2,
                     label=f"{baseline['name']}: {scale * baseline['score']:.4g}")
    axes.set_yticks(range(len(names)), [f"{name}\n{len(experiments[name]['holdout']['per_seed'])} seeds"
                                        for name in reversed(names)], fontsize=8)
    axes.set_ylim(-0.7, len(names) - 0.3)
    axes.set_xlabel(f"held-out {unit}" + (" (%)" if metric == "accuracy" else "") +
                    (", higher is better" if metric == "accuracy" else ", lower is better"))
    axes.grid(axis="x", alpha=0.3)
    axes.set_title("Held-out score of every seed, beside the classical baselines (dashed)", fontsize=10)
    figure.legend(loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    return figure


def forecast_band(history: np.ndarray, origin: int, median: np.ndarray, low: np.ndarray, high: np.ndarray,
                  actual: np.ndarray | None, title: str, context: int = 200) -> Figure:
    """The series up to the origin (its last ``context`` values), the forecast's median over
    seeds with the 5-95% band across seeds, and the true values after the origin where known.
    x is the row number from 0."""
    figure, axes = plt.subplots(figsize=(8.5, 3.6), dpi=DPI, layout="constrained")
    start = max(0, origin + 1 - context)
    axes.plot(np.arange(start, origin + 1), history[start:origin + 1], color="#333333", lw=1.2, label="history")
    steps = np.arange(origin + 1, origin + 1 + len(median))
    axes.fill_between(steps, low, high, color=POPULATION_COLOR, alpha=0.25, lw=0, label="5-95% across seeds")
    axes.plot(steps, median, color=POPULATION_COLOR, lw=1.8, label="median over seeds")
    if actual is not None and len(actual):
        axes.plot(steps[:len(actual)], actual, color=PUBLISHED_COLOR, lw=1.2, ls="--", label="actual")
    axes.axvline(origin, color=CEILING_COLOR, lw=1, ls=":")
    axes.set_xlabel("row (from 0)")
    axes.grid(alpha=0.3)
    axes.set_title(title, fontsize=10)
    figure.legend(loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    return figure


def _seed_label(name: str, entry: dict) -> str:
    label = f"{name}\n{len(entry['accuracy']['per_seed'])} seeds"
    diverged = entry.get("diverged", {}).get("count", 0)
    return label + (f" (+{diverged} diverged)" if diverged else "")


def _labels(axes) -> list[str]:
    return axes.get_legend_handles_labels()[1]


def training_curves(experiments: dict, metric: str = "accuracy") -> Figure:
    """One panel per experiment: the mean of ``metric`` ("accuracy" or "loss") per epoch over
    seeds with its 95% band, from each entry's ``curves[metric]`` (``epoch``, ``mean``, ``low``,
    ``high``; None where a value was not finite)."""
    if metric not in ("accuracy", "loss"):
        raise ValueError(f"metric must be 'accuracy' or 'loss', got {metric!r}")
    names = list(experiments)
    columns = min(3, len(names))
    rows = -(-len(names) // columns)
    # At least 7 inches wide, so that the title and the legend fit above and below a single panel.
    figure, grid = plt.subplots(rows, columns, figsize=(max(7.0, 3.3 * columns), 2.3 * rows + 0.7), dpi=DPI,
                                squeeze=False, layout="constrained")
    for panel, name in zip(grid.flat, names):
        entry = experiments[name]
        curve = entry["curves"][metric]
        epoch = np.asarray(curve["epoch"], np.float64)  # (point,)
        scale = 100 if metric == "accuracy" else 1
        mean, low, high = (scale * _floats(curve[key]) for key in ("mean", "low", "high"))
        panel.fill_between(epoch, low, high, color=POPULATION_COLOR, alpha=0.25, lw=0, label="95% band")
        # A model of numbers has no accuracy block: its seeds are its held-out scores' seeds.
        seeds = len((entry.get("accuracy") or entry.get("holdout") or {}).get("per_seed", []))
        panel.plot(epoch, mean, color=POPULATION_COLOR, lw=1.5, label=f"mean of {seeds} seeds")
        if metric == "accuracy":
            panel.set_ylim(-3, 103)
            if entry.get("published_accuracy") is not None:
                panel.axhline(100 * entry["published_accuracy"], color=PUBLISHED_COLOR, ls="--", lw=1,
                              label="tutorial's published run")
        elif np.nanmin(mean) > 0 and np.nanmax(mean) / np.nanmin(mean) > 20:
            panel.set_yscale("log")  # a loss falling over orders of magnitude is flat on a linear axis
        panel.set_title(name, fontsize=9)
        panel.xaxis.get_major_locator().set_params(integer=True)  # epochs are whole
        panel.tick_params(labelsize=7)
        panel.grid(alpha=0.3)
    for panel in grid.flat[len(names):]:
        panel.set_visible(False)
    for panel in grid[-1]:
        panel.set_xlabel("epoch", fontsize=8)
    for panel in grid[:, 0]:
        panel.set_ylabel("accuracy (%)" if metric == "accuracy" else "loss", fontsize=8)
    handles, labels = grid.flat[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    figure.suptitle(f"Training {metric} over epochs: mean over seeds, 95% band", fontsize=10)
    return figure


def validation_curves(experiments: dict) -> Figure:
    """Own data: one row per framing, the validation part's loss and metric after each
    evaluation while training (each entry's ``validation``), a thin line per seed and the mean
    bold; with patience, each seed's best epoch is a dot on its loss line."""
    names = list(experiments)
    figure, grid = plt.subplots(len(names), 2, figsize=(8.0, 2.4 * len(names) + 0.7), dpi=DPI, squeeze=False,
                                layout="constrained")
    for row, name in zip(grid, names):
        block = experiments[name]["validation"]
        epochs = np.asarray(block["epochs"], np.float64)
        metric = next(key for key in block["per_seed"] if key not in ("loss", "perplexity"))
        for panel, key in zip(row, ("loss", metric)):
            values = np.array([_floats(seed) for seed in block["per_seed"][key]])  # (seed, evaluation)
            scale = 100 if key == "accuracy" else 1
            for seed_values in values:
                panel.plot(epochs, scale * seed_values, color=POPULATION_COLOR, lw=0.6, alpha=0.35)
            panel.plot(epochs, scale * np.nanmean(values, axis=0), color=POPULATION_COLOR, lw=1.8,
                       label=f"mean of {len(values)} seeds")
            if key == "loss" and block.get("best_epoch") and block.get("patience"):
                at = [list(epochs).index(e) for e in block["best_epoch"]]
                panel.scatter(block["best_epoch"], [v[i] for v, i in zip(values, at)], s=12, color=PUBLISHED_COLOR,
                              zorder=3, label="best epoch (weights kept)")
            panel.set_title(f"{name}: validation {'accuracy (%)' if key == 'accuracy' else key.upper() if key == 'rmse' else key}",
                            fontsize=9)
            panel.xaxis.get_major_locator().set_params(integer=True)
            panel.tick_params(labelsize=7)
            panel.grid(alpha=0.3)
            panel.set_xlabel("epoch", fontsize=8)
    handles = {}
    for panel in grid.flat:
        for handle, label in zip(*panel.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    figure.legend(list(handles.values()), list(handles), loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    figure.suptitle("Held-out scores while training: one line per seed, mean bold", fontsize=10)
    return figure


def _floats(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], np.float64)


def state_heatmaps(hidden: np.ndarray, cell: np.ndarray, symbols: list[str], title: str) -> Figure:
    """The hidden state ``h`` and cell state ``c`` (each ``(step, units)``) after each of
    ``symbols`` as two heatmaps, units down and steps across.

    Units are ordered by the step where their ``|h|`` peaks, so that units which switch on at
    the same letter sit together and the picture reads left to right; both panels share that order.
    """
    hidden, cell = np.asarray(hidden), np.asarray(cell)
    if hidden.shape != cell.shape or hidden.ndim != 2 or hidden.shape[0] != len(symbols):
        raise ValueError(f"hidden and cell must both be (step, units) with one step per symbol, "
                         f"got {hidden.shape}, {cell.shape} and {len(symbols)} symbols")
    order = np.lexsort((-np.abs(hidden).max(axis=0), np.abs(hidden).argmax(axis=0)))  # (units,)
    figure, grid = plt.subplots(1, 2, figsize=(max(8.0, 0.21 * len(symbols) * 2 + 2.5), 0.07 * hidden.shape[1] + 2.2),
                                dpi=DPI, layout="constrained")
    for panel, values, label in ((grid[0], hidden, "hidden state h"), (grid[1], cell, "cell state c")):
        limit = float(np.abs(values).max()) or 1.0
        image = panel.imshow(values[:, order].T, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit,
                             interpolation="nearest")
        panel.set_xticks(range(len(symbols)), symbols, fontsize=7)
        panel.set_xlabel("after feeding this symbol (state carried from the left)", fontsize=8)
        panel.set_ylabel("unit (ordered by where |h| peaks)", fontsize=8)
        panel.tick_params(axis="y", labelsize=6)
        panel.set_title(label, fontsize=9)
        figure.colorbar(image, ax=panel, shrink=0.8)
    figure.suptitle(title, fontsize=10)
    return figure


def state_trace_heatmaps(trace, title: str) -> Figure:
    """``state_heatmaps`` of a ``trained.state_trace.StateTrace``, each column labelled with the
    symbol read and the symbol predicted after it."""
    labels = [f"{symbol}\n→{predicted}" for symbol, predicted in zip(trace.symbols, trace.predicted)]
    return state_heatmaps(trace.h, trace.c, labels, title)


# inspect's heatmap has a column per symbol: past this it is unreadable, takes minutes to draw,
# and soon exceeds what matplotlib draws (2^16 pixels a side).
HEATMAP_SYMBOLS = 1000


def heatmap_file(trace, title: str, path: Path) -> str:
    """Write ``state_trace_heatmaps`` of ``trace`` to ``path``; the line that says where, or why
    it was not drawn (more than ``HEATMAP_SYMBOLS`` symbols)."""
    if len(trace.symbols) > HEATMAP_SYMBOLS:
        return (f"heatmap not drawn: {len(trace.symbols)} symbols are more columns than it shows "
                f"({HEATMAP_SYMBOLS}); give a shorter --sequence for one")
    try:
        save_png(state_trace_heatmaps(trace, title), path)
    except OSError as error:
        raise ValueError(f"cannot write the heatmap {path}: {error.strerror or error}") from None
    return f"heatmap written to {path}"


def generation_transcripts(generation: dict, symbols: str = string.ascii_uppercase) -> Figure:
    """The median seed's generation as rows of tiles (from ``A``, cold at ``K``, primed then
    ``K``), each tile the letter fed and the letter predicted, green when it is the true next
    letter; beside it, what every seed predicts after ``K`` cold and primed.

    ``generation`` is a results.json ``generation`` block.
    """
    median = generation["median_seed"]
    prime, start = generation["prime"], generation["cold_start"]
    rows = [(f"from {median['from_A'][0][0]}", [], median["from_A"]),
            (f"cold at {start}", [], median["cold"]),
            (f"primed {prime[0]}..{prime[-1]}, then {start}", list(prime), median["primed"])]
    width = max(len(fed) + len(steps) for _, fed, steps in rows)
    figure = plt.figure(figsize=(max(9.0, 0.36 * width + 3.5), 3.6), dpi=DPI, layout="constrained")
    tiles, counts = figure.subplots(1, 2, width_ratios=[max(width, 12), 7])
    for row, (label, fed, steps) in enumerate(rows):
        y = len(rows) - 1 - row
        for column, symbol in enumerate(fed):  # priming: fed, predictions ignored
            tiles.add_patch(Rectangle((column - 0.45, y - 0.4), 0.9, 0.8, color="#eeeeee"))
            tiles.text(column, y, symbol, ha="center", va="center", fontsize=7, color="#888888")
        for column, (given, predicted) in enumerate(steps, start=len(fed)):
            right = given in symbols[:-1] and predicted == symbols[symbols.index(given) + 1]
            tiles.add_patch(Rectangle((column - 0.45, y - 0.4), 0.9, 0.8, color=RIGHT_COLOR if right else WRONG_COLOR,
                                      alpha=0.85))
            tiles.text(column, y + 0.2, given, ha="center", va="center", fontsize=6, color="white")
            tiles.text(column, y - 0.1, predicted, ha="center", va="center", fontsize=9, color="white",
                       fontweight="bold")
    tiles.set_xlim(-0.6, width - 0.4)
    tiles.set_ylim(-0.6, len(rows) - 0.4)
    # Row labels as tick labels, so the layout makes room for them.
    tiles.set_yticks(range(len(rows)), [label for label, _, _ in reversed(rows)], fontsize=8)
    tiles.set_xticks([])
    tiles.tick_params(length=0)
    for spine in tiles.spines.values():
        spine.set_visible(False)
    tiles.set_title("median seed: letter fed (small) and letter predicted (bold); "
                    "green = the true next letter, grey = priming", fontsize=8)
    # Every seed's prediction after the start letter, cold and primed, on a shared set of letters.
    letters = sorted(set(generation["cold_predictions"]) | set(generation["primed_predictions"]), key=symbols.find)
    position = np.arange(len(letters))
    cold = [generation["cold_predictions"].get(letter, 0) for letter in letters]
    primed = [generation["primed_predictions"].get(letter, 0) for letter in letters]
    # Colours name the start here, not right or wrong: the true next letter is marked on its tick.
    counts.bar(position - 0.2, cold, 0.4, color=COLD_COLOR, label=f"cold at {start}")
    counts.bar(position + 0.2, primed, 0.4, color=PRIMED_COLOR, label=f"primed, then {start}")
    expected = symbols[symbols.index(start) + 1] if start in symbols[:-1] else None
    counts.set_xticks(position, [f"{letter}\n(true next)" if letter == expected else letter for letter in letters])
    for tick, letter in zip(counts.get_xticklabels(), letters):
        if letter == expected:
            tick.set_color(RIGHT_COLOR)
            tick.set_fontweight("bold")
    counts.set_ylabel("seeds", fontsize=8)
    counts.set_xlabel(f"letter predicted after {start}", fontsize=8)
    counts.yaxis.get_major_locator().set_params(integer=True)
    counts.set_ylim(0, 1.3 * max(cold + primed + [1]))  # headroom for the legend above the bars
    counts.legend(fontsize=7, frameon=False, loc="upper center", ncol=2)
    counts.set_title("every seed", fontsize=8)
    figure.suptitle(f"Generation with carried state: cold start at {start} versus priming with {prime}", fontsize=10)
    return figure


def to_png(figure: Figure) -> bytes:
    """``figure`` as PNG bytes; the figure is closed."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    plt.close(figure)  # figures are made in loops; an open one holds its memory until closed
    return buffer.getvalue()


def save_png(figure: Figure, path: Path) -> bytes:
    """Write ``figure`` to ``path`` as PNG, close it, and return the PNG's bytes (for embedding)."""
    data = to_png(figure)
    write_atomically(Path(path), data)
    return data
