"""Turn what users pass into float32 arrays, or say clearly what is wrong with it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_array, validate_data

from aekit.exceptions import InputError

MAX_SAMPLE_DIMS = 3  # (C, H, W)


def _is_dataframe(X: Any) -> bool:
    return hasattr(X, "columns") and hasattr(X, "dtypes")


def check_numeric_columns(X: Any) -> None:
    """Raise ``InputError`` naming the non-numeric columns of a DataFrame."""
    if not _is_dataframe(X):
        return
    bad = [
        str(c)
        for c, dt in zip(X.columns, X.dtypes, strict=True)
        if getattr(dt, "kind", "O") not in "biuf"
    ]
    if bad:
        shown = ", ".join(repr(c) for c in bad[:10]) + (" ..." if len(bad) > 10 else "")
        raise InputError(
            f"X has non-numeric columns {shown}; aekit needs numbers (bool, int or float): "
            f"encode or drop these columns first"
        )


def _non_numeric(error: ValueError, name: str) -> ValueError:
    """numpy's failed float conversion, said plainly; any other error as it was."""
    if "could not convert" in str(error) or "convert array of bytes" in str(error):
        return InputError(f"{name} must hold numbers; {error}")
    return error


def check_finite(X: NDArray[np.float32], names: Any = None) -> None:
    """Raise ``InputError`` naming where X holds NaN or infinity."""
    finite = np.isfinite(X)
    if finite.all():
        return
    bad = ~finite.reshape(len(X), -1)
    rows = np.flatnonzero(bad.any(axis=1))[:5].tolist()
    cols = np.flatnonzero(bad.any(axis=0))
    where = f"column {names[cols[0]]!r}" if names is not None else f"feature {cols[0]}"
    raise InputError(
        f"X contains NaN or infinity (or values beyond float32's range) in {where} "
        f"(rows {rows}); impute, clip or drop them first"
    )


def check_column_names(frame: Any) -> None:
    """A DataFrame needs at least one column, and no name twice."""
    names = [str(c) for c in frame.columns]
    if not names:
        raise InputError(f"X is a DataFrame of {len(frame)} rows and no columns; expected features")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"X has duplicate column names {shown_names(twice)}")


def shown_names(names: list[str]) -> str:
    """Column names for an error message: quoted, the first 20."""
    return ", ".join(repr(n) for n in names[:20]) + (" ..." if len(names) > 20 else "")


def validate_samples(estimator: BaseEstimator, X: Any, *, reset: bool) -> NDArray[np.float32]:
    """Check ``X`` and return it as a C-contiguous float32 array ``(n_samples, *sample_shape)``.

    Rows are ``(n_samples, n_features)`` (NumPy, pandas, lists); images are
    ``(n_samples, H, W)`` or ``(n_samples, C, H, W)``. With ``reset=True`` this records
    ``n_features_in_`` (values per sample) and, for DataFrames, ``feature_names_in_``;
    otherwise it checks X against them.
    """
    check_numeric_columns(X)
    if _is_dataframe(X):
        check_column_names(X)
    if not hasattr(X, "shape") and not _is_dataframe(X):
        try:
            X = np.asarray(X)
        except ValueError as error:
            raise InputError(f"X could not be read as a rectangular array: {error}") from None
    try:
        with np.errstate(over="ignore"):  # values beyond float32 become inf, reported below
            if len(getattr(X, "shape", ())) > 2:
                X = _validate_images(estimator, X, reset=reset)
            else:
                X = validate_data(
                    estimator, X, reset=reset, dtype=np.float32, ensure_all_finite=False, order="C"
                )
    except ValueError as error:
        raise _non_numeric(error, "X") from None
    check_finite(X, getattr(estimator, "feature_names_in_", None))
    return np.asarray(X, dtype=np.float32)


def _validate_images(estimator: BaseEstimator, X: Any, *, reset: bool) -> NDArray[np.float32]:
    if X.ndim > 1 + MAX_SAMPLE_DIMS:
        raise InputError(
            f"X has shape {X.shape}; expected rows (n_samples, n_features) or images "
            f"(n_samples, H, W) / (n_samples, C, H, W)"
        )
    X = check_array(X, dtype=np.float32, allow_nd=True, ensure_all_finite=False, order="C")
    n_values = math.prod(X.shape[1:])
    if n_values == 0:
        raise InputError(f"X has samples of shape {X.shape[1:]}, which hold no values")
    if reset:
        estimator.n_features_in_ = n_values
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    elif n_values != estimator.n_features_in_:
        raise InputError(
            f"X has samples of shape {X.shape[1:]} ({n_values} values), but "
            f"{type(estimator).__name__} is expecting {estimator.n_features_in_} features as input"
        )
    return np.asarray(X, dtype=np.float32)


def validate_codes(Z: Any, latent_dim: int) -> NDArray[np.float32]:
    """Check latent codes ``(n_samples, latent_dim)`` as ``validate_samples`` checks data."""
    try:
        with np.errstate(over="ignore"):
            Z = check_array(
                Z, dtype=np.float32, ensure_all_finite=False, order="C", input_name="codes"
            )
    except ValueError as error:
        raise _non_numeric(error, "codes") from None
    if Z.shape[1] != latent_dim:
        raise InputError(f"codes must have shape (n_samples, {latent_dim}); got {Z.shape}")
    check_finite(Z)
    return np.asarray(Z, dtype=np.float32)
