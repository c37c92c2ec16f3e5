"""Reading series, filling their gaps, and windows over them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aekit.data.series import fill_gaps, read_series
from aekit.data.windows import CoverMean, auto_window, dominant_period, sliding
from aekit.exceptions import InputError


def test_arrays_frames_and_series_are_read_with_their_channels_and_times() -> None:
    one = read_series(np.arange(5.0))
    assert one.values.shape == (5, 1) and one.channels == ["channel_0"] and not one.named
    times = pd.date_range("2024-01-01", periods=4, freq="1min")
    frame = pd.DataFrame({"a": [1, 2, 3, 4], "b": [0.5, None, 1.5, 2.0]}, index=times)
    series = read_series(frame)
    assert series.channels == ["a", "b"] and series.named
    assert np.isnan(series.values[1, 1]) and list(series.times) == list(times)
    assert series.labels(np.array([0, 3])) == [times[0], times[3]]
    named = read_series(pd.Series([1.0, 2.0], name="load"))
    assert named.channels == ["load"]
    # clock changes: a repeated timestamp, and daylight saving's hour back (NAB has both)
    repeated = pd.to_datetime(["2024-03-31 02:00", "2024-03-31 02:00", "2024-03-31 03:00"])
    assert read_series(pd.DataFrame({"a": [1.0, 2.0, 3.0]}, index=repeated)).n_timestamps == 3
    back = pd.to_datetime(["2024-10-27 02:55", "2024-10-27 02:00", "2024-10-27 02:05"])
    assert read_series(pd.DataFrame({"a": [1.0, 2.0, 3.0]}, index=back)).n_timestamps == 3


def test_a_time_column_labels_the_rows_and_is_not_a_channel(skab_experiment) -> None:
    frame, _ = skab_experiment
    text = frame.reset_index().astype({"datetime": str})  # as a CSV gives it
    series = read_series(text, time_column="datetime")
    assert series.channels == list(frame.columns)
    assert series.labels(np.array([0]))[0] == frame.index[0]
    with pytest.raises(InputError, match=r"column 'datetime' is not numeric: row 0 .*time_column"):
        read_series(text)
    counter = read_series(pd.DataFrame({"t": ["1", "2"], "a": [1.0, 2.0]}), time_column="t")
    assert list(counter.times) == [1, 2]  # a counter written as text


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"a": [1.0, "x", 3.0]}), r"column 'a' is not numeric: row 1 holds 'x'"),
        (pd.DataFrame({"a": [1.0, np.inf]}), r"channel 'a' holds an infinite value at row 1"),
        (pd.DataFrame({"a": [1.0, 2.0], "b": [np.nan, np.nan]}), r"channel 'b' has no values"),
        (pd.DataFrame({"a": []}, dtype=float), "empty series"),
        (
            pd.DataFrame(
                {"a": [1.0, 2.0]}, index=pd.to_datetime(["2024-01-02 00:00", "2024-01-01 22:00"])
            ),
            r"timestamps must not go back: row 1 .* comes before row 0",
        ),
        (
            pd.DataFrame({"t": pd.to_datetime(["2024-01-01", "2024-01-02"]), "a": [1.0, 2.0]}),
            r"column 't' holds timestamps, not a channel; pass time_column='t'",
        ),
    ],
)
def test_bad_series_are_refused_by_name(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_series(frame)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(InputError, match=r"time_column='t' is not a column of X; its columns: 'a'"):
        read_series(pd.DataFrame({"a": [1.0]}), time_column="t")
    with pytest.raises(InputError, match="names a DataFrame column, but X is a ndarray"):
        read_series(np.zeros(3), time_column="t")
    with pytest.raises(InputError, match=r"shape \(2, 2, 2\); expected a series"):
        read_series(np.zeros((2, 2, 2)))


def test_gaps_take_the_last_value_and_filling_in_pieces_equals_filling_whole() -> None:
    x = np.array([[np.nan, 1.0], [2.0, np.nan], [np.nan, np.nan], [4.0, 5.0], [np.nan, 6.0]])
    filled = fill_gaps(x)
    np.testing.assert_array_equal(filled, [[0, 1], [2, 1], [2, 1], [4, 5], [4, 6]])
    first = fill_gaps(x[:2])
    np.testing.assert_array_equal(np.concatenate([first, fill_gaps(x[2:], first[-1])]), filled)
    assert fill_gaps(x[:1], np.array([7.0, 7.0]))[0, 0] == 7.0


def test_windows_and_their_means_over_covering_windows() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 2))
    windows = sliding(x, 5)
    assert windows.shape == (26, 5, 2)
    np.testing.assert_array_equal(windows[3], x[3:8])
    assert sliding(x, 5, stride=4).shape == (7, 5, 2)
    values = rng.normal(size=(26, 5, 3))
    expected = np.zeros((30, 3))
    counts = np.zeros(30)
    for s in range(26):
        expected[s : s + 5] += values[s]
        counts[s : s + 5] += 1
    expected /= counts[:, None]
    whole = CoverMean(5, 3)
    whole.add(values)
    np.testing.assert_allclose(np.concatenate([whole.take(), whole.take(final=True)]), expected)
    pieces, out = CoverMean(5, 3), []
    for lo in range(0, 26, 7):  # windows arrive a few at a time
        pieces.add(values[lo : lo + 7])
        out.append(pieces.take())
    out.append(pieces.take(final=True))
    np.testing.assert_allclose(np.concatenate(out), expected, rtol=1e-12)


def test_the_automatic_window_is_the_dominant_period(timeseries_dir: Path) -> None:
    t = np.arange(2000)
    rng = np.random.default_rng(0)
    sine = np.sin(2 * np.pi * t / 50) + 0.1 * rng.normal(size=len(t))
    assert dominant_period(sine[:, None]) == 50
    assert auto_window(rng.normal(size=(2000, 2))) == 64  # no period: the default
    assert auto_window(sine[:90, None]) == 30  # at most a third of the series
    daily = pd.read_csv(
        timeseries_dir / "nab" / "artificialNoAnomaly" / "art_daily_small_noise.csv"
    )
    assert auto_window(daily[["value"]].to_numpy()) == 288  # a day of 5-minute steps
