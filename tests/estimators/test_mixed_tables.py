"""Autoencoder and AnomalyDetector on mixed tables: numbers, categories, booleans, gaps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from safetensors import safe_open
from sklearn.metrics import roc_auc_score

import aekit
from aekit import AnomalyDetector, Autoencoder
from aekit.exceptions import InputError

REPO = Path(__file__).resolve().parents[2]
ADBENCH = Path(os.environ.get("AEKIT_DATA", REPO.parent / "shared" / "data")) / "adbench"
CITY_AMOUNT = {"paris": 100.0, "oslo": 200.0, "rome": 300.0}


def transactions(n: int, seed: int) -> pd.DataFrame:
    """Amount set by city, a fee proportional to it, 50 shops, booleans, heavy-tailed volume,
    and gaps in numbers, categories and booleans."""
    rng = np.random.default_rng(seed)
    city = rng.choice(list(CITY_AMOUNT), n)
    amount = pd.Series(city).map(CITY_AMOUNT).to_numpy() + rng.normal(0, 10, n)
    frame = pd.DataFrame(
        {
            "amount": amount,
            "fee": amount * 0.02 + rng.normal(0, 0.2, n),
            "city": city,
            "shop": rng.choice([f"s{i:02d}" for i in range(50)], n),
            "online": rng.random(n) > 0.5,
            "volume": rng.lognormal(0, 1, n) * 1e4,
            "promo": (rng.random(n) > 0.8).astype(object),
        }
    )
    frame.loc[rng.random(n) < 0.05, "amount"] = np.nan
    frame.loc[rng.random(n) < 0.05, "city"] = None
    frame.loc[rng.random(n) < 0.05, "promo"] = None
    return frame


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Training rows; test rows with 30 extreme fees and 30 impossible city/amount pairs."""
    train, test = transactions(1500, 0), transactions(500, 1)
    rng = np.random.default_rng(2)
    planted = rng.choice(len(test), 60, replace=False)
    extreme, combination = planted[:30], planted[30:]
    test.loc[extreme, "fee"] += 40.0  # 200 standard deviations: one column is wrong
    test.loc[combination, "city"] = "paris"  # with amounts seen only in rome
    test.loc[combination, "amount"] = 300.0 + rng.normal(0, 10, 30)
    test.loc[combination, "fee"] = test.loc[combination, "amount"] * 0.02
    y = np.zeros(len(test), dtype=int)
    y[planted] = 1
    return train, test, y, extreme, combination


@pytest.fixture(scope="module")
def detector(data) -> AnomalyDetector:
    return (
        AnomalyDetector(n_estimators=2, random_state=0)
        .set_params(estimator__max_epochs=15)
        .fit(data[0])
    )


def test_detector_finds_planted_anomalies(detector, data) -> None:
    _, test, y, _, _ = data
    auc = roc_auc_score(y, -detector.score_samples(test))
    assert auc > 0.95, auc  # measured 0.965 here (0.999 with 20 epochs and 5 members)
    assert detector.preprocessor_ is not None
    assert detector.score_module_.error_scale.shape == (2, 7)  # one scale per original column


def test_explain_speaks_in_original_columns(detector, data) -> None:
    _, test, _, extreme, combination = data
    table = detector.explain(test)
    assert list(table.columns) == list(test.columns)
    np.testing.assert_allclose(table.mean(axis=1), detector.relative_error(test), rtol=1e-6)
    assert (table.iloc[extreme].idxmax(axis=1) == "fee").mean() >= 0.9
    blamed = table.iloc[combination].idxmax(axis=1)
    assert blamed.isin(["city", "amount", "fee"]).mean() >= 0.9


def test_autoencoder_reconstructs_a_frame_with_original_columns(data) -> None:
    train, test, y, _, _ = data
    ae = Autoencoder(latent_dim=3, max_epochs=15, random_state=0).fit(train)
    assert roc_auc_score(y, ae.reconstruction_error(test)) > 0.9
    back = ae.reconstruct(test.head(50))
    assert list(back.columns) == list(test.columns)
    assert back["online"].dtype == bool and back["promo"].dtype == "boolean"
    assert set(back["city"].dropna()) <= set(CITY_AMOUNT)
    normal = test.head(50).index[y[:50] == 0]
    close = (back.loc[normal, "city"] == test.loc[normal, "city"]).mean()
    assert close > 0.8, close
    per_column = ae.reconstruction_error(test.head(5), per_feature=True)
    assert per_column.shape == (5, 7)
    decoded = ae.inverse_transform(ae.transform(test.head(4)))
    assert list(decoded.columns) == list(test.columns) and len(decoded) == 4
    path = ae.interpolate(test.iloc[[0]], test.iloc[[1]], steps=3)
    assert list(path.columns) == list(test.columns) and len(path) == 3
    with pytest.raises(ValueError, match="mixed table"):
        ae.encoder_module()


def test_save_and_load_give_identical_scores(detector, data, tmp_path) -> None:
    _, test, _, _, _ = data
    path = detector.save(tmp_path / "mixed.safetensors")
    loaded = aekit.load(path)
    np.testing.assert_array_equal(loaded.score_samples(test), detector.score_samples(test))
    for a, b in zip(loaded.estimators_, detector.estimators_, strict=True):
        np.testing.assert_array_equal(a.transform(test), b.transform(test))
    pd.testing.assert_frame_equal(loaded.explain(test), detector.explain(test))
    assert loaded.get_params()["estimator__categorical"] is None


def test_missing_and_extra_columns_are_listed(detector, data) -> None:
    _, test, _, _, _ = data
    wrong = test.drop(columns=["shop"]).assign(channel="web")
    with pytest.raises(InputError, match=r"missing columns 'shop'; unexpected columns 'channel'"):
        detector.score_samples(wrong)
    with pytest.raises(InputError, match="give a pandas DataFrame"):
        detector.score_samples(np.zeros((3, 7)))


def test_overrides_and_their_errors(data) -> None:
    train = data[0].assign(store=np.arange(len(data[0])) % 6, order_id=np.arange(len(data[0])))
    ae = Autoencoder(max_epochs=2, random_state=0, categorical=["store"], ignore=["order_id"])
    ae.fit(train)
    assert ae.preprocessor_.kinds_["store"] == "categorical"
    assert "order_id" not in ae.feature_names_in_
    with pytest.raises(InputError, match=r"ignore= names columns 'nope'"):
        Autoencoder(max_epochs=1, ignore=["nope"]).fit(train)
    with pytest.raises(InputError, match="categorical= and ignore= name DataFrame columns"):
        Autoencoder(max_epochs=1, categorical=["a"]).fit(np.zeros((5, 2)))


def test_numeric_frames_without_gaps_keep_the_plain_scaler(data, tmp_path) -> None:
    numeric = data[0][["fee", "volume"]]
    ae = Autoencoder(max_epochs=1, random_state=0).fit(numeric)
    assert ae.preprocessor_ is None and ae.scaler_.method == "standard"
    # such a file has no preprocessor entry, like files written before mixed tables
    path = ae.save(tmp_path / "plain.safetensors")
    with safe_open(str(path), "np") as f:
        assert "preprocessor" not in json.loads(f.metadata()["aekit"])["fitted"]
    loaded = aekit.load(path)
    assert loaded.preprocessor_ is None
    np.testing.assert_array_equal(loaded.transform(numeric), ae.transform(numeric))


def test_adbench_parquet_with_gaps_fits_and_scores_via_the_cli(tmp_path) -> None:
    path = ADBENCH / "4_breastw.npz"
    if not path.is_file():
        pytest.skip(f"ADBench data not found at {path}; set AEKIT_DATA")
    archive = np.load(path)
    X, y = archive["X"], archive["y"].astype(int)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    frame["f0"] = frame["f0"].mask(np.random.default_rng(0).random(len(frame)) < 0.05)
    frame.to_parquet(tmp_path / "breastw.parquet")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}

    def run(*args: str) -> None:
        command = [sys.executable, "-m", "aekit", *args, "--quiet"]
        result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr

    run("fit", "breastw.parquet", "-o", "d.safetensors", "--detector", "--max-epochs", "10")
    run("score", "d.safetensors", "breastw.parquet", "-o", "scores.parquet")
    scores = pd.read_parquet(tmp_path / "scores.parquet")
    assert len(scores) == len(frame)
    auc = roc_auc_score(y, scores["relative_error"])
    assert auc > 0.9, auc  # measured 0.98


# --- a column with many levels: kept, hashed and unseen --------------------------------


def payments(n: int, seed: int) -> pd.DataFrame:
    """300 merchants with Zipf-like frequencies (weight k ** -1.5), an amount and a fee
    that follows it, and a boolean."""
    rng = np.random.default_rng(seed)
    weights = np.arange(1, 301) ** -1.5
    amount = rng.normal(50, 5, n)
    return pd.DataFrame(
        {
            "amount": amount,
            "fee": amount * 0.02 + rng.normal(0, 0.05, n),
            "merchant": rng.choice([f"m{k:03d}" for k in range(300)], n, p=weights / weights.sum()),
            "online": rng.random(n) > 0.5,
        }
    )


@pytest.fixture(scope="module")
def merchants() -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Training rows; 400 test rows, 40 of them with merchants never seen in training."""
    train, test = payments(2000, 0), payments(400, 1)
    planted = np.random.default_rng(2).choice(len(test), 40, replace=False)
    test.loc[planted, "merchant"] = [f"new-{k}" for k in range(40)]
    y = np.zeros(len(test), dtype=int)
    y[planted] = 1
    return train, test, y


@pytest.fixture(scope="module")
def merchant_detector(merchants) -> AnomalyDetector:
    # a reconstruction-driven member, untrimmed: trained this long, trimming learns the rarest
    # merchants less and spreads the blame for unseen ones over other columns (ROC-AUC 0.914,
    # merchant blamed on 0.275 of the planted rows, against 0.974 and 1.0 untrimmed)
    member = AnomalyDetector.default_estimator(latent_dim=8, max_epochs=30, trim_fraction=0.0)
    return AnomalyDetector(member, n_estimators=2, random_state=0).fit(merchants[0])


def test_unseen_levels_of_a_many_level_column_score_as_anomalies(
    merchant_detector, merchants
) -> None:
    train, test, y = merchants
    table = merchant_detector.preprocessor_
    assert len(table.feature_groups["merchant"]) == 19 + 8 + 1
    assert merchant_detector.score_module_.error_scale.shape == (2, 4)  # one scale per column
    auc = roc_auc_score(y, -merchant_detector.score_samples(test))
    assert auc > 0.9, auc  # measured 0.974 (0.966 with random_state 1)
    explained = merchant_detector.explain(test)
    assert list(explained.columns) == list(test.columns)
    # the column whose error rises most on the planted rows is the merchant
    rise = explained[y == 1].median() / explained[y == 0].median()
    assert rise.idxmax() == "merchant", rise.to_dict()  # measured 594x
    blamed = (explained[y == 1].idxmax(axis=1) == "merchant").mean()
    assert blamed >= 0.75, blamed  # measured 1.0
    back = merchant_detector.estimators_[0].reconstruct(test.head(20))
    assert set(back["merchant"]) <= set(train["merchant"]) | {"<other>"}


def test_default_detector_flags_unseen_levels_by_the_hidden_distance(merchants) -> None:
    train, test, y = merchants
    detector = AnomalyDetector(random_state=0).fit(train)
    # measured 0.963 and 0.961 (0.958 and 0.958 with random_state=1)
    assert roc_auc_score(y, detector.anomaly_score(test)) > 0.9
    assert roc_auc_score(y, detector.hidden_distance(test)) > 0.9


def test_many_level_detector_save_and_load_give_identical_scores(
    merchant_detector, merchants, tmp_path
) -> None:
    _, test, _ = merchants
    path = merchant_detector.save(tmp_path / "merchants.safetensors")
    loaded = aekit.load(path)
    np.testing.assert_array_equal(loaded.score_samples(test), merchant_detector.score_samples(test))
    pd.testing.assert_frame_equal(loaded.explain(test), merchant_detector.explain(test))
    state = loaded.preprocessor_.to_state()[0]
    assert state == merchant_detector.preprocessor_.to_state()[0]
    assert state["version"] == 4 and state["hash_buckets"] == 8


# --- a streamed fit on a mixed Parquet table -----------------------------------------


@pytest.fixture(scope="module")
def parquet_tables(data, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mixed training rows (numbers, categories, booleans, gaps) as a Parquet file of
    several row groups."""
    folder = tmp_path_factory.mktemp("mixed-parquet")
    data[0].to_parquet(folder / "train.parquet", row_group_size=400)
    return folder


def test_streamed_fit_on_a_mixed_parquet_table(parquet_tables, data) -> None:
    _, test, y, _, _ = data
    path = parquet_tables / "train.parquet"
    ae = Autoencoder(latent_dim=3, max_epochs=10, random_state=0).fit(path)
    assert ae.preprocessor_ is not None
    assert ae.preprocessor_.kinds_["city"] == "categorical"
    assert ae.preprocessor_.kinds_["promo"] == "boolean"
    codes = ae.transform(test)
    assert codes.shape == (len(test), 3) and np.isfinite(codes).all()
    errors = ae.reconstruction_error(test)
    assert errors.shape == (len(test),) and np.isfinite(errors).all()
    assert roc_auc_score(y, errors) > 0.95  # measured 0.997
    detector = AnomalyDetector(n_estimators=2, random_state=0).set_params(estimator__max_epochs=10)
    detector = detector.fit(str(path))
    scores = detector.score_samples(test)
    assert scores.shape == (len(test),) and np.isfinite(scores).all()
    assert roc_auc_score(y, -scores) > 0.9  # measured 0.968
