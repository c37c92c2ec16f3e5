"""Sliding windows over a series, and per-timestamp values from per-window ones.

A window of length ``w`` starting at row ``s`` covers rows ``s .. s + w - 1``. Offline, a
timestamp's value is the mean over every window that covers it; causally, it is read from
the window that ends at it (the series' first row repeated before it where the series is
younger than a window), so it uses no later data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

# window="auto": the dominant period (the strongest autocorrelation peak) between these
# lags; outside them, or with no clear period, DEFAULT_WINDOW
MIN_WINDOW = 8
MAX_WINDOW = 300
DEFAULT_WINDOW = 64
PERIOD_ROWS = 20_000  # rows the period is estimated on (the series' start)
PEAK_CORRELATION = 0.2  # a peak weaker than this is no period


def dominant_period(values: NDArray[np.floating[Any]]) -> int | None:
    """The lag of the strongest autocorrelation peak of any channel, in
    ``[MIN_WINDOW, MAX_WINDOW]``; None where no channel has one of at least
    ``PEAK_CORRELATION`` (as TSB-AD's ``find_length``, over every channel)."""
    x = np.asarray(values, np.float64)[:PERIOD_ROWS]
    best: tuple[float, int] | None = None
    for k in range(x.shape[1]):
        acf = autocorrelation(x[:, k], min(MAX_WINDOW + 1, len(x) // 2))
        if acf is None:
            continue
        inner = acf[1:-1]
        peaks = np.flatnonzero((inner > acf[:-2]) & (inner > acf[2:])) + 1
        peaks = peaks[(peaks >= MIN_WINDOW) & (peaks <= MAX_WINDOW)]
        if len(peaks) == 0:
            continue
        lag = int(peaks[np.argmax(acf[peaks])])
        if acf[lag] >= PEAK_CORRELATION and (best is None or acf[lag] > best[0]):
            best = (float(acf[lag]), lag)
    return None if best is None else best[1]


def autocorrelation(x: NDArray[np.float64], n_lags: int) -> NDArray[np.float64] | None:
    """The autocorrelation of ``x`` (missing values left out) at lags ``0 .. n_lags - 1``,
    by FFT; None for a constant or too short series."""
    x = x[~np.isnan(x)]
    if len(x) < 4 or n_lags < 3:
        return None
    x = x - x.mean()
    power = float(np.dot(x, x))
    if power <= 0:
        return None
    size = 1 << int(2 * len(x) - 1).bit_length()
    spectrum = np.fft.rfft(x, size)
    acf = np.fft.irfft(spectrum * np.conj(spectrum), size)[:n_lags]
    return np.asarray(acf / power, np.float64)


def auto_window(values: NDArray[np.floating[Any]]) -> int:
    """``window="auto"``: the dominant period, else ``DEFAULT_WINDOW``; at most a third of
    the series, so that it holds several windows."""
    period = dominant_period(values)
    window = period if period is not None else DEFAULT_WINDOW
    return max(2, min(window, len(values) // 3))


def sliding(x: NDArray[Any], window: int, stride: int = 1) -> NDArray[Any]:
    """The windows of ``x`` ``(n, channels)`` as ``(n_windows, window, channels)`` (a view)."""
    view = np.lib.stride_tricks.sliding_window_view(x, window, axis=0)  # (n_w, channels, w)
    return np.swapaxes(view, 1, 2)[::stride]


def causal_padding(first_row: NDArray[Any], window: int) -> NDArray[Any]:
    """What goes before a series' first row so that a window ends at every row."""
    return np.repeat(np.asarray(first_row)[None], window - 1, axis=0)


def runs(flags: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """The ``[start, stop)`` rows of each run of True in ``flags``, in order."""
    edges = np.diff(np.concatenate([[0], np.asarray(flags).astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


class CoverMean:
    """Running means over covering windows, fed window by window in order, for a series
    that arrives in pieces: ``add`` the next windows' per-position values, ``take`` the
    timestamps no later window covers.
    """

    def __init__(self, window: int, width: int) -> None:
        self.window = window
        self.sums = np.zeros((0, width), np.float64)  # timestamps still open, from `start`
        self.counts = np.zeros(0, np.int64)
        self.start = 0  # the first open timestamp
        self.next_window = 0  # where the next window starts

    def add(self, values: NDArray[np.float64]) -> None:
        """Windows starting at ``next_window, next_window + 1, ...``: ``values`` is
        ``(n_windows, window, width)``."""
        n_windows, w = len(values), self.window
        end = self.next_window + n_windows + w - 1  # one past the last row they cover
        grow = end - self.start - len(self.sums)
        if grow > 0:
            width = self.sums.shape[1]
            self.sums = np.concatenate([self.sums, np.zeros((grow, width))])
            self.counts = np.concatenate([self.counts, np.zeros(grow, np.int64)])
        first = self.next_window - self.start
        for p in range(w):
            self.sums[first + p : first + p + n_windows] += values[:, p]
            self.counts[first + p : first + p + n_windows] += 1
        self.next_window += n_windows

    def take(self, final: bool = False) -> NDArray[np.float64]:
        """The means of the timestamps no later window covers (every open one if
        ``final``), ``(n, width)``; they are closed."""
        n = len(self.sums) if final else max(0, self.next_window - self.start)
        n = min(n, len(self.sums))
        out = self.sums[:n] / np.maximum(self.counts[:n], 1)[:, None]
        self.sums, self.counts = self.sums[n:], self.counts[n:]
        self.start += n
        return out
