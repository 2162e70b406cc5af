"""Differencing: a series turned into its steps, so a model learns changes instead of levels, and
its predictions of changes integrated back into levels.

A series with a trend leaves the range of its training part (where scaling was fitted) and a
model of levels cannot follow it; its changes stay in range. ``--differencing 1``::

    levels   y0  y1  y2  y3            held-out part: the last rows, the same targets as without
    changes      d1  d2  d3   (d_t = y_t - y_{t-1}; row t of the changes is row t of the series)
    back         ŷ3 = y2 + d̂3         (one step ahead: from the true level before)
"""

from dataclasses import replace

import numpy as np

from lstmstate.owndata.dataset import Numbers
from lstmstate.owndata.split import Split


def difference(data: Numbers) -> Numbers:
    """The changes of every column, one row fewer: row ``i`` is ``values[i + 1] - values[i]``."""
    if data.items < 3:
        raise ValueError(f"`differencing` needs at least 3 rows, the series has {data.items}")
    return replace(data, values=np.diff(data.values, axis=0))


def split_of_changes(split: Split) -> Split:
    """The split of the changes that holds out the same targets: level row ``t`` is change row ``t - 1``."""
    return Split(split.items - 1, split.train_items - 1, split.fraction, split.validation_items, split.validation)


def levels(changes: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Predicted levels from predicted changes ``(..., step)`` that follow each level ``previous``
    ``(...)``: the running sum of the changes from it (one step: ``previous + change``)."""
    return np.asarray(previous, np.float64)[..., None] + np.cumsum(np.asarray(changes, np.float64), axis=-1)
