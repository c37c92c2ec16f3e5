"""The latent space: codes coloured by label, next to PCA's view of the same data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from aekit.plots._common import as_float_array, figure_and_axes, new_figure

MAX_CLASSES = 20  # more distinct labels than this are drawn as a continuous colour scale


def plot_latent_space(
    Z: ArrayLike,
    X: ArrayLike | None = None,
    labels: ArrayLike | None = None,
    *,
    class_names: Sequence[str] | Mapping[Any, str] | None = None,
    ax: Axes | None = None,
    random_state: int = 0,
) -> Figure:
    """Latent codes in 2-D, coloured by label, beside PCA's 2-D projection of the data.

    A 2-D code is drawn as it is; a larger one is projected on its first two principal
    components (the title says so); a 1-D code is drawn against a small random jitter.

    Parameters
    ----------
    Z : array-like of shape (n_samples, latent_dim)
        Codes, ``estimator.transform(X)``.
    X : array-like of shape (n_samples, ...), optional
        The data the codes came from: adds a panel with PCA's 2-D projection of it.
    labels : array-like of shape (n_samples,), optional
        Classes (legend) or, with more than 20 distinct numbers, values (colour bar).
    class_names : sequence or mapping, optional
        Display names of the classes: ``class_names[label]``.
    ax : Axes, optional
        Draw only the codes, on this axes (``X`` must then be None).
    random_state : int, default=0
        Seed of the 1-D jitter.

    Returns
    -------
    fig : Figure

    Examples
    --------
    >>> from aekit import Autoencoder
    >>> from aekit.datasets import load_digits
    >>> from aekit.plots import plot_latent_space
    >>> X, y = load_digits()
    >>> ae = Autoencoder(latent_dim=2, max_epochs=3, random_state=0).fit(X)
    >>> fig = plot_latent_space(ae.transform(X), X, labels=y)  # the codes beside PCA's
    >>> len(fig.axes)
    2
    """
    codes = as_float_array(Z, "Z")
    if codes.ndim != 2 or len(codes) == 0:
        raise ValueError(f"Z must have shape (n_samples, latent_dim); got {codes.shape}")
    data = None
    if X is not None:
        data = as_float_array(X, "X")
        if len(data) != len(codes):
            raise ValueError(
                f"X and Z must have one row per sample; got X {data.shape} and Z {codes.shape}"
            )
        data = data.reshape(len(data), -1)
    label_array = None
    if labels is not None:
        label_array = np.asarray(labels)
        if label_array.shape != (len(codes),):
            raise ValueError(
                f"labels must have shape ({len(codes)},), one per row of Z {codes.shape}; "
                f"got {label_array.shape}"
            )
    if ax is not None and data is not None:
        raise ValueError("ax= draws the codes only; pass X=None, or no ax for two panels")

    if ax is None:
        fig = new_figure(10.5 if data is not None else 5.8, 4.6)
        axes = list(fig.subplots(1, 2 if data is not None else 1, squeeze=False)[0])
    else:
        fig, only = figure_and_axes(ax, 5.8, 4.6)
        axes = [only]

    points, title, xlabel, ylabel = _project_codes(codes, random_state)
    mappable = _scatter(axes[0], points, label_array, class_names)
    axes[0].set_title(title)
    axes[0].set_xlabel(xlabel)
    axes[0].set_ylabel(ylabel)
    if codes.shape[1] == 1:
        axes[0].set_yticks([])
    if data is not None:
        from sklearn.decomposition import PCA

        n_components = min(2, *data.shape)
        pca = PCA(n_components=n_components).fit(data)
        projected = pca.transform(data)
        if n_components == 1:
            projected = np.column_stack([projected, np.zeros(len(projected))])
        _scatter(axes[1], projected, label_array, class_names)
        explained = 100 * pca.explained_variance_ratio_.sum()
        axes[1].set_title(f"PCA of the data (2-D, {explained:.0f}% of variance)")
        axes[1].set_xlabel("PC 1")
        axes[1].set_ylabel("PC 2")

    if label_array is not None:
        if mappable is not None:
            fig.colorbar(mappable, ax=axes, label="label", shrink=0.9)
        else:
            handles, names = axes[0].get_legend_handles_labels()
            legend_ax = axes[-1]
            legend = legend_ax.legend(
                handles,
                names,
                title="label",
                fontsize=8,
                loc="upper left",
                bbox_to_anchor=(1.02, 1.0),
                borderaxespad=0.0,
            )
            for handle in legend.legend_handles:  # one readable marker size, whatever n
                if isinstance(handle, PathCollection):
                    handle.set_sizes([25.0])
    return fig


def _project_codes(
    codes: NDArray[np.float64], random_state: int
) -> tuple[NDArray[np.float64], str, str, str]:
    latent_dim = codes.shape[1]
    if latent_dim == 2:
        return codes, "Latent codes (2-D)", "z₁", "z₂"
    if latent_dim == 1:
        jitter = np.random.default_rng(random_state).uniform(-0.4, 0.4, len(codes))
        return np.column_stack([codes[:, 0], jitter]), "Latent codes (1-D, jittered)", "z₁", ""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2).fit(codes)
    explained = 100 * pca.explained_variance_ratio_.sum()
    title = f"Latent codes ({latent_dim}-D → PCA 2-D, {explained:.0f}% of variance)"
    return pca.transform(codes), title, "code PC 1", "code PC 2"


def _scatter(
    ax: Axes,
    points: NDArray[np.float64],
    labels: NDArray[Any] | None,
    class_names: Sequence[str] | Mapping[Any, str] | None,
) -> Any:
    """Scatter ``points``; returns the mappable when the labels are continuous."""
    size = float(np.clip(6000 / max(len(points), 1), 4, 30))
    style: dict[str, Any] = {"s": size, "alpha": 0.8, "linewidths": 0}
    ax.grid(alpha=0.25)
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], color="#4c78a8", **style)
        return None
    classes = np.unique(labels)
    numeric = np.issubdtype(labels.dtype, np.number)
    if numeric and len(classes) > MAX_CLASSES:
        return ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="viridis", **style)
    cmap = _class_colors(len(classes))
    for i, cls in enumerate(classes):
        mask = labels == cls
        ax.scatter(
            points[mask, 0],
            points[mask, 1],
            color=cmap[i],
            label=_name(cls, class_names),
            **style,
        )
    return None


def _class_colors(n: int) -> list[tuple[float, float, float, float]]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i) for i in range(n)]


def _name(cls: Any, class_names: Sequence[str] | Mapping[Any, str] | None) -> str:
    if class_names is None:
        return str(cls)
    try:
        if isinstance(class_names, Mapping):
            return str(class_names[cls])
        return str(class_names[int(cls)])
    except (KeyError, IndexError, TypeError, ValueError):
        raise ValueError(f"class_names has no name for label {cls!r}") from None
