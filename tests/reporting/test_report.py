"""The HTML report: sections that apply to the model, honest metrics, one offline file."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

import aekit
from aekit import AnomalyDetector, Autoencoder


def sections(page: str) -> list[str]:
    return re.findall(r'<section id="([a-z]+)">', page)


def test_report_on_a_table_with_names(digits_split, tmp_path):
    train, test = digits_split
    columns = [f"px{i}" for i in range(64)]
    ae = Autoencoder(latent_dim=4, max_epochs=5, random_state=0).fit(
        pd.DataFrame(train, columns=columns)
    )
    path = aekit.report(
        ae,
        pd.DataFrame(test, columns=columns),
        tmp_path / "r.html",
        X_train=pd.DataFrame(train, columns=columns),
    )
    page = path.read_text()
    assert sections(page) == [
        "model",
        "metrics",
        "architecture",
        "training",
        "reconstruction",
        "latent",
        "errors",
    ]
    assert page.count("<img") == 5 and page.count("data:image/png;base64,") == 5
    assert "http://" not in page and "https://" not in page  # nothing fetched from a network
    assert "held-out" in page and "PCA(4) MSE" in page
    expected_mse = float(np.mean((ae.reconstruct(pd.DataFrame(test, columns=columns)) - test) ** 2))
    assert f"{expected_mse:.4g}" in page  # the card shows the number computed here
    assert list(tmp_path.iterdir()) == [path]  # written atomically: no partial file left


def test_detector_report_has_anomaly_metrics(tmp_path):
    X, y = aekit.datasets.load_digits(images=True)
    normal = X[y == 0][:150]
    scored = np.concatenate([X[y == 0][150:], X[y == 7][:5]])
    labels = np.r_[np.zeros(len(scored) - 5), np.ones(5)]
    detector = AnomalyDetector(random_state=0).set_params(estimator__max_epochs=5).fit(normal)
    page = aekit.report(detector, scored, tmp_path / "d.html", labels=labels).read_text()
    assert "anomaly" in sections(page)
    assert "ROC-AUC" in page and "Average precision" in page and "Flagged" in page


def test_denoiser_and_vae_sections(digit_images, tmp_path):
    denoiser = Autoencoder(
        "conv", noise="gaussian", noise_level=0.2, max_epochs=2, random_state=0
    ).fit(digit_images)
    page = aekit.report(denoiser, digit_images, tmp_path / "n.html").read_text()
    assert "denoising" in sections(page) and "Denoising PSNR" in page
    vae = Autoencoder(variational=True, latent_dim=2, max_epochs=2, random_state=0).fit(
        digit_images
    )
    page = aekit.report(vae, digit_images, tmp_path / "v.html").read_text()
    assert "generation" in sections(page)
    assert page.count("<img") == 8  # five common figures, samples, interpolation, manifold


def test_report_errors(digit_images, tmp_path):
    with pytest.raises(NotFittedError):
        aekit.report(Autoencoder(), digit_images, tmp_path / "x.html")
    ae = Autoencoder(max_epochs=1, random_state=0).fit(digit_images)
    with pytest.raises(ValueError, match="labels has 3 entries but X has 600 samples"):
        aekit.report(ae, digit_images, tmp_path / "x.html", labels=[1, 2, 3])
    with pytest.raises(ValueError, match="X is empty"):
        aekit.report(ae, digit_images[:0], tmp_path / "x.html")
    assert not list(tmp_path.iterdir())


def test_series_reports_show_scores_shares_reconstructions_and_codes(
    skab_experiment, timeseries_dir, tmp_path
):
    from aekit import TimeSeriesAutoencoder, TimeSeriesDetector

    frame, labels = skab_experiment
    detector = TimeSeriesDetector(window=16, random_state=0).fit(frame.iloc[:400])
    page = aekit.report(detector, frame, tmp_path / "series.html", labels=labels).read_text()
    assert page.count("<img") == 4  # scores, channel shares, window codes, loss curves
    assert "VUS-PR" in page and "Anomaly scores over time" in page and "Window codes" in page
    daily = pd.read_csv(
        timeseries_dir / "nab" / "artificialNoAnomaly" / "art_daily_no_noise.csv",
        index_col="timestamp",
        parse_dates=True,
    )
    member = TimeSeriesAutoencoder.default_estimator(
        noise="gaussian", noise_level=0.3, max_epochs=2
    )
    model = TimeSeriesAutoencoder(estimator=member, window=24, random_state=0).fit(daily)
    page = aekit.report(model, daily, tmp_path / "signal.html").read_text()
    assert page.count("<img") == 4  # reconstruction, denoising, window codes, loss curves
    assert "Denoising: the series with Gaussian noise" in page
