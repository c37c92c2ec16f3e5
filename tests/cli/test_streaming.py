"""score / encode / reconstruct streaming Parquet and CSV in chunks, as a user runs them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_helpers import DETECTOR_COLUMNS, aekit

import aekit as aekit_api
from aekit.datasets import load_digits


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Digits as a folder of Parquet files and as a CSV, a model and a detector fitted on
    the folder (a streamed fit)."""
    folder = tmp_path_factory.mktemp("stream")
    X, _ = load_digits()
    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    (folder / "parts").mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 3)):
        table = pa.Table.from_pandas(frame.iloc[rows].reset_index(drop=True), preserve_index=False)
        pq.write_table(table, folder / "parts" / f"{i}.parquet", row_group_size=256)
    frame.to_csv(folder / "digits.csv", index=False)
    common = ("--max-epochs", "3", "--latent-dim", "4", "--quiet")
    aekit("fit", "parts", "-o", "model.safetensors", *common, cwd=folder)
    aekit("fit", "parts", "-o", "detector.safetensors", "--detector", *common, cwd=folder)
    return folder


def read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


@pytest.mark.parametrize(("source", "suffix"), [("parts", ".parquet"), ("digits.csv", ".csv")])
def test_streamed_outputs_equal_the_in_memory_results(
    workdir: Path, source: str, suffix: str
) -> None:
    X = pd.read_csv(workdir / "digits.csv")
    model = aekit_api.load(workdir / "model.safetensors")
    detector = aekit_api.load(workdir / "detector.safetensors")
    runs = {
        "encode": ("model", model.transform(X)),
        "reconstruct": ("model", model.reconstruct(X)),
        "score": ("detector", None),
    }
    for command, (which, expected) in runs.items():
        out = workdir / f"{command}-{source.split('.')[0]}{suffix}"
        result = aekit(command, f"{which}.safetensors", source, "-o", out.name, cwd=workdir)
        assert f"wrote {len(X)} rows" in result.stdout
        got = read(out)
        if command == "score":
            expected = DETECTOR_COLUMNS
            assert list(got.columns) == expected
            np.testing.assert_allclose(got["relative_error"], detector.relative_error(X), rtol=1e-5)
            np.testing.assert_allclose(got["hidden_distance"], detector.hidden_distance(X), 1e-5)
            # float32 networks give last-bit differences between batch sizes (row groups of
            # 256 here, one batch in memory); a calibration row's own score can then fall
            # either side of its calibration score: one rank, 1 / (n_cal + 1), at most
            one_rank = 1.0 / (len(detector.calibration_scores_) + 1)
            p_values = detector.pvalues(X)
            np.testing.assert_allclose(got["p_value"], p_values, rtol=0, atol=one_rank + 1e-6)
            assert np.isclose(got["p_value"], p_values, rtol=1e-5).mean() > 0.99
            np.testing.assert_array_equal(got["is_anomaly"] == 1, detector.predict(X) == -1)
            assert f"{int(got['is_anomaly'].sum())} of {len(X)} samples flagged" in result.stdout
        else:
            np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-5, atol=1e-6)
    names = list(read(workdir / f"reconstruct-{source.split('.')[0]}{suffix}").columns)
    assert names == list(X.columns)


def test_progress_bar_over_rows_unless_quiet(workdir: Path) -> None:
    shown = aekit("score", "model.safetensors", "parts", "-o", "s.parquet", cwd=workdir)
    assert "row" in shown.stderr and "scoring" in shown.stderr
    quiet = aekit("score", "model.safetensors", "parts", "-o", "s.parquet", "--quiet", cwd=workdir)
    assert quiet.stderr == ""


def test_a_failure_midway_leaves_the_old_output_and_no_partial_file(workdir: Path) -> None:
    X, _ = load_digits()
    frame = pd.DataFrame(X[:600], columns=[f"px{i}" for i in range(64)])
    frame.iloc[500, 3] = np.nan  # in the second row group: the first is written by then
    pq.write_table(pa.Table.from_pandas(frame), workdir / "bad.parquet", row_group_size=300)
    (workdir / "old.parquet").write_bytes(b"the previous output")
    result = aekit(
        "score",
        "model.safetensors",
        "bad.parquet",
        "-o",
        "old.parquet",
        "--quiet",
        cwd=workdir,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("aekit: error: X contains NaN") and "px3" in result.stderr
    assert "rows 300-599 of bad.parquet" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert (workdir / "old.parquet").read_bytes() == b"the previous output"
    assert not list(workdir.glob(".*partial*"))


def test_output_is_checked_before_any_work(workdir: Path) -> None:
    result = aekit(
        "score", "model.safetensors", "parts", "-o", "nowhere/s.csv", cwd=workdir, check=False
    )
    assert result.returncode == 1
    assert "folder nowhere does not exist" in result.stderr
    missing = aekit(
        "encode", "model.safetensors", "absent.parquet", "-o", "c.csv", cwd=workdir, check=False
    )
    assert missing.returncode == 1 and "absent.parquet" in missing.stderr
    pd.read_csv(workdir / "digits.csv").drop(columns=["px5"]).to_csv(
        workdir / "narrow.csv", index=False
    )
    narrow = aekit(
        "encode", "model.safetensors", "narrow.csv", "-o", "c.csv", cwd=workdir, check=False
    )
    assert narrow.returncode == 1 and "px5" in narrow.stderr
    assert not (workdir / "c.csv").exists()


def test_fit_streams_a_parquet_folder(workdir: Path) -> None:
    model = aekit_api.load(workdir / "model.safetensors")
    assert model.n_features_in_ == 64 and model.history_.n_epochs == 3
    assert list(model.feature_names_in_) == [f"px{i}" for i in range(64)]
