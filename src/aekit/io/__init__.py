"""Model files: safetensors tensors plus a JSON header, never pickle."""

from aekit.io.model_file import load, save

__all__ = ["load", "save"]
