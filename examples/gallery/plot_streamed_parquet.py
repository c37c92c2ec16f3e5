"""
Fitting from a Parquet file, streamed
=====================================

Give ``fit`` the path of a Parquet file (or a folder of them) instead of an array and aekit
streams it: the scaling statistics come from a uniform sample, and each epoch reads the file
again in record batches through a shuffle buffer, so memory holds a buffer and one batch
whatever the file's size. Here the file is ADBench's *shuttle* set (49,097 rows, 9 features,
7% anomalies), written to a temporary folder in row groups of 4,096 rows.
"""

# %%
# Write the Parquet file
# ----------------------
import os
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score

from aekit import AnomalyDetector, Autoencoder, plots

data = Path(os.environ.get("AEKIT_DATA", "../shared/data")) / "adbench" / "32_shuttle.npz"
with np.load(data) as arrays:
    X, y = arrays["X"].astype(np.float32), arrays["y"].astype(int)
columns = [f"x{i}" for i in range(X.shape[1])]

folder = Path(tempfile.mkdtemp())
path = folder / "shuttle.parquet"
pq.write_table(pa.table(dict(zip(columns, X.T, strict=True))), path, row_group_size=4_096)
print(f"{path.name}: {pq.ParquetFile(path).metadata.num_row_groups} row groups, {len(X)} rows")

# %%
# An autoencoder trained by streaming
# -----------------------------------
# The same estimator as for arrays; only the input differs. ``validation_fraction`` of the
# rows (chosen by a seeded hash of their position) never enter training.
ae = Autoencoder(latent_dim=3, max_epochs=6, random_state=0).fit(path)
print(f"{ae.n_epochs_} epochs over the file; columns {list(ae.feature_names_in_)}")
plt.figure(plots.plot_loss_curves(ae.history_))

# %%
# Compared with PCA keeping as many numbers (the data fits in memory here, so we can check):
frame = pq.read_table(path).to_pandas()  # the columns the model was fitted with
ae_mse = ae.reconstruction_error(frame).mean()
pca = PCA(3, random_state=0).fit(X)
pca_mse = np.mean((pca.inverse_transform(pca.transform(X)) - X) ** 2)
print(f"reconstruction MSE: streamed autoencoder {ae_mse:.2f}, PCA(3) {pca_mse:.2f}")

# %%
# A detector from the same file
# -----------------------------
# ``AnomalyDetector.fit(path)`` fits on a uniform sample of the file (each member trains on at
# most ``max_samples`` rows anyway) and calibrates its threshold on the sample's held-out rows.
# We then score the file batch by batch, as ``aekit score detector.safetensors
# shuttle.parquet -o scores.parquet`` does on the command line.
detector = AnomalyDetector(random_state=0).fit(path)
scores = np.concatenate(
    [
        detector.anomaly_score(batch.to_pandas())
        for batch in pq.ParquetFile(path).iter_batches(batch_size=16_384)
    ]
)
flagged = scores > detector.threshold_
print(f"ROC-AUC of the streamed detector: {roc_auc_score(y, scores):.3f}")
print(f"{flagged.sum()} rows flagged, {y[flagged].mean():.0%} of them labelled anomalies")

shutil.rmtree(folder)  # the temporary Parquet file
plt.show()
