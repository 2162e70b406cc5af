"""The budget of a request: what a model costs in weights and memory, and whether the engine's
counters can count its training, checked before anything is allocated.

Without it, an impossible request ends inside XLA (``--units 10000000``: an abort, exit 134,
after the process grew to 11 GB) or inside JAX's 32-bit integers (``--epochs 10**12``). With it,
it is one line naming the option and the limit. A large request that does fit is let through:
the estimate counts only what training certainly holds, so it errs towards running.

Sizes are in float32 values of 4 bytes. The weights of an LSTM of ``u`` units on ``f`` features
with ``o`` outputs (Keras's ``LSTM`` then ``Dense``)::

    LSTM kernel (f, 4u) + recurrent kernel (u, 4u) + bias (4u) + Dense kernel (u, o) + bias (o)
"""

import math
import os
import resource
from collections.abc import Mapping
from pathlib import Path

INT32_MAX = 2 ** 31 - 1  # JAX's integers with x64 off: epoch and step counters (Adam's too), sample indices
MAX_SEEDS = 10_000  # a population this large already gives intervals far narrower than any difference read here
FLOAT_BYTES = 4  # float32
# Float32 copies of one seed's weights that training holds at its peak, per seed and once: the
# weights, their gradients and Adam's two moments (keras/src/optimizers/adam.py), each also as
# XLA's updated buffers; once: the two models Trainer builds and the host's initial and final
# weights. Measured on the one-char experiment at 1,500 and 3,000 units, 1 to 4 seeds (peak
# resident memory over the interpreter's: 7.5 to 10 copies per seed, 4 to 9 once).
TRAINING_COPIES, TRAINING_COPIES_ONCE = 8, 6
# The weights of a loaded seed are read as stored (up to float64), turned to float32, and a Keras
# model is built beside them: about three float32 copies of one population.
LOADING_COPIES = 3
MEMORY_SHARE = 0.9  # of what is available: the interpreter, JAX and the data need the rest

# How each quantity is called where the request came from: a command's options by default.
OPTIONS = {"units": "`units`", "seeds": "`seeds`", "epochs": "`epochs`", "rows": "`batch_size`"}


def weight_shapes(kind: str, steps: int, features: int, outputs: int, units: int, layers: int = 1,
                  embedding: int = 0) -> list[tuple[int, ...]]:
    """The shapes of a model's trainable variables, in ``model.trainable_variables`` order,
    computed without building it (``core.model.ModelSpec.build`` builds exactly these): an
    embedding's table, each recurrent layer's kernels and bias (a GRU's bias is Keras's
    ``reset_after`` pair), the Dense head."""
    if kind == "dense":  # Flatten then Dense
        return [(steps * features, outputs), (outputs,)]
    gates = 4 if kind == "lstm" else 3
    shapes = [(outputs + 1, embedding)] if embedding else []
    width = features * embedding if embedding else features
    for _ in range(layers):
        bias = (gates * units,) if kind == "lstm" else (2, gates * units)
        shapes += [(width, gates * units), (units, gates * units), bias]
        width = units
    return shapes + [(units, outputs), (outputs,)]


def spec_shapes(spec) -> list[tuple[int, ...]]:
    """``weight_shapes`` of a ``ModelSpec``."""
    return weight_shapes(spec.kind, spec.steps, spec.features, spec.outputs, spec.units, spec.layers, spec.embedding)


def parameters(spec) -> int:
    """The number of trainable values of one seed's model.

    >>> from lstmstate.core.model import ModelSpec
    >>> parameters(ModelSpec("lstm", steps=1, features=1, outputs=26, units=32))  # 4*32*(1+32+1) + 33*26
    5210
    """
    return sum(math.prod(shape) for shape in spec_shapes(spec))


def available_memory() -> int:
    """Bytes this process can still take: the least of the machine's available memory, a cgroup
    (container) limit, and an address-space limit (``ulimit -v``), each where it exists."""
    candidates = [_meminfo_available()]
    candidates += [limit - used for limit, used in _cgroup_limits() if limit > 0]
    address_space, _ = resource.getrlimit(resource.RLIMIT_AS)
    if address_space != resource.RLIM_INFINITY:
        candidates.append(address_space - _own_virtual_size())
    known = [c for c in candidates if c is not None]
    return max(0, min(known)) if known else 2 ** 63


def check_training(spec, seeds: int, epochs: int, batches: int, rows: int,
                   names: Mapping[str, str] = OPTIONS, available: int | None = None, bptt: int = 1,
                   held_features: int | None = None) -> None:
    """A ``ValueError`` naming the option and its limit when training ``seeds`` seeds of ``spec``
    for ``epochs`` epochs of ``batches`` batches of ``rows`` samples cannot fit in memory or be
    counted by the engine's int32 counters; ``bptt`` batches are backpropagated through together.

    ``names`` says how ``units``, ``seeds`` and ``epochs`` are called where the request came from.
    """
    names = {**OPTIONS, **names}
    # ``held_features``: values per step as the data is held (ids the program encodes), when that
    # is not the model's features.
    held = spec.features if held_features is None else held_features
    if seeds > MAX_SEEDS:  # and so a run folder never holds more than storage.schema reads back
        raise ValueError(f"{names['seeds']} {seeds} is more than lstmstate trains at once: use {names['seeds']} "
                         f"{MAX_SEEDS} or fewer")
    steps = epochs * batches
    if epochs > INT32_MAX or steps > INT32_MAX:
        most = max(1, INT32_MAX // max(1, batches))
        raise ValueError(f"{names['epochs']} {epochs} is more than the engine can count: {epochs} epochs of "
                         f"{batches} batches are {steps} training steps, and its counters are 32-bit integers "
                         f"(at most {INT32_MAX}); use {names['epochs']} {most} or fewer")

    # The framed inputs, on the host and on the device: the same for any units or seeds.
    data = FLOAT_BYTES * 2 * batches * rows * spec.steps * held

    def cost(units: int, seed_count: int, batch_rows: int = rows) -> int:
        # The copies above, and what backpropagation through time keeps: the gates of every unit
        # of every layer, per step (bptt steps of a stream at once) and sample.
        model = parameters(_with_units(spec, units))
        gates = {"lstm": 4, "gru": 3}.get(spec.kind, 0)
        # The chunk's encoded inputs and its outputs are made once per step too (one-hot, softmax).
        activations = batch_rows * spec.steps * bptt * (gates * units * spec.layers + spec.features + spec.outputs)
        return data + FLOAT_BYTES * (model * (TRAINING_COPIES * seed_count + TRAINING_COPIES_ONCE)
                                     + seed_count * activations)

    _check_memory(spec, seeds, rows, cost, "train", names, available,
                  (data, f"the training data, {batches * rows} samples of {spec.steps} steps x {held} "
                         "values, needs", "frame it smaller (a shorter window, fewer columns, or less data)"))


def check_loading(spec, seeds: int, names: Mapping[str, str], available: int | None = None) -> None:
    """A ``ValueError`` when ``seeds`` seeds of ``spec`` cannot be loaded in memory; ``names`` says
    where ``units`` and ``seeds`` were read (a setup.json)."""
    # One sample as the model reads it, in its few forms (ids, features, padded, on the device).
    sample = FLOAT_BYTES * 8 * spec.steps * spec.features

    def cost(units: int, seed_count: int, batch_rows: int = 1) -> int:
        return sample + FLOAT_BYTES * LOADING_COPIES * parameters(_with_units(spec, units)) * (seed_count + 1)

    _check_memory(spec, seeds, 1, cost, "load", {**OPTIONS, **names}, available,
                  (sample, f"one sample of {spec.steps} steps x {spec.features} features needs", "it cannot be used"))


# What a forecast holds on the host per value of one seed, one origin and one step: the model's
# float32 output, the finite seeds' copy, the float64 values in the target's units, and the sorted
# float64 copy np.percentile makes for the median and the band: about 8 float32 copies.
FORECAST_COPIES = 8
# And per origin and step, once: a backtest's true values and each baseline's float64 forecasts, with
# their errors and squares (up to 8 baselines, 3 copies each).
BACKTEST_BYTES = 8 * (1 + 8 * 3)


def forecast_bytes(seeds: int, origins: int, steps: int, per_step: int = 0, per_origin_step: int = 0) -> int:
    """Bytes a forecast of ``steps`` steps by ``seeds`` seeds from ``origins`` origins holds; ``per_step``
    and ``per_origin_step`` are what the caller keeps besides (labels and CSV text; baselines)."""
    return steps * (origins * (FLOAT_BYTES * FORECAST_COPIES * seeds + per_origin_step) + per_step)


def check_forecast(seeds: int, horizon: int, per_step: int = 0, name: str = "`horizon`",
                   available: int | None = None) -> None:
    """A ``ValueError`` naming ``name`` and the largest horizon that fits when ``seeds`` seeds'
    forecasts of ``horizon`` steps from one origin (and ``per_step`` bytes a step besides) cannot
    be held in memory."""
    available = available_memory() if available is None else available
    budget = int(MEMORY_SHARE * available)
    if forecast_bytes(seeds, 1, horizon, per_step) <= budget:
        return
    most = largest(lambda steps: forecast_bytes(seeds, 1, steps, per_step) <= budget, horizon)
    raise ValueError(f"{name} {horizon} is too large for this machine: {seeds} seeds' forecasts of {horizon} steps "
                     f"need about {_size(forecast_bytes(seeds, 1, horizon, per_step))}, but {_size(available)} is "
                     f"available; {name} {most} or fewer fit")


def check_backtest(seeds: int, held_out: int, horizon: int, stride: int, available: int | None = None) -> None:
    """A ``ValueError`` naming ``--stride`` (the smallest that fits) or ``--horizon`` when ``seeds``
    seeds' forecasts of ``horizon`` steps from every ``stride``-th origin of ``held_out`` rows, and
    the baselines' beside them, cannot be held in memory."""
    available = available_memory() if available is None else available
    budget = int(MEMORY_SHARE * available)

    def origins(every: int) -> int:
        return max(1, -(-(held_out - horizon + 1) // every))  # every-th of the origins the horizon leaves

    def cost(every: int) -> int:
        return forecast_bytes(seeds, origins(every), horizon, 0, BACKTEST_BYTES)

    if cost(stride) <= budget:
        return
    need = (f"{seeds} seeds' forecasts of {horizon} steps from {origins(stride)} origins (`stride` {stride}), and "
            f"the baselines', need about {_size(cost(stride))}, but {_size(available)} is available")
    if cost(held_out) > budget:  # one origin is too many: only the horizon can give
        raise ValueError(f"`horizon` {horizon} is too large for this machine: {need}; give a shorter `horizon`")
    fewest = held_out - largest(lambda room: cost(held_out - room) <= budget, held_out - 1)
    raise ValueError(f"`stride` {stride} is too small for this machine: {need}; `stride` {fewest} or more fits")


def _check_memory(spec, seeds: int, rows: int, cost, verb: str, names: Mapping[str, str],
                  available: int | None, fixed: tuple[int, str, str]) -> None:
    """Which of the inputs (``fixed``: bytes, what they are, what to do), units, batch rows and
    seeds to blame, in that order, when ``cost`` exceeds the budget."""
    available = available_memory() if available is None else available
    budget = int(MEMORY_SHARE * available)
    if cost(spec.units, seeds) <= budget:
        return
    data, what, advice = fixed
    if data > budget:
        raise ValueError(f"{what} about {_size(data)}, but {_size(available)} is available: {advice}")
    weights = parameters(spec)
    if cost(spec.units, 1) > budget:
        one = f"{weights:.3g} weights and needs about {_size(cost(spec.units, 1))} to {verb}, but {_size(available)} is available"
        if rows > 1 and cost(spec.units, 1, 1) <= budget:  # the batch, not the model
            most = largest(lambda count: cost(spec.units, 1, max(1, count)) <= budget, rows)
            raise ValueError(f"{names['rows']} {rows} is too large for this machine: one seed with batches of {rows} "
                             f"samples has {one}; {names['rows']} {most} or fewer fit")
        most = largest(lambda units: cost(units, 1) <= budget, spec.units) if spec.has_state else 0
        if most:
            raise ValueError(f"{names['units']} {spec.units} is too large for this machine: one seed of this model "
                             f"has {one}; {names['units']} {most} or fewer fit")
        # Not the units: the inputs and outputs alone are too many (a window of a huge vocabulary).
        raise ValueError(f"the model is too large for this machine: {spec.steps} steps of {spec.features} features "
                         f"to {spec.outputs} outputs make one seed of {one}")
    most = largest(lambda count: cost(spec.units, count) <= budget, seeds)
    raise ValueError(f"{names['seeds']} {seeds} is too many for this machine: {seeds} seeds of {weights:.3g} weights "
                     f"need about {_size(cost(spec.units, seeds))} to {verb}, but {_size(available)} is available; "
                     f"{names['seeds']} {most} or fewer fit (or fewer {names['units']})")


def largest(fits, above: int) -> int:
    """The largest ``n`` in ``0..above`` with ``fits(n)`` (``fits`` true up to some ``n``, then
    false), by bisection: the most that fits, named in a message before any work."""
    low, high = 0, above
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(middle) else (low, middle - 1)
    return low


def _with_units(spec, units: int):
    from dataclasses import replace
    return replace(spec, units=max(1, units))


def _size(count: float) -> str:
    """Bytes as people read them.

    >>> _size(999), _size(23.5e9), _size(4e40)
    ('999 bytes', '23.5 GB', '4e+22 EB')
    """
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if count < 1000:
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.3g} EB"


def _proc_bytes(path: str, field: str) -> int | None:
    """A ``field:  N kB`` line of a /proc file, in bytes; None where there is none."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _meminfo_available() -> int | None:
    available = _proc_bytes("/proc/meminfo", "MemAvailable")
    if available is not None:
        return available
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_limits() -> list[tuple[int, int]]:
    """``(limit, used)`` bytes of this process's memory cgroups, v2 and v1, where set."""
    found = []
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, group = parts
        group = group.lstrip("/")
        if controllers == "":  # v2
            base = Path("/sys/fs/cgroup") / group
            found.append((_read_int(base / "memory.max"), _read_int(base / "memory.current")))
        elif "memory" in controllers.split(","):  # v1
            for base in (Path("/sys/fs/cgroup/memory") / group, Path("/sys/fs/cgroup/memory")):
                limit = _read_int(base / "memory.limit_in_bytes")
                if limit:
                    found.append((limit if limit < 2 ** 60 else 0, _read_int(base / "memory.usage_in_bytes")))
                    break
    return [(limit, used) for limit, used in found if limit]


def _read_int(path: Path) -> int:
    try:
        text = path.read_text().strip()
    except OSError:
        return 0
    return int(text) if text.isdigit() else 0  # "max": no limit


def _own_virtual_size() -> int:
    return _proc_bytes("/proc/self/status", "VmSize") or 0
