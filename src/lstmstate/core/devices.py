"""Seeds spread over the host's devices: each device trains its own share of the seed axis."""

import math

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from lstmstate.core.batches import TrainingData
from lstmstate.core.train_state import TrainState


def spread_over_devices(state: TrainState, data: TrainingData):
    """Split the seed axis of ``state`` evenly over the host devices; copy ``data`` to each.

    Seeds never interact, so each device trains its own share with no communication, and a seed's
    numbers do not depend on which device or which neighbours it has. When the seeds do not divide
    evenly, the last seed is repeated to fill the gap; the caller drops the copies (``[:count]``).
    """
    count = len(state.key)
    devices = jax.devices()[: min(len(jax.devices()), count)]
    padded = math.ceil(count / len(devices)) * len(devices)
    if padded != count:
        state = jax.tree.map(lambda a: np.concatenate([a, np.repeat(a[-1:], padded - count, axis=0)]), state)
    mesh = Mesh(np.array(devices), ("seed",))
    by_seed, everywhere = NamedSharding(mesh, PartitionSpec("seed")), NamedSharding(mesh, PartitionSpec())
    return jax.device_put(state, by_seed), jax.device_put(data, everywhere)
