"""lstmstate: how an LSTM keeps state, measured over populations of seeds on Keras 3 + JAX."""

from lstmstate.core.backend import select_jax_backend

select_jax_backend()

from lstmstate.core.compilation_cache import enable_compilation_cache  # noqa: E402

enable_compilation_cache()

from lstmstate.core.vocabulary import Vocabulary  # noqa: E402
from lstmstate.core import encoding, engine, framing, model, policy  # noqa: E402

__version__ = "0.1.0"

__all__ = ["Vocabulary", "framing", "encoding", "model", "policy", "engine", "__version__"]
