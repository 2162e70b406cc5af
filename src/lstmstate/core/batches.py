"""The samples each gradient step reads: the batch layout (parallel streams for carried state),
``bptt`` consecutive batches per step, each seed's shuffled order, and the ``Batch`` and
``TrainingData`` the compiled steps take."""

import math
from typing import NamedTuple

import jax
import numpy as np

from lstmstate.core.framing import batchify
from lstmstate.core.train_config import TrainConfig


class Batch(NamedTuple):
    """The samples of one gradient step: ``bptt`` consecutive batches (1 for stateless training)."""

    x: jax.Array  # (bptt, row, steps, features) float32, or (bptt, row, steps, slots) int32 ids (Trainer.encoding)
    y: jax.Array  # (bptt, row) int class ids, or (bptt, row, outputs) float targets
    weight: jax.Array  # (bptt, row) float32: 1 for a sample, 0 for padding (a short last batch or chunk)
    index: jax.Array  # () int: the step's place in its epoch, which the state policy reads


class StepSamples(NamedTuple):
    """Which samples one gradient step reads: a step of ``TrainingData``'s layout."""

    indices: jax.Array  # (bptt, row) int32 sample indices
    weight: jax.Array  # (bptt, row) float32, 0 for padding rows and padding batches
    index: jax.Array  # () int: the step's place in its epoch, which the state policy reads


class TrainingData(NamedTuple):
    """The training set and its batch layout, the same for every seed."""

    x: jax.Array  # (sample, steps, features) float32, or (sample, steps, slots) int32 ids
    y: jax.Array  # (sample,) int class ids, or (sample, outputs) float targets
    layout: jax.Array  # (step, bptt, row) int32 sample indices in unshuffled order (batch_layout, in chunks)
    weight: jax.Array  # (step, bptt, row) float32, 0 for padding rows and padding batches


def batch_layout(samples: int, config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Sample indices and weights shaped ``(batch, row)`` in unshuffled order.

    Carried state: the parallel-stream layout, so each row continues its own stream.
    Stateless: consecutive samples, the last batch padded with weight-0 rows, as ``fit`` takes a
    short last batch (the loss is the mean over the real rows only).
    """
    if config.carries_state:
        layout = batchify(samples, config.batch_size)
        return layout, np.ones(layout.shape, np.float32)
    batches = math.ceil(samples / config.batch_size)
    padded = np.zeros(batches * config.batch_size, np.int32)
    padded[:samples] = np.arange(samples)
    weight = (np.arange(batches * config.batch_size) < samples).astype(np.float32)
    return padded.reshape(batches, config.batch_size), weight.reshape(batches, config.batch_size)


def in_chunks(layout: np.ndarray, weight: np.ndarray, bptt: int) -> tuple[np.ndarray, np.ndarray]:
    """``(batch, row)`` arrays as ``(step, bptt, row)``: ``bptt`` consecutive batches per gradient
    step, the last step padded with weight-0 batches (which leave the state as it was)."""
    steps = math.ceil(len(layout) / bptt)
    padding = steps * bptt - len(layout)
    layout = np.concatenate([layout, np.zeros((padding, layout.shape[1]), layout.dtype)])
    weight = np.concatenate([weight, np.zeros((padding, weight.shape[1]), weight.dtype)])
    return layout.reshape(steps, bptt, -1), weight.reshape(steps, bptt, -1)


def epoch_order(key: jax.Array, epoch, samples: int) -> jax.Array:
    """The shuffled sample order of one epoch for one seed: a pure function of (key, epoch)."""
    return jax.random.permutation(jax.random.fold_in(key, epoch), samples)


def seed_key(seed: int) -> jax.Array:
    """The shuffling key of a seed (raw uint32 pair, so it vmaps as a plain array)."""
    return jax.random.PRNGKey(seed)
