"""The report's sections: small functions, each saying whether it applies to a model.

A section reads the model through its public methods only (``reconstruct``, ``transform``,
``reconstruction_error``, ``network_inputs``, ``corrupt``, ``anomaly_score``, ...) and
returns its figures, captions and headline cards. For an ``AnomalyDetector`` the
network's sections show its first member, a complete ``Autoencoder``, and say so.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import is_outlier_detector

MAX_ROWS = 2000  # figures and metrics use at most this many samples, drawn evenly

Figure = tuple[Any, str]  # a matplotlib figure and its caption
Card = tuple[str, str, str]  # label, value, detail


@dataclass
class Context:
    """What every section needs: the model, the samples shown, and shared results."""

    estimator: Any  # the model the report is on
    network: Any  # the Autoencoder whose network the figures show
    detector: bool
    table: bool  # a mixed table: figures in the network's encoded input space
    inputs: Any  # what the estimator's methods are given
    X: NDArray[np.float32]  # the samples shown: data units, or a table's network inputs
    labels: NDArray[Any] | None
    X_train: NDArray[np.float32] | None  # in X's space
    columns: list[str] | None
    images: bool
    squared_error: NDArray[np.float64] = field(init=False)  # per feature (or column)
    value_error: NDArray[np.float64] = field(init=False)  # per value shown in X
    cards: list[Card] = field(default_factory=list)

    @property
    def member_note(self) -> str:
        """How captions name the network a detector's figures show."""
        if not self.detector:
            return ""
        return f" (the first of the detector's {len(self.estimator.estimators_)} members)"


def build_context(
    estimator: Any, X: ArrayLike, labels: ArrayLike | None, X_train: ArrayLike | None
) -> Context:
    """Check the inputs, subsample them evenly and compute the errors every section uses."""
    from sklearn.utils.validation import check_is_fitted

    detector = bool(is_outlier_detector(estimator))
    check_is_fitted(estimator, "estimators_" if detector else "model_")
    network = estimator.estimators_[0] if detector else estimator
    n = len(X)  # type: ignore[arg-type]
    if n == 0:
        raise ValueError("X is empty: the report needs samples to show")
    if labels is not None and len(np.asarray(labels)) != n:
        raise ValueError(f"labels has {len(np.asarray(labels))} entries but X has {n} samples")
    keep = _evenly(n, MAX_ROWS)
    kept_labels = None if labels is None else np.asarray(labels)[keep]
    table = estimator.preprocessor_ is not None
    if table:
        inputs = X.iloc[keep]  # type: ignore[union-attr]
        context = Context(
            estimator,
            network,
            detector,
            True,
            inputs,
            network.network_inputs(inputs),
            kept_labels,
            None if X_train is None else network.network_inputs(X_train),
            [str(c) for c in estimator.feature_names_in_],
            images=False,
        )
        outputs = network.network_outputs(inputs)
        context.value_error = np.square(outputs.astype(np.float64) - context.X)
        context.squared_error = network.reconstruction_error(inputs, per_feature=True)
        return context
    columns, data = _ordered(estimator, X)
    shown = data[keep]
    context = Context(
        estimator,
        network,
        detector,
        False,
        shown,
        shown,
        kept_labels,
        None if X_train is None else np.asarray(X_train, dtype=np.float32),
        columns,
        images=len(estimator.sample_shape_) >= 2 or _square(estimator.sample_shape_),
    )
    # squared error in the data's units (a detector's own score is the anomaly section's)
    context.squared_error = np.square(network.reconstruct(shown) - shown)
    context.value_error = context.squared_error
    return context


def _ordered(estimator: Any, X: Any) -> tuple[list[str] | None, NDArray[np.float32]]:
    """X's column names in the fitted order, and X as a float32 array."""
    columns = [str(c) for c in X.columns] if hasattr(X, "columns") else None
    fitted = getattr(estimator, "feature_names_in_", None)
    if columns is not None and fitted is not None:
        missing = [c for c in fitted if c not in columns]
        extra = [c for c in columns if c not in set(fitted)]
        if missing or extra:
            raise ValueError(
                f"X's columns differ from those seen in fit: missing "
                f"{missing[:10]}, unexpected {extra[:10]}"
            )
        X = X[list(fitted)]  # the fitted order; plain arrays from here on
        columns = [str(c) for c in fitted]
    return columns, np.asarray(X, dtype=np.float32)


# --- the sections ----------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A report section: its anchor, heading, whether it applies, and how it is drawn."""

    ident: str
    heading: str
    applies: Callable[[Context], bool]
    draw: Callable[[Context], tuple[list[Figure], str]]  # figures and a note


def _always(context: Context) -> bool:
    return True


def architecture(context: Context) -> tuple[list[Figure], str]:
    from aekit.plots import plot_architecture

    caption = "Encoder, code and decoder: box heights follow layer sizes" + context.member_note
    return [(plot_architecture(context.network), caption + ".")], ""


def training(context: Context) -> tuple[list[Figure], str]:
    from aekit.plots import plot_loss_curves

    caption = "Loss per epoch; the marked epoch is the one whose weights were kept"
    return [(plot_loss_curves(context.network.history_), caption + context.member_note + ".")], ""


def reconstruction(context: Context) -> tuple[list[Figure], str]:
    from aekit.plots import plot_reconstructions

    if context.table:
        X_hat = context.network.network_outputs(context.inputs[:10])
        names = context.network.network_input_names()
        caption = "Originals and their reconstructions (encoded: scaled numbers, one-hot levels)"
    else:
        X_hat, names = context.network.reconstruct(context.X[:10]), context.columns
        caption = "Originals and their reconstructions"
    figure = plot_reconstructions(context.X[:10], X_hat, feature_names=names)
    return [(figure, caption + context.member_note + ".")], ""


def latent(context: Context) -> tuple[list[Figure], str]:
    from aekit.plots import plot_latent_space

    codes = context.network.transform(context.inputs)
    figure = plot_latent_space(
        codes,
        X=context.X.reshape(len(context.X), -1),
        labels=None if context.detector else context.labels,
    )
    caption = "The codes next to PCA's 2-D projection of the same samples"
    return [(figure, caption + context.member_note + ".")], ""


def errors(context: Context) -> tuple[list[Figure], str]:
    from aekit.plots import plot_error_distribution

    caption = "Squared reconstruction error per sample and per feature" + (
        " (per original column, in scaled units: one-hot levels and missing indicators "
        "summed into their column)"
        if context.table
        else ""
    )
    figure = plot_error_distribution(context.squared_error, feature_names=context.columns)
    return [(figure, caption + context.member_note + ".")], ""


def anomaly(context: Context) -> tuple[list[Figure], str]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    from aekit.plots import plot_anomaly_scores, plot_top_anomalies

    detector = context.estimator
    scores = detector.anomaly_score(context.inputs)
    threshold = detector.threshold_  # a score above it <=> decision_function below 0
    flagged = float(np.mean(scores > threshold))
    context.cards.append(("Flagged", f"{100 * flagged:.1f}%", f"threshold {threshold:.4g}"))
    labels = None
    if context.labels is not None and len(np.unique(context.labels)) == 2:
        labels = (context.labels == 1).astype(int)
        auc = roc_auc_score(labels, scores)
        context.cards.append(("ROC-AUC", f"{auc:.3f}", "labels: 1 = anomaly"))
        ap = average_precision_score(labels, scores)
        context.cards.append(("Average precision", f"{ap:.3f}", f"base rate {labels.mean():.3f}"))
    relative = detector.relative_error(context.inputs, per_feature=True)
    shown = relative if context.table else context.X  # X only gives the shape
    return [
        (
            plot_anomaly_scores(scores, threshold, labels=labels),
            "Anomaly scores (higher = more anomalous) and the threshold.",
        ),
        (
            plot_top_anomalies(
                shown, scores, feature_errors=relative, feature_names=context.columns
            ),
            "The most anomalous samples, with each feature's relative error.",
        ),
    ], ""


def denoising(context: Context) -> tuple[list[Figure], str]:
    from aekit.metrics import psnr
    from aekit.plots import plot_denoising

    model = context.network
    clean = context.X[:8]
    noisy = model.corrupt(clean, random_state=0)
    denoised = model.denoise(noisy)
    before, after = psnr(clean, noisy), psnr(clean, denoised)
    context.cards.append(("Denoising PSNR", f"{after:.1f} dB", f"noisy input {before:.1f} dB"))
    caption = f"{model.noise} noise at level {model.noise_level}: noisy, denoised, clean."
    return [(plot_denoising(noisy, denoised, clean), caption)], ""


def generation(context: Context) -> tuple[list[Figure], str]:
    from aekit.plots import plot_interpolation, plot_latent_manifold, plot_samples

    model = context.network
    if not context.images:
        return [], "Generated samples are drawn for image data only."
    shape = None if len(model.sample_shape_) >= 2 else _side(model.sample_shape_)
    figures = [
        (
            plot_samples(model.sample(36, random_state=0), image_shape=shape),
            "Samples decoded from codes drawn from N(0, I).",
        ),
        (
            plot_interpolation(
                model.interpolate(context.X[0], context.X[1], steps=10), image_shape=shape
            ),
            "A walk through the latent space between two samples.",
        ),
    ]
    if model.latent_dim == 2:
        figures.append(
            (plot_latent_manifold(model), "Decodes over a grid of the 2-D latent plane.")
        )
    return figures, ""


SECTIONS = (
    Section("architecture", "Architecture", _always, architecture),
    Section("training", "Training", _always, training),
    Section("reconstruction", "Input vs reconstruction", _always, reconstruction),
    Section("latent", "Latent space", _always, latent),
    Section("errors", "Reconstruction error", _always, errors),
    Section("anomaly", "Anomaly detection", lambda c: c.detector, anomaly),
    Section(
        "denoising",
        "Denoising",
        lambda c: not c.detector and not c.table and c.network.noise is not None,
        denoising,
    ),
    Section(
        "generation", "Generation", lambda c: not c.detector and c.network.variational, generation
    ),
)


# --- headline metrics and the model card ------------------------------------------------


def reconstruction_cards(context: Context) -> None:
    """The network's mean squared error next to PCA's at the same code size."""
    from sklearn.decomposition import PCA

    flat = context.X.reshape(len(context.X), -1)
    ae_mse = float(np.mean(context.value_error))
    n_components = min(context.network.latent_dim, *flat.shape)
    train = context.X_train
    fit_on = flat if train is None else train.reshape(len(train), -1)
    pca = PCA(n_components=n_components, random_state=0).fit(fit_on)
    pca_mse = float(np.mean((pca.inverse_transform(pca.transform(flat)) - flat) ** 2))
    where = "held-out" if train is not None else "PCA fitted on these samples"
    context.cards.append(("Reconstruction MSE", f"{ae_mse:.4g}", where))
    context.cards.append(
        (
            f"PCA({n_components}) MSE",
            f"{pca_mse:.4g}",
            f"aekit / PCA = {ae_mse / pca_mse:.2f}" if pca_mse > 0 else "",
        )
    )


def model_card(context: Context, report_seconds: float) -> dict[str, str]:
    """The model card's rows."""
    model, history = context.network, context.network.history_
    config = model.model_.config.to_json()
    variants = [
        v
        for v, on in [
            ("variational", config.get("variational")),
            ("sparse", config.get("sparsity")),
            ("denoising", model.noise),
        ]
        if on
    ]
    rows = {"estimator": type(context.estimator).__name__}
    if context.detector:
        detector = context.estimator
        rows["members"] = f"{len(detector.estimators_)} autoencoders, each as below"
        rows["threshold"] = f"anomaly_score > {detector.threshold_:.4g} ({detector.threshold_rule})"
    rows |= {
        "kind": model.model_.kind,
        "variants": ", ".join(variants) or "plain",
        "sample shape": str(tuple(model.sample_shape_)),
        "latent size": str(model.latent_dim),
        "parameters": f"{sum(p.numel() for p in model.model_.parameters()):,}",
        "activation / loss": f"{config['activation']} / {config['loss']} "
        f"(output {config['output_activation']})",
        "scaling": model.scaler_.method
        if not context.table
        else f"table: {len(context.columns or [])} columns as {model.sample_shape_[0]} inputs",
        "epochs": f"{history.n_epochs} (best {_best(history) + 1}"
        f"{', stopped early' if history.stopped_early else ''})"
        + (" for the first member" if context.detector else ""),
        "training time": f"{_fit_seconds(context):.1f} s",
        "report data": f"{len(context.X)} samples"
        + (" (subsampled)" if len(context.X) == MAX_ROWS else ""),
        "report built in": f"{report_seconds:.1f} s",
    }
    for key, (value, _) in _settings(model).items():
        rows[key.replace("_", " ")] = str(tuple(value) if isinstance(value, list) else value)
    return rows


def _settings(model: Any) -> dict[str, tuple[Any, str]]:
    """The kind's own settings as configured: name -> (value, help)."""
    from aekit.models import kind_settings

    config = model.model_.config.to_json()
    return {name: (config[name], text) for name, (_, text) in kind_settings(model.kind).items()}


def _fit_seconds(context: Context) -> float:
    if context.detector:
        return float(sum(m.history_.fit_seconds for m in context.estimator.estimators_))
    return float(context.network.history_.fit_seconds)


# --- helpers ----------------------------------------------------------------------------


def _evenly(n: int, limit: int) -> NDArray[np.intp]:
    return np.arange(n) if n <= limit else np.linspace(0, n - 1, limit).astype(np.intp)


def _square(shape: tuple[int, ...]) -> bool:
    return len(shape) == 1 and shape[0] >= 16 and math.isqrt(shape[0]) ** 2 == shape[0]


def _side(shape: tuple[int, ...]) -> tuple[int, int] | None:
    side = math.isqrt(shape[0])
    return (side, side) if side * side == shape[0] else None


def _best(history: Any) -> int:
    return int(history.best_epoch if history.best_epoch is not None else history.n_epochs - 1)
