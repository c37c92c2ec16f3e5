"""Model kinds: one module per architecture, each registering itself on import."""

from __future__ import annotations

import importlib
import pkgutil

from aekit.models._registry import list_models, model_class, register
from aekit.models.base import BaseAE, ModelConfig, build_config, build_model, kind_settings

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "BaseAE",
    "ModelConfig",
    "build_config",
    "build_model",
    "kind_settings",
    "list_models",
    "model_class",
    "register",
]
