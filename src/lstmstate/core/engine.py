"""The population engine: S seeds of one configuration trained in one compiled JAX program.

Following purejaxrl's ``make_train``: the training of one seed is a pure function of its
initial weights and key; ``jax.vmap`` runs it for every seed, ``jax.lax.scan`` steps through
batches and epochs, and the model and optimizer enter only through Keras's
``model.stateless_call`` and ``optimizer.stateless_apply``. What it computes is what
``model.fit`` computes: batches of ``batch_size``, per-epoch shuffling (per seed), Keras's Adam,
categorical cross-entropy (or mean squared error), per-epoch means of loss and accuracy.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

import jax
import jax.numpy as jnp
import keras
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from lstmstate.core import policy as policies
from lstmstate.core.framing import batchify
from lstmstate.core.model import ModelSpec, stacked_initial_weights

LOSSES = ("categorical_crossentropy", "mean_squared_error")

# Sequences this short are trained with the time loop unrolled: the same arithmetic, but without
# a while loop per LSTM call (the seed's sequences have 1 to 5 steps, where the loop's overhead
# is a large share of a step; longer unrolls mostly add compile time).
UNROLL_STEPS = 8


@dataclass(frozen=True)
class TrainConfig:
    """How to train; saved with a run."""

    epochs: int  # passes over the data
    batch_size: int  # samples per gradient step; for carried state, the number of parallel streams
    shuffle: bool  # reshuffle sample order every epoch, independently per seed (stateless only)
    policy: str = "reset-every-batch"  # a name in policy.POLICIES: what happens to state between batches
    loss: str = "categorical_crossentropy"  # or "mean_squared_error" for numbers
    learning_rate: float = 0.001  # Adam, Keras's default

    def __post_init__(self):
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {self.batch_size}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}")
        policies.get(self.policy)
        if self.shuffle and policies.carries(self.policy):
            raise ValueError(f"policy {self.policy!r} carries state between batches, so shuffle must be off")

    @property
    def carries_state(self) -> bool:
        return policies.carries(self.policy)

    def to_dict(self) -> dict:
        return asdict(self)

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


@dataclass(frozen=True)
class Evaluation:
    """Keras ``evaluate`` for every seed, plus each sample's prediction."""

    loss: np.ndarray  # (seed,)
    accuracy: np.ndarray  # (seed,) NaN for regression
    predictions: np.ndarray  # (seed, sample) predicted ids, or (seed, sample, outputs) values
    evaluated: np.ndarray  # (sample,) indices of the samples evaluated, in evaluation order


def _batch_layout(samples: int, config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
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

    def __init__(self, spec: ModelSpec, config: TrainConfig, x: np.ndarray, y: np.ndarray):
        self.spec = spec
        self.config = config
        self.x = np.asarray(x, np.float32)
        self.y = np.asarray(y)
        if self.x.ndim != 3 or self.x.shape[1:] != (spec.steps, spec.features):
            raise ValueError(f"x must be (sample, {spec.steps}, {spec.features}), got {self.x.shape}")
        if len(self.y) != len(self.x):
            raise ValueError(f"x has {len(self.x)} samples but y has {len(self.y)}")
        if config.carries_state and not spec.has_state:
            raise ValueError(f"a {spec.kind} model has no state to carry (policy {config.policy!r})")
        self.samples = len(self.x)
        self.layout, self.layout_weight = _batch_layout(self.samples, config)
        self.model = spec.build()
        # The model the compiled programs call: the same weights and numbers as self.model.
        self._step_model = replace(spec, unroll=True).build() if spec.steps <= UNROLL_STEPS else self.model
        self.optimizer = keras.optimizers.Adam(learning_rate=config.learning_rate)
        self.optimizer.build(self.model.trainable_variables)
        self._policy = policies.get(config.policy)
        self._chunks = {}
        self._evaluate = jax.jit(jax.vmap(self._evaluate_one, in_axes=(0, None, None, None)))

    # ---- one seed, pure -------------------------------------------------------------------

    def _forward(self, trainable, x, state, training):
        """``(prediction (batch, outputs), new state)`` for a batch from ``state``."""
        model = self._step_model
        non_trainable = [v.value for v in model.non_trainable_variables]
        if self.spec.has_state:
            (y, h, c), _ = model.stateless_call(trainable, non_trainable, [x, *state], training=training)
            return y, (h, c)
        y, _ = model.stateless_call(trainable, non_trainable, x, training=training)
        return y, state

    def _per_sample(self, prediction, y):
        """Per-sample loss and correctness (correctness is 0 for regression)."""
        if self.config.loss == "categorical_crossentropy":
            target = jax.nn.one_hot(y, self.spec.outputs, dtype=prediction.dtype)
            loss = keras.losses.categorical_crossentropy(target, prediction)
            correct = (jnp.argmax(prediction, axis=-1) == y).astype(jnp.float32)
            return loss, correct
        loss = keras.losses.mean_squared_error(y, prediction)
        return loss, jnp.zeros_like(loss)

    def _batch_loss(self, trainable, x, y, weight, state):
        prediction, state = self._forward(trainable, x, state, training=True)
        loss, correct = self._per_sample(prediction, y)
        count = jnp.maximum(jnp.sum(weight), 1.0)
        return jnp.sum(loss * weight) / count, (jnp.sum(correct * weight), state)

    def _train_batch(self, carry, batch, x, y):
        trainable, optimizer_variables, state = carry
        indices, weight, batch_index = batch
        # The state policy is applied here, once per batch: it decides what the batch starts from.
        state = self._policy(state, batch_index)
        (loss, (correct, state)), grads = jax.value_and_grad(self._batch_loss, has_aux=True)(
            trainable, x[indices], y[indices], weight, state)
        trainable, optimizer_variables = self.optimizer.stateless_apply(optimizer_variables, grads, trainable)
        return (trainable, optimizer_variables, state), (loss * jnp.sum(weight), correct)

    def _train_epoch(self, carry, epoch, total_epochs, data):
        trainable, optimizer_variables, state, key = carry
        x, y, layout, layout_weight = data
        if self.config.shuffle:
            order = epoch_order(key, epoch, self.samples)
            flat = jnp.zeros(layout.size, jnp.int32).at[: self.samples].set(order)
            layout = flat.reshape(layout.shape)

        def run(_):
            batches = (layout, layout_weight, jnp.arange(layout.shape[0]))
            (t, o, s), (losses, correct) = jax.lax.scan(
                lambda c, b: self._train_batch(c, b, x, y), (trainable, optimizer_variables, state), batches)
            total = jnp.sum(layout_weight)
            return (t, o, s), (jnp.sum(losses) / total, jnp.sum(correct) / total)

        def skip(_):
            # Past the last epoch in the final chunk: leave everything as it is.
            return (trainable, optimizer_variables, state), (jnp.nan, jnp.nan)

        (trainable, optimizer_variables, state), metrics = jax.lax.cond(epoch < total_epochs, run, skip, None)
        return (trainable, optimizer_variables, state, key), metrics

    def _train_chunk(self, carry, first_epoch, data, epochs_in_chunk, total_epochs):
        epochs = first_epoch + jnp.arange(epochs_in_chunk)
        return jax.lax.scan(lambda c, e: self._train_epoch(c, e, total_epochs, data), carry, epochs)

    def _evaluate_one(self, trainable, x, y, layout):
        """As ``model.evaluate``: stateless, every sample from zero state; carried state, the
        streams of ``layout`` ``(batch, row)`` in order from a reset state."""
        if not self.config.carries_state:
            prediction, _ = self._forward(trainable, x, self.spec.zero_state(len(x)), training=False)
            loss, correct = self._per_sample(prediction, y)
            return jnp.mean(loss), jnp.mean(correct), prediction

        def step(state, indices):
            prediction, state = self._forward(trainable, x[indices], state, training=False)
            return state, prediction

        _, predictions = jax.lax.scan(step, self.spec.zero_state(layout.shape[1]), layout)
        # (batch, row, out) -> stream order of the flattened layout; the loss is over those samples.
        prediction = predictions.reshape(-1, predictions.shape[-1])
        loss, correct = self._per_sample(prediction, y[layout.reshape(-1)])
        return jnp.mean(loss), jnp.mean(correct), prediction

    # ---- many seeds, compiled -------------------------------------------------------------

    def initial_weights(self, seeds: Sequence[int]) -> list[np.ndarray]:
        """Initial weights of every seed, stacked: each ``(seed, *variable shape)``."""
        return stacked_initial_weights(self.model, list(seeds))

    def train(self, seeds: Sequence[int], chunks: int = 20,
              on_progress: Callable[[int, int], None] | None = None,
              weights: list[np.ndarray] | None = None) -> Population:
        """Train every seed; ``on_progress(epochs_done, epochs_total)`` is called after each of
        about ``chunks`` chunks of epochs. ``weights`` overrides the seeded initial weights."""
        seeds = tuple(int(s) for s in seeds)
        if not seeds:
            raise ValueError("train needs at least one seed")
        total = self.config.epochs
        per_chunk = math.ceil(total / max(1, min(chunks, total)))
        chunk = self._compiled_chunk(per_chunk)

        trainable = [np.asarray(w) for w in (weights if weights is not None else self.initial_weights(seeds))]
        count = len(seeds)
        optimizer_variables = [np.broadcast_to(np.asarray(v.value), (count, *v.shape)) for v in self.optimizer.variables]
        state = jax.tree.map(lambda s: np.broadcast_to(s, (count, *s.shape)),
                             self.spec.zero_state(self.layout.shape[1]))
        keys = np.stack([np.asarray(seed_key(s)) for s in seeds])
        carry, data = _spread_over_devices((trainable, optimizer_variables, state, keys),
                                           (self.x, self.y, self.layout, self.layout_weight))

        losses, accuracies = [], []
        done = None  # (metrics, epochs done) of the chunk still running
        for first in range(0, total, per_chunk):
            # Dispatch the next chunk before waiting for the last one's metrics, so the devices
            # never idle while the host copies metrics and reports progress.
            carry, metrics = chunk(carry, first, data)
            if done is not None:
                self._collect(done, losses, accuracies, total, on_progress)
            done = (metrics, min(first + per_chunk, total))
        self._collect(done, losses, accuracies, total, on_progress)
        loss = np.concatenate(losses, axis=1)[:count, :total]
        accuracy = np.concatenate(accuracies, axis=1)[:count, :total]
        if self.config.loss != "categorical_crossentropy":
            accuracy = np.full_like(accuracy, np.nan)
        return Population(seeds, [np.asarray(w)[:count] for w in carry[0]], loss, accuracy)

    @staticmethod
    def _collect(done, losses, accuracies, total, on_progress):
        (loss, accuracy), epochs_done = done
        losses.append(np.asarray(loss))
        accuracies.append(np.asarray(accuracy))
        if on_progress is not None:
            on_progress(epochs_done, total)

    def _compiled_chunk(self, epochs_in_chunk: int):
        if epochs_in_chunk not in self._chunks:
            total = self.config.epochs

            def chunk(carry, first_epoch, data):
                # The data and its batch layout arrive as arguments, not constants, so a long
                # sequence is neither baked into the program nor copied into it (memory, compile time).
                return jax.vmap(lambda c: self._train_chunk(c, first_epoch, data, epochs_in_chunk, total))(carry)

            self._chunks[epochs_in_chunk] = jax.jit(chunk)
        return self._chunks[epochs_in_chunk]

    def evaluate(self, weights: list[np.ndarray], x: np.ndarray | None = None,
                 y: np.ndarray | None = None) -> Evaluation:
        """Evaluate stacked weights (each ``(seed, …)``) on the training data, or on ``x, y``
        (for carried state: laid out in the same number of streams, each from a reset state)."""
        if (x is None) != (y is None):
            raise ValueError("evaluate needs both x and y, or neither")
        x = self.x if x is None else np.asarray(x, np.float32)
        y = self.y if y is None else np.asarray(y)
        if self.config.carries_state:
            layout = self.layout if x is self.x else batchify(len(x), self.config.batch_size)
        else:
            layout = np.arange(len(x), dtype=np.int32)[:, None]
        loss, accuracy, prediction = self._evaluate([jnp.asarray(w) for w in weights], x, y, layout)
        prediction = np.asarray(prediction)
        evaluated = layout.reshape(-1)
        if self.config.loss == "categorical_crossentropy":
            return Evaluation(np.asarray(loss), np.asarray(accuracy), prediction.argmax(-1), evaluated)
        return Evaluation(np.asarray(loss), np.full(len(loss), np.nan), prediction, evaluated)


def _spread_over_devices(carry, data: tuple[np.ndarray, ...]):
    """Split the seed axis of ``carry`` evenly over the host devices; copy ``data`` to each.

    Seeds never interact, so each device trains its own share with no communication, and a seed's
    numbers do not depend on which device or which neighbours it has. When the seeds do not divide
    evenly, the last seed is repeated to fill the gap; the caller drops the copies (``[:count]``).
    """
    count = len(carry[-1])
    devices = jax.devices()[: min(len(jax.devices()), count)]
    padded = math.ceil(count / len(devices)) * len(devices)
    if padded != count:
        carry = jax.tree.map(lambda a: np.concatenate([a, np.repeat(a[-1:], padded - count, axis=0)]), carry)
    mesh = Mesh(np.array(devices), ("seed",))
    by_seed, everywhere = NamedSharding(mesh, PartitionSpec("seed")), NamedSharding(mesh, PartitionSpec())
    return jax.device_put(carry, by_seed), jax.device_put(data, everywhere)
