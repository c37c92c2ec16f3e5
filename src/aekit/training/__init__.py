"""The one training loop every model kind shares."""

from aekit.training.callbacks import Callback, EarlyStopping, ProgressBar
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
    "EarlyStopping",
    "History",
    "ProgressBar",
    "TensorBatches",
    "TrainSettings",
    "evaluate",
    "resolve_device",
    "train",
]
