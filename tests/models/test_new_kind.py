"""A kind with settings of its own, added in one file (``shallow_kind.py``): the estimators,
the command line, model files, the detector and the report take it with no other change."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

import aekit
from aekit import AnomalyDetector, Autoencoder
from aekit.cli.main import main
from aekit.models import _registry, kind_settings, list_models


@pytest.fixture(scope="module")
def kind() -> Iterator[str]:
    """Register the kind for this module's tests only (importing its file registers it)."""
    module: Any = importlib.import_module("shallow_kind")
    yield module.KIND
    _registry._KINDS.pop(module.KIND, None)
    sys.modules.pop("shallow_kind", None)


def test_the_kind_declares_its_settings(kind: str) -> None:
    assert kind in list_models()
    settings = kind_settings(kind)
    assert settings["width"][0] == 16 and "hidden layer" in settings["width"][1]
    assert settings["bias"][0] is True


def test_the_estimator_passes_the_settings(kind: str, digits_split: Any, tmp_path: Path) -> None:
    train, test = digits_split
    ae = Autoencoder(kind, latent_dim=4, model_params={"width": 8, "bias": False}, max_epochs=5)
    ae.set_params(random_state=0).fit(train)
    first = ae.model_.encoder[1]
    assert isinstance(first, torch.nn.Linear) and first.out_features == 8 and first.bias is None
    assert ae.history_.train_loss[-1] < ae.history_.train_loss[0]
    loaded = aekit.load(ae.save(tmp_path / "shallow.safetensors"))
    assert loaded.model_.config.width == 8 and loaded.get_params() == ae.get_params()
    np.testing.assert_array_equal(loaded.transform(test), ae.transform(test))
    with pytest.raises(ValueError, match=f"kind='{kind}' has no setting 'hidden_dims'"):
        Autoencoder(kind, model_params={"hidden_dims": (8,)}, max_epochs=1).fit(train[:50])
    with pytest.raises(ValueError, match="width=0 must be a positive integer"):
        Autoencoder(kind, model_params={"width": 0}, max_epochs=1).fit(train[:50])


def test_the_command_line_takes_the_kind_and_its_settings(
    kind: str, digits_split: Any, tmp_path: Path
) -> None:
    """In this process, where the kind is registered (a subprocess would not import it)."""
    data = tmp_path / "digits.csv"
    pd.DataFrame(digits_split[0][:200]).add_prefix("px").to_csv(data, index=False)
    model = tmp_path / "cli.safetensors"
    options = ["--kind", kind, "--model-param", "width=6", "--model-param", "bias=false"]
    status = main(["fit", str(data), "-o", str(model), *options, "--max-epochs", "2", "--quiet"])
    assert status == 0
    loaded = aekit.load(model)
    assert loaded.kind == kind and loaded.model_params == {"width": 6, "bias": False}
    assert main(["info", str(model)]) == 0


def test_a_detector_of_the_new_kind(kind: str, digits_split: Any, tmp_path: Path) -> None:
    train, test = digits_split
    member = Autoencoder(kind, model_params={"width": 12}, max_epochs=3)
    detector = AnomalyDetector(member, n_estimators=2, random_state=0).fit(train)
    assert all(m.kind == kind for m in detector.estimators_)
    assert np.isfinite(detector.score_samples(test)).all()
    report = aekit.report(detector, test, tmp_path / "report.html")
    page = report.read_text()
    assert kind in page and "width" in page  # the model card shows the kind's settings
