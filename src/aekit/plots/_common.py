"""Shared pieces of the figures: new figures, image handling, input checks."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from numpy.typing import ArrayLike, NDArray

ENCODER_COLOR = "#4c78a8"
CODE_COLOR = "#e45756"
DECODER_COLOR = "#54a24b"
DATA_COLOR = "#9d9d9d"
TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#ff7f0e"
NORMAL_COLOR = "#4c78a8"
ANOMALY_COLOR = "#e45756"
THRESHOLD_COLOR = "#222222"


def new_figure(width: float, height: float) -> Figure:
    """A figure outside pyplot's state (no GUI, garbage-collected like any object)."""
    return Figure(figsize=(width, height), layout="constrained")


def figure_and_axes(ax: Axes | None, width: float, height: float) -> tuple[Figure, Axes]:
    """The caller's axes and their figure, or a new figure with one axes."""
    if ax is None:
        fig = new_figure(width, height)
        return fig, fig.add_subplot()
    return root_figure(ax), ax


def root_figure(ax: Axes) -> Figure:
    fig = ax.get_figure()
    while isinstance(fig, SubFigure):
        fig = fig.get_figure()
    if not isinstance(fig, Figure):
        raise ValueError("ax does not belong to a figure")
    return fig


def as_float_array(X: ArrayLike, name: str) -> NDArray[np.float64]:
    try:
        array = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a numeric array; {error}") from None
    return array


def check_same_shape(a: NDArray[np.float64], b: NDArray[np.float64], names: str) -> None:
    """``names`` like "X and X_hat"; the error shows both shapes."""
    if a.shape != b.shape:
        first, second = names.split(" and ")
        raise ValueError(
            f"{first} and {second} must have the same shape; "
            f"got {first} {a.shape} and {second} {b.shape}"
        )


def check_n(n: int, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name}={n!r} must be a positive integer")
    return int(n)


def square_shape(n_features: int) -> tuple[int, int] | None:
    side = math.isqrt(n_features)
    return (side, side) if side >= 2 and side * side == n_features else None


def as_images(
    X: NDArray[np.float64],
    image_shape: Sequence[int] | None,
    name: str,
    *,
    infer_square: bool = False,
) -> NDArray[np.float64] | None:
    """Images ready for ``imshow``: (n, H, W) or (n, H, W, 3); None for tabular rows.

    Accepts (n, H, W), (n, C, H, W) with C in {1, 3}, and flat rows (n, H * W [* C]) when
    ``image_shape`` is given (or, with ``infer_square``, when the row length is a square).
    """
    if X.ndim == 2:
        if image_shape is None and infer_square:
            image_shape = square_shape(X.shape[1])
        if image_shape is None:
            return None
        shape = tuple(int(s) for s in image_shape)
        if math.prod(shape) != X.shape[1]:
            raise ValueError(
                f"image_shape={shape} holds {math.prod(shape)} values, but {name} has rows of "
                f"{X.shape[1]} (shape {X.shape})"
            )
        X = X.reshape(len(X), *shape)
    if X.ndim == 3:
        return X
    if X.ndim == 4:
        if X.shape[1] in (1, 3):
            X = np.moveaxis(X, 1, -1)  # channels first, as the models take them
        elif X.shape[-1] not in (1, 3):
            raise ValueError(
                f"{name} has shape {X.shape}; images need 1 or 3 channels, as (n, C, H, W)"
            )
        return X[..., 0] if X.shape[-1] == 1 else X
    raise ValueError(
        f"{name} has shape {X.shape}; expected rows (n, n_features) or images (n, H, W) "
        f"or (n, C, H, W)"
    )


def display_range(*arrays: NDArray[np.float64]) -> tuple[float, float]:
    """One grey scale for all panels: [0, 1] for data in it, else the data's range."""
    low = min(float(np.nanmin(a)) for a in arrays if a.size)
    high = max(float(np.nanmax(a)) for a in arrays if a.size)
    if low >= 0.0 and high <= 1.0:
        return 0.0, 1.0
    return (low, high) if high > low else (low - 0.5, high + 0.5)


def show_image(
    ax: Axes, image: NDArray[np.float64], vmin: float, vmax: float, *, cmap: str = "gray"
) -> None:
    """One image: grey colormap, no ticks, square pixels."""
    if image.ndim == 3:  # RGB: imshow wants [0, 1]
        image = np.clip((image - vmin) / (vmax - vmin), 0.0, 1.0)
        ax.imshow(image, aspect="equal", interpolation="nearest")
    else:
        ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, aspect="equal", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def grid_shape(n: int, max_cols: int = 10) -> tuple[int, int]:
    """Rows and columns close to a square, at most ``max_cols`` wide."""
    cols = min(max_cols, max(1, math.ceil(math.sqrt(n))))
    return math.ceil(n / cols), cols


def panel_size(image: NDArray[np.float64]) -> tuple[float, float]:
    """Inches per image panel, keeping the image's aspect ratio."""
    height, width = image.shape[:2]
    scale = 1.1 / max(height, width)
    return max(0.6, width * scale), max(0.6, height * scale)


def feature_names_or_default(names: Sequence[str] | None, n_features: int) -> list[str]:
    """The given column names (checked against the data), or x0, x1, ..."""
    if names is None:
        return [f"x{i}" for i in range(n_features)]
    result = [str(name) for name in names]
    if len(result) != n_features:
        raise ValueError(
            f"feature_names has {len(result)} names but the data has {n_features} features"
        )
    return result
