"""What a user may give the API as data, turned into what the pipeline reads: a path, a pandas
DataFrame or Series, a NumPy array of numbers, or a Python string of text.

Data in memory is written as the file the command line would read (a DataFrame as CSV, with its
index as the time column; a string as UTF-8 text) and read by ``owndata.dataset.read``, the one
reader there is, so the same values give the same numbers whichever way they came::

    DataFrame (index 1700..2008, column SUNACTIVITY)  ->  YEAR,SUNACTIVITY\\n1700,5.0\\n...  ->  Numbers
    "the text of argparse.py ..."                      ->  the same characters as UTF-8     ->  Symbols

pandas writes a float as the shortest string that reads back as the same float, so the CSV
holds the values exactly (a test checks the series' checksum against the file's). The text is
kept, so that a run saved later carries its data (``DATA_FILE`` in the run folder) and the
command line's ``forecast``, ``backtest`` and ``train --resume`` read it from there.
"""

import os
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from lstmstate.owndata import dataset
from lstmstate.owndata.dataset import Numbers, Symbols
from lstmstate.storage import runfolder
from lstmstate.storage.files import write_atomically

DATA_FILE = {".csv": "data.csv", ".txt": "data.txt"}  # in a run folder: the data given in memory
INDEX_NAME = "time"  # the time column's name for an index that has none
SINGLE_COLUMN = "value"  # the column's name for a Series without a name or a 1-D array
ACCEPTED = ("a path (str or pathlib.Path) to a .csv or text file, a pandas DataFrame or Series, a NumPy array of "
            "numbers, or a str of text")
# A str this short without a line break that ends like a file name is meant as a path.
PATH_LIKE = re.compile(r"[^\n\r]{1,4096}\.(csv|txt|tsv|text|md)", re.IGNORECASE)


@dataclass(frozen=True, eq=False)
class Given:
    """The data as the pipeline reads it, and the file it was read from when it came in memory."""

    data: Symbols | Numbers  # what training, scoring and forecasting read
    text: str | None  # the file written for data given in memory (None: the user's own file)
    suffix: str  # ".csv" (numbers) or ".txt" (symbols): how ``text`` is read
    label: str  # what the user gave, in their words ("a DataFrame"), for messages and results.json

    def kept(self, folder: Path) -> Symbols | Numbers:
        """The data, its file written into the run ``folder`` when it came in memory, and its
        ``source`` that file's absolute path: what the run folder records and the command line
        reads again (``forecast``, ``backtest``, ``train --resume``)."""
        if self.text is None:
            return self.data
        path = runfolder.target(folder, DATA_FILE[self.suffix])  # checked: inside the folder, no link
        write_atomically(path, self.text.encode("utf-8"))
        return replace(self.data, source=str(path.resolve()))


def read(data, tokens: str | None = None, columns: str | None = None, target: str | None = None,
         time_column: str | None = None, fill: str | None = None) -> Given:
    """``data`` read as ``lstmstate train --data`` reads a file; a ``ValueError`` naming ``data``
    when it is none of ``ACCEPTED``."""
    if isinstance(data, os.PathLike) or (isinstance(data, str) and _is_path(data)):
        if not Path(data).exists():
            raise ValueError(f"data: no such file: {data}")
        if not Path(data).is_file():
            raise ValueError(f"data: {data} is not a file")
        return Given(dataset.read(Path(data), tokens, columns, target, time_column, fill), None, "", str(data))
    if isinstance(data, str):
        numeric = {"columns": columns, "target": target, "time_column": time_column, "fill": fill}
        given = [name for name, value in numeric.items() if value is not None]
        if given:
            verb = "is" if len(given) == 1 else "are"
            raise ValueError(f"data is a str of text (symbols); {', '.join(given)} {verb} for numbers: give a "
                             "DataFrame, a Series or the path of a CSV file")
        return _through_file(data, ".txt", "a string of text", tokens=tokens or "char")
    if isinstance(data, pd.Series):
        name = SINGLE_COLUMN if data.name is None else str(data.name)
        return _frame(data.to_frame(name), "a Series", tokens, columns, target or name, time_column, fill)
    if isinstance(data, pd.DataFrame):
        return _frame(data, "a DataFrame", tokens, columns, target, time_column, fill)
    if isinstance(data, (np.ndarray, list, tuple)):
        return _array(data, tokens, columns, target, time_column, fill)
    raise ValueError(f"data must be {ACCEPTED}; got {type(data).__name__}")


def _is_path(text: str) -> bool:
    """Whether a str names a file: one that exists, or one that looks like a file name (a
    missing file is then an error, not a tiny text to train on)."""
    if "\n" in text or len(text) > 4096:
        return False
    return Path(text).is_file() or PATH_LIKE.fullmatch(text.strip()) is not None


def _array(data, tokens, columns, target, time_column, fill) -> Given:
    values = np.asarray(data)
    if values.dtype == bool or not np.issubdtype(values.dtype, np.number) or values.ndim not in (1, 2):
        raise ValueError(f"data as an array must be numbers, 1-D (one series) or 2-D (rows x columns); got "
                         f"dtype {values.dtype}, shape {values.shape}. For text give a str, for a table a DataFrame")
    names = [SINGLE_COLUMN] if values.ndim == 1 else [f"x{i}" for i in range(values.shape[1])]
    frame = pd.DataFrame(values.reshape(len(values), -1), columns=names)
    if values.ndim == 1:
        target = target or SINGLE_COLUMN
    return _frame(frame, "a NumPy array", tokens, columns, target, time_column, fill)


def _frame(frame: pd.DataFrame, label: str, tokens, columns, target, time_column, fill) -> Given:
    """A DataFrame as the CSV the command line would read: its index, unless it is the default
    0..n-1, is the time column (pass ``time_column`` to take a column instead)."""
    if tokens is not None:
        raise ValueError(f"tokens is for text; data is {label} of numbers")
    if isinstance(frame.columns, pd.MultiIndex) or isinstance(frame.index, pd.MultiIndex):
        raise ValueError(f"data is {label} with a MultiIndex; give one level of columns and of rows "
                         "(DataFrame.reset_index, DataFrame.droplevel)")
    frame = frame.rename(columns=str)
    default_index = isinstance(frame.index, pd.RangeIndex) and frame.index.name is None
    index_is_time = not default_index and time_column is None
    if not default_index:
        name = INDEX_NAME if frame.index.name is None else str(frame.index.name)
        if name in frame.columns:
            raise ValueError(f"data: {label}'s index is named {name!r}, as one of its columns is; rename one "
                             "(DataFrame.rename_axis)")
        index = frame.index.to_timestamp() if isinstance(frame.index, pd.PeriodIndex) else frame.index
        frame = frame.set_axis(index.rename(name), axis=0)
        time_column = time_column or name
    text = frame.to_csv(index=not default_index, lineterminator="\n")
    try:
        return _through_file(text, ".csv", label, columns=columns, target=target, time_column=time_column, fill=fill)
    except ValueError as error:
        if index_is_time and "time_column" in str(error):
            raise ValueError(f"{error} (the index of {label} is read as the rows' times; "
                             "give time_column=... to take a column instead, or reset_index(drop=True))") from None
        raise


def _through_file(text: str, suffix: str, label: str, **reading) -> Given:
    """``text`` read as a file of ``suffix`` by the dataset reader, messages naming ``label``
    where they named the file (and a row from 0 where they named the file's line)."""
    with tempfile.TemporaryDirectory(prefix="lstmstate-") as folder:
        path = Path(folder) / DATA_FILE[suffix]
        path.write_text(text, encoding="utf-8")
        try:
            data = dataset.read(path, reading.get("tokens"), reading.get("columns"), reading.get("target"),
                                reading.get("time_column"), reading.get("fill"))
        except ValueError as error:
            raise ValueError(_renamed(str(error), str(path), label)) from None
    return Given(replace(data, source=label), text, suffix, label)


def _renamed(message: str, path: str, label: str) -> str:
    # "PATH line 7: ..." is the file's 7th line: the header is line 1, so it is data row 5 from 0.
    message = re.sub(re.escape(path) + r" line (\d+)", lambda m: f"{label}, row {int(m.group(1)) - 2} (from 0)",
                     message)
    return message.replace(path, label)
