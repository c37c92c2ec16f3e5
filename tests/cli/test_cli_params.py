"""``aekit fit``'s options come from the parameter declarations: an option not given keeps
the Python default, and every option given reaches the estimator as typed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from cli_helpers import aekit as aekit_cli

import aekit
from aekit import AnomalyDetector, Autoencoder
from aekit.cli.options import autoencoder_params, detector_params
from aekit.datasets import load_digits


def comparable(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters without estimator objects (a detector's member is in its estimator__ keys)."""
    return {k: v for k, v in params.items() if k != "estimator"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli-params")
    X, _ = load_digits()
    pd.DataFrame(X[:160], columns=[f"px{i}" for i in range(64)]).to_csv(
        folder / "digits.csv", index=False
    )
    return folder


@pytest.mark.parametrize("detector", [False, True], ids=["Autoencoder", "AnomalyDetector"])
def test_fit_without_options_saves_the_python_defaults(folder: Path, detector: bool) -> None:
    """For every parameter the command line exposes (and every other one)."""
    name = "detector" if detector else "model"
    extra = ["--detector"] if detector else []
    aekit_cli("fit", "digits.csv", "-o", f"{name}.safetensors", *extra, "--quiet", cwd=folder)
    saved = aekit.load(folder / f"{name}.safetensors").get_params(deep=True)
    default = (AnomalyDetector() if detector else Autoencoder()).get_params(deep=True)
    assert comparable(saved) == comparable(default)
    exposed = [p for p in autoencoder_params().values() if p.cli]
    if detector:
        exposed += [p for p in detector_params().values() if p.cli]
    assert len(exposed) >= 28
    for p in exposed:  # the same check, named: an option whose default drifted says which
        key = p.name if not detector or p.name in detector_params() else f"estimator__{p.name}"
        assert saved[key] == default[key], p.flags[0]


def test_the_detector_the_command_line_trains_is_the_python_one(folder: Path) -> None:
    """Before, ``aekit fit --detector`` trained relu networks while ``AnomalyDetector()``
    trains the tanh ones every ADBench figure was measured with."""
    aekit_cli("fit", "digits.csv", "-o", "det.safetensors", "--detector", "--quiet", cwd=folder)
    info = aekit_cli("info", "det.safetensors", "--json", cwd=folder).stdout
    import json

    summary = json.loads(info)
    assert summary["config"]["activation"] == "tanh"
    from aekit.estimators.outlier import DETECTION_DEFAULTS

    epochs = DETECTION_DEFAULTS["max_epochs"]
    assert summary["members"] == 5 and summary["training"]["epochs"] == [epochs] * 5
    assert summary["config"]["hidden_dims"] == [64, 32]


def test_every_declared_parameter_has_an_option(folder: Path) -> None:
    text = aekit_cli("fit", "--help", cwd=folder).stdout
    for p in [*autoencoder_params().values(), *detector_params().values()]:
        if p.cli:
            assert p.flags[0] in text, p.name
            for alias in p.aliases:
                assert alias in text
        else:
            assert f"--{p.name.replace('_', '-')} " not in text, p.name


def test_options_reach_the_estimator_as_typed(folder: Path) -> None:
    aekit_cli(
        "fit",
        "digits.csv",
        "-o",
        "typed.safetensors",
        "--latent-dim",
        "3",
        "--model-param",
        "hidden_dims=16,8",
        "--patience",
        "none",
        "--batch-size",
        "64",
        "--max-epochs",
        "2",
        "--variational",
        "--beta",
        "0.5",
        "--noise",
        "masking",
        "--max-grad-norm",
        "none",
        "--seed",
        "3",
        "--quiet",
        cwd=folder,
    )
    params = aekit.load(folder / "typed.safetensors").get_params()
    expected = {
        "latent_dim": 3,
        "model_params": {"hidden_dims": (16, 8)},
        "patience": None,
        "batch_size": 64,
        "max_epochs": 2,
        "variational": True,
        "beta": 0.5,
        "noise": "masking",
        "max_grad_norm": None,
        "random_state": 3,
    }
    assert {k: params[k] for k in expected} == expected


def test_detector_options_set_the_detector_and_its_members(folder: Path) -> None:
    aekit_cli(
        "fit",
        "digits.csv",
        "-o",
        "det2.safetensors",
        "--detector",
        "--n-estimators",
        "2",
        "--max-samples",
        "0.5",
        "--activation",
        "relu",
        "--max-epochs",
        "2",
        "--random-state",
        "1",
        "--quiet",
        cwd=folder,
    )
    detector = aekit.load(folder / "det2.safetensors")
    params = detector.get_params(deep=True)
    assert (params["n_estimators"], params["max_samples"], params["random_state"]) == (2, 0.5, 1)
    assert params["estimator__activation"] == "relu" and params["estimator__max_epochs"] == 2
    # the member's other parameters keep the detector's tuned defaults
    assert params["estimator__model_params"] == {"hidden_dims": (64, 32)}
    assert params["estimator__scale"] == "standard"
    assert len(detector.estimators_) == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--latent-dim", "two"], "argument --latent-dim: 'two' is not int >= 1"),
        (["--contamination", "0.1"], "--contamination needs --detector"),
        (["--model-param", "hidden_dims"], "--model-param"),
        (["--latent-dim", "0"], "'latent_dim' parameter of Autoencoder must be"),
        (["--model-param", "colour=red"], "kind='dense' has no setting 'colour'"),
    ],
)
def test_bad_options_are_one_line(folder: Path, options: list[str], message: str) -> None:
    result = aekit_cli(
        "fit", "digits.csv", "-o", "bad.safetensors", *options, cwd=folder, check=False
    )
    assert result.returncode in (1, 2)
    assert message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (folder / "bad.safetensors").exists()


def test_option_values_parse_from_their_declarations() -> None:
    declared = autoencoder_params() | detector_params()
    assert declared["batch_size"].parse("auto") == "auto"
    assert declared["batch_size"].parse("64") == 64
    assert declared["max_samples"].parse("0.5") == 0.5
    assert declared["max_samples"].parse("100") == 100
    assert declared["patience"].parse("none") is None
    assert declared["model_params"].parse("hidden_dims=64,32") == {"hidden_dims": (64, 32)}
    assert declared["model_params"].parse("width=8") == {"width": 8}
    assert declared["model_params"].parse("bias=false") == {"bias": False}
    assert declared["categorical"].parse("a, b") == ["a", "b"]
    with pytest.raises(ValueError, match="is not int >= 1"):
        declared["latent_dim"].parse("2.5")
    assert np.isclose(declared["learning_rate"].parse("1e-3"), 1e-3)


def test_model_param_none_means_the_kinds_defaults(folder: Path) -> None:
    # found by the fuzzing campaign: "--model-param none" raised a TypeError
    aekit_cli("fit", "digits.csv", "-o", "plain.safetensors", "--model-param", "none",
              "--max-epochs", "1", "--quiet", cwd=folder)  # fmt: skip
    assert aekit.load(folder / "plain.safetensors").get_params()["model_params"] is None
