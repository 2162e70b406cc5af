"""A scaling of numeric columns: each column standardised with the mean and spread of the
training part only, so nothing about the held-out part leaks into training.

::

    values (item, column) --(value - mean) / scale--> scaled, both computed on rows 0..train-1
"""

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Scaling:
    """Per-column standardisation; saved with a run so predictions can be turned back into units."""

    columns: tuple[str, ...]  # the columns, in feature order
    mean: tuple[float, ...]  # per column, over the training part
    scale: tuple[float, ...]  # per column standard deviation over the training part; 1 for a constant column

    @classmethod
    def fit(cls, columns, training_values: np.ndarray) -> "Scaling":
        """The scaling of ``training_values`` ``(item, column)``.

        >>> Scaling.fit(("a",), np.array([[1.0], [3.0]])).apply(np.array([[2.0], [5.0]])).ravel().tolist()
        [0.0, 3.0]
        """
        values = np.asarray(training_values, np.float64)
        spread = values.std(axis=0)
        # A constant column carries no information but must not divide by zero.
        spread = np.where(spread > 0, spread, 1.0)
        return cls(tuple(columns), tuple(values.mean(axis=0).tolist()), tuple(spread.tolist()))

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Scaled float32 values, same shape ``(item, column)``."""
        return ((np.asarray(values, np.float64) - np.asarray(self.mean)) / np.asarray(self.scale)).astype(np.float32)

    def invert(self, scaled: np.ndarray, column: int) -> np.ndarray:
        """Scaled values of ``column`` back in original units (float64)."""
        return np.asarray(scaled, np.float64) * self.scale[column] + self.mean[column]

    def to_dict(self) -> dict:
        return {key: list(value) for key, value in asdict(self).items()}
