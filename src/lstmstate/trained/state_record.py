"""A state record: the hidden and cell state of a trained LSTM after every symbol of a long text
(or every row of a series of numbers), for several sets of weights at once, in one compiled program.

``trained.state_trace`` steps a Keras model from Python, one call per symbol: right for the
dozen symbols of ``inspect``, minutes for a book. Here the same per-step call
(``core.model.call``, the engine's) runs inside ``jax.lax.scan`` over chunks of the text, with
``jax.vmap`` over the weight sets and the state carried from chunk to chunk::

    ids      i_0 i_1 … i_{K-1} | i_K … i_{2K-1} | …    chunks of CHUNK_STEPS, the last padded
    state    0 ->  scan  ->  state  ->  scan  ->  …     carried, as a stream (batch size 1)
    record   h, c (weights, step, units) after each symbol, the top layer's

A model of numbers reads float rows ``(step, features)`` in place of ids, through the same scan.

Memory: steps x units x 2 (h and c) x 4 bytes per weight set (100,000 symbols of 128 units:
100 MB).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from lstmstate.core.encoding import Encoding
from lstmstate.core.model import ModelSpec, call

CHUNK_STEPS = 1 << 14  # symbols per compiled call: one compile serves every text; the outputs stay small


@functools.lru_cache(maxsize=8)
def _compiled(spec: ModelSpec, encoding: Encoding | None):
    """``(weights, state, inputs) -> (state, (h, c))`` for every weight set at once: ``inputs``
    ids ``(step,)``, or float rows ``(step, features)`` when ``encoding`` is None (a model of
    numbers); ``h`` and ``c`` ``(weights, step, units)``."""
    model = spec.build(initialized=False)
    non_trainable = [v.value for v in model.non_trainable_variables]

    def one_set(weights, state, inputs):
        def step(state, symbol):
            if encoding is None:
                features = symbol[None, None, :]  # (row 1, step 1, features): the row as training read it
            else:
                features = encoding.in_program(symbol[None, None, None])  # (row 1, step 1, features)
            _, state, _ = call(model, spec, weights, non_trainable, features, state)
            return state, (state[-2][0], state[-1][0])  # the top layer's (h, c): the last two of the state

        return jax.lax.scan(step, state, inputs)

    return jax.jit(jax.vmap(one_set, in_axes=(0, 0, None)))


def record(spec: ModelSpec, weights: list[np.ndarray], encoding: Encoding, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``h`` and ``c`` ``(set, step, units)`` after each of ``ids`` ``(step,)``, fed one per step
    from a zero state, for each weight set of ``weights`` (each ``(set, *variable shape)``).

    Equals ``state_trace.trace`` for each set (tests/test_cells.py checks it)."""
    if spec.kind != "lstm":
        raise ValueError(f"a {spec.kind} model has no LSTM cell state (h and c) to record")
    if spec.features != encoding.features(1):
        raise ValueError("recording the state needs a model of one symbol per step (a carried-state framing)")
    return _scanned(spec, weights, encoding, np.asarray(ids, np.int32))


def record_rows(spec: ModelSpec, weights: list[np.ndarray], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``record`` for a model of numbers: ``h`` and ``c`` ``(set, step, units)`` after each of the
    float ``rows`` ``(step, features)``, scaled as training scaled them, fed one per step from a
    zero state."""
    if spec.kind != "lstm":
        raise ValueError(f"a {spec.kind} model has no LSTM cell state (h and c) to record")
    rows = np.asarray(rows, np.float32)
    if rows.ndim != 2 or rows.shape[1] != spec.features or spec.steps != 1:
        raise ValueError(f"recording the state needs rows of the model's {spec.features} columns, one row per step "
                         f"(a carried-state framing); got rows shaped {rows.shape}")
    return _scanned(spec, weights, None, rows)


def _scanned(spec: ModelSpec, weights: list[np.ndarray], encoding: Encoding | None,
             inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``inputs`` (ids ``(step,)`` or rows ``(step, features)``) through the compiled scan, a
    chunk at a time with the state carried: ``h`` and ``c`` ``(set, step, units)``."""
    run = _compiled(spec, encoding)
    sets = len(weights[0])
    weights = [jnp.asarray(w) for w in weights]
    state = tuple(jnp.zeros((sets, 1, spec.units), jnp.float32) for _ in range(spec.state_count))
    hs, cs = [], []
    for start in range(0, len(inputs), CHUNK_STEPS):
        chunk = inputs[start:start + CHUNK_STEPS]
        # Padded to the compiled length with id 0 (a row of zeros); what the padding produces is
        # dropped, and it comes after the last real symbol, so it changes nothing recorded.
        padded = np.zeros((CHUNK_STEPS, *inputs.shape[1:]), inputs.dtype)
        padded[:len(chunk)] = chunk
        state, (h, c) = run(weights, state, jnp.asarray(padded))
        hs.append(np.asarray(h)[:, :len(chunk)])
        cs.append(np.asarray(c)[:, :len(chunk)])
    return np.concatenate(hs, axis=1), np.concatenate(cs, axis=1)
