"""One chain of migrations: any older model file's header and tensors, in today's schema.

``MIGRATIONS[v]`` turns format ``v`` into ``v + 1``; ``migrate`` applies them in order, so
the estimators read the current format only. A migration is frozen history: it names the
defaults and parameters of the format it reads, never today's code, so that a later
change of a default cannot change what an old file means. A value a format did not store
is filled with what reproduces the old behaviour.

- **1 -> 2** (the detector became an ensemble of ``Autoencoder`` estimators; parameters
  declared once; kinds own their settings): ``hidden_dims`` and ``channels`` move into
  ``model_params``; ``weight_init`` is recorded ("glorot" for an ``Autoencoder``, "torch"
  for a detector's members); every shared configuration field is written out. A
  detector's flat parameters split into its own and its member estimator's; each network
  becomes a member with its fitted state (members after the first have no recorded
  history: format 1 kept only the first's); the score statistics move to ``score.*`` as
  float64, one row per member; a score term the file has no statistics for gets weight 0
  (the parameter too, as the file was scored without it).
- **2 -> 3** (``kind="conv"`` became the residual design): a network of kind ``"conv"`` is
  the two strided convolutions that kind used to be, now called ``"strided_conv"`` (same
  settings, same tensors); the estimator's ``kind`` parameter says so too.
- **3 -> 4** (``TimeSeriesAutoencoder`` gained ``center_windows``, on by default): a format-3
  series autoencoder gave its network the windows as they are: ``center_windows=False``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch

FORMAT_VERSION = 4

Header = dict[str, Any]
Tensors = dict[str, torch.Tensor]


def migrate(header: Header, tensors: Tensors) -> tuple[Header, Tensors]:
    """``header`` and ``tensors`` of any format up to ``FORMAT_VERSION``, in the current one."""
    version = int(header["format_version"])
    while version < FORMAT_VERSION:
        header, tensors = MIGRATIONS[version](copy.deepcopy(header), dict(tensors))
        version += 1
        header["format_version"] = version
    return header, tensors


# --- format 1 -> 2 ------------------------------------------------------------------------

# format 1's ModelConfig defaults (a file holds every field, but be safe)
V1_CONFIG = {
    "activation": "relu",
    "latent_activation": "identity",
    "loss": "mse",
    "output_activation": "identity",
    "variational": False,
    "beta": 1.0,
    "sparsity": 0.0,
    "sparsity_penalty": "l1",
    "sparsity_target": 0.05,
    "dropout": 0.0,
}
# format 1's Autoencoder parameters and defaults
V1_AUTOENCODER = {
    "kind": "dense",
    "latent_dim": 2,
    "hidden_dims": None,
    "channels": None,
    "activation": "relu",
    "latent_activation": "identity",
    "output_activation": "auto",
    "loss": "mse",
    "variational": False,
    "beta": 1.0,
    "sparsity": 0.0,
    "sparsity_penalty": "l1",
    "sparsity_target": 0.05,
    "noise": None,
    "noise_level": 0.1,
    "dropout": 0.0,
    "scale": "auto",
    "max_epochs": 50,
    "batch_size": "auto",
    "learning_rate": 3e-3,
    "weight_decay": 0.0,
    "lr_schedule": "cosine",
    "max_grad_norm": 10.0,
    "validation_fraction": 0.1,
    "patience": 10,
    "device": "auto",
    "random_state": None,
    "verbose": 0,
    "categorical": None,
    "ignore": None,
}
# where format 1's AnomalyDetector defaults differed from its Autoencoder's
V1_DETECTOR_MEMBER = {
    "hidden_dims": [64, 32],
    "activation": "tanh",
    "scale": "standard",
    "max_epochs": 20,
    "batch_size": 128,
    "weight_decay": 1e-4,
    "validation_fraction": 0.0,
}
# format 1's AnomalyDetector parameters of its own; a file without the ensemble (no
# n_estimators) trained one network on every non-calibration row: max_samples=1.0
V1_DETECTOR_OWN = {
    "contamination": "auto",
    "false_positive_rate": None,
    "calibration_fraction": 0.2,
    "n_estimators": None,  # the number of networks in the file
    "max_samples": 1.0,
    "latent_weight": 0.0,  # absent: the file was scored without the code distance
    "hidden_weight": 0.0,  # absent: without the hidden distance
}
EMPTY_HISTORY: dict[str, Any] = {
    "train_loss": [],
    "val_loss": [],
    "train_terms": {},
    "val_terms": {},
    "learning_rate": [],
    "best_epoch": None,
    "stopped_early": False,
    "interrupted": False,
    "fit_seconds": 0.0,
}


def _v1_autoencoder_params(params: dict[str, Any], weight_init: str) -> dict[str, Any]:
    params = dict(params)
    settings = {}
    for name in ("hidden_dims", "channels"):
        value = params.pop(name, None)
        if value is not None:
            settings[name] = value
    params["model_params"] = settings or None
    params["weight_init"] = weight_init
    return params


def _v1_to_v2(header: Header, tensors: Tensors) -> tuple[Header, Tensors]:
    header["config"] = V1_CONFIG | header["config"]
    if header["estimator"] != "AnomalyDetector":
        header["params"] = _v1_autoencoder_params(V1_AUTOENCODER | header["params"], "glorot")
        return header, tensors
    return _v1_detector_to_v2(header, tensors)


def _v1_detector_to_v2(header: Header, tensors: Tensors) -> tuple[Header, Tensors]:
    specs = [{"kind": header.pop("kind"), "config": header.pop("config")}]
    specs += [
        {"kind": m["kind"], "config": V1_CONFIG | m["config"]} for m in header.pop("members", [])
    ]
    n = len(specs)
    flat = V1_AUTOENCODER | V1_DETECTOR_MEMBER | header["params"]
    own = {name: flat.pop(name, default) for name, default in V1_DETECTOR_OWN.items()}
    own["n_estimators"] = own["n_estimators"] or n
    own["random_state"], own["verbose"] = flat.pop("random_state"), flat.pop("verbose")
    member = _v1_autoencoder_params(flat, "torch") | {"random_state": None, "verbose": 0}
    fitted = header["fitted"]
    shape = [int(s) for s in fitted["sample_shape_"]]
    new: Tensors = {}
    for name, value in tensors.items():
        if name.startswith("model."):
            new[f"members.0.{name}"] = value
        elif name.startswith("members."):
            _, index, rest = name.split(".", 2)
            new[f"members.{index}.model.{rest}"] = value
        elif name.startswith("fitted.") and name[len("fitted.") :] in _V1_SCORE_ARRAYS:
            continue
        else:
            new[name] = value
    statistics, weights = _v1_score(tensors, n, shape, int(specs[0]["config"]["latent_dim"]))
    if weights["latent_weight"] == 0.0:
        own["latent_weight"] = 0.0
    if weights["hidden_weight"] == 0.0:
        own["hidden_weight"] = 0.0
    statistics["latent_weight"] = torch.tensor(float(own["latent_weight"]), dtype=torch.float64)
    statistics["hidden_weight"] = torch.tensor(float(own["hidden_weight"]), dtype=torch.float64)
    new |= {f"score.{k}": v for k, v in statistics.items()}
    inputs = {"n_features_in_": fitted["n_features_in_"]}
    if "feature_names_in_" in fitted:
        inputs["feature_names_in_"] = fitted["feature_names_in_"]
    header["members"] = [
        {
            "params": member,
            "kind": spec["kind"],
            "config": spec["config"],
            "fitted": inputs | {"history_": fitted["history_"] if i == 0 else EMPTY_HISTORY},
        }
        for i, spec in enumerate(specs)
    ]
    header["params"] = own | {"estimator": {"class": "Autoencoder", "params": member}}
    kept = ("sample_shape_", "scaler_method", "preprocessor", "offset_")
    header["fitted"] = inputs | {k: fitted[k] for k in kept if k in fitted}
    header["fitted"]["interrupted_"] = False
    header.pop("training", None)  # format 1 could not checkpoint a detector
    return header, new


_V1_SCORE_ARRAYS = {
    "error_scale",
    *(f"{layer}_{stat}" for layer in ("code", "hidden") for stat in ("mean", "precision", "scale")),
}


def _v1_score(
    tensors: Tensors, n: int, shape: list[int], latent_dim: int
) -> tuple[Tensors, dict[str, float]]:
    """Format 1's ``fitted.*`` score arrays as format 2's statistics, one row per member,
    float64; a term without statistics gets placeholders and weight 0."""

    def stat(name: str) -> torch.Tensor | None:
        value = tensors.get(f"fitted.{name}")
        return None if value is None else value.to(torch.float64)

    error_scale = stat("error_scale")
    if error_scale is None:
        raise ValueError("a format-1 detector without error_scale")
    if error_scale.dim() == len(shape):  # written before ensembles: one network
        error_scale = error_scale.unsqueeze(0)
    statistics: Tensors = {"error_scale": error_scale.reshape(n, -1)}
    weights = {"latent_weight": 1.0, "hidden_weight": 1.0}
    for layer, width in (("code", latent_dim), ("hidden", 0)):
        mean = stat(f"{layer}_mean")
        if mean is None:
            weights[f"{'latent' if layer == 'code' else 'hidden'}_weight"] = 0.0
            statistics[f"{layer}_mean"] = torch.zeros(n, width, dtype=torch.float64)
            statistics[f"{layer}_precision"] = torch.eye(width, dtype=torch.float64).repeat(n, 1, 1)
            statistics[f"{layer}_scale"] = torch.ones(n, dtype=torch.float64)
            continue
        statistics[f"{layer}_mean"] = mean.reshape(n, -1)
        precision = stat(f"{layer}_precision")
        scale = stat(f"{layer}_scale")
        if precision is None or scale is None:
            raise ValueError(f"a format-1 detector with {layer}_mean but no precision or scale")
        statistics[f"{layer}_precision"] = precision.reshape(n, mean.shape[-1], mean.shape[-1])
        statistics[f"{layer}_scale"] = scale.reshape(n)
    return {k: v.contiguous() for k, v in statistics.items()}, weights


# --- format 2 -> 3 ------------------------------------------------------------------------

V2_RENAMED_KINDS = {"conv": "strided_conv"}


def _v2_to_v3(header: Header, tensors: Tensors) -> tuple[Header, Tensors]:
    """Rename the kinds format 3 gave to a new design, wherever a kind is named."""
    bodies = [header, *header.get("members", [])]
    params = [body.get("params", {}) for body in bodies]
    params += [p["estimator"]["params"] for p in params if isinstance(p.get("estimator"), dict)]
    for holder in bodies + params:
        kind = holder.get("kind")
        if isinstance(kind, str) and kind in V2_RENAMED_KINDS:
            holder["kind"] = V2_RENAMED_KINDS[kind]
    return header, tensors


# --- format 3 -> 4 ------------------------------------------------------------------------

# what format 3's TimeSeriesAutoencoder did, in format 4's parameter
V3_SERIES_AUTOENCODER = {"center_windows": False}


def _v3_to_v4(header: Header, tensors: Tensors) -> tuple[Header, Tensors]:
    """A series autoencoder keeps reading windows as they are, levels included."""
    if header.get("estimator") == "TimeSeriesAutoencoder":
        header["params"] = V3_SERIES_AUTOENCODER | header["params"]
    return header, tensors


MIGRATIONS: dict[int, Callable[[Header, Tensors], tuple[Header, Tensors]]] = {
    1: _v1_to_v2,
    2: _v2_to_v3,
    3: _v3_to_v4,
}
