"""A mixed table's encoding as an ONNX graph: one input per column, the encoded row out.

It computes what ``TablePreprocessor.transform`` computes, part by part
(``TablePreprocessor.parts``), in float64 and then float32 like it:

- numbers (``double``, NaN for a gap): the median where NaN, then ``(x - center) / scale``;
- missing indicators: ``IsNaN`` of each column that had gaps in fit, as 0/1;
- booleans (``double``, 0/1, NaN for a gap): the most frequent value where NaN;
- categories (``string``, ``"<missing>"`` for a gap): ``ai.onnx.ml.LabelEncoder`` maps
  each level stored by name to its input (its own, or the hash bucket it fell in at fit
  time) and any other text to the unseen input, which is set to 1.

Two parts have no ONNX operators and are refused with ``ExportError`` naming the column:
date-time columns (calendar positions need date arithmetic) and columns with so many
levels that the rarer ones are remembered only by a hashed filter (over
``aekit.data.levels.STORED_LEVELS``; ONNX has no standard hash operator).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from aekit.data.tables import TablePart, TablePreprocessor
from aekit.exceptions import ExportError

ML_OPSET = 3  # ai.onnx.ml: LabelEncoder with keys_strings / values_int64s / default_int64
ENCODED = "encoded"  # the front graph's output: float32 (batch, n_encoded)


def input_kinds(table: TablePreprocessor) -> dict[str, str]:
    """Each graph input (a used column) and its ONNX element type: "double" or "string"."""
    check_exportable(table)
    return {
        name: "string" if kind == "categorical" else "double" for name, kind in table.kinds_.items()
    }


def check_exportable(table: TablePreprocessor) -> None:
    """Raise ``ExportError`` naming each column whose encoding has no ONNX equivalent."""
    problems = []
    for part in table.parts():
        if part.kind == "datetime":
            problems += [
                f"{name!r} is a date-time column (its calendar inputs need date arithmetic "
                f"that ONNX lacks)"
                for name in part.columns
            ]
        if part.kind == "categorical":
            problems += [
                f"{name!r} has {levels.n_seen:,} levels, {levels.n_seen - len(levels.levels):,} "
                f"of them known only by a hashed filter (ONNX has no standard hash operator)"
                for name, levels in zip(part.columns, part.statistics["columns"], strict=True)
                if levels.seen is not None
            ]
    if problems:
        raise ExportError(
            "this model's table encoding cannot be exported to ONNX: "
            + "; ".join(problems)
            + ". Refit with those columns in ignore= (or a date-time column as numbers) to export"
        )


def feeds(table: TablePreprocessor, frame: Any) -> dict[str, NDArray[Any]]:
    """The graph's inputs for the DataFrame ``frame``: each used column, ``(n, 1)``."""
    prepared = table.prepared(frame)
    out: dict[str, NDArray[Any]] = {}
    for name, kind in input_kinds(table).items():
        values = prepared[name].to_numpy()
        if kind == "string":
            out[name] = np.asarray(values, dtype=object).astype(str).reshape(-1, 1)
        else:
            out[name] = np.asarray(values, dtype=np.float64).reshape(-1, 1)
    return out


def encoding_graph(table: TablePreprocessor, opset: int, ir_version: int) -> Any:
    """The ONNX model from the columns to ``ENCODED``."""
    from onnx import TensorProto, helper, numpy_helper

    kinds = input_kinds(table)
    nodes: list[Any] = []
    constants: list[Any] = []
    names = iter(range(1_000_000))

    def fresh(stem: str) -> str:
        return f"{stem}_{next(names)}"

    def constant(values: NDArray[Any], stem: str) -> str:
        name = fresh(stem)
        constants.append(numpy_helper.from_array(np.asarray(values), name))
        return name

    def node(op: str, inputs: list[str], stem: str, domain: str = "", **attrs: Any) -> str:
        out = fresh(stem)
        nodes.append(helper.make_node(op, inputs, [out], domain=domain, **attrs))
        return out

    def stacked(columns: list[str]) -> str:
        return columns[0] if len(columns) == 1 else node("Concat", columns, "stack", axis=1)

    pieces: list[str] = []
    for part in table.parts():
        pieces += _part(part, node, constant, stacked)
    joined = pieces[0] if len(pieces) == 1 else node("Concat", pieces, "joined", axis=1)
    nodes.append(helper.make_node("Cast", [joined], [ENCODED], to=TensorProto.FLOAT))
    element = {"double": TensorProto.DOUBLE, "string": TensorProto.STRING}
    graph = helper.make_graph(
        nodes,
        "aekit_table_encoding",
        [helper.make_tensor_value_info(n, element[k], ["batch", 1]) for n, k in kinds.items()],
        [helper.make_tensor_value_info(ENCODED, TensorProto.FLOAT, ["batch", None])],
        initializer=constants,
    )
    opsets = [helper.make_opsetid("", opset), helper.make_opsetid("ai.onnx.ml", ML_OPSET)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=ir_version)


def _part(part: TablePart, node: Any, constant: Any, stacked: Any) -> list[str]:
    """The nodes of one part; the names of its outputs, (batch, width) double each."""
    columns, statistics = part.columns, part.statistics
    if part.kind == "numeric":
        x = stacked(columns)
        row = {k: v.reshape(1, -1) for k, v in statistics.items()}
        imputed = node(
            "Where", [node("IsNaN", [x], "gap"), constant(row["median"], "median"), x], "imputed"
        )
        centred = node("Sub", [imputed, constant(row["center"], "center")], "centred")
        return [node("Div", [centred, constant(row["scale"], "scale")], "numeric")]
    if part.kind == "missing":
        from onnx import TensorProto

        return [
            node(
                "Cast", [node("IsNaN", [stacked(columns)], "gap")], "missing", to=TensorProto.DOUBLE
            )
        ]
    if part.kind == "boolean":
        x = stacked(columns)
        fill = constant(statistics["fill"].reshape(1, -1), "fill")
        return [node("Where", [node("IsNaN", [x], "gap"), fill, x], "boolean")]
    if part.kind == "categorical":
        return [
            _one_hot(name, levels, node, constant)
            for name, levels in zip(columns, statistics["columns"], strict=True)
        ]
    raise ExportError(f"table part {part.kind!r} ({', '.join(columns)}) cannot be exported")


def _one_hot(column: str, levels: Any, node: Any, constant: Any) -> str:
    """A categorical column's inputs: each stored level's position (``positions``), the
    unseen input for any other text (none for an old column without one: all zeros),
    set by comparing the position with each input's."""
    from onnx import TensorProto

    positions = levels.positions()
    index = node(
        "LabelEncoder",
        [column],
        "level",
        domain="ai.onnx.ml",
        keys_strings=list(levels.levels),
        values_int64s=[int(p) for p in positions[:-1]],
        default_int64=int(positions[-1]),
    )
    inputs = constant(np.arange(levels.width, dtype=np.int64).reshape(1, -1), "inputs")
    hot: str = node(
        "Cast", [node("Equal", [index, inputs], "hot")], "one_hot", to=TensorProto.DOUBLE
    )
    return hot
