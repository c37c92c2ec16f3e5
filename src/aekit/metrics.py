"""Measures of quality: PSNR and SSIM for images, VUS-PR and SKAB's scores for series.

PSNR and SSIM take a batch of clean references and a batch of estimates of the same shape.
PSNR works on any samples (rows ``(n, d)`` or images); SSIM needs images ``(n, H, W)`` or
``(n, C, H, W)``, because its windows are two-dimensional: reshape flat rows first
(``X.reshape(-1, 28, 28)``).

The measures for anomaly detection on series take one label per time step (1 = anomaly):
``vus_pr`` scores a continuous anomaly score without a threshold, as the TSB-AD benchmark
does; ``skab_scores`` scores binary flags as SKAB's outlier-detection leaderboard does.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch.nn import functional

__all__ = ["psnr", "skab_scores", "ssim", "vus_pr"]

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

    Examples
    --------
    >>> import numpy as np
    >>> from aekit.metrics import psnr
    >>> clean = np.zeros((2, 8, 8))
    >>> round(float(psnr(clean, clean + 0.1, data_range=1.0)), 2)
    20.0
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

    Examples
    --------
    >>> import numpy as np
    >>> from aekit.metrics import ssim
    >>> images = np.random.default_rng(0).random((4, 16, 16))
    >>> float(ssim(images, images))
    1.0
    >>> bool(ssim(images, 0.5 * images) < 1.0)
    True
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


# --- anomaly detection on series ---


def _binary_series(name: str, values: ArrayLike) -> NDArray[np.bool_]:
    """One 0/1 (or boolean) value per time step, as booleans."""
    array = np.asarray(values)
    if array.ndim != 1 or len(array) == 0:
        raise ValueError(
            f"{name} has shape {array.shape}; expected a non-empty 1-D array of 0 and 1"
        )
    if array.dtype == np.bool_:
        return array
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{name} has dtype {array.dtype}; expected 0 and 1 (or booleans)")
    bad = (array != 0) & (array != 1)
    if bad.any():
        where = np.flatnonzero(bad)
        raise ValueError(
            f"{name} must hold only 0 and 1 (or booleans), but holds "
            f"{np.unique(array[where]).tolist()[:5]} (at positions {where[:5].tolist()})"
        )
    return np.asarray(array == 1, dtype=np.bool_)


def _require_both_classes(labels: NDArray[np.bool_]) -> None:
    n_anomalies = int(labels.sum())
    if n_anomalies == 0:
        raise ValueError(
            "labels holds no anomaly (no 1); the measure needs at least one anomaly "
            "and one normal point"
        )
    if n_anomalies == len(labels):
        raise ValueError(
            f"labels marks all {len(labels)} points as anomalies; the measure needs at least "
            f"one anomaly and one normal point"
        )


def _finite_scores(scores: ArrayLike, n: int) -> NDArray[np.float64]:
    values = np.asarray(scores, dtype=np.float64)
    if values.shape != (n,):
        raise ValueError(
            f"scores has shape {values.shape} but labels has shape ({n},); expected one "
            f"score per label"
        )
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise ValueError(
            f"scores contains NaN or infinity at positions {bad[:5].tolist()}; expected "
            f"finite numbers"
        )
    return values


def _count(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


def _anomaly_runs(labels: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """First and last index of each run of anomalies (TSB-AD's ``range_convers_new``)."""
    edges = np.diff(labels.astype(np.int8), prepend=0, append=0)
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1


def _widen_and_merge(
    starts: NDArray[np.intp], ends: NDArray[np.intp], half: int, n: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The runs widened by ``half`` on each side within the series, merged where they share a
    point; runs that only become adjacent stay apart (TSB-AD's ``new_sequence``)."""
    apart = ends[:-1] + half < starts[1:] - half
    first = np.concatenate(([max(starts[0] - half, 0)], starts[1:][apart] - half))
    last = np.concatenate((ends[:-1][apart] + half, [min(ends[-1] + half, n - 1)]))
    return first, last


def _indices_in(first: NDArray[np.intp], last: NDArray[np.intp]) -> NDArray[np.intp]:
    """Every index of the ordered, disjoint ranges ``first[i]..last[i]``, ascending."""
    lengths = last - first + 1
    offsets = np.repeat(first - (np.cumsum(lengths) - lengths), lengths)
    return np.asarray(np.arange(int(lengths.sum())) + offsets, dtype=np.intp)


def _ramp_distances(
    positions: NDArray[np.intp], starts: NDArray[np.intp], ends: NDArray[np.intp], cap: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """For each position outside the runs, the distance to the nearest run edge and the
    second-nearest one (a run's end behind it or a run's start ahead), capped at ``cap``.

    TSB-AD's ``sequencing`` adds ``sqrt(1 - d / window)`` at distance ``d <= window // 2``
    after each run's end and before each run's start, then caps the sum at 1. Every term is
    at least ``sqrt(1/2)``, so a point two edges reach is 1, and a point one edge reaches
    holds its term exactly: the two distances decide the extended label for every window.
    """
    far = int(positions.max()) + cap + 1  # farther than the cap from every position
    behind = np.concatenate(([-far, -far], ends))
    ahead = np.concatenate((starts, [far, far]))
    k = np.searchsorted(ends, positions)  # the number of runs ending before each position
    j = np.searchsorted(starts, positions, side="right")  # ... starting at or before it
    after, after_2 = positions - behind[k + 1], positions - behind[k]
    before, before_2 = ahead[j] - positions, ahead[j + 1] - positions
    nearest = np.minimum(after, before)
    second = np.minimum(np.maximum(after, before), np.minimum(after_2, before_2))
    return np.minimum(nearest, cap), np.minimum(second, cap)


def _thresholds(
    scores: NDArray[np.float64], n_thresholds: int
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """TSB-AD's thresholds, descending: the scores at ``n_thresholds`` evenly spaced
    positions (rounded down) of the descending sort; and how many scores reach each one
    (a point is predicted anomalous when its score is at least the threshold)."""
    n = len(scores)
    ascending = np.sort(scores)
    picks = np.linspace(0, n - 1, n_thresholds).astype(int)
    thresholds = ascending[n - 1 - picks]
    return thresholds, n - np.searchsorted(ascending, thresholds)


class _Surface:
    """What every window of ``vus_pr`` shares: the thresholds, the predictions' counts, and
    the points near the anomalies (the only ones whose extended labels are not 0), in
    descending order of score."""

    def __init__(
        self, labels: NDArray[np.bool_], scores: NDArray[np.float64], half: int, n_thresholds: int
    ) -> None:
        n = len(scores)
        self.n = n
        self.n_anomalies = int(labels.sum())
        self.starts, self.ends = _anomaly_runs(labels)
        self.thresholds, self.predicted = _thresholds(scores, n_thresholds)
        # the widest window's extended labels are 0 beyond this neighbourhood of the runs
        self.near = _indices_in(*_widen_and_merge(self.starts, self.ends, half, n))
        near_scores = scores[self.near]
        self.near_scores = np.append(near_scores, -np.inf)  # a sentinel for reduceat
        order = np.argsort(-near_scores, kind="stable")
        # the cumulative sums below, read at these lengths, are sums over the predicted points
        self.near_predicted = len(order) - np.searchsorted(
            near_scores[order[::-1]], self.thresholds
        )
        anomalous = labels[self.near][order]
        self.hits = np.concatenate(([0], np.cumsum(anomalous)))[self.near_predicted]
        self.beyond = half + 1  # a distance no window's ramp reaches
        nearest, second = _ramp_distances(self.near[order], self.starts, self.ends, self.beyond)
        nearest[anomalous] = self.beyond  # an anomaly counts in hits, not in the ramps
        second[anomalous] = self.beyond
        self.nearest, self.second = nearest, second

    def ramp_hits(self, window: int) -> NDArray[np.float64]:
        """The sum of the extended labels of the predicted normal points, per threshold."""
        half = window // 2
        heights = np.zeros(self.beyond + 1)  # by distance; 0 beyond this window's ramp
        heights[1 : half + 1] = np.sqrt(1 - np.arange(1, half + 1) / window)
        ramp = np.where(self.second <= half, 1.0, heights[self.nearest])
        sums = np.concatenate(([0.0], np.cumsum(ramp)))  # over the first k points
        return np.asarray(sums[self.near_predicted], dtype=np.float64)

    def runs_reached(self, window: int) -> tuple[NDArray[np.intp], int]:
        """How many of the window's merged, widened runs hold a predicted point, per threshold;
        and how many runs there are."""
        first, last = _widen_and_merge(self.starts, self.ends, window // 2, self.n)
        bounds = np.searchsorted(self.near, np.column_stack((first, last + 1)).ravel())
        peaks = np.sort(np.maximum.reduceat(self.near_scores, bounds)[::2])
        return len(peaks) - np.searchsorted(peaks, self.thresholds), len(peaks)

    def average_precision(self, window: int) -> float:
        """The area under one window's range-based precision-recall curve."""
        ramp_hits = self.ramp_hits(window)
        true_positives = self.hits + ramp_hits
        n_labelled = self.n_anomalies + ramp_hits  # the sum of the extended labels predicted
        positives = (self.n_anomalies + n_labelled) / 2  # TSB-AD's P_new
        recall = np.minimum(true_positives / positives, 1.0)
        reached, n_runs = self.runs_reached(window)
        true_positive_rate = recall * (reached / n_runs)
        precision = true_positives / self.predicted
        return float(np.dot(np.diff(true_positive_rate, prepend=0.0), precision))


def vus_pr(
    labels: ArrayLike, scores: ArrayLike, sliding_window: int = 100, n_thresholds: int = 250
) -> float:
    """VUS-PR: the volume under the range-based precision-recall surface of an anomaly score.

    Paparrizos et al. (VLDB 2022) make the labels tolerant near each anomaly: a run of
    anomalies is extended on both sides by a ramp of half a window, precision and recall
    are range-based (recall also counts how many anomaly runs were reached), and the area
    under the precision-recall curve is averaged over window sizes ``0..sliding_window``.
    Higher is better; no threshold is needed. Computed as the TSB-AD benchmark computes it
    (TSB-AD 1.5, ``basic_metricor().RangeAUC_volume_opt``, the ``VUS-PR`` of its
    ``get_metrics``), with its particulars: ``n_thresholds`` thresholds taken from the
    sorted scores, a ramp of ``window // 2`` points whose heights ``sqrt(1 - d / window)``
    never fall below ``sqrt(1/2)``, and a recall capped at 1. The value equals TSB-AD's to
    floating-point rounding, in a fraction of its time (a million points in about a second).

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        1 (or True) where the series is anomalous, 0 elsewhere; both must occur.
    scores : array-like of shape (n_samples,)
        The anomaly score of each time step, higher = more anomalous; finite.
    sliding_window : int, default=100
        The largest window. TSB-AD's ``main.py`` passes the period its ``find_length_rank``
        estimates from the series' autocorrelation (and 0 for a multivariate series).
    n_thresholds : int, default=250
        How many thresholds trace each precision-recall curve.

    Returns
    -------
    vus_pr : float
        Between 0 and 1.

    Examples
    --------
    >>> import numpy as np
    >>> from aekit.metrics import vus_pr
    >>> labels = np.zeros(300, dtype=int)
    >>> labels[140:160] = 1
    >>> peak = -np.abs(np.arange(300) - 150.0)  # highest in the middle of the anomaly
    >>> noise = np.random.default_rng(0).random(300)
    >>> round(vus_pr(labels, peak, sliding_window=20), 3)
    1.0
    >>> round(vus_pr(labels, noise, sliding_window=20), 3)
    0.088
    """
    y = _binary_series("labels", labels)
    _require_both_classes(y)
    s = _finite_scores(scores, len(y))
    sliding_window = _count("sliding_window", sliding_window, minimum=0)
    n_thresholds = _count("n_thresholds", n_thresholds, minimum=1)
    surface = _Surface(y, s, sliding_window // 2, n_thresholds)
    volumes = [surface.average_precision(window) for window in range(sliding_window + 1)]
    return sum(volumes) / len(volumes)


def skab_scores(labels: ArrayLike, flags: ArrayLike) -> dict[str, float]:
    """The measures of SKAB's outlier-detection leaderboard: F1, false- and missed-alarm rates.

    Point-wise, over the test rows: SKAB pools the test rows of all its files before
    computing them. Unlike SKAB's ``chp_score(..., metric="binary")``, which rounds to two
    decimals, the values are not rounded.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        1 (or True) for an anomalous row, 0 for a normal one; both must occur.
    flags : array-like of shape (n_samples,)
        1 (or True) where the detector raised an alarm.

    Returns
    -------
    scores : dict
        ``"f1"``: the binary F1 of the flags, between 0 and 1; ``"far"``: the false-alarm
        rate ``FP / (FP + TN)`` and ``"mar"``: the missed-alarm rate ``FN / (FN + TP)``,
        both in percent.

    Examples
    --------
    >>> from aekit.metrics import skab_scores
    >>> scores = skab_scores([0, 0, 1, 1, 1, 0], [0, 1, 1, 1, 0, 0])
    >>> {name: round(value, 2) for name, value in scores.items()}
    {'f1': 0.67, 'far': 33.33, 'mar': 33.33}
    """
    y = _binary_series("labels", labels)
    f = _binary_series("flags", flags)
    if len(f) != len(y):
        raise ValueError(
            f"flags has {len(f)} values but labels has {len(y)}; expected one flag per label"
        )
    _require_both_classes(y)
    true_positives = int(np.sum(y & f))
    false_positives = int(np.sum(~y & f))
    false_negatives = int(np.sum(y & ~f))
    true_negatives = len(y) - true_positives - false_positives - false_negatives
    return {
        "f1": true_positives / (true_positives + (false_positives + false_negatives) / 2),
        "far": 100 * false_positives / (false_positives + true_negatives),
        "mar": 100 * false_negatives / (false_negatives + true_positives),
    }
