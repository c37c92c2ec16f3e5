"""Per-epoch record of a training run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class History:
    """Loss per epoch: the total and each named term, on training and validation data."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_terms: dict[str, list[float]] = field(default_factory=dict)
    val_terms: dict[str, list[float]] = field(default_factory=dict)
    learning_rate: list[float] = field(default_factory=list)
    best_epoch: int | None = None  # 0-based index of the epoch whose weights were kept
    stopped_early: bool = False
    interrupted: bool = False  # stopped by a signal or a stop request before max_epochs
    fit_seconds: float = 0.0

    @property
    def n_epochs(self) -> int:
        return len(self.train_loss)

    @property
    def monitored(self) -> list[float]:
        """The loss early stopping watches: validation when there is any, else training."""
        return self.val_loss if self.val_loss else self.train_loss

    def record(
        self, train: dict[str, float], val: dict[str, float] | None, learning_rate: float
    ) -> None:
        self.train_loss.append(train["loss"])
        for name, value in train.items():
            if name != "loss":
                self.train_terms.setdefault(name, []).append(value)
        if val is not None:
            self.val_loss.append(val["loss"])
            for name, value in val.items():
                if name != "loss":
                    self.val_terms.setdefault(name, []).append(value)
        self.learning_rate.append(learning_rate)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        return cls(**data)
