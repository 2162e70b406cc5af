"""The Keras backend lstmstate runs on: JAX on the CPU, chosen before Keras is first imported.

Keras reads ``KERAS_BACKEND`` once, at import (keras/src/backend/config.py), so the choice
must be made before anything imports Keras. A program that already imported Keras with another
backend cannot be switched; we say so instead of training on the wrong backend silently.
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
    # TensorFlow, when installed, is imported by Keras for its tree utilities; keep its C++ logs quiet.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
