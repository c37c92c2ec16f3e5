"""``save()`` / ``load()``: one ``.safetensors`` file per model, safe to open.

Metadata: one JSON header under the key ``"aekit"`` with the format and its version, the
aekit version, the estimator's class and its own part (``params``, ``fitted`` state, the
network's ``kind`` and ``config`` or a detector's ``members``), an optional ``training``
state (a checkpoint) and a SHA-256 over header and tensors that ``load`` verifies.
Tensors: ``model.*`` (a network's state dict), ``fitted.*`` (fitted arrays), and for a
detector ``members.{i}.model.*``, ``members.{i}.fitted.*`` and ``score.*`` (its score
statistics); ``train.*`` in a checkpoint. Loading parses JSON and raw tensor bytes only:
nothing is unpickled and no code runs.

Every change of that schema bumps ``FORMAT_VERSION``; ``aekit.io.migrations`` brings an
older file's header and tensors to the current schema before an estimator reads them, so
the estimators know one schema only. Each estimator writes and reads its own part
(``_to_file`` / ``_from_file``); this module frames, checks, migrates and writes.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from aekit._version import __version__
from aekit.exceptions import ModelFileError
from aekit.io.atomic import write_atomically
from aekit.io.migrations import FORMAT_VERSION, migrate

FORMAT = "aekit-model"
MAX_HEADER_BYTES = 100 * 2**20  # a real header is kilobytes; refuse absurd declared sizes

# The only classes a file may name: never an import path taken from the file.
ESTIMATORS = {
    "Autoencoder": "aekit.estimators.autoencoder",
    "AnomalyDetector": "aekit.estimators.outlier",
    "TimeSeriesDetector": "aekit.estimators.series",
    "TimeSeriesAutoencoder": "aekit.estimators.series_autoencoder",
}


def save(estimator: Any, path: str | Path, *, training: Any = None) -> Path:
    """Write a fitted estimator to ``path`` atomically; returns the path written.

    A crash while writing leaves any previous file at ``path`` as it was. ``training`` (a
    ``LoopState``, or a detector's progress) adds the training state, making the file a
    checkpoint that ``fit(resume=...)`` continues from.

    Parameters
    ----------
    estimator : fitted aekit estimator
    path : str or Path
        The ``.safetensors`` file to write.
    training : optional
        Training state to include (a checkpoint).

    Returns
    -------
    path : Path

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import aekit
    >>> from aekit.datasets import load_digits
    >>> X, _ = load_digits()
    >>> ae = aekit.Autoencoder(latent_dim=2, max_epochs=2, random_state=0).fit(X)
    >>> path = aekit.save(ae, Path(tempfile.mkdtemp()) / "digits.safetensors")
    >>> again = aekit.load(path)
    >>> bool(np.array_equal(again.transform(X), ae.transform(X)))
    True
    """
    name = type(estimator).__name__
    if name not in ESTIMATORS:
        raise TypeError(f"cannot save a {name}; aekit saves {', '.join(ESTIMATORS)}")
    body, tensors = estimator._to_file()
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "aekit_version": __version__,
        "estimator": name,
        **body,
    }
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

    Parameters
    ----------
    path : str or Path
        A ``.safetensors`` file written by ``save`` (or an estimator's ``save``).

    Returns
    -------
    estimator : Autoencoder, AnomalyDetector, TimeSeriesDetector or TimeSeriesAutoencoder
        Fitted, giving the outputs it gave when saved.

    Raises
    ------
    ModelFileError
        The file is not an aekit model (see above).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import aekit
    >>> foreign = Path(tempfile.mkdtemp()) / "not-a-model.safetensors"
    >>> _ = foreign.write_bytes(b"hello")
    >>> aekit.load(foreign)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    aekit.exceptions.ModelFileError: ...
    """
    return _load(Path(path))[0]


def load_checkpoint(path: str | Path) -> tuple[Any, Any]:
    """The estimator in a checkpoint (its latest weights) and the training state to resume."""
    estimator, header, tensors = _load(Path(path), checkpoint=True)
    if "training" not in header:
        raise ModelFileError(f"{path} is a finished model, not a training checkpoint")
    try:
        return estimator, type(estimator)._progress_from_file(tensors, header["training"])
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(f"{path} has an unreadable training state: {error}") from None


def _load(
    path: Path, *, checkpoint: bool = False
) -> tuple[Any, dict[str, Any], dict[str, torch.Tensor]]:
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
    try:
        header, tensors = migrate(header, tensors)
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise ModelFileError(
            f"{path} could not be read as model format {FORMAT_VERSION}: {error}"
        ) from None
    return _rebuild(path, header, tensors, checkpoint), header, tensors


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


def _rebuild(
    path: Path, header: dict[str, Any], tensors: dict[str, torch.Tensor], checkpoint: bool
) -> Any:
    name = header.get("estimator")
    if name not in ESTIMATORS:
        raise ModelFileError(f"{path} names an unknown estimator {name!r}")
    cls = getattr(importlib.import_module(ESTIMATORS[name]), name)
    try:
        return cls._from_file(header, tensors, checkpoint=checkpoint)
    except ModelFileError as error:
        raise ModelFileError(f"{path}: {error}") from None
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError, AttributeError) as error:
        raise ModelFileError(f"{path} could not be rebuilt: {error}") from None


# --- helpers --------------------------------------------------------------------------


def json_params(params: dict[str, Any]) -> dict[str, Any]:
    """Estimator parameters as JSON values (tuples as lists; a RandomState as None)."""
    out = {key: _json_value(value) for key, value in params.items()}
    json.dumps(out)  # fail at save time, not load time, on anything JSON cannot hold
    return out


def _json_value(value: Any) -> Any:
    if isinstance(value, np.random.RandomState):
        return None  # a generator's state is not a parameter worth keeping
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, tuple | list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def params_from_json(cls: type, params: dict[str, Any]) -> dict[str, Any]:
    """Saved parameters as ``cls.__init__`` takes them, read through their declarations."""
    from aekit.params import parameters

    if not isinstance(params, dict):
        raise ModelFileError(f"{cls.__name__} parameters are a {type(params).__name__}, not a dict")
    declared = parameters(cls)
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise ModelFileError(f"unknown {cls.__name__} parameters: {unknown}")
    return {name: declared[name].from_json(value) for name, value in params.items()}


def finite(value: Any, name: str, *, infinity: bool = False) -> NDArray[np.float64]:
    """``value`` as float64 numbers, none NaN (nor infinite unless ``infinity``): a fitted
    statistic read from a file."""
    try:
        values = np.asarray(value, np.float64)
    except (TypeError, ValueError):
        raise ModelFileError(f"{name} is {str(value)[:40]!r}, not numbers") from None
    if np.isnan(values).any() or (not infinity and np.isinf(values).any()):
        raise ModelFileError(f"{name} holds NaN{'' if infinity else ' or infinity'}")
    return values


def as_tensors(arrays: dict[str, NDArray[Any]], prefix: str) -> dict[str, torch.Tensor]:
    """Arrays as contiguous tensors named ``prefix + name``."""
    return {f"{prefix}{k}": torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}


def with_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors whose names start with ``prefix``, named without it."""
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def _checksum(header: dict[str, Any], tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for name in sorted(tensors):
        tensor = tensors[name].contiguous()
        digest.update(f"{name}|{tensor.dtype}|{list(tensor.shape)}|".encode())
        digest.update(
            tensor.view(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b""
        )
    return digest.hexdigest()
