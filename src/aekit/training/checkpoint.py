"""The loop's full state between epochs, so that an interrupted fit resumes exactly.

Stored inside a model file as ``train.*`` tensors and a JSON section (never pickle):
optimizer moments, learning-rate schedule, early-stopping best weights, the history, and
the random generators (global torch, data shuffling, input noise).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from aekit.training.history import History


@dataclass
class LoopState:
    """Everything ``train`` needs to continue after ``epoch`` completed epochs."""

    epoch: int
    history: History
    optimizer: dict[str, Any]
    schedule: dict[str, Any] | None
    best: float | list[float]  # the best loss, or each member's for a stack
    best_state: dict[str, Tensor] | None
    rng: dict[str, Tensor]  # "torch", and "shuffle" (or "shuffle.k") / "noise" generator states
    stopping: dict[str, Any] | None = None  # early stopping's bookkeeping beyond ``best``

    def to_file_parts(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        """Tensors (``train.*``) and a JSON-safe dictionary."""
        tensors: dict[str, Tensor] = {}
        moments = self.optimizer["state"]
        for index, entry in moments.items():
            for name, value in entry.items():
                tensors[f"train.optim.{index}.{name}"] = torch.as_tensor(value).cpu().clone()
        for name, value in (self.best_state or {}).items():
            tensors[f"train.best.{name}"] = value.detach().cpu().contiguous()
        for name, value in self.rng.items():
            tensors[f"train.rng.{name}"] = value.cpu().clone()
        info = {
            "epoch": self.epoch,
            "history": self.history.to_dict(),
            "param_groups": self.optimizer["param_groups"],
            "schedule": self.schedule,
            "best": _finite_or_none(self.best),
            "has_best_state": self.best_state is not None,
        }
        if self.stopping is not None:
            info["stopping"] = self.stopping
        json.dumps(info)  # fail now, not when reading, on anything JSON cannot hold
        return tensors, info

    @classmethod
    def from_file_parts(cls, tensors: dict[str, Tensor], info: dict[str, Any]) -> LoopState:
        moments: dict[int, dict[str, Tensor]] = {}
        best_state: dict[str, Tensor] = {}
        rng: dict[str, Tensor] = {}
        for key, value in tensors.items():
            if key.startswith("train.optim."):
                index, name = key[len("train.optim.") :].split(".", 1)
                moments.setdefault(int(index), {})[name] = value
            elif key.startswith("train.best."):
                best_state[key[len("train.best.") :]] = value
            elif key.startswith("train.rng."):
                rng[key[len("train.rng.") :]] = value
        best = info["best"]
        if isinstance(best, list):
            best = [math.inf if b is None else float(b) for b in best]
        else:
            best = math.inf if best is None else float(best)
        return cls(
            epoch=int(info["epoch"]),
            history=History.from_dict(info["history"]),
            optimizer={"state": moments, "param_groups": info["param_groups"]},
            schedule=info["schedule"],
            best=best,
            best_state=best_state if info["has_best_state"] else None,
            rng=rng,
            stopping=info.get("stopping"),
        )


def _finite_or_none(best: float | list[float]) -> float | list[float | None] | None:
    """JSON has no infinity: an unset best is saved as null."""
    if isinstance(best, list):
        return [b if math.isfinite(b) else None for b in best]
    return best if math.isfinite(best) else None
