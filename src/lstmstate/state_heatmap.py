"""The state heatmap: a picture of a state trace, h and c per step, with the symbols on the axis.

Two panels side by side, units down and steps across::

          h                    c
    unit ┌──────────┐    ┌──────────┐
      0  │▓░ ▒▓█░ ▒ │    │          │
      …  │          │    │          │
         └──────────┘    └──────────┘
          A B C … K        A B C … K     the symbol read at each step

It takes a finished ``StateTrace`` and returns a figure; it draws with matplotlib's ``Figure``
and the Agg canvas directly, so it needs no display and leaves pyplot's global state alone.
"""

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lstmstate.state_trace import StateTrace


def heatmap(state_trace: StateTrace, title: str = "") -> Figure:
    """The figure of ``state_trace``: h (in [-1, 1]) and c (symmetric about 0) per unit per step."""
    steps, units = state_trace.h.shape
    figure = Figure(figsize=(2.5 + 0.45 * steps * 2, 1.5 + 0.08 * units), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, 2, sharey=True)
    c_limit = max(float(np.abs(state_trace.c).max()), 1e-6)
    for axis, name, values, limit in ((axes[0], "h (hidden state)", state_trace.h, 1.0),
                                      (axes[1], "c (cell state)", state_trace.c, c_limit)):
        image = axis.imshow(values.T, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit,
                            interpolation="nearest")
        axis.set_xticks(range(steps), [f"{s}\n→{p}" for s, p in zip(state_trace.symbols, state_trace.predicted)],
                        fontsize=8)
        axis.set_title(name)
        axis.set_xlabel("symbol read (→ predicted next)")
        figure.colorbar(image, ax=axis, shrink=0.8)
    axes[0].set_ylabel("unit")
    if title:
        figure.suptitle(title)
    return figure


def save_png(figure: Figure, path: Path) -> Path:
    """Write ``figure`` as a PNG at ``path``, creating its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=110)
    return path
