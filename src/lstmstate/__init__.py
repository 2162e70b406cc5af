"""lstmstate: how an LSTM keeps state, measured over populations of seeds on Keras 3 + JAX.

The Python API (``docs/api.md``)::

    import lstmstate as ls
    run = ls.fit(df, target="SUNACTIVITY", framing="window-timesteps", window=9, seeds=10)
    run.scores, run.baselines, run.verdict      # DataFrames and the command line's sentence
    run.forecast(12)                            # median and 5-95% band over seeds, by time label
    run.save("runs/sunspots"); ls.load("runs/sunspots")
    ls.compare(df, target="SUNACTIVITY", seeds=10).table()
    ls.suite(seeds=20).results

What importing lstmstate configures, for the whole process (each is read once, when Keras or
JAX starts, so it has to happen before either is imported):

- ``KERAS_BACKEND=jax``: the engine is JAX programs. A ``KERAS_BACKEND`` set to another backend
  is replaced, with a warning; if Keras was already imported with another backend, the import
  fails with one ``RuntimeError`` saying so (import lstmstate first, or set ``KERAS_BACKEND=jax``).
- ``XLA_FLAGS`` gains ``--xla_force_host_platform_device_count=N`` (N = the CPU cores this
  process may use, at most 16), unless the flag is already set or JAX was already imported: the
  engine splits a population's seeds over the cores as JAX devices (``core.backend``).
- ``TF_CPP_MIN_LOG_LEVEL=3`` and ``TF_ENABLE_ONEDNN_OPTS=0`` unless set: TensorFlow's C++ logs
  stay quiet when Keras imports it for its tree utilities.
- JAX's persistent compilation cache points at ``$LSTMSTATE_CACHE_DIR`` (``off`` disables it),
  else ``~/.cache/lstmstate/jax``, and caches every program however fast it compiled
  (``core.compilation_cache``). It only saves time; it never changes a result.
"""

import os
import sys
import warnings

from lstmstate.core.backend import REQUIRED_BACKEND, select_jax_backend

if "keras" not in sys.modules and os.environ.get("KERAS_BACKEND", REQUIRED_BACKEND) not in ("", REQUIRED_BACKEND):
    # Keras is not imported yet, so this process can still run on JAX; the user asked for
    # another backend, and should hear that their Keras code in this process will run on JAX.
    warnings.warn(f"KERAS_BACKEND was {os.environ['KERAS_BACKEND']!r}; lstmstate sets it to {REQUIRED_BACKEND!r} "
                  "for this process (Keras reads it once, at import)", stacklevel=2)

select_jax_backend()

from lstmstate.core.compilation_cache import enable_compilation_cache  # noqa: E402

enable_compilation_cache()

from lstmstate.api import Comparison, Run, Suite, compare, fit, load, suite  # noqa: E402

__version__ = "0.1.0"

__all__ = ["fit", "compare", "suite", "load", "Run", "Comparison", "Suite", "__version__"]
