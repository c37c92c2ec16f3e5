"""Figures of series: channels with the anomaly score, its threshold and the flagged
stretches; each channel's share of the error over time; reconstructions over the data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from aekit.data.windows import runs
from aekit.plots._common import (
    ANOMALY_COLOR,
    DATA_COLOR,
    NORMAL_COLOR,
    THRESHOLD_COLOR,
    as_float_array,
    feature_names_or_default,
    new_figure,
)

MAX_CHANNELS = 8  # channels drawn, at most (the first ones)
FLAG_ALPHA = 0.25
LABEL_COLOR = "#f2cf5b"  # known anomalies


def _as_channels(values: ArrayLike, name: str) -> NDArray[np.float64]:
    array = as_float_array(values, name)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or len(array) == 0:
        raise ValueError(f"{name} has shape {array.shape}; expected (n_timestamps, n_channels)")
    return array


def _time_axis(index: Any, n: int) -> Any:
    if index is None:
        return np.arange(n)
    if len(index) != n:
        raise ValueError(f"index has {len(index)} entries but the series has {n} timestamps")
    return np.asarray(index)


def _shade(ax: Axes, t: Any, flags: NDArray[np.bool_], color: str, label: str) -> None:
    for k, (start, stop) in enumerate(runs(flags)):
        ax.axvspan(
            t[start],
            t[stop - 1],
            color=color,
            alpha=FLAG_ALPHA,
            lw=0,
            label=label if k == 0 else None,
        )


def plot_series_scores(
    values: ArrayLike,
    scores: ArrayLike,
    threshold: float,
    *,
    index: Any = None,
    channels: Sequence[str] | None = None,
    labels: ArrayLike | None = None,
) -> Figure:
    """The series' channels over its anomaly score, the threshold, and the flagged
    stretches (scores above the threshold) shaded on both panels.

    Parameters
    ----------
    values : array-like of shape (n_timestamps,) or (n_timestamps, n_channels)
        The series (the first ``MAX_CHANNELS`` channels are drawn, each standardised so
        that they share one axis).
    scores : array-like of shape (n_timestamps,)
        ``TimeSeriesDetector.anomaly_score(X)``, with its ``threshold_``.
    threshold : float
    index : sequence, optional
        The time of each row (a ``DatetimeIndex``, say); row numbers without it.
    channels : sequence of str, optional
    labels : array-like of shape (n_timestamps,), optional
        1 where a known anomaly is: shaded in a colour of its own on the score panel.

    Returns
    -------
    fig : Figure

    Examples
    --------
    >>> import numpy as np
    >>> from aekit import TimeSeriesDetector
    >>> from aekit.plots import plot_series_scores
    >>> series = np.sin(np.arange(2000) / 8.0)
    >>> series[1500:1505] += 2
    >>> detector = TimeSeriesDetector(window=50, contamination=0.01, random_state=0).fit(series)
    >>> fig = plot_series_scores(series, detector.anomaly_score(series), detector.threshold_)
    """
    data = _as_channels(values, "values")
    score = as_float_array(scores, "scores")
    if score.shape != (len(data),):
        raise ValueError(f"scores has shape {score.shape}; expected ({len(data)},)")
    t = _time_axis(index, len(data))
    names = feature_names_or_default(channels, data.shape[1])
    fig = new_figure(10, 5.5)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    shown = data[:, :MAX_CHANNELS]
    spread = np.nanstd(shown, axis=0)
    standard = (shown - np.nanmean(shown, axis=0)) / np.where(spread > 0, spread, 1.0)
    for k in range(shown.shape[1]):
        top.plot(t, standard[:, k], lw=0.8, label=names[k])
    top.set_ylabel("standardised value")
    more = f" (first {MAX_CHANNELS} of {data.shape[1]})" if data.shape[1] > MAX_CHANNELS else ""
    top.set_title(f"Series{more}")
    if shown.shape[1] > 1:
        top.legend(loc="upper left", fontsize="x-small", ncols=min(4, shown.shape[1]))
    flagged = score > threshold
    bottom.plot(t, score, color=NORMAL_COLOR, lw=0.8, label="anomaly score")
    bottom.axhline(
        threshold, color=THRESHOLD_COLOR, ls="--", lw=1, label=f"threshold {threshold:.4g}"
    )
    _shade(top, t, flagged, ANOMALY_COLOR, "flagged")
    _shade(bottom, t, flagged, ANOMALY_COLOR, "flagged")
    if labels is not None:
        known = np.asarray(labels).astype(bool)
        if known.shape != flagged.shape:
            raise ValueError(f"labels has shape {known.shape}; expected ({len(data)},)")
        _shade(bottom, t, known, LABEL_COLOR, "labelled anomaly")
    bottom.set_ylabel("anomaly score")
    stretches = len(runs(flagged))
    bottom.set_title(
        f"{int(flagged.sum())} of {len(score)} timestamps flagged, in {stretches} stretches"
    )
    bottom.legend(loc="upper left", fontsize="x-small")
    return fig


def plot_channel_shares(
    shares: ArrayLike, *, index: Any = None, channels: Sequence[str] | None = None
) -> Figure:
    """Each channel's share of the reconstruction error over time, stacked (each row sums
    to 1): which channels make a stretch unusual.

    Parameters
    ----------
    shares : array-like or DataFrame of shape (n_timestamps, n_channels)
        ``TimeSeriesDetector.explain(X)`` (its columns name the channels).
    index, channels : optional
        As in ``plot_series_scores``; taken from a DataFrame when not given.

    Returns
    -------
    fig : Figure

    Examples
    --------
    >>> import numpy as np
    >>> from aekit.plots import plot_channel_shares
    >>> shares = np.random.default_rng(0).dirichlet([1, 1, 1], size=500)
    >>> fig = plot_channel_shares(shares, channels=["pressure", "flow", "temperature"])
    """
    if channels is None and hasattr(shares, "columns"):
        channels = [str(c) for c in shares.columns]
    if index is None and hasattr(shares, "index") and hasattr(shares, "columns"):
        index = shares.index
    parts = _as_channels(shares, "shares")
    t = _time_axis(index, len(parts))
    names = feature_names_or_default(channels, parts.shape[1])
    fig = new_figure(10, 3.5)
    ax = fig.add_subplot()
    ax.stackplot(t, parts.T, labels=names, lw=0)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of the error")
    ax.set_title("Each channel's share of the reconstruction error")
    ax.legend(loc="upper left", fontsize="x-small", ncols=min(4, parts.shape[1]))
    return fig


def plot_series_reconstruction(
    values: ArrayLike,
    reconstruction: ArrayLike,
    *,
    index: Any = None,
    channels: Sequence[str] | None = None,
    noisy: ArrayLike | None = None,
) -> Figure:
    """Each channel (up to ``MAX_CHANNELS``) with its reconstruction drawn over it; with
    ``noisy``, the noisy input too (a denoiser's before and after).

    Parameters
    ----------
    values, reconstruction : array-like of shape (n_timestamps,) or (n_timestamps, n_channels)
        The series and ``TimeSeriesAutoencoder.reconstruct(X)`` (or ``denoise``).
    index, channels : optional
        As in ``plot_series_scores``.
    noisy : array-like, optional
        The corrupted series a denoiser was given.

    Returns
    -------
    fig : Figure

    Examples
    --------
    >>> import numpy as np
    >>> from aekit.plots import plot_series_reconstruction
    >>> t = np.arange(500)
    >>> values = np.sin(t / 10.0)
    >>> fig = plot_series_reconstruction(values, np.sin(t / 10.0 + 0.05))
    """
    data = _as_channels(values, "values")
    rebuilt = _as_channels(reconstruction, "reconstruction")
    if rebuilt.shape != data.shape:
        raise ValueError(f"reconstruction has shape {rebuilt.shape}; values have {data.shape}")
    t = _time_axis(index, len(data))
    names = feature_names_or_default(channels, data.shape[1])
    shown = min(MAX_CHANNELS, data.shape[1])
    fig = new_figure(10, 1.6 * shown + 0.6)
    axes = np.atleast_1d(fig.subplots(shown, 1, sharex=True, squeeze=False)[:, 0])
    noise = None if noisy is None else _as_channels(noisy, "noisy")
    for k, ax in enumerate(axes):
        if noise is not None:
            ax.plot(t, noise[:, k], color=DATA_COLOR, lw=0.5, label="noisy input")
        ax.plot(
            t, data[:, k], color=NORMAL_COLOR, lw=0.8, label="data" if noise is None else "clean"
        )
        ax.plot(
            t,
            rebuilt[:, k],
            color=ANOMALY_COLOR,
            lw=0.8,
            label="reconstruction" if noise is None else "denoised",
        )
        ax.set_ylabel(names[k], fontsize="small")
    axes[0].legend(loc="upper left", fontsize="x-small", ncols=3)
    axes[0].set_title("Data and reconstruction" if noise is None else "Denoising: before and after")
    return fig
