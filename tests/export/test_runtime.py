"""onnxruntime as the scoring engine: the same scores as torch, chosen by AEKIT_ENGINE."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from aekit import AnomalyDetector
from aekit.exceptions import InputError
from aekit.models.stacked import StackedMLP

pytest.importorskip("onnxruntime")

RTOL = 1e-5


def pima(data_dir: Path) -> np.ndarray:
    with np.load(data_dir / "adbench" / "29_Pima.npz") as data:
        return data["X"].astype(np.float32)


@pytest.fixture(scope="module")
def detector(data_dir) -> AnomalyDetector:
    return (
        AnomalyDetector(false_positive_rate=0.05, random_state=0)
        .set_params(estimator__max_epochs=3)
        .fit(pima(data_dir))
    )


def both_engines(detector, X, monkeypatch, call: str = "score_parts"):
    monkeypatch.setenv("AEKIT_ENGINE", "onnxruntime")
    fast = getattr(detector, call)(X)
    monkeypatch.setenv("AEKIT_ENGINE", "torch")
    slow = getattr(detector, call)(X)
    monkeypatch.delenv("AEKIT_ENGINE")
    return fast, slow


def test_default_engine_is_onnxruntime_and_agrees_with_torch(detector, data_dir, monkeypatch):
    assert detector.scoring_engine == "onnxruntime"
    X = pima(data_dir)
    fast, slow = both_engines(detector, X, monkeypatch)
    for name in ("anomaly_score", "relative_error", "code_distance", "hidden_distance"):
        np.testing.assert_allclose(fast[name], slow[name], rtol=RTOL)
    monkeypatch.setenv("AEKIT_ENGINE", "torch")
    assert detector.scoring_engine == "torch"


@pytest.mark.parametrize("engine", ["onnxruntime", "torch"])
def test_explain_rows_average_to_the_relative_error_on_either_engine(
    engine, detector, data_dir, monkeypatch
):
    """Exactly (1e-9) on torch, in float64; to float32 rounding on onnxruntime, where the
    two come from two graphs that sum in another order."""
    monkeypatch.setenv("AEKIT_ENGINE", engine)
    X = pima(data_dir)[:300]
    rtol = 2e-6 if engine == "onnxruntime" else 1e-9
    np.testing.assert_allclose(detector.explain(X).mean(1), detector.relative_error(X), rtol=rtol)
    assert detector.explain(X).shape == (300, 8)


def test_members_that_do_not_stack_score_with_torch(digit_images, monkeypatch) -> None:
    detector = AnomalyDetector(n_estimators=2, random_state=0)
    detector.set_params(estimator__kind="conv", estimator__max_epochs=1).fit(digit_images[:200])
    assert detector.score_module_.stacked is None and detector.scoring_engine == "torch"
    monkeypatch.setenv("AEKIT_ENGINE", "onnxruntime")
    with pytest.raises(ValueError, match="not MLPs of one shape"):
        detector.score_samples(digit_images[:5])
    monkeypatch.setenv("AEKIT_ENGINE", "gpu please")
    with pytest.raises(InputError, match="AEKIT_ENGINE='gpu please' is not one of"):
        detector.score_samples(digit_images[:5])


@pytest.mark.parametrize(
    "member",
    [{"variational": True}, {"activation": "relu", "latent_dim": 3}, {"activation": "gelu"}],
)
def test_other_dense_members_stack_and_agree(member, data_dir, monkeypatch) -> None:
    X = pima(data_dir)
    params = {f"estimator__{k}": v for k, v in member.items()}
    detector = AnomalyDetector(n_estimators=3, random_state=0)
    detector.set_params(estimator__max_epochs=2, **params).fit(X)
    assert detector.scoring_engine == "onnxruntime"
    fast, slow = both_engines(detector, X, monkeypatch, "anomaly_score")
    np.testing.assert_allclose(fast, slow, rtol=RTOL)


def test_stacked_members_inspect_as_each_member(detector, data_dir) -> None:
    x = torch.from_numpy(detector.network_inputs(pima(data_dir)[:100]))
    networks = list(detector.score_module_.networks)
    stacked = StackedMLP.of(networks)
    assert stacked is not None
    with torch.inference_mode():
        together = stacked.inspect(x)
        for m, network in enumerate(networks):
            for got, want in zip(together, network.inspect(x), strict=True):
                torch.testing.assert_close(got[m], want.reshape(len(x), -1), rtol=1e-5, atol=1e-6)


def test_a_detector_that_scored_still_pickles(detector, data_dir) -> None:
    X = pima(data_dir)[:50]
    before = detector.anomaly_score(X)  # builds the onnxruntime session
    again = pickle.loads(pickle.dumps(detector))
    np.testing.assert_array_equal(again.anomaly_score(X), before)


def test_an_overflow_is_reported_with_its_row_from_any_batch(detector, data_dir):
    """onnxruntime scores batches on several threads: the error still names the row,
    counted from the start of X, not from its batch."""
    X = np.tile(pima(data_dir), (12, 1))  # 9,216 rows: three batches
    X[9000] = 1e19  # scales to finite float32 values whose squared error is not
    with pytest.raises(InputError, match=r"network overflowed on rows \[9000\]"):
        detector.decision_function(X)
    assert np.isfinite(detector.decision_function(X[:8000])).all()
