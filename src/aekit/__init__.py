"""aekit: practical autoencoders on PyTorch with scikit-learn estimators."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from aekit._version import __version__

if TYPE_CHECKING:
    from aekit import datasets, metrics, plots
    from aekit.data.files import ReadOptions, read_table
    from aekit.estimators.autoencoder import Autoencoder
    from aekit.estimators.outlier import AnomalyDetector
    from aekit.estimators.series import TimeSeriesDetector
    from aekit.estimators.series_autoencoder import TimeSeriesAutoencoder
    from aekit.io.model_file import load, save
    from aekit.models import list_models
    from aekit.reporting import report

# name -> module; imported on first use so that `import aekit` does not import torch
_LAZY = {
    "Autoencoder": "aekit.estimators.autoencoder",
    "AnomalyDetector": "aekit.estimators.outlier",
    "TimeSeriesDetector": "aekit.estimators.series",
    "TimeSeriesAutoencoder": "aekit.estimators.series_autoencoder",
    "load": "aekit.io.model_file",
    "save": "aekit.io.model_file",
    "list_models": "aekit.models",
    "datasets": "aekit.datasets",
    "metrics": "aekit.metrics",
    "plots": "aekit.plots",
    "report": "aekit.reporting",
    "read_table": "aekit.data.files",
    "ReadOptions": "aekit.data.files",
}

__all__ = [
    "AnomalyDetector",
    "Autoencoder",
    "ReadOptions",
    "TimeSeriesAutoencoder",
    "TimeSeriesDetector",
    "__version__",
    "datasets",
    "list_models",
    "load",
    "metrics",
    "plots",
    "read_table",
    "report",
    "save",
]

_MODULES = {"datasets", "metrics", "plots"}  # entries that are modules, not names in one


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        value = module if name in _MODULES else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'aekit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
