"""Reconstruction losses by name, computed from the decoder's raw output."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

LOSSES = ("mse", "bce")
OUTPUT_ACTIVATIONS = ("identity", "sigmoid", "tanh")


def check_loss(loss: str, output_activation: str) -> None:
    """Raise ``ValueError`` unless the loss and the output activation fit together."""
    if loss not in LOSSES:
        raise ValueError(f"loss={loss!r} is not one of {', '.join(LOSSES)}")
    if output_activation not in OUTPUT_ACTIVATIONS:
        raise ValueError(
            f"output_activation={output_activation!r} is not one of {', '.join(OUTPUT_ACTIVATIONS)}"
        )
    if loss == "bce" and output_activation != "sigmoid":
        raise ValueError(f"loss='bce' needs output_activation='sigmoid', got {output_activation!r}")


def apply_output_activation(raw: Tensor, output_activation: str) -> Tensor:
    """Map the decoder's raw output into the data's (scaled) range."""
    if output_activation == "sigmoid":
        return raw.sigmoid()
    if output_activation == "tanh":
        return raw.tanh()
    return raw


def elementwise_loss(raw: Tensor, target: Tensor, loss: str, output_activation: str) -> Tensor:
    """The loss of each value, same shape as ``target``."""
    if loss == "bce":  # from logits: stable where sigmoid saturates
        return F.binary_cross_entropy_with_logits(raw, target, reduction="none")
    return (apply_output_activation(raw, output_activation) - target).square()


def mean_loss(raw: Tensor, target: Tensor, loss: str, output_activation: str) -> Tensor:
    """The loss averaged over every value of the batch (one fused kernel where possible)."""
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(raw, target)
    return F.mse_loss(apply_output_activation(raw, output_activation), target)


def trimmed_mean(per_sample: Tensor, trim_fraction: float) -> Tensor:
    """The mean over the last axis of ``per_sample`` (each sample's loss) without its
    largest ``trim_fraction`` share: least trimmed squares. At least one sample counts."""
    n = per_sample.shape[-1]
    kept = max(1, round(n * (1.0 - trim_fraction)))
    if kept >= n:
        return per_sample.mean(-1)
    return per_sample.topk(kept, dim=-1, largest=False, sorted=False).values.mean(-1)


def batch_loss(
    raw: Tensor, target: Tensor, loss: str, output_activation: str, trim_fraction: float
) -> Tensor:
    """``mean_loss``, or with ``trim_fraction`` the mean of each sample's loss over the
    batch's samples but its worst ``trim_fraction`` (``trimmed_mean``)."""
    if trim_fraction <= 0:
        return mean_loss(raw, target, loss, output_activation)
    values = elementwise_loss(raw, target, loss, output_activation)
    return trimmed_mean(values.flatten(1).mean(1), trim_fraction)
