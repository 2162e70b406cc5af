"""A state record: the hidden and cell state of a trained LSTM after every symbol of a long text,
for several sets of weights at once, in one compiled program.

``trained.state_trace`` steps a Keras model from Python, one call per symbol: right for the
dozen symbols of ``inspect``, minutes for a book. Here the same per-step call
(``core.model.call``, the engine's) runs inside ``jax.lax.scan`` over chunks of the text, with
``jax.vmap`` over the weight sets and the state carried from chunk to chunk::

    ids      i_0 i_1 … i_{K-1} | i_K … i_{2K-1} | …    chunks of CHUNK_STEPS, the last padded
    state    0 ->  scan  ->  state  ->  scan  ->  …     carried, as a stream (batch size 1)
    record   h, c (weights, step, units) after each symbol, the top layer's

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
def _compiled(spec: ModelSpec, encoding: Encoding):
    """``(weights, state, ids) -> (state, (h, c))`` for every weight set at once: ``ids``
    ``(step,)``, ``h`` and ``c`` ``(weights, step, units)``."""
    model = spec.build(initialized=False)
    non_trainable = [v.value for v in model.non_trainable_variables]

    def one_set(weights, state, ids):
        def step(state, symbol):
            features = encoding.in_program(symbol[None, None, None])  # (row 1, step 1, features)
            _, state, _ = call(model, spec, weights, non_trainable, features, state)
            return state, (state[-2][0], state[-1][0])  # the top layer's (h, c): the last two of the state

        return jax.lax.scan(step, state, ids)

    return jax.jit(jax.vmap(one_set, in_axes=(0, 0, None)))


def record(spec: ModelSpec, weights: list[np.ndarray], encoding: Encoding, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``h`` and ``c`` ``(set, step, units)`` after each of ``ids`` ``(step,)``, fed one per step
    from a zero state, for each weight set of ``weights`` (each ``(set, *variable shape)``).

    Equals ``state_trace.trace`` for each set (tests/test_cells.py checks it)."""
    if spec.kind != "lstm":
        raise ValueError(f"a {spec.kind} model has no LSTM cell state (h and c) to record")
    if spec.features != encoding.features(1):
        raise ValueError("recording the state needs a model of one symbol per step (a carried-state framing)")
    ids = np.asarray(ids, np.int32)
    run = _compiled(spec, encoding)
    sets = len(weights[0])
    weights = [jnp.asarray(w) for w in weights]
    state = tuple(jnp.zeros((sets, 1, spec.units), jnp.float32) for _ in range(spec.state_count))
    hs, cs = [], []
    for start in range(0, len(ids), CHUNK_STEPS):
        chunk = ids[start:start + CHUNK_STEPS]
        # Padded to the compiled length with id 0; what the padding produces is dropped, and it
        # comes after the last real symbol, so it changes nothing recorded.
        padded = np.zeros(CHUNK_STEPS, np.int32)
        padded[:len(chunk)] = chunk
        state, (h, c) = run(weights, state, jnp.asarray(padded))
        hs.append(np.asarray(h)[:, :len(chunk)])
        cs.append(np.asarray(c)[:, :len(chunk)])
    return np.concatenate(hs, axis=1), np.concatenate(cs, axis=1)
