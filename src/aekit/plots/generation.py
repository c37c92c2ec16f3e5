"""What a model generates: samples, interpolation strips and the decoded latent plane."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from aekit.plots._common import (
    as_float_array,
    as_images,
    display_range,
    figure_and_axes,
    grid_shape,
    new_figure,
    panel_size,
    show_image,
)


def plot_samples(
    samples: ArrayLike,
    *,
    image_shape: Sequence[int] | None = None,
    max_cols: int = 10,
) -> Figure:
    """A grid of generated images, e.g. ``estimator.sample(36)``.

    Parameters
    ----------
    samples : array-like of shape (n, H, W), (n, C, H, W) or (n, n_features)
        Flat rows need ``image_shape`` unless their length is a square (then H = W).
    image_shape : tuple of int, optional
    max_cols : int, default=10

    Returns
    -------
    fig : Figure

    Examples
    --------
    >>> from aekit import Autoencoder
    >>> from aekit.datasets import load_digits
    >>> from aekit.plots import plot_samples
    >>> X, _ = load_digits(images=True)
    >>> vae = Autoencoder(latent_dim=2, variational=True, max_epochs=3, random_state=0).fit(X)
    >>> fig = plot_samples(vae.sample(20, random_state=0))
    """
    images = _images(samples, image_shape, "samples")
    rows, cols = grid_shape(len(images), max_cols)
    width, height = panel_size(images[0])
    fig = new_figure(max(3.0, cols * width), rows * height + 0.5)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    value_range = display_range(images)
    for ax, image in zip(axes, images, strict=False):
        show_image(ax, image, *value_range)
    for ax in axes[len(images) :]:
        ax.set_visible(False)
    fig.suptitle(f"{len(images)} generated samples")
    return fig


def plot_interpolation(
    strip: ArrayLike,
    *,
    image_shape: Sequence[int] | None = None,
) -> Figure:
    """A latent interpolation strip, ``estimator.interpolate(a, b, steps)``, left to right.

    Parameters
    ----------
    strip : array-like of shape (steps, H, W), (steps, C, H, W) or (steps, n_features)
        The decodes along the path; the first and last are the end points.
    image_shape : tuple of int, optional

    Returns
    -------
    fig : Figure

    Examples
    --------
    >>> from aekit import Autoencoder
    >>> from aekit.datasets import load_digits
    >>> from aekit.plots import plot_interpolation
    >>> X, _ = load_digits(images=True)
    >>> ae = Autoencoder(latent_dim=4, max_epochs=3, random_state=0).fit(X)
    >>> fig = plot_interpolation(ae.interpolate(X[0], X[1], steps=8))
    """
    images = _images(strip, image_shape, "strip")
    steps = len(images)
    width, height = panel_size(images[0])
    fig = new_figure(max(3.0, steps * width), height + 0.8)
    axes = fig.subplots(1, steps, squeeze=False)[0]
    value_range = display_range(images)
    for i, (ax, image) in enumerate(zip(axes, images, strict=True)):
        show_image(ax, image, *value_range)
        t = i / (steps - 1) if steps > 1 else 0.0
        ax.set_title(
            "start" if i == 0 else "end" if i == steps - 1 else f"{t:.2f}", fontsize=7, pad=2
        )
    fig.suptitle(f"Latent interpolation in {steps} steps (t from 0 to 1)")
    return fig


def plot_latent_manifold(
    estimator_or_decode_fn: Any,
    grid: int = 15,
    extent: float = 3.0,
    *,
    image_shape: Sequence[int] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Decodes of a regular grid over a 2-D latent plane, tiled into one picture.

    Parameters
    ----------
    estimator_or_decode_fn : fitted estimator or callable
        An estimator with ``inverse_transform(Z)`` (and ``sample_shape_``) and a 2-D code,
        or a function from codes of shape (n, 2) to images.
    grid : int, default=15
        Decodes per side.
    extent : float, default=3.0
        The grid spans [-extent, extent] on both latent axes (standard deviations for a
        variational model, whose prior is N(0, I)).
    image_shape : tuple of int, optional
        Shape of one decode, when the function returns flat rows.
    ax : Axes, optional

    Returns
    -------
    fig : Figure

    Examples
    --------
    >>> from aekit import Autoencoder
    >>> from aekit.datasets import load_digits
    >>> from aekit.plots import plot_latent_manifold
    >>> X, _ = load_digits(images=True)
    >>> vae = Autoencoder(latent_dim=2, variational=True, max_epochs=3, random_state=0).fit(X)
    >>> fig = plot_latent_manifold(vae, grid=8)
    """
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or grid < 2:
        raise ValueError(f"grid={grid!r} must be an integer >= 2")
    if not extent > 0:
        raise ValueError(f"extent={extent!r} must be positive")
    decode = _decoder(estimator_or_decode_fn)
    axis = np.linspace(-extent, extent, int(grid))
    # rows from top (high z2) to bottom, so the picture reads like the plane
    z1, z2 = np.meshgrid(axis, axis[::-1])
    codes = np.column_stack([z1.ravel(), z2.ravel()]).astype(np.float32)
    images = _images(decode(codes), image_shape, "decodes")
    if len(images) != len(codes):
        raise ValueError(f"the decoder returned {len(images)} decodes for {len(codes)} codes")
    low, high = display_range(images)
    mosaic = _tile(images, grid, gap_value=np.nan)
    fig, ax = figure_and_axes(ax, 6.4, 6.0)
    half_step = extent / (grid - 1)
    shown_extent = (-extent - half_step, extent + half_step) * 2
    if mosaic.ndim == 3:  # RGB: normalised, white between the tiles
        rgb = np.clip((mosaic - low) / (high - low), 0, 1)
        ax.imshow(np.nan_to_num(rgb, nan=1.0), extent=shown_extent, interpolation="nearest")
    else:
        cmap = colormaps["gray"].with_extremes(bad="white")  # NaN: the gaps between tiles
        ax.imshow(
            mosaic, cmap=cmap, vmin=low, vmax=high, extent=shown_extent, interpolation="nearest"
        )
    ax.set_xlabel("z₁")
    ax.set_ylabel("z₂")
    ax.set_title(f"Decoded latent plane ({grid}×{grid} grid over [-{extent:g}, {extent:g}]²)")
    return fig


def _tile(images: NDArray[np.float64], grid: int, gap_value: float) -> NDArray[np.float64]:
    """``grid * grid`` images, row-major, as one picture with one-pixel gaps between tiles."""
    height, width = images.shape[1:3]
    gap = 1
    shape = (grid * (height + gap) - gap, grid * (width + gap) - gap, *images.shape[3:])
    mosaic = np.full(shape, gap_value, dtype=np.float64)
    for index, image in enumerate(images):
        row, col = divmod(index, grid)
        top, left = row * (height + gap), col * (width + gap)
        mosaic[top : top + height, left : left + width] = image
    return mosaic


def _images(X: ArrayLike, image_shape: Sequence[int] | None, name: str) -> NDArray[np.float64]:
    data = as_float_array(X, name)
    if data.ndim < 2 or len(data) == 0:
        raise ValueError(f"{name} must hold at least one image; got shape {data.shape}")
    images = as_images(data, image_shape, name, infer_square=True)
    if images is None:
        raise ValueError(
            f"{name} has rows of {data.shape[1]} values, which is not a square image; "
            f"pass image_shape=(H, W) or (C, H, W)"
        )
    return images


def _decoder(source: Any) -> Callable[[NDArray[np.float32]], Any]:
    if hasattr(source, "inverse_transform"):
        latent_dim = getattr(source, "latent_dim", 2)
        if latent_dim != 2:
            raise ValueError(
                f"plot_latent_manifold needs a 2-D latent space; the estimator has "
                f"latent_dim={latent_dim}"
            )
        return source.inverse_transform  # type: ignore[no-any-return]
    if callable(source):
        return source  # type: ignore[no-any-return]
    raise TypeError(
        f"estimator_or_decode_fn must be a fitted estimator with inverse_transform or a "
        f"callable; got {type(source).__name__}"
    )
