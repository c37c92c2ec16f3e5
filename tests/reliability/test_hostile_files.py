"""Hostile model files: each is refused with a clear error, and nothing in them runs."""

from __future__ import annotations

import json
import os
import pickle
import struct

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import aekit
from aekit import Autoencoder
from aekit.exceptions import ModelFileError
from forging import reforge


@pytest.fixture(scope="module")
def saved(digits_split, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "good.safetensors"
    Autoencoder(max_epochs=1, random_state=0).fit(digits_split[0][:100]).save(path)
    return path


def rewrite_header(path, target, change):
    """Copy ``path`` to ``target`` with its aekit header changed by ``change(header)``."""
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    outer = json.loads(data[8 : 8 + n])
    header = json.loads(outer["__metadata__"]["aekit"])
    change(header)
    outer["__metadata__"]["aekit"] = json.dumps(header)
    raw = json.dumps(outer).encode()
    target.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n :])
    return target


def test_newer_format_is_refused_with_upgrade_advice(saved, tmp_path):
    path = rewrite_header(
        saved, tmp_path / "new.safetensors", lambda h: h.update(format_version=99)
    )
    with pytest.raises(ModelFileError, match=r"model format 99 .* upgrade aekit"):
        aekit.load(path)


def test_forged_metadata_fails_the_checksum(saved, tmp_path):
    path = rewrite_header(
        saved, tmp_path / "forged.safetensors", lambda h: h["config"].update(latent_dim=5)
    )
    with pytest.raises(ModelFileError, match="failed its checksum"):
        aekit.load(path)


def test_changed_weights_fail_the_checksum(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    data[-4] ^= 0xFF
    path = tmp_path / "flipped.safetensors"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="failed its checksum"):
        aekit.load(path)


def test_foreign_safetensors_file_is_refused(tmp_path):
    path = tmp_path / "foreign.safetensors"
    save_file({"weight": torch.zeros(3)}, path, metadata={"format": "pt"})
    with pytest.raises(ModelFileError, match="no aekit header"):
        aekit.load(path)


class Boom:
    def __reduce__(self):
        return (os.system, ("touch /tmp/aekit-pwned",))


@pytest.mark.parametrize("content", ["pickle", "random", "truncated", "empty", "huge-header"])
def test_hostile_files_are_refused_and_run_nothing(content, saved, tmp_path):
    path = tmp_path / f"{content}.safetensors"
    data = {
        "pickle": pickle.dumps(Boom()),
        "random": np.random.default_rng(0).bytes(4096),
        "truncated": saved.read_bytes()[:300],
        "empty": b"",
        "huge-header": struct.pack("<Q", 2**60) + b"{}",
    }[content]
    path.write_bytes(data)
    with pytest.raises(ModelFileError, match="is not an aekit model file"):
        aekit.load(path)
    assert not os.path.exists("/tmp/aekit-pwned")


def test_huge_declared_tensor_is_refused_without_allocating(saved, tmp_path):
    data = saved.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    outer = json.loads(data[8 : 8 + n])
    name = next(k for k in outer if k.startswith("model."))
    outer[name]["shape"] = [2**40]
    outer[name]["data_offsets"] = [0, 2**42]
    raw = json.dumps(outer).encode()
    path = tmp_path / "huge.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n :])
    with pytest.raises(ModelFileError, match="unreadable tensors"):
        aekit.load(path)


@pytest.fixture(scope="module")
def saved_detector(tmp_path_factory):
    import pandas as pd

    rng = np.random.default_rng(0)
    table = pd.DataFrame({"amount": rng.gamma(2, 10, 120), "city": rng.choice(["a", "b"], 120)})
    detector = aekit.AnomalyDetector(n_estimators=2, random_state=0)
    detector.set_params(estimator__max_epochs=1, estimator__model_params={"hidden_dims": (4,)})
    path = tmp_path_factory.mktemp("detector") / "detector.safetensors"
    detector.fit(table).save(path)
    return path


def _empty(name):
    def change(header, tensors):
        tensors[name] = tensors[name].reshape(-1)[:0].clone()

    return change


def _nan(name):
    def change(header, tensors):
        tensors[name] = torch.full_like(tensors[name], float("nan"))

    return change


@pytest.mark.parametrize(
    ("change", "match"),
    [  # each found by the fuzzing campaign: loaded, then a raw error (or NaN) when scoring
        (_empty("score.latent_weight"), r"score statistic latent_weight has shape \(0,\)"),
        (_empty("score.code_mean"), r"code_mean holds 0 members' statistics for 2 networks"),
        (_empty("fitted.preprocessor.numeric.median"), r"SimpleImputer.statistics_ has shape"),
        (lambda h, t: h["params"]["estimator"].update(params=[]), "parameters are a list"),
        (_nan("fitted.scaler.scale"), "scaling needs a finite offset and a finite, non-zero"),
        (lambda h, t: h["fitted"].update(offset_="nan"), "offset_ holds NaN or infinity"),
        (_nan("fitted.calibration_scores"), "calibration_scores holds NaN"),
    ],
)
def test_forged_statistics_with_a_valid_checksum_are_refused(
    saved_detector, tmp_path, change, match
):
    path = reforge(saved_detector, tmp_path / "forged.safetensors", change)
    with pytest.raises(ModelFileError, match=match):
        aekit.load(path)


def test_a_forged_huge_network_is_refused_before_allocating(saved, tmp_path):
    def change(header, tensors):
        header["config"]["latent_dim"] = 10**9

    path = reforge(saved, tmp_path / "huge.safetensors", change)
    with pytest.raises(ModelFileError, match=r"latent_dim=1000000000 has [\d,]+ parameters"):
        aekit.load(path)
