"""The population engine: S seeds of one configuration trained in one compiled JAX program.

Following Keras's guide "Writing a training loop from scratch in JAX" and purejaxrl's
``make_train``: one seed's training is a pure function of its ``TrainState``, and the model and
optimizer enter only through Keras's ``model.stateless_call`` and ``optimizer.stateless_apply``::

    Trainer.train                 dispatches chunks of epochs, collects metrics
      jit(vmap(train_chunk))      every seed at once, seeds split over the host devices
        train_chunk               scan over the chunk's epochs (skipping those past the end)
          train_epoch             shuffle (per seed), then scan over the epoch's gradient steps
            train_step            one gradient step: TrainState, Batch -> TrainState, StepMetrics

What it computes is what ``model.fit`` computes: batches of ``batch_size``, per-epoch shuffling,
Keras's Adam, the configured loss, per-epoch means of loss and accuracy.

Carried state trains by truncated backpropagation through time, as PyTorch's
word_language_model does: a gradient step reads ``bptt`` consecutive batches of the streams (a
target at every step), the state flowing through them with its gradient, and the state it leaves
goes on to the next step with its gradient stopped (``repackage_hidden``)::

    stream  s0 s1 s2 | s3 s4 s5 | s6 ...     bptt 3: one gradient step per 3 steps of every stream
            <-grad-> stop <-grad-> stop      bptt 1: the tutorial's stateful loop, a step per batch
"""

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from typing import NamedTuple

import jax
import jax.numpy as jnp
import keras
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from lstmstate.core import fused
from lstmstate.core import loss as losses
from lstmstate.core import policy as policies
from lstmstate.core.framing import batchify
from lstmstate.core.encoding import Encoding
from lstmstate.core.loss import Loss
from lstmstate.core.model import (UNROLL_STEPS, ModelSpec, call, stacked_initial_non_trainable,
                                  stacked_initial_weights)
from lstmstate.core.policy import StatePolicy

# An epoch of more training pairs than this (samples x seeds) is trained in parts of about this
# many, one compiled call each: the host sees each part end, so a long epoch (a 100 MB text) shows
# its progress and Ctrl-C or SIGTERM stops it within seconds, not at the epoch's end.
PART_PAIRS = 1 << 20


@dataclass(frozen=True)
class TrainConfig:
    """How to train; saved with a run (``to_dict`` writes the policy's and the loss's names)."""

    epochs: int  # passes over the data
    batch_size: int  # samples per gradient step; for carried state, the number of parallel streams
    shuffle: bool  # reshuffle sample order every epoch, independently per seed (stateless only)
    policy: StatePolicy = policies.RESET_EVERY_BATCH  # what a batch's LSTM state starts from (a name is accepted)
    loss: Loss = losses.CATEGORICAL_CROSSENTROPY  # or MEAN_SQUARED_ERROR for numbers (a name is accepted)
    learning_rate: float = 0.001  # Adam, Keras's default
    bptt: int = 1  # carried state: consecutive batches of the streams per gradient step (truncated BPTT)
    clip_norm: float | None = None  # Adam's global_clipnorm: the gradients' global norm is clipped to this

    def __post_init__(self):
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {self.batch_size}")
        # Names, as run folders save them and older callers pass them, become the named objects.
        if isinstance(self.policy, str):
            object.__setattr__(self, "policy", policies.get(self.policy))
        if isinstance(self.loss, str):
            object.__setattr__(self, "loss", losses.get(self.loss))
        if not isinstance(self.policy, StatePolicy):
            raise ValueError(f"policy must be a StatePolicy or one of {', '.join(policies.POLICIES)}, "
                             f"got {self.policy!r}")
        if not isinstance(self.loss, Loss):
            raise ValueError(f"loss must be a Loss or one of {', '.join(losses.LOSSES)}, got {self.loss!r}")
        if self.shuffle and self.policy.carries_state:
            raise ValueError(f"policy {self.policy.name!r} carries state between batches, so shuffle must be off")
        if self.bptt < 1:
            raise ValueError(f"bptt must be at least 1, got {self.bptt}")
        if self.bptt > 1 and not self.policy.carries_state:
            raise ValueError(f"bptt {self.bptt} needs a policy that carries state: samples that each start from "
                             "zeros have nothing to backpropagate through between them")
        if not self.learning_rate >= 0:  # 0 is allowed: a run that must leave the weights as they are
            raise ValueError(f"learning rate must be at least 0, got {self.learning_rate}")
        if self.clip_norm is not None and not self.clip_norm > 0:
            raise ValueError(f"clip norm must be above 0, got {self.clip_norm}")

    @property
    def carries_state(self) -> bool:
        return self.policy.carries_state

    def to_dict(self) -> dict:
        data = {field.name: getattr(self, field.name) for field in fields(self)}
        return {**data, "policy": self.policy.name, "loss": self.loss.name}

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        return cls(**data)


@dataclass(frozen=True)
class Population:
    """A trained population: one entry per seed along the first axis of every array."""

    seeds: tuple[int, ...]  # the integer seed of each member
    weights: list[np.ndarray]  # model.trainable_variables order, each (seed, *variable shape)
    loss: np.ndarray  # (seed, epoch) training loss, mean over the epoch's samples, as in fit's history
    accuracy: np.ndarray  # (seed, epoch) training accuracy likewise (NaN for regression)

    def member_weights(self, index: int) -> list[np.ndarray]:
        """The weights of the ``index``-th seed."""
        return [w[index] for w in self.weights]

    @property
    def epochs(self) -> int:
        """Epochs trained (fewer than configured when training stopped early)."""
        return self.loss.shape[1]


@dataclass(frozen=True)
class Evaluation:
    """Keras ``evaluate`` for every seed, plus each sample's prediction."""

    loss: np.ndarray  # (seed,)
    accuracy: np.ndarray  # (seed,) NaN for regression
    predictions: np.ndarray  # (seed, sample) predicted ids, or (seed, sample, outputs) values
    evaluated: np.ndarray  # (sample,) indices of the samples evaluated, in evaluation order


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


@dataclass(frozen=True)
class Progress:
    """Training as far as it got, on the host: what a checkpoint keeps and resumes from."""

    epochs: int  # epochs done
    state: TrainState  # every seed's, a leading (seed,) axis on every array
    loss: np.ndarray  # (seed, epochs) per-epoch training loss so far
    accuracy: np.ndarray  # (seed, epochs) likewise (NaN for regression)


class Batch(NamedTuple):
    """The samples of one gradient step: ``bptt`` consecutive batches (1 for stateless training)."""

    x: jax.Array  # (bptt, row, steps, features) float32, or (bptt, row, steps, slots) int32 ids (Trainer.encoding)
    y: jax.Array  # (bptt, row) int class ids, or (bptt, row, outputs) float targets
    weight: jax.Array  # (bptt, row) float32: 1 for a sample, 0 for padding (a short last batch or chunk)
    index: jax.Array  # () int: the step's place in its epoch, which the state policy reads


class StepMetrics(NamedTuple):
    """One step's contribution to its epoch's means: sums, so a short batch counts its real rows."""

    loss: jax.Array  # () the batch's mean loss times its real rows
    correct: jax.Array  # () real rows whose most probable class is the target (0 for regression)


class EpochMetrics(NamedTuple):
    """One epoch's means over its real samples, as ``model.fit``'s history has them."""

    loss: jax.Array  # () for one seed and epoch; (seed, epoch) out of a compiled chunk
    accuracy: jax.Array  # likewise; NaN for an epoch past the end of training


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


class Trainer:
    """Compiled training and evaluation of one (model, training configuration) for any seeds.

    ``x`` is ``(sample, step, feature)`` float32; ``y`` is ``(sample,)`` int class ids, or
    ``(sample, outputs)`` float targets for mean squared error.
    """

    def __init__(self, spec: ModelSpec, config: TrainConfig, x: np.ndarray, y: np.ndarray,
                 encoding: Encoding | None = None):
        self.spec = spec
        self.config = config
        # With an encoding, x holds symbol ids (sample, steps, slots) and the compiled programs
        # make the features from them (Encoding.in_program): the data stays one integer per symbol.
        self.encoding = encoding
        self.x = self._host_inputs(x)
        self.y = np.asarray(y)
        width = spec.features if encoding is None else spec.features // encoding.features(1)
        if self.x.ndim != 3 or self.x.shape[1:] != (spec.steps, width):
            raise ValueError(f"x must be (sample, {spec.steps}, {width}), got {self.x.shape}")
        if len(self.y) != len(self.x):
            raise ValueError(f"x has {len(self.x)} samples but y has {len(self.y)}")
        if config.carries_state and not spec.has_state:
            raise ValueError(f"a {spec.kind} model has no state to carry (policy {config.policy.name!r})")
        self.samples = len(self.x)
        self.layout, self.layout_weight = batch_layout(self.samples, config)
        if config.bptt > len(self.layout):
            raise ValueError(f"bptt {config.bptt} is longer than a training stream: each of the "
                             f"{self.layout.shape[1]} streams has {len(self.layout)} steps")
        self.model = spec.build()
        # The model the compiled programs call: the same weights and numbers as self.model.
        self._step_model = (replace(spec, unroll=True).build(initialized=False) if spec.steps <= UNROLL_STEPS
                            else self.model)
        # Evaluation never draws random numbers (no dropout outside training), so it reads the
        # non-trainable values the model was built with.
        self._non_trainable = [v.value for v in self._step_model.non_trainable_variables]
        # Truncated BPTT over streams of one-step samples runs as one fused sequence program
        # (core.fused): the chunk's input projection, dropout, head and loss once, not per step.
        self._fused = (fused.Layout.of(self._step_model, spec)
                       if config.carries_state and config.bptt > 1 and fused.supports(spec) else None)
        self.optimizer = keras.optimizers.Adam(learning_rate=config.learning_rate, global_clipnorm=config.clip_norm)
        self.optimizer.build(self.model.trainable_variables)
        self._data = TrainingData(self.x, self.y, *in_chunks(self.layout, self.layout_weight, config.bptt))
        self._chunks = {}
        self._parts_programs = {}
        self._evaluate = jax.jit(jax.vmap(self._evaluate_one, in_axes=(0, None, None, None)))
        self._outputs = jax.jit(jax.vmap(self._outputs_one, in_axes=(0, None, None)))

    # ---- one seed, pure -------------------------------------------------------------------

    def train_step(self, state: TrainState, batch: Batch) -> tuple[TrainState, StepMetrics]:
        """One gradient step of one seed, as ``model.fit`` takes one batch (``bptt`` batches of
        the streams for carried state)."""
        # The one place the state policy is applied: it decides whether this step starts from
        # zeros or from the state the step before left (gradients stopped: truncated BPTT).
        lstm_state = self.config.policy.apply(state.lstm_state, batch.index)  # each (row, units)
        loss_and_gradients = jax.value_and_grad(self._batch_loss, has_aux=True)
        (loss, (correct, lstm_state, non_trainable)), gradients = loss_and_gradients(
            state.trainable, state.non_trainable, lstm_state, batch)
        trainable, optimizer = self.optimizer.stateless_apply(state.optimizer, gradients, state.trainable)
        state = TrainState(trainable, non_trainable, optimizer, lstm_state, state.key)
        return state, StepMetrics(loss * jnp.sum(batch.weight), correct)

    def _batch_loss(self, trainable, non_trainable, lstm_state, batch: Batch):
        """``(mean loss over the real rows of every batch, (correct rows, lstm_state after,
        non_trainable after))``; the non-trainable values come back advanced, so the next call
        draws new dropout masks."""
        if self._fused is not None:
            return self._chunk_loss(trainable, non_trainable, lstm_state, batch)
        if self.config.bptt == 1:
            # One batch: called directly rather than through a scan of one, so the tutorial's
            # training is the program it always was.
            (loss, correct), lstm_state, non_trainable = self._rows_loss(
                trainable, non_trainable, lstm_state, Batch(batch.x[0], batch.y[0], batch.weight[0], batch.index))
        else:
            def through(carry, rows):  # one batch of the chunk; the state flows on with its gradient
                lstm_state, non_trainable = carry
                sums, after, non_trainable = self._rows_loss(trainable, non_trainable, lstm_state, rows)
                # A padding batch (past the stream's end) leaves the state as it found it.
                real = jnp.sum(rows.weight) > 0
                after = jax.tree.map(lambda new, old: jnp.where(real, new, old), after, lstm_state)
                return (after, non_trainable), sums

            (lstm_state, non_trainable), (losses, corrects) = jax.lax.scan(
                through, (lstm_state, non_trainable), Batch(batch.x, batch.y, batch.weight, jnp.zeros(len(batch.x))))
            loss, correct = jnp.sum(losses), jnp.sum(corrects)
        count = jnp.maximum(jnp.sum(batch.weight), 1.0)
        return loss / count, (correct, lstm_state, non_trainable)

    def _chunk_loss(self, trainable, non_trainable, lstm_state, batch: Batch):
        """``_batch_loss`` of a chunk of ``bptt`` one-step batches, fused: every step's prediction
        from one sequence program, the loss once over the chunk's (bptt x row) predictions."""
        x = batch.x[:, :, 0]  # (bptt, row, features or slots): the one step of each sample
        # A padding batch (past the stream's end) is masked: it leaves the state as it found it.
        mask = jnp.broadcast_to(jnp.sum(batch.weight, axis=1, keepdims=True) > 0, batch.weight.shape)
        prediction, lstm_state, non_trainable = fused.outputs(
            self.spec, self.encoding, self._fused, trainable, non_trainable, x, lstm_state, mask, training=True)
        rows = prediction.shape[0] * prediction.shape[1]
        loss, correct = self.config.loss.per_sample(prediction.reshape(rows, -1),
                                                    batch.y.reshape(rows, *batch.y.shape[2:]))  # each (bptt * row,)
        weight = batch.weight.reshape(rows)
        count = jnp.maximum(jnp.sum(weight), 1.0)
        return jnp.sum(loss * weight) / count, (jnp.sum(correct * weight), lstm_state, non_trainable)

    def _features(self, x):
        """The model's float inputs: ``x`` itself, or the features its ids encode."""
        return x if self.encoding is None else self.encoding.in_program(x)

    def _rows_loss(self, trainable, non_trainable, lstm_state, rows: Batch):
        """One batch ``(row, …)``: ``((summed loss, correct rows) over its real rows, lstm_state
        after, non_trainable after)``."""
        prediction, lstm_state, non_trainable = call(self._step_model, self.spec, trainable, non_trainable,
                                                     self._features(rows.x), lstm_state,
                                                     training=True)  # (row, outputs)
        loss, correct = self.config.loss.per_sample(prediction, rows.y)  # each (row,)
        return (jnp.sum(loss * rows.weight), jnp.sum(correct * rows.weight)), lstm_state, non_trainable

    def train_epoch(self, state: TrainState, epoch, data: TrainingData) -> tuple[TrainState, EpochMetrics]:
        """One epoch of one seed: every gradient step of ``data.layout`` in turn (shuffled per seed)."""
        layout = self._epoch_layout(state, epoch, data)  # (step, bptt, row)
        batches = (layout, data.weight, jnp.arange(layout.shape[0]))  # scanned along the step axis
        state, steps = jax.lax.scan(functools.partial(self._train_rows, data=data), state, batches)
        total = jnp.sum(data.weight)
        return state, EpochMetrics(jnp.sum(steps.loss) / total, jnp.sum(steps.correct) / total)

    def _epoch_layout(self, state: TrainState, epoch, data: TrainingData) -> jax.Array:
        """One seed's ``(step, bptt, row)`` sample indices of an epoch: ``data.layout``, or shuffled."""
        layout = data.layout
        if self.config.shuffle:
            # Stateless only (TrainConfig checks), so the layout is consecutive samples with the
            # padding last: the shuffled order written over the first ``samples`` places keeps it so.
            order = epoch_order(state.key, epoch, self.samples)  # (sample,)
            layout = jnp.zeros(layout.size, jnp.int32).at[: self.samples].set(order).reshape(layout.shape)
        return layout

    def _train_rows(self, state: TrainState, rows, data: TrainingData):
        """``train_step`` on the samples that ``rows = (indices (bptt, row), weight (bptt, row), index ())`` name."""
        indices, weight, index = rows
        return self.train_step(state, Batch(data.x[indices], data.y[indices], weight, index))

    def train_chunk(self, state: TrainState, first_epoch, data: TrainingData,
                    epochs_in_chunk: int) -> tuple[TrainState, EpochMetrics]:
        """Epochs ``first_epoch`` to ``first_epoch + epochs_in_chunk - 1`` of one seed; the
        metrics are ``(epoch,)`` each."""
        epochs = first_epoch + jnp.arange(epochs_in_chunk)
        return jax.lax.scan(functools.partial(self._epoch_unless_past_end, data=data), state, epochs)

    def _epoch_unless_past_end(self, state: TrainState, epoch, data: TrainingData):
        # Every chunk has the same length, so one compiled program serves them all; the last one
        # may run past the final epoch, and those epochs leave the state as it is.
        return jax.lax.cond(epoch < self.config.epochs, self.train_epoch, _skip_epoch, state, epoch, data)

    def _outputs_one(self, trainable, x, layout):
        """One seed's outputs, as ``model.predict`` gives them. Stateless: every sample of ``x``
        from zero state, ``(sample, outputs)``. Carried state: the streams of ``layout``
        ``(batch, row)`` in order from a reset state, ``(batch * row, outputs)`` in the flattened
        layout's order."""
        if not self.config.carries_state:
            prediction, _ = self._predict(trainable, x, self.spec.zero_state(len(x)))
            return prediction
        lstm_state = self.spec.zero_state(layout.shape[1])
        _, predictions = jax.lax.scan(functools.partial(self._predict_rows, trainable, x), lstm_state, layout)
        return predictions.reshape(-1, predictions.shape[-1])  # (batch, row, outputs) -> stream order

    def _predict_rows(self, trainable, x, lstm_state, indices):
        prediction, lstm_state = self._predict(trainable, x[indices], lstm_state)
        return lstm_state, prediction

    def _predict(self, trainable, x, lstm_state):
        """Inference: ``(prediction (row, outputs), lstm_state after)``."""
        prediction, lstm_state, _ = call(self._step_model, self.spec, trainable, self._non_trainable,
                                         self._features(x), lstm_state, training=False)
        return prediction, lstm_state

    def _evaluate_one(self, trainable, x, y, layout):
        """As ``model.evaluate``: ``(mean loss, accuracy, outputs)`` over the samples ``_outputs_one``
        predicts."""
        prediction = self._outputs_one(trainable, x, layout)
        targets = y[layout.reshape(-1)] if self.config.carries_state else y
        loss, correct = self.config.loss.per_sample(prediction, targets)
        return jnp.mean(loss), jnp.mean(correct), prediction

    # ---- many seeds, compiled -------------------------------------------------------------

    def initial_weights(self, seeds: Sequence[int]) -> list[np.ndarray]:
        """Initial weights of every seed, stacked: each ``(seed, *variable shape)``."""
        return stacked_initial_weights(self.model, list(seeds))

    def initial_state(self, seeds: Sequence[int], weights: list[np.ndarray] | None = None) -> TrainState:
        """Every seed's ``TrainState`` before its first step, stacked: a leading ``(seed,)`` axis on
        every array. ``weights`` (each ``(seed, *variable shape)``) overrides the seeded initial weights.

        Each seed has its own random-generator states (``stacked_initial_non_trainable``), so a
        layer that draws random numbers draws differently for every seed, and anew each step.
        """
        seeds = [int(s) for s in seeds]
        count = len(seeds)
        trainable = [np.asarray(w) for w in (weights if weights is not None else self.initial_weights(seeds))]
        non_trainable = stacked_initial_non_trainable(self._step_model, seeds)
        optimizer = [np.broadcast_to(np.asarray(v.value), (count, *v.shape)) for v in self.optimizer.variables]
        lstm_state = tuple(np.broadcast_to(s, (count, *s.shape)) for s in self.spec.zero_state(self.layout.shape[1]))
        keys = np.stack([np.asarray(seed_key(s)) for s in seeds])
        return TrainState(trainable, non_trainable, optimizer, lstm_state, keys)

    def train(self, seeds: Sequence[int], chunks: int = 20,
              on_progress: Callable[[int, int], None] | None = None,
              weights: list[np.ndarray] | None = None, every: int | None = None,
              after_chunk: Callable[[Progress], bool] | None = None,
              start: Progress | None = None) -> Population:
        """Train every seed; ``on_progress(epochs_done, epochs_total)`` is called after each of
        about ``chunks`` chunks of epochs (of ``every`` epochs each when given). ``weights``
        overrides the seeded initial weights.

        ``after_chunk(progress)`` sees every seed's training on the host after each chunk (to
        validate, keep a checkpoint, log) and returns True to stop there. ``start`` resumes from
        such a ``Progress``: with the same seeds and ``every``, the chunks that follow are the
        programs an uninterrupted run calls, from the same state, so the weights end the same.
        """
        seeds = tuple(int(s) for s in seeds)
        if not seeds:
            raise ValueError("train needs at least one seed")
        total = self.config.epochs
        if every is not None and every < 1:
            raise ValueError(f"every must be at least 1 epoch, got {every}")
        per_chunk = every if every is not None else math.ceil(total / max(1, min(chunks, total)))
        per_chunk = min(per_chunk, total)
        chunk = self._compiled_chunk(per_chunk)
        count = len(seeds)
        if start is not None:
            if len(start.state.key) != count:
                raise ValueError(f"the progress to resume from has {len(start.state.key)} seeds, not {count}")
            if start.epochs % per_chunk and start.epochs != total:
                raise ValueError(f"the progress to resume from ends at epoch {start.epochs}, which is not a multiple "
                                 f"of the {per_chunk} epochs per chunk")
            initial, done_epochs = start.state, start.epochs
            losses, accuracies = [np.asarray(start.loss)], [np.asarray(start.accuracy)]
        else:
            initial, done_epochs, losses, accuracies = self.initial_state(seeds, weights), 0, [], []
        parts = self._parts(count)
        if parts > 1:
            return self._train_in_parts(seeds, parts, per_chunk, initial, done_epochs, losses, accuracies,
                                        on_progress, after_chunk)
        state, data = _spread_over_devices(initial, self._data)

        pending = None  # (state after, metrics, epochs done) of the chunk still running
        for first in range(done_epochs, total, per_chunk):
            # Dispatch the next chunk before waiting for the last one's metrics, so the devices
            # never idle while the host copies metrics and reports progress.
            after, metrics = chunk(state, first, data)
            if pending is not None and self._collect(pending, losses, accuracies, count, on_progress, after_chunk):
                state, pending = pending[0], None  # stopped: the chunk just dispatched is dropped
                break
            state, pending = after, (after, metrics, min(first + per_chunk, total))
        if pending is not None:
            self._collect(pending, losses, accuracies, count, on_progress, after_chunk)
        return self._population(seeds, state, losses, accuracies)

    def _population(self, seeds: tuple[int, ...], state: TrainState, losses: list, accuracies: list) -> Population:
        count = len(seeds)
        loss = np.concatenate(losses, axis=1) if losses else np.zeros((count, 0), np.float32)
        accuracy = np.concatenate(accuracies, axis=1) if accuracies else np.zeros((count, 0), np.float32)
        if not self.config.loss.classification:
            accuracy = np.full_like(accuracy, np.nan)
        return Population(seeds, [np.asarray(w)[:count] for w in state.trainable], loss, accuracy)

    # ---- long epochs, in parts ------------------------------------------------------------

    def _parts(self, seeds: int) -> int:
        """Compiled calls per epoch: 1, or about one per ``PART_PAIRS`` training pairs of every seed."""
        steps, bptt, rows = self._data.layout.shape
        pairs = steps * bptt * rows * seeds
        return min(steps, math.ceil(pairs / PART_PAIRS)) if pairs > 2 * PART_PAIRS else 1

    def train_part(self, state: TrainState, epoch, part, data: TrainingData,
                   part_steps: int) -> tuple[TrainState, StepMetrics]:
        """Gradient steps ``part * part_steps`` onwards of one epoch of one seed, as ``train_epoch``
        takes them (the same steps in the same order); the metrics are the part's sums. Steps
        past the epoch's end (the last part's) change nothing."""
        layout = self._epoch_layout(state, epoch, data)  # the epoch's one order, whichever part reads it
        steps = layout.shape[0]
        index = part * part_steps + jnp.arange(part_steps)
        inside = index < steps
        index = jnp.minimum(index, steps - 1)

        def one(state, rows):
            indices, weight, step, real = rows
            nothing = StepMetrics(jnp.float32(0.0), jnp.float32(0.0))
            return jax.lax.cond(real, lambda s: self._train_rows(s, (indices, weight, step), data),
                                lambda s: (s, nothing), state)

        state, metrics = jax.lax.scan(one, state, (layout[index], data.weight[index], index, inside))
        return state, StepMetrics(jnp.sum(metrics.loss), jnp.sum(metrics.correct))

    def _train_in_parts(self, seeds, parts, per_chunk, initial, done_epochs, losses, accuracies, on_progress,
                        after_chunk) -> Population:
        """``train`` with each epoch in ``parts`` compiled calls; ``after_chunk`` sees the training
        after every ``per_chunk`` epochs, as ``train`` calls it, and ``on_progress`` after each part."""
        count, total = len(seeds), self.config.epochs
        part_steps = math.ceil(self._data.layout.shape[0] / parts)
        if part_steps not in self._parts_programs:
            program = functools.partial(self.train_part, part_steps=part_steps)
            self._parts_programs[part_steps] = jax.jit(jax.vmap(program, in_axes=(0, None, None, None)))
        program = self._parts_programs[part_steps]
        real = float(np.sum(self._data.weight))  # the epoch's real samples, as train_epoch divides by
        state, data = _spread_over_devices(initial, self._data)
        for epoch in range(done_epochs, total):
            loss, correct = 0.0, 0.0
            for part in range(parts):
                state, sums = program(state, epoch, part, data)
                loss, correct = loss + np.asarray(sums.loss, np.float64), correct + np.asarray(sums.correct, np.float64)
                if on_progress is not None:
                    on_progress(epoch + (part + 1) / parts, total)
            losses.append((loss / real).astype(np.float32)[:count, None])
            accuracies.append((correct / real).astype(np.float32)[:count, None])
            done = epoch + 1
            if after_chunk is not None and (done % per_chunk == 0 or done == total):
                host = jax.tree.map(lambda a: np.asarray(a)[:count], state)
                if after_chunk(Progress(done, host, np.concatenate(losses, axis=1), np.concatenate(accuracies, axis=1))):
                    break
        return self._population(seeds, state, losses, accuracies)

    def _collect(self, pending, losses, accuracies, count, on_progress, after_chunk) -> bool:
        """Take a finished chunk's metrics (padding seeds dropped); True when ``after_chunk`` stops."""
        state, metrics, epochs_done = pending  # EpochMetrics, each (seed, epoch in chunk)
        first = sum(a.shape[1] for a in losses)
        real = epochs_done - first  # the last chunk may run past the final epoch
        losses.append(np.asarray(metrics.loss)[:count, :real])
        accuracies.append(np.asarray(metrics.accuracy)[:count, :real])
        if on_progress is not None:
            on_progress(epochs_done, self.config.epochs)
        if after_chunk is None:
            return False
        host = jax.tree.map(lambda a: np.asarray(a)[:count], state)
        return bool(after_chunk(Progress(epochs_done, host, np.concatenate(losses, axis=1),
                                         np.concatenate(accuracies, axis=1))))

    def _compiled_chunk(self, epochs_in_chunk: int):
        if epochs_in_chunk not in self._chunks:
            chunk = functools.partial(self.train_chunk, epochs_in_chunk=epochs_in_chunk)
            # The state has a seed axis; the first epoch and the data are shared by every seed.
            # The data and its batch layout arrive as arguments, not constants, so a long
            # sequence is neither baked into the program nor copied into it (memory, compile time).
            self._chunks[epochs_in_chunk] = jax.jit(jax.vmap(chunk, in_axes=(0, None, None)))
        return self._chunks[epochs_in_chunk]

    def evaluate(self, weights: list[np.ndarray], x: np.ndarray | None = None,
                 y: np.ndarray | None = None) -> Evaluation:
        """Evaluate stacked weights (each ``(seed, …)``) on the training data, or on ``x, y``
        (for carried state: laid out in the same number of streams, each from a reset state)."""
        if (x is None) != (y is None):
            raise ValueError("evaluate needs both x and y, or neither")
        x = self.x if x is None else self._host_inputs(x)
        y = self.y if y is None else np.asarray(y)
        layout = self._evaluation_layout(x)
        loss, accuracy, prediction = self._evaluate([jnp.asarray(w) for w in weights], x, y, layout)
        prediction = np.asarray(prediction)
        evaluated = layout.reshape(-1)
        if self.config.loss.classification:
            return Evaluation(np.asarray(loss), np.asarray(accuracy), prediction.argmax(-1), evaluated)
        return Evaluation(np.asarray(loss), np.full(len(loss), np.nan), prediction, evaluated)

    def outputs(self, weights: list[np.ndarray], x: np.ndarray | None = None) -> np.ndarray:
        """What the model outputs for stacked weights (each ``(seed, …)``) on the training data or
        on ``x``: ``(seed, sample, outputs)`` softmax probabilities (or linear values), for the
        samples and in the order of ``evaluate``'s ``Evaluation.evaluated``."""
        x = self.x if x is None else self._host_inputs(x)
        return np.asarray(self._outputs([jnp.asarray(w) for w in weights], x, self._evaluation_layout(x)))

    def _host_inputs(self, x) -> np.ndarray:
        """``x`` as the programs read it: floats, or the ids an encoding turns into floats."""
        return np.asarray(x, np.float32) if self.encoding is None else np.asarray(x, np.int32)

    def _evaluation_layout(self, x: np.ndarray) -> np.ndarray:
        """``(batch, row)`` sample indices: the training streams for carried state, one sample
        per batch otherwise (each evaluated on its own)."""
        if self.config.carries_state:
            return self.layout if x is self.x else batchify(len(x), self.config.batch_size)
        return np.arange(len(x), dtype=np.int32)[:, None]


def _skip_epoch(state: TrainState, epoch, data: TrainingData) -> tuple[TrainState, EpochMetrics]:
    """An epoch past the end of training: nothing changes, and its metrics are NaN."""
    return state, EpochMetrics(jnp.nan, jnp.nan)


def _spread_over_devices(state: TrainState, data: TrainingData):
    """Split the seed axis of ``state`` evenly over the host devices; copy ``data`` to each.

    Seeds never interact, so each device trains its own share with no communication, and a seed's
    numbers do not depend on which device or which neighbours it has. When the seeds do not divide
    evenly, the last seed is repeated to fill the gap; the caller drops the copies (``[:count]``).
    """
    count = len(state.key)
    devices = jax.devices()[: min(len(jax.devices()), count)]
    padded = math.ceil(count / len(devices)) * len(devices)
    if padded != count:
        state = jax.tree.map(lambda a: np.concatenate([a, np.repeat(a[-1:], padded - count, axis=0)]), state)
    mesh = Mesh(np.array(devices), ("seed",))
    by_seed, everywhere = NamedSharding(mesh, PartitionSpec("seed")), NamedSharding(mesh, PartitionSpec())
    return jax.device_put(state, by_seed), jax.device_put(data, everywhere)
