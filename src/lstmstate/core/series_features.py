"""Series features: numbers a reader can compute by hand from a series of numbers, one per row,
that a cell of a model of numbers may track: where the row lies in the season, the level, the
last change. ``core.text_features`` is the same for a text of characters.

Each feature is the value at the row just read, so it lines up with the state after that row
(``trained.state_record``); a season of 4, rows from 0::

    row            0     1     2     3     4     5
    value          10    12    11    9     10    13
    season cos     1     0    -1     0     1     0      cos(2 pi phase / season), phase = row mod 4
    season sin     0     1     0    -1     0     1
    level          10    12    11    9     10    13
    last change    0     2    -1    -2     1     3      the first row has no change before it: 0

Every function takes values or rows ``(step,)`` and returns floats ``(step,)``.
"""

import numpy as np


def season_cos(rows: np.ndarray, season: int) -> np.ndarray:
    """cos(2 pi phase / season), the phase the row's place in its season (``rows`` counted from 0).

    >>> season_cos(np.arange(5), 4).round(6).tolist()
    [1.0, 0.0, -1.0, -0.0, 1.0]
    """
    return np.cos(2 * np.pi * (np.asarray(rows) % season) / season)


def season_sin(rows: np.ndarray, season: int) -> np.ndarray:
    """sin(2 pi phase / season): ``season_cos`` a quarter season later.

    >>> season_sin(np.arange(5), 4).round(6).tolist()
    [0.0, 1.0, 0.0, -1.0, 0.0]
    """
    return np.sin(2 * np.pi * (np.asarray(rows) % season) / season)


def last_change(values: np.ndarray) -> np.ndarray:
    """The value less the one before it; 0 at the first (nothing before it to change from).

    >>> last_change(np.array([10.0, 12.0, 11.0])).tolist()
    [0.0, 2.0, -1.0]
    """
    values = np.asarray(values, float)
    return np.concatenate([[0.0], np.diff(values)]) if len(values) else values


# Name -> what a reader is told. Order is the order of the table.
# The season's phase is measured as a cos and sin pair, not as the phase itself: the phase is a saw
# that jumps from season - 1 to 0, which no smoothly cycling unit follows (a sine reaches |r| 0.78
# with it), and a unit that cycles with the season at any offset phi is cos(phase - phi) = the pair
# mixed, so one of the two reaches at least 0.71 with it. The pair also splits what the input says
# from what is remembered: on a seasonal series the value just read goes with one of them, while
# the other, a quarter season away, needs the values before it.
FEATURES = {
    "season cos": "cos(2 pi phase / season), the phase the row's place in the season (row 0 is phase 0)",
    "season sin": "sin(2 pi phase / season): the season's phase a quarter season later",
    "level": "the target's value",
    "last change": "the target's value less the one before it",
}


def features(values: np.ndarray, rows: np.ndarray, season: int | None) -> dict[str, np.ndarray]:
    """Every feature of ``FEATURES`` for the target's ``values`` at ``rows`` (their places in the
    series, counted from its first row), each ``(step,)``; without a ``season`` the phase's two
    are absent.

    >>> found = features(np.array([10.0, 12.0, 11.0, 9.0]), np.arange(4), 4)
    >>> found["last change"].tolist(), found["season sin"].round(6).tolist()
    ([0.0, 2.0, -1.0, -2.0], [0.0, 1.0, 0.0, -1.0])
    >>> list(features(np.array([1.0, 2.0]), np.arange(2), None))
    ['level', 'last change']
    """
    values, rows = np.asarray(values, float), np.asarray(rows)
    if values.shape != rows.shape:
        raise ValueError(f"values {values.shape} and rows {rows.shape} must be one per row")
    if season is not None and season < 2:
        raise ValueError(f"a season is at least 2 steps, got {season}")
    found = {} if season is None else {"season cos": season_cos(rows, season), "season sin": season_sin(rows, season)}
    return {**found, "level": values.copy(), "last change": last_change(values)}
