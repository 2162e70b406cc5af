"""A prime: the context a generation starts from, read from a text file and split into symbols
the way the run's training text was (``owndata.dataset.read_symbols``)::

    tokens "char"   "to be\\n"  -> 't' 'o' ' ' 'b' 'e' '\\n'   every character, whitespace included
    tokens "word"   "to be\\n"  -> 'to' 'be'                  str.split(): runs of non-whitespace
    tokens "line"   "to be\\n"  -> 'to be'                    str.splitlines()
    None (tutorial) "ABC DE\\n" -> 'A' 'B' 'C' 'D' 'E'        as --prime reads it: letters, whitespace skipped

A symbol outside the vocabulary is refused with where it is, so a user can find it in the file.
"""

import re
from pathlib import Path

from lstmstate.core import budget
from lstmstate.core.vocabulary import Vocabulary
from lstmstate.storage import files

SHOWN = 5  # symbols outside the vocabulary named in the message, with their positions
# Memory a byte of prime takes on its way in: the bytes, the decoded text (up to 4 bytes a
# character), a one-character Python string in the symbol list (8 bytes a pointer; the strings
# themselves are shared), its offset and its id: about 40 bytes.
BYTES_PER_BYTE = 40


def read(path: Path, vocabulary: Vocabulary, tokens: str | None, owner: str, what: str = "`prime_file`") -> list[str]:
    """The symbols of the text file ``path``, each checked against ``vocabulary`` (of the
    experiment ``owner``); ``tokens`` is how the training text was split (None: the tutorial's
    letters); ``what`` names the file in messages. Unreadable, binary, empty or non-UTF-8 files
    are a ``ValueError`` as for ``train``."""
    _check_size(Path(path), what)
    text = files.read_text(Path(path))
    symbols, offsets = _split(text, vocabulary, tokens)
    if not symbols:
        raise ValueError(f"{what} {path} holds no symbols (only whitespace)")
    known = set(vocabulary.symbols)
    unknown = set(symbols) - known
    if unknown:
        where = [(symbol, offset) for symbol, offset in zip(symbols, offsets) if symbol in unknown]
        shown = "; ".join(f"{symbol!r} at {_position(text, offset, tokens)}" for symbol, offset in where[:SHOWN])
        more = f" (the first {SHOWN} of {len(where)})" if len(where) > SHOWN else ""
        raise ValueError(f"{what} {path}: {len(where)} symbol{'s' if len(where) > 1 else ''} not in the "
                         f"vocabulary of {owner!r}: {shown}{more}; it holds {vocabulary.describe()}")
    return symbols


def _check_size(path: Path, what: str) -> None:
    """A ``ValueError`` naming the file (``what``) and the largest size that fits, before it is read."""
    try:
        size = path.stat().st_size
    except OSError:
        return  # files.read_text says what is wrong with it
    available = budget.available_memory()
    room = int(budget.MEMORY_SHARE * available)
    if size * BYTES_PER_BYTE > room:
        end = " (its end is what the generation continues)" if what == "`prime_file`" else ""
        raise ValueError(f"{what} {path} is {size} bytes; split into symbols it needs about "
                         f"{size * BYTES_PER_BYTE} bytes of memory, but {available} are available: give a text "
                         f"of at most {room // BYTES_PER_BYTE} bytes{end}")


def _split(text: str, vocabulary: Vocabulary, tokens: str | None) -> tuple[list[str], list[int]]:
    """The symbols of ``text`` and the offset where each starts (for lines: the line's index)."""
    if tokens is None:
        # The tutorial's runs record no tokenizer: read the file as the command line's --prime is
        # read (SavedExperiment.symbols), words when a symbol is longer than one character.
        tokens = "word" if any(len(s) != 1 for s in vocabulary.symbols) else "letters"
    if tokens == "char":
        return list(text), list(range(len(text)))
    if tokens == "letters":
        pairs = [(c, i) for i, c in enumerate(text) if not c.isspace()]
    elif tokens == "word":
        # \S+ splits where str.split() does: both take whitespace to be str.isspace().
        pairs = [(m.group(), m.start()) for m in re.finditer(r"\S+", text)]
    elif tokens == "line":
        # A line's "offset" is its index: lines end at every break str.splitlines() knows, not only "\n".
        pairs = [(line, index) for index, line in enumerate(text.splitlines())]
    else:
        raise ValueError(f"the run's text was split into {tokens!r}, which this lstmstate does not read")
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _position(text: str, offset: int, tokens: str | None) -> str:
    """Line and column (from 1) of ``offset``, as an editor shows them."""
    if tokens == "line":
        return f"line {offset + 1}"
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column} (offset {offset})"
