"""Series as the time-series estimators take them: values, channel names and time labels.

``read_series`` accepts a 1-D array (one channel), an ``(n_timestamps, n_channels)`` array,
a pandas Series, or a DataFrame whose rows are timestamps: its index when it is a
``DatetimeIndex``, or the column named by ``time_column``; every other column is a channel
and must be numeric. Rows are taken in the order given, one step each; timestamps, where
there are any, must not go back, but for a clock change (daylight saving: up to an hour
back, or a repeated timestamp), which is a step like any other.
Missing values (NaN, None) are kept here and filled by ``fill_gaps``; infinite values,
text and channels with no value at all are refused, each with an error that names the
column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from aekit.exceptions import InputError

CLOCK_CHANGE = np.timedelta64(1, "h")  # how far timestamps may go back: daylight saving


@dataclass(frozen=True)
class SeriesData:
    """A series read by ``read_series``.

    ``values`` is ``(n_timestamps, n_channels)`` float64 with NaN where a value is missing;
    ``channels`` the channel names (column names, or ``channel_0``... for arrays);
    ``index`` the pandas index to give per-timestamp outputs (None for arrays);
    ``times`` the time labels (the ``DatetimeIndex`` or the time column), None without.
    """

    values: NDArray[np.float64]
    channels: list[str]
    index: Any
    times: Any
    named: bool  # the channels were named by the input (a DataFrame or Series)

    @property
    def n_timestamps(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_channels(self) -> int:
        return int(self.values.shape[1])

    def labels(self, rows: NDArray[np.intp]) -> list[Any]:
        """The time labels of ``rows``: timestamps where there are any, else positions."""
        if self.times is not None:
            return list(self.times[rows])
        if self.index is not None:
            return list(self.index[rows])
        return [int(r) for r in rows]


def read_series(
    X: Any, *, time_column: str | None = None, ignore: list[str] | None = None
) -> SeriesData:
    """``X`` as a ``SeriesData``, leaving out the DataFrame columns in ``ignore``;
    ``InputError`` naming what is wrong with it."""
    if hasattr(X, "columns") and hasattr(X, "index"):
        if ignore:
            X = X.drop(columns=[c for c in ignore if c in X.columns])
        return _read_frame(X, time_column)
    if time_column is not None:
        raise InputError(
            f"time_column={time_column!r} names a DataFrame column, but X is a "
            f"{type(X).__name__}; pass a DataFrame, or leave time_column=None"
        )
    if hasattr(X, "index") and hasattr(X, "name") and hasattr(X, "to_numpy"):  # a Series
        frame = X.to_frame(name=str(X.name) if X.name is not None else "value")
        return _read_frame(frame, None)
    try:
        values = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"X must hold numbers; converting it to float failed: {error}") from None
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise InputError(
            f"X has shape {values.shape}; expected a series: (n_timestamps,) or "
            f"(n_timestamps, n_channels)"
        )
    channels = [f"channel_{k}" for k in range(values.shape[1])]
    _check_values(values, channels)
    return SeriesData(values, channels, None, None, named=False)


def _read_frame(frame: Any, time_column: str | None) -> SeriesData:
    import pandas as pd

    times = None
    if time_column is not None:
        if time_column not in frame.columns:
            shown = ", ".join(map(repr, list(frame.columns)[:10]))
            raise InputError(
                f"time_column={time_column!r} is not a column of X; its columns: {shown}"
            )
        times = _as_times(frame[time_column], time_column)
        frame = frame.drop(columns=[time_column])
    elif isinstance(frame.index, pd.DatetimeIndex):
        times = frame.index
    if times is not None:
        _check_increasing(pd.Index(times))
    columns = [str(c) for c in frame.columns]
    if not columns:
        raise InputError("X has no channel columns (besides the time column)")
    values = np.empty((len(frame), len(columns)), np.float64)
    for k, name in enumerate(frame.columns):
        values[:, k] = _numeric(frame[name], str(name), time_column is None)
    _check_values(values, columns)
    return SeriesData(
        values, columns, frame.index, None if times is None else pd.Index(times), True
    )


def _as_times(column: Any, name: str) -> Any:
    import pandas as pd

    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column):
        return column.to_numpy()
    numbers = pd.to_numeric(column, errors="coerce")  # counters written as text
    if numbers.notna().all():
        return numbers.to_numpy()
    try:
        return pd.to_datetime(column).to_numpy()
    except (ValueError, TypeError) as error:
        raise InputError(
            f"time column {name!r} holds neither numbers nor timestamps: {error}"
        ) from None


def _numeric(column: Any, name: str, suggest_time: bool) -> NDArray[np.float64]:
    """One channel as float64; text, timestamps or categories refused by name."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(column):
        raise InputError(
            f"column {name!r} holds timestamps, not a channel; pass time_column={name!r}"
        )
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return np.asarray(column.to_numpy(dtype=np.float64, na_value=np.nan))
    converted = pd.to_numeric(column, errors="coerce")
    bad = converted.isna() & column.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        example = column.iloc[row]
        hint = f"; if it holds the time, pass time_column={name!r}" if suggest_time else ""
        raise InputError(f"column {name!r} is not numeric: row {row} holds {example!r}{hint}")
    return np.asarray(converted.to_numpy(dtype=np.float64, na_value=np.nan))


def _check_increasing(times: Any) -> None:
    if times.hasnans:
        row = int(np.flatnonzero(np.asarray(times.isna()))[0])
        raise InputError(f"the time label of row {row} is missing")
    if times.is_monotonic_increasing:
        return
    order = np.asarray(times)
    steps = order[1:] - order[:-1]
    dated = np.issubdtype(order.dtype, np.datetime64)  # a clock change may go back an hour
    back = steps < -CLOCK_CHANGE if dated else steps < 0
    if not back.any():
        return
    row = int(np.flatnonzero(back)[0]) + 1
    raise InputError(
        f"timestamps must not go back: row {row} ({order[row]}) comes before row {row - 1} "
        f"({order[row - 1]}); sort the series first"
    )


def _check_values(values: NDArray[np.float64], channels: list[str]) -> None:
    if values.shape[0] == 0:
        raise InputError("X is an empty series: it has no timestamps")
    if values.shape[1] == 0:
        raise InputError("X has no channels")
    infinite = np.isinf(values)
    if infinite.any():
        row, k = (int(i) for i in np.argwhere(infinite)[0])
        raise InputError(f"channel {channels[k]!r} holds an infinite value at row {row}")
    empty = np.isnan(values).all(axis=0)
    if empty.any():
        names = ", ".join(repr(channels[k]) for k in np.flatnonzero(empty))
        raise InputError(f"channel {names} has no values (every row is missing)")


def fill_gaps(
    values: NDArray[np.floating[Any]], last: NDArray[np.floating[Any]] | None = None
) -> NDArray[np.float32]:
    """Missing values filled with the channel's last value before them (causal, so a series
    filled in pieces equals one filled whole); before any value, ``last`` (by default 0:
    the training mean in scaled units). Returns float32."""
    out = np.array(values, dtype=np.float32)
    missing = np.isnan(out)
    if not missing.any():
        return out
    start = np.zeros(out.shape[1], np.float32) if last is None else np.asarray(last, np.float32)
    n = len(out)
    for k in np.flatnonzero(missing.any(axis=0)):
        present = ~missing[:, k]
        # index of the last present value at or before each row (-1: none yet)
        source = np.where(present, np.arange(n), -1)
        np.maximum.accumulate(source, out=source)
        filled = np.where(source >= 0, out[np.maximum(source, 0), k], start[k])
        out[:, k] = filled
    return out
