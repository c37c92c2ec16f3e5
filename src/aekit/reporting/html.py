"""``write_report``: one self-contained HTML file (figures inlined, no network) per model."""

from __future__ import annotations

import base64
import html
import io
import math
import platform
import time
import warnings
from pathlib import Path
from string import Template
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from aekit._version import __version__

MAX_ROWS = 2000  # figures and metrics use at most this many samples, drawn evenly


def write_report(
    estimator: Any,
    X: ArrayLike,
    path: str | Path,
    *,
    labels: ArrayLike | None = None,
    X_train: ArrayLike | None = None,
    title: str | None = None,
) -> Path:
    """Write an HTML report on a fitted ``Autoencoder`` or ``AnomalyDetector``.

    Parameters
    ----------
    estimator : fitted aekit estimator
    X : array-like
        Data to report on, ideally not seen in training.
    path : str or Path
        The ``.html`` file to write (atomically).
    labels : array-like of shape (n_samples,), optional
        Class labels to colour the latent space; for an ``AnomalyDetector``, 1 marks an
        anomaly and adds ROC-AUC, average precision and their curves.
    X_train : array-like, optional
        The training data: PCA is then fitted on it, so that both reconstruction errors
        are held-out. Without it PCA is fitted on ``X`` itself (which favours PCA).
    title : str, optional
    """
    from aekit.data.files import write_bytes_atomically

    report = _Report(estimator, X, labels, X_train)
    with warnings.catch_warnings():  # names were checked once above; arrays are used after
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        page = report.render(title or f"aekit report: {type(estimator).__name__} ({report.kind})")
    path = Path(path)
    write_bytes_atomically(path, page.encode())
    return path


class _Report:
    def __init__(
        self, estimator: Any, X: ArrayLike, labels: ArrayLike | None, X_train: ArrayLike | None
    ) -> None:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(estimator, "model_")
        self.est = estimator
        self.kind = estimator.model_.kind
        self.table = getattr(estimator, "preprocessor_", None)
        if self.table is not None:
            self._init_table(X, labels, X_train)
            return
        self.columns = [str(c) for c in X.columns] if hasattr(X, "columns") else None
        fitted_names = getattr(estimator, "feature_names_in_", None)
        if self.columns is not None and fitted_names is not None:
            missing = [c for c in fitted_names if c not in self.columns]
            extra = [c for c in self.columns if c not in set(fitted_names)]
            if missing or extra:
                raise ValueError(
                    f"X's columns differ from those seen in fit: missing "
                    f"{missing[:10]}, unexpected {extra[:10]}"
                )
            frame: Any = X
            X = frame[list(fitted_names)]  # the fitted order; plain arrays from here on
            self.columns = [str(c) for c in fitted_names]
        data = np.asarray(X, dtype=np.float32)
        if len(data) == 0:
            raise ValueError("X is empty: the report needs samples to show")
        keep = _evenly(len(data), MAX_ROWS)
        self.X = data[keep]
        self.inputs: Any = self.X  # what the estimator's methods are given
        if labels is not None and len(np.asarray(labels)) != len(data):
            raise ValueError(
                f"labels has {len(np.asarray(labels))} entries but X has {len(data)} samples"
            )
        self.labels = None if labels is None else np.asarray(labels)[keep]
        self.X_train = None if X_train is None else np.asarray(X_train, dtype=np.float32)
        self.detector = hasattr(estimator, "offset_")
        self.images = len(estimator.sample_shape_) >= 2 or _square(estimator.sample_shape_)
        self.cards: list[tuple[str, str, str]] = []
        self.sections: list[tuple[str, str, str]] = []  # (id, heading, html)

    def _init_table(self, X: Any, labels: ArrayLike | None, X_train: Any) -> None:
        """A mixed-table model: figures of errors per original column; reconstructions,
        codes and PCA in the encoded (model) space, whose inputs are named by column."""
        if len(X) == 0:
            raise ValueError("X is empty: the report needs samples to show")
        if labels is not None and len(np.asarray(labels)) != len(X):
            raise ValueError(
                f"labels has {len(np.asarray(labels))} entries but X has {len(X)} samples"
            )
        keep = _evenly(len(X), MAX_ROWS)
        self.inputs = X.iloc[keep]
        self.X = self.est._to_model_space(self.inputs)
        self.columns = [str(c) for c in self.est.feature_names_in_]
        transformer = self.est.preprocessor_.transformer_
        self.encoded_names = [str(n) for n in transformer.get_feature_names_out()]
        self.labels = None if labels is None else np.asarray(labels)[keep]
        self.X_train = None if X_train is None else self.est._to_model_space(X_train)
        self.detector = hasattr(self.est, "offset_")
        self.images = False
        self.cards = []
        self.sections = []

    # --- assembly ---------------------------------------------------------------------

    def render(self, title: str) -> str:
        from aekit import plots

        started = time.perf_counter()
        if self.table is None:
            # squared error in the data's units (a detector's reconstruction_error is its score)
            self.squared_error = np.square(self.est.reconstruct(self.X) - self.X)
            self.value_error = self.squared_error
            X_hat = self.est.reconstruct(self.X[:10])
            names = self.columns
        else:  # model space, where numbers are scaled and categories one-hot
            X_hat_all = self.est._map(self.est.model_, self.X)
            self.value_error = np.square(X_hat_all.astype(np.float64) - self.X)
            self.squared_error = self.est._per_column(self.value_error)
            X_hat, names = X_hat_all[:10], self.encoded_names
        self._metrics()
        self._add(
            "architecture",
            "Architecture",
            [
                (
                    plots.plot_architecture(self.est),
                    "Encoder, code and decoder: box heights follow layer sizes.",
                )
            ],
        )
        self._add(
            "training",
            "Training",
            [
                (
                    plots.plot_loss_curves(self.est.history_),
                    "Loss per epoch; the marked epoch is the one whose weights were kept.",
                )
            ],
        )
        self._add(
            "reconstruction",
            "Input vs reconstruction",
            [
                (
                    plots.plot_reconstructions(self.X[:10], X_hat, feature_names=names),
                    "Originals and their reconstructions"
                    + (
                        " (encoded: scaled numbers, one-hot levels)."
                        if names is not None and self.table is not None
                        else "."
                    ),
                )
            ],
        )
        codes = self.est.transform(self.inputs)
        self._add(
            "latent",
            "Latent space",
            [
                (
                    plots.plot_latent_space(
                        codes,
                        X=self.X.reshape(len(self.X), -1),
                        labels=None if self.detector else self.labels,
                    ),
                    "The codes next to PCA's 2-D projection of the same samples.",
                )
            ],
        )
        per_feature = self.squared_error
        self._add(
            "errors",
            "Reconstruction error",
            [
                (
                    plots.plot_error_distribution(per_feature, feature_names=self.columns),
                    "Error per sample and per feature"
                    + (
                        " (per original column, in scaled units: one-hot levels and missing "
                        "indicators summed into their column)."
                        if self.table is not None
                        else "."
                    ),
                )
            ],
        )
        if self.detector:
            self._anomaly(plots)
        if getattr(self.est, "noise", None) and self.table is None:
            self._denoising(plots)
        if getattr(self.est, "variational", False):
            self._generation(plots)
        model_card = self._model_card(time.perf_counter() - started)
        body = [
            _section("model", "Model", model_card),
            _section("metrics", "Headline metrics", _cards_html(self.cards)),
        ]
        body += [_section(i, h, content) for i, h, content in self.sections]
        nav = " ".join(
            f'<a href="#{i}">{html.escape(h)}</a>'
            for i, h, _ in [("model", "Model", ""), ("metrics", "Metrics", ""), *self.sections]
        )
        lead = (
            f"{type(self.est).__name__}, kind <b>{self.kind}</b>, latent size "
            f"{self.est.latent_dim}, reported on {len(self.X)} samples of shape "
            f"{tuple(self.X.shape[1:])}."
        )
        footer = (
            f"aekit {__version__} · Python {platform.python_version()} · "
            f"written {time.strftime('%Y-%m-%d %H:%M')}"
        )
        template = Template((Path(__file__).parent / "template.html").read_text())
        return template.substitute(
            title=html.escape(title), lead=lead, nav=nav, sections="\n".join(body), footer=footer
        )

    def _add(
        self, ident: str, heading: str, figures: list[tuple[Any, str]], note: str = ""
    ) -> None:
        parts = [_figure_html(fig, caption) for fig, caption in figures]
        if note:
            parts.append(f'<p class="note">{note}</p>')
        self.sections.append((ident, heading, "\n".join(parts)))

    # --- content ----------------------------------------------------------------------

    def _metrics(self) -> None:
        from sklearn.decomposition import PCA

        flat = self.X.reshape(len(self.X), -1)
        ae_mse = float(np.mean(self.value_error))
        n_components = min(self.est.latent_dim, *flat.shape)
        fit_on = flat if self.X_train is None else self.X_train.reshape(len(self.X_train), -1)
        pca = PCA(n_components=n_components, random_state=0).fit(fit_on)
        pca_mse = float(np.mean((pca.inverse_transform(pca.transform(flat)) - flat) ** 2))
        where = "held-out" if self.X_train is not None else "PCA fitted on these samples"
        self.cards.append(("Reconstruction MSE", f"{ae_mse:.4g}", where))
        self.cards.append(
            (
                f"PCA({n_components}) MSE",
                f"{pca_mse:.4g}",
                f"aekit / PCA = {ae_mse / pca_mse:.2f}" if pca_mse > 0 else "",
            )
        )

    def _anomaly(self, plots: Any) -> None:
        from sklearn.metrics import average_precision_score, roc_auc_score

        scores = self.est.anomaly_score(self.inputs)
        threshold = float(-self.est.offset_)  # score above it <=> decision_function below 0
        flagged = float(np.mean(scores > threshold))
        self.cards.append(("Flagged", f"{100 * flagged:.1f}%", f"threshold {threshold:.4g}"))
        labels = None
        if self.labels is not None and len(np.unique(self.labels)) == 2:
            labels = (self.labels == 1).astype(int)
            self.cards.append(
                ("ROC-AUC", f"{roc_auc_score(labels, scores):.3f}", "labels: 1 = anomaly")
            )
            self.cards.append(
                (
                    "Average precision",
                    f"{average_precision_score(labels, scores):.3f}",
                    f"base rate {labels.mean():.3f}",
                )
            )
        top_errors = self.est.reconstruction_error(self.inputs, per_feature=True)
        shown = self.X if self.table is None else top_errors  # X only gives the shape
        self._add(
            "anomaly",
            "Anomaly detection",
            [
                (
                    plots.plot_anomaly_scores(scores, threshold, labels=labels),
                    "Anomaly scores (reconstruction error, higher = more anomalous) "
                    "and the threshold.",
                ),
                (
                    plots.plot_top_anomalies(
                        shown, scores, feature_errors=top_errors, feature_names=self.columns
                    ),
                    "The most anomalous samples.",
                ),
            ],
        )

    def _denoising(self, plots: Any) -> None:
        import torch

        from aekit.metrics import psnr
        from aekit.models.corruption import corrupt

        clean = self.X[:8]
        scaled = self.est.scaler_.transform(clean.reshape(len(clean), *self.est.sample_shape_))
        clip = (0.0, 1.0) if self.est.scaler_.unit_range else None
        noisy_scaled = corrupt(
            torch.from_numpy(scaled),
            self.est.noise,
            self.est.noise_level,
            torch.Generator().manual_seed(0),
            clip=clip,
        ).numpy()
        noisy = self.est.scaler_.inverse_transform(noisy_scaled).reshape(clean.shape)
        denoised = self.est.denoise(noisy)
        before, after = psnr(clean, noisy), psnr(clean, denoised)
        self.cards.append(("Denoising PSNR", f"{after:.1f} dB", f"noisy input {before:.1f} dB"))
        self._add(
            "denoising",
            "Denoising",
            [
                (
                    plots.plot_denoising(noisy, denoised, clean),
                    f"{self.est.noise} noise at level {self.est.noise_level}: noisy, denoised, "
                    f"clean.",
                )
            ],
        )

    def _generation(self, plots: Any) -> None:
        figures = []
        if self.images:
            shape = None if len(self.est.sample_shape_) >= 2 else _side(self.est.sample_shape_)
            samples = self.est.sample(36, random_state=0)
            figures.append(
                (
                    plots.plot_samples(samples, image_shape=shape),
                    "Samples decoded from codes drawn from N(0, I).",
                )
            )
            strip = self.est.interpolate(self.X[0], self.X[1], steps=10)
            figures.append(
                (
                    plots.plot_interpolation(strip, image_shape=shape),
                    "A walk through the latent space between two samples.",
                )
            )
            if self.est.latent_dim == 2:
                figures.append(
                    (
                        plots.plot_latent_manifold(self.est),
                        "Decodes over a grid of the 2-D latent plane.",
                    )
                )
        note = "" if figures else "Generated samples are drawn for image data only."
        self._add("generation", "Generation", figures, note)

    def _model_card(self, report_seconds: float) -> str:
        est, history = self.est, self.est.history_
        n_params = sum(p.numel() for p in est.model_.parameters())
        config = est.model_.config.to_json()
        rows = {
            "estimator": type(est).__name__,
            "kind": self.kind,
            "variants": ", ".join(
                v
                for v, on in [
                    ("variational", config.get("variational")),
                    ("sparse", config.get("sparsity")),
                    ("denoising", getattr(est, "noise", None)),
                ]
                if on
            )
            or "plain",
            "sample shape": str(tuple(est.sample_shape_)),
            "latent size": str(est.latent_dim),
            "parameters": f"{n_params:,}",
            "activation / loss": f"{config['activation']} / {config['loss']} "
            f"(output {config['output_activation']})",
            "scaling": est.scaler_.method
            if self.table is None
            else f"table: {len(self.columns or [])} columns as {est.sample_shape_[0]} inputs",
            "epochs": f"{history.n_epochs} (best {_best(history) + 1}"
            f"{', stopped early' if history.stopped_early else ''})",
            "training time": f"{history.fit_seconds:.1f} s",
            "report data": f"{len(self.X)} samples"
            + (" (subsampled)" if len(self.X) == MAX_ROWS else ""),
            "report built in": f"{report_seconds:.1f} s",
        }
        for key in ("hidden_dims", "channels"):
            if key in config:
                rows[key.replace("_", " ")] = str(tuple(config[key]))
        return (
            "<table>"
            + "".join(
                f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                for k, v in rows.items()
            )
            + "</table>"
        )


# --- helpers --------------------------------------------------------------------------


def _evenly(n: int, limit: int) -> NDArray[np.intp]:
    return np.arange(n) if n <= limit else np.linspace(0, n - 1, limit).astype(np.intp)


def _square(shape: tuple[int, ...]) -> bool:
    return len(shape) == 1 and shape[0] >= 16 and math.isqrt(shape[0]) ** 2 == shape[0]


def _side(shape: tuple[int, ...]) -> tuple[int, int] | None:
    side = math.isqrt(shape[0])
    return (side, side) if side * side == shape[0] else None


def _best(history: Any) -> int:
    return int(history.best_epoch if history.best_epoch is not None else history.n_epochs - 1)


def _figure_html(figure: Any, caption: str) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight", facecolor="white")
    data = base64.b64encode(buffer.getvalue()).decode()
    return (
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _cards_html(cards: list[tuple[str, str, str]]) -> str:
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="label">{html.escape(label)}</div>'
            f'<div class="value">{html.escape(value)}</div>'
            f'<div class="detail">{html.escape(detail)}</div></div>'
            for label, value, detail in cards
        )
        + "</div>"
    )


def _section(ident: str, heading: str, content: str) -> str:
    return f'<section id="{ident}"><h2>{html.escape(heading)}</h2>\n{content}\n</section>'
