"""Inference throughput: rows per second of ``transform`` and ``decision_function`` on
1M rows of 30-column tabular data, with each method's peak resident memory.

Every method runs in a fresh subprocess, so its peak memory is its own; the data (1M x 30
float32, 114 MiB) is generated there with a fixed seed. References in the same run: PCA's
``transform`` and IsolationForest's ``decision_function``.

    python bench/inference.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

METHODS = [
    "aekit transform",
    "aekit decision_function",
    "PCA transform",
    "IsolationForest decision_function",
]


def make_rows(n: int, seed: int = 0) -> np.ndarray:
    """Correlated Gaussian features (a 6-D signal mixed into 30 columns) plus noise."""
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((6, 30)).astype(np.float32)
    X = rng.standard_normal((n, 6), dtype=np.float32) @ mixing
    X += 0.1 * rng.standard_normal((n, 30), dtype=np.float32)
    return X


def measure(method: str, n_rows: int, repeats: int = 3) -> dict[str, Any]:
    X = make_rows(n_rows)
    fit_rows = X[:20000]
    if method.startswith("aekit"):
        from aekit import AnomalyDetector

        detector = AnomalyDetector(random_state=0).set_params(estimator__max_epochs=5)
        model: Any = detector.fit(fit_rows)
        if method == "aekit transform":  # the codes of the detector's first member
            model = model.estimators_[0]
    elif method.startswith("PCA"):
        from sklearn.decomposition import PCA

        model = PCA(6, random_state=0).fit(fit_rows)
    else:
        from sklearn.ensemble import IsolationForest

        model = IsolationForest(random_state=0).fit(fit_rows)
    call = getattr(model, method.split()[-1])
    call(X[:1000])  # warm up
    data_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        out = call(X)
        seconds.append(time.perf_counter() - started)
        assert len(out) == n_rows
        del out
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    median = statistics.median(seconds)
    return {
        "method": method,
        "rows": n_rows,
        "seconds": median,
        "spread_seconds": [min(seconds), max(seconds)],
        "rows_per_second": n_rows / median,
        "peak_rss_mib": peak_mib,
        "rss_before_call_mib": data_mib,
    }


def run(n_rows: int, repeats: int = 3) -> list[dict[str, Any]]:
    results, command = [], [sys.executable, __file__]
    for method in METHODS:
        done = subprocess.run(
            [*command, "--one", method, "--rows", str(n_rows), "--repeats", str(repeats)],
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(
            f"{method}: {results[-1]['rows_per_second']:,.0f} rows/s, "
            f"peak {results[-1]['peak_rss_mib']:.0f} MiB",
            flush=True,
        )
    return results


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        f"{results[0]['rows']:,} rows x 30 columns (float32, "
        f"{results[0]['rows'] * 30 * 4 / 2**20:.0f} MiB); peak resident memory of the whole "
        "process, data included; 'before' is the peak after fitting and a warm-up call, so the "
        "difference is what the full call adds. Seconds: median (min-max) over repeated calls.",
        "",
        "| method | rows/s | seconds | peak RSS before (MiB) | peak RSS (MiB) |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        low, high = r["spread_seconds"]
        lines.append(
            f"| {r['method']} | {r['rows_per_second']:,.0f} | {r['seconds']:.2f} "
            f"({low:.2f}-{high:.2f}) | {r['rss_before_call_mib']:.0f} | {r['peak_rss_mib']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", choices=METHODS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.rows, args.repeats)))
        return
    print(markdown(run(args.rows, args.repeats)))


if __name__ == "__main__":
    main()
