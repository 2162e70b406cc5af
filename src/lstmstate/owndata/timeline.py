"""The time line of a numeric CSV: which column holds the rows' times, that it increases in
regular steps, and what is done about a gap or a missing value.

A model of a series assumes one row per step. A duplicate time, a step back, a gap (a missing
row) or an empty cell breaks that silently, so each is a one-line error naming the row, unless
``--fill interpolate`` (a straight line between the neighbours) or ``--fill ffill`` (the last
value carried on) says how to fill it; then the rows inserted at gaps get the times the step
gives, and the number of values filled is kept with the run::

    year  y             year  y
    2001  4             2001  4
    2002  6      ->     2002  6
    2004  10            2003  8     (inserted: --fill interpolate)
                        2004  10

Times are numbers (a year, a step) or dates; a column is detected as the time when it is not a
model column and its values increase strictly as one or the other.
"""

import csv
import io
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from lstmstate.core import budget


FILLS = ("interpolate", "ffill")


class Completed(NamedTuple):
    """A table of values made whole: the rows' times, gaps filled in, empty cells filled."""

    values: np.ndarray  # (item, column) float64, no NaN
    labels: tuple[str, ...] | None  # (item,) each row's time; None without a time column
    time_column: str | None
    filled: int  # values filled: empty cells, and every value of a row inserted at a gap


def completed(values: np.ndarray, found: tuple[str, list[str]] | None, fill: str | None = None) -> Completed:
    """``values`` ``(item, column)`` (NaN where a cell was empty) with their times (``found``,
    from ``read``), rows inserted at gaps and missing values filled when ``fill`` says how;
    without ``fill`` a gap is a ``ValueError`` naming the row."""
    if fill is not None and fill not in FILLS:
        raise ValueError(f"unknown `fill` {fill!r}; choose one of {', '.join(FILLS)}")
    labels, name = None, None
    if found is not None:
        name, labels = found
        labels, values = _with_gaps(name, labels, values, fill)
    missing = np.isnan(values)
    filled = int(missing.sum())
    if filled:
        frame = pd.DataFrame(values)
        frame = frame.interpolate(method="linear", limit_direction="both") if fill == "interpolate" else frame.ffill().bfill()
        values = frame.to_numpy(np.float64)
    return Completed(values, None if labels is None else tuple(labels), name, filled)


def read(text: str, path: Path, name: str | None = None, exclude: tuple[str, ...] = ()) -> tuple[str, list[str]] | None:
    """The time column of the CSV ``text`` (read from ``path``) as ``(name, [label per data
    row])``: the column ``name``, or else the first column outside ``exclude`` whose values
    increase strictly as numbers or as dates; None when there is none. A named column that is
    not a time or does not increase is a ``ValueError`` naming the row."""
    reader = csv.reader(io.StringIO(text))
    header = [cell.strip() for cell in next(reader, [])]
    rows = [row for row in reader if row and any(cell.strip() for cell in row)]
    if name is not None and name not in header:
        raise ValueError(f"unknown `time_column` {name!r}; {path} has columns: {', '.join(header)}")
    candidates = [name] if name is not None else [c for c in header if c not in exclude and header.count(c) == 1]
    for column in candidates:
        index = header.index(column)
        cells = [row[index].strip() if index < len(row) else "" for row in rows]
        order = _order(cells)
        # Undeclared, a column of plain numbers is a time only if its name says so (an increasing
        # feature, a running total, is not); a column of dates is a time whatever its name.
        if name is None and order is not None and not _named_like_time(column) and _numbers(cells):
            continue
        if order is None:
            if name is not None:
                empty = next((i for i, cell in enumerate(cells) if not cell), None)
                where = f" (data row {empty + 1} is empty)" if empty is not None else ""
                raise ValueError(f"`time_column` {name!r} holds values that are neither numbers nor dates{where}")
            continue
        stops = np.flatnonzero(np.diff(order) <= 0)
        if len(stops):
            if name is not None:
                row = int(stops[0]) + 1  # the data row (from 0) that does not come after the one before it
                what = "a duplicate time" if order[row] == order[row - 1] else "a step back in time"
                raise ValueError(f"`time_column` {name!r} does not increase at data row {row + 1} "
                                 f"({cells[row]!r} after {cells[row - 1]!r}): {what}")
            continue
        return column, cells
    return None


TIME_NAMES = ("time", "date", "year", "month", "week", "day", "hour", "minute", "timestamp", "period", "datetime")


def _named_like_time(column: str) -> bool:
    return any(word in column.lower() for word in TIME_NAMES)


def _numbers(cells: list[str]) -> bool:
    try:
        [float(cell) for cell in cells]
    except ValueError:
        return False
    return True


def _order(cells: list[str]) -> np.ndarray | None:
    """The cells as numbers (or as dates, in nanoseconds), or None if they are neither."""
    if not cells or any(not cell for cell in cells):
        return None
    try:
        return np.array([float(cell) for cell in cells])
    except ValueError:
        pass
    try:
        return pd.to_datetime(pd.Series(cells), format="mixed").to_numpy().astype("datetime64[ns]").astype(np.int64)
    except (ValueError, TypeError, OverflowError):
        return None


def _with_gaps(name: str, labels: list[str], values: np.ndarray, fill: str | None) -> tuple[list[str], np.ndarray]:
    """Labels and values with a row of NaN inserted at every missing time (``fill``), or a
    ``ValueError`` at the first gap; times that are not whole steps apart are an error either way."""
    expected = regular_times(labels, name)
    if expected is None or len(expected) == len(labels):
        return labels, values
    present = {label: row for row, label in enumerate(_normalised(labels))}
    normal = _normalised(expected)
    missing = [i for i, label in enumerate(normal) if label not in present]
    if len(present) + len(missing) != len(expected) or any(label not in set(normal) for label in present):
        return labels, values  # not a regular grid with holes: leave it (it increases, which is what is checked)
    if fill is None:
        first = missing[0]
        after = next(i for i in range(first + 1, len(normal)) if normal[i] in present)  # the row after the gap
        holes = after - first
        raise ValueError(f"`time_column` {name!r} has a gap at data row {present[normal[after]] + 1}: "
                         f"{labels[present[normal[after]]]!r} follows {expected[first - 1]!r}, {holes} time"
                         f"{'s' if holes > 1 else ''} missing ({len(missing)} in all); "
                         "give `fill` interpolate|ffill to fill them")
    full = np.full((len(expected), values.shape[1]), np.nan)
    for row, label in enumerate(normal):
        if label in present:
            full[row] = values[present[label]]
    return list(expected), full


def _normalised(labels: list[str]) -> list:
    try:
        return [float(label) for label in labels]
    except ValueError:
        return list(pd.to_datetime(pd.Series(labels), format="mixed"))


def regular_times(labels: list[str], name: str = "time") -> list[str] | None:
    """Every time from the first label to the last in the series' regular step (the most common
    step between numbers; the frequency pandas infers between dates), as labels; None when no
    regular step can be found."""
    try:
        numbers = np.array([float(label) for label in labels])
    except ValueError:
        numbers = None
    if numbers is not None:
        steps = np.diff(numbers)
        values, counts = np.unique(steps, return_counts=True)
        step = float(values[np.argmax(counts)])
        if not step > 0 or not np.allclose(np.round(steps / step), steps / step):
            return None
        count = _grid_size(name, labels, (numbers[-1] - numbers[0]) / step + 1)
        whole = all(label.strip().lstrip("-").isdigit() for label in labels)
        return [str(int(round(numbers[0] + k * step))) if whole else f"{numbers[0] + k * step:g}" for k in range(count)]
    dates = pd.DatetimeIndex(pd.to_datetime(pd.Series(labels), format="mixed"))
    frequency = _frequency(dates)
    if frequency is None:
        return None
    offset = pd.tseries.frequencies.to_offset(frequency)
    # Counted before made: steps of the offset from the first date past the last one (a calendar
    # offset has no fixed length, so the count is bracketed by the average length and refined).
    _grid_size(name, labels, _steps_between(dates[0], dates[-1], offset) + 1)
    grid = pd.date_range(dates[0], dates[-1], freq=frequency)
    if len(grid) < len(dates):
        return None
    return [_date_label(stamp) for stamp in grid]


# --fill inserts the missing times of a regular grid; a grid this many times the rows read is not a
# series with gaps but a time column with a wrong or far-off label (a year 1000000000000 among
# 1..40 made a grid of 10**12 times, 4.5 GB after 60 s; a date in 2200 among seconds, 45 GB).
FILL_RATIO = 10


def _grid_size(name: str, labels: list[str], count: float) -> int:
    """``count`` times from the first label to the last, or a ``ValueError`` when that is more than
    ``FILL_RATIO`` per row read."""
    most = FILL_RATIO * len(labels)
    if not count <= most:  # NaN too
        raise ValueError(f"`time_column` {name!r} runs from {labels[0]!r} to {labels[-1]!r}: {count:.4g} times in its "
                         f"step for {len(labels)} rows, and at most {most} ({FILL_RATIO} a row) are made when gaps are "
                         "looked for or filled; check its labels, or leave out `time_column`")
    return int(round(count))


def _steps_between(first: pd.Timestamp, last: pd.Timestamp, offset) -> float:
    """About how many ``offset`` steps lead from ``first`` to ``last`` (within one of the truth)."""
    try:
        length = (first + offset) - first  # a calendar month: its first month's length; close enough
        return (last - first) / length if length > pd.Timedelta(0) else float("inf")
    except (OverflowError, ValueError):
        return float("inf")


def _frequency(dates: pd.DatetimeIndex):
    """pandas' frequency of the dates, or their most common step: a pandas frequency or a Timedelta."""
    frequency = pd.infer_freq(dates) if len(dates) >= 3 else None
    if frequency is not None:
        return frequency
    if len(dates) < 2:
        return None
    # With a gap pandas infers nothing: take the most common step, in calendar units where it is one.
    days = np.diff(np.asarray((dates - dates[0]) / pd.Timedelta(days=1), np.float64))  # whatever pandas' resolution
    values, counts = np.unique(np.round(days, 6), return_counts=True)
    step = float(values[np.argmax(counts)])
    if 28 <= step <= 31:
        return "MS" if (dates.day == 1).all() else "ME" if dates.is_month_end.all() else None
    if 365 <= step <= 366:
        return "YS" if ((dates.day == 1) & (dates.month == 1)).all() else "YE" if (
            (dates.day == 31) & (dates.month == 12)).all() else None
    return pd.Timedelta(days=step) if step > 0 else None


def _date_label(stamp: pd.Timestamp) -> str:
    return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)


def future_labels(labels: list[str], count: int) -> list[str]:
    """``count`` labels after ``labels`` in the series' regular step; ``+k`` when there is none."""
    if count <= 0:
        return []
    try:
        numbers = [float(label) for label in labels[-3:]]
        step = numbers[-1] - numbers[-2]
        whole = all(label.strip().lstrip("-").isdigit() for label in labels[-3:])
        return [str(int(round(numbers[-1] + k * step))) if whole else f"{numbers[-1] + k * step:g}"
                for k in range(1, count + 1)]
    except (ValueError, IndexError):
        pass
    dates = pd.DatetimeIndex(pd.to_datetime(pd.Series(labels[-10:]), format="mixed"))
    frequency = _frequency(dates)
    if frequency is None:
        return [f"+{k}" for k in range(1, count + 1)]
    return [_date_label(stamp) for stamp in pd.date_range(dates[-1], periods=count + 1, freq=frequency)[1:]]




def future_room(labels: list[str], count: int) -> int:
    """How many of the ``count`` labels after ``labels`` ``future_labels`` can make: all of them,
    or those before a number leaves float's range or a date passes the last one pandas holds
    (``pd.Timestamp.max``, 2262-04-11: nanoseconds in 64 bits). Found by bisection on the last
    label alone, so it costs nothing for any ``count``."""
    if count <= 0:
        return max(0, count)
    try:
        numbers = [float(label) for label in labels[-3:]]
        step = numbers[-1] - numbers[-2]
        return budget.largest(lambda k: math.isfinite(numbers[-1] + k * step), count)
    except (ValueError, IndexError):
        pass
    dates = pd.DatetimeIndex(pd.to_datetime(pd.Series(labels[-10:]), format="mixed"))
    frequency = _frequency(dates)
    if frequency is None:
        return count  # "+k" labels: any count can be made

    def fits(k: int) -> bool:
        try:
            return dates[-1] + k * pd.tseries.frequencies.to_offset(frequency) <= pd.Timestamp.max
        except (OverflowError, ValueError):  # pandas' OutOfBoundsDatetime is a ValueError
            return False

    return budget.largest(fits, count)


# The season a calendar step implies, by the first letters of pandas' frequency: a year of months or
# quarters or weeks, a week of days (of business days), a day of hours. Years, minutes and numeric
# steps imply none that the calendar knows.
CALENDAR_SEASONS = (("BQ", 4, "quarterly"), ("Q", 4, "quarterly"), ("BM", 12, "monthly"), ("SM", 24, "half-monthly"),
                    ("M", 12, "monthly"), ("W", 52, "weekly"), ("B", 5, "business-daily"), ("D", 7, "daily"),
                    ("h", 24, "hourly"), ("H", 24, "hourly"))


def calendar_season(labels: tuple[str, ...] | list[str] | None) -> tuple[int, str] | None:
    """``(season, "monthly")`` where the rows' times are dates in a calendar step that has a
    season (months 12, quarters 4, weeks 52, days 7, business days 5, hours 24); None for
    numbers, years, minutes, or no regular step.

    >>> calendar_season(["1949-01", "1949-02", "1949-03"])
    (12, 'monthly')
    >>> calendar_season(["1700", "1701", "1702"]) is None
    True
    """
    if labels is None or len(labels) < 3:
        return None
    try:
        [float(label) for label in labels[:3]]
        return None  # plain numbers (a year, a step): no calendar
    except ValueError:
        pass
    try:
        dates = pd.DatetimeIndex(pd.to_datetime(pd.Series(list(labels)), format="mixed"))
        frequency = pd.infer_freq(dates)
    except (ValueError, TypeError):
        return None
    if frequency is None:
        return None
    code = pd.tseries.frequencies.to_offset(frequency).name
    for prefix, season, word in CALENDAR_SEASONS:
        if code.startswith(prefix):
            return season, word
    return None
