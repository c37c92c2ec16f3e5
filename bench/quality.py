"""Reconstruction quality at a fixed training budget (aekit dense and conv vs PCA at latent
sizes 2, 8, 32 on MNIST) and latent structure (k-NN accuracy of 2-D codes vs PCA's).

    python bench/quality.py --budget 30
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_dir, median_spread

from aekit import Autoencoder
from aekit.datasets import load_mnist


def fit_within(kind: str, latent: int, X: np.ndarray, budget: float, seed: int) -> Autoencoder:
    """Train for about ``budget`` seconds: one probe epoch sets the epoch count, so that the
    cosine schedule runs its full course inside the budget."""
    probe = Autoencoder(kind, latent_dim=latent, max_epochs=1, random_state=seed).fit(X)
    epochs = max(1, int(budget / probe.history_.fit_seconds))
    deadline = time.perf_counter() + budget * 1.2  # a hard stop if the machine slows down
    return Autoencoder(
        kind, latent_dim=latent, max_epochs=epochs, patience=None, random_state=seed
    ).fit(X, callbacks=[lambda h, m: time.perf_counter() > deadline])


def run(
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    budget: float,
    latents: tuple[int, ...] = (2, 8, 32),
    seeds: tuple[int, ...] = (0,),
) -> dict[str, Any]:
    """Held-out MSE per latent size and model (lists over seeds), and 2-D k-NN accuracy."""
    (X_train, y_train), (X_test, y_test) = train, test
    flat_train, flat_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
    rows, knn = [], {}
    for latent in latents:
        pca = PCA(latent, random_state=0).fit(flat_train)
        pca_mse = float(np.mean((pca.inverse_transform(pca.transform(flat_test)) - flat_test) ** 2))
        row: dict[str, Any] = {"latent": latent, "PCA": [pca_mse]}
        if latent == 2:
            knn["PCA"] = [
                knn_accuracy(pca.transform(flat_train), y_train, pca.transform(flat_test), y_test)
            ]
        for kind, data, test_data in (("dense", flat_train, flat_test), ("conv", X_train, X_test)):
            for seed in seeds:
                model = fit_within(kind, latent, data, budget, seed)
                error = float(np.mean((model.reconstruct(test_data) - test_data) ** 2))
                row.setdefault(f"aekit {kind}", []).append(error)
                row.setdefault(f"aekit {kind} epochs", []).append(model.history_.n_epochs)
                if latent == 2:
                    accuracy = knn_accuracy(
                        model.transform(data), y_train, model.transform(test_data), y_test
                    )
                    knn.setdefault(f"aekit {kind}", []).append(accuracy)
        rows.append(row)
        print(
            f"latent {latent}: "
            + ", ".join(
                f"{k} {statistics.median(v):.5f}"
                for k, v in row.items()
                if "epochs" not in k and isinstance(v, list)
            ),
            flush=True,
        )
    return {"budget_seconds": budget, "seeds": list(seeds), "mse": rows, "knn_2d": knn}


def knn_accuracy(
    z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray, y_test: np.ndarray
) -> float:
    """Test accuracy of a 5-nearest-neighbour classifier on codes."""
    return float(KNeighborsClassifier(n_neighbors=5).fit(z_train, y_train).score(z_test, y_test))


def markdown(result: dict[str, Any]) -> str:
    def cell(values: list[float], reference: float) -> str:
        return f"{median_spread(values, 5)} | {statistics.median(values) / reference:.2f}"

    lines = [
        f"Held-out MSE on the MNIST test images; each aekit model trained for about "
        f"{result['budget_seconds']:.0f} s; median (min-max) over seeds {result['seeds']}.",
        "",
        "| latent | PCA | aekit dense | x PCA | aekit conv | x PCA |",
        "|---|---|---|---|---|---|",
    ]
    for row in result["mse"]:
        pca = row["PCA"][0]
        lines.append(
            f"| {row['latent']} | {pca:.5f} | {cell(row['aekit dense'], pca)} | "
            f"{cell(row['aekit conv'], pca)} |"
        )
    lines += ["", "k-NN (k=5) test accuracy on 2-D codes:", "", "| codes | accuracy |", "|---|---|"]
    lines += [f"| {name} | {median_spread(acc, 3)} |" for name, acc in result["knn_2d"].items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per model")
    parser.add_argument("--train-size", type=int, default=60000)
    parser.add_argument("--seeds", type=int, default=1, help="train each model with seeds 0..N-1")
    args = parser.parse_args()
    (X_train, y_train), test = load_mnist(data_dir(args.data) / "mnist" / "mnist.npz")
    train = (X_train[: args.train_size], y_train[: args.train_size])
    print(markdown(run(train, test, args.budget, seeds=tuple(range(args.seeds)))))


if __name__ == "__main__":
    main()
