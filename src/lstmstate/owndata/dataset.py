"""The user's own data read from a file and checked: a sequence of symbols from UTF-8 text, or
numeric columns from a CSV file.

Every mistake a user can make with the file is a one-line ``ValueError`` raised before anything
is trained or written: a missing, empty, binary or non-UTF-8 file, a single distinct symbol, an
unknown column, a missing or non-numeric value (naming its line and column).

Characters are turned into ids without a Python object per character, so a 10 MB text costs a
few arrays of 4 bytes per character, not a list of ten million strings::

    text "abca"  -> code points [97 98 99 97] -> present: a b c -> ids [0 1 2 0]
"""

import csv
import hashlib
import io
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from lstmstate.core.vocabulary import Vocabulary
from lstmstate.storage import files
from lstmstate.owndata import timeline

TOKENS = ("char", "word", "line")  # what one symbol of a text is
NUMERIC_SUFFIXES = (".csv",)  # files read as numeric columns unless --tokens says text


@dataclass(frozen=True)
class Symbols:
    """A sequence of symbols: the ids of its items, and what each id stands for."""

    source: str  # the file it was read from, as the user gave it
    tokens: str  # "char", "word" or "line": what one symbol is
    vocabulary: Vocabulary  # id -> symbol, sorted so ids do not depend on the order of the text
    ids: np.ndarray  # (item,) int32 symbol ids, in the order of the file

    kind = "symbols"  # a class constant, not a field: what the rest of the pipeline branches on

    @property
    def items(self) -> int:
        return len(self.ids)

    def describe(self) -> str:
        noun = {"char": "characters", "word": "words", "line": "lines"}[self.tokens]
        return f"{self.items} {noun}, {self.vocabulary.size} distinct"


@dataclass(frozen=True)
class Numbers:
    """Numeric columns over time: one row per step, several features per step, one target."""

    source: str  # the file it was read from, as the user gave it
    columns: tuple[str, ...]  # the feature columns, in the order the user listed them
    target: str  # the column whose next value is predicted (one of ``columns``)
    values: np.ndarray  # (item, column) float64, in file order
    time_column: str | None = None  # the column the rows' times come from, when the file has one
    labels: tuple[str, ...] | None = None  # (item,) each row's time, as written (inserted rows: made)
    filled: int = 0  # values filled in (--fill): missing cells, and every value of rows inserted at gaps
    fill: str | None = None  # how they were filled: "interpolate", "ffill", or None (nothing was allowed)

    kind = "numbers"  # a class constant, not a field: what the rest of the pipeline branches on

    @property
    def items(self) -> int:
        return len(self.values)

    @property
    def target_index(self) -> int:
        return self.columns.index(self.target)

    @property
    def checksum(self) -> str:
        """The SHA-256 of the values (float64, row-major): what a run records of its series, so a
        CSV read again can be checked to be the same one."""
        return hashlib.sha256(np.ascontiguousarray(self.values, np.float64).tobytes()).hexdigest()

    @property
    def target_values(self) -> np.ndarray:
        """The target column, ``(item,)`` float64 in original units."""
        return self.values[:, self.target_index]

    def describe(self) -> str:
        text = f"{self.items} rows of {len(self.columns)} column(s) {', '.join(self.columns)}; target {self.target}"
        if self.time_column is not None:
            text += f"; time {self.time_column} {self.labels[0]}..{self.labels[-1]}"
        if self.filled:
            text += f"; {self.filled} value{'s' if self.filled > 1 else ''} filled ({self.fill})"
        return text


def read(path: Path, tokens: str | None = None, columns: str | None = None, target: str | None = None,
         time_column: str | None = None, fill: str | None = None) -> Symbols | Numbers:
    """The data in ``path``: numbers when columns or a target are given or the file is a CSV
    (and ``tokens`` does not ask for text), else symbols (characters unless ``tokens`` says).
    Numbers keep the rows' times from the time column (named, or detected) and are checked for
    gaps and missing values, filled only when ``fill`` says how (``owndata.timeline``)."""

    numeric = columns is not None or target is not None or time_column is not None or fill is not None or (
        tokens is None and Path(path).suffix.lower() in NUMERIC_SUFFIXES)
    if numeric:
        if tokens is not None:
            raise ValueError("`tokens` is for text; `columns` and `target` are for numeric CSV files: give one or the other")
        text = _read_text(path)  # read and checked once, for the time column and the values alike
        named = tuple(c.strip() for c in (columns or "").split(",") if c.strip()) + ((target.strip(),) if target else ())
        found = timeline.read(text, path, time_column, exclude=named)
        # The time column labels the rows; by default every other column is a feature.
        data = read_numbers(path, columns, target, missing=fill is not None, skip=(found[0],) if found else (),
                            text=text)
        whole = timeline.completed(data.values, found, fill)
        return replace(data, values=whole.values, time_column=whole.time_column, labels=whole.labels,
                       filled=whole.filled, fill=fill)
    return read_symbols(path, tokens or "char")


def _read_text(path: Path) -> str:
    return files.read_text(path, "a UTF-8 text or CSV file")


def read_symbols(path: Path, tokens: str = "char") -> Symbols:
    """The text of ``path`` as a sequence of characters, whitespace-separated words, or lines."""
    if tokens not in TOKENS:
        raise ValueError(f"unknown `tokens` {tokens!r}; choose one of {', '.join(TOKENS)}")
    text = _read_text(path)
    if tokens == "char":
        vocabulary, ids = _characters(text)
    else:
        items = text.split() if tokens == "word" else text.splitlines()
        if not items:
            raise ValueError(f"{path} holds no {tokens}s (only whitespace)")
        vocabulary = Vocabulary.from_sequence(items)
        index = {symbol: i for i, symbol in enumerate(vocabulary.symbols)}
        ids = np.fromiter((index[s] for s in items), dtype=np.int32, count=len(items))
    if vocabulary.size < 2:
        raise ValueError(f"{path} holds a single distinct symbol ({vocabulary.symbols[0]!r}): "
                         "there is nothing to predict")
    return Symbols(str(path), tokens, vocabulary, ids)


def _characters(text: str) -> tuple[Vocabulary, np.ndarray]:
    """Vocabulary and ids of every character, sorted by code point (as ``sorted(set(text))``)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)  # (item,) code points
    present = np.flatnonzero(np.bincount(codes))  # at most 0x110000 counters, whatever the length
    lookup = np.zeros(int(present[-1]) + 1, np.int32)
    lookup[present] = np.arange(len(present), dtype=np.int32)
    return Vocabulary(tuple(chr(c) for c in present)), lookup[codes]


def read_numbers(path: Path, columns: str | None = None, target: str | None = None,
                 missing: bool = False, skip: tuple[str, ...] = (), text: str | None = None) -> Numbers:
    """Numeric ``columns`` (comma-separated names; default all) of the CSV ``path``, whose first
    row names the columns (default: all but those in ``skip``, the time column); ``target``
    defaults to the only column. With ``missing``, an empty cell is NaN (for
    ``timeline.completed`` to fill) instead of an error. ``text`` is the file's text when the
    caller has read it already (with ``_read_text``'s checks)."""
    text = _read_text(path) if text is None else text
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or not any(name.strip() for name in header):
        raise ValueError(f"{path} has no header row naming its columns")
    header = [name.strip() for name in header]
    chosen = [name for name in header if name not in skip] if columns is None else [
        name.strip() for name in columns.split(",") if name.strip()]
    if not chosen:
        raise ValueError("`columns` names no column")
    for name in chosen:
        if name not in header:
            raise ValueError(f"unknown column {name!r}; {path} has columns: {', '.join(header)}")
    for name in chosen:
        if header.count(name) > 1:  # which of the two would be read is anyone's guess
            raise ValueError(f"{path}'s header names column {name!r} twice; give each column its own name")
    if len(set(chosen)) != len(chosen):
        twice = next(name for name in chosen if chosen.count(name) > 1)
        raise ValueError(f"`columns` names column {twice!r} twice; name each column once")
    if target is None:
        if len(chosen) > 1:
            raise ValueError(f"{len(chosen)} columns ({', '.join(chosen)}): say which to predict with `target`")
        target = chosen[0]
    target = target.strip()
    if target not in header:
        raise ValueError(f"unknown `target` column {target!r}; {path} has columns: {', '.join(header)}")
    if target not in chosen:
        chosen.append(target)  # the target is also an input: its past is the first thing to use
    positions = [header.index(name) for name in chosen]
    rows = []
    for row in reader:
        if not row or all(not cell.strip() for cell in row):
            continue  # blank lines (a trailing newline) are not rows
        line = reader.line_num
        values = []
        for name, position in zip(chosen, positions):
            cell = row[position].strip() if position < len(row) else ""
            if not cell and missing:
                values.append(np.nan)
                continue
            if not cell:
                raise ValueError(f"{path} line {line}: column {name!r} has no value; fill it, or give `fill` "
                                 "interpolate|ffill")
            try:
                value = float(cell)
            except ValueError:
                raise ValueError(f"{path} line {line}: column {name!r} holds {cell!r}, which is not a number") from None
            if not np.isfinite(value):
                raise ValueError(f"{path} line {line}: column {name!r} holds {cell!r}, which is not a finite number")
            values.append(value)
        rows.append(values)
    if not rows:
        raise ValueError(f"{path} has a header but no rows of data")
    return Numbers(str(path), tuple(chosen), target, np.asarray(rows, np.float64))
