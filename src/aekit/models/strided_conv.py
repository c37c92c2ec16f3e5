"""``strided_conv``: strided convolutions down to the code, transposed convolutions back up.

aekit's first image kind, called ``conv`` until model format 3 gave that name to the residual
design (``aekit.models.conv``); files written before then load as this kind. It stays
because it is quick: an MNIST epoch took 7.9 s on 2 cores against the residual kind's 18 s,
for a first look at a data set or a small machine; in 20 epochs it reached 0.21x PCA(32)'s
held-out error (the residual kind: 0.18x in 10). Its transposed convolutions of stride 2 leave
a checkerboard pattern, and its depth and width do not follow the image size.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from aekit.models._images import ImageAE, crop, halved, positive_ints
from aekit.models._layers import activation, mlp
from aekit.models._registry import register
from aekit.models.base import ModelConfig, setting


@dataclass(frozen=True)
class StridedConvConfig(ModelConfig):
    """The strided_conv kind's settings."""

    channels: tuple[int, ...] = setting(
        (32, 64), help="Feature maps after each stride-2 convolution (each halves H and W)."
    )
    hidden_dims: tuple[int, ...] = setting(
        (), help="Fully connected widths between the last maps and the code; none by default."
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("channels", "hidden_dims"):  # None: no layers
            object.__setattr__(self, name, positive_ints(name, getattr(self, name)))
        if not self.channels:
            raise ValueError("channels must name at least one convolution")


@register("strided_conv")
class StridedConvAE(ImageAE):
    """Two stride-2 convolutions and their transposes, for images ``(C, H, W)``."""

    config_class = StridedConvConfig

    def __init__(self, config: StridedConvConfig) -> None:
        super().__init__(config)
        channels_in, height, width = config.input_shape
        channels, hidden = list(config.channels), list(config.hidden_dims)
        down: list[nn.Module] = []
        for c_in, c_out in zip([channels_in, *channels[:-1]], channels, strict=True):
            down += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), activation(config.activation)]
            height, width = halved(height, width)
        n_maps = channels[-1] * height * width
        self.encoder = nn.Sequential(
            *down, nn.Flatten(), mlp([n_maps, *hidden], config.activation, dropout=config.dropout)
        )
        up: list[nn.Module] = []
        for c_in, c_out in zip(channels[::-1], [*channels[-2::-1], channels_in], strict=True):
            up += [
                nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1),
                activation(config.activation),
            ]
        up.pop()  # raw output: the output activation is applied by the base class
        self.decoder = nn.Sequential(
            mlp([config.latent_dim, *hidden[::-1], n_maps], config.activation),
            nn.Unflatten(1, (channels[-1], height, width)),
            *up,
        )
        self._build_head(hidden[-1] if hidden else n_maps)

    def decode_raw(self, z: Tensor) -> Tensor:
        _, height, width = self.config.input_shape
        return crop(self.decoder(z), (height, width))
