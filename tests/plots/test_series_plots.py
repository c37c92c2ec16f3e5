"""The series figures: what they draw, and the errors they give for mismatched inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aekit.plots import plot_channel_shares, plot_series_reconstruction, plot_series_scores


def test_scores_panel_shades_the_flagged_stretches_and_the_labels() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(300, 3))
    scores = np.abs(rng.normal(size=300))
    scores[100:120] = 10.0  # one flagged stretch
    labels = np.zeros(300, int)
    labels[95:125] = 1
    index = pd.date_range("2024-01-01", periods=300, freq="1min")
    fig = plot_series_scores(
        values, scores, 5.0, index=index, channels=["a", "b", "c"], labels=labels
    )
    top, bottom = fig.axes
    assert len(top.lines) == 3 and [t.get_text() for t in top.get_legend().get_texts()] == [
        "a",
        "b",
        "c",
    ]
    assert bottom.get_title() == "20 of 300 timestamps flagged, in 1 stretches"
    spans = [p for p in bottom.patches]  # the flagged stretch and the labelled one
    assert len(spans) == 2
    with pytest.raises(ValueError, match=r"scores has shape \(10,\); expected \(300,\)"):
        plot_series_scores(values, scores[:10], 1.0)
    with pytest.raises(ValueError, match="index has 5 entries but the series has 300"):
        plot_series_scores(values, scores, 1.0, index=index[:5])


def test_shares_stack_to_one_and_reconstructions_draw_each_channel() -> None:
    shares = pd.DataFrame(np.full((50, 2), 0.5), columns=["x", "y"])
    fig = plot_channel_shares(shares)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["x", "y"]
    assert fig.axes[0].get_ylim() == (0.0, 1.0)
    values = np.sin(np.linspace(0, 10, 200))[:, None] * np.ones((1, 10))
    fig = plot_series_reconstruction(values, values * 0.9)
    assert len(fig.axes) == 8  # at most MAX_CHANNELS panels
    noisy = plot_series_reconstruction(values[:, 0], values[:, 0], noisy=values[:, 0] + 0.1)
    assert len(noisy.axes[0].lines) == 3
    with pytest.raises(ValueError, match="reconstruction has shape"):
        plot_series_reconstruction(values, values[:, :2])
