"""Framings: the ways a sequence of symbol ids becomes (input, next-symbol) training samples.

Every framing is pure NumPy and returns a ``Framed``: integer ids shaped ``(sample, step, slot)``
and targets shaped ``(sample,)``. A *slot* is one id inside a step: the tutorial's "window as
features" puts three ids in one step (three slots), its "window as time steps" puts one id in
each of three steps. Padding that the model must ignore is the reserved id ``PAD`` (-1), which
encodings turn into a masked value; the tutorial's own padding is id 0, which is also ``A``.
"""

import warnings
from dataclasses import dataclass

import numpy as np

PAD = -1  # reserved padding id: no symbol has it, encodings map it to the mask value


@dataclass(frozen=True)
class Framed:
    """Samples of one framing."""

    inputs: np.ndarray  # (sample, step, slot) int32 symbol ids, PAD where padded
    targets: np.ndarray  # (sample,) int32 id of the symbol that follows each input

    def __post_init__(self):
        if self.inputs.ndim != 3 or self.targets.ndim != 1 or len(self.inputs) != len(self.targets):
            raise ValueError(
                f"a framing needs inputs (sample, step, slot) and targets (sample,), "
                f"got {self.inputs.shape} and {self.targets.shape}"
            )

    @property
    def samples(self) -> int:
        return len(self.targets)

    @property
    def steps(self) -> int:
        return self.inputs.shape[1]

    @property
    def slots(self) -> int:
        return self.inputs.shape[2]

    @property
    def masked(self) -> bool:
        """Whether any input is the reserved padding id, so the model needs a mask."""
        return bool((self.inputs == PAD).any())

    def last_ids(self) -> np.ndarray:
        """The id of the last symbol of each input, shape ``(sample,)``."""
        return self.inputs[:, -1, -1]


def _as_ids(ids) -> np.ndarray:
    ids = np.asarray(ids, dtype=np.int32)
    if ids.ndim != 1:
        raise ValueError(f"a sequence of ids must be one-dimensional, got shape {ids.shape}")
    return ids


def _require_length(ids: np.ndarray, needed: int, what: str) -> None:
    if len(ids) < needed:
        raise ValueError(
            f"the sequence has {len(ids)} symbols, too short for {what}: it needs at least {needed}"
        )


def next_symbol(ids) -> Framed:
    """One symbol -> the next: the tutorial's naive one-char framing.

    ::

        sequence  A B C D            input (sample, step=1, slot=1)   target
                  |/|/|/              [[A]]                         -> B
                  A>B B>C C>D         [[B]]                         -> C
                                      [[C]]                         -> D

    >>> f = next_symbol([0, 1, 2, 3])
    >>> f.inputs[:, 0, 0].tolist(), f.targets.tolist()
    ([0, 1, 2], [1, 2, 3])
    """
    ids = _as_ids(ids)
    _require_length(ids, 2, "one symbol -> next")
    return Framed(ids[:-1].reshape(-1, 1, 1), ids[1:].copy())


def _windows(ids: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    _require_length(ids, window + 1, f"a window of {window}")
    view = np.lib.stride_tricks.sliding_window_view(ids[:-1], window)  # (sample, window)
    return np.ascontiguousarray(view), ids[window:].copy()


def window_features(ids, window: int) -> Framed:
    """A window of ``window`` symbols as that many features of one time step.

    ::

        sequence  A B C D E
        window 3: [A B C] -> D      input (sample, step=1, slot=3): [[A, B, C]]
                  [B C D] -> E                                       [[B, C, D]]

    The LSTM sees one step, so it has no recurrence to use: the tutorial's "feature window".

    >>> f = window_features([0, 1, 2, 3, 4], 3)
    >>> f.inputs.tolist(), f.targets.tolist()
    ([[[0, 1, 2]], [[1, 2, 3]]], [3, 4])
    """
    x, y = _windows(_as_ids(ids), window)
    return Framed(x[:, None, :], y)


def window_timesteps(ids, window: int) -> Framed:
    """A window of ``window`` symbols as that many time steps of one feature.

    ::

        sequence  A B C D E
        window 3: A -> B -> C => D    input (sample, step=3, slot=1): [[A], [B], [C]]
                  B -> C -> D => E                                     [[B], [C], [D]]

    The LSTM steps through the window, so its state carries the context within a sample.

    >>> f = window_timesteps([0, 1, 2, 3, 4], 3)
    >>> f.inputs[:, :, 0].tolist(), f.targets.tolist()
    ([[0, 1, 2], [1, 2, 3]], [3, 4])
    """
    x, y = _windows(_as_ids(ids), window)
    return Framed(x[:, :, None], y)


def _left_pad(runs: list[np.ndarray], length: int, pad_id: int) -> np.ndarray:
    out = np.full((len(runs), length), pad_id, dtype=np.int32)
    for row, run in enumerate(runs):
        out[row, length - len(run):] = run
    return out


def random_runs(ids, count: int, max_length: int, rng: np.random.Generator, reserved_padding: bool) -> Framed:
    """``count`` random runs of 1..``max_length`` consecutive symbols -> the symbol after the run,
    left-padded to ``max_length`` steps.

    ::

        run R S      padded to 5, tutorial's way:   [A A A R S] -> T   (pad id 0 is also A)
                     padded with a reserved id: [- - - R S] -> T   (- is PAD, masked)

    The draw follows the tutorial: ``start`` uniform over the first ``len - 2`` positions, ``end``
    uniform in ``[start, min(start + max_length, len - 1))``; the run is ``ids[start:end + 1]``.

    >>> f = random_runs([0, 1, 2, 3], 2, 2, np.random.default_rng(0), reserved_padding=True)
    >>> f.inputs.shape, bool((f.inputs[:, :, 0] >= -1).all())
    ((2, 2, 1), True)
    """
    ids = _as_ids(ids)
    if count < 1 or max_length < 1:
        raise ValueError(f"count and max_length must be at least 1, got {count} and {max_length}")
    _require_length(ids, 3, "random runs")
    runs, targets = [], []
    for _ in range(count):
        start = int(rng.integers(len(ids) - 2))
        end = int(rng.integers(start, min(start + max_length, len(ids) - 1)))
        runs.append(ids[start:end + 1])
        targets.append(ids[end + 1])
    pad_id = PAD if reserved_padding else 0
    return Framed(_left_pad(runs, max_length, pad_id)[:, :, None], np.asarray(targets, dtype=np.int32))


def prefixes(ids, length: int | None = None) -> Framed:
    """Every prefix of the sequence -> the symbol after it, left-padded with ``PAD`` to ``length``.

    ::

        - - - A -> B        the stateless twin of a stateful model: each sample replays the
        - - A B -> C        sequence from its start, so the state at the last step is the
        - A B C -> D        state a stateful model would carry there.

    ``length`` defaults to the longest prefix (``len(ids) - 1``).

    >>> f = prefixes([0, 1, 2])
    >>> f.inputs[:, :, 0].tolist(), f.targets.tolist()
    ([[-1, 0], [0, 1]], [1, 2])
    """
    ids = _as_ids(ids)
    _require_length(ids, 2, "prefixes")
    length = len(ids) - 1 if length is None else length
    if length < len(ids) - 1:
        raise ValueError(f"prefix length {length} is shorter than the longest prefix ({len(ids) - 1})")
    runs = [ids[:k] for k in range(1, len(ids))]
    return Framed(_left_pad(runs, length, PAD)[:, :, None], ids[1:].copy())


def batchify(samples: int, streams: int) -> np.ndarray:
    """The parallel-stream layout for stateful training: sample indices shaped ``(batch, stream)``.

    As ``batchify`` in PyTorch's word_language_model: the samples, in order, are cut into
    ``streams`` contiguous streams; batch ``t`` holds the ``t``-th sample of every stream, so
    row ``b`` of each batch continues row ``b`` of the batch before it and a carried state stays
    with its own stream. With 26 samples ``a..z`` and 4 streams::

        ┌ a g m s ┐   batch 0 = [a g m s]
        │ b h n t │   batch 1 = [b h n t]     columns are streams: a..f, g..l, m..r, s..x
        │ c i o u │   ...
        │ d j p v │
        │ e k q w │
        └ f l r x ┘   y and z do not fill a row of 4: they are dropped, with a warning.

    >>> batchify(6, 2).tolist()
    [[0, 3], [1, 4], [2, 5]]
    """
    if streams < 1:
        raise ValueError(f"streams must be at least 1, got {streams}")
    if samples < streams:
        raise ValueError(f"{samples} samples cannot fill {streams} streams of at least one sample")
    batches = samples // streams
    dropped = samples - batches * streams
    if dropped:
        warnings.warn(
            f"{samples} samples do not divide into {streams} streams: the last {dropped} "
            f"sample(s) are dropped ({batches} per stream kept)",
            stacklevel=2,
        )
    return np.arange(batches * streams, dtype=np.int32).reshape(streams, batches).T.copy()


# ---- the registry: each framing's layout, counts and rules, in one place ----------------------

STATELESS_BATCH = 32  # Keras fit's default batch size
RUNS_DATA_SEED = 7  # the random runs of variable-length, drawn as the tutorial draws its own (numpy seed 7)


@dataclass(frozen=True)
class Framing:
    """How one framing cuts a sequence of ids (or of positions into a table of numbers).

    A window framing reads ``window`` items per sample; a carried framing reads one item per
    step and carries its state from batch to batch, in ``batchify``'s streams."""

    name: str
    carries_state: bool  # the state goes on from batch to batch (no window: one item a step)
    windowed: bool  # reads --window items per sample
    default_batch: int  # the batch size when none is asked for (streams for stateful-streams)
    steps_are_window: bool = False  # the window's items are time steps (else: one step)
    slots_are_window: bool = False  # the window's items are features of one step (else: one slot)

    def steps(self, window: int) -> int:
        """Time steps per sample."""
        return window if self.steps_are_window else 1

    def slots(self, window: int) -> int:
        """Ids per step."""
        return window if self.slots_are_window else 1

    def context(self, window: int) -> int:
        """Items before a target that its sample reads."""
        return window if self.windowed else 1

    def train_samples(self, window: int, train_items: int) -> int:
        """Samples the training part makes: one per target, less the first ``window`` for a
        full window (variable-length draws as many random runs as one-step has samples).

        >>> get("window-timesteps").train_samples(3, 10), get("variable-length").train_samples(3, 10)
        (7, 9)
        """
        return train_items - (window if self.windowed and self.name != "variable-length" else 1)

    def batch_size(self, requested: int | None, train_samples: int) -> int:
        """The batch size, checked against the training samples it has to fill.

        >>> get("stateful").batch_size(None, 50), get("window-features").batch_size(None, 10)
        (1, 10)
        """
        if self.name == "stateful":
            if requested not in (None, 1):
                raise ValueError(f"the stateful framing is one stream, batch size 1 (got `batch_size` {requested}); "
                                 "use stateful-streams for several streams")
            return 1
        chosen = requested if requested is not None else min(self.default_batch, train_samples)
        if chosen < 1 or chosen > train_samples:  # a default never asks for more than the data has
            what = "streams" if self.carries_state else "samples per batch"
            raise ValueError(f"`batch_size` {chosen} is out of range for {self.name}: the fitting part has "
                             f"{train_samples} samples, so give 1..{train_samples} {what}")
        return chosen

    def check_window(self, window: int, train_items: int) -> None:
        """A window that fits the training part, for the framings that read one."""
        if not self.windowed:
            return
        if window < 1:
            raise ValueError(f"`window` must be at least 1, got {window}")
        if window >= train_items:
            raise ValueError(f"`window` {window} is out of range: the fitting part has {train_items} items, "
                             f"too short for it; the window can be 1..{train_items - 1}")
        if self.name == "variable-length" and train_items < 3:
            raise ValueError(f"the fitting part has {train_items} items, too short for random runs (it needs 3)")

    def cut(self, training: np.ndarray, scored: np.ndarray, window: int) -> tuple[Framed, Framed]:
        """The training samples of ``training``, and one scored sample per target of ``scored``
        (which starts ``context(window)`` items before its first target) of a stateless framing.

        variable-length trains on random runs and scores each window cut to a random length, so
        it is scored on the same targets as every other framing::

            training  A B C D E F    random runs -> next:  [- B C] -> D, [- - E] -> F, ...
            scored    C D E | F G    windows cut at random: [- D E] -> F, [D E F] -> G

        >>> train, scored = get("window-features").cut(np.arange(5), np.arange(2, 7), 2)
        >>> train.inputs.shape, scored.targets.tolist()
        ((3, 1, 2), [4, 5, 6])
        """
        if self.carries_state:
            raise ValueError(f"{self.name} carries its state over the whole sequence; it is not cut into samples")
        if self.name == "one-step":
            return next_symbol(training), next_symbol(scored)
        if self.name == "window-features":
            return window_features(training, window), window_features(scored, window)
        if self.name == "window-timesteps":
            return window_timesteps(training, window), window_timesteps(scored, window)
        rng = np.random.default_rng(RUNS_DATA_SEED)
        runs = random_runs(training, len(training) - 1, window, rng, reserved_padding=True)
        return runs, random_lengths(window_timesteps(scored, window), rng)


def random_lengths(framed: Framed, rng: np.random.Generator) -> Framed:
    """Each window cut to a random 1..window last items, the rest padded with ``PAD``.

    >>> cut = random_lengths(window_timesteps([0, 1, 2, 3, 4], 3), np.random.default_rng(0))
    >>> bool(((cut.inputs == PAD) | (cut.inputs >= 0)).all()), bool((cut.inputs[:, -1] >= 0).all())
    (True, True)
    """
    inputs = framed.inputs.copy()
    window = inputs.shape[1]
    lengths = rng.integers(1, window + 1, size=len(inputs))
    inputs[np.arange(window)[None, :] < (window - lengths)[:, None]] = PAD
    return Framed(inputs, framed.targets)


REGISTRY = {framing.name: framing for framing in (
    Framing("one-step", carries_state=False, windowed=False, default_batch=STATELESS_BATCH),
    Framing("window-features", carries_state=False, windowed=True, default_batch=STATELESS_BATCH, slots_are_window=True),
    Framing("window-timesteps", carries_state=False, windowed=True, default_batch=STATELESS_BATCH, steps_are_window=True),
    Framing("variable-length", carries_state=False, windowed=True, default_batch=STATELESS_BATCH, steps_are_window=True),
    Framing("stateful", carries_state=True, windowed=False, default_batch=1),
    Framing("stateful-streams", carries_state=True, windowed=False, default_batch=16),
)}
FRAMINGS = tuple(REGISTRY)  # the names, in the order compare runs and reports them


def get(name: str) -> Framing:
    """The framing called ``name``; a ``ValueError`` naming the choices otherwise."""
    if name not in REGISTRY:
        raise ValueError(f"unknown framing {name!r}; choose one of {', '.join(FRAMINGS)}")
    return REGISTRY[name]
