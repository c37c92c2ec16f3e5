"""Reconstruction quality at a fixed training budget (aekit dense and conv vs PCA at latent
sizes 2, 8, 32 on MNIST) and latent structure (k-NN accuracy of 2-D codes vs PCA's).

    python bench/quality.py --budget 30
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_dir

from aekit import Autoencoder
from aekit.datasets import load_mnist


def fit_within(kind: str, latent: int, X: np.ndarray, budget: float) -> Autoencoder:
    """Train for about ``budget`` seconds: one probe epoch sets the epoch count, so that the
    cosine schedule runs its full course inside the budget."""
    probe = Autoencoder(kind, latent_dim=latent, max_epochs=1, random_state=0).fit(X)
    epochs = max(1, int(budget / probe.history_.fit_seconds))
    deadline = time.perf_counter() + budget * 1.2  # a hard stop if the machine slows down
    return Autoencoder(
        kind, latent_dim=latent, max_epochs=epochs, patience=None, random_state=0
    ).fit(X, callbacks=[lambda h, m: time.perf_counter() > deadline])


def run(
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    budget: float,
    latents: tuple[int, ...] = (2, 8, 32),
) -> dict[str, Any]:
    (X_train, y_train), (X_test, y_test) = train, test
    flat_train, flat_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
    rows, codes = [], {}
    for latent in latents:
        pca = PCA(latent, random_state=0).fit(flat_train)
        pca_mse = float(np.mean((pca.inverse_transform(pca.transform(flat_test)) - flat_test) ** 2))
        row: dict[str, Any] = {"latent": latent, "PCA": pca_mse}
        if latent == 2:
            codes["PCA"] = (pca.transform(flat_train), pca.transform(flat_test))
        for kind, data in (("dense", flat_train), ("conv", X_train)):
            model = fit_within(kind, latent, data, budget)
            test_data = flat_test if kind == "dense" else X_test
            row[f"aekit {kind}"] = float(np.mean((model.reconstruct(test_data) - test_data) ** 2))
            row[f"aekit {kind} epochs"] = model.history_.n_epochs
            row[f"aekit {kind} seconds"] = round(model.history_.fit_seconds, 1)
            if latent == 2:
                codes[f"aekit {kind}"] = (model.transform(data), model.transform(test_data))
        rows.append(row)
        print(
            f"latent {latent}: "
            + ", ".join(f"{k} {v:.5f}" for k, v in row.items() if isinstance(v, float)),
            flush=True,
        )
    knn = {}
    for name, (z_train, z_test) in codes.items():
        classifier = KNeighborsClassifier(n_neighbors=5).fit(z_train, y_train)
        knn[name] = float(classifier.score(z_test, y_test))
    return {"budget_seconds": budget, "mse": rows, "knn_2d": knn}


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Held-out MSE on the 10k MNIST test images; each aekit model trained for about "
        f"{result['budget_seconds']:.0f} s.",
        "",
        "| latent | PCA | aekit dense | x PCA | aekit conv | x PCA |",
        "|---|---|---|---|---|---|",
    ]
    for row in result["mse"]:
        lines.append(
            f"| {row['latent']} | {row['PCA']:.5f} | {row['aekit dense']:.5f} | "
            f"{row['aekit dense'] / row['PCA']:.2f} | {row['aekit conv']:.5f} | "
            f"{row['aekit conv'] / row['PCA']:.2f} |"
        )
    lines += ["", "k-NN (k=5) test accuracy on 2-D codes:", "", "| codes | accuracy |", "|---|---|"]
    lines += [f"| {name} | {acc:.3f} |" for name, acc in result["knn_2d"].items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per model")
    parser.add_argument("--train-size", type=int, default=60000)
    args = parser.parse_args()
    (X_train, y_train), test = load_mnist(data_dir(args.data) / "mnist" / "mnist.npz")
    train = (X_train[: args.train_size], y_train[: args.train_size])
    print(markdown(run(train, test, args.budget)))


if __name__ == "__main__":
    main()
