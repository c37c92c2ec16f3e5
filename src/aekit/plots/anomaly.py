"""Anomaly scores against a threshold, how well they rank known anomalies, and the worst ones."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from aekit.plots._common import (
    ANOMALY_COLOR,
    NORMAL_COLOR,
    THRESHOLD_COLOR,
    as_float_array,
    as_images,
    check_n,
    display_range,
    feature_names_or_default,
    figure_and_axes,
    new_figure,
    panel_size,
    show_image,
)

THRESHOLD_GID = "aekit-threshold"


def plot_anomaly_scores(
    scores: ArrayLike,
    threshold: float,
    labels: ArrayLike | None = None,
    *,
    ax: Axes | None = None,
) -> Figure:
    """Histogram of anomaly scores with the threshold; with labels, ROC and PR curves too.

    Scores are "higher = more anomalous", such as ``AnomalyDetector.anomaly_score(X)`` (with
    its ``threshold_``) or an autoencoder's ``reconstruction_error(X)``; samples above
    ``threshold`` are flagged. (``score_samples`` has the opposite sign, as in scikit-learn:
    pass ``-score_samples(X)`` and ``-offset_``.)

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
    threshold : float
    labels : array-like of shape (n_samples,), optional
        1 (or True) for a known anomaly, 0 for a normal sample: the two classes get their
        own histograms, and panels with the ROC and precision-recall curves and their
        areas are added.
    ax : Axes, optional
        Draw only the histogram, on this axes.

    Returns
    -------
    fig : Figure

    Examples
    --------
    >>> from aekit import AnomalyDetector
    >>> from aekit.datasets import load_digits
    >>> from aekit.plots import plot_anomaly_scores
    >>> X, y = load_digits()
    >>> detector = AnomalyDetector(contamination=0.05, random_state=0).fit(X)
    >>> fig = plot_anomaly_scores(detector.anomaly_score(X), detector.threshold_, labels=y == 0)
    """
    values = as_float_array(scores, "scores")
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"scores must have shape (n_samples,); got {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("scores contain NaN or infinity")
    threshold = float(threshold)
    truth = None if labels is None else _binary_labels(labels, len(values))
    if truth is not None and ax is None:
        fig = new_figure(13.5, 4.0)
        hist_ax, roc_ax, pr_ax = fig.subplots(1, 3, width_ratios=[1.5, 1.0, 1.0])
    else:
        fig, hist_ax = figure_and_axes(ax, 6.0, 4.0)
        roc_ax = pr_ax = None

    log_scale = threshold > 0 and _heavy_tailed(values)
    bins = _bins(np.append(values, threshold), log_scale)
    if truth is None:
        hist_ax.hist(values, bins=bins, color=NORMAL_COLOR, edgecolor="white", label="samples")
    else:
        for cls, name, color in ((0, "normal", NORMAL_COLOR), (1, "anomaly", ANOMALY_COLOR)):
            subset = values[truth == cls]
            hist_ax.hist(
                subset,
                bins=bins,
                color=color,
                alpha=0.55,
                edgecolor="white",
                label=f"{name} (n = {len(subset)})",
                # each class sums to 1: comparable however rare the anomalies, on any bins
                weights=np.full(len(subset), 1.0 / len(subset)),
            )
    flagged = float(np.mean(values > threshold))
    hist_ax.axvline(
        threshold,
        color=THRESHOLD_COLOR,
        ls="--",
        lw=1.5,
        gid=THRESHOLD_GID,
        label=f"threshold {threshold:.3g} ({100 * flagged:.1f}% flagged)",
    )
    if log_scale:
        hist_ax.set_xscale("log")
    scale_note = ", log scale" if log_scale else ""
    hist_ax.set_xlabel(f"anomaly score (higher = more anomalous{scale_note})")
    hist_ax.set_ylabel("share of its class" if truth is not None else "samples")
    hist_ax.set_title("Anomaly scores" + (" (each class normalised)" if truth is not None else ""))
    hist_ax.legend(fontsize=8, loc="best")
    hist_ax.grid(alpha=0.25)

    if truth is not None and roc_ax is not None and pr_ax is not None:
        _roc_and_pr(roc_ax, pr_ax, truth, values, threshold)
    return fig


def plot_top_anomalies(
    X: ArrayLike,
    scores: ArrayLike,
    n: int = 8,
    feature_errors: ArrayLike | None = None,
    feature_names: Sequence[str] | None = None,
    *,
    image_shape: Sequence[int] | None = None,
    n_features: int = 8,
) -> Figure:
    """The ``n`` samples with the highest anomaly scores.

    Images are shown with their score (and, given ``feature_errors``, a row with where
    their error lies); tabular rows show the ``n_features`` features that contribute most
    to their error.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
    scores : array-like of shape (n_samples,)
        Higher = more anomalous, e.g. ``anomaly_score(X)``.
    n : int, default=8
    feature_errors : array-like of X's shape, optional
        Per-value errors: a detector's ``relative_error(X, per_feature=True)`` (or
        ``explain(X)``), an autoencoder's ``reconstruction_error(X, per_feature=True)``;
        required for tabular rows.
    feature_names : sequence of str, optional
    image_shape : tuple of int, optional
        (H, W) or (C, H, W) of flat image rows.
    n_features : int, default=8
        Tabular rows: features shown per sample.

    Returns
    -------
    fig : Figure

    Examples
    --------
    >>> from aekit import AnomalyDetector
    >>> from aekit.datasets import load_digits
    >>> from aekit.plots import plot_top_anomalies
    >>> X, _ = load_digits(images=True)
    >>> detector = AnomalyDetector(random_state=0).fit(X)
    >>> fig = plot_top_anomalies(X, detector.anomaly_score(X), n=6)
    """
    data = as_float_array(X, "X")
    values = as_float_array(scores, "scores")
    if values.ndim != 1 or len(values) != len(data):
        raise ValueError(
            f"scores must have one value per sample of X; got scores {values.shape} and "
            f"X {data.shape}"
        )
    errors = None
    if feature_errors is not None:
        errors = as_float_array(feature_errors, "feature_errors")
        if errors.shape != data.shape:
            raise ValueError(
                f"feature_errors must have X's shape; got feature_errors {errors.shape} and "
                f"X {data.shape}"
            )
    n = min(check_n(n), len(data))
    if n == 0:
        raise ValueError("X is empty: nothing to plot")
    top = np.argsort(values, kind="stable")[::-1][:n]
    images = as_images(data, image_shape, "X")
    if images is not None:
        return _top_images(images, values, top, errors, image_shape)
    if errors is None:
        raise ValueError(
            "tabular X needs feature_errors (relative_error(X, per_feature=True)) to "
            "show what makes each sample anomalous; for flat images pass image_shape"
        )
    flat = errors.reshape(len(errors), -1)
    names = feature_names_or_default(feature_names, flat.shape[1])
    k = min(check_n(n_features, "n_features"), flat.shape[1])
    cols = min(n, 4)
    rows = -(-n // cols)
    fig = new_figure(3.2 * cols, (0.22 * k + 1.0) * rows + 0.5)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, index in zip(axes, top, strict=False):
        contribution = flat[index]
        order = np.argsort(contribution)[::-1][:k]
        share = contribution[order] / max(float(contribution.sum()), np.finfo(float).tiny)
        ax.barh(np.arange(k), 100 * share, color=ANOMALY_COLOR)
        ax.set_yticks(np.arange(k), [names[i] for i in order], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"sample {index}: score {values[index]:.3g}", fontsize=9)
        ax.set_xlabel("% of its error", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(f"Top {n} anomalies: features contributing most")
    return fig


# --- helpers -------------------------------------------------------------------------


def _heavy_tailed(values: NDArray[np.float64]) -> bool:
    """Positive scores whose bulk spans over two decades, or a few of them three decades
    beyond it: on a linear axis the bulk would fall into one or two bins."""
    if values.min() <= 0:
        return False
    low, high = np.quantile(values, [0.01, 0.99])
    return bool(high / low > 100.0 or values.max() / low > 1000.0)


def _bins(values: NDArray[np.float64], log_scale: bool) -> NDArray[np.float64]:
    edges = np.histogram_bin_edges(values, bins="auto")
    n_edges = int(np.clip(len(edges), 11, 81))
    if log_scale:
        return np.geomspace(values.min(), values.max(), n_edges)
    return edges if len(edges) <= 81 else np.linspace(edges[0], edges[-1], n_edges)


def _binary_labels(labels: ArrayLike, n: int) -> NDArray[np.int64]:
    truth = np.asarray(labels)
    if truth.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), one per score; got labels {truth.shape}")
    classes = set(np.unique(truth).tolist())
    if not classes <= {0, 1}:
        raise ValueError(
            f"labels must be 0 (normal) and 1 (anomaly); got values {sorted(classes)[:5]}"
        )
    if len(classes) < 2:
        raise ValueError("labels must contain both normal (0) and anomalous (1) samples")
    return truth.astype(np.int64)


def _roc_and_pr(
    roc_ax: Axes,
    pr_ax: Axes,
    truth: NDArray[np.int64],
    scores: NDArray[np.float64],
    threshold: float,
) -> None:
    from sklearn.metrics import (
        average_precision_score,
        precision_recall_curve,
        roc_auc_score,
        roc_curve,
    )

    fpr, tpr, _ = roc_curve(truth, scores)
    auc = float(roc_auc_score(truth, scores))
    roc_ax.plot(fpr, tpr, color=ANOMALY_COLOR, lw=1.8, label=f"ROC AUC = {auc:.3f}")
    roc_ax.plot([0, 1], [0, 1], ":", color="grey", lw=1, label="chance")
    flagged = scores > threshold
    point_fpr = float(np.mean(flagged[truth == 0]))
    point_tpr = float(np.mean(flagged[truth == 1]))
    roc_ax.plot([point_fpr], [point_tpr], "o", color=THRESHOLD_COLOR, label="at threshold")
    roc_ax.set_xlabel("false positive rate")
    roc_ax.set_ylabel("true positive rate")
    roc_ax.set_title(f"ROC (AUC = {auc:.3f})")

    precision, recall, _ = precision_recall_curve(truth, scores)
    ap = float(average_precision_score(truth, scores))
    base = float(truth.mean())
    pr_ax.plot(recall, precision, color=ANOMALY_COLOR, lw=1.8, label=f"AP = {ap:.3f}")
    pr_ax.axhline(base, ls=":", color="grey", lw=1, label=f"base rate {base:.3f}")
    if flagged.any():
        point_precision = float(np.mean(truth[flagged]))
        pr_ax.plot([point_tpr], [point_precision], "o", color=THRESHOLD_COLOR, label="at threshold")
    pr_ax.set_xlabel("recall")
    pr_ax.set_ylabel("precision")
    pr_ax.set_title(f"Precision-recall (AP = {ap:.3f})")
    for ax in (roc_ax, pr_ax):
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_aspect("equal")
        ax.grid(alpha=0.25)
        ax.legend(fontsize=8, loc="lower right" if ax is roc_ax else "best")


def _top_images(
    images: NDArray[np.float64],
    scores: NDArray[np.float64],
    top: NDArray[np.intp],
    errors: NDArray[np.float64] | None,
    image_shape: Sequence[int] | None,
) -> Figure:
    error_images = None if errors is None else as_images(errors, image_shape, "feature_errors")
    n_rows = 1 if error_images is None else 2
    width, height = panel_size(images[0])
    fig = new_figure(max(4.0, len(top) * width + 0.9), n_rows * (height + 0.35) + 0.5)
    axes = fig.subplots(n_rows, len(top), squeeze=False)
    value_range = display_range(images)
    error_high = 1.0 if error_images is None else float(error_images[top].max()) or 1.0
    for i, index in enumerate(top):
        show_image(axes[0, i], images[index], *value_range)
        axes[0, i].set_title(f"#{index}\n{scores[index]:.3g}", fontsize=7, pad=2)
        if error_images is not None:
            error_map = error_images[index]
            if error_map.ndim == 3:
                error_map = error_map.mean(axis=-1)
            show_image(axes[1, i], error_map, 0.0, error_high, cmap="magma")
    axes[0, 0].set_ylabel("sample", fontsize=9)
    if error_images is not None:
        axes[1, 0].set_ylabel("error", fontsize=9)
        fig.colorbar(
            axes[1, -1].images[0], ax=list(axes[1]), label="squared error", shrink=0.9, pad=0.01
        )
    fig.suptitle(f"Top {len(top)} anomalies (index and score)")
    return fig
