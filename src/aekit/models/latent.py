"""The bottleneck: a deterministic or Gaussian (variational) code, and the sparsity penalty."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from aekit.models._layers import activation

SPARSITY_PENALTIES = ("l1", "kl")


@dataclass
class LatentCode:
    """What the bottleneck produced for one batch."""

    sample: Tensor  # (batch, latent): what the decoder sees
    mean: Tensor  # (batch, latent): the code ``transform`` returns
    log_var: Tensor | None = None  # (batch, latent) for a variational code
    penalties: dict[str, Tensor] = field(default_factory=dict)


class LatentHead(nn.Module):
    """Features -> code, optionally Gaussian with the reparameterisation trick."""

    def __init__(
        self,
        n_features: int,
        latent_dim: int,
        *,
        variational: bool = False,
        beta: float = 1.0,
        latent_activation: str = "identity",
        sparsity: float = 0.0,
        sparsity_penalty: str = "l1",
        sparsity_target: float = 0.05,
        n_inputs: int = 1,
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.variational = variational
        self.beta = beta
        self.sparsity = sparsity
        self.sparsity_penalty = sparsity_penalty
        self.sparsity_target = sparsity_target
        self.n_inputs = n_inputs  # KL is divided by it, matching the per-value reconstruction mean
        self.linear = nn.Linear(n_features, 2 * latent_dim if variational else latent_dim)
        self.activation = activation(latent_activation)

    def forward(self, h: Tensor) -> LatentCode:
        out = self.linear(h)
        if not self.variational:
            z = self.activation(out)
            return LatentCode(z, z, penalties=self._sparsity(z))
        mu, log_var = out.chunk(2, dim=-1)
        log_var = log_var.clamp(-30.0, 20.0)  # exp() stays finite whatever the encoder emits
        z = mu + torch.randn_like(mu) * (0.5 * log_var).exp() if self.training else mu
        kl = 0.5 * (mu.square() + log_var.exp() - 1.0 - log_var).sum(dim=-1).mean()
        penalties = {"kl": self.beta * kl / self.n_inputs} | self._sparsity(mu)
        return LatentCode(z, mu, log_var, penalties)

    def _sparsity(self, z: Tensor) -> dict[str, Tensor]:
        if self.sparsity <= 0:
            return {}
        if self.sparsity_penalty == "l1":
            return {"sparsity": self.sparsity * z.abs().mean()}
        rho = self.sparsity_target  # KL(rho || mean activation of each unit over the batch)
        rho_hat = torch.sigmoid(z).mean(dim=0).clamp(1e-6, 1 - 1e-6)
        kl = rho * (rho / rho_hat).log() + (1 - rho) * ((1 - rho) / (1 - rho_hat)).log()
        return {"sparsity": self.sparsity * kl.sum()}
