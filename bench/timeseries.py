"""Time series: aekit's TimeSeriesDetector against windowed IsolationForest and PCA.

Data: ``$AEKIT_DATA/timeseries`` (SKAB and NAB; see its README). Every comparison runs
aekit and the references in the same run, on the same series.

- **SKAB, its own protocol**: each of the 34 labelled experiments is fit on its first 400
  rows (fault-free) and flags the rest; F1, false-alarm rate (FAR, %) and missed-alarm rate
  (MAR, %) over all test rows together (``aekit.metrics.skab_scores``). aekit runs with its
  defaults and automatic threshold; the references see the same z-scored windows (aekit's
  window length), are scored at each window's centre and thresholded by the same rule
  (the 95th percentile of their training scores). Beside them, aekit's best F1 in
  hindsight: its scores thresholded at the multiple of its automatic threshold that the
  test labels favour most (``HINDSIGHT_FACTORS``), the most any one rescaling of its
  threshold could give.
- **NAB, unsupervised**: each labelled series is fit whole and scored; VUS-PR
  (``aekit.metrics.vus_pr``, TSB-AD's, sliding window 100) per series and on average, for
  aekit offline and causal (one fit, two scorers) and for IsolationForest and PCA on
  z-scored sliding windows of 100 scored at the window centre. Beside them, a perfect
  causal scorer: 1 from each labelled event (``combined_labels.json``) to the end of its
  window, 0 elsewhere (ties broken at random), the most a scorer can reach that sees no
  sign of an event before it happens. NAB centres each window on its event, so such a
  scorer can cover at most the second half of every window.
- **Speed**: fit and score throughput (timestamps per second) on 1M timestamps x 8
  channels (SKAB's anomaly-free run, tiled, plus noise), aekit against IsolationForest on
  the same windows.
- **Denoising signals**: SKAB's anomaly-free run; a ``TimeSeriesAutoencoder`` denoiser
  (Gaussian training noise of ``DENOISE_LEVEL`` standard deviations) fit on its first 60%,
  then the last 40% with that much Gaussian noise added is denoised; SNR (dB, against the
  clean series, per channel then averaged) of the noisy input, of ``denoise`` (with its
  default centred windows, and again with ``center_windows=False``) and of a centred
  moving average of the window's width, same run.
- **Streaming**: ``aekit score`` on a 10M-timestamp Parquet series of the same kind (a
  detector fit on its first 20,000 rows), in a child process: timestamps per second and
  peak resident memory (bar: under 1 GiB).

Defaults: one set for every series, aekit's own; they were chosen looking at these same
series (SKAB and the NAB series here), so the margins are in-sample.

    python -m bench --only timeseries
    python bench/timeseries.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

SKAB_TRAIN = 400  # SKAB's protocol: the first 400 rows of each experiment train
NAB_WINDOW = 100  # the references' windows on NAB, and VUS-PR's sliding window
SKAB_F1_BAR = 0.80
CAUSAL_MARGIN = 0.03  # causal VUS-PR within this of offline
SPEED_ROWS, SPEED_CHANNELS = 1_000_000, 8
STREAM_ROWS, STREAM_FIT_ROWS = 10_000_000, 20_000
DENOISE_LEVEL, DENOISE_WINDOW = 0.5, 32
STREAM_BAR_MIB = 1024.0
# multiples of aekit's automatic threshold tried for its SKAB F1 in hindsight (1 included)
HINDSIGHT_FACTORS = np.unique(np.r_[1.0, np.geomspace(0.5, 4.0, 64)])


def skab_experiments(folder: Path) -> list[tuple[str, Any, np.ndarray]]:
    """``(name, channels, labels)`` of SKAB's 34 labelled experiments."""
    import pandas as pd

    out = []
    for path in sorted((folder / "skab").glob("*/*.csv")):
        if path.parent.name == "anomaly-free":
            continue
        frame = pd.read_csv(path, sep=";", index_col="datetime", parse_dates=True)
        labels = frame.pop("anomaly").to_numpy().astype(np.int64)
        out.append((f"{path.parent.name}/{path.stem}", frame.drop(columns="changepoint"), labels))
    return out


def nab_series(folder: Path) -> list[tuple[str, Any, np.ndarray]]:
    """``(name, value column, labels)`` of the NAB series with anomaly windows."""
    import pandas as pd

    windows = json.loads((folder / "nab" / "combined_windows.json").read_text())
    out = []
    for name, spans in sorted(windows.items()):
        path = folder / "nab" / name
        if not spans or not path.is_file():
            continue
        frame = pd.read_csv(path, index_col="timestamp", parse_dates=True)
        labels = np.zeros(len(frame), np.int64)
        for start, end in spans:
            labels[(frame.index >= pd.Timestamp(start)) & (frame.index <= pd.Timestamp(end))] = 1
        out.append((name, frame[["value"]], labels))
    return out


def nab_events(folder: Path) -> dict[str, list[Any]]:
    """The labelled anomaly timestamps of each NAB series (``combined_labels.json``)."""
    import pandas as pd

    labels = json.loads((folder / "nab" / "combined_labels.json").read_text())
    return {name: [pd.Timestamp(t) for t in times] for name, times in labels.items()}


def perfect_causal(index: Any, labels: np.ndarray, events: list[Any], seed: int = 0) -> np.ndarray:
    """A perfect causal scorer's scores: 1 from each labelled event to the end of the
    anomaly window holding it, 0 elsewhere, plus a millionth of noise that breaks the ties
    at random (which raises VUS-PR over the tied scores)."""
    from aekit.data.windows import runs

    scores = np.zeros(len(labels))
    times, windows = np.asarray(index), runs(labels == 1)
    for event in events:
        row = int(np.searchsorted(times, np.datetime64(event)))
        for start, stop in windows:
            if start <= row < stop:
                scores[row:stop] = 1.0
    return scores + 1e-6 * np.random.default_rng(seed).random(len(scores))


def hindsight_f1(
    labels: list[np.ndarray], scores: list[np.ndarray], thresholds: list[float]
) -> dict[str, float]:
    """SKAB's pooled F1 with every threshold scaled by the ``HINDSIGHT_FACTORS`` factor the
    labels favour most: an upper bound on what rescaling the threshold can do."""
    from aekit.metrics import skab_scores

    y = np.concatenate(labels)
    best = {"f1": -1.0}
    for factor in HINDSIGHT_FACTORS:
        flags = np.concatenate([s > factor * t for s, t in zip(scores, thresholds, strict=True)])
        measured = skab_scores(y, flags)
        if measured["f1"] > best["f1"]:
            best = measured | {"factor": float(factor)}
    return best


def centred_window_scores(
    values: np.ndarray, window: int, score_windows: Any, train_rows: int | None = None
) -> np.ndarray:
    """A reference's per-timestamp scores: z-score each channel (on the training rows),
    pad the series by half a window at each end (edge values), and give each timestamp the
    score of the window centred on it. ``score_windows(train, all)`` fits on the training
    windows and scores all of them."""
    train = values if train_rows is None else values[:train_rows]
    mean, std = train.mean(0), train.std(0)
    z = (values - mean) / np.where(std > 0, std, 1.0)
    half = window // 2
    padded = np.concatenate([np.repeat(z[:1], half, 0), z, np.repeat(z[-1:], window - half - 1, 0)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, window, axis=0)
    flat = windows.reshape(len(windows), -1)
    fit_on = flat if train_rows is None else flat[:train_rows]
    return np.asarray(score_windows(fit_on, flat), np.float64)


def isolation_forest(seed: int) -> Any:
    from sklearn.ensemble import IsolationForest

    def score(train: np.ndarray, every: np.ndarray) -> np.ndarray:
        forest = IsolationForest(random_state=seed, n_jobs=1).fit(train)
        return -forest.score_samples(every)

    return score


def pca_error(train: np.ndarray, every: np.ndarray) -> np.ndarray:
    """Squared reconstruction error from the components that explain 90% of the variance."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=0.9, svd_solver="full").fit(train)
    back = pca.inverse_transform(pca.transform(every))
    return np.asarray(((every - back) ** 2).sum(1))


def run_skab(folder: Path, seed: int = 0, limit: int | None = None) -> dict[str, Any]:
    """SKAB's protocol for aekit and the references (see the module docstring)."""
    from aekit import TimeSeriesDetector
    from aekit.metrics import skab_scores

    experiments = skab_experiments(folder)[:limit]
    labels, flags = [], {"aekit": [], "IsolationForest": [], "PCA": []}
    seconds = dict.fromkeys(flags, 0.0)
    windows, aekit_scores, aekit_thresholds = [], [], []
    for _, frame, y in experiments:
        labels.append(y[SKAB_TRAIN:])
        started = time.perf_counter()
        detector = TimeSeriesDetector(random_state=seed).fit(frame.iloc[:SKAB_TRAIN])
        flags["aekit"].append(detector.predict(frame)[SKAB_TRAIN:] == -1)
        seconds["aekit"] += time.perf_counter() - started
        windows.append(detector.window_)
        aekit_scores.append(detector.anomaly_score(frame)[SKAB_TRAIN:])
        aekit_thresholds.append(detector.threshold_)
        values = frame.to_numpy(np.float64)
        for name, scorer in (("IsolationForest", isolation_forest(seed)), ("PCA", pca_error)):
            started = time.perf_counter()
            scores = centred_window_scores(values, detector.window_, scorer, SKAB_TRAIN)
            limit_score = np.quantile(scores[:SKAB_TRAIN], 0.95)
            flags[name].append(scores[SKAB_TRAIN:] > limit_score)
            seconds[name] += time.perf_counter() - started
    y_all = np.concatenate(labels)
    methods = {
        name: skab_scores(y_all, np.concatenate(f)) | {"seconds": seconds[name]}
        for name, f in flags.items()
    }
    for name, m in methods.items():
        print(f"SKAB {name}: F1 {m['f1']:.3f} FAR {m['far']:.1f}% MAR {m['mar']:.1f}%", flush=True)
    hindsight = hindsight_f1(labels, aekit_scores, aekit_thresholds)
    print(
        f"SKAB aekit, threshold x {hindsight['factor']:.2f} chosen in hindsight on the test "
        f"labels: F1 {hindsight['f1']:.3f} FAR {hindsight['far']:.1f}% MAR "
        f"{hindsight['mar']:.1f}%",
        flush=True,
    )
    return {
        "experiments": len(experiments),
        "test_rows": len(y_all),
        "windows": sorted(set(windows)),
        "methods": methods,
        "hindsight": hindsight,
    }


def run_nab(folder: Path, seed: int = 0, limit: int | None = None) -> dict[str, Any]:
    """NAB, unsupervised: VUS-PR per series of aekit (offline, causal) and the references."""
    from aekit import TimeSeriesDetector
    from aekit.metrics import vus_pr

    per_series: dict[str, dict[str, float]] = {}
    seconds = {"aekit": 0.0, "IsolationForest": 0.0, "PCA": 0.0}
    events = nab_events(folder)
    for name, frame, y in nab_series(folder)[:limit]:
        started = time.perf_counter()
        detector = TimeSeriesDetector(random_state=seed).fit(frame)
        offline = detector.anomaly_score(frame)
        seconds["aekit"] += time.perf_counter() - started
        causal = detector.scorer("causal")
        live = np.concatenate([causal.update(frame)["anomaly_score"], causal.finish()[0]])
        row = {
            "window": float(detector.window_),
            "aekit": vus_pr(y, offline, NAB_WINDOW),
            "aekit causal": vus_pr(y, live, NAB_WINDOW),
        }
        values = frame.to_numpy(np.float64)
        for method, scorer in (("IsolationForest", isolation_forest(seed)), ("PCA", pca_error)):
            started = time.perf_counter()
            row[method] = vus_pr(y, centred_window_scores(values, NAB_WINDOW, scorer), NAB_WINDOW)
            seconds[method] += time.perf_counter() - started
        ceiling = perfect_causal(frame.index, y, events[name], seed)
        row["perfect causal"] = vus_pr(y, ceiling, NAB_WINDOW)
        per_series[name] = row
        shown = ", ".join(f"{k} {v:.3f}" for k, v in row.items() if k != "window")
        print(f"NAB {name} (window {detector.window_}): {shown}", flush=True)
    methods = ("aekit", "aekit causal", "IsolationForest", "PCA", "perfect causal")
    means = {m: float(np.mean([r[m] for r in per_series.values()])) for m in methods}
    return {"series": per_series, "mean_vus_pr": means, "seconds": seconds}


def speed_series(folder: Path, n_rows: int, seed: int = 0) -> np.ndarray:
    """SKAB's anomaly-free run tiled to ``n_rows`` with a little noise, float32."""
    import pandas as pd

    path = folder / "skab" / "anomaly-free" / "anomaly-free.csv"
    base = pd.read_csv(path, sep=";", index_col="datetime").to_numpy(np.float64)
    tiled = np.resize(base, (n_rows, base.shape[1]))
    noise = np.random.default_rng(seed).normal(0, 0.01, tiled.shape) * base.std(0)
    return (tiled + noise).astype(np.float32)


def run_speed(folder: Path, n_rows: int = SPEED_ROWS, seed: int = 0) -> dict[str, Any]:
    """Fit and score timestamps per second, aekit and IsolationForest on the same windows."""
    from aekit import TimeSeriesDetector

    X = speed_series(folder, n_rows, seed)
    out: dict[str, Any] = {"rows": n_rows, "channels": int(X.shape[1])}
    started = time.perf_counter()
    detector = TimeSeriesDetector(random_state=seed).fit(X)
    fitted = time.perf_counter()
    detector.anomaly_score(X)
    done = time.perf_counter()
    out["window"] = int(detector.window_)
    out["aekit"] = {"fit_seconds": fitted - started, "score_seconds": done - fitted}
    started = time.perf_counter()
    centred_window_scores(X.astype(np.float64), detector.window_, isolation_forest(seed))
    out["IsolationForest"] = {"seconds": time.perf_counter() - started}
    a = out["aekit"]
    a["fit_rows_per_s"] = n_rows / a["fit_seconds"]
    a["score_rows_per_s"] = n_rows / a["score_seconds"]
    forest = out["IsolationForest"]
    forest["rows_per_s"] = n_rows / forest["seconds"]
    print(
        f"speed: aekit fit {a['fit_rows_per_s']:,.0f} timestamps/s, score "
        f"{a['score_rows_per_s']:,.0f}/s; IsolationForest fit and score "
        f"{forest['rows_per_s']:,.0f}/s",
        flush=True,
    )
    return out


def stream_file(folder: Path, path: Path, n_rows: int, chunk: int = 1_000_000) -> Path:
    """``speed_series`` rows written to Parquet chunk by chunk (bounded memory) with a
    ``step`` column, reused when it already has ``n_rows``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists() and pq.ParquetFile(path).metadata.num_rows == n_rows:
        return path
    names = [f"c{k}" for k in range(SPEED_CHANNELS)]
    partial = path.with_name(f".{path.name}.partial")
    schema = pa.schema([("step", pa.int64()), *[(n, pa.float32()) for n in names]])
    with pq.ParquetWriter(partial, schema) as writer:
        for start in range(0, n_rows, chunk):
            n = min(chunk, n_rows - start)
            values = speed_series(folder, n, seed=start)
            columns = {"step": np.arange(start, start + n)}
            columns |= {name: values[:, k] for k, name in enumerate(names)}
            writer.write_table(pa.table(columns, schema=schema), row_group_size=100_000)
    partial.replace(path)
    return path


def run_streaming(
    folder: Path, n_rows: int = STREAM_ROWS, out: Path | None = None
) -> dict[str, Any]:
    """``aekit score`` streaming a Parquet series: seconds, timestamps/s, peak memory."""
    import sys

    import pyarrow.parquet as pq

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import REPO
    from streaming import measured

    from aekit import TimeSeriesDetector

    out = out or REPO / "build"
    out.mkdir(parents=True, exist_ok=True)
    data = stream_file(folder, out / f"series-{n_rows}x{SPEED_CHANNELS}.parquet", n_rows)
    head = pq.ParquetFile(data).read_row_group(0).to_pandas().iloc[:STREAM_FIT_ROWS]
    model = out / "series-detector.safetensors"
    TimeSeriesDetector(time_column="step", random_state=0).fit(head).save(model)
    scores = out / "series-scores.parquet"
    command = [sys.executable, "-m", "aekit", "score", str(model), str(data), "-o", str(scores)]
    seconds, peak_mib, _ = measured([*command, "--quiet"])
    written = pq.ParquetFile(scores).metadata.num_rows
    if written != n_rows:
        raise RuntimeError(f"aekit score wrote {written} rows, not {n_rows}")
    result = {
        "rows": n_rows,
        "seconds": seconds,
        "rows_per_second": n_rows / seconds,
        "peak_rss_mib": peak_mib,
    }
    print(f"streaming: {result}", flush=True)
    return result


def snr_db(clean: np.ndarray, estimate: np.ndarray) -> float:
    """Mean over channels of 10 log10(signal variance / squared error), in dB."""
    signal = ((clean - clean.mean(0)) ** 2).sum(0)
    error = ((clean - estimate) ** 2).sum(0)
    return float(np.mean(10 * np.log10(signal / error)))


def run_denoising(folder: Path, seed: int = 0, epochs: int = 30) -> dict[str, Any]:
    """SNR of the noisy input, aekit's ``denoise`` and a moving average (see the docstring)."""
    import pandas as pd

    from aekit import TimeSeriesAutoencoder

    path = folder / "skab" / "anomaly-free" / "anomaly-free.csv"
    frame = pd.read_csv(path, sep=";", index_col="datetime", parse_dates=True)
    cut = int(len(frame) * 0.6)
    train, clean = frame.iloc[:cut], frame.iloc[cut:]
    rng = np.random.default_rng(seed)
    spread = train.std().to_numpy()
    noisy = clean + rng.normal(0, DENOISE_LEVEL, clean.shape) * spread
    member = TimeSeriesAutoencoder.default_estimator(
        latent_dim=16, noise="gaussian", noise_level=DENOISE_LEVEL, max_epochs=epochs
    )
    started = time.perf_counter()
    model = TimeSeriesAutoencoder(estimator=member, window=DENOISE_WINDOW, random_state=seed)
    denoised = model.fit(train).denoise(noisy)
    seconds = time.perf_counter() - started
    uncentred = model.set_params(center_windows=False).fit(train).denoise(noisy)
    smoothed = noisy.rolling(DENOISE_WINDOW, center=True, min_periods=1).mean()
    truth = clean.to_numpy()
    result = {
        "window": DENOISE_WINDOW,
        "noise_level": DENOISE_LEVEL,
        "noisy_db": snr_db(truth, noisy.to_numpy()),
        "aekit_db": snr_db(truth, denoised.to_numpy()),
        "aekit_uncentred_db": snr_db(truth, uncentred.to_numpy()),
        "moving_average_db": snr_db(truth, smoothed.to_numpy()),
        "seconds": seconds,
    }
    result["gain_over_moving_average_db"] = result["aekit_db"] - result["moving_average_db"]
    print(f"denoising: {result}", flush=True)
    return result


def run(folder: Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Every comparison of the module docstring (``quick``: a few series, 50k rows)."""
    return {
        "skab": run_skab(folder, seed, limit=4 if quick else None),
        "nab": run_nab(folder, seed, limit=3 if quick else None),
        "speed": run_speed(folder, 50_000 if quick else SPEED_ROWS, seed),
        "denoising": run_denoising(folder, seed, epochs=3 if quick else 30),
        "streaming": run_streaming(folder, 200_000 if quick else STREAM_ROWS),
    }


def bars(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 15's bars that this run measures."""
    skab, hindsight = result["skab"]["methods"], result["skab"]["hindsight"]
    nab = result["nab"]["mean_vus_pr"]
    stream = result["streaming"]
    complete = result["skab"]["experiments"] == 34
    return [
        {
            "bar": f"SKAB (its protocol, all 34 experiments): aekit's F1 >= {SKAB_F1_BAR}",
            "measured": f"F1 {skab['aekit']['f1']:.3f} (FAR {skab['aekit']['far']:.1f}%, MAR "
            f"{skab['aekit']['mar']:.1f}%); IsolationForest {skab['IsolationForest']['f1']:.3f}, "
            f"PCA {skab['PCA']['f1']:.3f}; aekit's threshold rescaled in hindsight (x "
            f"{hindsight['factor']:.2f}, on the test labels): {hindsight['f1']:.3f}",
            "pass": complete and skab["aekit"]["f1"] >= SKAB_F1_BAR,
        },
        {
            "bar": "NAB: aekit's mean VUS-PR above IsolationForest's and PCA's",
            "measured": f"{nab['aekit']:.3f} vs {nab['IsolationForest']:.3f} and {nab['PCA']:.3f}",
            "pass": nab["aekit"] > max(nab["IsolationForest"], nab["PCA"]),
        },
        {
            "bar": f"aekit score streams a {STREAM_ROWS:,}-timestamp Parquet series under 1 GiB",
            "measured": f"{stream['peak_rss_mib']:.0f} MiB, {stream['rows_per_second']:,.0f} "
            f"timestamps/s ({stream['rows']:,} timestamps)",
            "pass": stream["rows"] >= STREAM_ROWS and stream["peak_rss_mib"] < STREAM_BAR_MIB,
        },
        {
            "bar": f"NAB: causal scoring's mean VUS-PR within {CAUSAL_MARGIN} of offline",
            "measured": f"{nab['aekit causal']:.3f} vs {nab['aekit']:.3f}; a perfect causal "
            f"scorer (from each labelled event to its window's end): {nab['perfect causal']:.3f}",
            "pass": nab["aekit"] - nab["aekit causal"] <= CAUSAL_MARGIN,
        },
    ]


def markdown(result: dict[str, Any]) -> str:
    skab, nab, speed = result["skab"], result["nab"], result["speed"]
    lines = [
        f"SKAB, its protocol: {skab['experiments']} experiments, {skab['test_rows']:,} test "
        f"rows (aekit's automatic windows: {skab['windows']}):",
        "",
        "| method | F1 | FAR % | MAR % | seconds |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, m in skab["methods"].items():
        lines.append(
            f"| {name} | {m['f1']:.3f} | {m['far']:.1f} | {m['mar']:.1f} | {m['seconds']:.1f} |"
        )
    h = skab["hindsight"]
    lines.append(
        f"| aekit, threshold x {h['factor']:.2f} chosen on the test labels (hindsight) | "
        f"{h['f1']:.3f} | {h['far']:.1f} | {h['mar']:.1f} | |"
    )
    methods = list(nab["mean_vus_pr"])
    lines += [
        "",
        f"NAB, unsupervised (fit on the whole series), VUS-PR (sliding window {NAB_WINDOW}); "
        "perfect causal: 1 from each labelled event to its window's end, the most a scorer "
        "that sees no sign before an event can reach:",
        "",
        "| series | window | " + " | ".join(methods) + " |",
        "|---|---:|" + "---:|" * len(methods),
    ]
    for name, row in nab["series"].items():
        cells = " | ".join(f"{row[m]:.3f}" for m in methods)
        lines.append(f"| {name} | {row['window']:.0f} | {cells} |")
    means = " | ".join(f"**{nab['mean_vus_pr'][m]:.3f}**" for m in methods)
    lines.append(f"| mean | | {means} |")
    a, forest = speed["aekit"], speed["IsolationForest"]
    lines += [
        "",
        f"Speed on {speed['rows']:,} timestamps x {speed['channels']} channels (window "
        f"{speed['window']}): aekit fit {a['fit_rows_per_s']:,.0f} timestamps/s "
        f"({a['fit_seconds']:.1f} s), score {a['score_rows_per_s']:,.0f}/s "
        f"({a['score_seconds']:.1f} s); IsolationForest on the same windows, fit and score, "
        f"{forest['rows_per_s']:,.0f}/s ({forest['seconds']:.1f} s).",
    ]
    if "denoising" in result:
        d = result["denoising"]
        lines += [
            "",
            f"Denoising SKAB's anomaly-free run (Gaussian noise of {d['noise_level']} standard "
            f"deviations; SNR in dB, mean over the 8 channels): noisy {d['noisy_db']:.2f}, "
            f"aekit's denoise {d['aekit_db']:.2f} (with uncentred windows, "
            f"`center_windows=False`: {d['aekit_uncentred_db']:.2f}), moving average of "
            f"{d['window']} steps {d['moving_average_db']:.2f}: "
            f"{d['gain_over_moving_average_db']:+.2f} dB for aekit ({d['seconds']:.0f} s to fit "
            f"and denoise).",
        ]
    if "streaming" in result:
        s = result["streaming"]
        lines += [
            "",
            f"`aekit score` streaming {s['rows']:,} timestamps x {SPEED_CHANNELS} channels from "
            f"Parquet: {s['seconds']:.1f} s ({s['rows_per_second']:,.0f} timestamps/s), peak "
            f"resident memory {s['peak_rss_mib']:.0f} MiB.",
        ]
    return "\n".join(lines)


def main() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import data_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="the shared data folder (default: $AEKIT_DATA)")
    parser.add_argument("--quick", action="store_true", help="a few series, 50k rows")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    result = run(data_dir(args.data) / "timeseries", quick=args.quick)
    print(markdown(result))
    for bar in bars(result):
        print(("PASS" if bar["pass"] else "FAIL"), bar["bar"], "-", bar["measured"])
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
