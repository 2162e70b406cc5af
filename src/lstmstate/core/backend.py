"""The Keras backend lstmstate runs on: JAX on the CPU, chosen before Keras is first imported.

Keras reads ``KERAS_BACKEND`` once, at import (keras/src/backend/config.py), so the choice
must be made before anything imports Keras. A program that already imported Keras with another
backend cannot be switched; we say so instead of training on the wrong backend silently.
JAX's CPU devices are chosen at the same moment, for the same reason: one per core.
"""

import os
import sys

REQUIRED_BACKEND = "jax"


def select_jax_backend() -> None:
    """Make Keras use JAX, or raise ``RuntimeError`` if Keras already runs on another backend."""
    if "keras" in sys.modules:
        import keras

        active = keras.backend.backend()
        if active != REQUIRED_BACKEND:
            raise RuntimeError(
                f"lstmstate needs the Keras JAX backend, but Keras was already imported with "
                f"the {active!r} backend; set KERAS_BACKEND=jax before importing Keras, "
                f"or import lstmstate first."
            )
        return
    os.environ["KERAS_BACKEND"] = REQUIRED_BACKEND
    use_every_core()
    # TensorFlow, when installed, is imported by Keras for its tree utilities; keep its C++ logs quiet.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


# Most host devices lstmstate asks for: seeds split evenly, so more devices than this only adds
# padding and per-device overhead on the small programs it runs.
MAX_HOST_DEVICES = 16
HOST_DEVICE_FLAG = "--xla_force_host_platform_device_count"


def use_every_core() -> None:
    """Expose each CPU core as its own JAX device, so the engine can split seeds across cores.

    XLA runs one small program on one core: a training step of batch size 1 is far too small to
    parallelise within, so the engine shards the seed axis over devices instead. XLA reads
    ``XLA_FLAGS`` once, when JAX starts its CPU backend; a flag the user set wins, and once JAX
    has started nothing can be changed (it then keeps its single device).
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if HOST_DEVICE_FLAG in flags or "jax" in sys.modules:
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    os.environ["XLA_FLAGS"] = f"{flags} {HOST_DEVICE_FLAG}={min(cores, MAX_HOST_DEVICES)}".strip()
