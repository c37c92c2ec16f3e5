"""Fitted models out of Python: one ONNX graph from the raw inputs to the outputs.

``to_onnx(model, path)`` (also ``Autoencoder.to_onnx``, ``AnomalyDetector.to_onnx`` and
``aekit export``) writes the graph; ``onnx_inputs(model, X)`` gives its inputs for data
the estimator takes. Needs the ``onnx`` extra: ``pip install 'aekit[onnx]'``.
"""

from aekit.export.onnx_model import OPSET, onnx_inputs, signature, to_onnx

__all__ = ["OPSET", "onnx_inputs", "signature", "to_onnx"]
