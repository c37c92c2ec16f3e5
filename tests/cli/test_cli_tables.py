"""The command line on a CSV with strings and gaps: fit, score, reconstruct, encode, report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import DETECTOR_COLUMNS
from cli_helpers import aekit as aekit_cli
from sklearn.metrics import roc_auc_score

import aekit


def shop_table(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "order_id": np.arange(n),
            "amount": rng.normal(50, 5, n).round(2),
            "city": rng.choice(["paris", "oslo", "rome"], n),
            "store": rng.integers(0, 4, n),  # integer codes: categorical only when told
            "online": rng.random(n) > 0.5,
        }
    )
    frame.loc[::13, "amount"] = np.nan
    frame.loc[::17, "city"] = None
    return frame


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli-tables")
    frame = shop_table()
    frame.to_csv(folder / "shop.csv", index=False)
    frame.drop(columns=["city"]).to_csv(folder / "no-city.csv", index=False)
    aekit_cli(
        "fit",
        "shop.csv",
        "-o",
        "detector.safetensors",
        "--detector",
        "--categorical",
        "store",
        "--ignore",
        "order_id",
        "--max-epochs",
        "3",
        "--quiet",
        cwd=folder,
    )
    return folder


def test_fit_records_the_overrides(workdir: Path) -> None:
    model = aekit.load(workdir / "detector.safetensors")
    assert model.get_params()["estimator__categorical"] == ["store"]
    assert model.preprocessor_.kinds_ == {
        "amount": "numeric",
        "city": "categorical",
        "store": "categorical",
        "online": "boolean",
    }
    info = aekit_cli("info", "detector.safetensors", cwd=workdir).stdout
    rows = [line.split() for line in info.splitlines()]
    assert ["store", "categorical", "5", "categorical="] in rows  # 4 codes + <unseen>


def test_score_with_explain_names_the_columns(workdir: Path) -> None:
    aekit_cli("score", "detector.safetensors", "shop.csv", "-o", "s.csv", "--explain", cwd=workdir)
    scores = pd.read_csv(workdir / "s.csv")
    errors = [f"relative_error:{c}" for c in ("amount", "city", "store", "online")]
    expected = DETECTOR_COLUMNS
    assert list(scores.columns) == [*expected, *errors]
    assert len(scores) == 300 and np.isfinite(scores.to_numpy()).all()
    np.testing.assert_allclose(scores[errors].mean(axis=1), scores["relative_error"], 1e-5)


def test_reconstruct_and_encode_write_tables(workdir: Path) -> None:
    options = ("--categorical", "store", "--ignore", "order_id", "--max-epochs", "3", "--quiet")
    aekit_cli("fit", "shop.csv", "-o", "model.safetensors", *options, cwd=workdir)
    aekit_cli("reconstruct", "model.safetensors", "shop.csv", "-o", "r.parquet", cwd=workdir)
    back = pd.read_parquet(workdir / "r.parquet")
    assert list(back.columns) == ["amount", "city", "store", "online"]
    assert back["online"].dtype == bool and set(back["store"]) <= {0, 1, 2, 3}
    aekit_cli("encode", "model.safetensors", "shop.csv", "-o", "codes.csv", cwd=workdir)
    assert pd.read_csv(workdir / "codes.csv").shape == (300, 2)


def test_a_detector_does_not_reconstruct_for_its_members(workdir: Path) -> None:
    for command in ("reconstruct", "encode"):
        result = aekit_cli(
            command, "detector.safetensors", "shop.csv", "-o", "x.csv", cwd=workdir, check=False
        )
        assert result.returncode == 1
        assert "needs an Autoencoder" in result.stderr and "estimators_" in result.stderr


def test_report_on_a_mixed_table_model(workdir: Path) -> None:
    aekit_cli("report", "detector.safetensors", "shop.csv", "-o", "r.html", cwd=workdir)
    page = (workdir / "r.html").read_text()
    assert "Reconstruction error" in page and "table: 4 columns" in page


def test_missing_column_is_one_line_and_exit_1(workdir: Path) -> None:
    result = aekit_cli(
        "score", "detector.safetensors", "no-city.csv", "-o", "x.csv", cwd=workdir, check=False
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "missing columns 'city'" in lines[0], result.stderr
    assert not (workdir / "x.csv").exists()


def test_fit_and_score_a_mixed_parquet_table(tmp_path: Path) -> None:
    """A streamed fit on Parquet with numbers, categories, booleans and gaps; 10 rows
    with amounts 12 standard deviations off."""
    frame = shop_table(600)
    frame["promo"] = pd.array(np.arange(600) % 3 == 0, dtype="boolean")
    frame.loc[::11, "promo"] = None
    frame.loc[:9, "amount"] += 60.0
    frame.to_parquet(tmp_path / "shop.parquet", row_group_size=128)
    aekit_cli(
        "fit",
        "shop.parquet",
        "-o",
        "m.aekit",
        "--detector",
        "--max-epochs",
        "10",
        "--quiet",
        cwd=tmp_path,
    )
    aekit_cli("score", "m.aekit", "shop.parquet", "-o", "s.csv", cwd=tmp_path)
    scores = pd.read_csv(tmp_path / "s.csv")
    expected = DETECTOR_COLUMNS
    assert list(scores.columns) == ["order_id", *expected] and len(scores) == len(frame)
    assert scores["order_id"].tolist() == frame["order_id"].tolist()  # a row counter: a key
    assert np.isfinite(scores[expected[:5]].to_numpy()).all()
    model = aekit.load(tmp_path / "m.aekit")
    assert model.preprocessor_.kinds_["promo"] == "boolean"
    np.testing.assert_allclose(scores["anomaly_score"], -model.score_samples(frame), rtol=1e-5)
    planted = np.arange(600) < 10
    assert roc_auc_score(planted, scores["anomaly_score"]) > 0.95  # measured 0.992
    assert 0.0 < scores["is_anomaly"].mean() < 0.2  # measured 0.05
