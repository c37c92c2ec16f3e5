"""The detector with an image kind: its own defaults, and one error scale for all pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from aekit import AnomalyDetector
from aekit.datasets import load_mnist
from aekit.estimators.outlier import DETECTION_DEFAULTS, IMAGE_DETECTION_DEFAULTS


def test_an_image_kind_takes_the_image_defaults_and_a_table_kind_does_not() -> None:
    member = AnomalyDetector.default_estimator(kind="strided_conv")
    assert member.scale == "auto" and member.latent_dim == 16
    assert member.model_params == {"channels": (8, 16), "hidden_dims": ()}
    assert member.learning_rate == DETECTION_DEFAULTS["learning_rate"]  # the rest is shared
    residual = AnomalyDetector.default_estimator(kind="conv")
    assert residual.latent_dim == IMAGE_DETECTION_DEFAULTS["latent_dim"]
    assert residual.model_params == {"channels": (8, 16), "hidden_dims": ()}
    table = AnomalyDetector.default_estimator()
    assert table.scale == "standard" and table.latent_dim == 2
    assert table.model_params == {"hidden_dims": (64, 32)}
    nested = AnomalyDetector().set_params(estimator__kind="strided_conv")
    assert nested.get_params()["estimator__latent_dim"] == 16


@pytest.fixture(scope="module")
def zeros_and_others(data_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """600 training images of 0 with 10% other digits; 1,000 test images, 0 = normal."""
    (X_train, y_train), (X_test, y_test) = load_mnist(data_dir / "mnist" / "mnist.npz")
    rng = np.random.default_rng(0)
    rows = np.concatenate(
        [np.flatnonzero(y_train == 0)[:540], rng.choice(np.flatnonzero(y_train != 0), 60)]
    )
    return X_train[rows], X_test[:1000], y_test[:1000] != 0


def test_a_conv_detector_measures_pixels_on_one_scale_and_finds_other_digits(
    zeros_and_others: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    X, X_test, is_other = zeros_and_others
    member = AnomalyDetector.default_estimator(kind="strided_conv")
    detector = AnomalyDetector(estimator=member, n_estimators=2, random_state=0).fit(X)
    scale = detector.score_module_.statistics()["error_scale"].numpy()
    assert scale.shape == (2, 28 * 28)
    np.testing.assert_array_equal(scale, scale[:, :1].repeat(28 * 28, axis=1))  # one per member
    auc = roc_auc_score(is_other, detector.anomaly_score(X_test))
    assert auc > 0.90, auc
    dense = AnomalyDetector(n_estimators=2, random_state=0).fit(X)  # per-pixel scales
    dense_scale = dense.score_module_.statistics()["error_scale"].numpy()
    assert np.ptp(dense_scale, axis=1).min() > 0
