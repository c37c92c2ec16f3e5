"""Autoencoder features for a linear classifier: aekit's 32 codes vs 32 principal components.

Fits ``aekit.Autoencoder(latent_dim=32)`` (the dense kind with its defaults) and ``PCA(32)`` on
the same MNIST training images, without labels, then trains the same classifier
(standardisation + ``LogisticRegression``) on each set of 32 features and prints the test
accuracy of both.

    python examples/mnist_features.py           # 20,000 training images, 20 epochs (minutes)
    python examples/mnist_features.py --quick   # 1,000 images, 2 epochs: a smoke run (seconds)
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from aekit import Autoencoder
from aekit.datasets import load_mnist

N_FEATURES = 32


def accuracy(train_features, y_train, test_features, y_test) -> float:
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    classifier.fit(train_features, y_train)
    return float(classifier.score(test_features, y_test))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="mnist.npz or its folder (default: $AEKIT_DATA, ...)")
    parser.add_argument("--quick", action="store_true", help="a small subset and few epochs")
    args = parser.parse_args()
    n_train, n_test, epochs = (1_000, 500, 2) if args.quick else (20_000, 10_000, 20)
    default = Path(__file__).resolve().parents[2] / "shared" / "data"  # beside the repository
    data = args.data or (None if os.environ.get("AEKIT_DATA") else default)

    (X_train, y_train), (X_test, y_test) = load_mnist(data, images=False)
    X_train, y_train = X_train[:n_train], y_train[:n_train]
    X_test, y_test = X_test[:n_test], y_test[:n_test]
    print(
        f"MNIST: {len(X_train)} training images (labels for the classifier only), "
        f"{len(X_test)} test images; {N_FEATURES} features each"
    )

    started = time.perf_counter()
    ae = Autoencoder(latent_dim=N_FEATURES, max_epochs=epochs, random_state=0).fit(X_train)
    ae_accuracy = accuracy(ae.transform(X_train), y_train, ae.transform(X_test), y_test)
    print(
        f"aekit Autoencoder({N_FEATURES}) features: test accuracy {ae_accuracy:.4f} "
        f"({ae.n_epochs_} epochs, {time.perf_counter() - started:.0f} s)"
    )

    pca = PCA(N_FEATURES, random_state=0).fit(X_train)
    pca_accuracy = accuracy(pca.transform(X_train), y_train, pca.transform(X_test), y_test)
    print(f"PCA({N_FEATURES}) features: test accuracy {pca_accuracy:.4f}")
    print(f"difference (aekit - PCA): {ae_accuracy - pca_accuracy:+.4f}")


if __name__ == "__main__":
    main()
