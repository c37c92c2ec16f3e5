"""Every figure rendered headless from real models, and its content checked."""

from __future__ import annotations

import io
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import NDArray
from sklearn.metrics import average_precision_score, roc_auc_score

from aekit import Autoencoder, plots
from aekit.plots.anomaly import THRESHOLD_GID
from aekit.plots.architecture import LAYER_GID
from aekit.plots.training import BEST_GID
from aekit.training.history import History

Rows = tuple[NDArray[np.float32], NDArray[np.int64]]


def render(fig: Figure) -> Figure:
    """Draw the figure to PNG bytes, as saving it would; fails on any drawing error."""
    assert isinstance(fig, Figure)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    assert buffer.getvalue().startswith(b"\x89PNG")
    return fig


def visible_axes(fig: Figure) -> list[Axes]:
    """Panels only: not colour bars, not hidden spare cells."""
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def legend_texts(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None, f"no legend on {ax.get_title()!r}"
    return [text.get_text() for text in legend.get_texts()]


def all_texts(fig: Figure) -> str:
    parts = [t.get_text() for t in fig.texts]
    if fig._suptitle is not None:
        parts.append(fig._suptitle.get_text())
    for ax in fig.axes:
        parts += [ax.get_title(), ax.get_title("left"), ax.get_xlabel(), ax.get_ylabel()]
        parts += [t.get_text() for t in ax.texts]
    return "\n".join(parts)


def n_weight_layers(module: Any) -> int:
    """Boxes the diagram should draw: layers with a weight matrix or kernel, and composite
    layers that name themselves (``diagram_label``) as one box each."""
    if hasattr(module, "diagram_label"):
        return 1
    children = list(module.children())
    if not children:
        weight = getattr(module, "weight", None)
        return int(weight is not None and weight.ndim >= 2)
    return sum(n_weight_layers(child) for child in children)


# --- the package -----------------------------------------------------------------------


def test_import_aekit_stays_free_of_matplotlib_and_torch() -> None:
    code = (
        "import sys, aekit; "
        "assert 'matplotlib' not in sys.modules and 'torch' not in sys.modules; "
        "import aekit; p = aekit.plots; "
        "assert 'matplotlib' in sys.modules and callable(p.plot_loss_curves); "
        "assert 'matplotlib.pyplot' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- architecture ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dense", "variational", "conv_denoising"])
def test_architecture_draws_one_box_per_tensor(name: str, request: pytest.FixtureRequest) -> None:
    estimator = request.getfixturevalue(name)
    model = estimator.model_
    fig = render(plots.plot_architecture(estimator))
    (ax,) = fig.axes
    boxes = [p for p in ax.patches if p.get_gid() == LAYER_GID]
    code_boxes = 2 if model.config.variational else 1
    expected = 1 + n_weight_layers(model.encoder) + code_boxes + n_weight_layers(model.decoder)
    assert len(boxes) == expected
    parts = [box.get_label().split(":")[0] for box in boxes]
    assert parts[0] == "input" and parts[-1] == "output"
    assert parts.count("code") == code_boxes
    assert {"encoder", "decoder"} <= set(parts)
    # the hourglass: the code is the smallest box, and the parts have their own colours
    heights = [box.get_height() for box in boxes]
    code_heights = [h for h, part in zip(heights, parts, strict=True) if part == "code"]
    assert max(code_heights) == min(heights) < max(heights)
    colors = {part: box.get_facecolor() for part, box in zip(parts, boxes, strict=True)}
    assert len({colors["encoder"], colors["code"], colors["decoder"]}) == 3
    text = all_texts(fig)
    assert "encoder" in text and "decoder" in text and "parameters" in ax.get_title()
    if model.config.variational:
        assert "μ" in text and "log σ²" in text
    if name == "conv_denoising":
        assert "4×4×4" in text and "8×2×2" in text and "1×8×8" in text  # C×H×W per stage
        assert "Space-to-depth ↓2, Conv 3×3" in text and "Conv 3×3 ↓2" in text
        assert "Residual 2× Conv 3×3" in text and "Nearest ↑2, Conv 3×3" in text
        assert "Conv 3×3, pixel shuffle ↑2" in text


def test_architecture_takes_the_torch_module_and_an_axes(dense: Autoencoder) -> None:
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.plot_architecture(dense.model_, ax=ax) is fig
    with pytest.raises(TypeError, match="fitted aekit estimator"):
        plots.plot_architecture(object())


# --- training --------------------------------------------------------------------------


def test_loss_curves_with_only_the_reconstruction_term(dense: Autoencoder) -> None:
    history = dense.history_
    fig = render(plots.plot_loss_curves(history))
    (ax,) = fig.axes
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    labels = legend_texts(ax)
    assert labels[:2] == ["train loss", "validation loss"]
    train_line = next(line for line in ax.get_lines() if line.get_label() == "train loss")
    np.testing.assert_allclose(train_line.get_ydata(), history.train_loss)
    np.testing.assert_array_equal(train_line.get_xdata(), np.arange(1, history.n_epochs + 1))
    best = [line for line in ax.get_lines() if line.get_gid() == BEST_GID]
    assert best and all(line.get_xdata()[0] == history.best_epoch + 1 for line in best)
    assert f"kept: epoch {history.best_epoch + 1}" in labels


def test_loss_curves_show_each_term_in_a_second_panel(variational: Autoencoder) -> None:
    fig = render(plots.plot_loss_curves(variational.history_))
    _, terms_ax = fig.axes
    assert "Loss terms" in terms_ax.get_title()
    labels = legend_texts(terms_ax)
    for term in ("reconstruction", "kl", "sparsity"):
        assert f"{term} (train)" in labels and f"{term} (val)" in labels


def test_loss_curves_mark_early_stopping_and_go_log_over_decades() -> None:
    history = History(
        train_loss=[10.0, 1.0, 0.1, 0.09, 0.095],
        val_loss=[12.0, 1.5, 0.2, 0.25, 0.3],
        train_terms={
            "reconstruction": [9.0, 0.9, 0.09, 0.08, 0.08],
            "kl": [1, 0.1, 0.01, 0.01, 0.015],
        },
        best_epoch=2,
        stopped_early=True,
    )
    fig = render(plots.plot_loss_curves(history))
    loss_ax, terms_ax = fig.axes
    assert loss_ax.get_yscale() == "log" and terms_ax.get_yscale() == "log"
    assert "kept: epoch 3 (then stopped early)" in legend_texts(loss_ax)
    (vline,) = [
        line for line in loss_ax.get_lines() if line.get_gid() == BEST_GID and line.get_ls() == ":"
    ]
    assert list(vline.get_xdata()) == [3, 3]
    # on one given axes, everything is drawn there
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.plot_loss_curves(history, ax=ax) is fig
    assert len(fig.axes) == 1 and "kl (train)" in legend_texts(ax)
    with pytest.raises(ValueError, match="no epochs"):
        plots.plot_loss_curves(History())


# --- reconstructions -------------------------------------------------------------------


def test_reconstructions_of_images(conv_denoising: Autoencoder, images: NDArray[Any]) -> None:
    X = images[:6]
    X_hat = conv_denoising.reconstruct(X)
    fig = render(plots.plot_reconstructions(X, X_hat, n=5))
    axes = fig.axes
    assert len(axes) == 10 and all(len(ax.images) == 1 for ax in axes)
    assert axes[0].get_ylabel() == "original" and axes[5].get_ylabel() == "reconstruction"
    assert all(ax.images[0].get_cmap().name == "gray" for ax in axes)
    assert not axes[0].get_xticks().size and axes[0].get_aspect() == 1.0
    np.testing.assert_array_equal(axes[0].images[0].get_array(), X[0])
    # flat rows with image_shape, and channels-first colour images
    flat = render(
        plots.plot_reconstructions(X.reshape(6, -1), X_hat.reshape(6, -1), image_shape=(8, 8))
    )
    assert sum(len(ax.images) for ax in flat.axes) == 12
    rgb = np.repeat(X[:, None], 3, axis=1)  # (n, 3, H, W)
    color = render(plots.plot_reconstructions(rgb, rgb, n=2))
    assert color.axes[0].images[0].get_array().shape == (8, 8, 3)


def test_reconstructions_of_tabular_rows(dense: Autoencoder, rows: Rows) -> None:
    X = rows[0][:10]
    names = [f"pixel_{i}" for i in range(64)]
    fig = render(plots.plot_reconstructions(X, dense.reconstruct(X), feature_names=names))
    axes = fig.axes
    assert len(axes) == 4  # at most four rows drawn as panels
    assert len(axes[0].patches) == 64  # one bar per feature
    assert axes[0].get_title("left").startswith("sample 0: MSE")
    ticks = [t.get_text() for t in axes[-1].get_xticklabels()]
    assert ticks[0] == "pixel_0" and set(ticks) <= set(names)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["original", "reconstruction"]


def test_reconstructions_name_both_shapes_when_they_differ() -> None:
    with pytest.raises(ValueError, match=r"X \(4, 64\) and X_hat \(4, 63\)"):
        plots.plot_reconstructions(np.zeros((4, 64)), np.zeros((4, 63)))
    with pytest.raises(ValueError, match="image_shape"):
        plots.plot_reconstructions(np.zeros((4, 64)), np.zeros((4, 64)), image_shape=(7, 7))
    with pytest.raises(ValueError, match="feature_names has 2 names"):
        plots.plot_reconstructions(np.zeros((4, 3)), np.zeros((4, 3)), feature_names=["a", "b"])


# --- latent space ----------------------------------------------------------------------


def test_latent_space_beside_pca_with_a_legend_of_classes(dense: Autoencoder, rows: Rows) -> None:
    X, y = rows
    fig = render(plots.plot_latent_space(dense.transform(X), X=X, labels=y))
    codes_ax, pca_ax = fig.axes
    assert codes_ax.get_title() == "Latent codes (2-D)"
    assert pca_ax.get_title().startswith("PCA of the data (2-D")
    assert (pca_ax.get_xlabel(), pca_ax.get_ylabel()) == ("PC 1", "PC 2")
    assert legend_texts(pca_ax) == [str(d) for d in range(10)]
    assert sum(len(c.get_offsets()) for c in codes_ax.collections) == len(X)


def test_latent_space_projects_larger_codes_and_names_classes(rows: Rows) -> None:
    X, y = rows
    Z = np.random.default_rng(0).normal(size=(len(X), 6))
    names = [f"digit {d}" for d in range(10)]
    fig = render(plots.plot_latent_space(Z, labels=y, class_names=names))
    (ax,) = fig.axes
    assert "6-D" in ax.get_title() and "PCA" in ax.get_title()
    assert legend_texts(ax)[0] == "digit 0"
    # continuous labels: a colour bar; one given axes: only the codes
    fig = Figure()
    ax = fig.add_subplot()
    plots.plot_latent_space(Z[:, :2], labels=np.linspace(0, 1, len(X)), ax=ax)
    render(fig)
    assert any(a.get_label() == "<colorbar>" for a in fig.axes)
    with pytest.raises(ValueError, match=r"X \(10, 64\) and Z \(300, 6\)"):
        plots.plot_latent_space(Z, X=X[:10])


# --- anomaly detection -----------------------------------------------------------------


def test_anomaly_scores_histogram_and_threshold(dense: Autoencoder, rows: Rows) -> None:
    scores = dense.reconstruction_error(rows[0])
    threshold = float(np.quantile(scores, 0.9))
    fig = render(plots.plot_anomaly_scores(scores, threshold))
    (ax,) = fig.axes
    (line,) = [line for line in ax.get_lines() if line.get_gid() == THRESHOLD_GID]
    assert list(line.get_xdata()) == [threshold, threshold]
    assert any(t.startswith(f"threshold {threshold:.3g}") for t in legend_texts(ax))
    assert "higher = more anomalous" in ax.get_xlabel()
    assert sum(p.get_height() for p in ax.patches) == len(scores)


def test_anomaly_scores_spanning_decades_get_a_log_axis() -> None:
    scores = np.random.default_rng(0).lognormal(mean=0.0, sigma=3.0, size=500)
    fig = render(plots.plot_anomaly_scores(scores, 20.0))
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and "log scale" in ax.get_xlabel()
    (line,) = [line for line in ax.get_lines() if line.get_gid() == THRESHOLD_GID]
    assert list(line.get_xdata()) == [20.0, 20.0]
    assert sum(p.get_height() for p in ax.patches) == len(scores)


def test_a_few_extreme_scores_get_a_log_axis_so_the_bulk_keeps_its_bins() -> None:
    """ADBench's cardio: scores near 1 and a handful up to 15,000 (found in the gallery)."""
    rng = np.random.default_rng(0)
    scores = np.concatenate([rng.gamma(4.0, 0.5, size=1000), [3_000.0, 9_000.0, 15_000.0]])
    fig = render(plots.plot_anomaly_scores(scores, 35.0))
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights[-1] < 0.5 * len(scores)  # the bulk spread over several bins


def test_anomaly_scores_with_labels_add_roc_and_pr(dense: Autoencoder, rows: Rows) -> None:
    X, y = rows
    scores = dense.reconstruction_error(X)
    labels = (y == 8).astype(int)
    threshold = float(np.quantile(scores, 0.9))
    fig = render(plots.plot_anomaly_scores(scores, threshold, labels=labels))
    hist_ax, roc_ax, pr_ax = fig.axes
    assert [t.split(" (")[0] for t in legend_texts(hist_ax)[:2]] == ["normal", "anomaly"]
    assert hist_ax.get_ylabel() == "share of its class"
    np.testing.assert_allclose(sum(p.get_height() for p in hist_ax.patches), 2.0)
    auc = roc_auc_score(labels, scores)
    assert f"AUC = {auc:.3f}" in roc_ax.get_title()
    assert f"ROC AUC = {auc:.3f}" in legend_texts(roc_ax)
    assert f"AP = {average_precision_score(labels, scores):.3f}" in pr_ax.get_title()
    assert roc_ax.get_xlabel() == "false positive rate" and pr_ax.get_xlabel() == "recall"
    assert any(line.get_gid() == THRESHOLD_GID for line in hist_ax.get_lines())
    with pytest.raises(ValueError, match=r"0 \(normal\) and 1 \(anomaly\)"):
        plots.plot_anomaly_scores(scores, threshold, labels=y)
    with pytest.raises(ValueError, match=r"shape \(300,\)"):
        plots.plot_anomaly_scores(scores, threshold, labels=labels[:5])


def test_top_anomalies_of_images(conv_denoising: Autoencoder, images: NDArray[Any]) -> None:
    scores = conv_denoising.reconstruction_error(images)
    errors = conv_denoising.reconstruction_error(images, per_feature=True)
    fig = render(plots.plot_top_anomalies(images, scores, n=5, feature_errors=errors))
    panels = visible_axes(fig)
    assert sum(len(ax.images) for ax in panels) == 10  # samples and their error maps
    worst = int(np.argmax(scores))
    assert panels[0].get_title().startswith(f"#{worst}")
    np.testing.assert_array_equal(panels[0].images[0].get_array(), images[worst])
    only_samples = render(plots.plot_top_anomalies(images, scores, n=3))
    assert sum(len(ax.images) for ax in only_samples.axes) == 3


def test_top_anomalies_of_rows_show_contributing_features(dense: Autoencoder, rows: Rows) -> None:
    X = rows[0]
    scores = dense.reconstruction_error(X)
    errors = dense.reconstruction_error(X, per_feature=True)
    names = [f"f{i}" for i in range(64)]
    fig = render(
        plots.plot_top_anomalies(
            X, scores, n=6, feature_errors=errors, feature_names=names, n_features=5
        )
    )
    panels = visible_axes(fig)
    assert len(panels) == 6 and all(len(ax.patches) == 5 for ax in panels)
    worst = int(np.argmax(scores))
    assert panels[0].get_title().startswith(f"sample {worst}")
    top_feature = names[int(np.argmax(errors[worst]))]
    assert panels[0].get_yticklabels()[0].get_text() == top_feature
    with pytest.raises(ValueError, match="needs feature_errors"):
        plots.plot_top_anomalies(X, scores)
    with pytest.raises(ValueError, match=r"scores \(10,\) and X \(300, 64\)"):
        plots.plot_top_anomalies(X, scores[:10])


# --- error distribution ----------------------------------------------------------------


def test_error_distribution_of_rows(dense: Autoencoder, rows: Rows) -> None:
    errors = dense.reconstruction_error(rows[0], per_feature=True)
    fig = render(plots.plot_error_distribution(errors, max_features=10))
    hist_ax, feature_ax = fig.axes
    assert hist_ax.get_ylabel() == "samples"
    assert sum(p.get_height() for p in hist_ax.patches) == len(errors)
    assert len(feature_ax.patches) == 10 and "top 10 of 64" in feature_ax.get_title()
    widths = [p.get_width() for p in feature_ax.patches]
    assert widths == sorted(widths, reverse=True)
    np.testing.assert_allclose(widths[0], errors.mean(axis=0).max(), rtol=1e-6)


def test_error_distribution_of_images_is_a_heat_map(
    conv_denoising: Autoencoder, images: NDArray[Any]
) -> None:
    errors = conv_denoising.reconstruction_error(images, per_feature=True)
    fig = render(plots.plot_error_distribution(errors))
    panels = visible_axes(fig)
    assert len(panels) == 2 and len(fig.axes) == 3  # and a colour bar
    (heat,) = panels[1].images
    np.testing.assert_allclose(heat.get_array(), errors.mean(axis=0), rtol=1e-6)
    with pytest.raises(ValueError, match="one row of errors per sample"):
        plots.plot_error_distribution(np.zeros(5))


# --- denoising -------------------------------------------------------------------------


def test_denoising_rows_with_psnr(conv_denoising: Autoencoder, images: NDArray[Any]) -> None:
    clean = images[:6]
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 0.2, clean.shape), 0, 1)
    denoised = conv_denoising.reconstruct(noisy.astype(np.float32))
    fig = render(plots.plot_denoising(noisy, denoised, clean, n=4))
    axes = fig.axes
    assert len(axes) == 12 and all(len(ax.images) == 1 for ax in axes)
    assert [axes[i].get_ylabel() for i in (0, 4, 8)] == ["noisy", "denoised", "clean"]
    expected = 10 * np.log10(1.0 / np.mean((clean[0] - noisy[0]) ** 2))
    assert axes[0].get_title() == f"{expected:.1f} dB"
    assert axes[4].get_title().endswith(" dB") and axes[8].get_title() == ""
    assert "PSNR" in fig._suptitle.get_text()
    flat = render(
        plots.plot_denoising(
            noisy.reshape(6, -1), denoised.reshape(6, -1), clean.reshape(6, -1), n=2
        )
    )
    assert len(flat.axes) == 2 and "PSNR noisy" in flat.axes[0].get_title("left")
    with pytest.raises(ValueError, match=r"noisy \(6, 8, 8\) and clean \(5, 8, 8\)"):
        plots.plot_denoising(noisy, denoised, clean[:5])


# --- generation ------------------------------------------------------------------------


def test_samples_and_interpolation(variational: Autoencoder, rows: Rows) -> None:
    samples = variational.sample(12, random_state=0)  # flat rows of 64: 8x8 inferred
    fig = render(plots.plot_samples(samples))
    panels = visible_axes(fig)
    assert len(panels) == 12 and all(len(ax.images) == 1 for ax in panels)
    assert panels[0].images[0].get_array().shape == (8, 8)
    a, b = variational.transform(rows[0][:2])
    strip = variational.inverse_transform(np.linspace(a, b, 7))
    fig = render(plots.plot_interpolation(strip))
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == 7 and titles[0] == "start" and titles[-1] == "end"
    with pytest.raises(ValueError, match="image_shape"):
        plots.plot_samples(np.zeros((3, 10)))


def test_latent_manifold(variational: Autoencoder, dense: Autoencoder) -> None:
    fig = render(plots.plot_latent_manifold(variational, grid=5, extent=2.0))
    (ax,) = fig.axes
    (mosaic,) = ax.images
    assert mosaic.get_array().shape == (5 * 9 - 1, 5 * 9 - 1)  # 8x8 tiles, 1-pixel gaps
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("z₁", "z₂")
    assert ax.get_xlim()[0] < -2.0 < 2.0 < ax.get_xlim()[1]
    # a decode function: top-left tile is the decode of (-extent, +extent)
    seen: list[NDArray[Any]] = []

    def decode(Z: NDArray[Any]) -> NDArray[Any]:
        seen.append(Z)
        return dense.inverse_transform(Z)

    render(plots.plot_latent_manifold(decode, grid=3, extent=1.0))
    np.testing.assert_allclose(seen[0][0], [-1.0, 1.0])
    wide = Autoencoder(
        latent_dim=3, model_params={"hidden_dims": (8,)}, max_epochs=1, random_state=0
    )
    wide.fit(np.random.default_rng(0).random((40, 16), dtype=np.float32))
    with pytest.raises(ValueError, match="latent_dim=3"):
        plots.plot_latent_manifold(wide)


def test_every_figure_has_a_line_or_image_or_patch(dense: Autoencoder, rows: Rows) -> None:
    """A smoke net: nothing comes back empty."""
    X = rows[0][:20]
    figures = [
        plots.plot_architecture(dense),
        plots.plot_loss_curves(dense.history_),
        plots.plot_reconstructions(X, dense.reconstruct(X), image_shape=(8, 8)),
        plots.plot_latent_space(dense.transform(X)),
        plots.plot_error_distribution(dense.reconstruction_error(X, per_feature=True)),
    ]
    for fig in figures:
        render(fig)
        for ax in visible_axes(fig):
            drawn = (
                ax.images
                or ax.patches
                or ax.collections
                or [line for line in ax.get_lines() if isinstance(line, Line2D)]
            )
            assert drawn, f"empty panel {ax.get_title()!r}"
