"""Tables as people have them: does reading a column's role right find what raw columns hide?

Two measurements, each aekit configuration in the same run on the same rows:

- **shop**: a synthetic order table (``shop_table``) with an order id, a customer id, a
  timestamp, amounts with gaps, categories and a payment method. 1% of the orders are
  planted at night (02:00-04:30) when customers otherwise buy between 07:00 and 23:00;
  everything else about them is drawn like any other order, so only the time of day
  shows them. The detector is fit on all rows (unsupervised) and scored on them.
- **nyc_taxi**: NAB's New York taxi passenger counts (``timestamp,value`` every 30
  minutes; five labelled anomaly windows: the marathon, Thanksgiving, Christmas, New
  Year, a blizzard), read from ``$AEKIT_DATA/timeseries/nab``; each row is scored on its
  own (no windows: that is ``TimeSeriesDetector``'s job).

Configurations: ``roles`` (aekit's defaults: identifiers left out, the timestamp as
calendar inputs), ``as categories`` (what aekit did before column roles: the id and the
timestamp text one-hot and hashed, the customer id a number), ``time left out`` (the
timestamp in ``ignore=``). ROC-AUC and average precision, over seeds.

    python -m bench --only tables
"""

from __future__ import annotations

import json
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

CATEGORIES = ("grocery", "electronics", "books", "clothing", "toys", "garden", "sports", "beauty")
PAYMENTS = ("card", "cash", "paypal", "voucher")


def shop_table(n_rows: int = 20_000, *, anomaly_share: float = 0.01, seed: int = 0) -> Any:
    """``(orders, is_anomaly)``: the planted-night-orders table of this module's doc."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_customers = max(50, n_rows // 10)
    weights = 1.0 / np.arange(1, n_customers + 1) ** 0.7
    customer = rng.choice(n_customers, n_rows, p=weights / weights.sum())
    day = rng.integers(0, 90, n_rows)
    # daytime shopping: a lunch peak and an evening peak, 07:00 to 23:00
    hour = np.where(
        rng.random(n_rows) < 0.4, rng.normal(12.5, 1.5, n_rows), rng.normal(19, 2, n_rows)
    )
    hour = np.clip(hour, 7.0, 22.99)
    anomalous = rng.random(n_rows) < anomaly_share
    hour[anomalous] = rng.uniform(2.0, 4.5, int(anomalous.sum()))
    when = (
        pd.Timestamp("2024-03-04")
        + pd.to_timedelta(day, unit="D")
        + pd.to_timedelta(hour * 3600, unit="s").round("s")
    )
    category = rng.choice(len(CATEGORIES), n_rows)
    amount = np.round(rng.lognormal(2.5 + 0.25 * category, 0.6), 2)
    amount[rng.random(n_rows) < 0.03] = np.nan
    payment = np.asarray(PAYMENTS, dtype=object)[rng.choice(4, n_rows, p=[0.6, 0.15, 0.2, 0.05])]
    payment[rng.random(n_rows) < 0.02] = None
    frame = pd.DataFrame(
        {
            "order_id": [f"ORD-{i:07d}" for i in rng.permutation(n_rows) + 1_000_000],
            "customer_id": customer + 10_000,
            "ordered_at": when.strftime("%Y-%m-%d %H:%M:%S"),
            "amount": amount,
            "items": rng.poisson(2.0, n_rows) + 1,
            "category": np.asarray(CATEGORIES, dtype=object)[category],
            "payment": payment,
        }
    )
    order = np.argsort(when.to_numpy(), kind="stable")  # a table sorted by time, as exported
    return frame.iloc[order].reset_index(drop=True), anomalous[order].astype(int)


def nyc_taxi(data: Path) -> tuple[Any, np.ndarray] | None:
    """NAB's nyc_taxi rows and a 0/1 label per row (inside a labelled window)."""
    import pandas as pd

    folder = data / "timeseries" / "nab"
    path = folder / "realKnownCause" / "nyc_taxi.csv"
    if not path.is_file():
        return None
    frame = pd.read_csv(path)
    windows = json.loads((folder / "combined_windows.json").read_text())[
        "realKnownCause/nyc_taxi.csv"
    ]
    stamps = pd.to_datetime(frame["timestamp"])
    labels = np.zeros(len(frame), int)
    for start, end in windows:
        labels[(stamps >= pd.Timestamp(start)) & (stamps <= pd.Timestamp(end))] = 1
    return frame, labels


def _configurations(name: str) -> dict[str, tuple[Any, dict[str, Any]]]:
    """configuration -> (how to change the frame, AnomalyDetector's table parameters)."""
    time_column = "ordered_at" if name == "shop" else "timestamp"

    def as_before(frame: Any) -> Any:
        out = frame.copy()
        if "customer_id" in out:
            out["customer_id"] = out["customer_id"].astype(float)  # a number, as before
        return out

    before_categorical = [time_column] + (["order_id"] if name == "shop" else [])
    return {
        "roles": (lambda f: f, {}),
        "as categories": (as_before, {"categorical": before_categorical}),
        "time left out": (lambda f: f, {"ignore": [time_column]}),
    }


def _score(
    frame: Any, labels: np.ndarray, table: dict[str, Any], seed: int, time_column: str = ""
) -> dict[str, float]:
    """The default detector's ROC-AUC and AP on ``frame``, and, when ``time_column`` is an
    input, the ROC-AUC of that column's own share of the error (``explain``)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    from aekit import AnomalyDetector

    detector = AnomalyDetector(random_state=seed)
    detector.set_params(**{f"estimator__{k}": v for k, v in table.items()})
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        scores = detector.fit(frame).anomaly_score(frame)
    seconds = time.perf_counter() - started
    shares = detector.explain(frame)
    own = shares.get(time_column)
    return {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "ap": float(average_precision_score(labels, scores)),
        "time_share_roc_auc": float("nan") if own is None else float(roc_auc_score(labels, own)),
        "seconds": seconds,
        "inputs": int(detector.sample_shape_[0]),
    }


def run(data: Path, *, n_rows: int = 20_000, seeds: int = 3) -> dict[str, Any]:
    sets: dict[str, tuple[Any, np.ndarray]] = {"shop": shop_table(n_rows, seed=0)}
    taxi = nyc_taxi(data)
    if taxi is not None:
        sets["nyc_taxi"] = taxi
    results: dict[str, Any] = {"n_rows": {k: len(v[0]) for k, v in sets.items()}, "rows": []}
    for name, (frame, labels) in sets.items():
        for config, (change, table) in _configurations(name).items():
            time_column = "ordered_at" if name == "shop" else "timestamp"
            runs = [
                _score(change(frame), labels, table, seed, time_column) for seed in range(seeds)
            ]
            row = {"data": name, "configuration": config, "inputs": runs[0]["inputs"]}
            for measure in ("roc_auc", "ap", "time_share_roc_auc", "seconds"):
                values = [r[measure] for r in runs]
                row[measure] = statistics.median(values)
                row[f"{measure}_range"] = [min(values), max(values)]
            results["rows"].append(row)
            print(
                f"{name:9s} {config:14s} inputs {row['inputs']:3d}  ROC-AUC {row['roc_auc']:.3f}"
                f"  AP {row['ap']:.3f}  timestamp's share {row['time_share_roc_auc']:.3f}"
                f"  {row['seconds']:.1f} s",
                flush=True,
            )
    return results


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "Each table's detector (aekit's defaults) fit on all rows and scored on them; "
        "medians over seeds with their range. `roles`: identifiers left out, the timestamp "
        "as calendar inputs (aekit's default); `as categories`: the id and timestamp text "
        "one-hot and hashed, as before column roles; `time left out`: the timestamp ignored. "
        "*Timestamp's share*: the ROC-AUC of the timestamp column's own share of the error "
        "(`explain`), where it is an input. "
        f"Rows: {', '.join(f'{k} {v:,}' for k, v in results['n_rows'].items())}.",
        "",
        "| data | configuration | inputs | ROC-AUC | AP | timestamp's share | fit + score (s) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results["rows"]:
        lo, hi = r["roc_auc_range"]
        lines.append(
            f"| {r['data']} | {r['configuration']} | {r['inputs']} | {r['roc_auc']:.3f} "
            f"({lo:.3f}-{hi:.3f}) | {r['ap']:.3f} | {_share(r)} | {r['seconds']:.1f} |"
        )
    return "\n".join(lines)


def _share(row: dict[str, Any]) -> str:
    value = row.get("time_share_roc_auc", float("nan"))
    return "-" if value != value else f"{value:.3f}"  # NaN: the timestamp is not an input
