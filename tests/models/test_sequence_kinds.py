"""The sequence kinds (temporal_conv, recurrent): shapes, settings, and learning a signal."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit import Autoencoder
from aekit.models import build_model, kind_settings, model_class

SEQUENCE_KINDS = ("temporal_conv", "recurrent")


@pytest.mark.parametrize("kind", SEQUENCE_KINDS)
@pytest.mark.parametrize("shape", [(1, 2, 1), (1, 17, 3), (1, 64, 8), (1, 31, 1)])
def test_sequence_kinds_keep_any_window_shape(kind, shape, network_config):
    model = build_model(kind, network_config(shape, 3), init="torch")
    x = torch.randn(5, *shape)
    assert model(x).shape == x.shape
    hidden, code, errors = model.inspect(x)
    assert code.shape == (5, 3) and errors.shape == x.shape and hidden.ndim == 2
    assert model_class(kind).takes_sequences and not model_class("dense").takes_sequences


@pytest.mark.parametrize("kind", SEQUENCE_KINDS)
def test_sequence_kinds_refuse_rows_and_bad_settings(kind, network_config):
    with pytest.raises(ValueError, match=rf"kind='{kind}' needs sequences"):
        build_model(kind, network_config((64,), 2), init="torch")
    bad = {"temporal_conv": {"kernel_size": 4}, "recurrent": {"cell": "rnn"}}[kind]
    with pytest.raises(ValueError, match=r"kernel_size=4 must be an odd|cell='rnn' is not one of"):
        build_model(kind, network_config((1, 10, 2), 2, **bad), init="torch")
    assert (
        set(kind_settings(kind))
        == {
            "temporal_conv": {"channels", "kernel_size"},
            "recurrent": {"cell", "hidden_size", "num_layers"},
        }[kind]
    )


@pytest.mark.parametrize(
    ("kind", "settings"), [("temporal_conv", None), ("recurrent", {"cell": "lstm"})]
)
def test_sequence_kinds_learn_shifted_sines(kind, settings):
    rng = np.random.default_rng(0)
    t = np.arange(32)[None, :, None]
    phase = rng.uniform(0, 2 * np.pi, (400, 1, 1))
    windows = np.concatenate([np.sin(t / 4 + phase), np.cos(t / 4 + phase)], axis=2)
    model = Autoencoder(
        kind, latent_dim=2, max_epochs=15, model_params=settings, scale="none", random_state=0
    ).fit(windows.astype(np.float32))
    error = np.mean((model.reconstruct(windows) - windows) ** 2)
    assert error < 0.1 * windows.var()  # one phase is all there is to remember
