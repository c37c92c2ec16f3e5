"""``aekit demo``: every task on the bundled digits, offline, in under a minute on 2 cores.

Trains four small models (a 2-D autoencoder, an anomaly detector, a convolutional denoiser
and a VAE), writes an HTML report for each, the models themselves, ``summary.json`` and an
``index.html`` linking them.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

ANOMALY_DIGIT = 9  # the detector learns the other digits; nines are the anomalies


def run_demo(folder: Path, *, seed: int = 0, quiet: bool = False) -> Path:
    """Run the demo into ``folder`` (created if needed); returns the index page's path."""
    from aekit import AnomalyDetector, Autoencoder
    from aekit.datasets import load_digits
    from aekit.reporting import write_report

    folder.mkdir(parents=True, exist_ok=True)
    X, y = load_digits()
    images = X.reshape(-1, 8, 8)
    order = np.random.default_rng(seed).permutation(len(X))
    train, test = order[:1500], order[1500:]
    verbose = 0 if quiet else 1
    common: dict[str, Any] = {"random_state": seed, "verbose": verbose}
    results: list[dict[str, Any]] = []

    def step(
        name: str, title: str, what: str, model: Any, X_fit: Any, X_report: Any, **report: Any
    ) -> None:
        started = time.perf_counter()
        if not quiet:
            print(f"[{len(results) + 1}/4] {title}")
        model.fit(X_fit)
        model.save(folder / f"{name}.safetensors")
        write_report(
            model, X_report, folder / f"{name}.html", title=f"aekit demo: {title}", **report
        )
        results.append(
            {
                "name": name,
                "title": title,
                "what": what,
                "seconds": round(time.perf_counter() - started, 1),
                "epochs": model.history_.n_epochs,
            }
        )

    step(
        "reduction",
        "dimensionality reduction",
        "a dense autoencoder with a 2-D code, next to PCA",
        Autoencoder(latent_dim=2, max_epochs=60, **common),
        X[train],
        X[test],
        labels=y[test],
        X_train=X[train],
    )
    normal = train[y[train] != ANOMALY_DIGIT]
    step(
        "anomaly",
        "anomaly detection",
        f"a detector trained on digits other than "
        f"{ANOMALY_DIGIT}; held-out {ANOMALY_DIGIT}s are the anomalies",
        AnomalyDetector(contamination=0.05, **common),
        X[normal],
        X[test],
        labels=(y[test] == ANOMALY_DIGIT).astype(int),
        X_train=X[normal],
    )
    step(
        "denoising",
        "denoising",
        "a convolutional denoiser trained on images with Gaussian noise (0.3)",
        Autoencoder(
            "conv", latent_dim=16, noise="gaussian", noise_level=0.3, max_epochs=40, **common
        ),
        images[train],
        images[test],
        X_train=images[train],
    )
    step(
        "generation",
        "generation",
        "a variational autoencoder with a 2-D code",
        Autoencoder(latent_dim=2, variational=True, max_epochs=60, **common),
        images[train],
        images[test],
        labels=y[test],
        X_train=images[train],
    )

    (folder / "summary.json").write_text(json.dumps(results, indent=2))
    index = folder / "index.html"
    index.write_text(_index_page(results))
    return index


def _index_page(results: list[dict[str, Any]]) -> str:
    items = "\n".join(
        f'<li><a href="{r["name"]}.html">{html.escape(r["title"])}</a>: '
        f"{html.escape(r['what'])} <span>({r['epochs']} epochs, {r['seconds']} s; model "
        f"<code>{r['name']}.safetensors</code>)</span></li>"
        for r in results
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>aekit demo</title>
<style>body {{ font: 16px/1.6 system-ui, sans-serif; max-width: 760px; margin: 40px auto;
padding: 0 20px; color: #1d2330; }} span {{ color: #5b6475; font-size: 14px; }}
a {{ color: #2f6fb3; }}</style></head>
<body><h1>aekit demo on the scikit-learn digits</h1>
<p>Four models, one report each. Every file here can be opened offline; the models load with
<code>aekit.load</code> or <code>aekit info</code>.</p>
<ul>
{items}
</ul></body></html>
"""
