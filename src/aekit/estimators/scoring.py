"""What scoring a fitted model writes, the one definition ``aekit score`` and the MLflow
model share."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import is_outlier_detector

RECONSTRUCTION_ERROR = "reconstruction_error"  # an Autoencoder's one score column


def score_columns(model: Any, X: Any) -> dict[str, NDArray[Any]]:
    """The score columns for ``X``, in order: a detector's ``score_parts`` (the anomaly
    score, its terms, the p-value with a calibration split, ``is_anomaly``), or an
    Autoencoder's ``reconstruction_error``."""
    if is_outlier_detector(model):
        return dict(model.score_parts(X))
    return {RECONSTRUCTION_ERROR: np.asarray(model.reconstruction_error(X))}


def identifier_columns(model: Any, X: Any) -> Any:
    """The identifier columns of a DataFrame ``X`` (keys a table model left out of its
    inputs), so that each score joins back to its row; None when there are none."""
    table = getattr(model, "preprocessor_", None)
    if table is None or not hasattr(X, "columns"):
        return None
    present = [c for c in X.columns if str(c) in table.identifiers_]
    return X[present].reset_index(drop=True) if present else None


def score_frame(model: Any, X: Any) -> Any:
    """A DataFrame of ``X``'s identifier columns, then the score columns (``is_anomaly``
    as bool), on ``X``'s index when it has one."""
    import pandas as pd

    scores = pd.DataFrame(score_columns(model, X))
    keys = identifier_columns(model, X)
    if keys is not None:
        scores = pd.concat([keys, scores], axis=1)
    if hasattr(X, "index"):
        scores.index = X.index
    return scores
