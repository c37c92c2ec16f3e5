"""Training speed on the classic 784-128-64-32 network: aekit, Keras 3 (torch backend) and a
minimal PyTorch loop, next to the compute floor implied by this machine's matmul throughput.

Each round times every contender for ``epochs`` epochs, in turn, so that all see the same
machine load; figures are medians over rounds with their spread.

    python bench/speed.py --repeats 3 --epochs 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_dir, median_spread
from classic_mnist import aekit_classic, minimal_loop

from aekit.datasets import load_mnist

LAYERS = [(784, 128), (128, 64), (64, 32), (32, 64), (64, 128), (128, 784)]


def matmul_gflops(size: int = 1024, repeats: int = 20) -> float:
    """Measured float32 matmul throughput in GFLOP/s, best of ``repeats``."""
    a, b = torch.rand(size, size), torch.rand(size, size)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9


def epoch_gflop(n_samples: int) -> float:
    """Matmul work of one training epoch: forward, and twice that for backward."""
    per_sample = sum(2 * n_in * n_out for n_in, n_out in LAYERS)
    return 3 * per_sample * n_samples / 1e9


def keras_epoch(X: np.ndarray, epochs: int, seed: int) -> float:
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((784,))
    h = inputs
    for _, width in LAYERS[:-1]:
        h = keras.layers.Dense(width, activation="relu")(h)
    outputs = keras.layers.Dense(784, activation="sigmoid")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    model.fit(X[:512], X[:512], epochs=1, batch_size=256, verbose=0)  # build and warm up
    started = time.perf_counter()
    model.fit(X, X, epochs=epochs, batch_size=256, verbose=0, shuffle=True)
    return (time.perf_counter() - started) / epochs


def run(X_train: np.ndarray, repeats: int, epochs: int) -> dict[str, Any]:
    x_train = torch.from_numpy(X_train)
    try:
        import keras  # noqa: F401

        has_keras = True
    except ImportError:
        has_keras = False
        print("keras is not installed (pip install -e '.[bench]'): skipping it")
    times: dict[str, list[float]] = {"aekit": [], "minimal PyTorch loop": []}
    if has_keras:
        times["Keras 3 fit (torch backend)"] = []
    for r in range(repeats):
        times["minimal PyTorch loop"].append(minimal_loop(x_train, epochs, seed=r)[1])
        times["aekit"].append(aekit_classic(X_train, epochs, seed=r)[1])
        if has_keras:
            times["Keras 3 fit (torch backend)"].append(keras_epoch(X_train, epochs, seed=r))
    gflops = matmul_gflops()
    floor = epoch_gflop(len(X_train)) / gflops
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        rows.append(
            {
                "method": name,
                "seconds_per_epoch": median,
                "spread": [min(values), max(values)],
                "samples_per_second": len(X_train) / median,
                "x_floor": median / floor,
            }
        )
    return {
        "n_rows": len(X_train),
        "matmul_gflops": gflops,
        "floor_seconds": floor,
        "rows": rows,
        "repeats": repeats,
        "epochs_per_round": epochs,
        "threads": torch.get_num_threads(),
        "aekit_vs_minimal": statistics.median(times["aekit"])
        / statistics.median(times["minimal PyTorch loop"]),
        "keras_vs_aekit": (
            statistics.median(times["Keras 3 fit (torch backend)"])
            / statistics.median(times["aekit"])
        )
        if has_keras
        else None,
        "text": {name: median_spread(v) for name, v in times.items()},
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Measured float32 matmul throughput: {result['matmul_gflops']:.1f} GFLOP/s on "
        f"{result['threads']} threads; compute floor {result['floor_seconds']:.3f} s/epoch.",
        "",
        "| method | s/epoch, median (min-max) | samples/s | x floor |",
        "|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['method']} | {row['seconds_per_epoch']:.3f} "
            f"({row['spread'][0]:.3f}-{row['spread'][1]:.3f}) | "
            f"{row['samples_per_second']:,.0f} | {row['x_floor']:.1f} |"
        )
    lines.append("")
    lines.append(
        f"aekit / minimal loop = {result['aekit_vs_minimal']:.2f} (bar <= 1.0)"
        + (
            f"; Keras / aekit = {result['keras_vs_aekit']:.2f} (bar >= 2)"
            if result["keras_vs_aekit"]
            else ""
        )
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    (X_train, _), _ = load_mnist(data_dir(args.data) / "mnist" / "mnist.npz", images=False)
    print(markdown(run(X_train, args.repeats, args.epochs)))


if __name__ == "__main__":
    main()
