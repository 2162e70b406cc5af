"""Recursive forecasts of a trained model of numbers: H steps ahead from an origin, each
prediction fed back as the next input, for every seed at once.

A window model (state reset every sample) reads the last ``window`` values before the origin and
slides its window over its own predictions; a carried-state model reads the series from its
first value, one value per step with the state carried (as ``stateful`` is trained), and from the
origin on reads its own predictions::

    window 3, origin t:   [z(t-2) z(t-1) z(t)] -> ẑ(t+1)
                          [z(t-1) z(t) ẑ(t+1)] -> ẑ(t+2) ...
    carried, origin t:    z(0) z(1) ... z(t) -> ẑ(t+1) -> ẑ(t+2) ...   (state carried throughout)

A *direct* model (trained with ``--horizon H``: H outputs) reads its window once and gives all H
values; nothing is fed back.

Values are the model's scaled inputs (``owndata.scaling``); the model must read the target
column alone, since a forecast has no future values of other columns to feed it.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from lstmstate.core.model import ModelSpec, call


def recursive(spec: ModelSpec, weights: list[np.ndarray], scaled: np.ndarray, origins: np.ndarray,
              horizon: int, carried: bool) -> np.ndarray:
    """Every seed's forecast of ``horizon`` steps after each origin.

    ``weights`` are stacked ``(seed, …)``; ``scaled`` is the target's scaled values ``(item,)``;
    ``origins`` are positions ``(origin,)``, the last value each forecast may read. Returns scaled
    forecasts ``(seed, origin, horizon)``: ``[:, i, h]`` forecasts position ``origins[i] + h + 1``.
    """
    origins = np.asarray(origins, np.int32)
    if horizon < 1:
        raise ValueError(f"--horizon must be at least 1, got {horizon}")
    scaled = jnp.asarray(scaled, jnp.float32)
    weights = [jnp.asarray(w) for w in weights]
    if carried:
        length = int(origins.max()) + 1  # the stream reads up to the last origin
        run = _compiled_stream(spec, horizon, length, len(origins))
        slot = np.full(length, len(origins), np.int32)  # where each position's state goes
        slot[origins] = np.arange(len(origins), dtype=np.int32)
        return np.asarray(run(weights, scaled[:length], jnp.asarray(slot)))
    windows = _windows(spec, scaled, origins)
    if spec.outputs > 1:
        # A direct model gives its H values at once; it cannot see further than it was trained to.
        if horizon > spec.outputs:
            raise ValueError(f"--horizon {horizon} is longer than the {spec.outputs} values this model was trained "
                             f"to output (train --horizon); ask for 1..{spec.outputs}")
        return np.asarray(_compiled_direct(spec)(weights, windows))[:, :, :horizon]
    return np.asarray(_compiled_window(spec, horizon)(weights, windows))


def _windows(spec: ModelSpec, scaled: jax.Array, origins: np.ndarray) -> jax.Array:
    """``(origin, width)``: the values each origin's first forecast reads, the origin's last."""
    width = spec.steps * spec.features  # values per sample: a window of the target alone
    if int(origins.min()) < width - 1:
        raise ValueError(f"origin {int(origins.min())} is too early: the model reads {width} values, so an origin "
                         f"must be at least {width - 1}")
    return jnp.asarray(np.stack([np.asarray(scaled)[o - width + 1:o + 1] for o in origins]))


@functools.lru_cache(maxsize=16)
def _compiled_direct(spec: ModelSpec):
    """``(weights, windows (origin, width)) -> (seed, origin, outputs)``: one call per origin."""
    model = spec.build(initialized=False)
    non_trainable = [v.value for v in model.non_trainable_variables]

    def one_seed(weights, windows):
        rows = windows.shape[0]
        x = windows.reshape(rows, spec.steps, spec.features)
        y, _, _ = call(model, spec, weights, non_trainable, x, spec.zero_state(rows))
        return y

    return jax.jit(jax.vmap(one_seed, in_axes=(0, None)))


@functools.lru_cache(maxsize=16)
def _compiled_window(spec: ModelSpec, horizon: int):
    """``(weights, windows (origin, width)) -> (seed, origin, horizon)``: slide each window over
    its own predictions, every origin a row of one batch."""
    model = spec.build(initialized=False)
    non_trainable = [v.value for v in model.non_trainable_variables]

    def one_seed(weights, windows):
        rows = windows.shape[0]

        def step(window, _):
            x = window.reshape(rows, spec.steps, spec.features)
            y, _, _ = call(model, spec, weights, non_trainable, x, spec.zero_state(rows))
            return jnp.concatenate([window[:, 1:], y[:, :1]], axis=1), y[:, 0]

        _, predicted = jax.lax.scan(step, windows, None, length=horizon)  # (horizon, origin)
        return predicted.T

    return jax.jit(jax.vmap(one_seed, in_axes=(0, None)))


@functools.lru_cache(maxsize=16)
def _compiled_stream(spec: ModelSpec, horizon: int, length: int, origins: int):
    """``(weights, values (length,), slot (length,)) -> (seed, origin, horizon)``: one stream over
    the values with the state carried, keeping the state and prediction at each origin's slot
    (slot ``origins`` is a scratch row), then ``horizon`` steps from each kept state."""
    model = spec.build(initialized=False)
    non_trainable = [v.value for v in model.non_trainable_variables]

    def one_seed(weights, values, slot):
        zero = spec.zero_state(1)
        kept = (tuple(jnp.zeros((origins + 1, spec.units)) for _ in zero), jnp.zeros(origins + 1))

        def read(carry, inputs):
            state, (states, first) = carry
            value, where = inputs
            y, state, _ = call(model, spec, weights, non_trainable, value.reshape(1, 1, 1), state)
            states = tuple(kept.at[where].set(s[0]) for kept, s in zip(states, state))
            return (state, (states, first.at[where].set(y[0, 0]))), None

        (_, (states, first)), _ = jax.lax.scan(read, (zero, kept), (values, slot))
        states, first = tuple(s[:origins] for s in states), first[:origins]

        def step(carry, _):
            state, value = carry
            y, state, _ = call(model, spec, weights, non_trainable, value.reshape(-1, 1, 1), state)
            return (state, y[:, 0]), y[:, 0]

        # The first forecast came out of the read; each later one feeds the one before it back.
        _, rest = jax.lax.scan(step, (states, first), None, length=horizon - 1)  # (horizon - 1, origin)
        return jnp.concatenate([first[:, None], rest.T], axis=1)

    return jax.jit(jax.vmap(one_seed, in_axes=(0, None, None)))
