"""State policies: what happens to the LSTM state at the start of each training batch.

Each policy is ``policy(state, batch_index) -> state``, where ``batch_index`` counts batches
within the epoch and ``state`` is ``(h, c)``, each ``(batch, units)``. Gradients never flow into
a carried state from the batch before, as in Keras: each batch is its own truncated BPTT window.
"""

import jax
import jax.numpy as jnp


def reset_every_batch(state, batch_index):
    """Keras's stateless default: every sample of every batch starts from its own zero state."""
    return jax.tree.map(jnp.zeros_like, state)


def carry_within_epoch(state, batch_index):
    """The seed's stateful loop: carry the state from batch to batch, reset it when an epoch starts
    (``model.fit(epochs=1)`` then ``reset_states()``)."""
    fresh = batch_index == 0
    return jax.tree.map(lambda s: jnp.where(fresh, jnp.zeros_like(s), jax.lax.stop_gradient(s)), state)


def carry_always(state, batch_index):
    """Never reset during training: the stream is one long sequence across epochs."""
    return jax.tree.map(jax.lax.stop_gradient, state)


POLICIES = {
    "reset-every-batch": reset_every_batch,
    "carry-within-epoch": carry_within_epoch,
    "carry-always": carry_always,
}


def get(name: str):
    """The policy called ``name``; an unknown name is a ``ValueError`` listing the known ones."""
    if name not in POLICIES:
        raise ValueError(f"unknown state policy {name!r}; choose one of {', '.join(POLICIES)}")
    return POLICIES[name]


def carries(name: str) -> bool:
    """Whether the policy carries state between batches (so batches must keep stream order)."""
    get(name)
    return name != "reset-every-batch"
