"""``save()`` / ``load()``: one ``.safetensors`` file per model, safe to open.

Tensors: ``model.*`` (the network's state dict), ``members.{i}.*`` (the state dicts of
an ensemble's further networks, ``i >= 1``; ``model.*`` is member 0) and ``fitted.*``
(scaler statistics and other fitted arrays). Metadata: one JSON header under the key
``"aekit"`` with the format version, the estimator class and parameters, the model kind
and configuration, each further member's kind and configuration (``"members"``), the
fitted scalars, and a SHA-256 over header and tensors that ``load`` verifies. Loading
parses JSON and raw tensor bytes only: nothing is unpickled and no code runs.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from sklearn.utils.validation import check_is_fitted

from aekit._version import __version__
from aekit.exceptions import ModelFileError
from aekit.training.checkpoint import LoopState

FORMAT = "aekit-model"
FORMAT_VERSION = 1
MAX_HEADER_BYTES = 100 * 2**20  # a real header is kilobytes; refuse absurd declared sizes

# The only classes a file may name: never an import path taken from the file.
ESTIMATORS = {
    "Autoencoder": "aekit.estimators.autoencoder",
    "AnomalyDetector": "aekit.estimators.outlier",
}


def save(estimator: Any, path: str | Path, *, training: LoopState | None = None) -> Path:
    """Write a fitted estimator to ``path`` atomically; returns the path written.

    A crash while writing leaves any previous file at ``path`` as it was. ``training``
    adds the training loop's state, making the file a checkpoint that ``fit(resume=...)``
    continues from (it still loads as a model).
    """
    check_is_fitted(estimator, "model_")
    name = type(estimator).__name__
    if name not in ESTIMATORS:
        raise TypeError(f"cannot save a {name}; aekit saves {', '.join(ESTIMATORS)}")
    state, arrays = estimator._fitted_state()
    tensors = {
        f"model.{k}": v.detach().cpu().contiguous()
        for k, v in estimator.model_.state_dict().items()
    }
    members = list(getattr(estimator, "models_", [estimator.model_]))[1:]
    for i, member in enumerate(members, start=1):
        tensors |= {
            f"members.{i}.{k}": v.detach().cpu().contiguous()
            for k, v in member.state_dict().items()
        }
    tensors |= {f"fitted.{k}": torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "aekit_version": __version__,
        "estimator": name,
        "params": _json_params(estimator.get_params(deep=False)),
        "kind": estimator.model_.kind,
        "config": estimator.model_.config.to_json(),
        "fitted": state,
    }
    if members:
        header["members"] = [{"kind": m.kind, "config": m.config.to_json()} for m in members]
    if training is not None:
        loop_tensors, header["training"] = training.to_file_parts()
        tensors |= loop_tensors
    header["sha256"] = _checksum(header, tensors)
    data = save_tensors(tensors, metadata={"aekit": json.dumps(header)})
    path = Path(path)
    write_atomically(path, data)
    return path


def load(path: str | Path) -> Any:
    """Rebuild the estimator saved at ``path``.

    Raises ``ModelFileError`` (a ``ValueError``) for a file that is not an aekit model:
    foreign, truncated, tampered with, or written by a newer format version.
    """
    return _load(Path(path))[0]


def load_checkpoint(path: str | Path) -> tuple[Any, LoopState]:
    """The estimator in a checkpoint (its latest weights) and the loop state to resume."""
    estimator, header, tensors = _load(Path(path))
    if "training" not in header:
        raise ModelFileError(f"{path} is a finished model, not a training checkpoint")
    try:
        return estimator, LoopState.from_file_parts(tensors, header["training"])
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(f"{path} has an unreadable training state: {error}") from None


def _load(path: Path) -> tuple[Any, dict[str, Any], dict[str, torch.Tensor]]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"model file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path} is a directory, not a model file") from None
    header = _read_header(path, data)
    try:
        tensors = load_tensors(data)
    except Exception as error:  # safetensors raises its own error types for corrupt data
        raise ModelFileError(f"{path} has unreadable tensors ({error})") from None
    expected = header.pop("sha256", None)
    if expected != _checksum(header, tensors):
        raise ModelFileError(f"{path} failed its checksum: the file is corrupt or was modified")
    return _rebuild(path, header, tensors), header, tensors


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with open(partial, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


# --- reading --------------------------------------------------------------------------


def _read_header(path: Path, data: bytes) -> dict[str, Any]:
    """The aekit JSON header, checked against the safetensors framing by hand."""
    not_model = f"{path} is not an aekit model file"
    if len(data) < 8:
        raise ModelFileError(f"{not_model}: only {len(data)} bytes (truncated or empty)")
    (n_header,) = struct.unpack("<Q", data[:8])
    if n_header > min(MAX_HEADER_BYTES, len(data) - 8):
        raise ModelFileError(
            f"{not_model}: it declares a {n_header}-byte header in a {len(data)}-byte file "
            f"(truncated, or not a safetensors file)"
        )
    try:
        outer = json.loads(data[8 : 8 + n_header])
        metadata = outer.get("__metadata__") or {}
        header = json.loads(metadata["aekit"])
    except (UnicodeDecodeError, ValueError, AttributeError, KeyError, TypeError):
        raise ModelFileError(
            f"{not_model}: no aekit header (a safetensors file from elsewhere, or another format)"
        ) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(
            f"{not_model}: its header names format {header.get('format')!r}"
            if isinstance(header, dict)
            else f"{not_model}: malformed header"
        )
    version = header.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path} has an invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written in model format {version} by aekit "
            f"{header.get('aekit_version', '?')}; this aekit {__version__} reads format "
            f"{FORMAT_VERSION} and older: upgrade aekit"
        )
    return header


def _rebuild(path: Path, header: dict[str, Any], tensors: dict[str, torch.Tensor]) -> Any:
    from aekit.models import build_model

    name = header.get("estimator")
    if name not in ESTIMATORS:
        raise ModelFileError(f"{path} names an unknown estimator {name!r}")
    cls = getattr(importlib.import_module(ESTIMATORS[name]), name)
    try:
        params = dict(header["params"])
        unknown = set(params) - set(cls().get_params(deep=False))
        if unknown:
            raise ModelFileError(f"{path} has unknown {name} parameters: {sorted(unknown)}")
        estimator = cls(**params)
        specs = [{"kind": header["kind"], "config": header["config"]}]
        specs += list(header.get("members", []))
        models = []
        for i, spec in enumerate(specs):
            prefix = "model." if i == 0 else f"members.{i}."
            model = build_model(spec["kind"], dict(spec["config"]))
            state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
            model.load_state_dict(state, strict=True)
            model.eval()
            models.append(model)
        estimator.model_ = models[0]
        if "members" in header:
            estimator.models_ = models
        fitted = {
            k[len("fitted.") :]: v.numpy() for k, v in tensors.items() if k.startswith("fitted.")
        }
        estimator._restore_fitted_state(header["fitted"], fitted)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise ModelFileError(f"{path} could not be rebuilt: {error}") from None
    return estimator


# --- helpers --------------------------------------------------------------------------


def _json_params(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, np.random.RandomState):
            value = None  # a generator's state is not a parameter worth keeping
        elif isinstance(value, torch.device):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    json.dumps(out)  # fail at save time, not load time, on anything JSON cannot hold
    return out


def _checksum(header: dict[str, Any], tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for name in sorted(tensors):
        tensor = tensors[name].contiguous()
        digest.update(f"{name}|{tensor.dtype}|{list(tensor.shape)}|".encode())
        digest.update(
            tensor.view(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b""
        )
    return digest.hexdigest()
