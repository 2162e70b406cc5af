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

from lstmstate.core import budget
from lstmstate.core.model import ModelSpec, call


# A forecast runs in compiled blocks of at most this many multiply-adds (about 0.1 s on one CPU
# core): a stop (Ctrl-C, SIGTERM) is seen between blocks, so `forecast --horizon 10**8` stops in
# well under a second instead of after the whole scan (352 s, as found). Blocks of a few steps
# cost a Python call each (~0.1 ms), so a block is never shorter than MIN_BLOCK steps.
BLOCK_WORK = 2 ** 26
MIN_BLOCK, MAX_BLOCK = 16, 2 ** 16


def block_steps(spec: ModelSpec, seeds: int, origins: int, horizon: int) -> int:
    """Forecast steps one compiled block makes: about ``BLOCK_WORK`` multiply-adds (every seed, every
    origin, the model read over its ``steps`` time steps), within ``MIN_BLOCK..MAX_BLOCK`` and the horizon."""
    per_step = max(1, seeds * origins * spec.steps * budget.parameters(spec))
    return max(1, min(horizon, MAX_BLOCK, max(MIN_BLOCK, BLOCK_WORK // per_step)))


def recursive(spec: ModelSpec, weights: list[np.ndarray], scaled: np.ndarray, origins: np.ndarray,
              horizon: int, carries_state: bool, block: int | None = None) -> np.ndarray:
    """Every seed's forecast of ``horizon`` steps after each origin.

    ``weights`` are stacked ``(seed, …)``; ``scaled`` is the target's scaled values ``(item,)``;
    ``origins`` are positions ``(origin,)``, the last value each forecast may read. Returns scaled
    forecasts ``(seed, origin, horizon)``: ``[:, i, h]`` forecasts position ``origins[i] + h + 1``.
    The steps are made ``block`` at a time (default ``block_steps``); the numbers do not depend on it.
    """
    origins = np.asarray(origins, np.int32)
    if horizon < 1:
        raise ValueError(f"`horizon` must be at least 1, got {horizon}")
    scaled = jnp.asarray(scaled, jnp.float32)
    weights = [jnp.asarray(w) for w in weights]
    seeds = int(weights[0].shape[0])
    block = block_steps(spec, seeds, len(origins), horizon) if block is None else max(1, min(block, horizon))
    if carries_state:
        length = int(origins.max()) + 1  # the stream reads up to the last origin
        slot = np.full(length, len(origins), np.int32)  # where each position's state goes
        slot[origins] = np.arange(len(origins), dtype=np.int32)
        states, first = _compiled_read(spec, length, len(origins))(weights, scaled[:length], jnp.asarray(slot))
        # The first forecast came out of the read; each later one feeds the one before it back.
        return _in_blocks(_compiled_carry(spec, block), weights, (states, first), first, horizon - 1, block)
    windows = _windows(spec, scaled, origins)
    if spec.outputs > 1:
        # A direct model gives its H values at once; it cannot see further than it was trained to.
        if horizon > spec.outputs:
            raise ValueError(f"`horizon` {horizon} is longer than the {spec.outputs} values this model was trained "
                             f"to output (train --horizon); ask for 1..{spec.outputs}")
        return np.asarray(_compiled_direct(spec)(weights, windows))[:, :, :horizon]
    # Every seed slides its own copy of the windows over its own predictions: (seed, origin, width).
    windows = jnp.broadcast_to(windows, (seeds, *windows.shape))
    return _in_blocks(_compiled_window(spec, block), weights, windows, None, horizon, block)


def _in_blocks(compiled, weights, carry, first, steps: int, block: int) -> np.ndarray:
    """Run ``compiled(weights, carry) -> (carry, (seed, origin, block))`` until ``steps`` steps are
    made, into one host array ``(seed, origin, [1 +] steps)`` (``first``, when given, leads)."""
    lead = 0 if first is None else 1
    shape = (len(weights[0]), *(first.shape[1:2] if first is not None else carry.shape[1:2]))
    out = np.empty((*shape, lead + steps), np.float32)
    finished = 0
    try:
        if first is not None:
            out[:, :, 0] = np.asarray(first)
            finished = 1
        for done in range(0, steps, block):
            carry, made = compiled(weights, carry)
            take = min(block, steps - done)  # the last block runs whole; its extra steps are dropped
            out[:, :, lead + done:lead + done + take] = np.asarray(made)[:, :, :take]
            finished = lead + done + take
    except KeyboardInterrupt:
        raise Stopped(out[:, :, :finished]) from None
    return out


class Stopped(KeyboardInterrupt):
    """Ctrl-C or SIGTERM between blocks: ``finished`` holds the steps made ``(seed, origin, step)``."""

    def __init__(self, finished: np.ndarray):
        super().__init__()
        self.finished = finished


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
def _compiled_window(spec: ModelSpec, block: int):
    """``(weights, windows (seed, origin, width)) -> (windows, (seed, origin, block))``: slide each
    window over its own predictions ``block`` steps, every origin a row of one batch."""
    model = spec.build(initialized=False)
    non_trainable = [v.value for v in model.non_trainable_variables]

    def one_seed(weights, windows):
        rows = windows.shape[0]

        def step(window, _):
            x = window.reshape(rows, spec.steps, spec.features)
            y, _, _ = call(model, spec, weights, non_trainable, x, spec.zero_state(rows))
            return jnp.concatenate([window[:, 1:], y[:, :1]], axis=1), y[:, 0]

        windows, predicted = jax.lax.scan(step, windows, None, length=block)  # (block, origin)
        return windows, predicted.T

    return jax.jit(jax.vmap(one_seed))


@functools.lru_cache(maxsize=16)
def _compiled_read(spec: ModelSpec, length: int, origins: int):
    """``(weights, values (length,), slot (length,)) -> (states, first (seed, origin))``: one stream
    over the values with the state carried, keeping the state and prediction at each origin's slot
    (slot ``origins`` is a scratch row)."""
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
        return tuple(s[:origins] for s in states), first[:origins]

    return jax.jit(jax.vmap(one_seed, in_axes=(0, None, None)))


@functools.lru_cache(maxsize=16)
def _compiled_carry(spec: ModelSpec, block: int):
    """``(weights, (states, value (seed, origin))) -> ((states, value), (seed, origin, block))``:
    ``block`` steps from each kept state, each prediction fed back as the next input."""
    model = spec.build(initialized=False)
    non_trainable = [v.value for v in model.non_trainable_variables]

    def one_seed(weights, carry):
        def step(carry, _):
            state, value = carry
            y, state, _ = call(model, spec, weights, non_trainable, value.reshape(-1, 1, 1), state)
            return (state, y[:, 0]), y[:, 0]

        carry, made = jax.lax.scan(step, carry, None, length=block)  # (block, origin)
        return carry, made.T

    return jax.jit(jax.vmap(one_seed))
