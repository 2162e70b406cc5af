"""Text features: numbers a reader can compute by hand from a text of characters, one per
character, that a cell of a language model may track (Karpathy, Johnson and Fei-Fei 2015,
"Visualizing and Understanding Recurrent Networks": a cell for inside quotes, one for the
position in the line).

Each feature is the value after reading the character at that position, so it lines up with
the state after that character (``trained.state_record``)::

    text            a  "  b  (  c  )  "  \\n  d
    line position   0  1  2  3  4  5  6  7   0
    inside quotes   0  1  1  1  1  1  0  0   0
    bracket depth   0  0  0  1  1  0  0  0   0

Every function takes the characters ``(step,)`` as a list of one-character strings and returns
floats ``(step,)``.
"""

import numpy as np

OPENING, CLOSING = "([{", ")]}"


def line_position(text: list[str]) -> np.ndarray:
    """Characters read since the last line break, the line break ending its line.

    >>> line_position(list("ab\\ncd")).tolist()
    [0.0, 1.0, 2.0, 0.0, 1.0]
    """
    return _since(np.array([c == "\n" for c in text], bool), inclusive=False)


def since_space(text: list[str]) -> np.ndarray:
    """Characters read since the last whitespace (0 at the whitespace; the text starts as after one).

    >>> since_space(list("ab cd")).tolist()
    [1.0, 2.0, 0.0, 1.0, 2.0]
    """
    return _since(np.array([c.isspace() for c in text], bool), inclusive=True)


def _since(breaks: np.ndarray, inclusive: bool) -> np.ndarray:
    # The index of the last break by a running maximum (no Python loop: texts run to millions of
    # characters); inclusive: a break at this step counts (it reads 0), else only those before it.
    steps = np.arange(len(breaks))
    last = np.maximum.accumulate(np.where(breaks, steps, -1)) if len(breaks) else steps
    if inclusive:
        return (steps - last).astype(float)
    before = np.concatenate([[-1], last[:-1]]) if len(breaks) else steps
    return (steps - before - 1).astype(float)


def inside_quotes(text: list[str]) -> np.ndarray:
    """1 from an opening double quote up to (not including) its closing one, else 0.

    >>> inside_quotes(list('a"bc"d')).tolist()
    [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    """
    return (np.cumsum([c == '"' for c in text]) % 2).astype(float)


def bracket_depth(text: list[str]) -> np.ndarray:
    """Brackets ``( [ {`` open after this character, never below 0 (a closing one too many is ignored).

    >>> bracket_depth(list("(a[b])c)(")).tolist()
    [1.0, 1.0, 2.0, 2.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    """
    change = np.array([(c in OPENING) - (c in CLOSING) for c in text], float)
    level = np.cumsum(change)
    # Depth floored at 0 is the running sum less its lowest point so far below 0 (a reflected walk).
    return level - np.minimum(np.minimum.accumulate(level), 0.0) if len(text) else level


def character_class(kind: str, text: list[str]) -> np.ndarray:
    """1 where the character is of ``kind`` (letter, digit, space or punctuation), else 0.

    >>> character_class("letter", list("a1 ,")).tolist()
    [1.0, 0.0, 0.0, 0.0]
    >>> character_class("punctuation", list("a1 ,")).tolist()
    [0.0, 0.0, 0.0, 1.0]
    """
    test = {"letter": str.isalpha, "digit": str.isdigit, "space": str.isspace,
            "punctuation": lambda c: not (c.isalnum() or c.isspace())}[kind]
    return np.array([test(c) for c in text], float)


def alphabet_position(text: list[str]) -> np.ndarray:
    """The letter's place in the Latin alphabet, a = 1 … z = 26 (case ignored), 0 for anything else.

    >>> alphabet_position(list("AbZ?")).tolist()
    [1.0, 2.0, 26.0, 0.0]
    """
    return np.array([ord(c.lower()) - 96 if "a" <= c.lower() <= "z" else 0 for c in text], float)


# Name -> (what a reader is told, the function). Order is the order of the table.
FEATURES = {
    "line position": ("characters since the last line break", line_position),
    "inside quotes": ('1 inside double quotes "…", else 0', inside_quotes),
    "bracket depth": ("open brackets ( [ {", bracket_depth),
    "since space": ("characters since the last whitespace", since_space),
    "is letter": ("1 for a letter, else 0", lambda text: character_class("letter", text)),
    "is digit": ("1 for a digit, else 0", lambda text: character_class("digit", text)),
    "is space": ("1 for whitespace, else 0", lambda text: character_class("space", text)),
    "is punctuation": ("1 for anything not a letter, digit or whitespace", lambda text: character_class("punctuation", text)),
    "alphabet position": ("a = 1 … z = 26, 0 for a non-letter", alphabet_position),
}


def features(text: list[str]) -> dict[str, np.ndarray]:
    """Every feature of ``FEATURES`` for ``text`` (characters), each ``(step,)``.

    >>> {name: values.tolist() for name, values in features(list("(a)")).items()}["bracket depth"]
    [1.0, 1.0, 0.0]
    """
    if any(len(c) != 1 for c in text):
        raise ValueError("text features are measured on characters; this text's symbols are longer (words or lines)")
    return {name: function(text) for name, (_, function) in FEATURES.items()}
