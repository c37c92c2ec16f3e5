"""A model kind written outside aekit, with settings of its own: this file is the whole
change a new kind needs (``test_new_kind.py`` registers it and uses it everywhere)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from aekit.models import BaseAE, ModelConfig, register
from aekit.models._layers import activation
from aekit.models.base import setting

KIND = "test_shallow"


@dataclass(frozen=True)
class ShallowConfig(ModelConfig):
    """The shallow kind's settings."""

    width: int = setting(16, help="Units of the one hidden layer on each side of the code.")
    bias: bool = setting(True, help="Whether the hidden layers have biases.")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.width, int) or self.width < 1:
            raise ValueError(f"width={self.width!r} must be a positive integer")


@register(KIND)
class ShallowAE(BaseAE):
    """One hidden layer each way: ``n_inputs -> width -> code -> width -> n_inputs``."""

    config_class = ShallowConfig

    def __init__(self, config: ShallowConfig) -> None:
        super().__init__(config)
        n, width = config.n_inputs, config.width
        self.encoder = nn.Sequential(
            nn.Flatten(), nn.Linear(n, width, bias=config.bias), activation(config.activation)
        )
        self.decoder = nn.Sequential(
            nn.Linear(config.latent_dim, width, bias=config.bias),
            activation(config.activation),
            nn.Linear(width, n),
            nn.Unflatten(1, config.input_shape),
        )
        self._build_head(width)
