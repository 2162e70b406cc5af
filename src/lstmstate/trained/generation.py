"""Generation: a model's predictions (or draws from them) fed back as its inputs, in compiled
blocks of steps.

A model trained with carried state (one time step per sample) is a stream: the state after each
step is the input state of the next, so priming (feeding a context first) and cold starts (from
zero state) are visible in what comes out. Any other model generates by sliding its window
(``trained.window`` draws it). Either way one compiled program makes ``BLOCK`` steps at once, a
``jax.lax.scan`` over the steps with the state (or the window) as its carry, and the next block
starts where it ended::

    stream, primed with "AB", start C, 3 steps:
      fed      A   B   C   D'  E'          (D' E' F': chosen, each fed back)
      forced   B   C   .   .   .           the prime and the start are fed as given
      chosen   .   .   D'  E'  F'          then each step's choice is the next input
      block    |<------ one scan ------>|  carry: (state, the symbol to feed)

Each block is one call into compiled code, so a caller can print it as soon as it exists: a long
generation shows its progress, and Ctrl-C or SIGTERM keeps what was printed.
"""

import functools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from lstmstate.core import fused
from lstmstate.core.encoding import Encoding
from lstmstate.core.framing import PAD
from lstmstate.core.model import ModelSpec, call
from lstmstate.core.vocabulary import Vocabulary
from lstmstate.trained import sampling as sampling_
from lstmstate.trained.sampling import Sampling
from lstmstate.trained.window import WindowStep, window_size

# Steps per compiled block: few enough that the first are printed at once, enough that the call
# overhead (about 0.1 ms a call) is small beside the steps' own time.
BLOCK = 64
# Steps of a long prime read at once by the fused program (nothing is printed then): fewer calls.
PRIME_BLOCK = 1024
# Each draw is numbered in uint32 (np.arange(..., dtype=np.uint32) then fold_in): past this the
# numbers would wrap and the draws repeat (or NumPy refuses the number, hours into a run).
MAX_STEPS = 2 ** 32 - 2 * BLOCK


@dataclass(frozen=True)
class Step:
    """One generated step of a stream: what went in and what came out."""

    given: str  # the symbol fed at this step
    predicted: str  # the next symbol: the most probable one, or the one drawn (``Sampling``)


@functools.lru_cache(maxsize=16)
def _built(spec: ModelSpec):
    """The Keras model of ``spec`` and its non-trainable values, built once per model shape for
    every program here: each call takes a seed's weights, so the model's own are never read."""
    model = spec.build(initialized=False)
    return model, [v.value for v in model.non_trainable_variables]


# ---- one step at a time: the reference, and what a state trace reads ----------------------------


@functools.lru_cache(maxsize=16)
def _compiled_step(spec: ModelSpec):
    """One compiled step per model shape, shared by every seed (weights are an argument)."""
    model, non_trainable = _built(spec)

    def step(weights, x, state):
        y, state, _ = call(model, spec, weights, non_trainable, x, state)
        return y, state

    return jax.jit(step)


class StepModel:
    """One seed's model as a single-step function ``(x, state) -> (probabilities, state)``,
    batch size 1. The state is the model's flat tuple (``ModelSpec.zero_state``: ``(h, c)`` per
    LSTM layer, ``(h,)`` per GRU layer)."""

    def __init__(self, spec: ModelSpec, weights: list[np.ndarray]):
        if not spec.has_state or spec.steps != 1:
            raise ValueError("step-by-step generation needs a recurrent model of one time step per sample")
        self.spec = spec
        self.weights = [jnp.asarray(w) for w in weights]
        self._step = _compiled_step(spec)

    def zero_state(self) -> tuple:
        return tuple(jnp.asarray(s) for s in self.spec.zero_state(1))

    def __call__(self, x: np.ndarray, state):
        """``x`` is ``(features,)`` for one step; returns ``(probabilities (outputs,), state)``."""
        y, state = self._step(self.weights, jnp.asarray(x, jnp.float32).reshape(1, 1, -1), tuple(state))
        return np.asarray(y[0]), state


def feed(step_model: StepModel, encoding: Encoding, ids, state=None):
    """Feed ``ids`` one by one from ``state`` (zero state if None); returns the state after the
    last one and the predicted id after each. One call per id: for a few steps, or to check the
    compiled blocks against."""
    state = step_model.zero_state() if state is None else state
    predicted = []
    for i in ids:
        probabilities, state = step_model(encoding.encode(np.array([[[i]]]))[0, 0], state)
        predicted.append(int(np.argmax(probabilities)))
    return state, predicted


# ---- generation in compiled blocks -------------------------------------------------------------


def generate(step_model: StepModel, encoding: Encoding, vocabulary: Vocabulary, start: str,
             steps: int, prime: str | list[str] = (), sampling: Sampling = Sampling()) -> list[Step]:
    """Feed ``prime`` (a context, possibly empty: a cold start), then ``start``, then each
    next symbol in turn, ``steps`` times, carrying the state throughout.

    A stateful model trained on the alphabet, started cold at ``K``, has the state it has after
    ``A``; primed with ``A..J``, it has the state it learned to have before ``K``.
    """
    return list(generate_steps(step_model, encoding, vocabulary, start, steps, prime, sampling))


def generate_steps(step_model: StepModel, encoding: Encoding, vocabulary: Vocabulary, start: str,
                   steps: int, prime: str | list[str] = (), sampling: Sampling = Sampling()) -> Iterator[Step]:
    """``generate`` one step at a time, each as soon as its block is made, so a caller can print
    it at once and nothing is collected in memory. The arguments are checked now."""
    blocks = stream_blocks(step_model.spec, step_model.weights, encoding, vocabulary, start, steps, prime, sampling)
    return (step for block in blocks for step in block)


def stream_blocks(spec: ModelSpec, weights, encoding: Encoding, vocabulary: Vocabulary, start: str, steps: int,
                  prime: str | list[str] = (), sampling: Sampling = Sampling()) -> Iterator[list[Step]]:
    """A stream's generation (see ``generate``) as lists of ``Step``, one per compiled block.
    The arguments are checked now, not at the first block."""
    if not spec.has_state or spec.steps != 1:
        raise ValueError("stream generation needs a recurrent model of one time step per sample")
    fed = _checked(vocabulary, start, steps, prime)
    table = _encoding_table(encoding, spec.features, 1)
    return _stream_blocks(spec, [jnp.asarray(w) for w in weights], encoding, table, vocabulary, fed, steps, sampling)


def window_blocks(spec: ModelSpec, weights, encoding: Encoding, vocabulary: Vocabulary, start: str, steps: int,
                  prime: list[str] = (), sampling: Sampling = Sampling()) -> Iterator[list[WindowStep]]:
    """A stateless model's generation by sliding its window (``trained.window``), as lists of
    ``WindowStep``, one per compiled block: the steps of a window slid one prediction at a time (``trained.window``) at
    temperature 0. The arguments are checked now."""
    fed = _checked(vocabulary, start, steps, prime)
    size = window_size(spec, encoding)
    table = _encoding_table(encoding, spec.features, size // spec.steps)
    # Not yet full, the window is left-padded as ``trained.window`` describes: the reserved padding
    # id where the model masks it, else id 0 (Keras's pad_sequences).
    pad = PAD if spec.mask_value is not None else 0
    history = deque([pad] * size + [int(i) for i in fed], maxlen=size)
    return _window_blocks(spec, [jnp.asarray(w) for w in weights], table, vocabulary, history, steps, sampling)


def _checked(vocabulary: Vocabulary, start: str, steps: int, prime) -> np.ndarray:
    """The ids fed before the first choice, ``prime`` then ``start``, checked."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    if steps > MAX_STEPS:
        raise ValueError(f"`steps` {steps} is more than generation numbers: its draws are counted in 32 bits "
                         f"(jax.random.fold_in); use `steps` {MAX_STEPS} or fewer")
    for symbol in dict.fromkeys([*prime, start]):  # each distinct symbol once, in order: a long prime repeats them
        if symbol not in vocabulary:
            raise ValueError(f"symbol {symbol!r} is not in the vocabulary; it holds {vocabulary.describe()}")
    return vocabulary.encode([*prime, start])


def _encoding_table(encoding: Encoding, features: int, slots: int) -> jnp.ndarray:
    """``encoding.encode`` of every id and of the padding, ``(vocabulary size + 1, features per
    id)``; row ``vocabulary size`` is the padding's. Compiled steps index it instead of calling
    ``encode``: an id's features do not depend on its neighbours, and a window's features are its
    ids' features one after another (the order ``encode`` lays slots in)."""
    ids = np.append(np.arange(encoding.vocabulary_size), PAD).reshape(-1, 1, 1)  # (id, step, slot)
    table = encoding.encode(ids)[:, 0, :]  # (id, features per id)
    if table.shape[1] * slots != features:
        raise ValueError(f"the model reads {features} features per step; {slots} symbol(s) of its "
                         f"{encoding.name} encoding make {table.shape[1] * slots}")
    return jnp.asarray(table)


def _chooser(greedy: bool):
    """``(key, draw, probabilities, temperature) -> id``. Greedy generation compiles no random
    numbers: a program that draws takes about twice as long to compile (0.65 s of CPU against
    0.37 s for a 32-unit char model, measured), and temperature 0 is the default."""
    if greedy:
        return lambda key, draw, probabilities, temperature: sampling_.most_probable(probabilities)
    return lambda key, draw, probabilities, temperature: sampling_.choose(jax.random.fold_in(key, draw),
                                                                          probabilities, temperature)


@functools.lru_cache(maxsize=16)
def _compiled_stream(spec: ModelSpec, greedy: bool):
    """``(weights, table, state, current, forced, is_forced, draws, key, temperature) -> (state,
    current, made)``: one block of a stream, as many steps as ``forced`` is long. Step ``j`` feeds
    ``current``, then the next input is ``forced[j]`` where ``is_forced[j]`` (the prime and the
    start) and otherwise the symbol chosen with draw number ``draws[j]``; ``made`` is
    ``(steps,)``, the next input after each step."""
    model, non_trainable = _built(spec)
    chooser = _chooser(greedy)

    def block(weights, table, state, current, forced, is_forced, draws, key, temperature):
        def one(carry, step):
            state, current = carry
            forced_next, forced_here, draw = step
            x = table[current][None, None, :]  # (1, 1, features)
            y, state, _ = call(model, spec, weights, non_trainable, x, state)  # y: (1, outputs)
            chosen = chooser(key, draw, y[0], temperature)
            following = jnp.where(forced_here, forced_next, chosen)
            return (state, following), following

        (state, current), made = jax.lax.scan(one, (state, current), (forced, is_forced, draws))
        return state, current, made

    return jax.jit(block)


@functools.lru_cache(maxsize=16)
def _compiled_prime(spec: ModelSpec, encoding: Encoding):
    """``(weights, state, ids (PRIME_BLOCK,)) -> state`` after feeding the ids: the fused sequence
    program that held-out scoring reads through (``core.fused``), one input projection for the
    block and only the recurrence in its time loop; no head, since nothing is chosen while priming."""
    model, non_trainable = _built(spec)
    layout = fused.Layout.of(model, spec)

    def prime(weights, state, ids):
        x = ids[:, None, None]  # (step, row 1, slot 1)
        mask = jnp.ones((len(ids), 1), bool)
        _, state, _ = fused.sequence(spec, encoding, layout, weights, non_trainable, x, state, mask)
        return state

    return jax.jit(prime)


def _stream_blocks(spec: ModelSpec, weights, encoding: Encoding, table, vocabulary: Vocabulary, fed: np.ndarray,
                   steps: int, sampling: Sampling) -> Iterator[list[Step]]:
    compiled = _compiled_stream(spec, sampling.greedy)
    key = jax.random.key(sampling.seed)
    temperature = jnp.float32(sampling.temperature)
    state = tuple(jnp.asarray(s) for s in spec.zero_state(1))
    primed = len(fed) - 1  # steps that feed the prime (the start's is the first generated one)
    total = primed + steps
    done, given = 0, int(fed[-1])
    # A long prime's whole blocks are read by the fused program (the prime's symbols are known, so
    # no step waits for a choice; stream_blocks has checked the model is one fused.supports); the
    # rest of it, the start and the generation BLOCK steps at a time. A prime shorter than a block
    # (the tutorial's) is fed step by step, as it always was.
    if primed >= PRIME_BLOCK:
        prime = _compiled_prime(spec, encoding)
        for done in range(0, primed - PRIME_BLOCK + 1, PRIME_BLOCK):
            state = prime(weights, state, jnp.asarray(fed[done:done + PRIME_BLOCK], jnp.int32))
        done += PRIME_BLOCK
    current = jnp.int32(fed[done])
    while done < total:
        j = np.arange(done, done + BLOCK)  # the steps of this block, counted from the first fed
        forced = np.where(j + 1 < len(fed), fed[np.minimum(j + 1, len(fed) - 1)], 0).astype(np.int32)
        # Draw i is the i-th generated symbol's, whatever the prime's length or the block sizes.
        draws = np.maximum(j - primed, 0).astype(np.uint32)
        state, current, made = compiled(weights, table, state, current, forced, j + 1 < len(fed), draws, key,
                                        temperature)
        block = []
        for index, following in zip(j, np.asarray(made).tolist()):
            if primed <= index < total:
                block.append(Step(vocabulary.symbols[given], vocabulary.symbols[following]))
                given = following
        done += BLOCK
        if block:
            yield block


@functools.lru_cache(maxsize=16)
def _compiled_window(spec: ModelSpec, greedy: bool):
    """``(weights, table, window, draws, key, temperature) -> (window, made)``: one block of
    window steps, as many as ``draws`` is long. ``window`` is ``(size,)`` table rows (the
    padding's row for padding), oldest first; each step reads it from a zero state, chooses the
    next symbol, and slides it in."""
    model, non_trainable = _built(spec)
    zero_state = spec.zero_state(1)
    chooser = _chooser(greedy)

    def block(weights, table, window, draws, key, temperature):
        def one(window, draw):
            x = table[window].reshape(1, spec.steps, -1)  # (1, steps, features)
            y, _, _ = call(model, spec, weights, non_trainable, x, zero_state)  # y: (1, outputs)
            chosen = chooser(key, draw, y[0], temperature)
            return jnp.concatenate([window[1:], chosen[None]]), chosen

        return jax.lax.scan(one, window, draws)

    return jax.jit(block)


def _window_blocks(spec: ModelSpec, weights, table, vocabulary: Vocabulary, history: deque, steps: int,
                   sampling: Sampling) -> Iterator[list[WindowStep]]:
    compiled = _compiled_window(spec, sampling.greedy)
    key = jax.random.key(sampling.seed)
    temperature = jnp.float32(sampling.temperature)
    padding_row = len(table) - 1
    window = jnp.asarray([padding_row if i == PAD else i for i in history], jnp.int32)
    done = 0
    while done < steps:
        window, made = compiled(weights, table, window, np.arange(done, done + BLOCK, dtype=np.uint32), key,
                                temperature)
        block = []
        for following in np.asarray(made).tolist()[: steps - done]:
            # Zero padding is shown as the symbol it is (the tutorial's pitfall: 0 is also A); masked padding as "".
            shown = tuple(vocabulary.symbols[i] if i != PAD else "" for i in history)
            block.append(WindowStep(shown, vocabulary.symbols[following]))
            history.append(following)
        done += BLOCK
        yield block
