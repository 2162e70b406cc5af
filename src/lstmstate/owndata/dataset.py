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
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstmstate.core.vocabulary import Vocabulary

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

    kind = "numbers"  # a class constant, not a field: what the rest of the pipeline branches on

    @property
    def items(self) -> int:
        return len(self.values)

    @property
    def target_index(self) -> int:
        return self.columns.index(self.target)

    @property
    def target_values(self) -> np.ndarray:
        """The target column, ``(item,)`` float64 in original units."""
        return self.values[:, self.target_index]

    def describe(self) -> str:
        return f"{self.items} rows of {len(self.columns)} column(s) {', '.join(self.columns)}; target {self.target}"


def read(path: Path, tokens: str | None = None, columns: str | None = None,
         target: str | None = None) -> Symbols | Numbers:
    """The data in ``path``: numbers when columns or a target are given or the file is a CSV
    (and ``tokens`` does not ask for text), else symbols (characters unless ``tokens`` says)."""
    numeric = columns is not None or target is not None or (
        tokens is None and Path(path).suffix.lower() in NUMERIC_SUFFIXES)
    if numeric:
        if tokens is not None:
            raise ValueError("--tokens is for text; --columns and --target are for numeric CSV files: give one or the other")
        return read_numbers(path, columns, target)
    return read_symbols(path, tokens or "char")


def _read_text(path: Path) -> str:
    """The file as text, checked: present, not empty, not binary, UTF-8 (a BOM is dropped)."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such file")
    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from None
    if not data:
        raise ValueError(f"{path} is empty")
    # Text never holds NUL bytes; images, archives and model files almost always do.
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ValueError(f"{path} looks binary (a NUL byte at offset {nul}); give a UTF-8 text or CSV file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text: byte 0x{data[error.start]:02x} at offset {error.start} "
                         "cannot be decoded; convert the file to UTF-8") from None


def read_symbols(path: Path, tokens: str = "char") -> Symbols:
    """The text of ``path`` as a sequence of characters, whitespace-separated words, or lines."""
    if tokens not in TOKENS:
        raise ValueError(f"unknown --tokens {tokens!r}; choose one of {', '.join(TOKENS)}")
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


def read_numbers(path: Path, columns: str | None = None, target: str | None = None) -> Numbers:
    """Numeric ``columns`` (comma-separated names; default all) of the CSV ``path``, whose first
    row names the columns; ``target`` defaults to the only column."""
    text = _read_text(path)
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or not any(name.strip() for name in header):
        raise ValueError(f"{path} has no header row naming its columns")
    header = [name.strip() for name in header]
    chosen = header if columns is None else [name.strip() for name in columns.split(",") if name.strip()]
    if not chosen:
        raise ValueError("--columns names no column")
    for name in chosen:
        if name not in header:
            raise ValueError(f"unknown column {name!r}; {path} has columns: {', '.join(header)}")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"--columns names a column twice: {columns}")
    if target is None:
        if len(chosen) > 1:
            raise ValueError(f"{len(chosen)} columns ({', '.join(chosen)}): say which to predict with --target")
        target = chosen[0]
    target = target.strip()
    if target not in header:
        raise ValueError(f"unknown --target column {target!r}; {path} has columns: {', '.join(header)}")
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
            if not cell:
                raise ValueError(f"{path} line {line}: column {name!r} has no value")
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
