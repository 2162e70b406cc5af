"""Model specifications, the Keras 3 functional models they build, and the one way to call them.

A recurrent model carries its state explicitly: inputs ``[x, *state]``, outputs
``[prediction, *state]``, built from ``LSTM(return_state=True)`` (or ``GRU``) layers with
``initial_state``. The state is a flat tuple, each layer's in turn: ``(h, c)`` for an LSTM
layer, ``(h,)`` for a GRU layer, each ``(batch, units)``::

    x -> [Embedding] -> [Masking] -> LSTM 1 -> Dropout -> LSTM 2 -> ... -> Dropout -> Dense
                                      h1 c1               h2 c2

That is what works on every backend: on JAX, ``LSTM(stateful=True)`` keeps its state in
variables made under ``no_automatic_dependency_tracking`` (keras/src/layers/rnn/rnn.py,
``_create_state_variables``), which ``stateless_call`` neither takes nor returns, so state must
travel as data. ``call`` is that data path, for every model a spec builds.
"""

from dataclasses import asdict, dataclass

import keras
import numpy as np

MODEL_KINDS = ("lstm", "gru", "dense")
CELLS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
STATES_PER_LAYER = {"lstm": 2, "gru": 1}  # LSTM: (h, c); GRU: (h,)


# Sequences this short are trained with the time loop unrolled (``ModelSpec.unroll``): the same
# arithmetic, but without a while loop per LSTM call (the tutorial's sequences have 1 to 5 steps,
# where the loop's overhead is a large share of a step; longer unrolls mostly add compile time).
UNROLL_STEPS = 8


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to rebuild a model; saved with a run."""

    kind: str  # "lstm" or "gru" (explicit state), or "dense" (no memory at all: the control)
    steps: int  # time steps per sample
    features: int  # floats per time step (with an embedding: symbol ids + 1 per step, 0 for padding)
    outputs: int  # classes for a softmax head, values for a linear head
    units: int = 32  # units of each recurrent layer (unused for "dense")
    mask_value: float | None = None  # a Masking layer skips steps equal to this value; None: no mask
    output_activation: str = "softmax"  # "softmax" for next-symbol classes, "linear" for numbers
    unroll: bool = False  # unroll the time loop: same numbers, less loop overhead for short steps
    dropout: float = 0.0  # fraction dropped between recurrent layers and before the head while training; 0: no Dropout layer
    layers: int = 1  # stacked recurrent layers, each with its own state
    embedding: int = 0  # D > 0: each feature is a symbol id + 1 fed through Embedding(outputs + 1, D); 0: floats

    def __post_init__(self):
        if self.kind not in MODEL_KINDS:
            raise ValueError(f"unknown model kind {self.kind!r}; choose one of {', '.join(MODEL_KINDS)}")
        for field in ("steps", "features", "outputs", "units", "layers"):
            if getattr(self, field) < 1:
                raise ValueError(f"{field} must be at least 1, got {getattr(self, field)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be at least 0 and below 1, got {self.dropout}")
        if self.embedding < 0:
            raise ValueError(f"embedding must be 0 (none) or a width of at least 1, got {self.embedding}")
        if self.kind == "dense" and (self.layers != 1 or self.embedding):
            raise ValueError("a dense model has one layer and reads floats (no layers, no embedding)")
        if self.embedding and self.mask_value is not None and self.features != 1:
            raise ValueError("an embedding with padding needs one symbol per step (features 1)")

    @property
    def has_state(self) -> bool:
        return self.kind != "dense"

    @property
    def state_count(self) -> int:
        """Arrays in the state: two per LSTM layer, one per GRU layer, none for a dense model."""
        return STATES_PER_LAYER[self.kind] * self.layers if self.has_state else 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelSpec":
        return cls(**data)

    def build(self, batch_size: int | None = None, initialized: bool = True) -> keras.Model:
        """The Keras model; ``batch_size`` fixes the batch dimension (None: any batch size).

        ``initialized=False`` builds every weight as zeros, for a model whose weights come from
        elsewhere (a trained run, another model): Keras's own initializers (orthogonal, Glorot)
        compile a program each the first time, about a second spent on values thrown away."""
        if self.kind == "dense":
            return dense_model(self.steps, self.features, self.outputs, batch_size, self.dropout, initialized)
        return recurrent_model(self, batch_size, initialized)

    def zero_state(self, batch: int) -> tuple[np.ndarray, ...]:
        """The zero state for ``batch`` samples: ``state_count`` arrays, each ``(batch, units)``;
        ``()`` for a dense model."""
        zero = np.zeros((batch, self.units), np.float32)
        return (zero,) * self.state_count


def layer_name(kind: str, layer: int) -> str:
    """``lstm``, ``lstm_2``, ...: the first layer keeps the name a one-layer model always had."""
    return kind if layer == 1 else f"{kind}_{layer}"


def state_names(spec: ModelSpec) -> list[str]:
    """The state inputs' names, in order: ``h, c, h2, c2, ...`` (LSTM) or ``h, h2, ...`` (GRU)."""
    parts = ("h", "c")[: STATES_PER_LAYER[spec.kind]] if spec.has_state else ()
    return [part if layer == 1 else f"{part}{layer}" for layer in range(1, spec.layers + 1) for part in parts]


def recurrent_model(spec: ModelSpec, batch_size: int | None = None, initialized: bool = True) -> keras.Model:
    """``[x (batch, steps, features), *state (batch, units)] -> [y, *state]``."""
    x = keras.Input((spec.steps, spec.features), batch_size=batch_size, name="x")
    state_in = [keras.Input((spec.units,), batch_size=batch_size, name=name) for name in state_names(spec)]
    zeros = {} if initialized else ZEROS
    sequence = x
    for layer in input_layers(spec, initialized):
        sequence = layer(sequence)
    # Keras 3.15 drops the mask a Masking (or Embedding) layer attaches when the recurrent layer is
    # also given ``initial_state``: the padding would then be read as zeros, silently. Passing the
    # mask explicitly keeps it (tests/test_engine.py checks this).
    mask = getattr(sequence, "_keras_mask", None) if spec.mask_value is not None else None
    per_layer = STATES_PER_LAYER[spec.kind]
    state_out = []
    for layer in range(1, spec.layers + 1):
        last = layer == spec.layers
        recurrent = CELLS[spec.kind](spec.units, return_sequences=not last, return_state=True, unroll=spec.unroll,
                                     name=layer_name(spec.kind, layer), **zeros)
        initial = state_in[(layer - 1) * per_layer: layer * per_layer]
        sequence, *state = recurrent(sequence, initial_state=initial, mask=mask)
        state_out += state
        if not last:
            sequence = _dropped(sequence, spec.dropout, f"dropout_{layer}")
    y = keras.layers.Dense(spec.outputs, activation=spec.output_activation, name="dense", **_dense(zeros))(
        _dropped(sequence, spec.dropout, "dropout"))
    return keras.Model([x, *state_in], [y, *state_out], name=f"{spec.kind}_explicit_state")


# Every initializer of a recurrent layer as zeros (ModelSpec.build(initialized=False)); a Dense
# layer takes the two it has, an Embedding its one.
ZEROS = {"kernel_initializer": "zeros", "recurrent_initializer": "zeros", "bias_initializer": "zeros"}


def _dense(zeros: dict) -> dict:
    return {key: zeros[key] for key in ("kernel_initializer", "bias_initializer") if key in zeros}


def input_layers(spec: ModelSpec, initialized: bool = True) -> list[keras.layers.Layer]:
    """What comes between the input and the first recurrent layer, the same in the engine's model
    and in the plain-Keras export: an Embedding of the ids (reshaped to ``(steps, features * D)``),
    or a Masking layer for padded floats, or nothing."""
    if spec.embedding:
        masked = spec.mask_value is not None  # padding is id 0 (ids are shifted by one), as mask_zero wants
        embed = keras.layers.Embedding(spec.outputs + 1, spec.embedding, mask_zero=masked, name="embedding",
                                       embeddings_initializer="uniform" if initialized else "zeros")
        if spec.features == 1:
            return [keras.layers.Reshape((spec.steps,), name="ids"), embed]
        return [embed, keras.layers.Reshape((spec.steps, spec.features * spec.embedding), name="embedded")]
    if spec.mask_value is not None:
        return [keras.layers.Masking(spec.mask_value, name="masking")]
    return []


def dense_model(steps: int, features: int, outputs: int, batch_size: int | None = None,
                dropout: float = 0.0, initialized: bool = True) -> keras.Model:
    """``x (batch, steps, features) -> y``: no recurrence and no state, the memoryless control."""
    x = keras.Input((steps, features), batch_size=batch_size, name="x")
    flat = keras.layers.Flatten()(x)
    y = keras.layers.Dense(outputs, activation="softmax", name="dense", **_dense({} if initialized else ZEROS))(
        _dropped(flat, dropout, "dropout"))
    return keras.Model(x, y, name="dense_only")


def _dropped(features, rate: float, name: str):
    # No layer at all for rate 0, so a model without dropout has exactly the layers and the
    # variables it always had.
    return keras.layers.Dropout(rate, name=name)(features) if rate > 0 else features


def call(model: keras.Model, spec: ModelSpec, trainable, non_trainable, x, lstm_state, training: bool = False):
    """One pure call of a model built from ``spec``: ``(y, lstm_state, non_trainable)``.

    ``x`` is ``(batch, steps, features)``; ``lstm_state`` is the flat state tuple
    (``spec.zero_state``), each ``(batch, units)``, or ``()`` for a dense model (passed through); ``y`` is ``(batch, outputs)``. ``trainable`` and
    ``non_trainable`` are values in ``model.trainable_variables`` and
    ``model.non_trainable_variables`` order. The non-trainable values that come back are the
    updated ones: a layer that draws random numbers while training (Dropout; an LSTM cell with
    dropout of its own) advances its ``SeedGenerator``'s state with every draw
    (keras/src/random/seed_generator.py, ``next``), so a caller that drops them draws the same
    numbers on every call.
    """
    if spec.has_state:
        (y, *state), non_trainable = model.stateless_call(trainable, non_trainable, [x, *lstm_state],
                                                          training=training)
        return y, tuple(state), non_trainable
    y, non_trainable = model.stateless_call(trainable, non_trainable, x, training=training)
    return y, lstm_state, non_trainable


def assign_weights(model: keras.Model, weights: list[np.ndarray]) -> keras.Model:
    """Set ``model``'s trainable variables to one seed's ``weights`` (in their order), checking
    count and shapes; an LSTM's weights do not depend on batch size or statefulness, so the same
    arrays fit every model built from one spec."""
    if len(weights) != len(model.trainable_variables):
        raise ValueError(f"the model has {len(model.trainable_variables)} weight arrays, got {len(weights)}")
    for variable, value in zip(model.trainable_variables, weights):
        if tuple(variable.shape) != tuple(np.shape(value)):
            raise ValueError(f"weight {variable.path} is {tuple(variable.shape)}, got {np.shape(value)}")
        variable.assign(np.asarray(value, np.float32))
    return model


def initial_weights(model: keras.Model, seed: int) -> list[np.ndarray]:
    """Fresh initial values of ``model.trainable_variables`` for ``seed``, from each layer's own
    Keras initialisers, each seeded with an integer derived from ``(seed, variable index)``.

    This is what building the model after ``keras.utils.set_random_seed`` does, without building
    a model per seed.
    """
    return [w[0] for w in stacked_initial_weights(model, [seed])]


def stacked_initial_weights(model: keras.Model, seeds) -> list[np.ndarray]:
    """``initial_weights`` of every seed, stacked: each ``(seed, *variable shape)``.

    Reads the initialisers once and draws each seed's values from the raw key ``[s, 0]`` that
    Keras makes of an integer seed ``s`` (keras/src/random/seed_generator.py ``draw_seed``); the
    values are those ``initial_weights`` always gave (about 3 ms a seed).
    """
    draws = _variable_draws(model)
    per_seed = []
    for seed in seeds:
        keys = np.array([[_derived_seed(seed, index), 0] for index in range(len(draws))], np.uint32)
        per_seed.append([np.asarray(draw.draw(key), np.float32) for draw, key in zip(draws, keys)])
    return [np.stack(values) for values in zip(*per_seed)]


def stacked_initial_non_trainable(model: keras.Model, seeds) -> list[np.ndarray]:
    """Initial values of ``model.non_trainable_variables`` for every seed, stacked: each
    ``(seed, *variable shape)``.

    A ``SeedGenerator``'s state starts at ``[its integer seed, 0]`` and gains ``[0, 1]`` per draw
    (keras/src/random/seed_generator.py); built without a seed, the integer is a fresh random one
    each time a model is built. Here it is ``[a seed derived from (seed, variable index), 0]``, so
    each seed draws its own dropout masks, the same ones every run, and apart from the draws of
    its initial weights. Any other non-trainable variable keeps the value it was built with.
    """
    per_seed = []
    for seed in seeds:
        values = []
        for index, variable in enumerate(model.non_trainable_variables):
            if variable.name == "seed_generator_state":
                values.append(np.array([_derived_seed(seed, index, stream=1), 0], variable.dtype))
            else:
                values.append(np.asarray(variable.value))
        per_seed.append(values)
    return [np.stack(values) for values in zip(*per_seed)]


def _derived_seed(seed: int, index: int, stream: int = 0) -> int:
    # Stream 0: the initial weights' draws (the values they always had); stream 1: random
    # generator states, independent of them (numpy's SeedSequence spawn keys).
    spawn_key = (stream,) if stream else ()
    return int(np.random.SeedSequence([seed, index], spawn_key=spawn_key).generate_state(1)[0] >> 1)


@dataclass(frozen=True)
class _Draw:
    """How to draw one variable's initial value from a raw key."""

    initializer: type  # the layer's initializer class
    config: dict  # and its configuration
    shape: tuple[int, ...]
    dtype: str
    forget_bias: bool  # an LSTM bias whose forget-gate quarter starts at one

    def draw(self, key):
        import jax.numpy as jnp

        initializer = self.initializer.from_config(self.config)
        if hasattr(initializer, "seed"):
            initializer.seed = jnp.asarray(key, jnp.uint32)  # a raw key: what Keras makes of an integer seed
        if self.forget_bias:
            # As LSTMCell.build: the forget gate's bias starts at one (Jozefowicz et al., 2015).
            units = self.shape[0] // 4
            return jnp.concatenate([initializer((units,)), jnp.ones(units, jnp.float32),
                                    initializer((2 * units,))]).astype(jnp.float32)
        return jnp.asarray(initializer(self.shape, dtype=self.dtype), jnp.float32)


def _variable_draws(model: keras.Model) -> list[_Draw]:
    # The initializers are read from the layers (an LSTM's from its cell), not from
    # layer.get_config(): serializing an LSTM's activations makes Keras import TensorFlow when it
    # is installed (keras/src/utils/module_utils.py), seconds spent for nothing.
    draws = []
    for layer in model.layers:
        owner = getattr(layer, "cell", layer)
        for variable in layer.trainable_variables:
            initializer = getattr(owner, _INITIALIZER_KEYS.get(variable.name, f"{variable.name}_initializer"))
            forget = (isinstance(layer, keras.layers.LSTM) and variable.name == "bias"
                      and bool(getattr(owner, "unit_forget_bias", False)))
            draws.append(_Draw(type(initializer), initializer.get_config(), tuple(variable.shape),
                               variable.dtype, forget))
    if len(draws) != len(model.trainable_variables):
        raise ValueError("initial_weights found variables outside the model's layers")
    return draws


# Keras names the recurrent kernel's initializer "recurrent_initializer" (LSTMCell).
_INITIALIZER_KEYS = {"recurrent_kernel": "recurrent_initializer"}
