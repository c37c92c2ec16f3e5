"""``recurrent``: a GRU (or LSTM) reads a window step by step; its last state is the code's
source. The decoder feeds the code to every step of a second recurrent network, whose
outputs a linear layer turns back into the channels (the sequence-to-sequence autoencoder
of LSTM-AE detectors)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from aekit.models._registry import register
from aekit.models._sequences import Samples, SequenceAE, Steps
from aekit.models.base import ModelConfig, setting

CELLS = {"gru": nn.GRU, "lstm": nn.LSTM}


@dataclass(frozen=True)
class RecurrentConfig(ModelConfig):
    """The recurrent kind's settings."""

    cell: str = setting("gru", help='The recurrent unit: "gru" or "lstm".')
    hidden_size: int = setting(64, help="Units of the recurrent state.")
    num_layers: int = setting(1, help="Stacked recurrent layers in the encoder and the decoder.")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.cell not in CELLS:
            raise ValueError(f"cell={self.cell!r} is not one of {', '.join(CELLS)}")
        for name in ("hidden_size", "num_layers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")


class LastState(nn.Module):
    """A recurrent network over ``(N, L, C)``; its output at the last step, ``(N, H)``."""

    def __init__(self, config: RecurrentConfig, n_inputs: int) -> None:
        super().__init__()
        self.rnn = CELLS[config.cell](
            n_inputs, config.hidden_size, config.num_layers, batch_first=True
        )

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.rnn(x)
        return out[:, -1]  # type: ignore[no-any-return]


class Unroll(nn.Module):
    """The code repeated over ``n_steps`` steps through a recurrent network, each step's
    output mapped to the channels: ``(N, latent) -> (N, L, C)``."""

    def __init__(self, config: RecurrentConfig, n_steps: int, n_channels: int) -> None:
        super().__init__()
        self.n_steps = n_steps
        self.rnn = CELLS[config.cell](
            config.latent_dim, config.hidden_size, config.num_layers, batch_first=True
        )
        self.out = nn.Linear(config.hidden_size, n_channels)

    def forward(self, z: Tensor) -> Tensor:
        steps, _ = self.rnn(z.unsqueeze(1).expand(-1, self.n_steps, -1))
        return self.out(steps)  # type: ignore[no-any-return]


@register("recurrent")
class RecurrentAE(SequenceAE):
    """Encoder: recurrent network, last state; decoder: the code unrolled over the steps."""

    config_class = RecurrentConfig

    def __init__(self, config: RecurrentConfig) -> None:
        super().__init__(config)
        self.encoder = nn.Sequential(Steps(), LastState(config, self.n_channels))
        self.decoder = nn.Sequential(
            Unroll(config, self.n_steps, self.n_channels), Samples(self.n_steps)
        )
        self._build_head(config.hidden_size)
