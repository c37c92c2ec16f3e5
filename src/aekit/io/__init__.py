"""Model files: safetensors tensors plus a JSON header, never pickle.

``save`` and ``load`` load torch on first use, so that the light modules of this package
(``aekit.io.atomic``) can be used by code that has not needed torch yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aekit.io.model_file import load, save

__all__ = ["load", "save"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from aekit.io import model_file

        return getattr(model_file, name)
    raise AttributeError(f"module 'aekit.io' has no attribute {name!r}")
