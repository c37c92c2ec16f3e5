"""TablePreprocessor: mixed columns to float32 rows and back, saved state, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from aekit.data.tables import MISSING, OTHER, TablePreprocessor, is_table
from aekit.exceptions import InputError


def mixed_table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Numbers (one with a huge variance), 3 and 50 levels, booleans, gaps in each kind."""
    rng = np.random.default_rng(seed)
    weights = np.r_[np.full(10, 0.06), np.full(40, 0.4 / 40)]
    frame = pd.DataFrame(
        {
            "amount": rng.normal(100.0, 10.0, n),
            "volume": rng.normal(0.0, 1e6, n),
            "city": rng.choice(["paris", "oslo", "rome"], n),
            "shop": rng.choice([f"s{i:02d}" for i in range(50)], n, p=weights),
            "online": rng.random(n) > 0.5,
            "fraud_ring": rng.random(n) > 0.7,
        }
    )
    frame.loc[::17, "amount"] = np.nan
    frame.loc[::19, "city"] = None
    frame.loc[::29, "shop"] = None
    frame["fraud_ring"] = frame["fraud_ring"].astype(object)
    frame.loc[::23, "fraud_ring"] = None
    return frame


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return mixed_table()


@pytest.fixture(scope="module")
def fitted(table: pd.DataFrame) -> TablePreprocessor:
    return TablePreprocessor().fit(table)


def test_is_table_only_for_frames_that_need_it(table: pd.DataFrame) -> None:
    assert is_table(table)
    assert is_table(pd.DataFrame({"a": [1.0, np.nan]}))
    assert not is_table(pd.DataFrame({"a": [1.0, 2.0], "b": [1, 2]}))
    assert not is_table(np.zeros((2, 2)))


def test_kinds_shapes_and_groups(fitted: TablePreprocessor, table: pd.DataFrame) -> None:
    assert fitted.kinds_ == {
        "amount": "numeric",
        "volume": "numeric",
        "city": "categorical",
        "shop": "categorical",
        "online": "boolean",
        "fraud_ring": "boolean",
    }
    X = fitted.transform(table)
    assert X.dtype == np.float32 and X.shape == (len(table), fitted.n_features_out_)
    sizes = {name: len(indices) for name, indices in fitted.feature_groups.items()}
    # value + missing indicator; 3 levels + <missing>; 19 top levels + other; 0/1 (+ indicator)
    assert sizes == {"amount": 2, "volume": 1, "city": 4, "shop": 20, "online": 1, "fraud_ring": 2}
    every = sorted(i for indices in fitted.feature_groups.values() for i in indices)
    assert every == list(range(fitted.n_features_out_))
    # each categorical group is one-hot; the indicators mark exactly the gaps
    for name in ("city", "shop"):
        np.testing.assert_array_equal(X[:, fitted.feature_groups[name]].sum(axis=1), 1.0)
    amount_gap = [i for i in fitted.feature_groups["amount"] if set(np.unique(X[:, i])) <= {0, 1}]
    np.testing.assert_array_equal(X[:, amount_gap[0]], table["amount"].isna().to_numpy())
    assert fitted.group_matrix().sum(axis=0).tolist() == [2, 1, 4, 20, 1, 2]


def test_scaling_is_robust_to_an_outlier(table: pd.DataFrame) -> None:
    spiked = table.copy()
    spiked.loc[5, "volume"] = 1e12
    prep = TablePreprocessor().fit(spiked)
    column = prep.transform(spiked)[:, prep.feature_groups["volume"][0]]
    bulk = np.delete(column, 5)
    assert abs(np.median(bulk)) < 0.1  # centred on the median
    assert 0.8 < np.std(bulk) < 1.25  # unit variance for normal data despite the spike
    assert column[5] > 1e5


def test_constant_and_zero_iqr_columns_get_finite_scales() -> None:
    frame = pd.DataFrame({"const": np.full(100, 7.0), "spiky": np.r_[np.zeros(95), np.ones(5)]})
    prep = TablePreprocessor().fit(frame)
    X = prep.transform(frame)
    assert np.isfinite(X).all()
    np.testing.assert_array_equal(X[:, 0], 0.0)
    assert X[:, 1].max() == pytest.approx((1 - 0) / np.std(frame["spiky"]), rel=1e-6)


def test_unseen_and_rare_levels_go_to_the_other_bucket(
    fitted: TablePreprocessor, table: pd.DataFrame
) -> None:
    rows = table.head(3).copy()
    rows.loc[0, "shop"] = "never-seen"
    rows.loc[1, "city"] = "tokyo"
    X = fitted.transform(rows)
    shop = X[:, fitted.feature_groups["shop"]]
    assert shop[0, -1] == 1.0 and shop[0].sum() == 1.0  # the shared "other" input
    assert X[1, fitted.feature_groups["city"]].sum() == 0.0  # 3 levels: no bucket, all zeros
    back = fitted.inverse_transform(X)
    assert back.loc[0, "shop"] == OTHER


def test_inverse_round_trip(fitted: TablePreprocessor, table: pd.DataFrame) -> None:
    back = fitted.inverse_transform(fitted.transform(table))
    assert list(back.columns) == list(table.columns)
    for name in ("amount", "volume"):
        np.testing.assert_allclose(back[name], table[name], rtol=1e-5, equal_nan=True)
    assert back["amount"].isna().sum() == table["amount"].isna().sum()
    assert back["city"].isna().equals(table["city"].isna())
    assert (back["city"].dropna() == table["city"].dropna()).all()
    encoder = fitted.transformer_.named_transformers_["categorical"]
    rare = {str(v) for v in encoder.infrequent_categories_[1]}
    top = table["shop"].notna() & ~table["shop"].isin(rare)
    assert (back.loc[top, "shop"] == table.loc[top, "shop"]).all()
    assert (back.loc[table["shop"].isin(rare), "shop"] == OTHER).all()
    assert back["online"].dtype == bool and back["online"].equals(table["online"])
    assert back["fraud_ring"].isna().equals(table["fraud_ring"].isna())
    present = table["fraud_ring"].notna()
    assert (back.loc[present, "fraud_ring"] == table.loc[present, "fraud_ring"]).all()


def test_state_round_trip_gives_identical_outputs(
    fitted: TablePreprocessor, table: pd.DataFrame
) -> None:
    state, arrays = fitted.to_state()
    state = json.loads(json.dumps(state))  # what a model file holds
    assert all(a.dtype == np.float64 for a in arrays.values())
    rebuilt = TablePreprocessor.from_state(state, {k: v.copy() for k, v in arrays.items()})
    unseen = table.copy()
    unseen.loc[:5, "shop"] = "new"
    for frame in (table, unseen):
        np.testing.assert_array_equal(rebuilt.transform(frame), fitted.transform(frame))
    assert rebuilt.feature_groups == fitted.feature_groups
    X = fitted.transform(table)
    pd.testing.assert_frame_equal(rebuilt.inverse_transform(X), fitted.inverse_transform(X))


def test_categorical_and_ignore_overrides(table: pd.DataFrame) -> None:
    frame = table.assign(store_id=np.arange(len(table)) % 4, note="x")
    prep = TablePreprocessor(categorical=["store_id"], ignore=["note", "volume"]).fit(frame)
    assert prep.kinds_["store_id"] == "categorical"
    assert "note" not in prep.columns_ and "volume" not in prep.columns_
    assert len(prep.feature_groups["store_id"]) == 4
    back = prep.inverse_transform(prep.transform(frame))
    assert back["store_id"].dtype == np.int64
    np.testing.assert_array_equal(back["store_id"], frame["store_id"])
    prep.transform(frame.drop(columns=["note", "volume"]))  # ignored columns may be absent


def test_unknown_override_names_are_input_errors(table: pd.DataFrame) -> None:
    with pytest.raises(InputError, match=r"categorical= names columns 'nope'"):
        TablePreprocessor(categorical=["nope"]).fit(table)
    with pytest.raises(InputError, match=r"ignore= names columns 'gone'"):
        TablePreprocessor(ignore=["gone"]).fit(table)


def test_missing_and_extra_columns_are_listed(
    fitted: TablePreprocessor, table: pd.DataFrame
) -> None:
    wrong = table.drop(columns=["city", "amount"]).assign(surprise=1.0)
    with pytest.raises(InputError) as info:
        fitted.transform(wrong)
    message = str(info.value)
    assert "missing columns 'amount', 'city'" in message
    assert "unexpected columns 'surprise'" in message


def test_non_numeric_value_in_a_numeric_column(
    fitted: TablePreprocessor, table: pd.DataFrame
) -> None:
    bad = table.head(4).astype({"amount": object})
    bad.loc[2, "amount"] = "12,5 EUR"
    with pytest.raises(
        InputError, match=r"column 'amount' was numeric .* '12,5 EUR' \(rows \[2\]\)"
    ):
        fitted.transform(bad)


def test_all_empty_training_column_is_dropped_with_a_warning(table: pd.DataFrame) -> None:
    frame = table.assign(empty=np.nan)
    with pytest.warns(UserWarning, match="without any value: 'empty'"):
        prep = TablePreprocessor().fit(frame)
    assert "empty" not in prep.columns_ and prep.dropped_ == ["empty"]
    np.testing.assert_array_equal(prep.transform(frame), prep.transform(table))
    with pytest.warns(UserWarning), pytest.raises(InputError, match="no usable columns"):
        TablePreprocessor().fit(pd.DataFrame({"a": [np.nan, np.nan]}))


def test_unsupported_types_and_empty_frames() -> None:
    dates = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=3), "x": [1.0, 2, 3]})
    with pytest.raises(InputError, match=r"unsupported types: 'when'"):
        TablePreprocessor().fit(dates)
    TablePreprocessor(ignore=["when"]).fit(dates)
    with pytest.raises(InputError, match="0 samples"):
        TablePreprocessor().fit(dates.iloc[:0])


def test_a_gap_level_is_its_own_category(fitted: TablePreprocessor) -> None:
    levels = fitted.to_state()[0]["levels"]
    assert MISSING in levels[0] and MISSING in levels[1]
