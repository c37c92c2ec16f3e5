"""Training-time input corruption for denoising autoencoders; never used at inference."""

from __future__ import annotations

import torch
from torch import Tensor

NOISE_KINDS = ("gaussian", "masking", "salt_pepper")


def check_noise(noise: str | None, level: float) -> None:
    """Raise ``ValueError`` for an unknown noise kind or a level out of range."""
    if noise is None:
        return
    if noise not in NOISE_KINDS:
        raise ValueError(f"noise={noise!r} is not one of {', '.join(NOISE_KINDS)} or None")
    upper = float("inf") if noise == "gaussian" else 1.0
    if not 0.0 < level < upper or level != level:
        bound = "positive" if noise == "gaussian" else "in (0, 1)"
        raise ValueError(f"noise_level={level!r} must be {bound} for noise={noise!r}")


def corrupt(
    x: Tensor,
    noise: str | None,
    level: float,
    generator: torch.Generator | None = None,
    *,
    clip: tuple[float, float] | None = None,
) -> Tensor:
    """A corrupted copy of ``x``; ``x`` itself is left untouched.

    gaussian: add ``level`` times standard normal noise (then clip to ``clip``);
    masking: set each value to 0 with probability ``level``;
    salt_pepper: set each value to the low or high end of ``clip`` (or of the
    batch's range) with probability ``level``, half each way.
    """
    if noise is None:
        return x
    if noise == "gaussian":
        noisy = x + level * torch.randn(
            x.shape, generator=generator, device=x.device, dtype=x.dtype
        )
        return noisy.clamp_(*clip) if clip is not None else noisy
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    if noise == "masking":
        return x.masked_fill(u < level, 0.0)
    low, high = clip if clip is not None else (x.min(), x.max())
    noisy = torch.where(u < level / 2, low, x)
    return torch.where((u >= level / 2) & (u < level), high, noisy)
