"""What the loop calls after each epoch: early stopping, callbacks, checkpoints, progress.

A callback takes an ``EpochEnd`` and returns True to stop training. ``Checkpoint`` and
``ProgressBar`` are callbacks like any other; estimators add them to the user's own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import Tensor, nn

from aekit.training.checkpoint import LoopState
from aekit.training.history import History


@dataclass
class EpochEnd:
    """What a callback sees once an epoch is done."""

    epoch: int  # epochs completed, counting from 1
    history: History
    model: nn.Module
    stopping: bool  # training ends here: early stopping, or an earlier callback, said so
    capture: Callable[[], LoopState]  # the loop's full state, for a checkpoint

    def loop_state(self) -> LoopState:
        """Everything needed to resume training after this epoch."""
        return self.capture()


class Callback(Protocol):
    def __call__(self, end: EpochEnd) -> bool:
        """Called after each epoch; return True to stop training."""
        ...


def history_callback(fn: Callable[[History, nn.Module], bool]) -> Callback:
    """A callback written as ``fn(history, model) -> bool``, as ``fit(callbacks=...)`` takes."""

    def call(end: EpochEnd) -> bool:
        return bool(fn(end.history, end.model))

    return call


class Checkpoint:
    """Hand the loop's state to ``write`` every ``every`` epochs and when training ends.

    Add it after every callback that may stop training, so that it sees their decision.
    """

    def __init__(self, write: Callable[[LoopState], None], every: int = 1) -> None:
        if every < 1:
            raise ValueError(f"checkpoint_every={every!r} must be a positive number of epochs")
        self.write, self.every = write, every

    def __call__(self, end: EpochEnd) -> bool:
        if end.epoch % self.every == 0 or end.stopping:
            self.write(end.loop_state())
        return False


class EarlyStopping:
    """Keep the weights of the best epoch; stop after ``patience`` epochs without progress.

    ``patience=None`` never stops early but still keeps the best weights.
    """

    def __init__(self, patience: int | None, min_delta: float = 1e-4) -> None:
        self.patience = patience
        self.min_delta = min_delta  # relative improvement that counts as progress
        self.best = math.inf
        self.best_state: dict[str, Tensor] | None = None

    def __call__(self, history: History, model: nn.Module) -> bool:
        loss, epoch = history.monitored[-1], history.n_epochs - 1
        improved = loss < self.best * (1 - self.min_delta) or self.best_state is None
        if improved and math.isfinite(loss):
            self.best = loss
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            history.best_epoch = epoch
        waited = epoch - (history.best_epoch if history.best_epoch is not None else -1)
        if self.patience is not None and waited > self.patience:
            history.stopped_early = True
            return True
        return False

    def bookkeeping(self) -> dict[str, Any] | None:
        """What a checkpoint keeps besides ``best`` and ``best_state`` (none here)."""
        return None

    def load_bookkeeping(self, saved: dict[str, Any] | None) -> None:
        """Take back what ``bookkeeping`` gave."""

    def restore(self, model: nn.Module) -> None:
        """Load the best weights seen back into ``model``."""
        if self.best_state is not None:
            with torch.no_grad():
                model.load_state_dict(self.best_state)


class ProgressBar:
    """A tqdm bar over epochs showing the latest losses; ``close()`` it after training."""

    def __init__(self, max_epochs: int, *, description: str = "training") -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=max_epochs, desc=description, unit="epoch", leave=True)

    def __call__(self, end: EpochEnd) -> bool:
        history = end.history
        shown = {"loss": f"{history.train_loss[-1]:.4g}"}
        if history.val_loss:
            shown["val_loss"] = f"{history.val_loss[-1]:.4g}"
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)
        return False

    def close(self) -> None:
        self.bar.close()
