"""The bottleneck: registered code modules (plain, variational) and sparsity penalties.

A bottleneck turns the encoder's features into the code; any architecture takes any
bottleneck (``BOTTLENECKS``), and any bottleneck takes a sparsity penalty on its code
(``SPARSITY_PENALTIES``), so a *sparse variational* model is one of each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from aekit.models._layers import activation

if TYPE_CHECKING:
    from aekit.models.base import ModelConfig


@dataclass
class LatentCode:
    """What the bottleneck produced for one batch."""

    sample: Tensor  # (batch, latent): what the decoder sees
    mean: Tensor  # (batch, latent): the code ``transform`` returns
    log_var: Tensor | None = None  # (batch, latent) for a variational code
    penalties: dict[str, Tensor] = field(default_factory=dict)


# --- sparsity penalties -----------------------------------------------------------------


class L1Sparsity(nn.Module):
    """``weight`` times the mean absolute code."""

    def __init__(self, weight: float, target: float) -> None:
        super().__init__()
        self.weight = weight

    def forward(self, z: Tensor) -> Tensor:
        return self.weight * z.abs().mean()


class KLSparsity(nn.Module):
    """``weight`` times KL(target || each unit's mean sigmoid activation over the batch)."""

    def __init__(self, weight: float, target: float) -> None:
        super().__init__()
        self.weight, self.target = weight, target

    def forward(self, z: Tensor) -> Tensor:
        rho = self.target
        rho_hat = torch.sigmoid(z).mean(dim=0).clamp(1e-6, 1 - 1e-6)
        kl = rho * (rho / rho_hat).log() + (1 - rho) * ((1 - rho) / (1 - rho_hat)).log()
        return self.weight * kl.sum()


_PENALTIES: dict[str, type[nn.Module]] = {"l1": L1Sparsity, "kl": KLSparsity}
SPARSITY_PENALTIES = tuple(_PENALTIES)


def sparsity_penalty(config: ModelConfig) -> nn.Module | None:
    """The configured penalty on the code, or None without ``sparsity``."""
    if config.sparsity <= 0:
        return None
    return _PENALTIES[config.sparsity_penalty](config.sparsity, config.sparsity_target)


# --- bottlenecks ------------------------------------------------------------------------


class Bottleneck(nn.Module):
    """Encoder features ``(batch, n_features)`` -> a ``LatentCode``."""

    def __init__(self, n_features: int, config: ModelConfig) -> None:
        super().__init__()
        self.sparsity = sparsity_penalty(config)

    def forward(self, h: Tensor) -> LatentCode:
        raise NotImplementedError

    def _penalise(self, z: Tensor) -> dict[str, Tensor]:
        return {} if self.sparsity is None else {"sparsity": self.sparsity(z)}


class PlainCode(Bottleneck):
    """A deterministic code: a linear layer and ``latent_activation``."""

    def __init__(self, n_features: int, config: ModelConfig) -> None:
        super().__init__(n_features, config)
        self.linear = nn.Linear(n_features, config.latent_dim)
        self.activation = activation(config.latent_activation)

    def forward(self, h: Tensor) -> LatentCode:
        z = self.activation(self.linear(h))
        return LatentCode(z, z, penalties=self._penalise(z))


class GaussianCode(Bottleneck):
    """A Gaussian code (mean and log-variance), sampled with the reparameterisation trick
    while training; its KL divergence from N(0, I), times ``beta``, is a penalty."""

    def __init__(self, n_features: int, config: ModelConfig) -> None:
        super().__init__(n_features, config)
        self.linear = nn.Linear(n_features, 2 * config.latent_dim)
        self.beta = config.beta
        self.n_inputs = config.n_inputs  # KL / values per sample, like the reconstruction mean

    def forward(self, h: Tensor) -> LatentCode:
        mu, log_var = self.linear(h).chunk(2, dim=-1)
        log_var = log_var.clamp(-30.0, 20.0)  # exp() stays finite whatever the encoder emits
        z = mu + torch.randn_like(mu) * (0.5 * log_var).exp() if self.training else mu
        kl = 0.5 * (mu.square() + log_var.exp() - 1.0 - log_var).sum(dim=-1).mean()
        penalties = {"kl": self.beta * kl / self.n_inputs} | self._penalise(mu)
        return LatentCode(z, mu, log_var, penalties)


BOTTLENECKS: dict[str, type[Bottleneck]] = {"plain": PlainCode, "variational": GaussianCode}


def build_bottleneck(n_features: int, config: ModelConfig) -> Bottleneck:
    """The bottleneck ``config`` asks for (``variational`` or plain)."""
    return BOTTLENECKS["variational" if config.variational else "plain"](n_features, config)
