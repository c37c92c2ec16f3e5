"""What the series estimators share: reading a series, checking it against the channels
they were fitted on, the window, and per-channel scaling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.utils.validation import check_is_fitted

from aekit.data.scaling import Scaler
from aekit.data.series import SeriesData, fill_gaps, read_series
from aekit.data.windows import auto_window, sliding
from aekit.exceptions import InputError


class SeriesInputs:
    """A mixin for estimators that declare ``window``, ``time_column`` and ``ignore``; it
    sets ``window_``, ``channels_``, ``n_features_in_`` (``feature_names_in_`` for named
    channels) and ``scaler_``."""

    window: int | str
    time_column: str | None
    ignore: list[str] | None
    window_: int
    channels_: list[str]
    n_features_in_: int
    scaler_: Scaler

    def _series(self, X: Any) -> SeriesData:
        return read_series(X, time_column=self.time_column, ignore=self.ignore)

    def series_of(self, X: Any) -> SeriesData:
        """``X`` read as this model reads it: its values (NaN where missing), channel
        names and time labels (``aekit.data.series.SeriesData``)."""
        return self._series(X)

    def _window_for(self, series: SeriesData) -> int:
        """``window`` resolved for this series; a series shorter than it is refused."""
        n = series.n_timestamps
        window = auto_window(series.values) if self.window == "auto" else int(self.window)
        if n < window + 1:
            raise InputError(
                f"X has {n} timestamps; window={window} needs more than one window of them "
                f"(give a longer series or a smaller window)"
            )
        return window

    def _fit_inputs(
        self, series: SeriesData, window: int, training: NDArray[np.float64]
    ) -> NDArray[np.float32]:
        """Take the series' channels and ``window``, fit the scaling on the ``training``
        rows; return the whole series scaled, its gaps filled."""
        self.window_ = window
        self.channels_ = series.channels
        self.n_features_in_ = series.n_channels
        if series.named:
            self.feature_names_in_ = np.asarray(series.channels, dtype=object)
        self.scaler_ = _channel_scaler(training)
        return fill_gaps(self.scaler_.transform(series.values.astype(np.float32)))

    def _read(self, X: Any) -> NDArray[np.float32]:
        """``X`` read, checked against the fitted channels, scaled (gaps not yet filled)."""
        check_is_fitted(self, "scaler_")
        series = self._series(X)
        values = series.values
        if series.named and hasattr(self, "feature_names_in_"):
            missing = [c for c in self.channels_ if c not in series.channels]
            if missing:
                raise InputError(
                    f"X lacks the channel(s) {', '.join(map(repr, missing))} the estimator "
                    f"was fitted on"
                )
            values = values[:, [series.channels.index(c) for c in self.channels_]]
        elif series.n_channels != self.n_features_in_:
            raise InputError(
                f"X has {series.n_channels} channel(s); the model was fitted on "
                f"{self.n_features_in_}"
            )
        return self.scaler_.transform(values.astype(np.float32))

    def _network_kind(self) -> str:
        """The kind of the fitted network(s)."""
        raise NotImplementedError

    def network_inputs(self, X: Any) -> NDArray[np.float32]:
        """Every window of ``X`` (stride 1) as the network sees it: scaled per channel, gaps
        filled; flattened timestamp-major, ``(n_timestamps - window + 1, window *
        n_channels)``, or ``(n_windows, window, n_channels)`` for a sequence kind (a copy
        ``window`` times the series' size)."""
        return network_rows(self._window_view(X), self._network_kind())

    def _inputs_to_file(self) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
        """The fitted window, channels and scaling as model-file JSON state and arrays."""
        state = {
            "window_": int(self.window_),
            "channels_": list(self.channels_),
            "named": hasattr(self, "feature_names_in_"),
        }
        return state, {"scaler.offset": self.scaler_.offset, "scaler.scale": self.scaler_.scale}

    def _inputs_from_file(
        self, state: dict[str, Any], arrays: dict[str, NDArray[Any]], network_inputs: int
    ) -> None:
        """Restore ``_inputs_to_file``'s state; the network must take ``network_inputs``
        values per window (``ModelFileError`` otherwise, as for a forged file)."""
        from aekit.exceptions import ModelFileError

        self.window_ = int(state["window_"])
        self.channels_ = [str(c) for c in state["channels_"]]
        self.n_features_in_ = len(self.channels_)
        if state["named"]:
            self.feature_names_in_ = np.asarray(self.channels_, dtype=object)
        if network_inputs != self.window_ * self.n_features_in_:
            raise ModelFileError(
                f"its network takes {network_inputs} values, not window {self.window_} x "
                f"{self.n_features_in_} channels"
            )
        self.scaler_ = Scaler("standard", arrays["scaler.offset"], arrays["scaler.scale"])
        if self.scaler_.offset.shape != (self.n_features_in_,):
            raise ModelFileError(f"its scaling has shape {self.scaler_.offset.shape}")

    def _window_view(self, X: Any) -> NDArray[np.float32]:
        """Every window of ``X``, scaled and filled, ``(n_windows, window, channels)``: a view."""
        x = fill_gaps(self._read(X))
        if len(x) < self.window_:
            raise InputError(
                f"X has {len(x)} timestamps, fewer than a window ({self.window_}); give at "
                f"least one window"
            )
        return sliding(x, self.window_)


WINDOW_VALUES_PER_BATCH = 1 << 21  # window values given to a network at once: bounded memory


def network_batches(windows: NDArray[np.float32], kind: str) -> Iterator[NDArray[np.float32]]:
    """``windows`` ``(n, window, channels)`` as ``network_rows``, in batches of at most
    ``WINDOW_VALUES_PER_BATCH`` values, in order."""
    n, w, c = windows.shape
    batch = max(1, WINDOW_VALUES_PER_BATCH // (w * c))
    for lo in range(0, n, batch):
        yield network_rows(windows[lo : lo + batch], kind)


def network_rows(windows: NDArray[np.float32], kind: str) -> NDArray[np.float32]:
    """Windows ``(n, window, channels)`` as a network of ``kind`` takes them: as they are
    for a sequence kind (``temporal_conv``, ``recurrent``), else flattened timestamp-major."""
    from aekit.models import model_class

    rows = np.ascontiguousarray(windows)
    return rows if model_class(kind).takes_sequences else rows.reshape(len(rows), -1)


def _channel_scaler(values: NDArray[np.float64]) -> Scaler:
    """Standardisation per channel, fitted on the rows' present values."""
    filled = np.where(np.isnan(values), np.nanmean(values, axis=0), values)
    return Scaler.fit(filled.astype(np.float32), "standard")
