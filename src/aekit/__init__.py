"""aekit: practical autoencoders on PyTorch with scikit-learn estimators."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from aekit._version import __version__

if TYPE_CHECKING:
    from aekit.estimators.autoencoder import Autoencoder
    from aekit.io.model_file import load, save
    from aekit.models import list_models

# name -> module; imported on first use so that `import aekit` does not import torch
_LAZY = {
    "Autoencoder": "aekit.estimators.autoencoder",
    "load": "aekit.io.model_file",
    "save": "aekit.io.model_file",
    "list_models": "aekit.models",
    "datasets": "aekit.datasets",
    "plots": "aekit.plots",
}

__all__ = ["Autoencoder", "__version__", "datasets", "list_models", "load", "plots", "save"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        value = module if name in ("datasets", "plots") else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'aekit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
