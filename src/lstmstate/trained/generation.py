"""Generation with carried state: feed a model's predictions back as its inputs.

Works for every model with explicit state, for one seed at batch size 1: the state after each
step is the input state of the next, so priming (feeding a context first) and cold starts
(starting from zero state) are visible in what comes out.
"""

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from lstmstate.core.encoding import Encoding
from lstmstate.core.model import ModelSpec, call
from lstmstate.core.vocabulary import Vocabulary


@dataclass(frozen=True)
class Step:
    """One generated step: what went in and what came out."""

    given: str  # the symbol fed at this step
    predicted: str  # the most probable next symbol


@functools.lru_cache(maxsize=16)
def _compiled_step(spec: ModelSpec):
    """One compiled step per model shape, shared by every seed (weights are an argument)."""
    model = spec.build()
    non_trainable = [v.value for v in model.non_trainable_variables]

    def step(weights, x, h, c):
        y, (h, c), _ = call(model, spec, weights, non_trainable, x, (h, c))
        return y, h, c

    return jax.jit(step)


class StepModel:
    """One seed's model as a single-step function ``(x, state) -> (probabilities, state)``,
    batch size 1."""

    def __init__(self, spec: ModelSpec, weights: list[np.ndarray]):
        if not spec.has_state or spec.steps != 1:
            raise ValueError("step-by-step generation needs an LSTM model of one time step per sample")
        self.spec = spec
        self.weights = [jnp.asarray(w) for w in weights]
        self._step = _compiled_step(spec)

    def zero_state(self):
        return tuple(jnp.asarray(s) for s in self.spec.zero_state(1))

    def __call__(self, x: np.ndarray, state):
        """``x`` is ``(features,)`` for one step; returns ``(probabilities (outputs,), state)``."""
        y, h, c = self._step(self.weights, jnp.asarray(x, jnp.float32).reshape(1, 1, -1), *state)
        return np.asarray(y[0]), (h, c)


def feed(step_model: StepModel, encoding: Encoding, ids, state=None):
    """Feed ``ids`` one by one from ``state`` (zero state if None); returns the state after the
    last one and the predicted id after each."""
    state = step_model.zero_state() if state is None else state
    predicted = []
    for i in ids:
        probabilities, state = step_model(encoding.encode(np.array([[[i]]]))[0, 0], state)
        predicted.append(int(np.argmax(probabilities)))
    return state, predicted


def generate(step_model: StepModel, encoding: Encoding, vocabulary: Vocabulary, start: str,
             steps: int, prime: str | list[str] = ()) -> list[Step]:
    """Feed ``prime`` (a context, possibly empty: a cold start), then ``start``, then each
    prediction in turn, ``steps`` times, carrying the state throughout.

    A stateful model trained on the alphabet, started cold at ``K``, has the state it has after
    ``A``; primed with ``A..J``, it has the state it learned to have before ``K``.
    """
    return list(generate_steps(step_model, encoding, vocabulary, start, steps, prime))


def generate_steps(step_model: StepModel, encoding: Encoding, vocabulary: Vocabulary, start: str,
                   steps: int, prime: str | list[str] = ()) -> Iterator[Step]:
    """``generate`` one step at a time, each as soon as it is made, so a caller can print it at
    once: a long generation stopped by Ctrl-C or SIGTERM keeps what it printed, and nothing is
    collected in memory. The arguments are checked now, not at the first step."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    for symbol in [*prime, start]:
        if symbol not in vocabulary:
            raise ValueError(f"symbol {symbol!r} is not in the vocabulary; it holds {vocabulary.describe()}")
    return _steps(step_model, encoding, vocabulary, start, steps, prime)


def _steps(step_model: StepModel, encoding: Encoding, vocabulary: Vocabulary, start: str, steps: int,
           prime) -> Iterator[Step]:
    state, _ = feed(step_model, encoding, vocabulary.encode(list(prime)))
    current = vocabulary.encode([start])[0]
    for _ in range(steps):
        state, (predicted,) = feed(step_model, encoding, [current], state)
        yield Step(vocabulary.symbols[current], vocabulary.symbols[predicted])
        current = predicted
