"""Predictions of a trained population on many samples, in chunks, so memory stays bounded.

``Trainer.evaluate`` returns every sample's full output for every seed: for ten million
characters and a vocabulary of 80 that is gigabytes. Here each chunk is reduced at once to what
scoring needs (the predicted id, or the predicted value), and only the samples asked for are kept.

A layout is sample indices shaped ``(batch, row)``, as the engine's. Stateless: every row starts
from zero state. Carried state: row ``r`` of each batch continues row ``r`` of the batch before
(``framing.batchify``), and the state is carried from chunk to chunk::

    layout (batch, stream)     chunk 0: batches 0..K-1   -> state -> chunk 1: batches K..2K-1 -> ...
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from lstmstate.core import fused
from lstmstate.core.encoding import Encoding
from lstmstate.core.model import ModelSpec, call

CHUNK_SAMPLES = 1 << 15  # samples per compiled call: big enough to amortise the call, small enough for memory


# The smallest probability a log is taken of: a softmax that underflows to 0 scores ln(1e-30) = -69,
# a large but finite penalty, rather than an infinite cross entropy.
TINY_PROBABILITY = 1e-30


@functools.lru_cache(maxsize=16)
def _compiled(spec: ModelSpec, classify: bool, carries_state: bool, encoding: Encoding | None):
    """One compiled ``(weights, state, x, targets, layout) -> (state, (outputs, log p))`` for all
    seeds at once; ``log p`` is the log probability of each sample's target (classify only).

    Streams of one-step samples read the whole call's batches as one fused sequence program
    (``core.fused``): the input projection and the head once for every step, only the recurrence
    step by step. Otherwise the model is called on each batch in turn."""
    model = spec.build(initialized=False)
    non_trainable = [v.value for v in model.non_trainable_variables]
    layout_of = fused.Layout.of(model, spec) if carries_state and fused.supports(spec) else None

    def reduced(y, targets):
        if classify:
            target = jnp.take_along_axis(y, targets[..., None], axis=-1)[..., 0]
            return jnp.argmax(y, axis=-1).astype(jnp.int32), jnp.log(jnp.maximum(target, TINY_PROBABILITY))
        return y[..., 0], jnp.zeros(targets.shape, y.dtype)

    def one_seed(weights, state, x, targets, layout):
        if layout_of is not None:  # layout (batch, row): batch is time
            mask = jnp.ones(layout.shape, bool)
            y, state, _ = fused.outputs(spec, encoding, layout_of, weights, non_trainable, x[layout][:, :, 0],
                                        state, mask)
            return state, reduced(y, targets[layout])  # each (batch, row)

        def step(state, indices):
            features = x[indices] if encoding is None else encoding.in_program(x[indices])
            y, state, _ = call(model, spec, weights, non_trainable, features, state)
            return state, reduced(y, targets[indices])  # each (row,)

        return jax.lax.scan(step, state, layout)  # outputs (batch, row)

    return jax.jit(jax.vmap(one_seed, in_axes=(0, 0, None, None, None)))


def predict(spec: ModelSpec, weights: list[np.ndarray], x: np.ndarray, layout: np.ndarray,
            carries_state: bool, classify: bool, first_kept: int = 0, targets: np.ndarray | None = None,
            encoding: Encoding | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every seed's prediction for the samples of ``layout`` whose index is ``>= first_kept``.

    ``weights`` are stacked, each ``(seed, …)``; ``x`` is ``(sample, step, feature)`` floats, or
    with an ``encoding`` the ids ``(sample, step, slot)`` it encodes in the compiled program;
    ``targets`` (classify) is each sample's target id ``(sample,)``. Returns ``(kept,
    predictions, log_probabilities)``: the kept sample indices ``(kept,)`` in layout order, the
    predicted ids (``classify``) or first output values ``(seed, kept)``, and the log probability
    each seed gave the kept samples' targets ``(seed, kept)`` (zeros without ``targets``).
    """
    layout = np.asarray(layout, np.int32)
    seeds = len(weights[0])
    run = _compiled(spec, classify, carries_state, encoding)
    weights = [jnp.asarray(w) for w in weights]
    x = jnp.asarray(x, jnp.float32 if encoding is None else jnp.int32)
    targets = jnp.zeros(len(x), jnp.int32) if targets is None else jnp.asarray(targets, jnp.int32)
    if carries_state:
        rows = layout.shape[1]
        per_call = max(1, CHUNK_SAMPLES // rows)  # batches per call
        chunks = [layout[i:i + per_call] for i in range(0, len(layout), per_call)]
    else:
        # Stateless: every sample is its own row; a call is one batch of many rows.
        flat = layout.reshape(-1)
        rows = min(len(flat), CHUNK_SAMPLES)
        per_call = 1
        chunks = [flat[i:i + rows][None, :] for i in range(0, len(flat), rows)]
    zero = tuple(jnp.zeros((seeds, rows, spec.units), jnp.float32) for _ in range(spec.state_count))
    state = zero
    kept_indices, kept_outputs, kept_logs = [], [], []
    for chunk in chunks:
        real = chunk.shape
        # Pad the last chunk to the compiled shape; padded outputs are dropped below.
        padded = np.zeros((per_call, rows), np.int32)
        padded[:real[0], :real[1]] = chunk
        new_state, (outputs, logs) = run(weights, state if carries_state else zero, x, targets, jnp.asarray(padded))
        state = new_state
        outputs = np.asarray(outputs)[:, :real[0], :real[1]].reshape(seeds, -1)  # (seed, batch*row)
        logs = np.asarray(logs)[:, :real[0], :real[1]].reshape(seeds, -1)
        indices = chunk.reshape(-1)
        keep = indices >= first_kept
        if keep.any():
            kept_indices.append(indices[keep])
            kept_outputs.append(outputs[:, keep])
            kept_logs.append(logs[:, keep])
    if not kept_indices:
        return (np.zeros(0, np.int32), np.zeros((seeds, 0), np.int32 if classify else np.float32),
                np.zeros((seeds, 0), np.float32))
    return np.concatenate(kept_indices), np.concatenate(kept_outputs, axis=1), np.concatenate(kept_logs, axis=1)
