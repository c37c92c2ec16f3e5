"""The one training loop every model kind shares."""

from aekit.training.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    EpochEnd,
    ProgressBar,
    history_callback,
)
from aekit.training.history import History
from aekit.training.loop import (
    TensorBatches,
    TrainSettings,
    evaluate,
    resolve_device,
    train,
)

__all__ = [
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "EpochEnd",
    "History",
    "ProgressBar",
    "TensorBatches",
    "TrainSettings",
    "evaluate",
    "history_callback",
    "resolve_device",
    "train",
]
