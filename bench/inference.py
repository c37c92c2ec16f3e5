"""Inference throughput: rows per second of ``transform`` and ``decision_function`` on
1M rows of 30-column tabular data, with each method's peak resident memory.

Every method runs in a fresh subprocess, so its peak memory is its own; the data (1M x 30
float32, 114 MiB) is generated there with a fixed seed. aekit's default detector scores by
each engine (``AEKIT_ENGINE``: onnxruntime, the default where installed, and torch).
References in the same run: PCA's ``transform``, IsolationForest's and PyOD's AutoEncoder's
``decision_function``, and the **matmul floor**: the detector's own networks reduced to
their matrix products (every member's linear layers, float32, no activation and no score),
timed in torch and in onnxruntime, the faster counting. Bar: 1,000,000 rows/s.

    python bench/inference.py --rows 1000000
    python bench/inference.py --profile     # where the default detector's time goes
    python bench/inference.py --agreement   # onnxruntime's scores against torch's, ADBench
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

METHODS = [
    "aekit transform",
    "aekit decision_function",
    "aekit decision_function (torch)",
    "matmul floor",
    "PCA transform",
    "IsolationForest decision_function",
    "PyOD AutoEncoder decision_function",
]
BAR_ROWS_PER_SECOND = 1_000_000
CALLS = ("transform", "decision_function")


def make_rows(n: int, seed: int = 0) -> np.ndarray:
    """Correlated Gaussian features (a 6-D signal mixed into 30 columns) plus noise."""
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((6, 30)).astype(np.float32)
    X = rng.standard_normal((n, 6), dtype=np.float32) @ mixing
    X += 0.1 * rng.standard_normal((n, 30), dtype=np.float32)
    return X


def fitted_detector(fit_rows: np.ndarray) -> Any:
    from aekit import AnomalyDetector

    return AnomalyDetector(random_state=0).set_params(estimator__max_epochs=5).fit(fit_rows)


class MatmulFloor:
    """The detector's networks as matrix products alone: each member's linear layers in
    order, float32, on the scaled rows (scaled here, untimed), in batches of 4,096 rows;
    by torch (over its threads) or onnxruntime (as the scoring engine runs: one batch per
    thread, as many batches at once as torch has threads), whichever is faster on the
    first 200,000 rows."""

    def __init__(self, detector: Any, X: np.ndarray) -> None:
        import torch

        self.torch = torch
        self.x = detector.network_inputs(X)
        self.layers = [
            [m.weight.detach().T.contiguous() for m in _linears(net)]
            for net in detector.score_module_.networks
        ]
        self.session = self._session()
        engines = ["torch"] + (["onnxruntime"] if self.session is not None else [])
        timed = []
        for engine in engines:
            self._products(self.x[:200_000], engine)  # warm up
            started = time.perf_counter()
            self._products(self.x[:200_000], engine)
            timed.append((time.perf_counter() - started, engine))
        self.engine = min(timed)[1]

    def _session(self) -> Any:
        try:
            import onnxruntime as ort

            model = floor_model(self.layers)
        except ImportError:
            return None
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # as the scoring engine: one batch per thread
        return ort.InferenceSession(model.SerializeToString(), options)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        x = self.x[: len(X)]
        self._products(x, self.engine)
        return x[:, 0]

    def _products(self, x: np.ndarray, engine: str) -> None:
        batch = 4096
        if engine == "onnxruntime":
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(self.torch.get_num_threads()) as pool:
                starts = range(0, len(x), batch)
                list(pool.map(lambda lo: self.session.run(None, {"x": x[lo : lo + batch]}), starts))
            return
        with self.torch.inference_mode():
            rows = self.torch.from_numpy(x)
            for lo in range(0, len(rows), batch):
                for weights in self.layers:
                    h = rows[lo : lo + batch]
                    for w in weights:
                        h = h @ w


def floor_model(layers: list[list[Any]]) -> Any:
    """An ONNX graph of each member's linear layers (``(in, out)`` weights) in order: one
    ``MatMul`` per layer, every member from the same input ``x``."""
    from onnx import TensorProto, helper, numpy_helper

    from aekit.export import OPSET

    nodes, inits, outputs = [], [], []
    for m, weights in enumerate(layers):
        h = "x"
        for j, w in enumerate(weights):
            name = f"w{m}_{j}"
            inits.append(numpy_helper.from_array(w.numpy(), name))
            nodes.append(helper.make_node("MatMul", [h, name], [f"h{m}_{j}"]))
            h = f"h{m}_{j}"
        outputs.append(helper.make_tensor_value_info(h, TensorProto.FLOAT, ["b", None]))
    n_in = layers[0][0].shape[0]
    graph = helper.make_graph(
        nodes,
        "floor",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", n_in])],
        outputs,
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def _linears(network: Any) -> list[Any]:
    """A network's linear layers in the order they compute (encoder, code, decoder)."""
    from torch import nn

    parts = (network.encoder, network.head, network.decoder)
    return [m for part in parts for m in part.modules() if isinstance(m, nn.Linear)]


def measure(method: str, n_rows: int, repeats: int = 3) -> dict[str, Any]:
    X = make_rows(n_rows)
    fit_rows = X[:20000]
    engine = None
    if method.startswith("aekit") or method == "matmul floor":
        if method.endswith("(torch)"):
            os.environ["AEKIT_ENGINE"] = "torch"
        detector = fitted_detector(fit_rows)
        model: Any = detector
        if method == "aekit transform":  # the codes of the detector's first member
            model = model.estimators_[0]
        elif method == "matmul floor":
            model = MatmulFloor(detector, X)
        else:
            engine = detector.scoring_engine
    elif method.startswith("PyOD"):
        from pyod.models.auto_encoder import AutoEncoder

        model = AutoEncoder(epoch_num=5, random_state=0, verbose=0).fit(fit_rows)
    elif method.startswith("PCA"):
        from sklearn.decomposition import PCA

        model = PCA(6, random_state=0).fit(fit_rows)
    else:
        from sklearn.ensemble import IsolationForest

        model = IsolationForest(random_state=0).fit(fit_rows)
    if method == "matmul floor":
        call = model
    else:
        call = getattr(model, next(w for w in method.split() if w in CALLS))
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
    if method == "matmul floor":
        engine = model.engine
    return {
        "method": method,
        "engine": engine,
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
        "| method | engine | rows/s | seconds | peak RSS before (MiB) | peak RSS (MiB) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        low, high = r["spread_seconds"]
        lines.append(
            f"| {r['method']} | {r.get('engine') or ''} | {r['rows_per_second']:,.0f} | "
            f"{r['seconds']:.2f} ({low:.2f}-{high:.2f}) | {r['rss_before_call_mib']:.0f} | "
            f"{r['peak_rss_mib']:.0f} |"
        )
    by_method = {r["method"]: r for r in results}
    if "matmul floor" in by_method and "aekit decision_function" in by_method:
        floor = by_method["matmul floor"]["rows_per_second"]
        default = by_method["aekit decision_function"]["rows_per_second"]
        lines += [
            "",
            f"The default detector's `decision_function` runs at {default / floor:.0%} of the "
            f"matmul floor's speed ({default:,.0f} against {floor:,.0f} rows/s); the bar is "
            f"{BAR_ROWS_PER_SECOND:,} rows/s.",
        ]
    return "\n".join(lines)


def profile(n_rows: int) -> str:
    """Where the default detector's ``decision_function`` time goes: validation and scaling
    (Python) against the scoring session, and the session's kernel time by operator."""
    import collections

    import onnxruntime as ort

    from aekit.export.runtime import score_graph

    X = make_rows(n_rows)
    detector = fitted_detector(X[:20000])
    started = time.perf_counter()
    x = detector.network_inputs(X)
    prepare = time.perf_counter() - started
    options = ort.SessionOptions()
    options.enable_profiling = True
    trace = Path(tempfile.mkdtemp(prefix="aekit-profile-"))
    options.profile_file_prefix = str(trace / "onnxruntime")
    options.intra_op_num_threads = 1  # as the engine runs each batch
    model = score_graph(detector.score_module_).SerializeToString()
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    started = time.perf_counter()
    for lo in range(0, len(x), 4096):
        session.run(None, {"x": x[lo : lo + 4096]})
    scoring = time.perf_counter() - started
    events = json.loads(Path(session.end_profiling()).read_text())
    shutil.rmtree(trace)
    kernels: collections.Counter[str] = collections.Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            kernels[event["args"]["op_name"]] += event["dur"]
    total = sum(kernels.values())
    lines = [
        f"{n_rows:,} rows: validation and scaling {prepare:.2f} s, the scoring session "
        f"{scoring:.2f} s on one thread (profiled); kernel time by operator:",
        "",
        "| operator | share |",
        "|---|---|",
    ]
    lines += [f"| {op} | {t / total:.1%} |" for op, t in kernels.most_common(12)]
    lines += ["", *ablation(detector, x[:200_000])]
    return "\n".join(lines)


def ablation(detector: Any, x: np.ndarray, repeats: int = 5) -> list[str]:
    """Microseconds per row on one thread (median of ``repeats``): the scoring graph, the
    same without its activations (``Tanh`` as ``Identity``), and the members' linear
    layers alone (the matmul floor's graph): what the activations and the score's own
    terms (distances, reductions) add to the products."""
    import onnx
    import onnxruntime as ort

    from aekit.export.runtime import score_graph

    def session(model: Any) -> Any:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        return ort.InferenceSession(model.SerializeToString(), options)

    graph = score_graph(detector.score_module_)
    linear = onnx.ModelProto()
    linear.CopyFrom(graph)
    for node in linear.graph.node:
        if node.op_type in ("Tanh", "Relu", "Sigmoid", "LeakyRelu", "Elu", "Selu", "Gelu"):
            node.op_type, node.domain = "Identity", ""
            del node.attribute[:]
    layers = [
        [m.weight.detach().T.contiguous() for m in _linears(net)]
        for net in detector.score_module_.networks
    ]
    sessions = {
        "scoring graph": session(graph),
        "without activations": session(linear),
        "linear layers alone (floor)": session(floor_model(layers)),
    }
    timed: dict[str, list[float]] = {name: [] for name in sessions}
    for _ in range(repeats):
        for name, s in sessions.items():
            started = time.perf_counter()
            for lo in range(0, len(x), 4096):
                s.run(None, {"x": x[lo : lo + 4096]})
            timed[name].append((time.perf_counter() - started) / len(x) * 1e6)
    lines = ["| one thread, 4,096-row batches | us per row |", "|---|---|"]
    lines += [f"| {name} | {statistics.median(t):.2f} |" for name, t in timed.items()]
    return lines


def agreement(data: Path) -> str:
    """The largest relative difference of each output between the two engines (float32
    onnxruntime against float64 torch) for a default detector (3 epochs) on each ADBench
    set (up to 20,000 rows), and how many ``is_anomaly`` flags differ. Relative to the
    larger of the value and 1e-3 of the set's largest, so that near-zero values do not
    inflate it."""
    names = ("anomaly_score", "relative_error", "code_distance", "hidden_distance")
    lines = ["| set | " + " | ".join(names) + " | flags differing |", "|---" * 6 + "|"]
    from aekit import AnomalyDetector

    for path in sorted((data / "adbench").glob("*.npz")):
        with np.load(path) as arrays:
            X = arrays["X"].astype(np.float32)[:20_000]
        detector = AnomalyDetector(random_state=0).set_params(estimator__max_epochs=3).fit(X)
        parts = {}
        for engine in ("onnxruntime", "torch"):
            os.environ["AEKIT_ENGINE"] = engine
            parts[engine] = detector.score_parts(X)
        os.environ.pop("AEKIT_ENGINE")
        fast, slow = parts["onnxruntime"], parts["torch"]
        worst = []
        for name in names:
            floor = np.maximum(np.abs(slow[name]), 1e-3 * np.abs(slow[name]).max())
            worst.append(float(np.max(np.abs(fast[name] - slow[name]) / floor)))
        flips = int((fast["is_anomaly"] != slow["is_anomaly"]).sum())
        cells = " | ".join(f"{w:.1e}" for w in worst)
        lines.append(f"| {path.stem} | {cells} | {flips} |")
        print(lines[-1], flush=True)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument(
        "--agreement", action="store_true", help="the engines' outputs compared on ADBench"
    )
    parser.add_argument(
        "--profile", action="store_true", help="where the default detector's time goes"
    )
    args = parser.parse_args()
    if args.profile:
        print(profile(args.rows))
        return
    if args.agreement:
        from _common import data_dir

        print(agreement(data_dir()))
        return
    if args.one:
        print(json.dumps(measure(args.one, args.rows, args.repeats)))
        return
    print(markdown(run(args.rows, args.repeats)))


if __name__ == "__main__":
    main()
