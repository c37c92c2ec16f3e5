"""Shared fixtures: real data sets, located without any download."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from aekit.datasets import load_digits
from aekit.training.threads import set_threads

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("AEKIT_DATA", REPO.parent / "shared" / "data"))
SEED = 0


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared data folder (``$AEKIT_DATA`` or ``../shared/data``); skips when absent."""
    if not (SHARED_DATA / "mnist" / "mnist.npz").is_file():
        pytest.skip(f"shared data not found at {SHARED_DATA}; set AEKIT_DATA")
    return SHARED_DATA


@pytest.fixture
def pinned_threads() -> Iterator[Callable[[int | None], int | None]]:
    """aekit's thread count fixed at 2 for the test, for bit-identical reruns (it otherwise
    follows the machine's load, and matrix products round differently at another count).
    Yields ``set_threads`` to change it within the test."""
    previous = set_threads(2)
    yield set_threads
    set_threads(previous)


@pytest.fixture(scope="session")
def digits() -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """The scikit-learn digits as rows of 64 values in [0, 1], with labels."""
    return load_digits()


@pytest.fixture(scope="session")
def digits_split(
    digits: tuple[NDArray[np.float32], NDArray[np.int64]],
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """A fixed train / held-out split of the digits rows."""
    X, _ = digits
    order = np.random.default_rng(SEED).permutation(len(X))
    return X[order[:1400]], X[order[1400:]]


@pytest.fixture(scope="session")
def digit_images() -> NDArray[np.float32]:
    """The first 600 digits as 8x8 images."""
    return load_digits(images=True)[0][:600]


# the fields every kind's configuration shares, set by the estimator from its parameters
SHARED_FIELDS = (
    "activation",
    "latent_activation",
    "loss",
    "variational",
    "beta",
    "sparsity",
    "sparsity_penalty",
    "sparsity_target",
    "dropout",
)


@pytest.fixture(scope="session")
def network_config() -> Callable[..., dict[str, Any]]:
    """``network_config(input_shape, latent_dim, **fields)``: a network configuration whose
    shared fields are the estimator's declared defaults (identity output)."""
    from aekit.estimators.parameters import AutoencoderParams
    from aekit.params import parameters

    declared = parameters(AutoencoderParams)

    def make(input_shape: tuple[int, ...], latent_dim: int, **fields: Any) -> dict[str, Any]:
        shared = {name: declared[name].default for name in SHARED_FIELDS}
        shared["output_activation"] = "identity"
        return {"input_shape": input_shape, "latent_dim": latent_dim, **shared, **fields}

    return make


@pytest.fixture(scope="session")
def timeseries_dir() -> Path:
    """The labelled series (SKAB, NAB) under the shared data; skips when absent."""
    folder = SHARED_DATA / "timeseries"
    if not (folder / "skab" / "valve1" / "0.csv").is_file():
        pytest.skip(f"labelled series not found at {folder}; set AEKIT_DATA")
    return folder


@pytest.fixture(scope="session")
def skab_experiment(timeseries_dir: Path) -> tuple[Any, NDArray[np.int64]]:
    """SKAB's valve1/0 experiment: its 8 channels (a DatetimeIndex) and its fault labels."""
    import pandas as pd

    frame = pd.read_csv(
        timeseries_dir / "skab" / "valve1" / "0.csv",
        sep=";",
        index_col="datetime",
        parse_dates=True,
    )
    labels = frame.pop("anomaly").to_numpy().astype(np.int64)
    return frame.drop(columns="changepoint"), labels
