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

What it reads and gives back lives beside it: ``TrainConfig`` (``core.train_config``), the
batch layout and ``Batch`` (``core.batches``), ``TrainState`` and the metrics
(``core.train_state``), ``Population``, ``Evaluation`` and ``Progress`` (``core.population``),
and the seeds spread over the devices (``core.devices``).

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
from dataclasses import replace
from typing import NamedTuple

import jax
import jax.numpy as jnp
import keras
import numpy as np

from lstmstate.core import fused
from lstmstate.core.batches import (Batch, StepSamples, TrainingData, batch_layout, epoch_order, in_chunks,
                                    seed_key)
from lstmstate.core.devices import spread_over_devices
from lstmstate.core.encoding import Encoding
from lstmstate.core.framing import batchify
from lstmstate.core.model import (UNROLL_STEPS, ModelSpec, call, stacked_initial_non_trainable,
                                  stacked_initial_weights)
from lstmstate.core.population import Evaluation, Population, Progress
from lstmstate.core.train_config import TrainConfig
from lstmstate.core.train_state import EpochMetrics, LossAux, StepMetrics, TrainState

# An epoch of more training pairs than this (samples x seeds) is trained in parts of about this
# many, one compiled call each: the host sees each part end, so a long epoch (a 100 MB text) shows
# its progress and Ctrl-C or SIGTERM stops it within seconds, not at the epoch's end.
PART_PAIRS = 1 << 20


class Dispatched(NamedTuple):
    """A chunk of epochs dispatched to the devices, its metrics not yet copied to the host."""

    state: TrainState  # every seed's, after the chunk
    metrics: EpochMetrics  # each (seed, epoch in chunk)
    epochs_done: int  # epochs done once the chunk ends


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
        (loss, after), gradients = loss_and_gradients(state.trainable, state.non_trainable, lstm_state, batch)
        trainable, optimizer = self.optimizer.stateless_apply(state.optimizer, gradients, state.trainable)
        state = TrainState(trainable, after.non_trainable, optimizer, after.lstm_state, state.key)
        return state, StepMetrics(loss * jnp.sum(batch.weight), after.correct)

    def _batch_loss(self, trainable, non_trainable, lstm_state, batch: Batch) -> tuple[jax.Array, LossAux]:
        """The mean loss over the real rows of every batch, and what else the step leaves: the
        correct rows, the state, and the non-trainable values advanced, so the next call draws new
        dropout masks."""
        if self._fused is not None:
            return self._chunk_loss(trainable, non_trainable, lstm_state, batch)
        if self.config.bptt == 1:
            # One batch: called directly rather than through a scan of one, so the tutorial's
            # training is the program it always was.
            loss, after = self._rows_loss(trainable, non_trainable, lstm_state,
                                          Batch(batch.x[0], batch.y[0], batch.weight[0], batch.index))
        else:
            def through(carry, rows):  # one batch of the chunk; the state flows on with its gradient
                lstm_state, non_trainable = carry
                loss, after = self._rows_loss(trainable, non_trainable, lstm_state, rows)
                # A padding batch (past the stream's end) leaves the state as it found it.
                real = jnp.sum(rows.weight) > 0
                kept = jax.tree.map(lambda new, old: jnp.where(real, new, old), after.lstm_state, lstm_state)
                return (kept, after.non_trainable), StepMetrics(loss, after.correct)

            (lstm_state, non_trainable), sums = jax.lax.scan(
                through, (lstm_state, non_trainable), Batch(batch.x, batch.y, batch.weight, jnp.zeros(len(batch.x))))
            loss, after = jnp.sum(sums.loss), LossAux(jnp.sum(sums.correct), lstm_state, non_trainable)
        count = jnp.maximum(jnp.sum(batch.weight), 1.0)
        return loss / count, after

    def _chunk_loss(self, trainable, non_trainable, lstm_state, batch: Batch) -> tuple[jax.Array, LossAux]:
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
        return jnp.sum(loss * weight) / count, LossAux(jnp.sum(correct * weight), lstm_state, non_trainable)

    def _features(self, x):
        """The model's float inputs: ``x`` itself, or the features its ids encode."""
        return x if self.encoding is None else self.encoding.in_program(x)

    def _rows_loss(self, trainable, non_trainable, lstm_state, rows: Batch) -> tuple[jax.Array, LossAux]:
        """One batch ``(row, …)``: the loss summed over its real rows, and its correct rows (also
        summed), the state and the non-trainable values after it."""
        prediction, lstm_state, non_trainable = call(self._step_model, self.spec, trainable, non_trainable,
                                                     self._features(rows.x), lstm_state,
                                                     training=True)  # (row, outputs)
        loss, correct = self.config.loss.per_sample(prediction, rows.y)  # each (row,)
        return jnp.sum(loss * rows.weight), LossAux(jnp.sum(correct * rows.weight), lstm_state, non_trainable)

    def train_epoch(self, state: TrainState, epoch, data: TrainingData) -> tuple[TrainState, EpochMetrics]:
        """One epoch of one seed: every gradient step of ``data.layout`` in turn (shuffled per seed)."""
        layout = self._epoch_layout(state, epoch, data)  # (step, bptt, row)
        batches = StepSamples(layout, data.weight, jnp.arange(layout.shape[0]))  # scanned along the step axis
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

    def _train_rows(self, state: TrainState, rows: StepSamples, data: TrainingData):
        """``train_step`` on the samples that ``rows`` names."""
        return self.train_step(state, Batch(data.x[rows.indices], data.y[rows.indices], rows.weight, rows.index))

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
        state, data = spread_over_devices(initial, self._data)

        pending = None  # the chunk still running
        for first in range(done_epochs, total, per_chunk):
            # Dispatch the next chunk before waiting for the last one's metrics, so the devices
            # never idle while the host copies metrics and reports progress.
            after, metrics = chunk(state, first, data)
            if pending is not None and self._collect(pending, losses, accuracies, count, on_progress, after_chunk):
                state, pending = pending.state, None  # stopped: the chunk just dispatched is dropped
                break
            state, pending = after, Dispatched(after, metrics, min(first + per_chunk, total))
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

        def one(state, step):
            rows, real = step
            nothing = StepMetrics(jnp.float32(0.0), jnp.float32(0.0))
            return jax.lax.cond(real, lambda s: self._train_rows(s, rows, data), lambda s: (s, nothing), state)

        state, metrics = jax.lax.scan(one, state, (StepSamples(layout[index], data.weight[index], index), inside))
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
        state, data = spread_over_devices(initial, self._data)
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

    def _collect(self, pending: Dispatched, losses, accuracies, count, on_progress, after_chunk) -> bool:
        """Take a finished chunk's metrics (padding seeds dropped); True when ``after_chunk`` stops."""
        state, metrics, epochs_done = pending
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
