"""What an exported model computes, as torch modules that ``torch.onnx.export`` traces.

Each takes a batch in the network's or the data's space and returns the outputs that the
estimator's methods give, with the same float32 and float64 arithmetic, so the exported
graph matches them to rounding. Nothing here depends on the batch size: the exported
graph has a dynamic batch dimension.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from aekit.models.base import BaseAE
from aekit.models.score import TERMS, AnomalyScore

AUTOENCODER_OUTPUTS = ("code", "reconstruction")


class Scaling(nn.Module):
    """``(x - offset) / scale`` in float32 (a fitted ``Scaler``'s statistics as buffers),
    then the network's input shape."""

    offset: Tensor
    scale: Tensor

    def __init__(self, offset: object, scale: object, input_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.register_buffer("offset", torch.as_tensor(offset, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, x: Tensor) -> Tensor:
        return ((x - self.offset) / self.scale).reshape(-1, *self.input_shape)

    def inverse(self, x: Tensor, sample_shape: tuple[int, ...]) -> Tensor:
        return x.reshape(-1, *sample_shape) * self.scale + self.offset


class AutoencoderGraph(nn.Module):
    """Samples in, ``(code, reconstruction)`` out: ``transform`` and ``reconstruct``.

    ``sample_shape`` is None for a table model, whose input is the encoded row and whose
    reconstruction stays in that space (``network_outputs``)."""

    def __init__(self, network: BaseAE, scaling: Scaling, sample_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.network, self.scaling = network, scaling
        self.sample_shape = tuple(sample_shape)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        code = self.network.encode(self.scaling(x))
        reconstruction = self.network.decode(code)
        return code, self.scaling.inverse(reconstruction, self.sample_shape)


class DetectorGraph(nn.Module):
    """Samples in, what ``AnomalyDetector.score_parts`` gives out: the anomaly score, its
    three terms, the conformal p-value (when the detector has calibration scores) and
    ``is_anomaly`` (``decision_function < 0``)."""

    calibration: Tensor
    offset: Tensor

    def __init__(
        self,
        score: AnomalyScore,
        scaling: Scaling,
        offset: float,
        calibration_scores: object,
    ) -> None:
        super().__init__()
        self.score, self.scaling = score, scaling
        self.register_buffer("offset", torch.tensor(float(offset), dtype=torch.float64))
        calibration = torch.as_tensor(calibration_scores, dtype=torch.float64).reshape(-1)
        self.register_buffer("calibration", calibration)

    @property
    def outputs(self) -> tuple[str, ...]:
        p_value = ("p_value",) if len(self.calibration) else ()
        return ("anomaly_score", *TERMS, *p_value, "is_anomaly")

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        terms = self.score.terms(self.scaling(x))
        anomaly_score = self.score.combine(terms)
        parts = [anomaly_score, *(terms[name] for name in TERMS)]
        if len(self.calibration):
            n = len(self.calibration)
            n_at_least = n - count_below(self.calibration, anomaly_score)
            parts.append((1.0 + n_at_least.double()) / (n + 1.0))
        parts.append((-anomaly_score - self.offset) < 0)
        return tuple(parts)


def count_below(ordered: Tensor, values: Tensor) -> Tensor:
    """For each of ``values``, how many of the sorted ``ordered`` lie below it, as
    ``numpy.searchsorted(ordered, values, side="left")``: a binary search of ``log2(n)``
    gathers, so memory stays one integer per value whatever the calibration size."""
    n = len(ordered)
    count = torch.zeros_like(values, dtype=torch.int64)
    step = 1 << (n.bit_length() - 1) if n else 0
    while step:
        candidate = count + step
        probe = ordered[(candidate - 1).clamp(max=n - 1)]
        count = torch.where((candidate <= n) & (probe < values), candidate, count)
        step >>= 1
    return count
