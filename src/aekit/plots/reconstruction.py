"""Inputs next to their reconstructions, denoised images, and where the error lies."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from aekit.plots._common import (
    DATA_COLOR,
    DECODER_COLOR,
    as_float_array,
    as_images,
    check_n,
    check_same_shape,
    display_range,
    feature_names_or_default,
    new_figure,
    panel_size,
    root_figure,
    show_image,
)

MAX_TABLE_ROWS = 4  # tabular samples drawn one panel each: beyond four they get unreadable


def plot_reconstructions(
    X: ArrayLike,
    X_hat: ArrayLike,
    n: int = 10,
    *,
    image_shape: Sequence[int] | None = None,
    feature_names: Sequence[str] | None = None,
) -> Figure:
    """The first ``n`` samples over their reconstructions.

    Images (``(n, H, W)``, ``(n, C, H, W)``, or flat rows with ``image_shape``) make a
    grid, originals on top; tabular rows make one panel per sample (at most four), the
    original values as bars and the reconstruction as a line, per feature.

    Parameters
    ----------
    X, X_hat : array-like of the same shape
        Samples and their reconstructions (``estimator.reconstruct(X)``).
    n : int, default=10
    image_shape : tuple of int, optional
        (H, W) or (C, H, W) of flat image rows.
    feature_names : sequence of str, optional
        Column names of tabular rows.

    Returns
    -------
    fig : Figure

    Examples
    --------
    >>> from aekit import Autoencoder
    >>> from aekit.datasets import load_digits
    >>> from aekit.plots import plot_reconstructions
    >>> X, _ = load_digits(images=True)
    >>> ae = Autoencoder(latent_dim=8, max_epochs=3, random_state=0).fit(X)
    >>> fig = plot_reconstructions(X, ae.reconstruct(X), n=8)  # inputs above, outputs below
    """
    X_arr, X_hat_arr = as_float_array(X, "X"), as_float_array(X_hat, "X_hat")
    check_same_shape(X_arr, X_hat_arr, "X and X_hat")
    n = min(check_n(n), len(X_arr))
    if n == 0:
        raise ValueError("X is empty: nothing to plot")
    X_arr, X_hat_arr = X_arr[:n], X_hat_arr[:n]
    errors = np.mean((X_arr - X_hat_arr).reshape(n, -1) ** 2, axis=1)
    images = as_images(X_arr, image_shape, "X")
    if images is not None:
        images_hat = _images_like(X_hat_arr, image_shape, "X_hat")
        rows = [(images, "original", None), (images_hat, "reconstruction", errors)]
        fig = _image_rows(rows, display_range(images, images_hat))
        fig.suptitle(f"Inputs and reconstructions (mean MSE {errors.mean():.3g})")
        return fig
    flat, flat_hat = X_arr.reshape(n, -1), X_hat_arr.reshape(n, -1)
    names = feature_names_or_default(feature_names, flat.shape[1])
    fig, axes = _table_panels(min(n, MAX_TABLE_ROWS), flat.shape[1])
    for i, ax in enumerate(axes):
        positions = np.arange(flat.shape[1])
        ax.bar(positions, flat[i], color=DATA_COLOR, label="original", width=0.8)
        ax.plot(
            positions, flat_hat[i], "o-", color=DECODER_COLOR, ms=3, lw=1.2, label="reconstruction"
        )
        ax.set_title(f"sample {i}: MSE {errors[i]:.3g}", fontsize=9, loc="left")
        ax.set_ylabel("value")
    _feature_ticks(axes[-1], names)
    fig.suptitle("Inputs and reconstructions per feature")
    handles, labels = axes[0].get_legend_handles_labels()  # bars first, as drawn
    fig.legend(handles[::-1], labels[::-1], loc="outside upper right", ncols=2, fontsize=8)
    return fig


def plot_denoising(
    noisy: ArrayLike,
    denoised: ArrayLike,
    clean: ArrayLike,
    n: int = 8,
    *,
    image_shape: Sequence[int] | None = None,
) -> Figure:
    """Noisy, denoised and clean samples, with the PSNR of each against the clean one.

    PSNR is ``10 log10(range² / MSE)`` with range 1 for data in [0, 1], else the clean
    data's range; higher is better.

    Parameters
    ----------
    noisy, denoised, clean : array-like of the same shape
        Images, or flat rows (tabular rows are drawn as lines, one panel per sample).
    n : int, default=8
    image_shape : tuple of int, optional
        (H, W) or (C, H, W) of flat image rows.

    Returns
    -------
    fig : Figure

    Examples
    --------
    >>> from aekit import Autoencoder
    >>> from aekit.datasets import load_digits
    >>> from aekit.plots import plot_denoising
    >>> X, _ = load_digits(images=True)
    >>> ae = Autoencoder(noise="gaussian", max_epochs=3, random_state=0).fit(X)
    >>> noisy = ae.corrupt(X[:8], random_state=0)
    >>> fig = plot_denoising(noisy, ae.denoise(noisy), X[:8])
    """
    noisy_arr = as_float_array(noisy, "noisy")
    denoised_arr = as_float_array(denoised, "denoised")
    clean_arr = as_float_array(clean, "clean")
    check_same_shape(noisy_arr, clean_arr, "noisy and clean")
    check_same_shape(denoised_arr, clean_arr, "denoised and clean")
    n = min(check_n(n), len(clean_arr))
    if n == 0:
        raise ValueError("clean is empty: nothing to plot")
    data_range = _data_range(clean_arr)
    noisy_arr, denoised_arr, clean_arr = noisy_arr[:n], denoised_arr[:n], clean_arr[:n]
    psnr_noisy = _psnr(clean_arr, noisy_arr, data_range)
    psnr_denoised = _psnr(clean_arr, denoised_arr, data_range)
    summary = (
        f"Denoising: mean PSNR {_db(float(np.mean(psnr_noisy)))} noisy → "
        f"{_db(float(np.mean(psnr_denoised)))} denoised"
    )
    clean_images = as_images(clean_arr, image_shape, "clean")
    if clean_images is not None:
        noisy_images = _images_like(noisy_arr, image_shape, "noisy")
        denoised_images = _images_like(denoised_arr, image_shape, "denoised")
        rows = [
            (noisy_images, "noisy", psnr_noisy),
            (denoised_images, "denoised", psnr_denoised),
            (clean_images, "clean", None),
        ]
        fig = _image_rows(rows, display_range(clean_images), value="psnr")
        fig.suptitle(summary)
        return fig
    flat = [a.reshape(n, -1) for a in (noisy_arr, denoised_arr, clean_arr)]
    fig, axes = _table_panels(min(n, MAX_TABLE_ROWS), flat[0].shape[1])
    positions = np.arange(flat[0].shape[1])
    for i, ax in enumerate(axes):
        ax.plot(positions, flat[2][i], "-", color="black", lw=1.4, label="clean")
        ax.plot(positions, flat[0][i], ".", color=DATA_COLOR, label="noisy")
        ax.plot(positions, flat[1][i], "-", color=DECODER_COLOR, lw=1.2, label="denoised")
        ax.set_title(
            f"sample {i}: PSNR noisy {_db(psnr_noisy[i])}, denoised {_db(psnr_denoised[i])}",
            fontsize=9,
            loc="left",
        )
        ax.set_ylabel("value")
    _feature_ticks(axes[-1], feature_names_or_default(None, flat[0].shape[1]))
    fig.suptitle(summary)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper right", ncols=3, fontsize=8)
    return fig


def plot_error_distribution(
    errors_per_feature: ArrayLike,
    feature_names: Sequence[str] | None = None,
    *,
    image_shape: Sequence[int] | None = None,
    max_features: int = 20,
) -> Figure:
    """Reconstruction error per sample (histogram) and per feature or pixel.

    Parameters
    ----------
    errors_per_feature : array-like of shape (n_samples, n_features) or images
        Squared error of each value: ``estimator.reconstruction_error(X, per_feature=True)``.
    feature_names : sequence of str, optional
    image_shape : tuple of int, optional
        (H, W) or (C, H, W) of flat image rows: the right panel becomes a heat map.
    max_features : int, default=20
        Tabular data: the features with the largest mean error shown.

    Returns
    -------
    fig : Figure

    Examples
    --------
    >>> from aekit import Autoencoder
    >>> from aekit.datasets import load_digits
    >>> from aekit.plots import plot_error_distribution
    >>> X, _ = load_digits(images=True)
    >>> ae = Autoencoder(max_epochs=3, random_state=0).fit(X)
    >>> fig = plot_error_distribution(ae.reconstruction_error(X, per_feature=True))
    """
    errors = as_float_array(errors_per_feature, "errors_per_feature")
    if errors.ndim < 2 or len(errors) == 0:
        raise ValueError(
            f"errors_per_feature has shape {errors.shape}; expected one row of errors per "
            f"sample, e.g. reconstruction_error(X, per_feature=True)"
        )
    max_features = check_n(max_features, "max_features")
    per_sample = errors.reshape(len(errors), -1).mean(axis=1)
    fig = new_figure(10.0, 4.0)
    hist_ax, feature_ax = fig.subplots(1, 2, width_ratios=[1.2, 1.0])
    hist_ax.hist(per_sample, bins="auto", color=DATA_COLOR, edgecolor="white")
    median = float(np.median(per_sample))
    hist_ax.axvline(median, color="black", ls="--", lw=1.2, label=f"median {median:.3g}")
    hist_ax.set_xlabel("mean squared error of the sample")
    hist_ax.set_ylabel("samples")
    hist_ax.set_title(f"Error per sample (n = {len(errors)})")
    hist_ax.legend(fontsize=8)

    images = as_images(errors, image_shape, "errors_per_feature")
    if images is not None:
        mean_map = images.mean(axis=0)
        if mean_map.ndim == 3:
            mean_map = mean_map.mean(axis=-1)  # RGB: one heat map over the channels
        shown = feature_ax.imshow(mean_map, cmap="magma", aspect="equal", interpolation="nearest")
        feature_ax.set_xticks([])
        feature_ax.set_yticks([])
        fig.colorbar(shown, ax=feature_ax, label="mean squared error", shrink=0.85)
        feature_ax.set_title("Mean error per pixel")
        return fig
    flat = errors.reshape(len(errors), -1)
    names = feature_names_or_default(feature_names, flat.shape[1])
    mean_error = flat.mean(axis=0)
    order = np.argsort(mean_error)[::-1][:max_features]
    feature_ax.barh(np.arange(len(order)), mean_error[order], color=DECODER_COLOR)
    feature_ax.set_yticks(np.arange(len(order)), [names[i] for i in order], fontsize=8)
    feature_ax.invert_yaxis()  # largest on top
    feature_ax.set_xlabel("mean squared error")
    shown_of = f" (top {len(order)} of {flat.shape[1]})" if len(order) < flat.shape[1] else ""
    feature_ax.set_title(f"Mean error per feature{shown_of}")
    return fig


# --- helpers -------------------------------------------------------------------------


def _image_rows(
    rows: list[tuple[NDArray[np.float64], str, NDArray[np.float64] | None]],
    value_range: tuple[float, float],
    *,
    value: str = "mse",
) -> Figure:
    """Rows of images, the row name on the left, an optional number over each image."""
    n = len(rows[0][0])
    width, height = panel_size(rows[0][0][0])
    fig = new_figure(max(4.0, n * width + 0.9), len(rows) * (height + 0.3) + 0.5)
    axes = fig.subplots(len(rows), n, squeeze=False)
    for r, (images, name, numbers) in enumerate(rows):
        for i in range(n):
            ax = axes[r, i]
            show_image(ax, images[i], *value_range)
            if numbers is not None:
                text = _db(numbers[i]) if value == "psnr" else f"MSE {numbers[i]:.2g}"
                ax.set_title(text, fontsize=7, pad=2)
        axes[r, 0].set_ylabel(name, fontsize=9)
    return fig


def _images_like(
    X: NDArray[np.float64], image_shape: Sequence[int] | None, name: str
) -> NDArray[np.float64]:
    """Images from an array of the same shape as one already seen to hold images."""
    images = as_images(X, image_shape, name)
    if images is None:
        raise ValueError(f"{name} of shape {X.shape} does not hold images")
    return images


def _table_panels(n_panels: int, n_features: int) -> tuple[Figure, list[Axes]]:
    fig = new_figure(min(12.0, max(6.0, 0.22 * n_features + 2.0)), 1.9 * n_panels + 1.0)
    axes = fig.subplots(n_panels, 1, sharex=True, squeeze=False)[:, 0]
    for ax in axes:
        ax.grid(axis="y", alpha=0.3)
    return fig, list(axes)


def _feature_ticks(ax: Axes, names: list[str]) -> None:
    """Every feature named when there are few; evenly spaced ones when there are many."""
    step = max(1, int(np.ceil(len(names) / 40)))
    positions = np.arange(0, len(names), step)
    fig_width = root_figure(ax).get_figwidth()
    characters = sum(len(names[i]) + 2 for i in positions)
    rotation = 90 if characters > fig_width * 14 else 0  # ~14 characters of 7 pt per inch
    ax.set_xticks(positions, [names[i] for i in positions], rotation=rotation, fontsize=7)
    ax.set_xlabel("feature")


def _data_range(clean: NDArray[np.float64]) -> float:
    low, high = float(clean.min()), float(clean.max())
    if low >= 0.0 and high <= 1.0:
        return 1.0
    return high - low if high > low else 1.0


def _psnr(
    clean: NDArray[np.float64], other: NDArray[np.float64], data_range: float
) -> NDArray[np.float64]:
    """PSNR of each sample in dB (inf where identical)."""
    mse = np.mean((clean - other).reshape(len(clean), -1) ** 2, axis=1)
    with np.errstate(divide="ignore"):
        return np.asarray(10.0 * np.log10(data_range**2 / mse), dtype=np.float64)


def _db(value: float) -> str:
    return "∞ dB" if np.isinf(value) else f"{value:.1f} dB"
