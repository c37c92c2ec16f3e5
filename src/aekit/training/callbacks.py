"""Things the loop calls after each epoch: early stopping and the progress bar."""

from __future__ import annotations

import math
from typing import Protocol

import torch
from torch import Tensor, nn

from aekit.training.history import History


class Callback(Protocol):
    def __call__(self, history: History, model: nn.Module) -> bool:
        """Called after each epoch; return True to stop training."""
        ...


class EarlyStopping:
    """Keep the weights of the best epoch; stop after ``patience`` epochs without progress.

    ``patience=None`` never stops early but still keeps the best weights.
    """

    def __init__(self, patience: int | None = 10, min_delta: float = 1e-4) -> None:
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

    def restore(self, model: nn.Module) -> None:
        """Load the best weights seen back into ``model``."""
        if self.best_state is not None:
            with torch.no_grad():
                model.load_state_dict(self.best_state)


class ProgressBar:
    """A tqdm bar over epochs showing the latest losses."""

    def __init__(self, max_epochs: int, *, description: str = "training") -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=max_epochs, desc=description, unit="epoch", leave=True)

    def __call__(self, history: History, model: nn.Module) -> bool:
        shown = {"loss": f"{history.train_loss[-1]:.4g}"}
        if history.val_loss:
            shown["val_loss"] = f"{history.val_loss[-1]:.4g}"
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)
        return False

    def close(self) -> None:
        self.bar.close()
