"""Figures of a fitted autoencoder: one function per figure, each returning a ``Figure``.

Built on ``matplotlib.figure.Figure`` (no pyplot state, no GUI): save with
``fig.savefig(path)``; in a notebook the figure displays itself. Functions take plain
arrays wherever they can, so they work with any model that produces them.
"""

from aekit.plots.anomaly import plot_anomaly_scores, plot_top_anomalies
from aekit.plots.architecture import plot_architecture
from aekit.plots.generation import plot_interpolation, plot_latent_manifold, plot_samples
from aekit.plots.latent import plot_latent_space
from aekit.plots.reconstruction import (
    plot_denoising,
    plot_error_distribution,
    plot_reconstructions,
)
from aekit.plots.series import (
    plot_channel_shares,
    plot_series_reconstruction,
    plot_series_scores,
)
from aekit.plots.training import plot_loss_curves

__all__ = [
    "plot_anomaly_scores",
    "plot_architecture",
    "plot_channel_shares",
    "plot_denoising",
    "plot_error_distribution",
    "plot_interpolation",
    "plot_latent_manifold",
    "plot_latent_space",
    "plot_loss_curves",
    "plot_reconstructions",
    "plot_samples",
    "plot_series_reconstruction",
    "plot_series_scores",
    "plot_top_anomalies",
]
