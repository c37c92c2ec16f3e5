"""Image quality of denoised or reconstructed samples: PSNR and SSIM, per sample or averaged.

Both take a batch of clean references and a batch of estimates of the same shape. PSNR works on
any samples (rows ``(n, d)`` or images); SSIM needs images ``(n, H, W)`` or ``(n, C, H, W)``,
because its windows are two-dimensional: reshape flat rows first (``X.reshape(-1, 28, 28)``).
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch.nn import functional

REDUCTIONS = ("mean", "none")

# Wang, Bovik, Sheikh and Simoncelli (2004), "Image quality assessment: from error visibility to
# structural similarity": an 11x11 Gaussian window of standard deviation 1.5, K1 = 0.01, K2 = 0.03
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def _pair(
    clean: ArrayLike, estimate: ArrayLike, data_range: float | None, reduction: str
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Both batches as float64, checked against each other, and the data range to use."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction={reduction!r} is not one of {', '.join(REDUCTIONS)}")
    x = np.asarray(clean, dtype=np.float64)
    y = np.asarray(estimate, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(
            f"clean has shape {x.shape} but estimate has shape {y.shape}; they must be equal"
        )
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(
            f"clean has shape {x.shape}; expected a non-empty batch (n_samples, ...) "
            f"of rows or images"
        )
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("clean and estimate must be finite (no NaN or infinity)")
    if data_range is None:
        data_range = float(x.max() - x.min())
        if data_range <= 0:
            raise ValueError(
                "clean is constant, so its range cannot serve as data_range; pass data_range"
            )
    elif not float(data_range) > 0:
        raise ValueError(f"data_range={data_range!r} must be positive")
    return x, y, float(data_range)


def _reduce(values: NDArray[np.float64], reduction: str) -> NDArray[np.float64] | float:
    return float(values.mean()) if reduction == "mean" else values


def psnr(
    clean: ArrayLike,
    estimate: ArrayLike,
    data_range: float | None = None,
    *,
    reduction: str = "mean",
) -> NDArray[np.float64] | float:
    """Peak signal-to-noise ratio of each sample, in decibels: ``10 log10(range**2 / MSE)``.

    Parameters
    ----------
    clean : array-like of shape (n_samples, ...)
        The references: rows ``(n, d)`` or images ``(n, H, W)`` / ``(n, C, H, W)``.
    estimate : array-like of the same shape
    data_range : float, optional
        The span of possible values (1.0 for images in [0, 1], 255 for 8-bit). None uses
        ``clean.max() - clean.min()`` over the whole batch, which underestimates the span of
        dark images: pass it when you know it.
    reduction : {"mean", "none"}, default="mean"
        "mean" averages the per-sample PSNR (the usual figure for denoising); "none" returns
        one value per sample. A sample reproduced exactly has an infinite PSNR.

    Returns
    -------
    psnr : float, or ndarray of shape (n_samples,) with ``reduction="none"``
    """
    x, y, data_range = _pair(clean, estimate, data_range, reduction)
    mse = np.square(x - y).reshape(len(x), -1).mean(axis=1)
    with np.errstate(divide="ignore"):  # an exact copy has an infinite PSNR
        values = 10.0 * np.log10(data_range**2 / mse)
    return _reduce(values, reduction)


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> NDArray[np.float64]:
    """The normalised 1-D Gaussian whose outer product is the SSIM window."""
    t = np.arange(size, dtype=np.float64) - (size - 1) / 2
    w = np.exp(-(t**2) / (2 * sigma**2))
    return np.asarray(w / w.sum(), dtype=np.float64)


def ssim(
    clean: ArrayLike,
    estimate: ArrayLike,
    data_range: float | None = None,
    *,
    reduction: str = "mean",
) -> NDArray[np.float64] | float:
    """Structural similarity of each image (Wang et al., 2004), between -1 and 1.

    Local means, variances and covariance are weighted by an 11x11 Gaussian window
    (standard deviation 1.5) at every position where it fits inside the image ("valid"
    filtering, as in the authors' reference code; no padding), with ``C1 = (0.01 L)**2``,
    ``C2 = (0.03 L)**2`` for ``L = data_range``. Each image's SSIM is the mean of its SSIM
    map, averaged over channels.

    Parameters
    ----------
    clean : array-like of shape (n_samples, H, W) or (n_samples, C, H, W)
        Images at least 11x11. Flat rows are refused: reshape them to images first.
    estimate : array-like of the same shape
    data_range : float, optional
        As for ``psnr``: None uses the range of ``clean`` over the whole batch.
    reduction : {"mean", "none"}, default="mean"
        "mean" averages over images; "none" gives one value per image.

    Returns
    -------
    ssim : float, or ndarray of shape (n_samples,) with ``reduction="none"``
    """
    x, y, data_range = _pair(clean, estimate, data_range, reduction)
    if x.ndim not in (3, 4):
        raise ValueError(
            f"ssim needs images of shape (n_samples, H, W) or (n_samples, C, H, W), got "
            f"{x.shape}; reshape flat rows to images first, e.g. X.reshape(-1, 28, 28)"
        )
    if min(x.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(
            f"ssim needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} (its Gaussian window), "
            f"got {x.shape[-2]}x{x.shape[-1]}; use psnr for smaller images"
        )
    n = len(x)
    height, width = x.shape[-2:]
    # one channel per image plane: (n * C, 1, H, W)
    xt = torch.from_numpy(np.ascontiguousarray(x.reshape(-1, 1, height, width)))
    yt = torch.from_numpy(np.ascontiguousarray(y.reshape(-1, 1, height, width)))
    w = torch.from_numpy(gaussian_window())

    def local_mean(a: torch.Tensor) -> torch.Tensor:
        # the window is separable: filter rows, then columns
        a = functional.conv2d(a, w.view(1, 1, 1, -1))
        return functional.conv2d(a, w.view(1, 1, -1, 1))

    mu_x, mu_y = local_mean(xt), local_mean(yt)
    var_x = local_mean(xt * xt) - mu_x * mu_x
    var_y = local_mean(yt * yt) - mu_y * mu_y
    cov = local_mean(xt * yt) - mu_x * mu_y
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)
    )
    values = ssim_map.reshape(n, -1).mean(dim=1).numpy()
    return _reduce(np.asarray(values, dtype=np.float64), reduction)
