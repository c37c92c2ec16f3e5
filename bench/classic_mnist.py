"""aekit vs a minimal hand-written PyTorch loop on the classic 784-128-64-32 MNIST autoencoder.

Prints, in one run: seconds per epoch of ``aekit.Autoencoder`` and of a minimal loop on the
same network (ReLU, sigmoid output, Adam lr 1e-3, binary cross-entropy, batch 256), measured
in alternation so that both see the same machine load; their test MSE after ``--epochs``
epochs next to PCA(32)'s; and the test MSE and seconds per epoch of
``aekit.Autoencoder(latent_dim=32)`` with its own defaults.

    python bench/classic_mnist.py            # full: 20 epochs each (about 6 minutes on 2 cores)
    python bench/classic_mnist.py --epochs 2 --repeats 1   # smoke run
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_dir, median_spread

from aekit import Autoencoder
from aekit.datasets import load_mnist

CLASSIC = {  # the seed network, expressed as aekit parameters
    "kind": "dense",
    "model_params": {"hidden_dims": (128, 64)},
    "latent_dim": 32,
    "activation": "relu",
    "latent_activation": "relu",
    "loss": "bce",
    "batch_size": 256,
    "learning_rate": 1e-3,
    "lr_schedule": "constant",
    "validation_fraction": 0.0,  # the minimal loop trains on all 60k too
    "patience": None,
    "device": "cpu",
}


def minimal_loop(x_train: torch.Tensor, epochs: int, seed: int) -> tuple[nn.Module, float]:
    """What a user writes by hand; returns the model and seconds per epoch."""
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(784, 128),
        nn.ReLU(),
        nn.Linear(128, 64),
        nn.ReLU(),
        nn.Linear(64, 32),
        nn.ReLU(),
        nn.Linear(32, 64),
        nn.ReLU(),
        nn.Linear(64, 128),
        nn.ReLU(),
        nn.Linear(128, 784),
        nn.Sigmoid(),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCELoss()
    started = time.perf_counter()
    for _ in range(epochs):
        for index in torch.randperm(len(x_train)).split(256):
            x = x_train[index]
            loss = loss_fn(model(x), x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval(), (time.perf_counter() - started) / epochs


def aekit_classic(X_train: np.ndarray, epochs: int, seed: int) -> tuple[Autoencoder, float]:
    ae = Autoencoder(**CLASSIC, max_epochs=epochs, random_state=seed).fit(X_train)
    return ae, ae.history_.fit_seconds / ae.history_.n_epochs


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a - b) ** 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="folder holding mnist/mnist.npz (default: $AEKIT_DATA)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3, help="alternating timing rounds")
    parser.add_argument("--timing-epochs", type=int, default=2)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()

    (X_train, _), (X_test, _) = load_mnist(
        data_dir(args.data) / "mnist" / "mnist.npz", images=False
    )
    x_train, x_test = torch.from_numpy(X_train), torch.from_numpy(X_test)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"MNIST {X_train.shape[0]} train / {X_test.shape[0]} test"
    )

    # 1. speed: alternate short runs so both sides see the same load
    t_aekit, t_loop = [], []
    for r in range(args.repeats):
        t_loop.append(minimal_loop(x_train, args.timing_epochs, seed=r)[1])
        t_aekit.append(aekit_classic(X_train, args.timing_epochs, seed=r)[1])
    ratio = statistics.median(t_aekit) / statistics.median(t_loop)

    # 2. quality after the full budget
    pca = PCA(32, random_state=0).fit(X_train)
    pca_mse = mse(pca.inverse_transform(pca.transform(X_test)), X_test)
    loop_model, loop_epoch = minimal_loop(x_train, args.epochs, seed=0)
    with torch.no_grad():
        loop_mse = mse(loop_model(x_test).numpy(), X_test)
    classic, classic_epoch = aekit_classic(X_train, args.epochs, seed=0)
    classic_mse = mse(classic.reconstruct(X_test), X_test)
    defaults = Autoencoder(latent_dim=32, max_epochs=args.epochs, random_state=0).fit(X_train)
    defaults_mse = mse(defaults.reconstruct(X_test), X_test)
    defaults_epoch = defaults.history_.fit_seconds / defaults.history_.n_epochs

    rows = [
        ("minimal PyTorch loop, classic net", loop_epoch, loop_mse),
        ("aekit, classic net", classic_epoch, classic_mse),
        ("aekit defaults (latent_dim=32)", defaults_epoch, defaults_mse),
        ("PCA(32)", float("nan"), pca_mse),
    ]
    print(
        f"\nspeed, classic net, median (min-max) s/epoch over {args.repeats} alternating rounds "
        f"of {args.timing_epochs} epochs:"
    )
    print(
        f"  minimal loop {median_spread(t_loop)}   aekit {median_spread(t_aekit)}   "
        f"ratio aekit/minimal = {ratio:.2f} (bar <= 1.30)"
    )
    print(f"\nquality after {args.epochs} epochs (test MSE, 10k images):")
    print(f"| {'model':36s} | s/epoch | test MSE | x PCA(32) |")
    print(f"|{'-' * 38}|---------|----------|-----------|")
    for name, seconds, value in rows:
        print(f"| {name:36s} | {seconds:7.2f} | {value:.5f}  | {value / pca_mse:9.3f} |")
    print(
        f"\nbars: classic aekit <= 0.65x PCA: {classic_mse / pca_mse:.3f}; "
        f"defaults <= 0.45x PCA: {defaults_mse / pca_mse:.3f}"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "epochs": args.epochs,
                    "timing_aekit": t_aekit,
                    "timing_minimal": t_loop,
                    "speed_ratio": ratio,
                    "pca_mse": pca_mse,
                    "rows": [
                        {"model": n, "seconds_per_epoch": s, "test_mse": v} for n, s, v in rows
                    ],
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
