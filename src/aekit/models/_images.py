"""What the image kinds share: the input check, their settings' check, sizes and crops."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from aekit.models.base import BaseAE


class ImageAE(BaseAE):
    """Base of the kinds that take images ``(C, H, W)``, any H and W >= 2."""

    takes_images = True

    @classmethod
    def check_input_shape(cls, input_shape: tuple[int, ...]) -> None:
        if len(input_shape) != 3 or min(input_shape[1:]) < 2:
            raise ValueError(
                f"kind={cls.kind!r} needs images (n_samples, H, W) or (n_samples, C, H, W) "
                f"with H, W >= 2; got samples of shape {input_shape}. Reshape flat rows to "
                f"images, or use kind='dense'"
            )


def positive_ints(name: str, value: Any) -> tuple[int, ...]:
    """``value`` as a tuple of positive integers (None: empty), or a ValueError naming it."""
    try:
        values = () if value is None else tuple(value)
    except TypeError:
        raise ValueError(f"{name}={value!r} must be a sequence of positive integers") from None
    if any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in values):
        raise ValueError(f"{name}={value!r} must be positive integers")
    return values


def halved(height: int, width: int) -> tuple[int, int]:
    """The size after a stride-2 step: odd sides round up."""
    return (height + 1) // 2, (width + 1) // 2


def crop(x: Tensor, size: tuple[int, int]) -> Tensor:
    """The top-left ``size`` of ``x`` (sizes were rounded up on the way down)."""
    if tuple(x.shape[-2:]) == size:
        return x
    return x[..., : size[0], : size[1]]
