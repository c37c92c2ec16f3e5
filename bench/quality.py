"""Reconstruction quality after a fixed number of epochs (aekit dense and conv vs PCA at
latent sizes 2, 8, 32 on MNIST) and latent structure (k-NN accuracy of 2-D codes vs PCA's).

Each aekit model trains with its kind's defaults on the training images for the same number of
epochs (no early stopping) and is scored on the test images; each conv model's seconds per
epoch and parameter count are recorded beside its error.

    python bench/quality.py --epochs 10 --seeds 3     # the figures in docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_dir, median_spread

from aekit import Autoencoder
from aekit.datasets import load_mnist

KINDS = ("dense", "conv")
EPOCHS = 10  # the full run's epochs per model (the bars allow up to 20)


def fit_for(kind: str, latent: int, X: np.ndarray, epochs: int, seed: int) -> Autoencoder:
    """The kind's defaults, trained for exactly ``epochs`` epochs."""
    return Autoencoder(
        kind, latent_dim=latent, max_epochs=epochs, patience=None, random_state=seed
    ).fit(X)


def run(
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    epochs: int,
    latents: tuple[int, ...] = (2, 8, 32),
    seeds: tuple[int, ...] = (0,),
) -> dict[str, Any]:
    """Held-out MSE per latent size and model (lists over seeds), seconds per epoch and
    parameter count, and the 2-D k-NN accuracy."""
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
        for kind in KINDS:
            data, test_data = (flat_train, flat_test) if kind == "dense" else (X_train, X_test)
            for seed in seeds:
                model = fit_for(kind, latent, data, epochs, seed)
                error = float(np.mean((model.reconstruct(test_data) - test_data) ** 2))
                row.setdefault(f"aekit {kind}", []).append(error)
                row.setdefault(f"aekit {kind} s/epoch", []).append(
                    model.history_.fit_seconds / model.history_.n_epochs
                )
                row[f"aekit {kind} parameters"] = sum(p.numel() for p in model.model_.parameters())
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
                if k in ("PCA", *(f"aekit {kind}" for kind in KINDS))
            ),
            flush=True,
        )
    return {
        "epochs": epochs,
        "train_images": len(X_train),
        "test_images": len(X_test),
        "seeds": list(seeds),
        "mse": rows,
        "knn_2d": knn,
    }


def knn_accuracy(
    z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray, y_test: np.ndarray
) -> float:
    """Test accuracy of a 5-nearest-neighbour classifier on codes."""
    return float(KNeighborsClassifier(n_neighbors=5).fit(z_train, y_train).score(z_test, y_test))


def markdown(result: dict[str, Any]) -> str:
    def cell(values: list[float], reference: float) -> str:
        return f"{median_spread(values, 5)} | {statistics.median(values) / reference:.2f}"

    lines = [
        f"Held-out MSE on the {result['test_images']:,} MNIST test images; each aekit model "
        f"trained with its kind's defaults for {result['epochs']} epochs on "
        f"{result['train_images']:,} training images; median (min-max) over seeds "
        f"{result['seeds']}.",
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
    lines += [
        "",
        "Cost of an epoch (seconds, median over every model trained) and size:",
        "",
        "| model | latent | parameters | s/epoch |",
        "|---|---|---|---|",
    ]
    for row in result["mse"]:
        for kind in KINDS:
            seconds = row[f"aekit {kind} s/epoch"]
            lines.append(
                f"| aekit {kind} | {row['latent']} | {row[f'aekit {kind} parameters']:,} "
                f"| {median_spread(seconds, 1)} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="epochs per model")
    parser.add_argument("--train-size", type=int, default=60000)
    parser.add_argument("--seeds", type=int, default=1, help="train each model with seeds 0..N-1")
    args = parser.parse_args()
    (X_train, y_train), test = load_mnist(data_dir(args.data) / "mnist" / "mnist.npz")
    train = (X_train[: args.train_size], y_train[: args.train_size])
    print(markdown(run(train, test, args.epochs, seeds=tuple(range(args.seeds)))))


if __name__ == "__main__":
    main()
