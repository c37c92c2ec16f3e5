"""The report's content for a series model (``TimeSeriesDetector``, ``TimeSeriesAutoencoder``),
read through their public methods: the model card, headline cards, and the figures."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import is_outlier_detector

MAX_TIMESTAMPS = 20_000  # the report shows at most this many timestamps (the first ones)
MAX_CODES = 2000  # window codes drawn, at most, evenly spaced

Figure = tuple[Any, str]
Card = tuple[str, str, str]


def is_series_model(estimator: Any) -> bool:
    return type(estimator).__name__ in ("TimeSeriesDetector", "TimeSeriesAutoencoder")


def series_content(
    model: Any, X: Any, labels: ArrayLike | None
) -> tuple[dict[str, str], list[Card], list[tuple[str, str, list[Figure]]]]:
    """``(model card rows, cards, [(section id, heading, figures)])`` for ``X``."""
    from aekit.plots import plot_latent_space, plot_loss_curves

    if len(X) > MAX_TIMESTAMPS:
        X = X.iloc[:MAX_TIMESTAMPS] if hasattr(X, "iloc") else X[:MAX_TIMESTAMPS]
        labels = None if labels is None else np.asarray(labels)[:MAX_TIMESTAMPS]
    detector = is_outlier_detector(model)
    network = model.detector_.estimators_[0] if detector else model.estimator_
    series = model.series_of(X)
    index = series.times if series.times is not None else series.index
    cards: list[Card] = []
    sections: list[tuple[str, str, list[Figure]]] = []
    if detector:
        sections.append(
            (
                "anomaly",
                "Anomaly scores over time",
                _detector_figures(model, X, series, index, labels, cards),
            )
        )
    else:
        sections.append(
            (
                "reconstruction",
                "Data and reconstruction",
                _autoencoder_figures(model, X, series, index, cards),
            )
        )
    windows = model.network_inputs(X)
    keep = np.linspace(0, len(windows) - 1, min(MAX_CODES, len(windows))).astype(np.intp)
    codes = network.transform(windows[keep])
    note = " (the first member's)" if detector else ""
    sections.append(
        (
            "latent",
            "Window codes",
            [
                (
                    plot_latent_space(codes, windows[keep], labels=keep + model.window_ - 1),
                    f"Each window's code{note}, coloured by the row it ends at, beside PCA's "
                    f"2-D projection of the windows.",
                )
            ],
        )
    )
    sections.append(
        (
            "training",
            "Training",
            [(plot_loss_curves(network.history_), f"Loss per epoch{note}.")],
        )
    )
    return _card(model, network, len(series.values)), cards, sections


def _detector_figures(
    model: Any, X: Any, series: Any, index: Any, labels: Any, cards: list[Card]
) -> list[Figure]:
    from aekit.metrics import vus_pr
    from aekit.plots import plot_channel_shares, plot_series_scores

    scores = model.anomaly_score(X)
    flagged = scores > model.threshold_
    runs = model.intervals(X)
    cards.append(("Flagged", f"{100 * flagged.mean():.1f}%", f"{len(runs)} stretches"))
    known = None
    if labels is not None and len(np.unique(labels)) == 2:
        known = (np.asarray(labels) == 1).astype(int)
        cards.append(("VUS-PR", f"{vus_pr(known, scores):.3f}", "sliding window 100 (TSB-AD)"))
    figures: list[Figure] = [
        (
            plot_series_scores(
                series.values,
                scores,
                model.threshold_,
                index=index,
                channels=model.channels_,
                labels=known,
            ),
            f"The series and its anomaly score ({model.scoring} scoring); stretches above the "
            f"threshold ({model.threshold_rule}) shaded"
            + ("; labelled anomalies in yellow." if known is not None else "."),
        )
    ]
    if model.n_features_in_ > 1:
        figures.append(
            (
                plot_channel_shares(model.explain(X), index=index),
                "Which channels make each timestamp unusual: their shares of its "
                "reconstruction error.",
            )
        )
    return figures


def _autoencoder_figures(
    model: Any, X: Any, series: Any, index: Any, cards: list[Card]
) -> list[Figure]:
    from aekit.plots import plot_series_reconstruction

    rebuilt = np.asarray(model.reconstruct(X), np.float64).reshape(series.values.shape)
    error = model.reconstruction_error(X)
    cards.append(("Reconstruction MSE", f"{error.mean():.4g}", "standardised units"))
    figures: list[Figure] = [
        (
            plot_series_reconstruction(
                series.values, rebuilt, index=index, channels=model.channels_
            ),
            "Each channel and its reconstruction (the mean over the windows covering each "
            "timestamp).",
        )
    ]
    network = model.estimator_
    if network.noise == "gaussian":
        rng = np.random.default_rng(0)
        spread = model.scaler_.scale.astype(np.float64)
        noisy = series.values + rng.normal(0, network.noise_level, series.values.shape) * spread
        frame = _like(X, noisy, model)
        denoised = np.asarray(model.denoise(frame), np.float64).reshape(series.values.shape)
        figures.append(
            (
                plot_series_reconstruction(
                    series.values, denoised, index=index, channels=model.channels_, noisy=noisy
                ),
                f"Denoising: the series with Gaussian noise of {network.noise_level} standard "
                f"deviations added (grey), and denoised.",
            )
        )
    return figures


def _like(X: Any, values: Any, model: Any) -> Any:
    """``values`` as the model reads input like ``X``: a DataFrame of its channels keeps
    X's index (and time column)."""
    if hasattr(X, "columns"):
        frame = X.copy()
        frame[model.channels_] = values
        return frame
    return values.reshape(np.shape(X)) if np.ndim(X) == 1 else values


def _card(model: Any, network: Any, n: int) -> dict[str, str]:
    rows = {
        "estimator": type(model).__name__,
        "window": f"{model.window_} timestamps ({model.window!r})",
        "channels": ", ".join(model.channels_),
    }
    if is_outlier_detector(model):
        rows["scoring"] = model.scoring
        rows["threshold"] = f"anomaly_score > {model.threshold_:.4g} ({model.threshold_rule})"
        rows["members"] = f"{len(model.detector_.estimators_)} autoencoders of windows"
    config = network.model_.config.to_json()
    rows |= {
        "kind": network.model_.kind,
        "latent size": str(network.latent_dim),
        "activation / loss": f"{config['activation']} / {config['loss']}",
        "epochs": str(network.history_.n_epochs),
        "report data": f"{n} timestamps",
    }
    return rows
