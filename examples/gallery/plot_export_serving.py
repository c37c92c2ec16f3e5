"""
Scoring outside aekit: ONNX, MLflow, a server and Spark
=======================================================

A fitted detector leaves Python in two ways. ``to_onnx`` writes one ONNX graph, raw columns
in and scores out (the scaling, every member network, the score and the threshold inside),
that any ONNX runtime runs. ``aekit.mlflow`` logs it as an MLflow model whose
``python_function`` flavour returns what ``aekit score`` writes, ready for ``mlflow models
serve`` and Spark. Everything here happens in a temporary folder; no server is started.
"""

# %%
# A detector on a table with named columns
# -----------------------------------------
# ADBench's *thyroid* set: 3,772 patients, 6 measurements, 2.5% with hypothyroidism.
import os
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import mlflow
import numpy as np
import onnxruntime
import pandas as pd
from sklearn.metrics import roc_auc_score

import aekit.mlflow
from aekit import AnomalyDetector
from aekit.export import onnx_inputs

data = Path(os.environ.get("AEKIT_DATA", "../shared/data")) / "adbench" / "38_thyroid.npz"
with np.load(data) as arrays:
    X = pd.DataFrame(arrays["X"], columns=[f"m{i}" for i in range(arrays["X"].shape[1])])
    y = arrays["y"].astype(int)
detector = AnomalyDetector(random_state=0).fit(X)
expected = detector.score_parts(X)
print(f"ROC-AUC {roc_auc_score(y, expected['anomaly_score']):.3f}")

# %%
# Export to ONNX and score with onnxruntime
# -----------------------------------------
# ``onnx_inputs`` turns a DataFrame into the graph's inputs (one per column for a table
# model, validated as the estimator validates it).
folder = Path(tempfile.mkdtemp())
onnx_path = detector.to_onnx(folder / "detector.onnx")
session = onnxruntime.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
names = [output.name for output in session.get_outputs()]
outputs = dict(zip(names, session.run(None, onnx_inputs(detector, X)), strict=True))
print(f"ONNX outputs: {names}")
onnx_score = np.ravel(outputs["anomaly_score"])
difference = np.abs(onnx_score - expected["anomaly_score"]) / np.abs(expected["anomaly_score"])
same_flags = np.array_equal(np.ravel(outputs["is_anomaly"]).astype(bool), expected["is_anomaly"])
print(f"largest relative difference {difference.max():.1e}; same flags: {same_flags}")

# %%
# The two sets of scores on one line:
fig, (ax_scores, ax_diff) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
ax_scores.loglog(expected["anomaly_score"], onnx_score, ".", ms=3)
ax_scores.axline((1, 1), (10, 10), color="gray", lw=0.8)
ax_scores.set(xlabel="aekit anomaly_score", ylabel="onnxruntime anomaly_score")
ax_scores.set_title("ONNX graph vs aekit")
ax_diff.hist(np.log10(np.maximum(difference, 1e-12)), bins=40, color="#4c78a8")
ax_diff.set(xlabel="log10 relative difference", ylabel="rows")
ax_diff.set_title("float32 graph vs float64 aekit")

# %%
# MLflow: log, load, predict
# --------------------------
# A local folder serves as the tracking store (MLflow 3 asks for an explicit opt-in to its
# file store; a real deployment points ``set_tracking_uri`` at a database or a tracking
# server). The ``aekit`` flavour keeps aekit's own model file; ``mlflow.pyfunc`` models
# return a DataFrame of ``aekit score``'s columns.
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
mlflow.set_tracking_uri((folder / "mlruns").as_uri())
with mlflow.start_run():
    info = aekit.mlflow.log_model(detector, "detector", input_example=X.head(5))
print(f"logged as {info.model_uri}")

scorer = mlflow.pyfunc.load_model(info.model_uri)
predicted = scorer.predict(X)
print(predicted.head().round(3).to_string())
same = np.allclose(predicted["anomaly_score"], expected["anomaly_score"], rtol=1e-6)
print(f"pyfunc scores equal aekit's: {same}")

# %%
# ``aekit.mlflow.load_model`` gives the estimator itself back, and ``save_model`` writes
# the same model to a folder without a tracking server:
again = aekit.mlflow.load_model(info.model_uri)
aekit.mlflow.save_model(again, folder / "detector-model")
print(sorted(path.name for path in (folder / "detector-model").iterdir()))

# %%
# Serving and Spark
# -----------------
# The model folder (or ``info.model_uri``) is a standard MLflow model. To serve it over HTTP::
#
#     mlflow models serve -m runs:/<run_id>/detector --env-manager local --port 5000
#     curl -X POST localhost:5000/invocations -H 'Content-Type: application/json' \
#          -d '{"dataframe_split": {"columns": ["m0", ...], "data": [[...]]}}'
#
# and the answer holds ``anomaly_score``, ``p_value`` and ``is_anomaly`` per row. To score a
# table of any size on a Spark cluster::
#
#     score = mlflow.pyfunc.spark_udf(spark, "models:/detector/1", env_manager="local")
#     table = spark.read.parquet("s3://bucket/events/")
#     table.withColumn("aekit", score(*table.columns)).select("*", "aekit.*")

shutil.rmtree(folder)  # the temporary files
plt.show()
