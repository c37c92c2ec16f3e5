"""The interface every model kind implements, and the configuration that rebuilds it."""

from __future__ import annotations

import math
from dataclasses import Field, dataclass, field, fields
from typing import Any, ClassVar

from torch import Tensor, nn

from aekit.losses import (
    apply_output_activation,
    batch_loss,
    check_loss,
    elementwise_loss,
)
from aekit.models._layers import ACTIVATIONS, init_weights
from aekit.models._registry import model_class
from aekit.models.latent import SPARSITY_PENALTIES, Bottleneck, LatentCode, build_bottleneck
from aekit.models.size import check_fits, parameter_count

LEARNING_RATE = 3e-3  # AdamW's, for the networks that do not choose their own


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a model; saved as JSON in model files.

    The fields here are those every kind shares; the estimator fills each of them from its
    parameters (where their defaults are declared). A kind's own settings are the fields
    its subclass adds, with their defaults and help (``setting``); ``input_shape`` is the
    shape of one sample: ``(n_features,)`` or ``(C, H, W)``.
    """

    input_shape: tuple[int, ...]
    latent_dim: int
    activation: str
    latent_activation: str
    loss: str
    output_activation: str
    variational: bool
    beta: float
    sparsity: float
    sparsity_penalty: str
    sparsity_target: float
    dropout: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_shape", tuple(int(s) for s in self.input_shape))
        if not self.input_shape or min(self.input_shape) < 1:
            raise ValueError(f"input_shape={self.input_shape} must be non-empty and positive")
        if not isinstance(self.latent_dim, int) or self.latent_dim < 1:
            raise ValueError(f"latent_dim={self.latent_dim!r} must be a positive integer")
        for name in ("activation", "latent_activation"):
            if getattr(self, name) not in ACTIVATIONS:
                raise ValueError(
                    f"{name}={getattr(self, name)!r} is not one of {', '.join(sorted(ACTIVATIONS))}"
                )
        check_loss(self.loss, self.output_activation)
        if not self.beta >= 0:
            raise ValueError(f"beta={self.beta!r} must be >= 0")
        if not self.sparsity >= 0:
            raise ValueError(f"sparsity={self.sparsity!r} must be >= 0")
        if self.sparsity_penalty not in SPARSITY_PENALTIES:
            raise ValueError(
                f"sparsity_penalty={self.sparsity_penalty!r} is not one of "
                f"{', '.join(SPARSITY_PENALTIES)}"
            )
        if not 0 < self.sparsity_target < 1:
            raise ValueError(f"sparsity_target={self.sparsity_target!r} must be in (0, 1)")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout={self.dropout!r} must be in [0, 1)")

    @property
    def n_inputs(self) -> int:
        """Values in one sample."""
        return math.prod(self.input_shape)

    @classmethod
    def field_names(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    @classmethod
    def settings(cls) -> dict[str, Field[Any]]:
        """The kind's own settings: the fields its configuration adds to the shared ones."""
        shared = {f.name for f in fields(ModelConfig)}
        return {f.name: f for f in fields(cls) if f.name not in shared}

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def learning_rate(self) -> float:
        """The learning rate this network trains best at: the estimators' ``"auto"``."""
        return LEARNING_RATE


class BaseAE(nn.Module):
    """An encoder, a decoder and the loss they are trained on.

    A kind builds ``self.encoder`` (sample -> features of size ``n_encoded``) and
    ``self.decoder`` (code -> raw output shaped like a sample); the base class adds
    the bottleneck (``self.head``), the output activation and the loss.
    """

    kind: ClassVar[str]
    config_class: ClassVar[type[ModelConfig]] = ModelConfig
    takes_sequences: ClassVar[bool] = False  # samples (1, steps, channels), read in order
    takes_images: ClassVar[bool] = False  # samples (C, H, W), read as images
    encoder: nn.Module
    decoder: nn.Module

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config

    def _build_head(self, n_encoded: int) -> None:
        """The bottleneck the configuration asks for, reading ``n_encoded`` features."""
        self.head: Bottleneck = build_bottleneck(n_encoded, self.config)

    @classmethod
    def check_input_shape(cls, input_shape: tuple[int, ...]) -> None:
        """Raise ``ValueError`` if this kind cannot take samples of ``input_shape``."""

    def code(self, x: Tensor) -> LatentCode:
        return self.head(self.encoder(x))  # type: ignore[no-any-return]

    def encode(self, x: Tensor) -> Tensor:
        """The latent code of each sample (the mean for a variational model)."""
        return self.code(x).mean

    def decode_raw(self, z: Tensor) -> Tensor:
        """The decoder's output before the output activation (logits for ``bce``)."""
        return self.decoder(z)  # type: ignore[no-any-return]

    def decode(self, z: Tensor) -> Tensor:
        """Reconstructions from codes, in the scaled data range."""
        return apply_output_activation(self.decode_raw(z), self.config.output_activation)

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))

    def inspect(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """One pass: the encoder's last hidden layer (what the latent head reads), the code
        (its mean) and each value's training loss, as in ``elementwise_loss``; squared
        errors in float64, so that far-out inputs get large finite values."""
        hidden = self.encoder(x)
        code = self.head(hidden).mean
        c = self.config
        raw = self.decode_raw(code)
        if c.loss == "mse":
            reconstruction = apply_output_activation(raw, c.output_activation)
            return hidden, code, (reconstruction.double() - x.double()).square()
        return hidden, code, elementwise_loss(raw, x, c.loss, c.output_activation)

    def training_loss(
        self, x_in: Tensor, x_target: Tensor, trim_fraction: float = 0.0
    ) -> dict[str, Tensor]:
        """Named loss terms; training minimises ``"loss"``, reports show the rest.
        ``trim_fraction`` leaves the samples with the largest reconstruction loss out of
        it (``aekit.losses.trimmed_mean``); a penalty stays over every sample."""
        z = self.code(x_in)  # the variational head samples here and adds "kl"
        raw = self.decode_raw(z.sample)
        c = self.config
        reconstruction = batch_loss(raw, x_target, c.loss, c.output_activation, trim_fraction)
        terms = {"reconstruction": reconstruction}
        terms |= z.penalties  # "kl" for a variational code, "sparsity" when asked for
        terms["loss"] = sum(terms.values())  # type: ignore[assignment]
        return terms

    def elementwise_loss(self, x: Tensor) -> Tensor:
        """The training loss of each value of each sample, same shape as ``x``."""
        c = self.config
        return elementwise_loss(self.decode_raw(self.encode(x)), x, c.loss, c.output_activation)


def setting(default: Any, help: str) -> Any:
    """Declare a kind's own setting on its configuration: its default and help text."""
    return field(default=default, metadata={"help": " ".join(help.split())})


def kind_settings(kind: str) -> dict[str, tuple[Any, str]]:
    """The settings ``kind`` declares for ``model_params``: name -> (default, help)."""
    own = model_class(kind).config_class.settings()
    return {name: (f.default, str(f.metadata.get("help", ""))) for name, f in own.items()}


def build_config(kind: str, shared: dict[str, Any], settings: dict[str, Any] | None) -> ModelConfig:
    """The configuration of ``kind`` from the shared fields and the kind's own ``settings``.

    Raises ``ValueError`` naming any setting the kind does not have, and the ones it has.
    """
    cls = model_class(kind).config_class
    own = cls.settings()
    unknown = sorted(set(settings or {}) - set(own))
    if unknown:
        offered = ", ".join(own) if own else "none"
        raise ValueError(
            f"kind={kind!r} has no setting {', '.join(map(repr, unknown))} in model_params; "
            f"its settings: {offered}"
        )
    return cls(**shared, **(settings or {}))


def build_model(kind: str, config: ModelConfig | dict[str, Any], *, init: str) -> BaseAE:
    """Build a fresh model of ``kind`` from its configuration (or a JSON dictionary of it).

    ``init`` names the linear layers' weight initialisation (see ``init_weights``).
    """
    cls = model_class(kind)
    if isinstance(config, dict):
        unknown = set(config) - cls.config_class.field_names()
        if unknown:
            raise ValueError(f"unknown {kind!r} configuration keys: {', '.join(sorted(unknown))}")
        config = cls.config_class(**config)
    cls.check_input_shape(config.input_shape)
    check_fits(
        parameter_count(cls, config),
        f"a {kind!r} network for samples of shape {tuple(config.input_shape)} with "
        f"latent_dim={config.latent_dim}",
    )
    model = cls(config)
    init_weights(model, init)
    return model
