"""``aekit fit --time-series`` and the commands on series models, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import aekit

import aekit as library

SKAB_FILE = "skab/valve1/0.csv"


def info_of(path: Path) -> dict:
    """``aekit info --json`` (in this process: it trains nothing)."""
    import contextlib
    import io

    from aekit.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["info", str(path), "--json"]) == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, timeseries_dir: Path) -> Path:
    folder = tmp_path_factory.mktemp("series")
    (folder / "experiment.csv").write_bytes((timeseries_dir / SKAB_FILE).read_bytes())
    aekit(
        "fit",
        "experiment.csv",
        "-o",
        "series.safetensors",
        "--time-series",
        "--detector",
        "--time-column",
        "datetime",
        "--ignore",
        "anomaly,changepoint",
        "--window",
        "12",
        "--n-estimators",
        "3",
        "--max-epochs",
        "4",
        "--seed",
        "0",
        "--quiet",
        cwd=folder,
    )
    return folder


def test_fit_builds_the_series_detector_the_options_ask_for(workdir: Path) -> None:
    model = library.load(workdir / "series.safetensors")
    assert isinstance(model, library.TimeSeriesDetector)
    assert model.window_ == 12 and model.time_column == "datetime"
    assert model.ignore == ["anomaly", "changepoint"] and len(model.channels_) == 8
    assert model.detector_.n_estimators == 3
    assert model.detector_.estimators_[0].max_epochs == 4
    info = info_of(workdir / "series.safetensors")
    assert info["series"]["window"] == 12 and info["series"]["channels"] == model.channels_
    assert info["threshold"]["rule"] == "contamination=auto" and info["members"] == 3


def test_score_writes_one_row_per_timestamp_with_the_librarys_scores(workdir: Path) -> None:
    result = aekit(
        "score",
        "series.safetensors",
        "experiment.csv",
        "-o",
        "scores.csv",
        "--explain",
        cwd=workdir,
    )
    assert "timestamps flagged as anomalies" in result.stdout
    scores = pd.read_csv(workdir / "scores.csv")
    data = pd.read_csv(workdir / "experiment.csv", sep=";")
    assert list(scores.columns[:4]) == ["datetime", "anomaly_score", "p_value", "is_anomaly"]
    assert len(scores) == len(data) and (scores["datetime"] == data["datetime"]).all()
    model = library.load(workdir / "series.safetensors")
    parts = model.score_parts(data)
    np.testing.assert_allclose(scores["anomaly_score"], parts["anomaly_score"], rtol=1e-12)
    np.testing.assert_allclose(scores["p_value"], parts["p_value"])
    np.testing.assert_array_equal(scores["is_anomaly"], parts["is_anomaly"])
    shares = scores[[c for c in scores.columns if c.startswith("share:")]]
    assert len(shares.columns) == 8
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)


def test_a_parquet_series_larger_than_a_chunk_streams_with_the_scores_of_the_whole(
    workdir: Path, timeseries_dir: Path
) -> None:
    free = pd.read_csv(timeseries_dir / "skab" / "anomaly-free" / "anomaly-free.csv", sep=";")
    rows = 70_000  # more than one chunk of 65,536 rows
    long = pd.DataFrame(np.resize(free.drop(columns="datetime").to_numpy(), (rows, 8)))
    long.columns = free.columns[1:]
    times = pd.date_range("2020-02-08 13:30:47", periods=rows, freq="1s")
    long.insert(0, "datetime", times.astype(str))
    long.to_parquet(workdir / "long.parquet")
    aekit("score", "series.safetensors", "long.parquet", "-o", "long.parquet.csv", cwd=workdir)
    streamed = pd.read_csv(workdir / "long.parquet.csv")
    assert len(streamed) == rows and (streamed["datetime"] == times.astype(str)).all()
    model = library.load(workdir / "series.safetensors")
    whole = model.anomaly_score(long)
    np.testing.assert_allclose(streamed["anomaly_score"], whole, rtol=1e-10)


def test_a_series_autoencoder_reconstructs_encodes_and_scores_per_timestamp(
    workdir: Path,
) -> None:
    common = ("--time-column", "datetime", "--ignore", "anomaly,changepoint")
    aekit(
        "fit",
        "experiment.csv",
        "-o",
        "ae.safetensors",
        "--time-series",
        *common,
        "--window",
        "16",
        "--latent-dim",
        "4",
        "--max-epochs",
        "3",
        "--seed",
        "0",
        "--no-center-windows",
        "--quiet",
        cwd=workdir,
    )
    model = library.load(workdir / "ae.safetensors")
    assert isinstance(model, library.TimeSeriesAutoencoder) and model.estimator_.latent_dim == 4
    assert model.center_windows is False  # the option reaches the estimator
    data = pd.read_csv(workdir / "experiment.csv", sep=";")
    aekit("reconstruct", "ae.safetensors", "experiment.csv", "-o", "rebuilt.csv", cwd=workdir)
    rebuilt = pd.read_csv(workdir / "rebuilt.csv")
    assert list(rebuilt.columns) == ["datetime", *model.channels_] and len(rebuilt) == len(data)
    expected = model.reconstruct(data)
    np.testing.assert_allclose(rebuilt[model.channels_], expected[model.channels_], rtol=1e-5)
    aekit("encode", "ae.safetensors", "experiment.csv", "-o", "codes.csv", cwd=workdir)
    codes = pd.read_csv(workdir / "codes.csv")
    assert list(codes.columns) == ["window_end", "z0", "z1", "z2", "z3"]
    assert len(codes) == len(data) - 15 and codes["window_end"][0] == data["datetime"][15]
    aekit("score", "ae.safetensors", "experiment.csv", "-o", "errors.csv", cwd=workdir)
    errors = pd.read_csv(workdir / "errors.csv")
    assert list(errors.columns) == ["datetime", "reconstruction_error"]
    np.testing.assert_allclose(errors["reconstruction_error"], model.reconstruction_error(data))
    info = info_of(workdir / "ae.safetensors")
    assert info["series"]["window"] == 16 and info["kind"] == "dense"
    assert info["series"]["center_windows"] is False


def test_series_options_are_refused_where_they_do_not_apply(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from aekit.cli.main import main  # in this process: each case fails before any training

    monkeypatch.chdir(workdir)

    def fails(*args: str) -> str:
        assert main(["fit", "experiment.csv", "-o", "x.safetensors", *args]) == 1
        return capsys.readouterr().err

    assert "--n-estimators needs --detector; --window needs --time-series" in fails(
        "--window", "8", "--n-estimators", "3"
    )
    assert "--window needs --time-series" in fails("--detector", "--window", "8")
    assert "--n-estimators needs --detector (a TimeSeriesDetector)" in fails(
        "--time-series", "--time-column", "datetime", "--n-estimators", "3"
    )
    assert "--center-windows is for a TimeSeriesAutoencoder" in fails(
        "--time-series", "--detector", "--time-column", "datetime", "--center-windows"
    )
    assert "--center-windows needs --time-series" in fails("--no-center-windows")
    assert main(["encode", "series.safetensors", "experiment.csv", "-o", "c.csv"]) == 1
    assert "needs a TimeSeriesAutoencoder" in capsys.readouterr().err
    text = fails("--time-series", "--detector")
    assert "column 'datetime' is not numeric" in text and "time_column='datetime'" in text
    assert not (workdir / "x.safetensors").exists()
