"""The MLflow model: the flavour round-trips, ``mlflow models serve`` answers over HTTP and
``spark_udf`` scores a Parquet table on local Spark, each with ``aekit score``'s numbers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aekit import AnomalyDetector, Autoencoder
from aekit.exceptions import MissingExtraError

mlflow = pytest.importorskip("mlflow")
aekit_mlflow = pytest.importorskip("aekit.mlflow")

SCORES = ["anomaly_score", "relative_error", "code_distance", "hidden_distance", "p_value"]
SERVE_SECONDS = 120  # the server must answer /ping within this


@pytest.fixture(scope="module")
def served(tmp_path_factory, data_dir) -> dict:
    """A detector on Pima saved as an MLflow model, its data as CSV and Parquet, and what
    ``aekit score`` wrote for it."""
    folder = tmp_path_factory.mktemp("mlflow")
    with np.load(data_dir / "adbench" / "29_Pima.npz") as data:
        X = pd.DataFrame(data["X"].astype(np.float64), columns=[f"f{i}" for i in range(8)])
    detector = AnomalyDetector(false_positive_rate=0.05, random_state=0)
    detector.set_params(estimator__max_epochs=3).fit(X)
    detector.save(folder / "detector.safetensors")
    aekit_mlflow.save_model(detector, folder / "model")
    X.to_csv(folder / "pima.csv", index=False)
    X.to_parquet(folder / "pima.parquet")
    subprocess.run(
        [sys.executable, "-m", "aekit", "score", "detector.safetensors", "pima.csv", "-o",
         "scores.csv", "--quiet"],
        cwd=folder, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return {"folder": folder, "X": X, "scores": pd.read_csv(folder / "scores.csv")}


def assert_scores_match(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """``aekit score`` writes float32: equal within its rounding."""
    for name in SCORES:
        np.testing.assert_allclose(got[name].astype(float), expected[name], rtol=1e-6)
    assert (got["is_anomaly"].astype(bool) == expected["is_anomaly"].astype(bool)).all()


def test_flavour_loads_back_and_records_signature_and_example(served) -> None:
    path = served["folder"] / "model"
    model = aekit_mlflow.load_model(str(path))
    assert isinstance(model, AnomalyDetector)
    info = mlflow.models.Model.load(str(path / "MLmodel"))
    assert info.flavors["aekit"]["estimator"] == "AnomalyDetector"
    assert info.signature.inputs.input_names() == [f"f{i}" for i in range(8)]
    assert info.signature.outputs.input_names() == [*SCORES, "is_anomaly"]
    assert (path / "input_example.json").is_file()
    assert not list(path.rglob("*.pkl"))  # the model file is aekit's own, never pickled
    pyfunc = mlflow.pyfunc.load_model(str(path))
    assert_scores_match(pyfunc.predict(served["X"]), served["scores"])


def test_log_model_to_a_run_and_load_it_by_uri(tmp_path, monkeypatch, digits_split) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    mlflow.set_tracking_uri(f"file:{tmp_path / 'mlruns'}")
    train, held_out = digits_split
    model = Autoencoder(latent_dim=4, max_epochs=2, random_state=0).fit(train)
    with mlflow.start_run():
        info = aekit_mlflow.log_model(model, "autoencoder")
    back = aekit_mlflow.load_model(info.model_uri)
    np.testing.assert_array_equal(back.transform(held_out), model.transform(held_out))
    frame = pd.DataFrame(held_out, columns=aekit_mlflow.input_columns(model))
    out = mlflow.pyfunc.load_model(info.model_uri).predict(frame)
    assert list(out.columns) == ["reconstruction_error"]
    np.testing.assert_allclose(out["reconstruction_error"], model.reconstruction_error(held_out))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_mlflow_models_serve_answers_with_aekit_scores(served) -> None:
    mlflow_cli = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or "mlflow"
    port = free_port()
    server = subprocess.Popen(
        [mlflow_cli, "models", "serve", "-m", str(served["folder"] / "model"), "--env-manager",
         "local", "-h", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    try:
        wait_until_up(f"http://127.0.0.1:{port}/ping", server)
        X = served["X"]
        body = {"dataframe_split": {"columns": list(X.columns), "data": X.to_numpy().tolist()}}
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
        assert_scores_match(pd.DataFrame(answer["predictions"]), served["scores"])
        bad = {"dataframe_split": {"columns": ["f0"], "data": [[1.0]]}}  # columns missing
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=json.dumps(bad).encode(),
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=60)
        assert refused.value.code == 400 and "f1" in refused.value.read().decode()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def wait_until_up(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVE_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"mlflow models serve exited: {server.stderr.read().decode()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise AssertionError(f"mlflow models serve did not answer {url} in {SERVE_SECONDS} s")


@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_spark_udf_scores_a_parquet_table_on_local_spark(served) -> None:
    pyspark = pytest.importorskip("pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java")
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("aekit-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    try:
        score = mlflow.pyfunc.spark_udf(spark, str(served["folder"] / "model"), env_manager="local")
        table = spark.read.parquet(str(served["folder"] / "pima.parquet"))
        scored = table.withColumn("aekit", score(*table.columns)).select("aekit.*").toPandas()
    finally:
        spark.stop()
    assert pyspark.__version__ and list(scored.columns) == [*SCORES, "is_anomaly"]
    assert_scores_match(scored, served["scores"])


def test_without_the_extra_the_error_names_it(monkeypatch, tmp_path, digits_split) -> None:
    model = Autoencoder(max_epochs=1, random_state=0).fit(digits_split[0][:200])
    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'aekit\[mlflow\]'"):
        aekit_mlflow.save_model(model, tmp_path / "model")
    assert not (tmp_path / "model").exists()
