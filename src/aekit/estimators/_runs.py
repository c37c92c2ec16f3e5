"""How one network's training is run and resumed, shared by the estimators."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from torch import Tensor

from aekit.training import Callback
from aekit.training.checkpoint import LoopState

# may change between a checkpoint and resuming it (deep names: "estimator__verbose")
RESUMABLE = frozenset({"max_epochs", "verbose", "device"})


@dataclass
class ResumePoint:
    """Where an interrupted training run goes on: its network's weights and loop state."""

    loop: LoopState
    weights: dict[str, Tensor]


@dataclass(frozen=True)
class RowSplit:
    """One network's seed, training rows (None: every row), validation rows (None: none)
    and batch size."""

    seed: int
    train: NDArray[np.intp] | None
    validation: NDArray[np.intp] | None
    batch_size: int


@dataclass
class TrainingRun:
    """What watches one network's training: callbacks (the loop's protocol), where its
    checkpoints go, where it resumes from, a stop request, and its progress bar's label."""

    callbacks: list[Callback] = field(default_factory=list)
    stop: threading.Event | None = None
    checkpoint: Callable[[LoopState], None] | None = None
    checkpoint_every: int = 1
    resume: ResumePoint | None = None
    label: str = "training"


def check_same_settings(
    estimator: Any, saved: Any, path: str | Path, resumable: frozenset[str] = RESUMABLE
) -> None:
    """Raise ``ValueError`` unless ``saved`` (from a checkpoint) has ``estimator``'s class,
    parameters (but for those ``resumable`` names) and sample shape (``fit`` set it)."""
    if type(saved) is not type(estimator):
        theirs, mine = type(saved).__name__, type(estimator).__name__
        raise ValueError(f"checkpoint {path} holds {_a(theirs)} {theirs}, not {_a(mine)} {mine}")
    mine, theirs = estimator.get_params(deep=True), saved.get_params(deep=True)
    differ = sorted(
        k
        for k in mine.keys() | theirs.keys()
        if k.rpartition("__")[2] not in resumable
        and k != "estimator"  # compared through its estimator__NAME entries
        and comparable(mine.get(k)) != comparable(theirs.get(k))
    )
    if differ:
        shown = ", ".join(f"{k}={theirs.get(k)!r} there, {mine.get(k)!r} here" for k in differ)
        raise ValueError(f"checkpoint {path} was made with other settings: {shown}")
    if saved.sample_shape_ != estimator.sample_shape_:
        raise ValueError(
            f"checkpoint {path} was trained on samples of shape {saved.sample_shape_}, "
            f"not {estimator.sample_shape_}"
        )


def _a(name: str) -> str:
    return "an" if name[0] in "AEIOU" else "a"


def comparable(value: Any) -> str:
    """A parameter as JSON text: tuples and lists alike; a RandomState as None."""
    if hasattr(value, "get_state") and hasattr(value, "randint"):
        return "null"
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)
