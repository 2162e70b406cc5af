"""Samples of the user's data in each framing: the training inputs and targets the engine reads,
and the inputs whose predictions are scored on the held-out part.

Symbols are framed as their ids; numbers are framed as their *positions* and then looked up in
the scaled table, so the same ``framing`` functions serve both, and a step of numbers holds
every column (several features per step)::

    positions 0 1 2 3 4, window 2:  [0 1] -> 2   -> x = scaled[[0, 1]]  (step=2, feature=columns)
                                    [1 2] -> 3      y = scaled target at 3

Stateless framings score the held-out targets from their own samples. The carried-state
framings score a pass over the whole sequence in the training layout of streams, so the held-out
part is read warm, after the training part, as a stateful model is used; its inputs are built
once and the training inputs are a view of them (the stream framing costs one float per item
and feature, never a window per item).
"""

from dataclasses import dataclass, replace

import numpy as np

from lstmstate.core import framing
from lstmstate.owndata.dataset import Numbers, Symbols
from lstmstate.core.encoding import Encoding
from lstmstate.owndata.split import Split
from lstmstate.owndata.scaling import Scaling

# "auto" feeds symbols one-hot up to this many distinct symbols (every character set of a text),
# and through an Embedding of AUTO_EMBEDDING dimensions above it (word tokens), where a one-hot
# kernel would hold a row per word. Either way the ids stay integers until the compiled program.
ONE_HOT_SYMBOLS = 256
AUTO_EMBEDDING = 64


@dataclass(frozen=True)
class Samples:
    """One framing of one dataset, ready for the engine and for held-out scoring."""

    framing: str  # one of core.framing.FRAMINGS
    x_train: np.ndarray  # (sample, step, feature) float32; symbols one-hot or embedded: (sample, step, slot) int32 ids
    y_train: np.ndarray  # (sample,) int32 ids, or (sample, 1) float32 scaled next target values
    x_scored: np.ndarray  # the inputs passed through for scoring, as x_train
    layout: np.ndarray  # (batch, row) indices into x_scored, in the order the model reads them
    first_held_out: int  # samples of x_scored from this index on have held-out targets
    held_out_targets: np.ndarray  # (held-out,) ids, or target values in original units
    batch_size: int  # training batch size (the number of streams for stateful-streams)
    encoding: str  # "one-hot", "embedding", "scalar" (symbols) or "standardized" (numbers)
    mask_value: float | None  # the value of padded steps, None when nothing is padded
    scaling: Scaling | None  # numbers: the training part's scaling; symbols: None
    vocabulary_size: int = 0  # symbols: distinct symbols; numbers: 0

    @property
    def carries_state(self) -> bool:
        return framing.get(self.framing).carries_state

    @property
    def steps(self) -> int:
        return self.x_train.shape[1]

    @property
    def in_program(self) -> Encoding | None:
        """The encoding the compiled program applies to ids (one-hot, embedding); None when
        the inputs are floats already (numbers, scalar symbols)."""
        if self.encoding not in IN_PROGRAM:
            return None
        return Encoding(self.encoding, self.vocabulary_size)

    @property
    def features(self) -> int:
        """Floats per step as the model reads them."""
        coder = self.in_program
        return self.x_train.shape[2] * (coder.features(1) if coder else 1)


IN_PROGRAM = ("one-hot", "embedding")  # encodings made from integer ids inside the compiled program


def choose_encoding(requested: str, data: Symbols | Numbers) -> str:
    """The encoding of the inputs: numbers are standardized; symbols (``auto``) one-hot up to
    ``ONE_HOT_SYMBOLS`` distinct symbols and an embedding above, or as the user asked. The
    tutorial's id / vocabulary size (``scalar``) only when asked for: it hides which symbol came."""
    if data.kind == "numbers":
        return "standardized"
    if requested not in ("auto", "one-hot", "scalar", "embedding"):
        raise ValueError(f"unknown `encoding` {requested!r}; choose one of auto, one-hot, scalar "
                         "(or `embedding` D for an Embedding layer)")
    if requested != "auto":
        return requested
    return "one-hot" if data.vocabulary.size <= ONE_HOT_SYMBOLS else "embedding"


def embedding_width(requested: int, encoding: str) -> int:
    """The Embedding's width: as asked (``--embedding D``), or ``AUTO_EMBEDDING`` when ``auto``
    chose an embedding; 0 for every other encoding."""
    if encoding != "embedding":
        return 0
    return requested or AUTO_EMBEDDING


def frame(data: Symbols | Numbers, split: Split, framing_name: str, window: int, batch_size: int | None,
          encoding: str = "auto", horizon: int = 1) -> Samples:
    """The samples of ``data`` in ``framing_name``; every out-of-range choice is a ``ValueError``.
    Numbers with ``horizon`` H > 1 (window framings only) have H targets per sample, the next H
    values, and a training sample keeps all H inside the training part."""
    chosen = framing.get(framing_name)
    chosen.check_window(window, split.train_items)
    batch = chosen.batch_size(batch_size, chosen.train_samples(window, split.train_items))
    encoding = choose_encoding(encoding, data)
    if data.kind == "numbers":
        scaling = Scaling.fit(data.columns, data.values[:split.train_items])
        table = scaling.apply(data.values)  # (item, column) float32
        sequence = np.arange(data.items, dtype=np.int32)  # frame positions, look them up below
        held_out_targets = data.target_values[split.train_items:]
    else:
        scaling, table = None, None
        sequence = data.ids
        held_out_targets = data.ids[split.train_items:]
    featurize = _featurizer(data, encoding, table)
    targets = _targeter(data, table, horizon)

    if chosen.carries_state:
        # One pass over the whole sequence: training is its first part, scoring reads it all.
        framed = framing.next_symbol(sequence)  # sample i: item i -> item i+1
        x_all = featurize(framed.inputs)
        y_all = targets(framed.targets)
        del framed
        trained = split.train_items - 1
        # Drop the first samples, not the last, so every stream is full and no held-out target is lost.
        start = trained % batch
        x_train, y_train = x_all[start:trained], y_all[start:trained]
        scored_start = (len(x_all)) % batch
        layout = scored_start + framing.batchify(len(x_all) - scored_start, batch)
        return Samples(framing_name, x_train, y_train, x_all, layout, trained, held_out_targets,
                       batch, encoding, None, scaling, _vocabulary_size(data))

    # The held-out targets with the items before them that their samples read.
    train, scored = chosen.cut(sequence[:split.train_items], sequence[split.train_items - chosen.context(window):],
                               window)
    if horizon > 1:
        # A direct model of H values learns only from samples whose H targets are all training values.
        keep = train.targets + horizon - 1 < split.train_items
        train = framing.Framed(train.inputs[keep], train.targets[keep])
    mask_value = None
    if framing_name == "variable-length":
        mask_value = _mask_value(encoding, table)
    x_train, y_train = featurize(train.inputs, mask_value), targets(train.targets)
    x_scored = featurize(scored.inputs, mask_value)
    layout = np.arange(scored.samples, dtype=np.int32)[:, None]
    return Samples(framing_name, x_train, y_train, x_scored, layout, 0, held_out_targets,
                   batch, encoding, mask_value, scaling, _vocabulary_size(data))


def _vocabulary_size(data: Symbols | Numbers) -> int:
    return data.vocabulary.size if data.kind == "symbols" else 0


def _mask_value(encoding: str, table: np.ndarray | None) -> float:
    if table is None:
        return Encoding(encoding, 2).mask_value
    # Standardized numbers can take any value; a padded step must be one no real step has.
    return float(np.floor(table.min()) - 1.0)


def _featurizer(data, encoding: str, table: np.ndarray | None):
    """``ids (sample, step, slot) -> x (sample, step, feature)`` float32."""
    if data.kind == "numbers":
        def lookup(positions, mask_value=None):
            x = table[np.maximum(positions, 0)]  # (sample, step, slot, column)
            if mask_value is not None:
                x[positions == framing.PAD] = mask_value
            return x.reshape(positions.shape[0], positions.shape[1], -1)
        return lookup
    if encoding in IN_PROGRAM:
        # Kept as ids (PAD for padding): the compiled program encodes them (Encoding.in_program).
        return lambda ids, mask_value=None: np.asarray(ids, np.int32)
    coder = Encoding(encoding, data.vocabulary.size)
    # The encoding maps PAD to its own mask value, which is the mask_value passed in.
    return lambda ids, mask_value=None: coder.encode(ids)


def _targeter(data, table: np.ndarray | None, horizon: int = 1):
    """``target ids or positions (sample,) -> y`` as the engine reads it."""
    if data.kind == "numbers":
        column = data.target_index
        ahead = np.arange(horizon)
        # (sample, horizon) scaled: the target and the horizon - 1 values after it
        return lambda positions: table[np.minimum(positions[:, None] + ahead, len(table) - 1), column]
    return lambda ids: ids


def part(framed: Samples, start: int, stop: int) -> Samples:
    """``framed`` scoring only its scored targets ``start..stop-1`` (counted from its first):
    the validation part, or the held-out part after it. A carried state still reads the sequence
    from its start, so the part is read warm, after everything before it::

        scored targets   v v v h h h h      part(framed, 0, 3): the validation part (the inputs
                         0 1 2 3 4 5 6      end with its last target); part(framed, 3, 7): held out
    """
    targets = framed.held_out_targets[start:stop]
    if framed.carries_state:
        end = framed.first_held_out + stop  # the samples up to the part's last target
        x = framed.x_scored[:end]
        first = len(x) % framed.batch_size  # as frame does: drop the first samples so every stream is full
        layout = first + framing.batchify(len(x) - first, framed.batch_size)
        return replace(framed, x_scored=x, layout=layout, first_held_out=framed.first_held_out + start,
                       held_out_targets=targets)
    return replace(framed, x_scored=framed.x_scored[start:stop], layout=np.arange(stop - start, dtype=np.int32)[:, None],
                   first_held_out=0, held_out_targets=targets)
