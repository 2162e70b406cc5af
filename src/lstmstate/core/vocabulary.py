"""A vocabulary: the symbols of a sequence, each mapped to an integer id and back."""

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# How symbols of a text split into words or lines (owndata.dataset.TOKENS) join back into text;
# characters, and the tutorial's letters, are joined as they are.
SEPARATORS = {"word": " ", "line": "\n"}


def joined(symbols: Iterable[str], tokens: str | None) -> str:
    """``symbols`` as the text they were split from.

    >>> joined(["to", "be"], "word"), joined("AB", None)
    ('to be', 'AB')
    """
    return SEPARATORS.get(tokens, "").join(symbols)


@dataclass(frozen=True)
class Vocabulary:
    """Symbols in id order: ``symbols[i]`` has id ``i``.

    >>> v = Vocabulary.from_symbols("ABC")
    >>> v.encode("CAB").tolist(), v.decode([2, 0])
    ([2, 0, 1], ['C', 'A'])
    """

    symbols: tuple[str, ...]  # id -> symbol; ids are positions, so the order is the vocabulary

    def __post_init__(self):
        if len(self.symbols) == 0:
            raise ValueError("a vocabulary needs at least one symbol")
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError("vocabulary symbols must be distinct")

    @classmethod
    def from_symbols(cls, symbols: Iterable[str]) -> "Vocabulary":
        """The vocabulary of ``symbols`` as given, in that order."""
        return cls(tuple(symbols))

    @classmethod
    def from_sequence(cls, sequence: Iterable[str]) -> "Vocabulary":
        """The distinct symbols of ``sequence``, sorted, so the ids do not depend on their order."""
        return cls(tuple(sorted(set(sequence))))

    @classmethod
    def alphabet(cls) -> "Vocabulary":
        """The tutorial's 26 capital letters, A=0 … Z=25."""
        return cls(tuple(ALPHABET))

    @property
    def size(self) -> int:
        return len(self.symbols)

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, symbol: str) -> bool:
        return symbol in self._index

    @property
    def _index(self) -> dict[str, int]:
        # Built on demand: frozen dataclasses cannot cache without tricks, and vocabularies are small.
        return {s: i for i, s in enumerate(self.symbols)}

    def encode(self, symbols: Iterable[str]) -> np.ndarray:
        """Ids of ``symbols``, shape ``(len,)`` int32; an unknown symbol is a ``ValueError``."""
        index = self._index
        ids = []
        for s in symbols:
            if s not in index:
                raise ValueError(f"symbol {s!r} is not in the vocabulary ({self.describe()})")
            ids.append(index[s])
        return np.asarray(ids, dtype=np.int32)

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Symbols of ``ids``."""
        return [self.symbols[int(i)] for i in ids]

    def describe(self, limit: int = 40) -> str:
        """A short listing of the symbols for error messages."""
        shown = ", ".join(repr(s) for s in self.symbols[:limit])
        more = f", … ({self.size} in all)" if self.size > limit else ""
        return shown + more
