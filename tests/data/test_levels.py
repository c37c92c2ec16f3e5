"""LevelEncoder: exact levels, hashed buckets, the unseen input, names and saved levels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils import murmurhash3_32

from aekit.data.levels import OTHER, ColumnLevels, LevelEncoder, bucket_of


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    # "big": a0 x5, a1 x4, a2 x3, then r0..r5 once each (rare); "small": two levels
    big = ["a0"] * 5 + ["a1"] * 4 + ["a2"] * 3 + [f"r{i}" for i in range(6)]
    return pd.DataFrame({"big": big, "small": (["x", "y"] * 9)})


def test_widths_names_and_positions(frame: pd.DataFrame) -> None:
    encoder = LevelEncoder(max_categories=4, hash_buckets=2).fit(frame)
    big, small = encoder.columns_
    assert big.kept == ("a0", "a1", "a2") and len(big.buckets) == 2 and big.width == 6
    assert small.kept == ("x", "y") and small.buckets == () and small.width == 3
    names = encoder.get_feature_names_out().tolist()
    assert names == [
        *("big_a0", "big_a1", "big_a2", "big_<bucket 0>", "big_<bucket 1>", "big_<unseen>"),
        *("small_x", "small_y", "small_<unseen>"),
    ]
    rows = pd.DataFrame({"big": ["a1", "r4", "zz", None], "small": ["y", "q", np.nan, "x"]})
    X = encoder.transform(rows)
    assert X.dtype == np.float64 and X.shape == (4, 9)
    np.testing.assert_array_equal(X.sum(axis=1), 2.0)  # one input per column
    assert X[0, 1] == 1.0
    assert X[1, 3 + murmurhash3_32("r4", seed=0, positive=True) % 2] == 1.0
    assert X[2, 5] == 1.0 and X[3, 5] == 1.0  # unseen text and a raw gap: the unseen input
    assert X[1, 8] == 1.0 and X[2, 8] == 1.0


def test_bucket_labels_are_their_most_frequent_level() -> None:
    # r-levels seen twice beat s-levels seen once for the bucket they share
    values = ["k"] * 9 + [f"r{i}" for i in range(4) for _ in range(2)] + [f"s{i}" for i in range(9)]
    column = LevelEncoder(max_categories=2, hash_buckets=3).fit(pd.DataFrame({"c": values}))
    (levels,) = column.columns_
    for bucket, label in enumerate(levels.buckets):
        rare = sorted({v for v in values if v != "k" and bucket_of(v, 3) == bucket})
        twice = [v for v in rare if v.startswith("r")]
        assert label == (twice or rare or [None])[0]
    assert levels.labels()[-1] == OTHER


def test_saved_levels_rebuild_the_same_encoder(frame: pd.DataFrame) -> None:
    fitted = LevelEncoder(max_categories=4, hash_buckets=2).fit(frame)
    rebuilt = LevelEncoder(levels=fitted.to_state()).fit(frame.head(1))
    probe = pd.DataFrame({"big": ["r0", "r1", "a2", "new"], "small": ["x", "y", "z", "x"]})
    np.testing.assert_array_equal(rebuilt.transform(probe), fitted.transform(probe))
    assert rebuilt.to_state() == fitted.to_state()


def test_inconsistent_saved_levels_are_refused(frame: pd.DataFrame) -> None:
    good = {"levels": ["a", "b", "c"], "kept": ["a"], "buckets": ["b"], "unseen": "input"}
    ColumnLevels.from_json(good)
    with pytest.raises(ValueError, match="never seen"):
        ColumnLevels.from_json({**good, "kept": ["q"]})
    with pytest.raises(ValueError, match="no bucket"):
        ColumnLevels.from_json({**good, "buckets": []})
    with pytest.raises(ValueError, match=r"unseen='sometimes' must be one of"):
        ColumnLevels.from_json({**good, "unseen": "sometimes"})
    with pytest.raises(ValueError, match="levels= describes 1 columns but X has 2"):
        LevelEncoder(levels=[good]).fit(frame)
