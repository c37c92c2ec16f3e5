"""Tiny models on the digits, trained once per session, for the figure tests."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless, before anything imports pyplot

import numpy as np
import pytest
from numpy.typing import NDArray

from aekit import Autoencoder
from aekit.datasets import load_digits

N_SAMPLES = 300  # enough for every figure, seconds to train on two cores


@pytest.fixture(scope="session")
def rows() -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    X, y = load_digits()
    return X[:N_SAMPLES], y[:N_SAMPLES]


@pytest.fixture(scope="session")
def images() -> NDArray[np.float32]:
    return load_digits(images=True)[0][:N_SAMPLES]


@pytest.fixture(scope="session")
def dense(rows: tuple[NDArray[np.float32], NDArray[np.int64]]) -> Autoencoder:
    return Autoencoder(
        latent_dim=2, model_params={"hidden_dims": (32, 16)}, max_epochs=3, random_state=0
    ).fit(rows[0])


@pytest.fixture(scope="session")
def variational(rows: tuple[NDArray[np.float32], NDArray[np.int64]]) -> Autoencoder:
    """A sparse VAE: three loss terms (reconstruction, kl, sparsity)."""
    return Autoencoder(
        latent_dim=2,
        model_params={"hidden_dims": (32,)},
        variational=True,
        sparsity=0.01,
        max_epochs=3,
        random_state=0,
    ).fit(rows[0])


@pytest.fixture(scope="session")
def conv_denoising(images: NDArray[np.float32]) -> Autoencoder:
    """A convolutional denoising autoencoder on 8x8 images."""
    return Autoencoder(
        "conv",
        latent_dim=2,
        model_params={"channels": (4, 8)},
        noise="gaussian",
        noise_level=0.2,
        max_epochs=2,
        random_state=0,
    ).fit(images)
