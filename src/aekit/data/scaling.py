"""Input scaling that estimators apply before the network and undo after it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from aekit.exceptions import InputError

SCALE_METHODS = ("auto", "minmax", "standard", "robust", "none")
FITTED_METHODS = tuple(m for m in SCALE_METHODS if m != "auto")  # what "auto" resolves to


@dataclass
class Scaler:
    """``(X - offset) / scale`` with statistics fitted on training data.

    Methods: ``minmax`` maps the overall minimum and maximum to 0 and 1, one range for
    every value, so pixels keep their relative brightness; ``standard`` (mean, standard
    deviation) and ``robust`` (median, interquartile range) work per feature;
    ``none`` leaves the data as it is. Constant features get a scale of 1.
    """

    method: str
    offset: NDArray[np.float32]  # broadcasts against one sample
    scale: NDArray[np.float32]

    def __post_init__(self) -> None:
        if self.method not in FITTED_METHODS:
            raise ValueError(f"scaling method {self.method!r} is not one of {FITTED_METHODS}")
        offset, scale = np.asarray(self.offset), np.asarray(self.scale)
        if offset.shape != scale.shape:
            raise ValueError(f"scaling offset {offset.shape} and scale {scale.shape} differ")
        if not (np.isfinite(offset).all() and np.isfinite(scale).all() and (scale != 0).all()):
            raise InputError(
                f"{self.method} scaling needs a finite offset and a finite, non-zero scale; "
                f"got offset in [{offset.min():.3g}, {offset.max():.3g}] and scale in "
                f"[{scale.min():.3g}, {scale.max():.3g}] (values beyond float32's range?)"
            )

    @classmethod
    def fit(cls, X: NDArray[np.float32], method: str = "auto") -> Scaler:
        """Fit on ``X`` of shape ``(n_samples, *sample_shape)``."""
        if method not in SCALE_METHODS:
            raise ValueError(f"scale={method!r} is not one of {', '.join(SCALE_METHODS)}")
        if method == "auto":
            method = choose_method(X)
        sample_shape = X.shape[1:]
        if method == "none":
            offset, scale = np.zeros(()), np.ones(())
        elif method == "minmax":
            low, high = float(X.min()), float(X.max())
            offset, scale = np.asarray(low), np.asarray(high - low)
        elif method == "standard":
            offset, scale = X.mean(axis=0, dtype=np.float64), X.std(axis=0, dtype=np.float64)
        else:
            q1, offset, q3 = np.percentile(X, [25, 50, 75], axis=0)
            scale = (q3 - q1) / 1.349  # the IQR of a unit normal: comparable to a std
            fallback = X.std(axis=0, dtype=np.float64)
            scale = np.where(scale > 0, scale, fallback)
        scale = np.where(np.abs(scale) > 1e-12 * np.maximum(np.abs(offset), 1), scale, 1.0)
        shape = sample_shape if np.ndim(offset) else ()
        with np.errstate(over="ignore"):  # a range beyond float32 is refused by __post_init__
            return cls(
                method,
                np.asarray(offset, np.float32).reshape(shape),
                np.asarray(scale, np.float32).reshape(shape),
            )

    @property
    def unit_range(self) -> bool:
        """Whether scaled training data lies in [0, 1]."""
        return self.method == "minmax"

    def transform(self, X: NDArray[np.float32]) -> NDArray[np.float32]:
        if self.method == "none":
            return X
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
            out = ((X - self.offset) / self.scale).astype(np.float32, copy=False)
        if not np.isfinite(out).all() and np.isfinite(X).all():
            raise InputError(
                f"X has values too large to scale in float32 (up to {np.abs(X).max():.3g}, "
                f"against a training spread of {self.scale.min():.3g}); check its units"
            )
        return out

    def inverse_transform(self, X: NDArray[np.float32]) -> NDArray[np.float32]:
        if self.method == "none":
            return X
        return (X * self.scale + self.offset).astype(np.float32, copy=False)


def choose_method(X: NDArray[np.float32]) -> str:
    """``minmax`` for images and for data already in [0, 1]; ``standard`` otherwise."""
    if X.ndim > 2 or (X.min() >= 0 and X.max() <= 1):
        return "minmax"
    return "standard"
