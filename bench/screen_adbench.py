"""Choose the detector's settings out of sample: cross-validation over the ADBench sets.

Each candidate (a name and ``AnomalyDetector`` parameters) runs on every set with the
protocol of ``anomaly_adbench.py`` (fit on all of X, score X). The twenty sets are then split
into folds; for each fold, the candidate with the best mean of the criterion on the *other*
sets is chosen, and its figures on the fold's own sets are what is reported. So every set's
reported figure comes from a choice made without it, and the printout names the sets each
choice was made on.

    python bench/screen_adbench.py [--candidates FILE.json] [--folds 4] [--seeds 1]
                                   [--criterion ap|roc_auc] [--out results.json]

FILE.json holds ``{"name": {parameters}, ...}``; without it, the built-in candidates below
are screened. Member parameters are written ``estimator__NAME``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from anomaly_adbench import METRICS, default_data_dir, run

CANDIDATES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "hidden_weight=10": {"hidden_weight": 10.0},
    "latent_weight=0": {"latent_weight": 0.0},
    "n_estimators=10": {"n_estimators": 10},
}


def measure_all(
    data_dir: Path, candidates: dict[str, dict[str, Any]], seeds: int
) -> dict[str, dict[str, dict[str, Any]]]:
    """``figures[candidate][set]``: seed-mean ROC-AUC, AP and seconds (``anomaly_adbench``'s
    per-set figures of aekit with the candidate's parameters)."""
    figures = {}
    for name, params in candidates.items():
        print(f"== {name}", flush=True)
        result = run(data_dir, seeds, aekit_params=params, only_aekit=True)
        figures[name] = {row["set"]: row["aekit"] for row in result["rows"]}
    return figures


def cross_validate(
    figures: dict[str, dict[str, dict[str, Any]]], folds: int, criterion: str, seed: int = 0
) -> dict[str, Any]:
    """Per fold: the candidate chosen on the other sets, and its figures on the fold's."""
    names = list(figures)
    sets = list(figures[names[0]])
    order = np.random.default_rng(seed).permutation(len(sets))
    assignment = [[sets[i] for i in order[k::folds]] for k in range(folds)]
    chosen_rows, report = [], []
    for held_out in assignment:
        choose_on = [s for s in sets if s not in held_out]
        score = {n: float(np.mean([figures[n][s][criterion] for s in choose_on])) for n in names}
        best = max(names, key=lambda n: score[n])
        report.append(
            {"chosen": best, "chosen_on": choose_on, "reported_on": held_out, "scores": score}
        )
        chosen_rows += [figures[best][s] for s in held_out]
    out_of_sample = {k: float(np.mean([r[k] for r in chosen_rows])) for k in METRICS}
    in_sample = {n: {k: float(np.mean([figures[n][s][k] for s in sets])) for k in METRICS}
                 for n in names}  # fmt: skip
    return {"folds": report, "out_of_sample": out_of_sample, "in_sample": in_sample}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--candidates", type=Path, help="JSON {name: parameters}")
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--criterion", choices=METRICS, default="ap")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    candidates = CANDIDATES
    if args.candidates is not None:
        candidates = json.loads(args.candidates.read_text())
    figures = measure_all(args.data, candidates, args.seeds)
    result = cross_validate(figures, args.folds, args.criterion)
    print()
    for k, fold in enumerate(result["folds"]):
        chosen_on, reported_on = ", ".join(fold["chosen_on"]), ", ".join(fold["reported_on"])
        print(
            f"fold {k + 1}: chose {fold['chosen']!r} by mean {args.criterion} on {chosen_on}; "
            f"reported on {reported_on}"
        )
    print("\nin sample (every set):")
    for name, means in result["in_sample"].items():
        print(f"  {name}: ROC-AUC {means['roc_auc']:.3f}, AP {means['ap']:.3f}")
    oos = result["out_of_sample"]
    print(
        "out of sample (each set judged by a choice made without it): "
        f"ROC-AUC {oos['roc_auc']:.3f}, AP {oos['ap']:.3f}"
    )
    if args.out is not None:
        args.out.write_text(json.dumps({"figures": figures, **result}, indent=2))


if __name__ == "__main__":
    main()
