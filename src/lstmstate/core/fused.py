"""The fused sequence program: T time steps of a recurrent model as whole-sequence operations,
with only the recurrence itself inside the time loop.

Calling the Keras model once per time step (what ``model.call`` does for a sample of one step)
repeats, at every step, work that does not depend on the step before: the first layer's input
projection, the dropout between layers, the head and the loss. Here each of those runs once over
the chunk, as cuDNN's LSTM and PyTorch's ``nn.LSTM`` run them (the input GEMM for all steps
first, then the recurrent GEMMs step by step)::

    x (T, row, slots) ids  --gather kernel rows-->  xp (T, row, 4U)   one op: one-hot x @ K is K's rows
    scan over T:  z = xp[t] + h @ U  -> gates -> h, c                only this is sequential
    layer 2:      hs (T, row, U) @ K2 + b2 -> scan ...                each layer over the whole chunk
    head:         hs (T * row, U) @ W + b -> softmax                  once, for every step's output

The weights are the Keras model's own trainable values in ``model.trainable_variables`` order,
and the arithmetic is Keras's cells' (keras/src/layers/rnn/lstm.py ``LSTMCell.call`` with
``implementation=2``; gru.py ``GRUCell.call`` with ``reset_after``), so export, generation,
checkpoints and resume read the same weights; tests/test_fused.py checks outputs, final states
and gradients against Keras's ``LSTM``/``GRU(return_sequences=True, return_state=True)``.
"""

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import keras

from lstmstate.core.encoding import Encoding
from lstmstate.core.model import ModelSpec

# Time steps the recurrence's loop body holds at once. Measured with bench/charlm.py at bptt 35
# (2-core AMD EPYC, 2026-12-03, steps only, 1 seed): 1 gives 197,291 characters/s, 5 gives
# 117,603 and 35 gives 74,171 (a larger body compiles into slower code on the CPU).
SCAN_UNROLL = 1


@dataclass(frozen=True)
class Layout:
    """Where each weight and random-generator state of a spec's Keras model sits in its
    ``trainable_variables`` and ``non_trainable_variables`` lists."""

    embedding: int | None  # index of the Embedding table (outputs + 1, D), None without one
    layers: tuple[tuple[int, int, int], ...]  # per recurrent layer: (kernel, recurrent kernel, bias)
    head: tuple[int, int]  # the Dense head's (kernel, bias)
    dropouts: tuple[int, ...]  # per Dropout layer in order (after layer 1, 2, ..., before the head): its seed state

    @classmethod
    def of(cls, model: keras.Model, spec: ModelSpec) -> "Layout":
        trainable = {v.path: i for i, v in enumerate(model.trainable_variables)}
        non_trainable = [id(v) for v in model.non_trainable_variables]

        def index(layer_name: str, weight: str) -> int:
            layer = model.get_layer(layer_name)
            (variable,) = [v for v in layer.trainable_variables if v.name == weight]
            return trainable[variable.path]

        names = [layer.name for layer in model.layers if isinstance(layer, keras.layers.RNN)]
        layers = tuple((index(n, "kernel"), index(n, "recurrent_kernel"), index(n, "bias")) for n in names)
        dropouts = tuple(non_trainable.index(id(layer.seed_generator.state)) for layer in model.layers
                         if isinstance(layer, keras.layers.Dropout))
        embedding = index("embedding", "embeddings") if spec.embedding else None
        return cls(embedding, layers, (index("dense", "kernel"), index("dense", "bias")), dropouts)


def supports(spec: ModelSpec) -> bool:
    """Whether a spec's samples can run fused: recurrent layers over samples of one step each
    (the carried-state framings, where time runs along the batches of a stream)."""
    return spec.has_state and spec.steps == 1


def projection(spec: ModelSpec, encoding: Encoding | None, weights, layout: Layout, x):
    """The first layer's input projection ``x @ kernel + bias`` of every step at once.

    ``x`` is ``(T, row, features)`` floats, or with an ``encoding`` the ids ``(T, row, slots)``
    (``PAD`` for padding): one-hot ids pick kernel rows (a one-hot vector times the kernel is
    the kernel's row), embedded ids pick embedding rows. Returns ``(T, row, gates * units)``."""
    kernel, _, bias = (weights[i] for i in layout.layers[0])
    input_bias = bias[0] if spec.kind == "gru" else bias  # GRU's bias is (2, 3U): input, recurrent
    if encoding is None or encoding.name == "scalar":
        features = x if encoding is None else encoding.in_program(x)
        return jnp.einsum("trf,fg->trg", features, kernel) + input_bias
    ids = x.astype(jnp.int32)  # (T, row, slot)
    if encoding.name == "embedding":
        table = weights[layout.embedding]  # (outputs + 1, D); row 0 is the padding id
        embedded = table[ids + 1]  # (T, row, slot, D)
        features = embedded.reshape(*ids.shape[:2], -1)  # (T, row, slot * D), as the model's Reshape
        return jnp.einsum("trf,fg->trg", features, kernel) + input_bias
    vocabulary = encoding.vocabulary_size
    rows = jnp.arange(ids.shape[-1]) * vocabulary + jnp.maximum(ids, 0)  # the one-hot's place in the kernel
    picked = jnp.where((ids >= 0)[..., None], kernel[rows], 0.0)  # (T, row, slot, 4U); PAD is all zeros
    return jnp.sum(picked, axis=2) + input_bias


def lstm_scan(projected, recurrent_kernel, state, mask):
    """``projected (T, row, 4U)``, ``state (h, c)`` each ``(row, U)``, ``mask (T, row)`` bool:
    ``(hs (T, row, U), (h, c))``. A masked step leaves the state as it was (Keras's RNN with a
    mask), and its output is that state's h."""
    hs, state, _ = _lstm_forward(projected, recurrent_kernel, tuple(state), mask)
    return hs, state


def _lstm_forward(projected, recurrent_kernel, state, mask):
    # Also returns what the backward pass reads: each step's state before it and its gates.
    def step(carry, inputs):
        h, c = carry
        z_x, keep = inputs
        z = z_x + h @ recurrent_kernel  # (row, 4U): gates i, f, c, o
        i, f, g, o = jnp.split(z, 4, axis=-1)
        i, f, g, o = jax.nn.sigmoid(i), jax.nn.sigmoid(f), jnp.tanh(g), jax.nn.sigmoid(o)
        new_c = f * c + i * g
        squashed = jnp.tanh(new_c)
        new_h = o * squashed
        keep = keep[:, None]
        after = jnp.where(keep, new_h, h), jnp.where(keep, new_c, c)
        return after, (after[0], (h, c, jnp.concatenate([i, f, g, o], axis=-1), squashed))

    state, (hs, saved) = jax.lax.scan(step, state, (projected, mask), unroll=SCAN_UNROLL)
    return hs, state, saved


def _lstm_scan_forward(projected, recurrent_kernel, state, mask):
    hs, state, saved = _lstm_forward(projected, recurrent_kernel, tuple(state), mask)
    return (hs, state), (recurrent_kernel, mask, saved)


def _lstm_scan_backward(residuals, cotangents):
    # The gradient as cuDNN's and PyTorch's LSTMs take it: the time loop carries only the
    # state's cotangents (one (row, 4U) @ (4U, U) product a step), and the recurrent kernel's
    # gradient is one (U, T * row) @ (T * row, 4U) product after it, not T small ones inside it.
    recurrent_kernel, mask, (h_before, c_before, gates, squashed) = residuals
    d_hs, (d_h, d_c) = cotangents
    transposed = recurrent_kernel.T

    def step(carry, inputs):
        d_h, d_c = carry
        d_out, keep, c, gate, tanh_c = inputs
        i, f, g, o = jnp.split(gate, 4, axis=-1)
        keep = keep[:, None]
        d_h = d_h + d_out
        d_new_h, d_new_c = jnp.where(keep, d_h, 0.0), jnp.where(keep, d_c, 0.0)
        d_new_c = d_new_c + d_new_h * o * (1 - tanh_c * tanh_c)
        d_z = jnp.concatenate([d_new_c * g * i * (1 - i), d_new_c * c * f * (1 - f), d_new_c * i * (1 - g * g),
                               d_new_h * tanh_c * o * (1 - o)], axis=-1)  # (row, 4U)
        # A masked step passed the state through unchanged, so its cotangent passes back.
        d_h_before = d_z @ transposed + (d_h - d_new_h)
        d_c_before = d_new_c * f + (d_c - jnp.where(keep, d_c, 0.0))
        return (d_h_before, d_c_before), d_z

    d_state, d_z = jax.lax.scan(step, (d_h, d_c), (d_hs, mask, c_before, gates, squashed), reverse=True,
                                unroll=SCAN_UNROLL)
    d_recurrent = jnp.einsum("tru,trg->ug", h_before, d_z)
    return d_z, d_recurrent, d_state, None


lstm_scan = jax.custom_vjp(lstm_scan)
lstm_scan.defvjp(_lstm_scan_forward, _lstm_scan_backward)


def gru_scan(projected, recurrent_kernel, recurrent_bias, state, mask):
    """GRU (``reset_after``, Keras's default): ``projected (T, row, 3U)``, ``state (h,)``:
    ``(hs (T, row, U), (h,))``."""
    hs, state, _ = _gru_forward(projected, recurrent_kernel, recurrent_bias, tuple(state), mask)
    return hs, state


def _gru_forward(projected, recurrent_kernel, recurrent_bias, state, mask):
    def step(carry, inputs):
        (h,) = carry
        z_x, keep = inputs
        x_z, x_r, x_h = jnp.split(z_x, 3, axis=-1)
        inner = h @ recurrent_kernel + recurrent_bias  # (row, 3U)
        r_z, r_r, r_h = jnp.split(inner, 3, axis=-1)
        z = jax.nn.sigmoid(x_z + r_z)
        r = jax.nn.sigmoid(x_r + r_r)
        candidate = jnp.tanh(x_h + r * r_h)
        new_h = z * h + (1 - z) * candidate
        h_after = jnp.where(keep[:, None], new_h, h)
        return (h_after,), (h_after, (h, jnp.concatenate([z, r, candidate, r_h], axis=-1)))

    state, (hs, saved) = jax.lax.scan(step, state, (projected, mask), unroll=SCAN_UNROLL)
    return hs, state, saved


def _gru_scan_forward(projected, recurrent_kernel, recurrent_bias, state, mask):
    hs, state, saved = _gru_forward(projected, recurrent_kernel, recurrent_bias, tuple(state), mask)
    return (hs, state), (recurrent_kernel, mask, saved)


def _gru_scan_backward(residuals, cotangents):
    # As _lstm_scan_backward: the recurrent kernel's and bias's gradients after the time loop.
    recurrent_kernel, mask, (h_before, saved) = residuals
    d_hs, (d_h,) = cotangents
    transposed = recurrent_kernel.T

    def step(d_h, inputs):
        d_out, keep, h, gate = inputs
        z, r, candidate, r_h = jnp.split(gate, 4, axis=-1)
        keep = keep[:, None]
        d_h = d_h + d_out
        d_new_h = jnp.where(keep, d_h, 0.0)
        d_a_h = d_new_h * (1 - z) * (1 - candidate * candidate)
        d_a_r = d_a_h * r_h * r * (1 - r)
        d_a_z = d_new_h * (h - candidate) * z * (1 - z)
        d_inner = jnp.concatenate([d_a_z, d_a_r, d_a_h * r], axis=-1)  # (row, 3U)
        d_h_before = d_new_h * z + d_inner @ transposed + (d_h - d_new_h)
        return d_h_before, (jnp.concatenate([d_a_z, d_a_r, d_a_h], axis=-1), d_inner)

    d_h, (d_projected, d_inner) = jax.lax.scan(step, d_h, (d_hs, mask, h_before, saved), reverse=True,
                                               unroll=SCAN_UNROLL)
    d_recurrent = jnp.einsum("tru,trg->ug", h_before, d_inner)
    return d_projected, d_recurrent, jnp.sum(d_inner, axis=(0, 1)), (d_h,), None


gru_scan = jax.custom_vjp(gru_scan)
gru_scan.defvjp(_gru_scan_forward, _gru_scan_backward)


def sequence(spec: ModelSpec, encoding: Encoding | None, layout: Layout, weights, non_trainable, x,
             lstm_state, mask, training: bool = False):
    """T steps of every recurrent layer from ``lstm_state``: ``(hs (T, row, U) of the last layer,
    lstm_state after, non_trainable after)``.

    ``x`` as ``projection`` reads it; ``lstm_state`` is the flat state tuple
    (``ModelSpec.zero_state``); ``mask (T, row)`` is True where a step is read. While training,
    the dropout between layers draws one mask for the whole chunk and advances its generator's
    state as Keras's ``SeedGenerator.next`` does (the key used is the state before the step)."""
    per_layer = 2 if spec.kind == "lstm" else 1
    non_trainable = list(non_trainable)
    state_out = []
    hs = None
    for number, (kernel_index, recurrent_index, bias_index) in enumerate(layout.layers):
        state = lstm_state[number * per_layer:(number + 1) * per_layer]
        if number == 0:
            projected = projection(spec, encoding, weights, layout, x)
        else:
            hs, non_trainable = _dropped(spec, layout, number - 1, hs, non_trainable, training)
            bias = weights[bias_index]
            projected = jnp.einsum("tru,ug->trg", hs, weights[kernel_index]) + (bias[0] if spec.kind == "gru" else bias)
        if spec.kind == "lstm":
            hs, state = lstm_scan(projected, weights[recurrent_index], state, mask)
        else:
            hs, state = gru_scan(projected, weights[recurrent_index], weights[bias_index][1], state, mask)
        state_out += list(state)
    return hs, tuple(state_out), non_trainable


def head(spec: ModelSpec, layout: Layout, weights, non_trainable, hs, training: bool = False):
    """The Dense head over every step's output at once: ``(y (T, row, outputs), non_trainable)``."""
    hs, non_trainable = _dropped(spec, layout, len(layout.layers) - 1, hs, non_trainable, training)
    kernel, bias = (weights[i] for i in layout.head)
    logits = jnp.einsum("tru,uo->tro", hs, kernel) + bias
    return keras.activations.get(spec.output_activation)(logits), non_trainable


def outputs(spec: ModelSpec, encoding: Encoding | None, layout: Layout, weights, non_trainable, x, lstm_state,
            mask, training: bool = False):
    """``sequence`` then ``head``: ``(y (T, row, outputs), lstm_state after, non_trainable after)``,
    what calling the model on each of the T steps in turn gives."""
    hs, lstm_state, non_trainable = sequence(spec, encoding, layout, weights, non_trainable, x, lstm_state, mask,
                                             training)
    y, non_trainable = head(spec, layout, weights, non_trainable, hs, training)
    return y, lstm_state, non_trainable


def _dropped(spec: ModelSpec, layout: Layout, which: int, hs, non_trainable: list, training: bool):
    # The model has a Dropout layer after each recurrent layer only when its rate is above 0
    # (model._dropped); ``which`` counts them in model order.
    if not (training and spec.dropout > 0):
        return hs, non_trainable
    index = layout.dropouts[which]
    seed = non_trainable[index]
    non_trainable = list(non_trainable)
    non_trainable[index] = seed + jnp.array([0, 1], seed.dtype)
    return keras.random.dropout(hs, spec.dropout, seed=seed), non_trainable
