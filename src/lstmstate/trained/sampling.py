"""Sampling: how the next symbol is chosen from a model's probabilities, the most probable one
(temperature 0) or a draw from the softmax sharpened by a temperature.

A temperature ``T`` raises each probability to the power ``1/T`` and renormalizes, which is the
softmax of ``log p / T`` (PyTorch's word_language_model ``generate.py`` divides the logits the
same way)::

    p          = [0.6, 0.3, 0.1]
    T = 0.5    ->  [0.78, 0.20, 0.02]   sharper: towards the argmax as T -> 0
    T = 1      ->  [0.6, 0.3, 0.1]      the model's own distribution
    T = 2      ->  [0.47, 0.33, 0.19]   flatter: towards uniform as T grows

Draw ``i`` of a generation uses the key ``fold_in(key(seed), i)``: the same seed gives the same
symbols, whatever the length asked for or the size of the compiled blocks they are made in.
"""

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from lstmstate.core.budget import INT32_MAX


@dataclass(frozen=True)
class Sampling:
    """How each next symbol is chosen."""

    temperature: float = 0.0  # 0: the most probable symbol (argmax, no randomness); > 0: a draw sharpened by it
    seed: int = 0  # the random seed of the draws (unused at temperature 0); same seed, same symbols

    def __post_init__(self):
        if not self.temperature >= 0.0:  # also refuses NaN
            raise ValueError(f"`temperature` must be 0 (the most probable symbol) or more, got {self.temperature}")
        if self.temperature == float("inf"):
            raise ValueError("`temperature` must be finite (a large one is close to uniform already)")
        if not 0 <= self.seed <= INT32_MAX:
            raise ValueError(f"`sample_seed` must lie in 0..{INT32_MAX}, got {self.seed}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    def describe(self) -> str:
        if self.greedy:
            return "the most probable symbol at each step"
        return f"sampled at temperature {self.temperature:g}, sample seed {self.seed}"


def most_probable(probabilities):
    """The id of the largest of ``probabilities`` ``(outputs,)``, the first of equal ones (as
    ``np.argmax``): temperature 0, with no random numbers compiled at all."""
    return jnp.argmax(probabilities).astype(jnp.int32)


def choose(key, probabilities, temperature):
    """The next id for ``probabilities`` ``(outputs,)`` (a softmax's output): its argmax where
    ``temperature`` is 0, else a draw from ``softmax(log p / temperature)`` with ``key``.

    Traceable: ``temperature`` may be a traced scalar, so one compiled program serves every
    temperature. The argmax is ``jnp.argmax`` of the probabilities themselves, as ``np.argmax``
    picked before (the first of equal ones), so temperature 0 is exactly the greedy generation.
    """
    greedy = most_probable(probabilities)
    # log 0 = -inf is a logit that is never drawn; a temperature of 0 is replaced by 1 on the
    # unused branch only so that it makes no NaN.
    safe = jnp.where(temperature > 0, temperature, 1.0)
    logits = jnp.log(probabilities) / safe
    drawn = jax.random.categorical(key, logits).astype(jnp.int32)
    return jnp.where(temperature > 0, drawn, greedy)
