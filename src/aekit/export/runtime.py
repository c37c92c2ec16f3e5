"""onnxruntime as the scoring engine of a detector whose members are MLPs.

PyTorch runs small MLPs slowly on a CPU (its ``tanh`` alone costs about 2.4 ns a value
here, and each of the thirty layers of five members is a separate call); onnxruntime fuses
each layer with its activation and runs the same members two to three times as fast
(``bench/inference.py``). ``score_graph`` writes the score of ``AnomalyScore`` directly as
an ONNX graph (no tracing, so it takes milliseconds): per member, ``Gemm`` and activation
layers in float32, then the terms in float64 as ``AnomalyScore.terms`` computes them. The
outputs equal torch's to float32 rounding (about 1e-7 relative).

The engine is chosen by ``AEKIT_ENGINE``: ``auto`` (the default) takes onnxruntime where
it is installed, the detector runs on the CPU and its members stack (``StackedMLP.of``:
dense, plain or variational, ``mse`` loss); ``torch`` always runs PyTorch;
``onnxruntime`` asks for it and says why when it cannot be used.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import NDArray
from torch import nn

from aekit.exceptions import InputError
from aekit.export.onnx_model import OPSET
from aekit.models.score import TERMS, AnomalyScore
from aekit.models.stacked import StackedLinear

ENGINES = ("auto", "torch", "onnxruntime")
ENGINE_VARIABLE = "AEKIT_ENGINE"
INPUT = "x"
OUTPUTS = ("anomaly_score", *TERMS)
_ACTIVATIONS: dict[type[nn.Module], tuple[str, dict[str, Any]]] = {  # torch -> ONNX
    nn.ReLU: ("Relu", {}),
    nn.Tanh: ("Tanh", {}),
    nn.Sigmoid: ("Sigmoid", {}),
    nn.SELU: ("Selu", {}),
    nn.GELU: ("Gelu", {}),
    nn.Softplus: ("Softplus", {}),
}


def engine_setting() -> str:
    """``AEKIT_ENGINE``, checked: one of ``ENGINES``."""
    engine = os.environ.get(ENGINE_VARIABLE, "auto").strip().lower() or "auto"
    if engine not in ENGINES:
        raise InputError(f"{ENGINE_VARIABLE}={engine!r} is not one of {', '.join(ENGINES)}")
    return engine


def why_not(score: AnomalyScore, device: str) -> str | None:
    """Why onnxruntime cannot score with ``score`` (None: it can)."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return "onnxruntime is not installed (pip install 'aekit[onnx]')"
    if device != "cpu":
        return f"the detector runs on {device}"
    if score.stacked is None:
        return "its members are not MLPs of one shape"
    if score.stacked.loss != "mse":
        return f"its members' loss is {score.stacked.loss!r}, not 'mse'"
    layers = [*score.stacked.encoder, *score.stacked.head, *score.stacked.decoder]
    unknown = [
        type(m).__name__
        for m in layers
        if _activation(m) is None and not isinstance(m, StackedLinear)
    ]
    if unknown:
        return f"no ONNX operator here for {', '.join(sorted(set(unknown)))}"
    return None


class OnnxScorer:
    """An onnxruntime session of ``score_graph(score)``: network-space rows in, the score
    and its terms (float64) out."""

    def __init__(self, score: AnomalyScore, threads: int, per_feature: bool = False) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        model = score_graph(score, per_feature=per_feature)
        self.session = ort.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, x: NDArray[np.float32]) -> dict[str, NDArray[np.float64]]:
        rows = np.ascontiguousarray(x.reshape(len(x), -1), dtype=np.float32)
        out = self.session.run(list(OUTPUTS), {INPUT: rows})
        return dict(zip(OUTPUTS, out, strict=True))


def _activation(module: nn.Module) -> tuple[str, dict[str, Any]] | None:
    if isinstance(module, nn.Identity):
        return ("Identity", {})
    if isinstance(module, nn.SiLU):
        return ("SiLU", {})
    if isinstance(module, nn.LeakyReLU):
        return ("LeakyRelu", {"alpha": float(module.negative_slope)})
    if isinstance(module, nn.ELU):
        return ("Elu", {"alpha": float(module.alpha)})
    return _ACTIVATIONS.get(type(module))


def score_graph(score: AnomalyScore, per_feature: bool = False) -> Any:
    """The ONNX model of ``score.forward`` and ``score.terms`` for stacked members (with
    ``per_feature``, ``relative_error`` per value or table column, ``(batch, n_columns)``)."""
    from onnx import TensorProto, helper, numpy_helper

    stacked = score.stacked
    if stacked is None:
        raise ValueError("score_graph needs members that stack (StackedMLP.of)")
    nodes: list[Any] = []
    constants: list[Any] = []
    counter = iter(range(10**9))

    def fresh(stem: str) -> str:
        return f"{stem}_{next(counter)}"

    def const(values: Any, stem: str, dtype: Any = np.float64) -> str:
        name = fresh(stem)
        constants.append(numpy_helper.from_array(np.ascontiguousarray(values, dtype), name))
        return name

    def op(kind: str, inputs: list[str], stem: str | None = None, **attrs: Any) -> str:
        out = fresh(stem or kind.lower())
        nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def activation(h: str, module: nn.Module) -> str:
        kind, attrs = _activation(module)  # type: ignore[misc]
        if kind == "Identity":
            return h
        if kind == "SiLU":
            return op("Mul", [h, op("Sigmoid", [h])], "silu")
        return op(kind, [h], **attrs)

    def layers(h: str, modules: Any, member: int) -> str:
        for module in modules:
            if isinstance(module, StackedLinear):
                weight = module.weight[member].detach().cpu().numpy().T  # (out, in)
                bias = module.bias[member, 0].detach().cpu().numpy()
                h = op("Gemm", [h, const(weight, "w", np.float32), const(bias, "b", np.float32)],
                       transB=1)  # fmt: skip
            else:
                h = activation(h, module)
        return h

    def mahalanobis(features: str, mean: Any, precision: Any) -> str:
        d = op("Sub", [op("Cast", [features], to=TensorProto.DOUBLE), const(mean, "mean")])
        product = op("MatMul", [d, const(precision, "precision")])
        return op("ReduceSum", [op("Mul", [product, d]), const([1], "axis", np.int64)],
                  keepdims=0)  # fmt: skip

    statistics = {name: value.detach().cpu().numpy() for name, value in score.statistics().items()}
    group = None if score.group is None else score.group.detach().cpu().numpy()
    sums: list[str] = []
    for m in range(score.n_members):
        hidden = layers(INPUT, stacked.encoder, m)
        code = layers(hidden, stacked.head, m)
        raw = layers(code, stacked.decoder, m)
        if stacked.output_activation in ("sigmoid", "tanh"):
            raw = op(stacked.output_activation.capitalize(), [raw])
        diff = op("Cast", [op("Sub", [raw, INPUT])], to=TensorProto.DOUBLE)
        values = op("Mul", [diff, diff], "squared")
        if group is not None:
            values = op("MatMul", [values, const(group, "group")])
        values = op("Div", [values, const(statistics["error_scale"][m], "error_scale")])
        relative = (
            values
            if per_feature
            else op("ReduceMean", [values, const([1], "axis", np.int64)], keepdims=0)
        )
        distance = mahalanobis(code, statistics["code_mean"][m], statistics["code_precision"][m])
        parts = [relative, op("Div", [distance, const(statistics["code_scale"][m], "scale")])]
        if score.has_hidden:
            far = mahalanobis(
                hidden, statistics["hidden_mean"][m], statistics["hidden_precision"][m]
            )
            parts.append(op("Div", [far, const(statistics["hidden_scale"][m], "scale")]))
        else:
            parts.append(op("Mul", [distance, const(0.0, "zero")]))
        sums = parts if not sums else [op("Add", [a, b]) for a, b in zip(sums, parts, strict=True)]
    n = const(float(score.n_members), "members")
    terms = [op("Div", [total, n], name) for total, name in zip(sums, TERMS, strict=True)]
    per_sample = terms[0]
    if per_feature:
        per_sample = op("ReduceMean", [terms[0], const([1], "axis", np.int64)], keepdims=0)
    weighted = [
        op("Mul", [terms[1], const(statistics["latent_weight"], "latent_weight")]),
        op("Mul", [terms[2], const(statistics["hidden_weight"], "hidden_weight")]),
    ]
    total = op("Add", [op("Add", [per_sample, weighted[0]]), weighted[1]], "anomaly_score")
    for name, value in zip(OUTPUTS, [total, *terms], strict=True):
        nodes.append(helper.make_node("Identity", [value], [name]))
    first: Any = stacked.encoder[0]
    n_inputs = int(first.weight.shape[1])
    graph = helper.make_graph(
        nodes,
        "aekit_score",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["batch", n_inputs])],
        [
            helper.make_tensor_value_info(
                o,
                TensorProto.DOUBLE,
                ["batch", None] if per_feature and o == TERMS[0] else ["batch"],
            )
            for o in OUTPUTS
        ],
        initializer=constants,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
