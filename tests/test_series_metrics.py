"""``aekit.metrics`` for series: VUS-PR against TSB-AD's own code, SKAB's scores, their errors."""

from __future__ import annotations

import doctest
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import f1_score

from aekit import metrics
from aekit.metrics import skab_scores, vus_pr

DATA = Path(__file__).parent / "data"
TOLERANCE = 1e-9


def load_generator() -> ModuleType:
    """``tests/data/make_vus_pr_reference.py``, which builds every case's labels and scores."""
    spec = importlib.util.spec_from_file_location(
        "make_vus_pr_reference", DATA / "make_vus_pr_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = load_generator()
STORED = json.loads((DATA / "vus_pr_reference.json").read_text())


def case(
    series: str, scores: str, sliding_window: int, n_thresholds: int = 250, **more: Any
) -> dict[str, Any]:
    fields = {"n": 1000, "seed": 0, "decimals": None} | more
    name = f"{series}, {scores}, window {sliding_window}, {n_thresholds} thresholds"
    return {
        "name": name,
        "series": series,
        "scores": scores,
        "sliding_window": sliding_window,
        "n_thresholds": n_thresholds,
        **fields,
    }


LIVE = [
    case("realKnownCause/nyc_taxi.csv", "zscore", 100),
    case("realKnownCause/nyc_taxi.csv", "random", 10, 50),
    case("realKnownCause/ambient_temperature_system_failure.csv", "random", 100, seed=1),
    case("realKnownCause/ec2_request_latency_system_failure.csv", "zscore", 100, 50, decimals=0),
    case("realKnownCause/machine_temperature_system_failure.csv", "zscore", 10),
    case("artificialWithAnomaly/art_daily_jumpsup.csv", "zscore", 0),
    case("runs", "noisy", 100, decimals=1),
    case("runs", "random", 10, 50, seed=3),
    case("point-start", "noisy", 100, seed=4),
    case("point-start", "random", 0, seed=5),
    case("point-end", "noisy", 10, 50, seed=6),
    case("point-end", "random", 100, decimals=1, seed=7),
]


def inputs(spec: dict[str, Any], request: pytest.FixtureRequest) -> tuple[np.ndarray, np.ndarray]:
    """A case's labels and scores; a NAB case skips where the shared data is missing."""
    if not spec["series"].endswith(".csv"):
        return GENERATOR.make_case(spec)
    data_dir: Path = request.getfixturevalue("data_dir")
    if not (data_dir / GENERATOR.NAB / spec["series"]).is_file():
        pytest.skip(f"NAB not found under {data_dir}")
    return GENERATOR.make_case(spec, data_dir)


@pytest.mark.parametrize("spec", LIVE, ids=[spec["name"] for spec in LIVE])
def test_vus_pr_equals_tsb_ad(spec: dict[str, Any], request: pytest.FixtureRequest) -> None:
    pytest.importorskip("TSB_AD.evaluation.basic_metrics", reason="TSB-AD is not installed")
    labels, scores = inputs(spec, request)
    window, n_thresholds = spec["sliding_window"], spec["n_thresholds"]
    expected = GENERATOR.tsb_ad_vus_pr(labels, scores, window, n_thresholds)
    assert vus_pr(labels, scores, window, n_thresholds) == pytest.approx(expected, abs=TOLERANCE)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")  # its F1s
def test_vus_pr_is_what_tsb_ad_get_metrics_reports() -> None:
    tsb_ad = pytest.importorskip("TSB_AD.evaluation.metrics", reason="TSB-AD is not installed")
    labels, scores = GENERATOR.make_case(case("runs", "noisy", 20, n=600, seed=8))
    reported = tsb_ad.get_metrics(scores, labels, slidingWindow=20)["VUS-PR"]
    assert vus_pr(labels, scores, sliding_window=20) == pytest.approx(reported, abs=TOLERANCE)


@pytest.mark.parametrize("spec", STORED["cases"], ids=[spec["name"] for spec in STORED["cases"]])
def test_vus_pr_equals_the_stored_tsb_ad_values(
    spec: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    assert STORED["tsb_ad_version"] == "1.5"
    labels, scores = inputs(spec, request)
    value = vus_pr(labels, scores, spec["sliding_window"], spec["n_thresholds"])
    assert value == pytest.approx(spec["vus_pr"], abs=TOLERANCE)


def test_vus_pr_takes_booleans_and_is_one_for_a_perfect_score_of_a_point() -> None:
    labels = np.zeros(50, dtype=bool)
    labels[20] = True
    assert vus_pr(labels, labels.astype(float), sliding_window=6) == 1.0
    assert vus_pr(labels, labels.astype(int), sliding_window=6) == vus_pr(
        labels.astype(int), labels, sliding_window=6
    )


def test_the_examples_run() -> None:
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for function in (vus_pr, skab_scores):
        for test in finder.find(function, globs=vars(metrics)):
            runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.attempted >= 9
    assert results.failed == 0


GOOD = np.array([0, 1, 1, 0, 0, 1, 0, 0])


@pytest.mark.parametrize(
    ("labels", "scores", "message"),
    [
        (GOOD, np.arange(7.0), r"scores has shape \(7,\) but labels has shape \(8,\)"),
        (
            GOOD,
            np.where(GOOD == 1, np.nan, 0.5),
            r"scores contains NaN or infinity at positions \[1, 2, 5\]",
        ),
        (np.array([0, 1, 2, 0]), np.arange(4.0), r"labels must hold only 0 and 1.*\[2\].*\[2\]"),
        (np.zeros(8), np.arange(8.0), "labels holds no anomaly"),
        (np.ones(8), np.arange(8.0), "labels marks all 8 points as anomalies"),
        (
            GOOD.reshape(2, 4),
            np.arange(8.0).reshape(2, 4),
            r"labels has shape \(2, 4\); expected a non-empty 1-D",
        ),
    ],
    ids=["lengths", "NaN score", "label 2", "no anomaly", "all anomalies", "2-D"],
)
def test_vus_pr_refuses_bad_input(labels: np.ndarray, scores: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        vus_pr(labels, scores)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"sliding_window": -1}, r"sliding_window=-1 must be an integer >= 0"),
        ({"sliding_window": 2.5}, r"sliding_window=2.5 must be an integer >= 0"),
        ({"n_thresholds": 0}, r"n_thresholds=0 must be an integer >= 1"),
        ({"n_thresholds": True}, r"n_thresholds=True must be an integer >= 1"),
    ],
)
def test_vus_pr_refuses_bad_settings(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        vus_pr(GOOD, np.arange(8.0), **settings)


def test_skab_scores_count_like_sklearn_and_by_hand() -> None:
    labels = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0])
    flags = np.array([0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0])
    # TP 3 (rows 7-9), FP 2 (rows 1 and 10), FN 1 (row 6), TN 6
    scores = skab_scores(labels, flags.astype(bool))
    assert list(scores) == ["f1", "far", "mar"]
    assert scores["f1"] == pytest.approx(f1_score(labels, flags))
    assert scores["f1"] == pytest.approx(2 * 3 / (2 * 3 + 2 + 1))
    assert scores["far"] == pytest.approx(100 * 2 / 8)
    assert scores["mar"] == pytest.approx(100 * 1 / 4)


def test_skab_scores_of_perfect_and_silent_detectors() -> None:
    labels = np.array([0, 1, 1, 0])
    assert skab_scores(labels, labels) == {"f1": 1.0, "far": 0.0, "mar": 0.0}
    assert skab_scores(labels, np.zeros(4)) == {"f1": 0.0, "far": 0.0, "mar": 100.0}


@pytest.mark.parametrize(
    ("labels", "flags", "message"),
    [
        ([0, 1, 0], [0, 1], "flags has 2 values but labels has 3"),
        ([0, 1, 0], [0, 2, 0], r"flags must hold only 0 and 1"),
        ([], [], r"labels has shape \(0,\); expected a non-empty 1-D"),
        ([0, 0, 0], [0, 1, 0], "labels holds no anomaly"),
        ([1, 1], [0, 1], "labels marks all 2 points as anomalies"),
        (["a", "b"], [0, 1], "labels has dtype <U1; expected 0 and 1"),
    ],
)
def test_skab_scores_refuses_bad_input(labels: list[Any], flags: list[Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        skab_scores(labels, flags)
