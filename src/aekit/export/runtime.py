"""onnxruntime as the scoring engine of a detector whose members are MLPs.

PyTorch runs small MLPs slowly on a CPU (its ``tanh`` alone costs about 2.4 ns a value
here, and each of the thirty layers of five members is a separate call); onnxruntime fuses
each layer with its activation and runs the same members several times as fast
(``bench/inference.py``). ``score_graph`` writes the score of ``AnomalyScore`` directly as
an ONNX graph (no tracing, so it takes milliseconds), in float32 up to the three terms
(which combine into the score in float64), with the score's constants folded into the
members' layers so that each term is one reduction:

- relative error: each value's error divided by its scale is ``(W h + b) c - x c`` with
  ``c = 1 / sqrt(error_scale * members)``, so ``c`` multiplies the last decoder layer's
  weights and the term is a sum of squares (``ReduceSumSquare``), summed over members and
  divided by the number of columns;
- distances: a precision matrix ``P = F F^T`` (from its eigendecomposition), with
  ``1 / sqrt(scale * members)`` folded into ``F``, turns each squared Mahalanobis distance
  into the sum of squares of ``(h - mean) F``.

The outputs equal torch's float64 ones to float32 rounding (about 1e-6 relative).
``OnnxScorer`` runs one session on one thread per call, so that the detector scores
several batches at once (one per core) instead of splitting each small product over
threads (``AnomalyDetector._terms``).

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
    if score.group is not None and not bool((score.group.sum(1) == 1).all()):
        return "its table's encoded inputs do not each belong to one column"
    precisions = [score.code_precision, score.hidden_precision if score.has_hidden else None]
    if any(p is not None and _factor(p.detach().cpu().numpy()) is None for p in precisions):
        return "a precision matrix of its statistics is not positive semi-definite"
    return None


class OnnxScorer:
    """An onnxruntime session of ``score_graph(score)`` on one thread: network-space rows
    in, the score and its terms (float64) out. Calls from several threads run at once."""

    def __init__(self, score: AnomalyScore, per_feature: bool = False) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
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


def _factor(precision: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """``F`` with ``F @ F.T == precision`` (one member's, or each of a stack's), or None
    where ``precision`` is not positive semi-definite beyond rounding."""
    values, vectors = np.linalg.eigh(precision)
    tolerance = 1e-9 * np.abs(values).max(axis=-1, keepdims=True)
    if (values < -tolerance).any():
        return None
    root = np.sqrt(np.clip(values, 0.0, None))
    return np.asarray(vectors * root[..., None, :])


class _GraphBuilder:
    """Nodes and constants of one ONNX graph, each under a fresh name."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.constants: list[Any] = []
        self._counter = iter(range(10**9))

    def const(self, values: Any, stem: str, dtype: Any = np.float32) -> str:
        from onnx import numpy_helper

        name = f"{stem}_{next(self._counter)}"
        array = np.ascontiguousarray(values, dtype)
        self.constants.append(numpy_helper.from_array(array, name))
        return name

    def op(self, kind: str, inputs: list[str], stem: str | None = None, **attrs: Any) -> str:
        from onnx import helper

        out = f"{stem or kind.lower()}_{next(self._counter)}"
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def activation(self, h: str, module: nn.Module) -> str:
        kind, attrs = _activation(module)  # type: ignore[misc]
        if kind == "Identity":
            return h
        if kind == "SiLU":
            return self.op("Mul", [h, self.op("Sigmoid", [h])], "silu")
        return self.op(kind, [h], **attrs)

    def layers(self, h: str, modules: Any, member: int, out_scale: Any = None) -> str:
        """A member's layers from ``h``; ``out_scale`` multiplies the last layer's outputs
        (folded into its weights where that layer is linear)."""
        modules = list(modules)
        for i, module in enumerate(modules):
            if isinstance(module, StackedLinear):
                weight = module.weight[member].detach().cpu().double().numpy()  # (in, out)
                bias = module.bias[member, 0].detach().cpu().double().numpy()
                if out_scale is not None and i == len(modules) - 1:
                    weight, bias, out_scale = weight * out_scale, bias * out_scale, None
                h = self.op("Gemm", [h, self.const(weight, "w"), self.const(bias, "b")])
            else:
                h = self.activation(h, module)
        return h if out_scale is None else self.op("Mul", [h, self.const(out_scale, "scale")])

    def squared_distance(self, features: str, mean: Any, factor: Any) -> str:
        """``sum(((features - mean) @ factor) ** 2)`` per row, as one ``Gemm`` (the centre
        moved into its bias) and one reduction."""
        projected = self.op("Gemm", [features, self.const(factor, "factor"),
                                     self.const(-mean @ factor, "centre")])  # fmt: skip
        axis = self.const([1], "axis", np.int64)
        return self.op("ReduceSumSquare", [projected, axis], keepdims=0)


def score_graph(score: AnomalyScore, per_feature: bool = False) -> Any:
    """The ONNX model of ``score.forward`` and ``score.terms`` for stacked members (with
    ``per_feature``, ``relative_error`` per value or table column, ``(batch, n_columns)``)."""
    from onnx import TensorProto, helper

    stacked = score.stacked
    if stacked is None:
        raise ValueError("score_graph needs members that stack (StackedMLP.of)")
    g = _GraphBuilder()
    statistics = {k: v.detach().cpu().numpy() for k, v in score.statistics().items()}
    n_members = score.n_members
    error_scale = statistics["error_scale"]  # (members, columns)
    n_columns = error_scale.shape[1]
    group = None if score.group is None else score.group.detach().cpu().numpy()
    column_of = np.arange(n_columns) if group is None else group.argmax(axis=1)
    # each value's error is divided by its column's scale and averaged over members: that
    # divisor's square root goes into the network (the same in both graphs, so that
    # per_feature's values average to the score's term up to the order of the sums)
    value_scale = 1.0 / np.sqrt(error_scale[:, column_of] * n_members)  # (members, n_inputs)
    foldable = stacked.output_activation not in ("sigmoid", "tanh")
    errors: list[str] = []
    code_terms: list[str] = []
    hidden_terms: list[str] = []
    for m in range(n_members):
        hidden = g.layers(INPUT, stacked.encoder, m)
        code = g.layers(hidden, stacked.head, m)
        raw = g.layers(code, stacked.decoder, m, value_scale[m] if foldable else None)
        if not foldable:
            raw = g.op(stacked.output_activation.capitalize(), [raw])
            raw = g.op("Mul", [raw, g.const(value_scale[m], "scale")])
        target = g.op("Mul", [INPUT, g.const(value_scale[m], "scale")])
        difference = g.op("Sub", [raw, target])
        if per_feature:
            errors.append(g.op("Mul", [difference, difference], "squared"))
        else:
            axis = g.const([1], "axis", np.int64)
            errors.append(g.op("ReduceSumSquare", [difference, axis], keepdims=0))
        for name, features, into in (("code", code, code_terms), ("hidden", hidden, hidden_terms)):
            if name == "hidden" and not score.has_hidden:
                continue
            factor = _factor(statistics[f"{name}_precision"][m])
            assert factor is not None  # why_not refuses a precision that has none
            factor = factor / np.sqrt(statistics[f"{name}_scale"][m] * n_members)
            into.append(g.squared_distance(features, statistics[f"{name}_mean"][m], factor))
    relative = g.op("Sum", errors)
    if per_feature:
        if group is not None:  # encoded values' errors summed into their columns
            relative = g.op("MatMul", [relative, g.const(group, "group")])
        per_sample = g.op("ReduceMean", [relative, g.const([1], "axis", np.int64)], keepdims=0)
    else:  # the mean over columns
        relative = per_sample = g.op("Div", [relative, g.const(float(n_columns), "columns")])
    code_distance = g.op("Sum", code_terms)
    hidden_distance = (
        g.op("Sum", hidden_terms)
        if hidden_terms
        else g.op("Mul", [code_distance, g.const(0.0, "zero")])
    )
    # the terms leave in float64 and combine in it, as AnomalyScore.combine does
    terms = [
        g.op("Cast", [t], to=TensorProto.DOUBLE)
        for t in (per_sample, relative, code_distance, hidden_distance)
    ]
    weighted = [
        g.op("Mul", [terms[2], g.const(statistics["latent_weight"], "weight", np.float64)]),
        g.op("Mul", [terms[3], g.const(statistics["hidden_weight"], "weight", np.float64)]),
    ]
    total = g.op("Add", [g.op("Add", [terms[0], weighted[0]]), weighted[1]])
    for name, value in zip(OUTPUTS, [total, *terms[1:]], strict=True):
        g.nodes.append(helper.make_node("Identity", [value], [name]))
    first: Any = stacked.encoder[0]
    n_inputs = int(first.weight.shape[1])
    graph = helper.make_graph(
        g.nodes,
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
        initializer=g.constants,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
