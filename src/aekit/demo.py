"""``aekit demo``: every task on data that ships with the install, offline, in about a
minute on 2 cores.

Trains four small models on the bundled digits (a 2-D autoencoder, an anomaly detector, a
convolutional denoiser and a VAE) and a series detector on a real recording that ships with
matplotlib (a neuron's membrane potential, 12,000 samples); writes an HTML report for each,
the models themselves, ``summary.json`` and an ``index.html`` linking them.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

NORMAL_DIGIT = 3  # the detector learns threes; other digits are the anomalies
ANOMALY_SHARE = 0.1  # of the images the anomaly report scores
SERIES_TRAIN = 6000  # the series detector learns the recording's first half


def run_demo(folder: Path, *, seed: int = 0, quiet: bool = False) -> Path:
    """Run the demo into ``folder`` (created if needed); returns the index page's path."""
    from sklearn.base import is_outlier_detector

    from aekit import AnomalyDetector, Autoencoder
    from aekit.datasets import load_digits
    from aekit.reporting import write_report

    folder.mkdir(parents=True, exist_ok=True)
    images, y = load_digits(images=True)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    train, test = order[:1200], order[1200:]
    common: dict[str, Any] = {"random_state": seed, "verbose": 0 if quiet else 1}
    results: list[dict[str, Any]] = []

    def step(
        name: str,
        title: str,
        what: str,
        model: Any,
        fit_rows: Any,
        report_rows: Any,
        labels: Any = None,
    ) -> None:
        started = time.perf_counter()
        if not quiet:
            print(f"[{len(results) + 1}/5] {title}")
        model.fit(images[fit_rows])
        model.save(folder / f"{name}.safetensors")
        write_report(
            model,
            images[report_rows],
            folder / f"{name}.html",
            labels=labels,
            X_train=images[fit_rows],
            title=f"aekit demo: {title}",
        )
        networks = model.estimators_ if is_outlier_detector(model) else [model]
        results.append(
            {
                "name": name,
                "title": title,
                "what": what,
                "seconds": round(time.perf_counter() - started, 1),
                "networks": len(networks),
                "epochs": max(network.history_.n_epochs for network in networks),
            }
        )

    step(
        "reduction",
        "dimensionality reduction",
        "a dense autoencoder with a 2-D code, next to PCA",
        Autoencoder(latent_dim=2, max_epochs=60, **common),
        train,
        test,
        labels=y[test],
    )
    normal = train[y[train] == NORMAL_DIGIT]
    held_out = test[y[test] == NORMAL_DIGIT]
    n_odd = round(ANOMALY_SHARE / (1 - ANOMALY_SHARE) * len(held_out))
    odd = rng.choice(test[y[test] != NORMAL_DIGIT], n_odd, replace=False)
    scored = np.concatenate([held_out, odd])
    step(
        "anomaly",
        "anomaly detection",
        f"a detector trained on the {NORMAL_DIGIT}s; other digits, "
        f"{ANOMALY_SHARE:.0%} of the scored images, are the anomalies",
        AnomalyDetector(contamination=ANOMALY_SHARE, **common),
        normal,
        scored,
        labels=(y[scored] != NORMAL_DIGIT).astype(int),
    )
    step(
        "denoising",
        "denoising",
        "a convolutional denoiser trained on images with Gaussian noise (0.3)",
        Autoencoder(
            "conv", latent_dim=16, noise="gaussian", noise_level=0.3, max_epochs=40, **common
        ),
        train,
        test,
    )
    step(
        "generation",
        "generation",
        "a variational autoencoder with a 2-D code, trained with binary cross-entropy "
        "(with MSE on [0, 1] pixels the KL term wins and every sample looks alike)",
        Autoencoder(latent_dim=2, variational=True, loss="bce", max_epochs=60, **common),
        train,
        test,
        labels=y[test],
    )

    results.append(_series_step(folder, seed, quiet))
    (folder / "summary.json").write_text(json.dumps(results, indent=2))
    index = folder / "index.html"
    index.write_text(_index_page(results))
    return index


def membrane_potential() -> Any:
    """A neuron's membrane potential, 12,000 samples: a real recording matplotlib ships."""
    import matplotlib.cbook as cbook

    return np.fromfile(cbook.get_sample_data("membrane.dat", asfileobj=False), dtype=np.float32)


def _series_step(folder: Path, seed: int, quiet: bool) -> dict[str, Any]:
    from aekit import TimeSeriesDetector
    from aekit.reporting import write_report

    title = "time series"
    if not quiet:
        print(f"[5/5] {title}")
    started = time.perf_counter()
    signal = membrane_potential()
    common: dict[str, Any] = {"random_state": seed, "verbose": 0 if quiet else 1}
    model = TimeSeriesDetector(**common)
    model.fit(signal[:SERIES_TRAIN])
    model.save(folder / "series.safetensors")
    write_report(model, signal, folder / "series.html", title=f"aekit demo: {title}")
    return {
        "name": "series",
        "title": title,
        "what": f"a series detector on a neuron's membrane potential (a recording shipped "
        f"with matplotlib): it learns the first {SERIES_TRAIN:,} samples and flags the "
        f"stretches of all {len(signal):,} unlike them",
        "seconds": round(time.perf_counter() - started, 1),
        "networks": len(model.detector_.estimators_),
        "epochs": max(m.history_.n_epochs for m in model.detector_.estimators_),
    }


def _networks(result: dict[str, Any]) -> str:
    n = result["networks"]
    return f"{n} networks of up to " if n > 1 else ""


def _index_page(results: list[dict[str, Any]]) -> str:
    items = "\n".join(
        f'<li><a href="{r["name"]}.html">{html.escape(r["title"])}</a>: '
        f"{html.escape(r['what'])} <span>({_networks(r)}{r['epochs']} epochs, "
        f"{r['seconds']} s; model "
        f"<code>{r['name']}.safetensors</code>)</span></li>"
        for r in results
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>aekit demo</title>
<style>body {{ font: 16px/1.6 system-ui, sans-serif; max-width: 760px; margin: 40px auto;
padding: 0 20px; color: #1d2330; }} span {{ color: #5b6475; font-size: 14px; }}
a {{ color: #2f6fb3; }}</style></head>
<body><h1>aekit demo on the scikit-learn digits and a recorded signal</h1>
<p>Five models, one report each. Every file here can be opened offline; the models load with
<code>aekit.load</code> or <code>aekit info</code>.</p>
<ul>
{items}
</ul></body></html>
"""
