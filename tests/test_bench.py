"""The benchmark command (``python -m bench``) on small slices: it runs, writes its files, and
judges its bars from the measured figures."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from aekit.datasets import load_mnist

REPO = Path(__file__).resolve().parents[1]
BENCH = [sys.executable, "-m", "bench"]


def bars(results: dict[str, Any]) -> list[dict[str, Any]]:
    """``bench/__main__.py``'s ``bars``, loaded by path (``bench`` is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_main", REPO / "bench" / "__main__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.bars(results)  # type: ignore[no-any-return]


STALE_SPEED = {  # an earlier run's section, kept when --only leaves it out
    "n_rows": 60000,
    "matmul_gflops": 100.0,
    "floor_seconds": 0.1,
    "threads": 2,
    "rows": [
        {
            "method": "aekit",
            "seconds_per_epoch": 0.5,
            "spread": [0.5, 0.5],
            "samples_per_second": 120000.0,
            "x_floor": 5.0,
        }
    ],
    "aekit_vs_minimal": 0.5,
    "keras_vs_aekit": None,
}


def test_quick_run_writes_json_markdown_and_figures(data_dir: Path, tmp_path: Path) -> None:
    earlier = {
        "machine": {"date": "2026-01-01", "commit": "abc1234", "command": "python -m bench"},
        "results": {"speed": STALE_SPEED, "denoising": {"stale": True}},
        "seconds": {"speed": 60.0, "denoising": 1.0},
        "plots": {},
        "measured": {
            name: {"date": "2026-01-01", "commit": "abc1234", "command": "python -m bench"}
            for name in ("speed", "denoising")
        },
    }
    (tmp_path / "benchmarks.json").write_text(json.dumps(earlier))
    env = {**os.environ, "AEKIT_DATA": str(data_dir), "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [*BENCH, "--quick", "--only", "quality,denoising", "--out", str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "benchmarks.json").read_text())
    assert set(report["results"]) == {"speed", "quality", "denoising"}
    assert report["results"]["speed"] == STALE_SPEED  # kept, and said to be older
    assert report["measured"]["speed"]["commit"] == "abc1234"
    assert report["measured"]["quality"]["commit"] != "abc1234"
    quality = report["results"]["quality"]
    assert [row["latent"] for row in quality["mse"]] == [2, 8]
    for row in quality["mse"]:  # real reconstructions: errors well inside MNIST's range
        assert 0.0 < row["PCA"][0] < 0.1
        assert 0.0 < row["aekit dense"][0] < 0.1
    assert 0.1 < quality["knn_2d"]["PCA"][0] < 1.0
    denoising = report["results"]["denoising"]["scores"]
    noisy = denoising["noisy input"]["psnr"][0]
    assert 5.0 < noisy < 12.0  # noise of std 0.5 on [0, 1] images
    assert denoising["aekit conv defaults, latent 32"]["psnr"][0] > noisy
    markdown = (tmp_path / "benchmarks.md").read_text()
    assert "## Bars" in markdown and "## Denoising" in markdown
    assert "measured 2026-01-01 at `abc1234`" in markdown  # the kept section says so
    assert "bench_quality.png" in markdown
    for name in ("quality", "denoising"):
        assert (tmp_path / f"bench_{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report["machine"]["torch"]


def test_unknown_section_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [*BENCH, "--only", "speed,nonsense", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "nonsense" in done.stderr
    assert not (tmp_path / "benchmarks.json").exists()


def test_bars_follow_the_measured_figures() -> None:
    results = {
        "speed": {"aekit_vs_minimal": 0.9, "keras_vs_aekit": 1.5},
        "anomaly": {
            "means": {
                "aekit": {"roc_auc": 0.85, "ap": 0.48, "total_seconds": 5.0},
                "IsolationForest": {"roc_auc": 0.83, "ap": 0.47, "total_seconds": 2.0},
                "PCA": {"roc_auc": 0.86, "ap": 0.30, "total_seconds": 0.1},
            },
            "mean_rank": {
                "aekit": {"roc_auc": 1.9, "ap": 1.5},
                "IsolationForest": {"roc_auc": 2.2, "ap": 1.8},
                "PCA": {"roc_auc": 1.8, "ap": 2.7},
            },
        },
    }
    verdicts = {bar["bar"]: bar["pass"] for bar in bars(results)}
    assert verdicts["aekit epoch time <= 1.0x the minimal PyTorch loop's"] is True
    assert verdicts["aekit at least 2x faster than Keras 3 fit"] is False
    anomaly = next(b for b in bars(results) if "ADBench ROC-AUC" in b["bar"])
    assert anomaly["pass"] is False and "PCA" in anomaly["measured"]
    assert verdicts["aekit's mean rank by ROC-AUC the best of every method's"] is False
    assert verdicts["aekit's mean rank by AP the best of every method's"] is True
    assert verdicts["aekit's mean ADBench AP above IsolationForest's"] is True
    timing = next(b for b in bars(results) if "within 3x" in b["bar"])
    assert timing["pass"] is True and timing["measured"].startswith("2.5x")


def test_issue_20_bars_follow_the_measured_figures() -> None:
    """The conv bars on their own sections (a denoising-only run once failed: statistics was
    imported in the quality branch only)."""
    denoising = {
        "denoising": {
            "scores": {"aekit conv defaults, latent 32": {"psnr": [19.9, 20.2], "ssim": [0.8]}},
            "psnr_gain_db": 3.0,
        }
    }
    verdicts = {bar["bar"]: bar["pass"] for bar in bars(denoising)}
    assert verdicts[next(b for b in verdicts if "at least 20 dB" in b)] is True  # median 20.05
    row = {
        "latent": 32,
        "PCA": [0.0168],
        "aekit dense": [0.0067],
        "aekit conv": [0.0030, 0.0050],
        "aekit conv s/epoch": [59.0, 63.0],
        "aekit conv parameters": 159236,
    }
    quality = {"mse": [row], "knn_2d": {"PCA": [0.42], "aekit dense": [0.78], "aekit conv": [0.70]}}
    verdicts = {bar["bar"]: bar["pass"] for bar in bars({"quality": quality})}
    assert verdicts["conv, latent 32: held-out MSE at most 0.25x PCA(32)'s and below dense's"]
    assert not verdicts["conv, latent 2: 5-NN accuracy of the codes above dense's"]
    assert not verdicts["conv: an MNIST epoch within 60 s on this machine"]  # median 61


def _bench_script(name: str) -> Any:
    """A script of ``bench/`` as a module (it imports its neighbours, so they are on the path)."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # as an import would: dataclasses look their module up
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "bench"))
    return module


def test_adbench_measures_each_method_per_seed_with_fit_and_score_times(
    data_dir: Path, tmp_path: Path
) -> None:
    adbench = _bench_script("anomaly_adbench")
    for name in ("14_glass", "45_wine"):
        (tmp_path / f"{name}.npz").symlink_to(data_dir / "adbench" / f"{name}.npz")
    methods = ["aekit", "IsolationForest", "PCA"]
    result = adbench.run(tmp_path, seeds=2, methods=methods, aekit_params={"n_estimators": 2})
    assert result["methods"] == methods and result["seeded"] == ["aekit", "IsolationForest"]
    for row in result["rows"]:
        for m in methods:
            assert 0.0 <= row[m]["ap"] <= 1.0 and 0.3 < row[m]["roc_auc"] <= 1.0
            assert row[m]["fit_seconds"] > 0 and row[m]["score_seconds"] > 0
        assert len(row["aekit"]["roc_auc_seeds"]) == 2 and "roc_auc_seeds" not in row["PCA"]
        assert row["aekit"]["roc_auc"] == np.mean(row["aekit"]["roc_auc_seeds"])
    ranks = result["mean_rank"]
    assert sum(r["roc_auc"] for r in ranks.values()) == 1 + 2 + 3  # ranks 1..3 on each set
    totals = {m: result["means"][m]["total_seconds"] for m in methods}
    assert totals["aekit"] > totals["PCA"] > 0
    text = adbench.markdown(result)
    assert "| aekit |" in text and "score s" in text and "mean of 2 seeds" in text
    verdicts = {bar["bar"] for bar in bars({"anomaly": result})}
    assert "aekit's mean ADBench AP above IsolationForest's" in verdicts
    try:
        adbench.run(tmp_path, methods=["aekit", "Nonsense"])
    except SystemExit as stop:
        assert "Nonsense" in str(stop)
    else:
        raise AssertionError("an unknown method name must stop the run")


def test_screening_reports_each_set_by_a_choice_made_without_it() -> None:
    screen = _bench_script("screen_adbench")
    sets = [f"{i}_set" for i in range(8)]
    # "lucky" owes its better mean AP to set 0 alone; "steady" is better on every other set
    figures = {
        "steady": {s: {"roc_auc": 0.8, "ap": 0.5} for s in sets},
        "lucky": {s: {"roc_auc": 0.7, "ap": 0.45} for s in sets},
    }
    figures["lucky"]["0_set"] = {"roc_auc": 1.0, "ap": 1.0}
    result = screen.cross_validate(figures, folds=4, criterion="ap")
    reported = [s for fold in result["folds"] for s in fold["reported_on"]]
    assert sorted(reported) == sets  # every set judged once
    for fold in result["folds"]:
        assert not set(fold["chosen_on"]) & set(fold["reported_on"])
        assert (fold["chosen"] == "lucky") == ("0_set" in fold["chosen_on"])
    in_sample = result["in_sample"]
    assert in_sample["lucky"]["ap"] == pytest.approx((1.0 + 7 * 0.45) / 8)  # best in sample
    assert in_sample["lucky"]["ap"] > in_sample["steady"]["ap"]
    # out of sample: lucky judged on six sets (0.45), steady on the fold holding set 0 (0.5)
    assert result["out_of_sample"]["ap"] == pytest.approx((6 * 0.45 + 2 * 0.5) / 8)


def test_large_table_hides_its_anomalies_in_the_columns_dependence() -> None:
    large = _bench_script("large_table")
    X, y = large.large_table(20_000)
    assert X.shape == (20_000, 10) and X.dtype == np.float32 and 150 < y.sum() < 250
    for column in range(10):  # every anomalous value lies in its column's usual range
        low, high = np.quantile(X[~y, column], [0.0005, 0.9995])
        assert np.mean((X[y, column] >= low) & (X[y, column] <= high)) > 0.97
    result = large.run(n_rows=20_000, repeats=1)
    assert set(result["methods"]) == {"aekit", "IsolationForest"}
    aekit = result["methods"]["aekit"]
    assert aekit["roc_auc"] > 0.9 and aekit["seconds"] > 0
    assert aekit["roc_auc"] > result["methods"]["IsolationForest"]["roc_auc"]
    bar = large.bar(result)
    assert not bar["pass"]  # a small table never passes the 600k-row bar
    assert "20,000 rows" in bar["measured"]


def test_timeseries_bench_compares_aekit_with_the_windowed_references(timeseries_dir: Path) -> None:
    bench = _bench_script("timeseries")
    experiments = bench.skab_experiments(timeseries_dir)
    assert len(experiments) == 34 and all(len(y) == len(f) for _, f, y in experiments)
    series = bench.nab_series(timeseries_dir)
    assert len(series) == 13 and all(0 < y.mean() < 0.5 for _, _, y in series)
    # a reference scores each timestamp by the window centred on it
    ramp = np.arange(20.0)[:, None]
    centre = bench.centred_window_scores(ramp, 5, lambda train, every: every[:, 2])
    np.testing.assert_allclose(centre, (ramp[:, 0] - ramp.mean()) / ramp.std())
    skab = bench.run_skab(timeseries_dir, limit=2)
    assert skab["experiments"] == 2 and set(skab["methods"]) == {"aekit", "IsolationForest", "PCA"}
    assert all(0 <= m["f1"] <= 1 and 0 <= m["far"] <= 100 for m in skab["methods"].values())
    # hindsight tries the automatic threshold itself (factor 1) among its rescalings
    assert skab["methods"]["aekit"]["f1"] <= skab["hindsight"]["f1"] <= 1
    # the perfect causal scorer flags from each event to the end of its window
    labels = np.zeros(10, np.int64)
    labels[2:8] = 1
    index = pd.date_range("2024-01-01", periods=10, freq="h")
    ceiling = bench.perfect_causal(index, labels, [index[5]])
    np.testing.assert_array_equal(ceiling.round(3), [0, 0, 0, 0, 0, 1, 1, 1, 0, 0])
    events = bench.nab_events(timeseries_dir)
    assert all(len(events[name]) >= 1 for name, _, _ in series)
    denoising = bench.run_denoising(timeseries_dir, epochs=1)
    measured = ("noisy_db", "aekit_db", "aekit_uncentred_db", "moving_average_db")
    assert np.isfinite([denoising[k] for k in measured]).all()
    speed = bench.run_speed(timeseries_dir, n_rows=20_000)
    assert speed["aekit"]["score_rows_per_s"] > 0 and speed["channels"] == 8
    nab = {
        "series": {},
        "mean_vus_pr": dict.fromkeys(
            ("aekit", "aekit causal", "IsolationForest", "PCA", "perfect causal"), 0.3
        ),
    }
    streaming = {"rows": 1000, "seconds": 1.0, "rows_per_second": 1000.0, "peak_rss_mib": 300.0}
    result = {"skab": skab, "nab": nab | {"seconds": {}}, "speed": speed, "streaming": streaming}
    result["denoising"] = denoising
    verdicts = bench.bars(result)
    assert not verdicts[0]["pass"]  # two experiments never pass the 34-experiment bar
    assert "SKAB" in bench.markdown(result) and "Denoising SKAB" in bench.markdown(result)


def test_mnist_one_class_mixes_ten_percent_others_and_bars_need_every_digit(
    data_dir: Path,
) -> None:
    oneclass = _bench_script("mnist_oneclass")
    (X_train, y_train), (X_test, y_test) = load_mnist(data_dir / "mnist" / "mnist.npz")
    X, n_others = oneclass.one_class_split(X_train[:1500], y_train[:1500], digit=3)
    own = int((y_train[:1500] == 3).sum())
    assert len(X) == own + n_others and n_others == round(own / 9)  # 10% of the result
    mnist = ((X_train[:1500], y_train[:1500]), (X_test[:400], y_test[:400]))
    result = oneclass.run(mnist, digits=[3], only=["aekit conv", "PCA"])
    row = result["rows"][0]
    for name in ("aekit conv", "PCA"):
        assert 0.6 < row[name]["roc_auc"] <= 1.0 and 0.8 < row[name]["ap"] <= 1.0
        assert result["speed"][name]["seconds"] > 0
    assert result["speed_images"] == 1500  # the slice, not 8,000: the bars then fail
    result["speed"]["IsolationForest"] = {"fit_seconds": 0.1, "score_seconds": 0.1, "seconds": 0.2}
    assert [bar["pass"] for bar in oneclass.bars(result)] == [False, False, False]
    assert "mean of 3 (not chosen on)" in oneclass.markdown(result)


def test_inference_profile_and_engine_agreement(data_dir: Path, tmp_path: Path) -> None:
    """``bench/inference.py --profile``'s ablation times the scoring graph against itself
    without activations and against the bare products; ``--agreement`` compares the
    engines' outputs set by set (here on one ADBench set)."""
    pytest.importorskip("onnxruntime")
    inference = _bench_script("inference")
    X = inference.make_rows(12_000)
    detector = inference.fitted_detector(X[:4_000])
    lines = inference.ablation(detector, detector.network_inputs(X), repeats=1)
    timed = {line.split(" | ")[0][2:]: float(line.split(" | ")[1][:-2]) for line in lines[2:]}
    assert set(timed) == {"scoring graph", "without activations", "linear layers alone (floor)"}
    assert all(t > 0 for t in timed.values())
    assert timed["linear layers alone (floor)"] < timed["scoring graph"]
    (tmp_path / "adbench").mkdir()
    (tmp_path / "adbench" / "29_Pima.npz").symlink_to(data_dir / "adbench" / "29_Pima.npz")
    table = inference.agreement(tmp_path).splitlines()
    assert len(table) == 3 and table[2].startswith("| 29_Pima |")
    *differences, flips = (cell.strip() for cell in table[2].strip("|").split("|")[1:])
    assert all(float(d) < 1e-5 for d in differences) and flips == "0"
    assert "AEKIT_ENGINE" not in os.environ
