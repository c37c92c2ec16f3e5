"""TablePreprocessor: mixed columns to float32 rows and back, saved state, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.utils import murmurhash3_32

from aekit.data.levels import bucket_of
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
    # value + missing indicator; 3 levels + <missing> + <unseen>;
    # 51 levels: 19 kept + 8 hash buckets + <unseen>; 0/1 (+ indicator)
    assert sizes == {"amount": 2, "volume": 1, "city": 5, "shop": 28, "online": 1, "fraud_ring": 2}
    every = sorted(i for indices in fitted.feature_groups.values() for i in indices)
    assert every == list(range(fitted.n_features_out_))
    # each categorical group is one-hot; the indicators mark exactly the gaps
    for name in ("city", "shop"):
        np.testing.assert_array_equal(X[:, fitted.feature_groups[name]].sum(axis=1), 1.0)
    amount_gap = [i for i in fitted.feature_groups["amount"] if set(np.unique(X[:, i])) <= {0, 1}]
    np.testing.assert_array_equal(X[:, amount_gap[0]], table["amount"].isna().to_numpy())
    assert fitted.group_matrix().sum(axis=0).tolist() == [2, 1, 5, 28, 1, 2]


@pytest.mark.parametrize("index", [np.arange(100, 700), np.full(600, 5)])
def test_rows_are_taken_by_position_whatever_the_index(
    table: pd.DataFrame, index: np.ndarray
) -> None:
    # found by the fuzzing campaign: dates were aligned on the index, so a shifted index
    # gave NaT (imputed) dates silently, a duplicated one a pandas reindex error
    dated = table.assign(when=pd.date_range("2024-01-01", periods=len(table), freq="7h"))
    fitted = TablePreprocessor().fit(dated)
    relabelled = dated.set_axis(index)
    np.testing.assert_array_equal(fitted.transform(relabelled), fitted.transform(dated))
    refitted = TablePreprocessor().fit(relabelled)
    np.testing.assert_array_equal(refitted.transform(relabelled), fitted.transform(dated))


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


def test_unseen_levels_go_to_the_unseen_input(
    fitted: TablePreprocessor, table: pd.DataFrame
) -> None:
    rows = table.head(3).copy()
    rows.loc[0, "shop"] = "never-seen"
    rows.loc[1, "city"] = "tokyo"
    X = fitted.transform(rows)
    shop, city = X[:, fitted.feature_groups["shop"]], X[:, fitted.feature_groups["city"]]
    assert shop[0, -1] == 1.0 and shop[0].sum() == 1.0  # the unseen input, last
    assert city[1, -1] == 1.0 and city[1].sum() == 1.0  # few levels have one too
    assert shop[1:, -1].sum() == 0.0 and city[[0, 2], -1].sum() == 0.0
    back = fitted.inverse_transform(X)
    assert back.loc[0, "shop"] == OTHER and back.loc[1, "city"] == OTHER


def test_inverse_round_trip(fitted: TablePreprocessor, table: pd.DataFrame) -> None:
    back = fitted.inverse_transform(fitted.transform(table))
    assert list(back.columns) == list(table.columns)
    for name in ("amount", "volume"):
        np.testing.assert_allclose(back[name], table[name], rtol=1e-5, equal_nan=True)
    assert back["amount"].isna().sum() == table["amount"].isna().sum()
    assert back["city"].isna().equals(table["city"].isna())
    assert (back["city"].dropna() == table["city"].dropna()).all()
    shop = fitted.transformer_.named_transformers_["categorical"].columns_[1]
    rare = table["shop"].notna() & ~table["shop"].isin(shop.kept)
    assert rare.sum() > 50
    top = table["shop"].notna() & ~rare
    assert (back.loc[top, "shop"] == table.loc[top, "shop"]).all()
    # a rare level comes back as its hash bucket's most frequent training level
    expected = [shop.buckets[bucket_of(v, 8)] for v in table.loc[rare, "shop"]]
    assert back.loc[rare, "shop"].tolist() == expected
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
    assert len(prep.feature_groups["store_id"]) == 5  # 4 codes + <unseen>
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
    waits = pd.DataFrame({"wait": pd.to_timedelta([1, 2, 3], unit="s"), "x": [1.0, 2, 3]})
    with pytest.raises(InputError, match=r"unsupported types: 'wait'"):
        TablePreprocessor().fit(waits)
    TablePreprocessor(ignore=["wait"]).fit(waits)
    with pytest.raises(InputError, match="0 samples"):
        TablePreprocessor().fit(waits.iloc[:0])


def test_a_gap_level_is_its_own_category(fitted: TablePreprocessor) -> None:
    city, shop = fitted.to_state()[0]["categories"]
    assert MISSING in city["kept"] and MISSING in shop["levels"]


# --- many levels: kept, hashed, unseen -----------------------------------------------


def zipf_table(n: int = 3000, n_levels: int = 300, seed: int = 0) -> pd.DataFrame:
    """A 300-level column with Zipf-like frequencies (level k drawn with weight 1/k)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_levels + 1)
    levels = [f"L{k:03d}" for k in range(n_levels)]
    # every level at least once, so all 300 are seen in fit
    drawn = rng.choice(levels, n - n_levels, p=weights / weights.sum())
    return pd.DataFrame({"x": rng.normal(size=n), "item": [*levels, *drawn]})


@pytest.fixture(scope="module")
def zipf() -> pd.DataFrame:
    return zipf_table()


def test_many_levels_keep_the_top_hash_the_rest_and_flag_unseen(zipf: pd.DataFrame) -> None:
    prep = TablePreprocessor().fit(zipf)
    group = prep.feature_groups["item"]
    assert len(group) == 19 + 8 + 1
    counts = zipf["item"].value_counts()
    ranked = sorted(counts.index, key=lambda v: (-counts[v], v))
    kept, rare = sorted(ranked[:19]), ranked[19:]
    column = prep.transformer_.named_transformers_["categorical"].columns_[0]
    assert list(column.kept) == kept and len(column.levels) == 300
    rows = pd.DataFrame({"x": [0.0] * 3, "item": [kept[3], rare[-1], "L999"]})
    X = prep.transform(rows)[:, group]
    np.testing.assert_array_equal(X.sum(axis=1), 1.0)
    assert X[0, 3] == 1.0  # a kept level: its own input
    expected_bucket = murmurhash3_32(rare[-1], seed=0, positive=True) % 8
    assert X[1, 19 + expected_bucket] == 1.0  # a rare seen level: its hash bucket
    assert X[2, -1] == 1.0  # an unseen level: the unseen input, and only it goes there
    assert prep.transform(zipf)[:, group[-1]].sum() == 0.0
    # each bucket's label is its most frequent training level
    for bucket, label in enumerate(column.buckets):
        members = [v for v in rare if murmurhash3_32(v, seed=0, positive=True) % 8 == bucket]
        assert label == (members[0] if members else None)
    back = prep.inverse_transform(prep.transform(rows))
    assert back["item"].tolist() == [kept[3], column.buckets[expected_bucket], OTHER]
    assert prep.describe_columns() == {
        "x": "numeric (1 input: numbers)",
        "item": "categorical (28 inputs: text: 19 levels, 8 hash buckets, unseen)",
    }


def test_hashing_is_stable_across_processes(zipf: pd.DataFrame, tmp_path) -> None:
    """Another interpreter, with another string-hash salt, encodes the same inputs."""
    zipf.to_parquet(tmp_path / "zipf.parquet")
    script = (
        "import sys, numpy as np, pandas as pd\n"
        "from aekit.data.tables import TablePreprocessor\n"
        "frame = pd.read_parquet(sys.argv[1])\n"
        "X = TablePreprocessor().fit(frame).transform(frame)\n"
        "np.save(sys.argv[2], X)\n"
    )
    out = tmp_path / "other.npy"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "zipf.parquet"), str(out)],
        check=True,
        env=env,
        timeout=120,
    )
    np.testing.assert_array_equal(np.load(out), TablePreprocessor().fit(zipf).transform(zipf))


def test_ties_are_broken_by_the_level_and_not_by_row_order() -> None:
    levels = [f"t{i:02d}" for i in range(25)]  # 25 levels seen twice each: all tie
    frame = pd.DataFrame({"t": levels * 2})
    shuffled = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    first, second = (TablePreprocessor().fit(f).to_state()[0] for f in (frame, shuffled))
    assert first == second
    assert first["categories"][0]["kept"] == levels[:19]


def test_a_column_at_max_categories_is_exact(zipf: pd.DataFrame) -> None:
    exact = zipf[zipf["item"].isin([f"L{k:03d}" for k in range(20)])]
    prep = TablePreprocessor().fit(exact)
    assert len(prep.feature_groups["item"]) == 20 + 1
    over = TablePreprocessor(max_categories=10, hash_buckets=3).fit(exact)
    assert len(over.feature_groups["item"]) == 9 + 3 + 1


def test_many_level_state_round_trips_bit_for_bit(zipf: pd.DataFrame) -> None:
    prep = TablePreprocessor(hash_buckets=5).fit(zipf)
    state, arrays = prep.to_state()
    assert state["version"] == 4 and state["hash_buckets"] == 5
    rebuilt = TablePreprocessor.from_state(json.loads(json.dumps(state)), arrays)
    assert rebuilt.to_state()[0] == state
    probe = pd.concat([zipf, pd.DataFrame({"x": [0.0], "item": ["never"]})], ignore_index=True)
    np.testing.assert_array_equal(rebuilt.transform(probe), prep.transform(probe))
    X = prep.transform(probe)
    pd.testing.assert_frame_equal(rebuilt.inverse_transform(X), prep.inverse_transform(X))


# A state written by aekit before hashing (STATE_VERSION 1, scikit-learn's OneHotEncoder):
# "s19".."s22" were its rare levels, sharing one "other" input with unseen levels.
VERSION_1 = {
    "version": 1,
    "categorical": [],
    "ignore": [],
    "max_categories": 20,
    "columns": ["x", "city", "shop"],
    "kinds": {"x": "numeric", "city": "categorical", "shop": "categorical"},
    "dtypes": {"x": "float64", "city": "str", "shop": "str"},
    "dropped": [],
    "gappy": [],
    "levels": [["a", "b", "c"], [f"s{i:02d}" for i in range(23)]],
    "infrequent": [None, ["s19", "s20", "s21", "s22"]],
}


def test_version_1_states_still_load_with_their_old_outputs() -> None:
    arrays = {
        "numeric.median": np.array([30.0]),
        "numeric.center": np.array([30.0]),
        "numeric.scale": np.array([22.239033277584028]),
    }
    prep = TablePreprocessor.from_state(json.loads(json.dumps(VERSION_1)), arrays)
    rows = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0], "city": ["a", "d", "b"], "shop": ["s00", "s20", "zz"]}
    )
    X = prep.transform(rows)
    # measured with the version 1 code: 1 + 3 + 20 inputs; an unseen city gave all zeros,
    # a rare and an unseen shop the shared last input
    expected = np.zeros((3, 24), dtype=np.float32)
    expected[:, 0] = (rows["x"] - 30.0) / 22.239033277584028
    expected[0, [1, 4]] = 1.0
    expected[1, 23] = 1.0
    expected[2, [2, 23]] = 1.0
    np.testing.assert_array_equal(X, expected)
    assert prep.feature_groups == {"x": [0], "city": [1, 2, 3], "shop": list(range(4, 24))}
    assert prep.inverse_transform(X)["shop"].tolist() == ["s00", OTHER, OTHER]


def test_unknown_state_version_and_bad_parameters() -> None:
    with pytest.raises(ValueError, match=r"state version 9 \(this aekit reads versions 1 to 4\)"):
        TablePreprocessor.from_state({**VERSION_1, "version": 9}, {})
    frame = pd.DataFrame({"c": ["a", "b"]})
    with pytest.raises(ValueError, match=r"hash_buckets=0 must be an integer >= 1"):
        TablePreprocessor(hash_buckets=0).fit(frame)
    with pytest.raises(ValueError, match=r"max_categories=1 must be an integer >= 2"):
        TablePreprocessor(max_categories=1).fit(frame)
