"""Encodings: how symbol ids become the float features an LSTM reads.

Both take ids shaped ``(sample, step, slot)`` (``framing.Framed.inputs``) and return floats
shaped ``(sample, step, feature)``. The reserved padding id becomes ``mask_value``, which a
``keras.layers.Masking`` in front of the LSTM skips.

``encode`` makes the floats on the host (the tutorial's experiments); ``in_program`` makes the
same floats inside a compiled program from ids kept as integers, so the data on the host and on
the device grows with the number of symbols, not symbols x vocabulary (a one-hot text of 1.1 MB
and 76 symbols is 334 MB of floats, its ids 4.4 MB).
"""

from dataclasses import dataclass

import numpy as np

from lstmstate.core.framing import PAD


@dataclass(frozen=True)
class Encoding:
    """An id-to-feature map for a vocabulary of ``vocabulary_size`` symbols."""

    name: str  # "scalar" (the tutorial's id / vocabulary size), "one-hot", or "embedding" (id + 1, for an Embedding layer)
    vocabulary_size: int  # number of symbols; ids run 0..vocabulary_size-1

    def __post_init__(self):
        if self.name not in ENCODINGS:
            raise ValueError(f"unknown encoding {self.name!r}; choose one of {', '.join(ENCODINGS)}")
        if self.vocabulary_size < 1:
            raise ValueError(f"vocabulary_size must be at least 1, got {self.vocabulary_size}")

    @property
    def mask_value(self) -> float:
        # scalar: -1 lies outside [0, 1) where every real id lands; one-hot: an all-zero vector;
        # embedding: id 0, which no symbol has (ids are shifted by one), as Embedding's mask_zero wants.
        return -1.0 if self.name == "scalar" else 0.0

    def features(self, slots: int) -> int:
        """Features per step for ``slots`` ids per step."""
        return slots * self.vocabulary_size if self.name == "one-hot" else slots

    def encode(self, ids: np.ndarray) -> np.ndarray:
        """Floats ``(sample, step, feature)`` for ids ``(sample, step, slot)``.

        >>> Encoding("scalar", 26).encode(np.array([[[0], [13]]])).ravel().tolist()
        [0.0, 0.5]
        >>> Encoding("one-hot", 3).encode(np.array([[[2, -1]]])).tolist()
        [[[0.0, 0.0, 1.0, 0.0, 0.0, 0.0]]]
        """
        ids = np.asarray(ids)
        if ids.ndim != 3:
            raise ValueError(f"ids must be shaped (sample, step, slot), got {ids.shape}")
        if (ids >= self.vocabulary_size).any() or (ids < PAD).any():
            raise ValueError(f"ids must lie in 0..{self.vocabulary_size - 1} or be PAD ({PAD})")
        if self.name == "embedding":
            # The model's Embedding looks each id up; 0 is the padding row (ModelSpec.embedding).
            return (ids + 1).astype(np.float32)
        if self.name == "scalar":
            # The tutorial's encoding: id / vocabulary size (ABC -> 0, 1/26, 2/26).
            out = ids.astype(np.float32) / np.float32(self.vocabulary_size)
            return np.where(ids == PAD, np.float32(self.mask_value), out).astype(np.float32)
        eye = np.concatenate([np.eye(self.vocabulary_size, dtype=np.float32),
                              np.zeros((1, self.vocabulary_size), np.float32)])
        onehot = eye[np.where(ids == PAD, self.vocabulary_size, ids)]  # (sample, step, slot, V)
        return onehot.reshape(ids.shape[0], ids.shape[1], -1)

    def in_program(self, ids):
        """``encode`` as a JAX function of integer ids ``(..., step, slot)``, for a compiled
        program: the same floats, made where they are read.

        >>> import jax.numpy as jnp
        >>> Encoding("one-hot", 3).in_program(jnp.array([[[2, -1]]])).tolist()
        [[[0.0, 0.0, 1.0, 0.0, 0.0, 0.0]]]
        """
        import jax
        import jax.numpy as jnp

        ids = jnp.asarray(ids).astype(jnp.int32)
        if self.name == "embedding":
            return (ids + 1).astype(jnp.float32)
        if self.name == "scalar":
            out = ids.astype(jnp.float32) / jnp.float32(self.vocabulary_size)
            return jnp.where(ids == PAD, jnp.float32(self.mask_value), out)
        onehot = jax.nn.one_hot(ids, self.vocabulary_size, dtype=jnp.float32)  # PAD (-1) is all zeros
        return onehot.reshape(*ids.shape[:-1], -1)


ENCODINGS = ("scalar", "one-hot", "embedding")
