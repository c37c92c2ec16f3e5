"""Fitted estimators to one ONNX graph, from the raw input columns to the outputs."""

from __future__ import annotations

import copy
import json
import logging
import warnings
from pathlib import Path
from typing import Any

import torch
from numpy.typing import NDArray

from aekit._version import __version__
from aekit.data.validation import validate_samples
from aekit.exceptions import ExportError, MissingExtraError
from aekit.export import tables
from aekit.export.graphs import AUTOENCODER_OUTPUTS, AutoencoderGraph, DetectorGraph, Scaling
from aekit.io.atomic import atomic_path

OPSET = 20  # the default (ai.onnx) opset of every exported graph
INPUT = "input"  # the one input of an array or image model
EXAMPLE_ROWS = 2


def require_onnx() -> Any:
    """The ``onnx`` module, or ``MissingExtraError`` saying which extra to install."""
    try:
        import onnx
        import onnxscript  # noqa: F401  (torch's exporter needs it)
    except ImportError as error:
        raise MissingExtraError(
            f"exporting to ONNX needs the onnx extra ({error.name} is missing): "
            f"pip install 'aekit[onnx]'"
        ) from None
    return onnx


def to_onnx(model: Any, path: str | Path) -> Path:
    """Write ``model`` (a fitted ``Autoencoder`` or ``AnomalyDetector``) as an ONNX file.

    One graph from the raw inputs to the outputs, batch dimension dynamic:

    - inputs: ``"input"``, float32 samples ``(batch, *sample_shape_)`` in the data's units;
      for a mixed-table model one input per used column, ``(batch, 1)``: double for
      numbers and booleans (NaN for a gap), string for categories (``"<missing>"`` for a
      gap); ``onnx_inputs(model, X)`` builds them from what the estimator takes.
    - an ``Autoencoder``: ``code`` (``transform``) and ``reconstruction`` (``reconstruct``;
      for a table model, in the network's encoded space, as ``network_outputs``).
    - an ``AnomalyDetector``: ``anomaly_score``, ``relative_error``, ``code_distance``,
      ``hidden_distance``, ``p_value`` (with a calibration split) and ``is_anomaly``: the
      columns ``aekit score`` writes, from the fitted scaling, every member network, the
      score's combination and the threshold.

    The file is checked by ``onnx.checker`` and written atomically; its metadata records
    the aekit version, the estimator and its outputs. Needs ``aekit[onnx]``.

    Parameters
    ----------
    model : fitted Autoencoder or AnomalyDetector
    path : str or Path
        The ``.onnx`` file to write.

    Returns
    -------
    path : Path

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import onnxruntime
    >>> from aekit import AnomalyDetector
    >>> from aekit.datasets import load_digits
    >>> from aekit.export import onnx_inputs
    >>> X, _ = load_digits()
    >>> detector = AnomalyDetector(n_estimators=2, random_state=0).fit(X)
    >>> path = detector.to_onnx(Path(tempfile.mkdtemp()) / "detector.onnx")
    >>> session = onnxruntime.InferenceSession(path)
    >>> score, flag = session.run(["anomaly_score", "is_anomaly"], onnx_inputs(detector, X))
    >>> bool(np.allclose(score, detector.anomaly_score(X), rtol=1e-5))
    True
    """
    onnx = require_onnx()
    path = Path(path)
    graph, outputs, example = _graph(model)
    table = model.preprocessor_
    back = _export(graph, example, outputs)
    if table is None:
        exported = back
    else:
        front = tables.encoding_graph(table, OPSET, back.ir_version)
        exported = onnx.compose.merge_models(
            front, back, io_map=[(tables.ENCODED, INPUT)], doc_string=back.doc_string
        )
    _describe(exported, model, outputs)
    onnx.checker.check_model(exported, full_check=True)
    with atomic_path(path) as partial:
        onnx.save_model(exported, str(partial))
    return path


def signature(path: str | Path) -> tuple[list[str], list[str]]:
    """The input and output names of the ONNX graph in ``path``.

    Parameters
    ----------
    path : str or Path
        An ``.onnx`` file.

    Returns
    -------
    inputs, outputs : list of str

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from aekit import Autoencoder
    >>> from aekit.datasets import load_digits
    >>> from aekit.export import signature
    >>> X, _ = load_digits()
    >>> ae = Autoencoder(latent_dim=2, max_epochs=2, random_state=0).fit(X)
    >>> signature(ae.to_onnx(Path(tempfile.mkdtemp()) / "digits.onnx"))
    (['input'], ['code', 'reconstruction'])
    """
    graph = require_onnx().load(str(path)).graph
    return [i.name for i in graph.input], [o.name for o in graph.output]


def onnx_inputs(model: Any, X: Any) -> dict[str, NDArray[Any]]:
    """The exported graph's inputs for ``X``, validated as the estimator validates it.

    Parameters
    ----------
    model : fitted Autoencoder or AnomalyDetector
        The estimator the graph was exported from.
    X : array-like or DataFrame
        Samples as the estimator takes them.

    Returns
    -------
    feeds : dict of str to ndarray
        ``InferenceSession.run``'s input mapping.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import onnxruntime
    >>> from aekit import Autoencoder
    >>> from aekit.datasets import load_digits
    >>> from aekit.export import onnx_inputs
    >>> X, _ = load_digits()
    >>> ae = Autoencoder(latent_dim=2, max_epochs=2, random_state=0).fit(X)
    >>> session = onnxruntime.InferenceSession(ae.to_onnx(Path(tempfile.mkdtemp()) / "a.onnx"))
    >>> code, _ = session.run(None, onnx_inputs(ae, X))
    >>> bool(np.allclose(code, ae.transform(X), rtol=1e-5, atol=1e-6))
    True
    """
    table = model.preprocessor_
    if table is not None:
        return tables.feeds(table, X)
    x = validate_samples(model, X, reset=False)
    return {INPUT: x.reshape(len(x), *model.sample_shape_)}


def _graph(model: Any) -> tuple[torch.nn.Module, tuple[str, ...], torch.Tensor]:
    """The module to trace, its output names and an example batch of network inputs."""
    from aekit.estimators.autoencoder import Autoencoder
    from aekit.estimators.outlier import AnomalyDetector

    if isinstance(model, AnomalyDetector):
        network = model.estimators_[0].model_
        score = copy.deepcopy(model.score_module_).cpu().eval()
        score.stacked = None  # onnxruntime runs members one by one faster than batched
        # products (2.1 against 3.5 s per million rows of the default detector)
        graph: Any = DetectorGraph(
            score, _scaling(model, network), model.offset_, model.calibration_scores_
        )
        outputs = graph.outputs
    elif isinstance(model, Autoencoder):
        network = copy.deepcopy(model.model_).cpu().eval()
        graph = AutoencoderGraph(network, _scaling(model, network), _sample_shape(model))
        outputs = AUTOENCODER_OUTPUTS
    else:
        raise TypeError(f"to_onnx takes a fitted Autoencoder or AnomalyDetector, not {model!r}")
    example = torch.zeros((EXAMPLE_ROWS, *_sample_shape(model)), dtype=torch.float32)
    return graph.eval(), outputs, example


def _sample_shape(model: Any) -> tuple[int, ...]:
    if model.preprocessor_ is not None:
        return (model.preprocessor_.n_features_out_,)
    return tuple(model.sample_shape_)


def _scaling(model: Any, network: Any) -> Scaling:
    scaler = model.scaler_
    return Scaling(scaler.offset, scaler.scale, network.config.input_shape)


def _export(graph: torch.nn.Module, example: torch.Tensor, outputs: tuple[str, ...]) -> Any:
    """Trace ``graph`` with torch's exporter; the ONNX model, batch dimension dynamic."""
    batch = torch.export.Dim("batch")
    quiet = logging.getLogger("torch.onnx")  # "torchvision is not installed", say
    level = quiet.level
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore", FutureWarning)  # torch's own, about its internals
        quiet.setLevel(logging.ERROR)
        try:
            program = torch.onnx.export(
                graph,
                (example,),
                dynamo=True,
                input_names=[INPUT],
                output_names=list(outputs),
                dynamic_shapes={"x": {0: batch}},
                opset_version=OPSET,
                verbose=False,
            )
        except Exception as error:  # torch's exporter raises many kinds
            raise ExportError(f"torch could not export this model to ONNX: {error}") from error
        finally:
            quiet.setLevel(level)
    if program is None:
        raise ExportError("torch's exporter returned no ONNX program")
    return program.model_proto


def _describe(exported: Any, model: Any, outputs: tuple[str, ...]) -> None:
    """Record what the graph is in its metadata and doc string."""
    from onnx import helper

    estimator = type(model).__name__
    kind = model.estimators_[0].kind if hasattr(model, "estimators_") else model.kind
    info = {
        "aekit_version": __version__,
        "estimator": estimator,
        "kind": kind,
        "outputs": json.dumps(list(outputs)),
        "inputs": json.dumps([i.name for i in exported.graph.input]),
    }
    if hasattr(model, "offset_"):
        info["threshold"] = repr(model.threshold_)
        info["threshold_rule"] = model.threshold_rule
    del exported.metadata_props[:]
    helper.set_model_props(exported, info)
    exported.producer_name, exported.producer_version = "aekit", __version__
    exported.doc_string = f"aekit {estimator} ({kind}): {', '.join(outputs)}"
    exported.graph.name = f"aekit_{estimator}"
