"""Model files: exact round trips, atomic writes, refusal of anything that is not ours."""

from __future__ import annotations

import json

import numpy as np
import pytest

import aekit
from aekit import Autoencoder
from aekit.exceptions import ModelFileError
from aekit.io import atomic

VARIANTS = {
    "dense": {"kind": "dense"},
    "conv": {"kind": "conv"},
    "strided_conv": {"kind": "strided_conv"},
    "vae": {"kind": "dense", "variational": True, "beta": 0.5},
    "sparse-denoising": {"kind": "dense", "sparsity": 0.01, "noise": "masking"},
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_round_trip_is_exact(variant, digit_images, tmp_path):
    ae = Autoencoder(latent_dim=3, max_epochs=2, random_state=0, **VARIANTS[variant])
    ae.fit(digit_images)
    path = ae.save(tmp_path / "model.safetensors")
    loaded = aekit.load(path)
    assert type(loaded) is Autoencoder
    assert loaded.get_params() == ae.get_params() | {"random_state": 0}
    X = digit_images[:50]
    assert np.array_equal(loaded.transform(X), ae.transform(X))
    assert np.array_equal(loaded.reconstruct(X), ae.reconstruct(X))
    assert loaded.history_ == ae.history_
    assert loaded.sample_shape_ == ae.sample_shape_
    if ae.variational:
        assert np.array_equal(loaded.sample(5, random_state=1), ae.sample(5, random_state=1))


def test_feature_names_survive(digits_split, tmp_path):
    import pandas as pd

    frame = pd.DataFrame(digits_split[0][:100], columns=[f"c{i}" for i in range(64)])
    ae = Autoencoder(max_epochs=1, random_state=0).fit(frame)
    loaded = aekit.load(ae.save(tmp_path / "m.safetensors"))
    assert list(loaded.feature_names_in_) == list(frame.columns)


@pytest.fixture(scope="module")
def saved(digits_split, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "good.safetensors"
    Autoencoder(max_epochs=1, random_state=0).fit(digits_split[0][:100]).save(path)
    return path


def test_file_holds_weights_and_a_json_header(saved):
    from safetensors import safe_open

    with safe_open(saved, "pt") as f:
        header = json.loads(f.metadata()["aekit"])
        names = list(f.keys())
    assert header["format"] == "aekit-model"
    assert header["aekit_version"] == aekit.__version__
    assert header["estimator"] == "Autoencoder"
    assert header["kind"] == "dense"
    assert any(n.startswith("model.") for n in names)
    assert {"fitted.scaler.offset", "fitted.scaler.scale"} <= set(names)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        aekit.load(tmp_path / "nope.safetensors")
    with pytest.raises(ModelFileError, match="is a directory"):
        aekit.load(tmp_path)


def test_failed_write_leaves_the_previous_file_intact(saved, tmp_path, monkeypatch, digits_split):
    target = tmp_path / "model.safetensors"
    target.write_bytes(saved.read_bytes())
    before = target.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", crash)
    ae = Autoencoder(max_epochs=1, random_state=1).fit(digits_split[0][:100])
    with pytest.raises(OSError, match="disk full"):
        ae.save(target)
    assert target.read_bytes() == before
    assert list(tmp_path.iterdir()) == [target]  # no partial file left behind


def test_disk_full_while_writing_leaves_the_previous_file(
    saved, tmp_path, monkeypatch, digits_split
):
    import errno

    target = tmp_path / "model.safetensors"
    target.write_bytes(saved.read_bytes())
    before = target.read_bytes()

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", no_space)
    ae = Autoencoder(max_epochs=1, random_state=1).fit(digits_split[0][:100])
    with pytest.raises(OSError, match="No space left"):
        ae.save(target)
    assert target.read_bytes() == before
    assert list(tmp_path.iterdir()) == [target]


def test_unfitted_model_cannot_be_saved(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Autoencoder().save(tmp_path / "m.safetensors")
