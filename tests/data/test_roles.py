"""Column roles: identifiers, free text and date-times recognised at fit, saved, and used
the same way when scoring; ``categorical=`` and ``ignore=`` override every choice."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from aekit.data.calendar import CalendarColumn, choose_features, decode, encode
from aekit.data.roles import column_role, is_key_name
from aekit.data.tables import TablePreprocessor, is_table
from aekit.exceptions import InputError

N = 400


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 30 * 86400, N), unit="s")
    return pd.DataFrame(
        {
            "order_id": [f"A{i:05d}" for i in rng.permutation(N)],
            "row": np.arange(N),
            "customerId": rng.integers(0, 80, N),
            "store_id": rng.integers(0, 5, N),
            "when": when.strftime("%d/%m/%Y %H:%M"),
            "paid_at": when.tz_localize("Europe/Oslo"),
            "amount": rng.lognormal(3, 1, N).round(2),
            "cents": rng.permutation(N) * 7 + 3,  # all distinct, but a measurement
            "city": rng.choice(["oslo", "rome", "paris"], N),
            "comment": [f"the parcel number {i} arrived two days late and wet" for i in range(N)],
        }
    )


def fit_quietly(frame: pd.DataFrame, **options: list[str]) -> TablePreprocessor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return TablePreprocessor(**options).fit(frame)


def test_each_column_gets_its_role(orders: pd.DataFrame) -> None:
    with pytest.warns(UserWarning) as caught:
        prep = TablePreprocessor().fit(orders)
    roles = {n: r.role for n, r in prep.roles_.items()}
    assert roles == {
        "order_id": "identifier",
        "row": "identifier",
        "customerId": "identifier",
        "store_id": "numeric",  # a key with 5 values: kept (name it in categorical= as such)
        "when": "datetime",
        "paid_at": "datetime",
        "amount": "numeric",
        "cents": "numeric",
        "city": "categorical",
        "comment": "text",
    }
    messages = " ".join(str(w.message) for w in caught)
    assert "leaving out identifier columns: 'order_id' (a distinct value in 100% of rows)" in (
        messages
    )
    assert "'row' (counts rows" in messages and "'customerId' (named like a key" in messages
    assert "leaving out free-text columns: 'comment'" in messages
    assert prep.identifiers_ == ["order_id", "row", "customerId"]
    assert prep.roles_["when"].date_format == "%d/%m/%Y %H:%M"
    assert prep.columns_ == ["store_id", "when", "paid_at", "amount", "cents", "city"]
    described = prep.describe_columns()
    assert described["when"].startswith("datetime (4 inputs: text dates (%d/%m/%Y %H:%M)")
    assert described["comment"].startswith("text, left out: free text")
    assert list(described) == list(orders.columns)  # every column, in the table's order
    table = prep.roles_table().splitlines()
    assert table[0].split() == ["column", "role", "inputs", "how"] and len(table) == 11


def test_key_names() -> None:
    for name in ("id", "order_id", "Order ID", "customerId", "uuid", "user.key", "row_idx"):
        assert is_key_name(name), name
    for name in ("paid", "valid", "amount", "Idle", "keyboard", "width"):
        assert not is_key_name(name), name


def test_overrides_win_over_every_choice(orders: pd.DataFrame) -> None:
    prep = fit_quietly(orders, categorical=["customerId", "when"], ignore=["paid_at", "comment"])
    assert prep.kinds_["customerId"] == "categorical" and prep.kinds_["when"] == "categorical"
    assert prep.roles_["paid_at"].role == "ignored" and "comment" not in prep.columns_
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing left to warn about
        TablePreprocessor(ignore=["order_id", "row", "customerId", "comment"]).fit(orders)


def test_left_out_columns_may_be_absent_when_scoring(orders: pd.DataFrame) -> None:
    prep = fit_quietly(orders)
    full = prep.transform(orders)
    slim = orders.drop(columns=["order_id", "row", "customerId", "comment"])
    np.testing.assert_array_equal(prep.transform(slim), full)
    with pytest.raises(InputError, match="missing columns 'when'"):
        prep.transform(orders.drop(columns=["when"]))


def test_state_round_trips_bit_for_bit(orders: pd.DataFrame) -> None:
    prep = fit_quietly(orders)
    state, arrays = prep.to_state()
    assert state["version"] == 4 and state["calendar"] == [["hour", "weekday"]] * 2
    back = TablePreprocessor.from_state(state, arrays)
    np.testing.assert_array_equal(back.transform(orders), prep.transform(orders))
    assert back.roles_ == prep.roles_ and back.describe_columns() == prep.describe_columns()


def test_calendar_inputs_place_each_time_on_its_circles() -> None:
    stamps = pd.to_datetime(["2024-01-01 03:00", "2024-01-06 15:00", None]).to_numpy()
    column = CalendarColumn(("hour", "weekday"))
    pairs = encode(stamps, column)
    np.testing.assert_allclose(pairs[0], [np.sin(np.pi / 4), np.cos(np.pi / 4), 0, 1], atol=1e-12)
    sat = 2 * np.pi * 5 / 7  # 2024-01-06 was a Saturday (Monday = 0)
    np.testing.assert_allclose(pairs[1], [np.sin(5 * np.pi / 4), np.cos(5 * np.pi / 4),
                                          np.sin(sat), np.cos(sat)], atol=1e-12)  # fmt: skip
    np.testing.assert_array_equal(pairs[2], 0.0)  # a gap: the centre of every circle
    decoded = decode(pairs[:2], column)
    np.testing.assert_allclose(decoded["hour"], [3, 15], atol=1e-9)
    np.testing.assert_allclose(decoded["weekday"], [0, 5], atol=1e-9)


def test_features_need_the_span_of_their_cycle() -> None:
    def span(start: str, periods: int, freq: str) -> np.ndarray:
        return pd.date_range(start, periods=periods, freq=freq).to_numpy()

    assert choose_features(span("2024-01-01 10:00", 20, "min")) == ()  # minutes
    assert choose_features(span("2024-01-01", 30, "h")) == ("hour",)  # a day and more
    assert choose_features(span("2024-01-01", 10, "D")) == ("weekday",)  # dates only
    assert choose_features(span("2024-01-01 01:30", 500, "D")) == ("weekday", "day_of_year")
    assert choose_features(span("2024-01-01", 24 * 400, "h")) == (
        "hour",
        "weekday",
        "day_of_year",
    )


def test_a_short_date_time_column_is_left_out_with_its_reason() -> None:
    frame = pd.DataFrame(
        {
            "t": pd.date_range("2020-03-01 15:44", periods=60, freq="s").strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "x": np.arange(60) * 0.5,
        }
    )
    prep = TablePreprocessor().fit(frame)
    assert prep.columns_ == ["x"]
    assert prep.describe_columns()["t"] == (
        "datetime, left out: text dates (%Y-%m-%d %H:%M:%S); spans 59 seconds, less than the "
        "day a calendar feature needs"
    )


def test_an_unparseable_date_when_scoring_names_the_column(orders: pd.DataFrame) -> None:
    prep = fit_quietly(orders)
    bad = orders.copy()
    bad.loc[3, "when"] = "yesterday"
    with pytest.raises(
        InputError, match=r"column 'when' was dates \(%d/%m/%Y %H:%M\) in fit .* 'yesterday' \(rows"
    ):
        prep.transform(bad)
    gap = orders.copy()
    gap.loc[3, "when"] = None
    assert np.isfinite(prep.transform(gap)).all()
    ancient = orders.copy()  # found by the fuzzing campaign: OutOfBoundsDatetime
    ancient.loc[3, "when"] = "05/02/0001 10:00"
    with pytest.raises(InputError, match=r"column 'when' was dates .* '05/02/0001 10:00'"):
        prep.transform(ancient)


def test_roles_of_single_columns() -> None:
    def role(values: object, name: str = "x") -> str:
        return column_role(pd.Series(values), name).role

    assert role(np.arange(100) * 3 + 7) == "identifier"  # a row counter with a step
    assert role(np.arange(10)) == "numeric"  # too few rows to call it a counter
    assert role(np.random.default_rng(0).permutation(100)) == "numeric"
    assert role([True, False, None] * 30) == "boolean"
    assert role(["2024-01-01", "2024-02-03", None] * 30) == "datetime"
    assert role(["1.5", "2.5", "x"] * 30) == "categorical"
    assert role([f"k{i}" for i in range(100)]) == "identifier"
    assert role([f"k{i}" for i in range(30)]) == "categorical"  # too few rows to tell
    assert role(pd.Series(["a", "b"] * 30, dtype="category")) == "categorical"
    assert role(pd.to_timedelta(np.arange(5), unit="s")) == "unsupported"


def test_an_integer_identifier_sends_a_numeric_frame_through_the_table_path() -> None:
    rng = np.random.default_rng(0)
    plain = pd.DataFrame({"a": rng.random(80), "b": rng.integers(0, 9, 80)})
    assert not is_table(plain)
    assert is_table(plain.assign(order_id=np.arange(80) + 5000))
    assert is_table(plain.assign(when=pd.date_range("2024-01-01", periods=80, freq="h")))
