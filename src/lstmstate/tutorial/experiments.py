"""The experiments: the tutorial's six, the seventh it describes, and the controls that test its
claims, each composing a framing, an encoding, a model and a training configuration.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lstmstate.core import framing
from lstmstate.core.encoding import Encoding
from lstmstate.core.train_config import TrainConfig
from lstmstate.core.model import ModelSpec
from lstmstate.core.policy import CARRY_WITHIN_EPOCH, RESET_EVERY_BATCH, StatePolicy
from lstmstate.core.vocabulary import Vocabulary

ALPHABET = Vocabulary.alphabet()
MEMORY_SEQUENCE = "ABCDEFABCXYZ"  # after C comes D or X: only the context before C tells which
MEMORY_REPEATS = 3  # the memory sequence is repeated so that each context occurs more than once
VARIABLE_LENGTH_DATA_SEED = 7  # the tutorial draws its 1000 runs after numpy.random.seed(7)
SCRAMBLE_SEED = 26  # the scrambled alphabet's one permutation: the same for every seed and every run
# A reader asked for the letters scrambled, "to avoid the possibility to have a simple linear
# combination which is solved by regression": in id order, the next letter's id is the input's id
# plus one, a straight line in id/26. In this fixed random order the successor of a letter is an
# arbitrary id, so no straight line fits: the model must learn the 25 pairs one by one.
SCRAMBLED_ORDER = np.random.default_rng(SCRAMBLE_SEED).permutation(26)  # (26,) ids in the order the stream visits them


@dataclass(frozen=True)
class Setup:
    """An experiment made concrete: data, encoding, model and training, ready for the engine."""

    framed: framing.Framed  # the samples as symbol ids
    vocabulary: Vocabulary  # symbols of the ids
    encoding: Encoding  # ids -> features
    spec: ModelSpec  # the model
    config: TrainConfig  # the training

    @property
    def x(self) -> np.ndarray:
        return self.encoding.encode(self.framed.inputs)  # (sample, step, feature)

    @property
    def y(self) -> np.ndarray:
        return self.framed.targets  # (sample,)


@dataclass(frozen=True)
class Experiment:
    """One registry entry. ``shows`` says what it shows; ``published_accuracy`` is the tutorial's figure."""

    name: str  # the command-line name
    section: str  # the tutorial's section title, or what the control is for
    published_accuracy: float | None  # the tutorial's single-run accuracy as a fraction; None if it ran none
    shows: str  # one line: what the experiment shows
    data: Callable[[], tuple[framing.Framed, Vocabulary]]  # builds the samples (deterministic)
    units: int  # LSTM units
    epochs: int  # as published
    batch_size: int  # as published
    shuffle: bool  # Keras fit's shuffle
    policy: StatePolicy = RESET_EVERY_BATCH  # what happens to the LSTM state between batches
    model_kind: str = "lstm"  # "lstm" or "dense"
    masked: bool = False  # reserved padding id plus a Masking layer
    encoding: str = "scalar"  # the tutorial's id / vocabulary size, or "one-hot"
    scrambled: bool = False  # the letters visited in SCRAMBLED_ORDER instead of A..Z
    in_default_suite: bool = True  # False: only with `suite --controls` or `run NAME` (they would slow the suite)

    def setup(self, epochs: int | None = None, units: int | None = None, streams: int | None = None) -> Setup:
        """The concrete setup, with ``epochs`` or ``units`` overridden if given; ``streams`` trains
        a stateful experiment as that many parallel streams (``framing.batchify``) instead of one."""
        if streams is not None and not self.carries_state:
            raise ValueError(f"streams apply to stateful experiments only; {self.name!r} resets its state "
                             "every batch, so its batch size is not a number of streams")
        framed, vocabulary = self.data()
        encoding = Encoding(self.encoding, vocabulary.size)
        spec = ModelSpec(
            kind=self.model_kind, steps=framed.steps, features=encoding.features(framed.slots),
            outputs=vocabulary.size, units=units if units is not None else self.units,
            mask_value=encoding.mask_value if self.masked else None)
        config = TrainConfig(epochs=epochs if epochs is not None else self.epochs,
                             batch_size=streams if streams is not None else self.batch_size,
                             shuffle=self.shuffle, policy=self.policy)
        return Setup(framed, vocabulary, encoding, spec, config)

    @property
    def carries_state(self) -> bool:
        return self.policy.carries_state


def _alphabet_pairs():
    return framing.next_symbol(np.arange(26)), ALPHABET


def _alphabet_window_features():
    return framing.window_features(np.arange(26), 3), ALPHABET


def _alphabet_window_timesteps():
    return framing.window_timesteps(np.arange(26), 3), ALPHABET


def _scrambled_pairs():
    return framing.next_symbol(SCRAMBLED_ORDER), ALPHABET


def _scrambled_window_features():
    return framing.window_features(SCRAMBLED_ORDER, 3), ALPHABET


def _scrambled_window_timesteps():
    return framing.window_timesteps(SCRAMBLED_ORDER, 3), ALPHABET


def scrambled_letters() -> str:
    """The scrambled alphabet as letters, in the order the stream visits them (results.json keeps it)."""
    return "".join(ALPHABET.decode(SCRAMBLED_ORDER))


def _alphabet_runs(reserved_padding: bool):
    def build():
        rng = np.random.default_rng(VARIABLE_LENGTH_DATA_SEED)
        return framing.random_runs(np.arange(26), 1000, 5, rng, reserved_padding), ALPHABET
    return build


def _alphabet_prefixes():
    return framing.prefixes(np.arange(26), 25), ALPHABET


def _memory_pairs():
    vocabulary = Vocabulary.from_sequence(MEMORY_SEQUENCE)
    return framing.next_symbol(vocabulary.encode(MEMORY_SEQUENCE * MEMORY_REPEATS)), vocabulary


_EXPERIMENTS = [
    Experiment("one-char", "Naive LSTM for Learning One-Char to One-Char Mapping", 0.84,
               "one letter in, the next out, state reset every sample: no context to use",
               _alphabet_pairs, units=32, epochs=500, batch_size=1, shuffle=True),
    Experiment("window-features", "Naive LSTM for a Three-Char Feature Window to One-Char Mapping", 0.8696,
               "three letters as three features of one time step: more input, still no recurrence",
               _alphabet_window_features, units=32, epochs=500, batch_size=1, shuffle=True),
    Experiment("window-timesteps", "Naive LSTM for a Three-Char Time Step Window to One-Char Mapping", 1.0,
               "three letters as three time steps: the state carries context within each sample",
               _alphabet_window_timesteps, units=32, epochs=500, batch_size=1, shuffle=True),
    Experiment("whole-batch", "LSTM State Within A Batch", 1.0,
               "all 25 pairs in one unshuffled batch for 5000 epochs; samples in a batch do not share state",
               _alphabet_pairs, units=16, epochs=5000, batch_size=25, shuffle=False),
    Experiment("stateful", "Stateful LSTM for a One-Char to One-Char Mapping", 1.0,
               "state carried across batches of one letter, reset at each epoch's end",
               _alphabet_pairs, units=50, epochs=300, batch_size=1, shuffle=False, policy=CARRY_WITHIN_EPOCH),
    Experiment("variable-length", "LSTM with Variable-Length Input to One-Char Output", 0.989,
               "1000 runs of 1..5 letters left-padded with 0, which is also the id of A",
               _alphabet_runs(reserved_padding=False), units=32, epochs=500, batch_size=1, shuffle=True),
    Experiment("prefix-padded", "every prefix padded to 25 (described in the tutorial, not run)", None,
               "the stateless twin of the stateful model: each sample replays the alphabet from A",
               _alphabet_prefixes, units=32, epochs=500, batch_size=1, shuffle=True, masked=True),
    Experiment("whole-batch-shuffled", "control: whole-batch with shuffle=True", None,
               "if order within a batch gave context, shuffling it would hurt",
               _alphabet_pairs, units=16, epochs=5000, batch_size=25, shuffle=True),
    Experiment("dense-only", "control: the one-char data with no LSTM", None,
               "a Dense softmax on id/26 alone: does the alphabet need memory at all?",
               _alphabet_pairs, units=32, epochs=500, batch_size=1, shuffle=True, model_kind="dense"),
    Experiment("dense-onehot", "control: the one-char data, one-hot input, no LSTM", None,
               "a Dense softmax on the letter as a one-hot vector: what a memoryless linear map does "
               "when the encoding does not squeeze 26 letters into one number",
               _alphabet_pairs, units=32, epochs=500, batch_size=1, shuffle=True, model_kind="dense",
               encoding="one-hot", in_default_suite=False),
    Experiment("one-char-scrambled", "control: one-char on a scrambled alphabet", None,
               "one-char with the letters in a fixed random order: what the LSTM learns when the "
               "successor's id is not the input's id plus one",
               _scrambled_pairs, units=32, epochs=500, batch_size=1, shuffle=True, scrambled=True,
               in_default_suite=False),
    Experiment("window-features-scrambled", "control: window-features on a scrambled alphabet", None,
               "three scrambled letters as three features of one step: how much of the 87% the id order gives",
               _scrambled_window_features, units=32, epochs=500, batch_size=1, shuffle=True, scrambled=True,
               in_default_suite=False),
    Experiment("window-timesteps-scrambled", "control: window-timesteps on a scrambled alphabet", None,
               "three scrambled letters as three time steps: how much of the 100% the id order gives",
               _scrambled_window_timesteps, units=32, epochs=500, batch_size=1, shuffle=True, scrambled=True,
               in_default_suite=False),
    Experiment("stateful-scrambled", "control: stateful on a scrambled alphabet", None,
               "the stateful stream over the scrambled letters: carried state with no help from the id order",
               _scrambled_pairs, units=50, epochs=300, batch_size=1, shuffle=False, policy=CARRY_WITHIN_EPOCH,
               scrambled=True, in_default_suite=False),
    Experiment("variable-length-masked", "control: variable-length with a reserved padding id and a mask", None,
               "the fix for padding that equals A: padding is its own value and is skipped",
               _alphabet_runs(reserved_padding=True), units=32, epochs=500, batch_size=1, shuffle=True, masked=True),
    Experiment("memory-stateless", f"control: {MEMORY_SEQUENCE} one symbol -> next, stateless", None,
               "after C comes D or X: a model that sees one symbol cannot beat the memoryless ceiling",
               _memory_pairs, units=32, epochs=500, batch_size=1, shuffle=True),
    Experiment("memory-stateful", f"control: {MEMORY_SEQUENCE} as a stateful stream", None,
               "the carried state can remember what came before C and pass the memoryless ceiling",
               _memory_pairs, units=50, epochs=300, batch_size=1, shuffle=False, policy=CARRY_WITHIN_EPOCH),
]

EXPERIMENTS = {e.name: e for e in _EXPERIMENTS}
DEFAULT_SUITE = tuple(e.name for e in _EXPERIMENTS if e.in_default_suite)  # `lstmstate suite`
CONTROLS = tuple(e.name for e in _EXPERIMENTS if not e.in_default_suite)  # added by `suite --controls`


def get(name: str) -> Experiment:
    """The experiment called ``name``; an unknown name is a ``ValueError`` listing the known ones."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose one of: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]
