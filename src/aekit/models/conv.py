"""``conv``: a residual convolutional autoencoder whose depth and width follow the image.

Encoder: a space-to-depth step (each 2x2 patch as four channels) and a 3x3 convolution, then
per further stage a stride-2 3x3 convolution, each stage at half the size of the one before
and followed by residual blocks (pre-activation: batch norm, activation, 3x3 convolution,
twice, added to the input; the last convolution starts at zero, so each block starts as the
identity). The last maps are flattened into the code. The decoder mirrors it: the code back
to the maps, residual blocks, nearest-neighbour upsampling and a 3x3 convolution per stage,
and a pixel shuffle (initialised as nearest-neighbour upsampling) back to full size: no
checkerboard pattern, which transposed convolutions of stride 2 (``strided_conv``) leave.
Nothing skips around the code: ``transform`` and ``inverse_transform`` keep their meaning.

What was tried, MNIST (trained on the 60,000 training images, test MSE on the 10,000 test
images as a multiple of PCA(32)'s; one seed, 10 epochs, latent 32 unless said; ``python -m
bench --only quality,denoising`` has the defaults' figures over three seeds):

- norm: group norm 0.216x PCA(32)'s error, batch norm 0.183x. On RGB digits at 64x64 (400
  images, 10 epochs) group norm stayed at the mean image (1.07x its error; it removes each
  image's colour and brightness), batch norm reached 0.58x. Evaluation uses the running
  statistics, so a sample's output never depends on the batch it is scored in.
- width: (32, 64) channels reached 0.16x in 20 epochs at 40 s per epoch on 2 cores (group
  norm, learning rate 1e-3, first 5,000 test images); (16, 32) 0.18x in 10 at 18 s. A third
  stage (4x4 maps) was slower (60 s per epoch) and worse.
- fully connected layers before the code: (512, 256) for codes of at most 8 values, none
  for larger ones. The last maps read straight into a 2-D code gave 2-D codes whose 5-NN
  accuracy (0.70) trailed the dense kind's (0.78): a linear map from 1,568 features to 2
  keeps little of the digits' classes. (512, 256) trained at the shared learning rate 3e-3
  lowered it further (0.68; 0.74 at 2e-3), at 1e-3 raised it to 0.80, 0.82 and 0.77 (seeds
  0-2; 0.79 at 5e-4; (256,) at 3e-3: 0.76), and lowered the error at latent 8 from 0.0131
  to 0.0121. At latent 32 none is better: (512, 256) kept small colour sets at the mean
  image (0.94x its error at 32x32 vs 0.53x), and 1e-3 without them raised the error from
  0.0031 to 0.0036. Hence the learning rate follows the layers (``learning_rate()``).
  Checked on the training images alone (fit on the first 50,000, judged on the other
  10,000, seed 0): 5-NN 0.81 with them at 1e-3, 0.70 at 3e-3, 0.67 without (dense: 0.73).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from aekit.models._images import ImageAE, crop, halved, positive_ints
from aekit.models._layers import activation, mlp
from aekit.models._registry import register
from aekit.models.base import ModelConfig, setting

FIRST_WIDTH, MAX_WIDTH = 16, 256
SMALLEST_SIDE = 7  # stages halve H and W while the smaller side stays at least this
MAX_STAGES = 5
SMALL_CODE = 8  # codes this small get fully connected layers before them by default
SMALL_CODE_HIDDEN = (512, 256)
HEAD_LEARNING_RATE = 1e-3


def default_channels(height: int, width: int) -> tuple[int, ...]:
    """Feature maps per stage: 16 doubling (at most 256), one stage per halving that keeps
    the smaller side at least 7, and at least one stage: 8x8 -> (16,), 28x28 and 32x32 ->
    (16, 32) (7x7 and 8x8 maps), 64x64 -> (16, 32, 64), 224x224 -> five stages."""
    stages, side = 0, min(height, width)
    while stages < MAX_STAGES and (side + 1) // 2 >= SMALLEST_SIDE:
        side, stages = (side + 1) // 2, stages + 1
    return tuple(min(MAX_WIDTH, FIRST_WIDTH * 2**i) for i in range(max(stages, 1)))


@dataclass(frozen=True)
class ConvConfig(ModelConfig):
    """The conv kind's settings."""

    channels: tuple[int, ...] | None = setting(
        None,
        help="Feature maps after each stride-2 stage (each halves H and W). None follows the "
        "image size: 16 doubling, one stage per halving that keeps a side of at least 7 "
        "(28x28: (16, 32); 64x64: (16, 32, 64)).",
    )
    blocks: int = setting(1, help="Residual blocks per stage, in the encoder and the decoder.")
    hidden_dims: tuple[int, ...] | None = setting(
        None,
        help="Fully connected widths between the last maps and the code. None: (512, 256) "
        "for codes of at most 8 values, none for larger ones.",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        images = len(self.input_shape) == 3  # other shapes are refused by check_input_shape
        channels = self.channels
        if channels is None and images:
            channels = default_channels(*self.input_shape[1:])
        object.__setattr__(self, "channels", positive_ints("channels", channels))
        if images and not self.channels:
            raise ValueError("channels must name at least one stage")
        hidden = self.hidden_dims
        if hidden is None:
            hidden = SMALL_CODE_HIDDEN if self.latent_dim <= SMALL_CODE else ()
        object.__setattr__(self, "hidden_dims", positive_ints("hidden_dims", hidden))
        if not isinstance(self.blocks, int) or isinstance(self.blocks, bool) or self.blocks < 0:
            raise ValueError(f"blocks={self.blocks!r} must be an integer >= 0")

    def learning_rate(self) -> float:
        """1e-3 with fully connected layers before the code (3e-3 stalls them), else the
        shared default."""
        return HEAD_LEARNING_RATE if self.hidden_dims else super().learning_rate()


def _norm(channels: int) -> nn.Module:
    """Batch normalisation of the maps (see the module's notes for why not group norm)."""
    return BatchNorm(channels)


class BatchNorm(nn.BatchNorm2d):
    """``BatchNorm2d`` that falls back on its running statistics when a training batch holds
    a single value per channel (one sample of 1x1 maps), which batch statistics cannot
    normalise. In evaluation it always uses them: a sample's output never depends on the
    other samples it is scored with."""

    def forward(self, x: Tensor) -> Tensor:
        if self.training and x.shape[0] * x.shape[-2] * x.shape[-1] < 2:
            return nn.functional.batch_norm(
                x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps
            )
        return super().forward(x)


class ResidualBlock(nn.Module):
    """``x + conv(act(norm(conv(act(norm(x))))))``, 3x3 convolutions, same shape out."""

    diagram_label = "Residual 2× Conv 3×3"

    def __init__(self, channels: int, act: str) -> None:
        super().__init__()
        last = nn.Conv2d(channels, channels, 3, padding=1)
        with torch.no_grad():  # each block starts as the identity
            last.weight.zero_()
            last.bias.zero_()  # type: ignore[union-attr]
        self.body = nn.Sequential(
            _norm(channels),
            activation(act),
            nn.Conv2d(channels, channels, 3, padding=1),
            _norm(channels),
            activation(act),
            last,
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)  # type: ignore[no-any-return]


def _step(c_in: int, c_out: int, act: str) -> list[nn.Module]:
    """Norm and activation, then a stride-2 3x3 convolution: half the height and width."""
    return [_norm(c_in), activation(act), nn.Conv2d(c_in, c_out, 3, stride=2, padding=1)]


class Upsample(nn.Module):
    """Norm and activation, nearest-neighbour x2 cropped to ``size``, a 3x3 convolution."""

    diagram_label = "Nearest ↑2, Conv 3×3"

    def __init__(self, c_in: int, c_out: int, size: tuple[int, int], act: str) -> None:
        super().__init__()
        self.size = size
        self.pre = nn.Sequential(_norm(c_in), activation(act))
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        x = nn.functional.interpolate(self.pre(x), scale_factor=2.0, mode="nearest")
        return self.conv(crop(x, self.size))  # type: ignore[no-any-return]


class SpaceToDepth(nn.Module):
    """The first layer: each 2x2 patch of the (padded to even) image as 4x the channels,
    then a 3x3 convolution at half the size. A stride-2 convolution of the few input
    channels costs as much and trains slower on the CPU."""

    diagram_label = "Space-to-depth ↓2, Conv 3×3"

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4 * c_in, c_out, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        pad_h, pad_w = x.shape[-2] % 2, x.shape[-1] % 2
        if pad_h or pad_w:
            x = nn.functional.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        return self.conv(nn.functional.pixel_unshuffle(x, 2))  # type: ignore[no-any-return]


class DepthToSpace(nn.Module):
    """The last layer: norm, activation, a 3x3 convolution to 4x the output channels at
    half the size, each group of 4 spread over a 2x2 patch. Initialised as nearest-neighbour
    upsampling (the 4 share one kernel, "ICNR"), so it starts free of checkerboards."""

    diagram_label = "Conv 3×3, pixel shuffle ↑2"

    def __init__(self, c_in: int, c_out: int, size: tuple[int, int], act: str) -> None:
        super().__init__()
        self.size = size
        self.pre = nn.Sequential(_norm(c_in), activation(act))
        self.conv = nn.Conv2d(c_in, 4 * c_out, 3, padding=1)
        weight, bias = self.conv.weight, self.conv.bias
        assert bias is not None
        with torch.no_grad():  # output channel c reads conv channels 4c..4c+3: one kernel
            weight.copy_(weight[::4].repeat_interleave(4, dim=0))
            bias.copy_(bias[::4].repeat_interleave(4))

    def forward(self, x: Tensor) -> Tensor:
        x = nn.functional.pixel_shuffle(self.conv(self.pre(x)), 2)
        return crop(x, self.size)


@register("conv")
class ConvAE(ImageAE):
    """Residual convolutional autoencoder for images ``(C, H, W)``, any H and W >= 2."""

    config_class = ConvConfig

    def __init__(self, config: ConvConfig) -> None:
        super().__init__(config)
        channels_in, height, width = config.input_shape
        channels, act = list(config.channels or ()), config.activation
        sizes = [(height, width)]
        for _ in channels:
            sizes.append(halved(*sizes[-1]))
        # nothing runs at full resolution but the first and the last convolution
        down: list[nn.Module] = [SpaceToDepth(channels_in, channels[0])]
        down += [ResidualBlock(channels[0], act) for _ in range(config.blocks)]
        for c_in, c_out in itertools.pairwise(channels):
            down += _step(c_in, c_out, act)
            down += [ResidualBlock(c_out, act) for _ in range(config.blocks)]
        down += [_norm(channels[-1]), activation(act)]
        n_maps = channels[-1] * sizes[-1][0] * sizes[-1][1]
        hidden = list(config.hidden_dims or ())
        self.encoder = nn.Sequential(
            *down, nn.Flatten(), mlp([n_maps, *hidden], act, dropout=config.dropout)
        )
        up: list[nn.Module] = []
        outs = [channels_in, *channels[:-1]]
        for i in reversed(range(len(channels))):
            up += [ResidualBlock(channels[i], act) for _ in range(config.blocks)]
            step = DepthToSpace if i == 0 else Upsample
            up.append(step(channels[i], outs[i], sizes[i], act))
        self.decoder = nn.Sequential(
            mlp([config.latent_dim, *hidden[::-1], n_maps], act, last_act=False),
            nn.Unflatten(1, (channels[-1], *sizes[-1])),
            *up,
        )
        self._build_head(hidden[-1] if hidden else n_maps)
