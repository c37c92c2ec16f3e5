"""The Examples sections of the public API's docstrings (numpydoc) run as doctests, as
written: every module listed here has examples, and each one passes."""

from __future__ import annotations

import doctest
import importlib
import io
import os
from pathlib import Path

import pytest

MODULES = [
    "aekit.estimators.autoencoder",
    "aekit.estimators.outlier",
    "aekit.estimators.series",
    "aekit.estimators.series_autoencoder",
    "aekit.io.model_file",
    "aekit.reporting.html",
    "aekit.data.files",
    "aekit.models._registry",
    "aekit.datasets.digits",
    "aekit.datasets.mnist",
    "aekit.metrics",
    "aekit.export.onnx_model",
    "aekit.mlflow",
    "aekit.plots.anomaly",
    "aekit.plots.architecture",
    "aekit.plots.generation",
    "aekit.plots.latent",
    "aekit.plots.reconstruction",
    "aekit.plots.series",
    "aekit.plots.training",
]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(
    name: str, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AEKIT_DATA", str(data_dir))
    module = importlib.import_module(name)
    found = [t for t in doctest.DocTestFinder().find(module) if t.examples]
    assert found, f"{name} has no Examples in its docstrings"
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report = io.StringIO()
    environment = dict(os.environ)  # an example may set a variable, as a user would
    try:
        for test in found:
            runner.run(test, out=report.write)
    finally:
        plt.close("all")
        os.environ.clear()
        os.environ.update(environment)
    assert runner.failures == 0, report.getvalue()
