"""State policies: what happens to the LSTM's (h, c) at the start of each training batch.

A policy is a small named object, ``StatePolicy(name, carries_state, apply)``; ``apply`` is
``apply(lstm_state, batch_index) -> lstm_state``, where ``batch_index`` counts batches within the
epoch (gradient steps, with ``--bptt``) and ``lstm_state`` is the recurrent state tuple
(``ModelSpec.zero_state``: ``(h, c)`` per LSTM layer, ``(h,)`` per GRU layer), each ``(row, units)``.
Gradients never flow into a carried state from the step before, as in Keras: each gradient step is
its own truncated BPTT window.

    >>> get("carry-within-epoch") is CARRY_WITHIN_EPOCH, CARRY_WITHIN_EPOCH.carries_state
    (True, True)
"""

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp


def reset_every_batch(lstm_state, batch_index):
    """Keras's stateless default: every sample of every batch starts from its own zero state."""
    return jax.tree.map(jnp.zeros_like, lstm_state)


def carry_within_epoch(lstm_state, batch_index):
    """The tutorial's stateful loop: carry the state from batch to batch, reset it when an epoch
    starts (``model.fit(epochs=1)`` then ``reset_states()``)."""
    fresh = batch_index == 0
    return jax.tree.map(lambda s: jnp.where(fresh, jnp.zeros_like(s), jax.lax.stop_gradient(s)), lstm_state)


def carry_always(lstm_state, batch_index):
    """Never reset during training: the stream is one long sequence across epochs."""
    return jax.tree.map(jax.lax.stop_gradient, lstm_state)


@dataclass(frozen=True)
class StatePolicy:
    """What a training batch starts from."""

    name: str  # how TrainConfig saves it ("carry-within-epoch")
    carries_state: bool  # a batch may start where the one before ended, so batches keep stream order
    apply: Callable  # (lstm_state, batch_index) -> the lstm_state the batch starts from

    def __repr__(self) -> str:
        return f"StatePolicy({self.name!r})"


RESET_EVERY_BATCH = StatePolicy("reset-every-batch", False, reset_every_batch)
CARRY_WITHIN_EPOCH = StatePolicy("carry-within-epoch", True, carry_within_epoch)
CARRY_ALWAYS = StatePolicy("carry-always", True, carry_always)

POLICIES = {policy.name: policy for policy in (RESET_EVERY_BATCH, CARRY_WITHIN_EPOCH, CARRY_ALWAYS)}


def get(name: str) -> StatePolicy:
    """The policy called ``name``; an unknown name is a ``ValueError`` listing the known ones."""
    if name not in POLICIES:
        raise ValueError(f"unknown state policy {name!r}; choose one of {', '.join(POLICIES)}")
    return POLICIES[name]
