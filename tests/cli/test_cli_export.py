"""``aekit export``: the ONNX graph of a model file scores as ``aekit score`` does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cli_helpers import DETECTOR_COLUMNS, aekit

from aekit import AnomalyDetector

ort = pytest.importorskip("onnxruntime")


def test_exported_detector_scores_as_aekit_score_writes(tmp_path, data_dir) -> None:
    with np.load(data_dir / "adbench" / "29_Pima.npz") as data:
        X = data["X"].astype(np.float32)
    columns = [f"f{i}" for i in range(X.shape[1])]
    pd.DataFrame(X, columns=columns).to_csv(tmp_path / "pima.csv", index=False)
    detector = AnomalyDetector(n_estimators=2, false_positive_rate=0.05, random_state=0)
    detector.set_params(estimator__max_epochs=3).fit(pd.DataFrame(X, columns=columns))
    detector.save(tmp_path / "detector.safetensors")

    done = aekit("export", "detector.safetensors", "-o", "detector.onnx", cwd=tmp_path)
    assert "inputs input; outputs anomaly_score, relative_error" in done.stdout
    aekit("score", "detector.safetensors", "pima.csv", "-o", "scores.csv", cwd=tmp_path)

    written = pd.read_csv(tmp_path / "scores.csv")
    session = ort.InferenceSession(str(tmp_path / "detector.onnx"))
    outputs = dict(zip(DETECTOR_COLUMNS, session.run(DETECTOR_COLUMNS, {"input": X}), strict=True))
    for name in ("anomaly_score", "relative_error", "code_distance", "hidden_distance"):
        np.testing.assert_allclose(outputs[name], written[name], rtol=1e-5)
    assert (outputs["is_anomaly"] == written["is_anomaly"].astype(bool)).mean() > 0.99


def test_export_errors_are_one_line(tmp_path) -> None:
    (tmp_path / "foreign.safetensors").write_bytes(b"not a model")
    foreign = aekit("export", "foreign.safetensors", "-o", "out/m.onnx", cwd=tmp_path, check=False)
    assert foreign.returncode == 1 and "folder out does not exist" in foreign.stderr
    assert "Traceback" not in foreign.stderr
    not_a_model = aekit("export", "foreign.safetensors", "-o", "m.onnx", cwd=tmp_path, check=False)
    assert not_a_model.returncode == 1 and "foreign.safetensors" in not_a_model.stderr
    assert not (tmp_path / "m.onnx").exists()
