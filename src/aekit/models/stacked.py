"""Members of one dense architecture as one batched network, to train and score them together.

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

``MemberStack`` is the trainable counterpart: the members' linear layers as parameters of
shape ``(M, in, out)``, a batch ``(M, B, ...)`` holding each member's own rows, and a loss
that sums the members' mean losses, so that each member's gradient is the one it would get
training alone (and AdamW, elementwise, updates each as it would alone). It stacks plain
dense networks (a deterministic code without a sparsity penalty; dropout is kept);
``MemberStack.of`` returns None for any other.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from aekit.losses import apply_output_activation, elementwise_loss, trimmed_mean
from aekit.models._layers import ACTIVATIONS
from aekit.models.base import BaseAE
from aekit.models.latent import GaussianCode, PlainCode

_SKIPPED = (nn.Flatten, nn.Unflatten, nn.Dropout)  # no-ops on flat rows at inference
_ELEMENTWISE = tuple(ACTIVATIONS.values())
_RESHAPES = (nn.Flatten, nn.Unflatten)  # a stacked batch is flat rows already


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

    def inspect(self, x: Tensor, per_member: bool = False) -> tuple[Tensor, Tensor, Tensor]:
        """Stacked ``BaseAE.inspect`` for rows ``x`` ``(B, ...)`` that every member sees,
        or, ``per_member``, ``(M, B, ...)``, each member its own: hidden features
        ``(M, B, H)``, codes ``(M, B, L)`` and each value's loss ``(M, B, n)`` (float64
        squared errors for ``mse``)."""
        x = x.flatten(2) if per_member else x.flatten(1)
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


class MemberStack(nn.Module):
    """Plain dense members as one trainable network (see the module doc).

    Build it with ``MemberStack.of(networks)``; train it as any network (its
    ``training_loss`` takes ``(M, B, ...)`` batches); ``member_state(k)`` is member ``k``'s
    state dict, loadable into the network it came from.
    """

    def __init__(self, networks: Sequence[BaseAE], leaves: list[list[tuple[str, nn.Module]]]):
        super().__init__()
        first = networks[0]
        self.n_members = len(networks)
        self.loss = first.config.loss
        self.output_activation = first.config.output_activation
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.linear_names: list[str] = []  # each stacked layer's name in a member network
        steps: list[nn.Module | int] = []
        for j, (name, module) in enumerate(leaves[0]):
            if isinstance(module, nn.Linear):
                layers: list[nn.Linear] = [member[j][1] for member in leaves]  # type: ignore[misc]
                weight = torch.stack([layer.weight.detach().T for layer in layers])
                bias = torch.stack([layer.bias.detach() for layer in layers])  # type: ignore[misc]
                self.weights.append(nn.Parameter(weight.contiguous().clone()))
                self.biases.append(nn.Parameter(bias.unsqueeze(1).contiguous().clone()))
                steps.append(len(self.linear_names))
                self.linear_names.append(name)
            elif not isinstance(module, _RESHAPES):
                steps.append(copy.deepcopy(module))
        self.steps = steps
        # registered, so that train() and eval() reach the dropout layers among them
        self.activations = nn.ModuleList([s for s in steps if isinstance(s, nn.Module)])
        # listed once: walking the module tree every step costs more than the clipping
        self._parameters_once = [*self.weights, *self.biases]

    @classmethod
    def of(cls, networks: Sequence[BaseAE]) -> MemberStack | None:
        """The members stacked for training, or None when they are not all plain dense
        networks of one shape."""
        found = [_training_leaves(n) for n in networks]
        leaves = [p for p in found if p is not None]
        if not networks or len(leaves) < len(found):
            return None
        shapes = [
            [(name, type(m), tuple(getattr(m, "weight", torch.empty(0)).shape)) for name, m in p]
            for p in leaves
        ]
        if any(s != shapes[0] for s in shapes):
            return None
        configs = {n.config for n in networks}
        if len(configs) != 1:
            return None
        return cls(networks, leaves)

    def raw_output(self, x: Tensor) -> Tensor:
        """The decoders' raw outputs ``(M, B, n)`` for member batches ``x`` ``(M, B, ...)``."""
        h = x.reshape(x.shape[0], x.shape[1], -1)
        for step in self.steps:
            if isinstance(step, int):
                h = torch.baddbmm(self.biases[step], h, self.weights[step])
            else:
                h = step(h)
        return h

    def training_loss(
        self, x_in: Tensor, x_target: Tensor, trim_fraction: float = 0.0
    ) -> dict[str, Tensor]:
        """``"loss"``, the sum of the members' mean losses, and each member's as
        ``"member{k}"``; ``trim_fraction`` leaves each member's samples with the largest
        loss out of its mean (``aekit.losses.trimmed_mean``)."""
        raw = self.raw_output(x_in)
        target = x_target.reshape(raw.shape)
        values = elementwise_loss(raw, target, self.loss, self.output_activation)
        if trim_fraction > 0:
            per_member = trimmed_mean(values.mean(2), trim_fraction)
        else:
            per_member = values.mean((1, 2))
        terms = {member_term(k): per_member[k] for k in range(self.n_members)}
        terms["loss"] = per_member.sum()
        return terms

    def batch_rows(self, x: Tensor) -> int:
        """Rows of each member in a batch ``(M, B, ...)``."""
        return int(x.shape[1])

    @torch.no_grad()
    def clip_gradients(self, max_norm: float) -> None:
        """Scale each member's gradients to an L2 norm of at most ``max_norm``, as
        ``torch.nn.utils.clip_grad_norm_`` does for one network."""
        grads = [p.grad for p in self._parameters_once if p.grad is not None]
        if not grads:
            return
        norms = torch.cat([g.reshape(self.n_members, -1) for g in grads], 1).norm(dim=1)
        if not bool((norms > max_norm).any()):  # a factor of 1 everywhere: nothing to do
            return
        scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))

    def member_state(self, k: int) -> dict[str, Tensor]:
        """Member ``k``'s weights, named as in its own network."""
        state: dict[str, Tensor] = {}
        for name, weight, bias in zip(self.linear_names, self.weights, self.biases, strict=True):
            state[f"{name}.weight"] = weight[k].detach().T.contiguous().clone()
            state[f"{name}.bias"] = bias[k, 0].detach().clone()
        return state

    def load_members(self, states: Sequence[Mapping[str, Tensor]]) -> None:
        """Set every member's weights from its own network's state dict."""
        with torch.no_grad():
            for k, state in enumerate(states):
                for j, name in enumerate(self.linear_names):
                    self.weights[j][k].copy_(state[f"{name}.weight"].T)
                    self.biases[j][k, 0].copy_(state[f"{name}.bias"])

    def unstack_into(self, networks: Sequence[BaseAE]) -> None:
        """Load each member's weights into its network (strictly: every weight, once)."""
        for k, network in enumerate(networks):
            network.load_state_dict(self.member_state(k))


def member_term(k: int) -> str:
    """The loss term of member ``k`` in a stack's history."""
    return f"member{k}"


def _training_leaves(network: BaseAE) -> list[tuple[str, nn.Module]] | None:
    """The network's leaf modules in forward order, named, when it is a plain dense network
    (linear layers, elementwise activations, dropout and reshapes; a deterministic code
    without a sparsity penalty); else None."""
    head = network.head
    if type(head) is not PlainCode or head.sparsity is not None:
        return None
    leaves: list[tuple[str, nn.Module]] = []
    parts = (("encoder", network.encoder), ("head", head), ("decoder", network.decoder))
    for prefix, part in parts:
        for name, module in part.named_modules(prefix=prefix):
            assert isinstance(module, nn.Module)
            if list(module.children()):
                continue
            if not isinstance(module, (nn.Linear, nn.Dropout, *_RESHAPES, *_ELEMENTWISE)):
                return None
            leaves.append((name, module))
    if not any(isinstance(m, nn.Linear) for _, m in leaves):
        return None
    return leaves
