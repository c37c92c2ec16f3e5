"""
Anomaly detection on a real benchmark set
=========================================

:class:`aekit.AnomalyDetector` is an ensemble of small autoencoders, as ``IsolationForest`` is
one of trees. Here it learns the *satellite* set of the ADBench benchmark (Landsat
multi-spectral pixel neighbourhoods, 36 features; the rarest soil classes count as anomalies)
without looking at the labels, as in ADBench's unsupervised protocol, and we compare its
anomaly scores with the labels afterwards.
"""

# %%
# Load the data
# -------------
# ADBench sets are ``.npz`` files holding ``X`` and ``y`` (1 = anomaly) in
# ``$AEKIT_DATA/adbench``.
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from aekit import AnomalyDetector, plots

data = Path(os.environ.get("AEKIT_DATA", "../shared/data")) / "adbench" / "30_satellite.npz"
with np.load(data) as arrays:
    X, y = arrays["X"], arrays["y"].astype(int)
print(f"{X.shape[0]} rows, {X.shape[1]} features, {y.mean():.1%} anomalies")

# %%
# Fit without labels and score
# ----------------------------
# ``anomaly_score`` is higher for more anomalous rows; ``threshold_`` comes from the threshold
# rule at fit (``contamination="auto"``), and ``predict`` gives -1 above it.
detector = AnomalyDetector(random_state=0).fit(X)
scores = detector.anomaly_score(X)
flagged = detector.predict(X) == -1
print(f"ROC-AUC {roc_auc_score(y, scores):.3f}; {flagged.sum()} rows flagged")
print(f"precision of the flags {y[flagged].mean():.2f}, recall {flagged[y == 1].mean():.2f}")

forest = IsolationForest(random_state=0).fit(X)
print(f"IsolationForest ROC-AUC {roc_auc_score(y, -forest.score_samples(X)):.3f}")

# %%
# The score distribution and its threshold
# ----------------------------------------
# With labels, :func:`aekit.plots.plot_anomaly_scores` draws each class's histogram, the
# threshold, and the ROC and precision-recall curves.
plt.figure(plots.plot_anomaly_scores(scores, detector.threshold_, labels=y))

# %%
# The most anomalous rows
# -----------------------
# ``explain`` gives each feature's relative error: which features make each row unusual.
plt.figure(plots.plot_top_anomalies(X, scores, n=4, feature_errors=detector.explain(X)))

plt.show()
