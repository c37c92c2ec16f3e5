"""Model files written by earlier aekit versions: they load, report the parameters they were
trained with, and give the outputs they gave (``fixtures/v1``: written at commit be166e2)."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors import safe_open

import aekit
from aekit import AnomalyDetector, Autoencoder
from aekit.datasets import load_digits
from aekit.io import migrations
from forging import reforge

FIXTURES = Path(__file__).parent / "fixtures" / "v1"
REPO = Path(__file__).resolve().parents[2]
ADBENCH = Path(os.environ.get("AEKIT_DATA", REPO.parent / "shared" / "data")) / "adbench"
DETECTOR_OWN = set(AnomalyDetector._get_param_names())


@pytest.fixture(scope="module")
def inputs() -> dict[str, Any]:
    """What each fixture was scored on when it was written."""
    rows, _ = load_digits()
    images = load_digits(images=True)[0]
    frame = pd.DataFrame(rows, columns=[f"px{i}" for i in range(64)])
    cardio = ADBENCH / "6_cardio.npz"
    if not cardio.is_file():
        pytest.skip(f"ADBench data not found at {cardio}; set AEKIT_DATA")
    X_cardio = np.asarray(np.load(cardio)["X"], np.float32)
    return {
        "dense": rows[300:340],
        "conv": images[300:340],
        "vae": frame.iloc[300:340],
        "detector": X_cardio[::40],
        "table_detector": pd.read_parquet(FIXTURES / "table_test.parquet"),
    }


@pytest.fixture(scope="module")
def expected() -> dict[str, np.ndarray]:
    with np.load(FIXTURES / "expected.npz") as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def trained_with() -> dict[str, dict[str, Any]]:
    params: dict[str, dict[str, Any]] = json.loads((FIXTURES / "params.json").read_text())
    return params


# The files were written on another CPU: float32 kernels (AVX2, AVX-512, AMX) sum in their own
# order, so outputs agree to float32 rounding, not bit for bit.
FLOAT32 = {"rtol": 1e-5, "atol": 1e-6}


def format_of(path: Path) -> int:
    with safe_open(path, "pt") as f:
        return int(json.loads(f.metadata()["aekit"])["format_version"])


@pytest.mark.parametrize("name", ["dense", "conv", "vae"])
def test_a_format_1_autoencoder_gives_its_outputs(name, inputs, expected) -> None:
    path = FIXTURES / f"{name}.safetensors"
    assert format_of(path) == 1
    model = aekit.load(path)
    assert type(model) is Autoencoder
    X = inputs[name]
    for method in ("transform", "reconstruct", "reconstruction_error"):
        np.testing.assert_allclose(
            getattr(model, method)(X), expected[f"{name}.{method}"], **FLOAT32, err_msg=method
        )
    if model.variational:
        np.testing.assert_array_equal(model.sample(4, random_state=0), expected[f"{name}.sample"])


@pytest.mark.parametrize("name", ["dense", "conv", "vae"])
def test_a_format_1_autoencoder_reports_its_parameters(name, trained_with) -> None:
    model = aekit.load(FIXTURES / f"{name}.safetensors")
    old = dict(trained_with[name])
    settings = {
        k: tuple(value) for k in ("hidden_dims", "channels") if (value := old.pop(k)) is not None
    }
    kind = {"conv": "strided_conv"}.get(old["kind"], old["kind"])  # renamed in format 3
    assert model.get_params() == old | {
        "kind": kind,
        "model_params": settings,
        "weight_init": "glorot",
        "trim_fraction": 0.0,  # added later: how these files were trained, on every sample
    }


@pytest.mark.parametrize("engine", ["torch", "onnxruntime"])
@pytest.mark.parametrize("name", ["detector", "table_detector"])
def test_a_format_1_detector_gives_its_outputs(name, engine, inputs, expected, monkeypatch) -> None:
    """Torch gives the outputs the file gave when written; onnxruntime (the default engine
    where installed) the same within float32 rounding of the score (1e-5 of its largest)."""
    if engine == "onnxruntime":
        pytest.importorskip("onnxruntime")
    monkeypatch.setenv("AEKIT_ENGINE", engine)
    path = FIXTURES / f"{name}.safetensors"
    assert format_of(path) == 1
    detector = aekit.load(path)
    assert type(detector) is AnomalyDetector
    # not in format 1: derived from the rows the scores were calibrated on (under 4,096)
    n_train = len(detector.training_scores_) - len(detector.calibration_scores_)
    assert detector.max_samples_ == n_train
    X = inputs[name]
    assert detector.offset_ == pytest.approx(float(expected[f"{name}.offset_"]), rel=1e-12)
    methods = {
        "score_samples": detector.score_samples,
        "decision_function": detector.decision_function,
        "predict": detector.predict,
        "pvalues": detector.pvalues,
        "explain": lambda X: np.asarray(detector.explain(X)),
        "code_distance": detector.code_distance,
        "hidden_distance": detector.hidden_distance,
        "reconstruction_error": detector.relative_error,  # format 1's name for it
        "member0.transform": detector.estimators_[0].transform,
    }
    for method, call in methods.items():
        if method == "pvalues":  # some test rows are calibration rows: rounding breaks ties
            cal = detector.calibration_scores_
            changed = ~np.isclose(call(X), expected[f"{name}.pvalues"], rtol=0, atol=1e-12)
            tied = np.isclose(detector.anomaly_score(X)[:, None], cal, rtol=1e-6).any(1)
            assert not (changed & ~tied).any(), "a p-value changed beyond rounding"
            np.testing.assert_allclose(
                call(X), expected[f"{name}.pvalues"], atol=1.001 / (len(cal) + 1)
            )
        else:
            want = expected[f"{name}.{method}"]
            tolerance = FLOAT32
            if engine == "onnxruntime" and method != "member0.transform":
                scale = float(np.abs(expected[f"{name}.score_samples"]).max())
                tolerance = {"rtol": 1e-5, "atol": 1e-5 * scale}
            np.testing.assert_allclose(call(X), want, **tolerance, err_msg=method)


@pytest.mark.parametrize("name", ["detector", "table_detector"])
def test_a_format_1_detector_reports_its_parameters(name, trained_with) -> None:
    detector = aekit.load(FIXTURES / f"{name}.safetensors")
    old = dict(trained_with[name])
    params = detector.get_params(deep=True)
    for key in DETECTOR_OWN - {"estimator"}:
        assert params[key] == old.pop(key), key
    hidden = old.pop("hidden_dims")
    assert params["estimator__model_params"] == {"hidden_dims": tuple(hidden)}
    assert old.pop("channels") is None
    assert params["estimator__weight_init"] == "torch"
    for key, value in old.items():
        assert params[f"estimator__{key}"] == value, key
    assert len(detector.estimators_) == 2
    assert detector.estimators_[0].history_.n_epochs == 3  # format 1 kept the first's only
    assert detector.estimators_[1].history_.n_epochs == 0


def test_a_format_1_detector_can_be_trained_again(inputs) -> None:
    """Its parameters build the same detector: refitting gives a working, equal schema."""
    detector = aekit.load(FIXTURES / "detector.safetensors")
    X = inputs["detector"]
    again = AnomalyDetector(**detector.get_params(deep=False)).fit(X)
    assert again.get_params(deep=True)["estimator__activation"] == "tanh"
    assert np.isfinite(again.score_samples(X)).all()


def test_new_files_are_written_in_the_current_format(tmp_path, digit_images) -> None:
    ae = Autoencoder(latent_dim=2, max_epochs=1, random_state=0).fit(digit_images)
    path = ae.save(tmp_path / "m.safetensors")
    assert format_of(path) == migrations.FORMAT_VERSION == 4


def test_a_file_from_before_the_hidden_distance_scores_without_it(tmp_path, inputs) -> None:
    def drop_hidden(header: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        for name in [k for k in tensors if k.startswith("fitted.hidden_")]:
            del tensors[name]
        del header["params"]["hidden_weight"]

    path = reforge(FIXTURES / "detector.safetensors", tmp_path / "old.safetensors", drop_hidden)
    old, X = aekit.load(path), inputs["detector"]
    assert old.hidden_weight == 0.0 and not old.score_module_.has_hidden
    np.testing.assert_allclose(old.anomaly_score(X), old.relative_error(X) + old.code_distance(X))
    with pytest.raises(ValueError, match="refit"):
        old.hidden_distance(X)


def test_a_file_from_before_the_ensemble_and_the_code_distance(tmp_path, inputs) -> None:
    """One network, error scales without a member axis, no code statistics."""

    def single(header: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        for name in [k for k in tensors if k.startswith(("members.", "fitted.code_"))]:
            del tensors[name]
        for name in [k for k in tensors if k.startswith("fitted.hidden_")]:
            tensors[name] = tensors[name][:1].contiguous()
        tensors["fitted.error_scale"] = tensors["fitted.error_scale"][0].contiguous()
        del header["members"]
        for name in ("n_estimators", "max_samples", "latent_weight", "hidden_weight"):
            del header["params"][name]

    path = reforge(FIXTURES / "detector.safetensors", tmp_path / "older.safetensors", single)
    old, X = aekit.load(path), inputs["detector"]
    assert len(old.estimators_) == 1 and old.n_estimators == 1 and old.max_samples == 1.0
    assert old.latent_weight == 0.0 and old.hidden_weight == 0.0
    np.testing.assert_allclose(old.anomaly_score(X), old.relative_error(X))


V2 = Path(__file__).parent / "fixtures" / "v2"


@pytest.fixture(scope="module")
def v2_expected() -> dict[str, np.ndarray]:
    with np.load(V2 / "expected.npz") as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize("name", ["conv", "conv_vae"])
def test_a_format_2_conv_network_loads_as_strided_conv_and_gives_its_outputs(
    name, v2_expected, tmp_path
) -> None:
    """Format 3 gave ``conv`` to the residual design: the old files keep their network."""
    path = V2 / f"{name}.safetensors"
    assert format_of(path) == 2
    model = aekit.load(path)
    trained_with = json.loads((V2 / "params.json").read_text())[name]
    assert model.kind == "strided_conv" and trained_with["kind"] == "conv"
    params = model.get_params()
    assert params.pop("trim_fraction") == 0.0  # added later: they trained on every sample
    assert {k: v for k, v in params.items() if k not in ("kind", "model_params")} == {
        k: v for k, v in trained_with.items() if k not in ("kind", "model_params")
    }
    settings = {k: list(v) for k, v in (params["model_params"] or {}).items()}
    assert settings == (trained_with["model_params"] or {})
    X = load_digits(images=True)[0][300:340]
    with pytest.warns(UserWarning) if not model.noise else contextlib.nullcontext():
        denoised = model.denoise(X)
    np.testing.assert_allclose(denoised, v2_expected[f"{name}.denoise"], **FLOAT32)
    for method in ("transform", "reconstruct", "reconstruction_error"):
        np.testing.assert_allclose(
            getattr(model, method)(X), v2_expected[f"{name}.{method}"], **FLOAT32, err_msg=method
        )
    if model.variational:
        sampled = model.sample(4, random_state=0)
        np.testing.assert_array_equal(sampled, v2_expected[f"{name}.sample"])
    # it trains again as it was trained, and saves in today's format under its new name
    again = Autoencoder(**params).fit(X)
    saved = again.save(tmp_path / "again.safetensors")
    assert format_of(saved) == migrations.FORMAT_VERSION
    assert aekit.load(saved).kind == "strided_conv"


def test_a_format_2_conv_detector_scores_as_before(v2_expected, tmp_path) -> None:
    detector = aekit.load(V2 / "conv_detector.safetensors")
    assert detector.get_params(deep=True)["estimator__kind"] == "strided_conv"
    assert all(member.kind == "strided_conv" for member in detector.estimators_)
    X = load_digits(images=True)[0][300:340]
    np.testing.assert_allclose(
        detector.score_samples(X), v2_expected["conv_detector.score_samples"], **FLOAT32
    )
    np.testing.assert_array_equal(detector.predict(X), v2_expected["conv_detector.predict"])
    np.testing.assert_allclose(
        detector.estimators_[0].transform(X),
        v2_expected["conv_detector.member0.transform"],
        **FLOAT32,
    )
    resaved = aekit.load(detector.save(tmp_path / "d.safetensors"))
    assert format_of(tmp_path / "d.safetensors") == migrations.FORMAT_VERSION
    np.testing.assert_allclose(resaved.score_samples(X), detector.score_samples(X))


V3 = Path(__file__).parent / "fixtures" / "v3"


def v3_series(n: int, seed: int) -> np.ndarray:
    """``fixtures/v3/make_fixtures.py``'s series."""
    t = np.arange(n)
    noise = np.random.default_rng(seed).normal(0, 0.1, (n, 2))
    return np.column_stack([np.sin(2 * np.pi * t / 25), np.cos(2 * np.pi * t / 60)]) + noise


def test_a_format_3_series_autoencoder_reads_levels_as_before(tmp_path) -> None:
    """Format 4 centres windows by default; a format-3 file keeps its uncentred windows."""
    path = V3 / "series_autoencoder.safetensors"
    assert format_of(path) == 3
    model = aekit.load(path)
    assert model.center_windows is False
    trained_with = json.loads((V3 / "params.json").read_text())
    params = model.get_params(deep=True)
    assert params.pop("center_windows") is False  # added later
    # the network is saved as fitted, seeded by the model (estimator__random_state=0)
    differ = ("estimator", "estimator__model_params", "estimator__random_state")
    assert {k: v for k, v in params.items() if k not in differ} == {
        k: v for k, v in trained_with.items() if k not in differ
    }
    assert params["estimator__model_params"] == {"hidden_dims": (32,)}
    with np.load(V3 / "expected.npz") as data:
        expected = {k: data[k] for k in data.files}
    X = v3_series(200, seed=1) + np.array([0.5, 0.0])
    for method in ("reconstruct", "denoise", "reconstruction_error"):
        np.testing.assert_allclose(
            getattr(model, method)(X), expected[f"series_autoencoder.{method}"], **FLOAT32
        )
    np.testing.assert_allclose(
        model.transform(X).to_numpy(), expected["series_autoencoder.transform"], **FLOAT32
    )
    resaved = aekit.load(model.save(tmp_path / "s.safetensors"))
    assert format_of(tmp_path / "s.safetensors") == migrations.FORMAT_VERSION
    assert resaved.center_windows is False
    np.testing.assert_allclose(resaved.reconstruct(X), model.reconstruct(X))


def test_migrations_form_one_chain() -> None:
    assert sorted(migrations.MIGRATIONS) == list(range(1, migrations.FORMAT_VERSION))
