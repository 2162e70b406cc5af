"""What one seed's training carries from one gradient step to the next (``TrainState``), and what
each step and each epoch adds up (``StepMetrics``, ``EpochMetrics``, a step's ``LossAux``).

Each is a NamedTuple, so JAX traces, scans and vmaps it as the tuple of its fields, in order.
"""

from typing import NamedTuple

import jax


class TrainState(NamedTuple):
    """Everything one seed's training carries from one step to the next.

    Shapes are one seed's, as ``train_step`` sees them; ``Trainer.initial_state`` and the compiled
    chunks hold every seed's, with a leading ``(seed,)`` axis on every array.
    """

    trainable: list  # model.trainable_variables order, each (*variable shape) float32
    non_trainable: list  # model.non_trainable_variables order: each SeedGenerator's state, (2,) uint32
    optimizer: list  # optimizer.variables order: iteration (), learning rate (), Adam's moments (*variable shape)
    lstm_state: tuple  # the recurrent state (ModelSpec.zero_state), each (row, units), as the last step left it; () for dense
    key: jax.Array  # (2,) uint32: the seed's shuffling key (seed_key)


class StepMetrics(NamedTuple):
    """One step's contribution to its epoch's means: sums, so a short batch counts its real rows."""

    loss: jax.Array  # () the batch's mean loss times its real rows
    correct: jax.Array  # () real rows whose most probable class is the target (0 for regression)


class EpochMetrics(NamedTuple):
    """One epoch's means over its real samples, as ``model.fit``'s history has them."""

    loss: jax.Array  # () for one seed and epoch; (seed, epoch) out of a compiled chunk
    accuracy: jax.Array  # likewise; NaN for an epoch past the end of training


class LossAux(NamedTuple):
    """What a step's loss returns beside the loss itself (``jax.value_and_grad``'s ``has_aux``)."""

    correct: jax.Array  # () real rows whose most probable class is the target (0 for regression)
    lstm_state: tuple  # the recurrent state after the step's batches, each (row, units)
    non_trainable: list  # the non-trainable values after them: each SeedGenerator advanced, for new dropout masks
