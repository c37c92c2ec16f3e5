"""``temporal_conv``: 1-D convolutions along time, for windows of a series.

Each stage convolves along the time steps (the series' channels are the convolution's input
channels) with stride 2, halving the steps; the code is read from the last stage's maps.
The decoder mirrors it: nearest-neighbour upsampling and a convolution per stage, cropped
to the window's length.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from torch import nn

from aekit.models._images import positive_ints
from aekit.models._layers import activation, mlp
from aekit.models._registry import register
from aekit.models._sequences import Samples, SequenceAE, Steps
from aekit.models.base import ModelConfig, setting


@dataclass(frozen=True)
class TemporalConvConfig(ModelConfig):
    """The temporal_conv kind's settings."""

    channels: tuple[int, ...] = setting(
        (32, 64),
        help="Feature maps of each stride-2 convolution along time (each halves the steps).",
    )
    kernel_size: int = setting(5, help="Time steps each convolution sees (odd).")

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "channels", positive_ints("channels", self.channels))
        if not self.channels:
            raise ValueError("channels must name at least one convolution")
        k = self.kernel_size
        if isinstance(k, bool) or not isinstance(k, int) or k < 1 or k % 2 == 0:
            raise ValueError(f"kernel_size={k!r} must be an odd positive integer")


@register("temporal_conv")
class TemporalConvAE(SequenceAE):
    """Stride-2 ``Conv1d`` stages down, upsampling and ``Conv1d`` back up."""

    config_class = TemporalConvConfig

    def __init__(self, config: TemporalConvConfig) -> None:
        super().__init__(config)
        steps, k = self.n_steps, config.kernel_size
        widths = [self.n_channels, *config.channels]
        down: list[nn.Module] = [Steps(channels_first=True)]
        for c_in, c_out in itertools.pairwise(widths):
            down += [
                nn.Conv1d(c_in, c_out, k, stride=2, padding=k // 2),
                activation(config.activation),
            ]
            steps = (steps + 1) // 2
        n_maps = widths[-1] * steps
        self.encoder = nn.Sequential(*down, nn.Flatten())
        up: list[nn.Module] = []
        for c_in, c_out in zip(widths[:0:-1], widths[-2::-1], strict=True):
            up += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.Conv1d(c_in, c_out, k, padding=k // 2),
                activation(config.activation),
            ]
        up.pop()  # raw output: the output activation is applied by the base class
        self.decoder = nn.Sequential(
            mlp([config.latent_dim, n_maps], config.activation),
            nn.Unflatten(1, (widths[-1], steps)),
            *up,
            Samples(self.n_steps, channels_first=True),
        )
        self._build_head(n_maps)
