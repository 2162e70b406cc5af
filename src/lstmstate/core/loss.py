"""Training losses: small named objects that score a batch's predictions sample by sample.

``Loss(name, classification, per_sample)``; ``per_sample(prediction, target)`` gives
``(loss (row,), correct (row,))`` for ``prediction (row, outputs)``. The name is Keras's, as
``model.compile(loss=...)`` takes it and as a run folder saves it.

    >>> get("mean_squared_error") is MEAN_SQUARED_ERROR, MEAN_SQUARED_ERROR.classification
    (True, False)
"""

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import keras


def categorical_crossentropy(prediction, target):
    """``prediction (row, classes)`` probabilities, ``target (row,)`` class ids ->
    ``(loss (row,), correct (row,))``; correct is 1.0 where the most probable class is the target."""
    one_hot = jax.nn.one_hot(target, prediction.shape[-1], dtype=prediction.dtype)  # (row, classes)
    loss = keras.losses.categorical_crossentropy(one_hot, prediction)
    correct = (jnp.argmax(prediction, axis=-1) == target).astype(jnp.float32)
    return loss, correct


def mean_squared_error(prediction, target):
    """``prediction`` and ``target`` both ``(row, outputs)`` -> ``(loss (row,), zeros (row,))``:
    numbers have no accuracy."""
    loss = keras.losses.mean_squared_error(target, prediction)
    return loss, jnp.zeros_like(loss)


@dataclass(frozen=True)
class Loss:
    """What training minimises, and whether accuracy means anything for it."""

    name: str  # Keras's name, as TrainConfig saves it ("categorical_crossentropy")
    classification: bool  # targets are class ids (sample,) and accuracy is measured; else numbers (sample, outputs)
    per_sample: Callable  # (prediction (row, outputs), target) -> (loss (row,), correct (row,))

    def __repr__(self) -> str:
        return f"Loss({self.name!r})"


CATEGORICAL_CROSSENTROPY = Loss("categorical_crossentropy", True, categorical_crossentropy)
MEAN_SQUARED_ERROR = Loss("mean_squared_error", False, mean_squared_error)

LOSSES = {loss.name: loss for loss in (CATEGORICAL_CROSSENTROPY, MEAN_SQUARED_ERROR)}


def get(name: str) -> Loss:
    """The loss called ``name``; an unknown name is a ``ValueError`` listing the known ones."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    return LOSSES[name]
