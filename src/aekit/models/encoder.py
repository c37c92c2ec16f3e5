"""A trained encoder as a standalone module: raw samples in, codes out, ready to fine-tune."""

from __future__ import annotations

import copy

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor, nn

from aekit.models.base import BaseAE


class ScaledEncoder(nn.Module):
    """Input scaling, reshaping and a copy of a model's encoder and code head.

    Takes float32 samples ``(batch, *sample_shape)`` in the data's own units and returns the
    code ``(batch, latent_dim)`` (the mean for a variational model). The scaling statistics
    are buffers (moved by ``.to()``, saved in ``state_dict``, never trained); the layers are
    deep copies, so fine-tuning them leaves the model they came from untouched.
    """

    def __init__(
        self,
        model: BaseAE,
        offset: NDArray[np.float32],
        scale: NDArray[np.float32],
        sample_shape: tuple[int, ...],
    ) -> None:
        super().__init__()
        self.sample_shape = tuple(sample_shape)
        self.input_shape = model.config.input_shape
        self.encoder = copy.deepcopy(model.encoder)
        self.head = copy.deepcopy(model.head)
        device = next(model.parameters()).device
        self.register_buffer("offset", torch.as_tensor(offset, dtype=torch.float32, device=device))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32, device=device))
        self.offset: Tensor
        self.scale: Tensor

    def forward(self, x: Tensor) -> Tensor:
        if tuple(x.shape[1:]) != self.sample_shape:
            raise ValueError(
                f"expected samples of shape {self.sample_shape}, as in fit; "
                f"got a batch of shape {tuple(x.shape)}"
            )
        x = ((x - self.offset) / self.scale).reshape(-1, *self.input_shape)
        return self.head(self.encoder(x)).mean  # type: ignore[no-any-return]
