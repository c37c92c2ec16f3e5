"""Loss curves of a training run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from aekit.plots._common import TRAIN_COLOR, VAL_COLOR, figure_and_axes, new_figure

BEST_GID = "aekit-best-epoch"
_TERM_COLORS = {"reconstruction": "#4c78a8", "kl": "#e45756", "sparsity": "#54a24b"}


def plot_loss_curves(history: Any, *, ax: Axes | None = None) -> Figure:
    """Training and validation loss per epoch, each loss term, and the epoch kept.

    The total loss goes in one panel; when the loss has terms besides the reconstruction
    (KL, sparsity) they get a second panel, on a log scale when they span decades. With
    ``ax``, everything is drawn on that one axes. Epochs count from 1; the epoch whose
    weights were kept (``history.best_epoch + 1``) is marked.

    Parameters
    ----------
    history : History
        ``estimator.history_``: ``train_loss``, ``val_loss``, ``train_terms``,
        ``val_terms``, ``best_epoch`` (0-based), ``stopped_early``.
    ax : Axes, optional

    Returns
    -------
    fig : Figure

    Examples
    --------
    >>> from aekit import Autoencoder
    >>> from aekit.datasets import load_digits
    >>> from aekit.plots import plot_loss_curves
    >>> X, _ = load_digits()
    >>> ae = Autoencoder(max_epochs=3, random_state=0).fit(X)
    >>> fig = plot_loss_curves(ae.history_)
    """
    train = list(getattr(history, "train_loss", None) or [])
    if not train:
        raise ValueError("history has no epochs to plot (train_loss is empty)")
    val = list(getattr(history, "val_loss", None) or [])
    train_terms: dict[str, list[float]] = dict(getattr(history, "train_terms", {}) or {})
    val_terms: dict[str, list[float]] = dict(getattr(history, "val_terms", {}) or {})
    # with a single term it is the total: a second panel would repeat the first
    show_terms = len(train_terms) > 1

    if ax is None and show_terms:
        fig = new_figure(10.0, 3.8)
        loss_ax, terms_ax = fig.subplots(1, 2)
    else:
        fig, loss_ax = figure_and_axes(ax, 5.5, 3.8)
        terms_ax = loss_ax if show_terms else None

    _curve(loss_ax, train, "train loss", TRAIN_COLOR, "-")
    if val:
        _curve(loss_ax, val, "validation loss", VAL_COLOR, "-")
    if terms_ax is not None:
        for name, values in train_terms.items():
            color = _TERM_COLORS.get(name)
            _curve(terms_ax, values, f"{name} (train)", color, "-", lw=1.2)
            if name in val_terms:
                _curve(terms_ax, val_terms[name], f"{name} (val)", color, "--", lw=1.2)
    _mark_best(loss_ax, history, val or train)

    separate = terms_ax is not None and terms_ax is not loss_ax
    panels = [loss_ax, terms_ax] if separate and terms_ax is not None else [loss_ax]
    for axes in panels:
        axes.set_xlabel("epoch")
        axes.set_ylabel("loss")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        if _spans_decades(axes):
            axes.set_yscale("log")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8, loc="best")
    loss_ax.set_title("Loss per epoch" + (" and its terms" if terms_ax is loss_ax else ""))
    if terms_ax is not None and terms_ax is not loss_ax:
        terms_ax.set_title("Loss terms (weighted, as summed into the loss)")
    return fig


def _curve(
    ax: Axes, values: Sequence[float], label: str, color: str | None, style: str, lw: float = 1.6
) -> None:
    epochs = np.arange(1, len(values) + 1)
    marker = "o" if len(values) <= 30 else None
    ax.plot(epochs, values, style, color=color, label=label, lw=lw, marker=marker, ms=3)


def _mark_best(ax: Axes, history: Any, monitored: Sequence[float]) -> None:
    best = getattr(history, "best_epoch", None)
    if best is None or not 0 <= best < len(monitored):
        return
    stopped = " (then stopped early)" if getattr(history, "stopped_early", False) else ""
    ax.axvline(best + 1, color="#555555", ls=":", lw=1.2, gid=BEST_GID)
    ax.plot(
        [best + 1],
        [monitored[best]],
        marker="*",
        ms=13,
        color="#d62728",
        ls="none",
        label=f"kept: epoch {best + 1}{stopped}",
        gid=BEST_GID,
        zorder=5,
    )


def _spans_decades(ax: Axes) -> bool:
    """Whether the curves (not the best-epoch line, in axes units) span decades."""
    curves = [line for line in ax.get_lines() if line.get_gid() != BEST_GID]
    values = np.concatenate([np.asarray(line.get_ydata(), dtype=float) for line in curves])
    values = values[np.isfinite(values)]
    if values.size == 0 or values.min() <= 0:
        return False
    return bool(values.max() / values.min() > 30.0)
