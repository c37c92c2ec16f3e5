"""Members of one dense architecture as one batched network, to score them together.

An ensemble of small MLPs spends most of its time on per-layer overhead when each member
runs on its own: five members of ``30-64-32-2-32-64-30`` are thirty small matrix products
per batch. ``StackedMLP`` holds the members' weights stacked along a first axis (a snapshot,
taken when it is built): the first layer of every member is one matrix product of the
batch with the members' weights side by side, each later layer one batched product
(``baddbmm``) over the members. Its ``inspect`` gives what each member's
``BaseAE.inspect`` gives, stacked: the same layers and arithmetic, in another order.

Only networks made of ``Linear`` layers and elementwise activations (the dense kind, plain
or variational) stack; ``StackedMLP.of`` returns None for any other, and callers run the
members one by one.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from aekit.losses import apply_output_activation, elementwise_loss
from aekit.models._layers import ACTIVATIONS
from aekit.models.base import BaseAE
from aekit.models.latent import GaussianCode, PlainCode

_SKIPPED = (nn.Flatten, nn.Unflatten, nn.Dropout)  # no-ops on flat rows at inference
_ELEMENTWISE = tuple(ACTIVATIONS.values())


class StackedLinear(nn.Module):
    """``M`` linear layers of one shape: ``(M, B, in) -> (M, B, out)``, or ``(B, in) ->
    (M, B, out)`` for the first layer, whose input all members share."""

    weight: Tensor
    bias: Tensor

    def __init__(self, layers: Sequence[nn.Linear], rows: slice = slice(None)) -> None:
        super().__init__()
        weight = torch.stack([layer.weight.detach()[rows] for layer in layers])  # (M, out, in)
        bias = torch.stack([layer.bias.detach()[rows] for layer in layers])  # type: ignore[union-attr]
        self.register_buffer("weight", weight.transpose(1, 2).contiguous(), persistent=False)
        self.register_buffer("bias", bias.unsqueeze(1).contiguous(), persistent=False)
        m, n_in, n_out = self.weight.shape
        self.register_buffer(  # the members side by side: (in, M * out)
            "side_by_side", self.weight.permute(1, 0, 2).reshape(n_in, m * n_out), persistent=False
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2:
            m, _, n_out = self.weight.shape
            side_by_side: Tensor = self.side_by_side  # type: ignore[assignment]
            out = (x @ side_by_side).reshape(-1, m, n_out).transpose(0, 1)
            return out + self.bias
        return torch.baddbmm(self.bias, x, self.weight)


class StackedMLP(nn.Module):
    """The members' encoders, code layers and decoders, stacked (see the module doc)."""

    def __init__(
        self,
        encoder: list[nn.Module],
        head: list[nn.Module],
        decoder: list[nn.Module],
        network: BaseAE,
    ) -> None:
        super().__init__()
        self.encoder = nn.Sequential(*encoder)
        self.head = nn.Sequential(*head)
        self.decoder = nn.Sequential(*decoder)
        self.loss = network.config.loss
        self.output_activation = network.config.output_activation

    @classmethod
    def of(cls, networks: Sequence[BaseAE]) -> StackedMLP | None:
        """The stacked networks, or None when they are not all MLPs of one shape."""
        parts = [_layers(n) for n in networks]
        if any(p is None for p in parts):
            return None
        first = parts[0]
        assert first is not None
        signature = [_signature(p) for p in parts]  # type: ignore[arg-type]
        if any(s != signature[0] for s in signature):
            return None
        stacked: list[list[nn.Module]] = []
        for i in range(3):  # encoder, head, decoder
            modules: list[nn.Module] = []
            for j, module in enumerate(first[i]):
                if isinstance(module, nn.Linear):
                    rows = _head_rows(networks[0]) if i == 1 else slice(None)
                    layers = [p[i][j] for p in parts]  # type: ignore[index]
                    modules.append(StackedLinear(layers, rows))  # type: ignore[arg-type]
                else:
                    modules.append(copy.deepcopy(module))
            stacked.append(modules)
        return cls(stacked[0], stacked[1], stacked[2], networks[0])

    def inspect(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Stacked ``BaseAE.inspect`` for flat rows ``x`` ``(B, n)``: hidden features
        ``(M, B, H)``, codes ``(M, B, L)`` and each value's loss ``(M, B, n)`` (float64
        squared errors for ``mse``)."""
        x = x.flatten(1)
        hidden = self.encoder(x)
        code = self.head(hidden)
        raw = self.decoder(code)
        if self.loss == "mse":
            reconstruction = apply_output_activation(raw, self.output_activation)
            return hidden, code, (reconstruction.double() - x.double()).square()
        return hidden, code, elementwise_loss(raw, x.expand_as(raw), self.loss,
                                              self.output_activation)  # fmt: skip


def _layers(network: BaseAE) -> tuple[list[nn.Module], list[nn.Module], list[nn.Module]] | None:
    """The network's leaf modules (encoder, code layer, decoder) that compute at inference,
    or None when one is neither a linear layer nor an elementwise activation."""
    head = network.head
    if type(head) not in (PlainCode, GaussianCode):
        return None
    code: list[nn.Module] = [head.linear]  # type: ignore[list-item]
    if isinstance(head, PlainCode):
        code.append(head.activation)
    out = []
    for part in (network.encoder, network.decoder):
        leaves = [m for m in part.modules() if not list(m.children())]
        kept = [m for m in leaves if not isinstance(m, _SKIPPED)]
        if any(not isinstance(m, (nn.Linear, *_ELEMENTWISE)) for m in kept):
            return None
        out.append(kept)
    if not out[0] or not isinstance(out[0][0], nn.Linear) or not isinstance(out[1][0], nn.Linear):
        return None
    return out[0], code, out[1]


def _signature(parts: tuple[list[nn.Module], ...]) -> list[tuple[object, ...]]:
    return [
        (type(m), tuple(m.weight.shape) if isinstance(m, nn.Linear) else ())
        for modules in parts
        for m in modules
    ]


def _head_rows(network: BaseAE) -> slice:
    """The code layer's outputs that are the code: a variational code's mean, its first
    half (the log-variances follow)."""
    return slice(0, network.config.latent_dim)
