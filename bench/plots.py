"""One PNG per comparison for ``docs/``; ``draw(name, result, path)`` picks the figure."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure


def speed(result: dict[str, Any]) -> Figure:
    fig, ax = plt.subplots(figsize=(7, 3))
    rows = sorted(result["rows"], key=lambda r: r["seconds_per_epoch"])
    names = [r["method"] for r in rows]
    values = [r["seconds_per_epoch"] for r in rows]
    errors = [
        [v - r["spread"][0] for v, r in zip(values, rows, strict=True)],
        [r["spread"][1] - v for v, r in zip(values, rows, strict=True)],
    ]
    colors = ["tab:blue" if n == "aekit" else "tab:gray" for n in names]
    ax.barh(names, values, xerr=errors, color=colors)
    ax.axvline(result["floor_seconds"], color="tab:red", linestyle="--", label="compute floor")
    ax.set_xlabel(
        f"seconds per epoch ({result['n_rows']:,} MNIST rows, the classic 784-128-64-32 network)"
    )
    ax.legend(loc="lower right")
    return fig


def quality(result: dict[str, Any]) -> Figure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2), width_ratios=(2, 1))
    latents = [row["latent"] for row in result["mse"]]
    for name, style in (("PCA", "k--o"), ("aekit dense", "-o"), ("aekit conv", "-s")):
        left.plot(
            latents, [statistics.median(row[name]) for row in result["mse"]], style, label=name
        )
    left.set_xscale("log", base=2)
    left.set_xticks(latents, [str(n) for n in latents])
    left.set_xlabel("latent size")
    left.set_ylabel("held-out MSE")
    left.set_title(f"MNIST, {result['epochs']} epochs per model")
    left.legend()
    knn = {k: statistics.median(v) for k, v in result["knn_2d"].items()}
    right.bar(
        list(knn), list(knn.values()), color=["tab:gray", "tab:blue", "tab:orange"][: len(knn)]
    )
    right.set_ylim(0, 1)
    right.set_ylabel("5-NN accuracy")
    right.set_title("2-D codes")
    right.tick_params(axis="x", rotation=20)
    return fig


def anomaly(result: dict[str, Any]) -> Figure:
    rows, methods = result["rows"], result["methods"]
    fig, axes = plt.subplots(2, 1, figsize=(11, 6.4), sharex=True)
    order = sorted(range(len(rows)), key=lambda i: rows[i]["aekit"]["roc_auc"])
    markers = "osD^v<>phX*"
    measures = (("roc_auc", "ROC-AUC"), ("ap", "average precision"))
    for ax, (metric, label) in zip(axes, measures, strict=True):
        for k, method in enumerate(methods):
            values = [rows[i][method][metric] for i in order]
            mean = result["means"][method][metric]
            ax.plot(
                range(len(order)),
                values,
                markers[k % len(markers)],
                label=f"{method} ({mean:.3f})",
                color="tab:blue" if method == "aekit" else None,
                alpha=1.0 if method == "aekit" else 0.6,
                markersize=7 if method == "aekit" else 5,
            )
        ax.set_ylabel(label)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="mean")
    axes[1].set_xticks(range(len(order)), [rows[i]["set"] for i in order], rotation=60, ha="right")
    axes[0].set_title("ADBench, unsupervised protocol, default parameters")
    fig.tight_layout()
    return fig


def denoising(result: dict[str, Any]) -> Figure:
    fig, ax = plt.subplots(figsize=(6, 2.6))
    names = list(result["scores"])
    values = [statistics.median(result["scores"][n]["psnr"]) for n in names]
    ax.barh(names, values, color=["tab:gray", "tab:gray", "tab:blue"][: len(names)])
    for y, value in enumerate(values):
        ax.text(value, y, f" {value:.2f}", va="center")
    ax.set_xlabel("test PSNR (dB), MNIST with Gaussian noise 0.5")
    ax.set_xlim(0, max(values) * 1.15)
    return fig


def inference(result: list[dict[str, Any]]) -> Figure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 2.8), sharey=True)
    names = [r["method"] for r in result]
    colors = ["tab:blue" if n.startswith("aekit") else "tab:gray" for n in names]
    left.barh(names, [r["rows_per_second"] for r in result], color=colors)
    left.set_xscale("log")
    left.set_xlabel("rows per second")
    right.barh(names, [r["peak_rss_mib"] for r in result], color=colors)
    right.set_xlabel("peak resident memory (MiB)")
    fig.suptitle(f"{result[0]['rows']:,} rows x 30 columns")
    return fig


def profile(result: dict[str, Any]) -> Figure:
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ratios = result["ablation"]["vs_shipped"]
    names = sorted(ratios, key=ratios.get)
    colors = ["tab:blue" if n == "aekit as shipped" else "tab:gray" for n in names]
    ax.barh(names, [ratios[n] for n in names], color=colors)
    ax.axvline(1.0, color="k", linewidth=0.8)
    ax.set_xlabel("seconds per epoch relative to aekit as shipped")
    return fig


FIGURES = {
    "speed": speed,
    "quality": quality,
    "anomaly": anomaly,
    "denoising": denoising,
    "inference": inference,
    "profile": profile,
}


def draw(name: str, result: Any, path: Path) -> Path | None:
    """Save the figure for section ``name`` to ``path``; None when it has no figure."""
    if name not in FIGURES:
        return None
    fig = FIGURES[name](result)
    fig.tight_layout()
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path
