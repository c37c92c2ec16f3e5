"""Denoising MNIST: aekit's default convolutional denoiser vs the classic dense seed network.

Both train for the same number of epochs on the same training images, corrupted each batch by
Gaussian noise of standard deviation 0.5 clipped to [0, 1] (aekit's ``noise="gaussian"``),
against the clean images. Then the MNIST test images get the same noise once, from a fixed seed,
and each model's ``denoise`` output is scored against the clean test images in PSNR and SSIM
(``aekit.metrics``, data range 1), next to the noisy input's own scores.

The seed network is the classic 784-128-64-32 ReLU autoencoder with a sigmoid output, Adam
(lr 1e-3), binary cross-entropy and batches of 256, expressed as aekit parameters
(``CLASSIC`` of ``classic_mnist.py``, which checks it against a hand-written loop). Each
figure is the median over seeds with its range.

    python bench/denoising_mnist.py --seeds 3             # the figures in docs/benchmarks.md
    python bench/denoising_mnist.py --epochs 1 --train-size 2000 --test-size 1000  # smoke run
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_dir, median_spread
from classic_mnist import CLASSIC

from aekit import Autoencoder
from aekit.datasets import load_mnist
from aekit.metrics import psnr, ssim

NOISE_STD = 0.5
EPOCHS = 10  # the full run's epochs per model (issue 20's bars allow up to 20)


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


def run(
    train: np.ndarray, test: np.ndarray, epochs: int, seeds: tuple[int, ...] = (0,)
) -> dict[str, Any]:
    """Train both denoisers once per seed; PSNR, SSIM and fit seconds per seed and model."""
    noise = np.random.default_rng(0).standard_normal(test.shape, dtype=np.float32)
    noisy = np.clip(test + NOISE_STD * noise, 0.0, 1.0)
    scores: dict[str, dict[str, list[float]]] = {
        "noisy input": {"psnr": [psnr(test, noisy, 1.0)], "ssim": [ssim(test, noisy, 1.0)]}
    }
    for seed in seeds:
        for name, make in (
            ("seed dense 784-128-64-32, BCE", seed_denoiser),
            ("aekit conv defaults, latent 32", conv_denoiser),
        ):
            started = time.perf_counter()
            model = make(epochs, seed).fit(train)
            seconds = time.perf_counter() - started
            estimate = model.denoise(noisy)
            row = scores.setdefault(name, {"psnr": [], "ssim": [], "fit_seconds": []})
            row["psnr"].append(psnr(test, estimate, 1.0))
            row["ssim"].append(ssim(test, estimate, 1.0))
            row["fit_seconds"].append(seconds)
            print(f"seed {seed}, {name}: PSNR {row['psnr'][-1]:.2f} dB", flush=True)
    seed_net, conv = (
        scores["seed dense 784-128-64-32, BCE"],
        scores["aekit conv defaults, latent 32"],
    )
    return {
        "epochs": epochs,
        "train_images": len(train),
        "test_images": len(test),
        "seeds": list(seeds),
        "noise_std": NOISE_STD,
        "scores": scores,
        "psnr_gain_db": statistics.median(conv["psnr"]) - statistics.median(seed_net["psnr"]),
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"MNIST, {result['train_images']:,} training / {result['test_images']:,} test images, "
        f"Gaussian noise std {result['noise_std']} clipped to [0, 1], {result['epochs']} epochs "
        f"each; median (min-max) over seeds {result['seeds']}.",
        "",
        "| test images | PSNR dB | SSIM | fit s |",
        "|---|---|---|---|",
    ]
    for name, row in result["scores"].items():
        fit = median_spread(row["fit_seconds"], 0) if "fit_seconds" in row else ""
        lines.append(
            f"| {name} | {median_spread(row['psnr'], 2)} | {median_spread(row['ssim'], 3)} "
            f"| {fit} |"
        )
    lines += ["", f"aekit conv - seed network: {result['psnr_gain_db']:+.2f} dB PSNR"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="folder holding mnist/mnist.npz (default: $AEKIT_DATA)")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--train-size", type=int, default=60_000, help="first N training images")
    parser.add_argument("--test-size", type=int, default=10_000, help="first N test images")
    parser.add_argument("--seeds", type=int, default=1, help="train each model with seeds 0..N-1")
    args = parser.parse_args()
    (X_train, _), (X_test, _) = load_mnist(data_dir(args.data) / "mnist" / "mnist.npz")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    result = run(
        X_train[: args.train_size], X_test[: args.test_size], args.epochs, tuple(range(args.seeds))
    )
    print(markdown(result))


if __name__ == "__main__":
    main()
