"""The anomaly score of an ensemble of autoencoders, as one module.

``AnomalyScore`` holds the member networks and, as float64 buffers, what each member's
scores are measured against (fitted on the rows it trained on) and the weights of the
score's three terms. Given a batch in the networks' input space it returns each term and
their weighted sum; ``AnomalyDetector`` scores, explains and thresholds with it, and it
moves, saves and exports as one ``torch.nn.Module``.

For each member: the **relative error** divides each value's (or, for a table, each
column's) reconstruction error by its median over the training rows and averages over a
sample's values; the **code distance** and the **hidden distance** are squared Mahalanobis
distances of the code and of the encoder's last hidden layer from their training Gaussian,
divided by their median. Each term is averaged over the members; the score is
``relative_error + latent_weight * code_distance + hidden_weight * hidden_distance``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from aekit.models.base import BaseAE
from aekit.models.stacked import StackedMLP

# the fitted buffers, as saved in model files: per member (first axis), then the weights
STATISTICS = (
    "error_scale",  # (members, n_columns): median error of each value or table column
    "code_mean",  # (members, latent_dim)
    "code_precision",  # (members, latent_dim, latent_dim)
    "code_scale",  # (members,): median squared Mahalanobis distance of the training codes
    "hidden_mean",  # (members, n_hidden); n_hidden = 0 where the term was not fitted
    "hidden_precision",  # (members, n_hidden, n_hidden)
    "hidden_scale",  # (members,)
    "latent_weight",  # (): weight of the code distance
    "hidden_weight",  # (): weight of the hidden distance
)
TERMS = ("relative_error", "code_distance", "hidden_distance")


def mahalanobis(features: Tensor, centre: Tensor, precision: Tensor) -> Tensor:
    """Squared Mahalanobis distance of each row of ``features`` ``(..., B, d)`` from
    ``centre`` and ``precision`` (with the same leading axes: one member's, or every
    member's at once), float64."""
    d = features.double() - centre
    return ((d @ precision) * d).sum(-1)  # a (batched) BLAS product, then a row-wise dot


class AnomalyScore(nn.Module):
    """Member networks and their score statistics: a batch in, the score's terms out.

    Parameters
    ----------
    networks : sequence of BaseAE
        The members' networks (shared, not copied).
    statistics : mapping of name to array
        Every entry of ``STATISTICS``.
    group : Tensor of shape (n_inputs, n_columns), optional
        For a table: sums each encoded input's error into its original column.
    """

    error_scale: Tensor
    code_mean: Tensor
    code_precision: Tensor
    code_scale: Tensor
    hidden_mean: Tensor
    hidden_precision: Tensor
    hidden_scale: Tensor
    latent_weight: Tensor
    hidden_weight: Tensor
    group: Tensor | None

    def __init__(
        self,
        networks: Sequence[BaseAE],
        statistics: Mapping[str, Any],
        *,
        group: Tensor | None = None,
    ) -> None:
        super().__init__()
        self.networks = nn.ModuleList(networks)
        missing = [name for name in STATISTICS if name not in statistics]
        if missing:
            raise ValueError(f"score statistics missing: {', '.join(missing)}")
        for name in STATISTICS:
            value = torch.as_tensor(np.asarray(statistics[name]), dtype=torch.float64)
            if name not in ("latent_weight", "hidden_weight") and len(value) != len(networks):
                raise ValueError(
                    f"{name} holds {len(value)} members' statistics for {len(networks)} networks"
                )
            self.register_buffer(name, value)
        self.register_buffer("group", group, persistent=False)
        self._check_shapes()
        # the members as one batched network where they stack (a snapshot of their weights)
        self.stacked = StackedMLP.of(networks)

    def _check_shapes(self) -> None:
        """Each statistic's shape must fit the networks (a forged file could say otherwise)."""
        first: BaseAE = self.networks[0]  # type: ignore[assignment]
        m, latent = self.n_members, first.config.latent_dim
        columns = first.config.n_inputs if self.group is None else self.group.shape[1]
        hidden = self.hidden_mean.shape[-1] if self.hidden_mean.ndim == 2 else -1
        expected = {
            "error_scale": (m, columns),
            "code_mean": (m, latent),
            "code_precision": (m, latent, latent),
            "code_scale": (m,),
            "hidden_mean": (m, hidden),
            "hidden_precision": (m, hidden, hidden),
            "hidden_scale": (m,),
            "latent_weight": (),
            "hidden_weight": (),
        }
        for name, shape in expected.items():
            if tuple(getattr(self, name).shape) != shape:
                raise ValueError(
                    f"score statistic {name} has shape {tuple(getattr(self, name).shape)}; "
                    f"the networks need {shape}"
                )

    @property
    def n_members(self) -> int:
        return len(self.networks)

    @property
    def has_hidden(self) -> bool:
        """Whether the hidden distance was fitted (files from before it have none)."""
        return self.hidden_mean.shape[-1] > 0

    def statistics(self) -> dict[str, Tensor]:
        """The fitted buffers by name, as ``STATISTICS`` lists them."""
        return {name: getattr(self, name) for name in STATISTICS}

    def terms(self, x: Tensor, per_feature: bool = False) -> dict[str, Tensor]:
        """Each term for a batch ``x`` in the networks' input space, averaged over members.

        ``relative_error`` is ``(batch,)``, or ``(batch, n_columns)`` with ``per_feature``;
        the distances are ``(batch,)``. All float64.
        """
        if self.stacked is not None:  # every member at once: a leading member axis
            features, codes, values = self.stacked.inspect(x)
            by_member = {
                k: v if k.endswith("precision") else v.unsqueeze(1)
                for k, v in self.statistics().items()
                if v.ndim
            }
            parts = self._member_terms(features, codes, values, by_member, per_feature)
            return {name: part.mean(0) for name, part in zip(TERMS, parts, strict=True)}
        sums: list[Tensor] = []
        networks: list[BaseAE] = list(self.networks)  # type: ignore[arg-type]
        for m, network in enumerate(networks):
            features, codes, values = network.inspect(x)  # one pass of the network
            member = {k: v[m] for k, v in self.statistics().items() if v.ndim}
            parts = self._member_terms(
                features.flatten(1), codes, values.flatten(1), member, per_feature
            )
            sums = parts if not sums else [a + b for a, b in zip(sums, parts, strict=True)]
        return {name: total / self.n_members for name, total in zip(TERMS, sums, strict=True)}

    def _member_terms(
        self,
        features: Tensor,
        codes: Tensor,
        values: Tensor,
        statistics: Mapping[str, Tensor],
        per_feature: bool,
    ) -> list[Tensor]:
        """One member's terms (or every member's, along a leading axis that
        ``statistics`` shares): relative error, code distance, hidden distance."""
        values = values.double()
        if self.group is not None:  # encoded values' errors summed into their columns
            values = values @ self.group
        values = values / statistics["error_scale"]
        code = mahalanobis(codes, statistics["code_mean"], statistics["code_precision"])
        code = code / statistics["code_scale"]
        if self.has_hidden:
            hidden = mahalanobis(
                features, statistics["hidden_mean"], statistics["hidden_precision"]
            )
            hidden = hidden / statistics["hidden_scale"]
        else:
            hidden = code.new_zeros(code.shape)
        return [values if per_feature else values.mean(-1), code, hidden]

    def combine(self, terms: Mapping[str, Tensor]) -> Tensor:
        """The anomaly score from the (per-sample) terms: higher is more anomalous."""
        return (
            terms["relative_error"]
            + self.latent_weight * terms["code_distance"]
            + self.hidden_weight * terms["hidden_distance"]
        )

    def forward(self, x: Tensor) -> Tensor:
        """The anomaly score of each sample of ``x``, ``(batch,)`` float64."""
        return self.combine(self.terms(x))
