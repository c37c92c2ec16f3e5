"""Model files changed on purpose with their checksum made right again: what an older aekit
wrote (the migration tests), or what a forger or a faulty writer would (the hostile-file
tests and the fuzzing campaign)."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load, save

from aekit.io.model_file import _checksum

Change = Callable[[dict[str, Any], dict[str, torch.Tensor]], None]


def reforged(data: bytes, change: Change) -> bytes:
    """The model file ``data`` after ``change(header, tensors)``, with a valid checksum."""
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(json.loads(data[8 : 8 + n])["__metadata__"]["aekit"])
    tensors = load(data)
    change(header, tensors)
    header.pop("sha256", None)  # after the change, which may have deleted it
    header["sha256"] = _checksum(header, tensors)
    return save(tensors, metadata={"aekit": json.dumps(header)})


def reforge(source: Path, target: Path, change: Change) -> Path:
    """Copy the model file ``source`` to ``target`` through ``reforged``."""
    target.write_bytes(reforged(source.read_bytes(), change))
    return target
