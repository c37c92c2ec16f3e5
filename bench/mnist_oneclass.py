"""MNIST one-class: each digit in turn is the normal class, contaminated training images.

For digit ``d``: the training set is every training image of ``d`` plus images of the other
digits making up ``CONTAMINATION`` (10%) of it, unlabelled (drawn with the seed); each
method is fit on it and scores the 10,000 official test images, where every digit other
than ``d`` is an anomaly. Same run, same images for every method: aekit's default detector
with a convolutional member (``AnomalyDetector(estimator=
AnomalyDetector.default_estimator(kind=KIND))``, on ``(28, 28)`` images) and, on
flattened pixels, scikit-learn's ``IsolationForest``, a PCA reconstruction error
(standardised pixels, the components keeping 95% of the variance) and PyOD's
``AutoEncoder`` (its defaults; skipped with a note when PyOD is missing). The seeded
methods run with seeds ``0..K-1``. ROC-AUC and AP per digit, their means, and fit and
score seconds. The speed figure fits each method on 8,000 training images (the first
8,000 of the training set) and scores them.

    python -m bench --only mnist_oneclass
    python bench/mnist_oneclass.py [--digits 0,1] [--seeds 1] [--out results.json]
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

CONTAMINATION = 0.10  # share of the training images taken from the other digits
SPEED_IMAGES = 8_000
BAR_SECONDS = 30.0  # issue 19: the conv detector fits and scores 8,000 images within this
KIND = "strided_conv"  # the member kind of aekit's image detector in this bench
# the digits aekit's image defaults (IMAGE_DETECTION_DEFAULTS) were chosen on; the others'
# means are out-of-sample
CHOSEN_ON = (0, 5, 8)

Fit = Callable[[np.ndarray, int], Any]
Score = Callable[[Any, np.ndarray], np.ndarray]


def one_class_split(
    X: np.ndarray, y: np.ndarray, digit: int, seed: int = 0
) -> tuple[np.ndarray, int]:
    """Training images for ``digit``: all of its own and the other digits' making up
    ``CONTAMINATION`` of the result, in a seeded shuffled order; and how many are others."""
    rng = np.random.default_rng(seed)
    own = np.flatnonzero(y == digit)
    n_others = round(len(own) * CONTAMINATION / (1 - CONTAMINATION))
    others = rng.choice(np.flatnonzero(y != digit), n_others, replace=False)
    rows = rng.permutation(np.concatenate([own, others]))
    return X[rows], n_others


def _aekit_conv() -> tuple[Fit, Score]:
    from aekit import AnomalyDetector

    def fit(X: np.ndarray, seed: int) -> Any:
        member = AnomalyDetector.default_estimator(kind=KIND)
        return AnomalyDetector(estimator=member, random_state=seed).fit(X)

    return fit, lambda model, X: model.anomaly_score(X)


def _iforest() -> tuple[Fit, Score]:
    from sklearn.ensemble import IsolationForest

    def fit(X: np.ndarray, seed: int) -> Any:
        return IsolationForest(random_state=seed).fit(_flat(X))

    return fit, lambda model, X: -model.score_samples(_flat(X))


def _pca() -> tuple[Fit, Score]:
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    def fit(X: np.ndarray, seed: int) -> Any:
        scaler = StandardScaler().fit(_flat(X))
        return scaler, PCA(n_components=0.95, svd_solver="full").fit(scaler.transform(_flat(X)))

    def score(model: Any, X: np.ndarray) -> np.ndarray:
        scaler, pca = model
        x = scaler.transform(_flat(X))
        return np.square(x - pca.inverse_transform(pca.transform(x))).sum(axis=1)

    return fit, score


def _pyod_autoencoder() -> tuple[Fit, Score] | None:
    try:
        cls = importlib.import_module("pyod.models.auto_encoder").AutoEncoder
    except ImportError:
        return None

    def fit(X: np.ndarray, seed: int) -> Any:
        return cls(random_state=seed, verbose=0).fit(_flat(X))

    return fit, lambda model, X: model.decision_function(_flat(X))


def _flat(X: np.ndarray) -> np.ndarray:
    return np.asarray(X, np.float32).reshape(len(X), -1)


def methods() -> tuple[dict[str, tuple[Fit, Score, bool]], list[str]]:
    """``name -> (fit, score, seeded)`` for every method of the bench, and notes."""
    out: dict[str, tuple[Fit, Score, bool]] = {
        "aekit conv": (*_aekit_conv(), True),
        "IsolationForest": (*_iforest(), True),
        "PCA": (*_pca(), False),
    }
    notes = []
    pyod = _pyod_autoencoder()
    if pyod is None:
        notes.append("PyOD is not installed; its AutoEncoder is skipped (pip install pyod)")
        print(f"note: {notes[-1]}", flush=True)
    else:
        out["PyOD AE"] = (*pyod, True)
    return out, notes


def _timed(fit: Fit, score: Score, X: np.ndarray, X_test: np.ndarray, seed: int) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        model = fit(X, seed)
        fitted = time.perf_counter()
        scores = np.asarray(score(model, X_test), np.float64)
    return scores, fitted - started, time.perf_counter() - fitted


def run(
    mnist: tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    digits: list[int] | None = None,
    seeds: int = 1,
    only: list[str] | None = None,
) -> dict[str, Any]:
    """Every method (or those named in ``only``) on every digit (each seeded one with
    ``seeds`` seeds), then the speed run; ROC-AUC and AP per digit and their means over
    digits (seeds averaged first)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    (X_train, y_train), (X_test, y_test) = mnist
    digits = list(range(10)) if digits is None else digits
    table, notes = methods()
    if only is not None:
        table = {name: table[name] for name in only}
    rows = []
    for digit in digits:
        X, n_others = one_class_split(X_train, y_train, digit)
        is_anomaly = y_test != digit
        row: dict[str, Any] = {"digit": digit, "train_images": len(X), "contamination": n_others}
        for name, (fit, score, seeded) in table.items():
            runs = []
            for seed in range(seeds if seeded else 1):
                scores, fit_s, score_s = _timed(fit, score, X, X_test, seed)
                runs.append(
                    {
                        "roc_auc": float(roc_auc_score(is_anomaly, scores)),
                        "ap": float(average_precision_score(is_anomaly, scores)),
                        "fit_seconds": fit_s,
                        "score_seconds": score_s,
                    }
                )
            row[name] = {k: statistics.mean(r[k] for r in runs) for k in runs[0]}
            print(f"digit {digit} {name}: {row[name]}", flush=True)
        rows.append(row)
    means = {
        name: {k: statistics.mean(r[name][k] for r in rows) for k in rows[0][name]}
        for name in table
    }
    speed = {}
    X8 = X_train[:SPEED_IMAGES]
    for name, (fit, score, _) in table.items():
        _, fit_s, score_s = _timed(fit, score, X8, X8, 0)
        speed[name] = {"fit_seconds": fit_s, "score_seconds": score_s, "seconds": fit_s + score_s}
        print(f"speed {name}: {speed[name]}", flush=True)
    return {
        "digits": digits,
        "seeds": seeds,
        "kind": KIND,
        "contamination": CONTAMINATION,
        "test_images": len(X_test),
        "rows": rows,
        "means": means,
        "speed": speed,
        "speed_images": len(X8),
        "notes": notes,
    }


def means_over(result: dict[str, Any], digits: tuple[int, ...]) -> dict[str, dict[str, float]]:
    """Each method's mean ROC-AUC and AP over the rows of ``digits`` (those run)."""
    rows = [row for row in result["rows"] if row["digit"] in digits]
    if not rows:
        return {}
    return {
        name: {k: statistics.mean(row[name][k] for row in rows) for k in ("roc_auc", "ap")}
        for name in result["means"]
    }


def held_out(result: dict[str, Any]) -> tuple[int, ...]:
    """The digits run that the image defaults were not chosen on."""
    return tuple(d for d in result["digits"] if d not in CHOSEN_ON)


def bars(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 19's image bars: mean ROC-AUC and AP above every other method's, and the
    8,000-image fit and score within ``BAR_SECONDS``."""
    means = result["means"]
    ours = means["aekit conv"]
    unseen = means_over(result, held_out(result))
    out = []
    for metric, label in (("roc_auc", "ROC-AUC"), ("ap", "AP")):
        others = {m: v[metric] for m, v in means.items() if m != "aekit conv"}
        best = max(others, key=others.get)  # type: ignore[arg-type]
        n_digits = len(result["digits"])
        measured = (
            f"{ours[metric]:.3f} vs best other ({best}) {others[best]:.3f} ({n_digits} digits)"
        )
        if unseen:
            rest = max(v[metric] for m, v in unseen.items() if m != "aekit conv")
            measured += f"; digits not chosen on: {unseen['aekit conv'][metric]:.3f} vs {rest:.3f}"
        out.append(
            {
                "bar": f"MNIST one-class: the conv detector's mean {label} above every other "
                "method's",
                "measured": measured,
                "pass": len(result["digits"]) == 10 and ours[metric] > others[best],
            }
        )
    seconds = result["speed"]["aekit conv"]["seconds"]
    out.append(
        {
            "bar": f"the conv detector fits and scores {SPEED_IMAGES:,} images within "
            f"{BAR_SECONDS:.0f} s",
            "measured": f"{seconds:.1f} s ({result['speed_images']:,} images; IsolationForest "
            f"{result['speed']['IsolationForest']['seconds']:.1f} s)",
            "pass": result["speed_images"] >= SPEED_IMAGES and seconds < BAR_SECONDS,
        }
    )
    return out


def markdown(result: dict[str, Any]) -> str:
    names = list(result["means"])
    lines = [
        f"Each digit in turn normal, {result['contamination']:.0%} of the training images "
        f"other digits, scored on the {result['test_images']:,} test images "
        f"(bench/mnist_oneclass.py; aekit's member kind `{result['kind']}`; seeded methods "
        f"averaged over {result['seeds']} seed(s)). ROC-AUC / AP:",
        "",
        "| digit | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for row in result["rows"]:
        cells = [f"{row[n]['roc_auc']:.3f} / {row[n]['ap']:.3f}" for n in names]
        lines.append(f"| {row['digit']} | " + " | ".join(cells) + " |")
    means = result["means"]
    lines.append(
        "| **mean** | "
        + " | ".join(f"**{means[n]['roc_auc']:.3f} / {means[n]['ap']:.3f}**" for n in names)
        + " |"
    )
    unseen = means_over(result, held_out(result))
    if unseen:
        digits = ", ".join(str(d) for d in held_out(result))
        lines.append(
            f"| mean of {digits} (not chosen on) | "
            + " | ".join(f"{unseen[n]['roc_auc']:.3f} / {unseen[n]['ap']:.3f}" for n in names)
            + " |"
        )
    lines += [
        "",
        "aekit's image defaults (`IMAGE_DETECTION_DEFAULTS`: one scaling range, a 16-value "
        "code straight from (8, 16) maps, and one error scale for all pixels) were chosen on "
        f"digits {', '.join(str(d) for d in CHOSEN_ON)}; the row above averages the others.",
    ]
    lines += [
        "",
        f"Fit and score of {result['speed_images']:,} training images (seconds):",
        "",
        "| method | fit s | score s | total s |",
        "|---|---:|---:|---:|",
    ]
    for name, s in result["speed"].items():
        lines.append(
            f"| {name} | {s['fit_seconds']:.2f} | {s['score_seconds']:.2f} | {s['seconds']:.2f} |"
        )
    return "\n".join(lines + [f"\nnote: {n}" for n in result["notes"]])


def main() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import data_dir

    from aekit.datasets import load_mnist

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder holding mnist/mnist.npz (default $AEKIT_DATA)")
    parser.add_argument("--digits", default="0,1,2,3,4,5,6,7,8,9")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    mnist = load_mnist(data_dir(args.data) / "mnist" / "mnist.npz", images=True)
    result = run(mnist, [int(d) for d in args.digits.split(",")], args.seeds)
    print(markdown(result))
    for bar in bars(result):
        print(("PASS " if bar["pass"] else "FAIL ") + f"{bar['bar']}: {bar['measured']}")
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
