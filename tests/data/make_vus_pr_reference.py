"""Write ``vus_pr_reference.json``: VUS-PR as TSB-AD's own code computes it, for fixed cases.

Run from the repository with TSB-AD installed (``pip install --no-deps "TSB-AD==1.5"``)::

    python tests/data/make_vus_pr_reference.py

The JSON holds each case's parameters and the value, never the arrays: ``make_case`` rebuilds
the labels and scores (from a seed, or from a NAB file of the shared data, ``$AEKIT_DATA`` or
``../shared/data``), and ``tests/test_series_metrics.py`` loads this file to call it.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "vus_pr_reference.json"
SHARED_DATA = Path(os.environ.get("AEKIT_DATA", HERE.parents[2] / "shared" / "data"))
NAB = "timeseries/nab"

# series: "runs" (anomaly runs at random places), "point-start" / "point-end" (one anomalous
# point at that end), or a NAB file relative to timeseries/nab. scores: "noisy" (noise plus a
# bump on the anomalies), "random" (uniform, ignoring the labels) or "zscore" (a NAB value's
# trailing z-score); decimals rounds them, which makes ties.
CASES: list[dict[str, Any]] = [
    {
        "name": "runs, noisy",
        "series": "runs",
        "n": 3000,
        "seed": 0,
        "scores": "noisy",
        "decimals": None,
        "sliding_window": 100,
        "n_thresholds": 250,
    },
    {
        "name": "runs, ties",
        "series": "runs",
        "n": 2000,
        "seed": 1,
        "scores": "noisy",
        "decimals": 1,
        "sliding_window": 10,
        "n_thresholds": 50,
    },
    {
        "name": "runs, random, window 0",
        "series": "runs",
        "n": 1500,
        "seed": 2,
        "scores": "random",
        "decimals": None,
        "sliding_window": 0,
        "n_thresholds": 250,
    },
    {
        "name": "one point at the start",
        "series": "point-start",
        "n": 800,
        "seed": 3,
        "scores": "random",
        "decimals": None,
        "sliding_window": 100,
        "n_thresholds": 250,
    },
    {
        "name": "one point at the end",
        "series": "point-end",
        "n": 800,
        "seed": 4,
        "scores": "noisy",
        "decimals": 2,
        "sliding_window": 10,
        "n_thresholds": 50,
    },
    {
        "name": "NAB rogue_agent_key_hold, z-score",
        "series": "realKnownCause/rogue_agent_key_hold.csv",
        "n": None,
        "seed": 5,
        "scores": "zscore",
        "decimals": None,
        "sliding_window": 100,
        "n_thresholds": 250,
    },
]


def nab_series(root: Path, name: str) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """A NAB file's labels (1 = the timestamp lies in one of its anomaly windows) and values."""
    with open(root / NAB / name, newline="") as f:
        rows = list(csv.DictReader(f))
    times = np.array([row["timestamp"] for row in rows], dtype="datetime64[s]")
    values = np.array([float(row["value"]) for row in rows])
    windows = json.loads((root / NAB / "combined_windows.json").read_text())[name]
    labels = np.zeros(len(times), dtype=np.int64)
    for start, end in windows:
        inside = (times >= np.datetime64(start, "s")) & (times <= np.datetime64(end, "s"))
        labels[inside] = 1
    return labels, values


def rolling_zscore(values: NDArray[np.float64], width: int = 48) -> NDArray[np.float64]:
    """How far each value lies from the mean of the ``width`` before it, in their standard
    deviations; 0 for the first ``width``."""
    past = np.lib.stride_tricks.sliding_window_view(values[:-1], width)
    spread = past.std(axis=1)
    z = np.abs(values[width:] - past.mean(axis=1)) / np.where(spread > 0, spread, 1.0)
    return np.concatenate((np.zeros(width), z))


def synthetic_labels(series: str, n: int, rng: np.random.Generator) -> NDArray[np.int64]:
    labels = np.zeros(n, dtype=np.int64)
    if series == "point-start":
        labels[0] = 1
    elif series == "point-end":
        labels[-1] = 1
    elif series == "runs":
        for start, length in zip(rng.integers(0, n - 60, 6), rng.integers(1, 60, 6), strict=True):
            labels[start : start + length] = 1
    else:
        raise ValueError(f"unknown series {series!r}")
    return labels


def make_case(
    case: dict[str, Any], data: Path = SHARED_DATA
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The labels and scores a case describes."""
    rng = np.random.default_rng(case["seed"])
    if case["series"].endswith(".csv"):
        labels, values = nab_series(data, case["series"])
    else:
        labels = synthetic_labels(case["series"], case["n"], rng)
        values = None
    if case["scores"] == "zscore":
        if values is None:
            raise ValueError(f"case {case['name']!r}: a z-score needs a NAB series")
        scores = rolling_zscore(values)
    elif case["scores"] == "noisy":
        scores = rng.normal(size=len(labels)) + 1.5 * labels
    elif case["scores"] == "random":
        scores = rng.random(len(labels))
    else:
        raise ValueError(f"case {case['name']!r}: unknown scores {case['scores']!r}")
    if case["decimals"] is not None:
        scores = np.round(scores, case["decimals"])
    return labels, scores


def tsb_ad_vus_pr(
    labels: NDArray[np.int64], scores: NDArray[np.float64], sliding_window: int, n_thresholds: int
) -> float:
    """What TSB-AD's ``get_metrics(...)["VUS-PR"]`` reports (version "opt")."""
    from TSB_AD.evaluation.basic_metrics import basic_metricor

    volume = basic_metricor().RangeAUC_volume_opt(
        labels.astype(int), scores, sliding_window, n_thresholds
    )
    return float(volume[5])  # avg_ap_3d


def main() -> None:
    if not (SHARED_DATA / NAB).is_dir():
        sys.exit(f"NAB not found under {SHARED_DATA}; set AEKIT_DATA")
    cases = []
    for case in CASES:
        labels, scores = make_case(case)
        value = tsb_ad_vus_pr(labels, scores, case["sliding_window"], case["n_thresholds"])
        cases.append({**case, "vus_pr": value})
        print(f"{case['name']}: {value!r}")
    reference = {
        "computed_with": (
            "TSB_AD.evaluation.basic_metrics.basic_metricor().RangeAUC_volume_opt("
            "labels, scores, sliding_window, n_thresholds)[5], the avg_ap_3d that "
            "get_metrics reports as VUS-PR"
        ),
        "tsb_ad_version": version("TSB-AD"),
        "numpy_version": np.__version__,
        "generator": "tests/data/make_vus_pr_reference.py",
        "cases": cases,
    }
    REFERENCE.write_text(json.dumps(reference, indent=2) + "\n")
    print(f"wrote {REFERENCE}")


if __name__ == "__main__":
    main()
