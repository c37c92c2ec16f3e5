"""
Anomalies in a time series
==========================

:class:`aekit.TimeSeriesDetector` cuts a series into sliding windows, learns them with an
anomaly detector, and gives every timestamp a score. Here it reads NAB's
``machine_temperature_system_failure`` series: an industrial machine's temperature every five
minutes for about 80 days, with four labelled windows around known failures. Following NAB's
unsupervised protocol it is fit on the whole series, without labels.
"""

# %%
# Load the series and its labelled windows
# ----------------------------------------
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from aekit import TimeSeriesDetector, metrics, plots

nab = Path(os.environ.get("AEKIT_DATA", "../shared/data")) / "timeseries" / "nab"
name = "realKnownCause/machine_temperature_system_failure.csv"
series = pd.read_csv(nab / name, index_col="timestamp", parse_dates=True)
windows = json.loads((nab / "combined_windows.json").read_text())[name]
labels = np.zeros(len(series), dtype=int)
for start, end in windows:
    labels[(series.index >= pd.Timestamp(start)) & (series.index <= pd.Timestamp(end))] = 1
print(f"{len(series)} timestamps, {len(windows)} labelled windows ({labels.mean():.1%} of rows)")

# %%
# Fit and score
# -------------
# ``window="auto"`` takes the series' dominant period; ``contamination`` is the share of
# timestamps we expect to be anomalous.
detector = TimeSeriesDetector(contamination=0.05, random_state=0).fit(series)
scores = detector.anomaly_score(series)
print(f"window {detector.window_} timestamps; VUS-PR {metrics.vus_pr(labels, scores):.3f}")

# %%
# The flagged intervals
# ---------------------
# ``intervals`` lists each run of flagged timestamps with its peak.
alarms = detector.intervals(series)
print(alarms[["start", "end", "peak", "peak_score"]].head(8).to_string())
reached = sum(
    bool(((alarms["start"] <= pd.Timestamp(end)) & (alarms["end"] >= pd.Timestamp(start))).any())
    for start, end in windows
)
print(f"{len(alarms)} flagged intervals; {reached} of {len(windows)} labelled windows reached")

# %%
# The series over its score
# -------------------------
# Flagged stretches are shaded on both panels; the labelled failure windows in their own
# colour on the score panel.
plt.figure(
    plots.plot_series_scores(series, scores, detector.threshold_, index=series.index, labels=labels)
)

plt.show()
