"""Denoising MNIST: aekit's default convolutional denoiser vs the classic dense seed network.

Both train for the same number of epochs on the same training images, corrupted each batch by
Gaussian noise of standard deviation 0.5 clipped to [0, 1] (aekit's ``noise="gaussian"``),
against the clean images. Then the MNIST test images get the same noise once, from a fixed seed,
and each model's ``denoise`` output is scored against the clean test images in PSNR and SSIM
(``aekit.metrics``, data range 1), next to the noisy input's own scores.

The seed network is the classic 784-128-64-32 ReLU autoencoder with a sigmoid output, Adam
(lr 1e-3), binary cross-entropy and batches of 256, expressed as aekit parameters
(``CLASSIC`` of ``classic_mnist.py``, which checks it against a hand-written loop).

    python bench/denoising_mnist.py                       # 10 epochs on 10,000 images, 5-9 min
    python bench/denoising_mnist.py --train-size 60000    # all of MNIST, ~6x longer
    python bench/denoising_mnist.py --epochs 1 --train-size 2000 --test-size 1000  # smoke run
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_dir
from classic_mnist import CLASSIC

from aekit import Autoencoder
from aekit.datasets import load_mnist
from aekit.metrics import psnr, ssim

NOISE_STD = 0.5


def conv_denoiser(epochs: int, seed: int) -> Autoencoder:
    """aekit's conv kind with its defaults; only the task, the code size and the batch set."""
    return Autoencoder(
        "conv",
        latent_dim=32,  # the seed network's code size
        noise="gaussian",
        noise_level=NOISE_STD,
        batch_size=256,  # the seed network's batch
        max_epochs=epochs,
        random_state=seed,
        device="cpu",
    )


def seed_denoiser(epochs: int, seed: int) -> Autoencoder:
    return Autoencoder(
        **CLASSIC,
        noise="gaussian",
        noise_level=NOISE_STD,
        max_grad_norm=None,  # a plain Adam loop does not clip
        max_epochs=epochs,
        random_state=seed,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="folder holding mnist/mnist.npz (default: $AEKIT_DATA)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--train-size", type=int, default=10_000, help="first N training images")
    parser.add_argument("--test-size", type=int, default=10_000, help="first N test images")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    (X_train, _), (X_test, _) = load_mnist(data_dir(args.data) / "mnist" / "mnist.npz")
    X_train, X_test = X_train[: args.train_size], X_test[: args.test_size]
    noise = np.random.default_rng(args.seed).standard_normal(X_test.shape, dtype=np.float32)
    X_noisy = np.clip(X_test + NOISE_STD * noise, 0.0, 1.0)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; MNIST {len(X_train)} "
        f"train / {len(X_test)} test images; Gaussian noise std {NOISE_STD} clipped to [0, 1]; "
        f"{args.epochs} epochs each"
    )

    rows = [("noisy input", X_noisy, float("nan"))]
    for name, make in (
        ("seed dense 784-128-64-32, BCE", seed_denoiser),
        ("aekit conv defaults, latent 32", conv_denoiser),
    ):
        started = time.perf_counter()
        model = make(args.epochs, args.seed).fit(X_train)
        rows.append((name, model.denoise(X_noisy), time.perf_counter() - started))

    print(f"\n| {'test images':32s} | PSNR dB | SSIM  | fit s |")
    print(f"|{'-' * 34}|---------|-------|-------|")
    scores = {}
    for name, estimate, seconds in rows:
        scores[name] = (psnr(X_test, estimate, 1.0), ssim(X_test, estimate, 1.0))
        print(f"| {name:32s} | {scores[name][0]:7.2f} | {scores[name][1]:.3f} | {seconds:5.0f} |")
    (seed_psnr, seed_ssim), (conv_psnr, conv_ssim) = list(scores.values())[1:]
    verdict = "beats" if conv_psnr > seed_psnr and conv_ssim > seed_ssim else "does NOT beat"
    print(
        f"\nconv {verdict} the seed network: PSNR {conv_psnr - seed_psnr:+.2f} dB, "
        f"SSIM {conv_ssim - seed_ssim:+.3f}"
    )


if __name__ == "__main__":
    main()
