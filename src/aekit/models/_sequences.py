"""What the sequence kinds share: samples ``(1, L, C)``, a window of ``L`` time steps of
``C`` channels (as an ``(n, L, C)`` array reaches a network: one "image" whose rows are
time steps and whose columns are channels), and the layers that turn them around."""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor, nn

from aekit.models.base import BaseAE


class SequenceAE(BaseAE):
    """Base of the kinds that read time steps in order."""

    takes_sequences: ClassVar[bool] = True

    @classmethod
    def check_input_shape(cls, input_shape: tuple[int, ...]) -> None:
        if len(input_shape) != 3 or input_shape[0] != 1 or input_shape[1] < 2:
            raise ValueError(
                f"kind={cls.kind!r} needs sequences (n_samples, n_steps, n_channels) with at "
                f"least 2 steps; got samples of shape {input_shape}. TimeSeriesDetector and "
                f"TimeSeriesAutoencoder give it their windows"
            )

    @property
    def n_steps(self) -> int:
        return int(self.config.input_shape[1])

    @property
    def n_channels(self) -> int:
        return int(self.config.input_shape[2])


class Steps(nn.Module):
    """``(N, 1, L, C)`` samples in; ``(N, L, C)`` out, or ``(N, C, L)`` with
    ``channels_first`` (what ``Conv1d`` reads)."""

    def __init__(self, channels_first: bool = False) -> None:
        super().__init__()
        self.channels_first = channels_first

    def forward(self, x: Tensor) -> Tensor:
        steps = x[:, 0]
        return steps.transpose(1, 2) if self.channels_first else steps


class Samples(nn.Module):
    """The inverse of ``Steps``: ``(N, L', C)`` (or ``(N, C, L')``) cropped to ``n_steps``
    and shaped as samples ``(N, 1, L, C)``."""

    def __init__(self, n_steps: int, channels_first: bool = False) -> None:
        super().__init__()
        self.n_steps = n_steps
        self.channels_first = channels_first

    def forward(self, x: Tensor) -> Tensor:
        if self.channels_first:
            x = x[:, :, : self.n_steps].transpose(1, 2)
        return x[:, : self.n_steps].unsqueeze(1)
