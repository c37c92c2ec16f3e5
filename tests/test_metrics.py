"""``aekit.metrics``: PSNR and SSIM against hand-computed values, and their errors."""

from __future__ import annotations

import numpy as np
import pytest

import aekit
from aekit.metrics import gaussian_window, psnr, ssim


def brute_force_ssim(x, y, data_range):
    """Wang et al. (2004) written out window by window, for one 2-D image."""
    g = gaussian_window()
    w = np.outer(g, g)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    values = []
    for i in range(x.shape[0] - 10):
        for j in range(x.shape[1] - 10):
            px, py = x[i : i + 11, j : j + 11], y[i : i + 11, j : j + 11]
            mx, my = (w * px).sum(), (w * py).sum()
            vx, vy = (w * (px - mx) ** 2).sum(), (w * (py - my) ** 2).sum()
            cov = (w * (px - mx) * (py - my)).sum()
            values.append(
                (2 * mx * my + c1) * (2 * cov + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
            )
    return np.mean(values)


@pytest.fixture
def images():
    return np.random.default_rng(0).random((4, 16, 14)).astype(np.float32)


def test_the_window_is_the_normalised_gaussian_of_sigma_1_5():
    g = gaussian_window()
    assert g.shape == (11,)
    assert g.sum() == pytest.approx(1.0)
    assert g[5] / g[6] == pytest.approx(np.exp(1 / (2 * 1.5**2)))


def test_psnr_of_a_known_mse():
    clean = np.zeros((3, 8, 8))
    estimate = clean + 0.1  # MSE 0.01 on a range of 1 -> 20 dB
    assert psnr(clean, estimate, data_range=1.0) == pytest.approx(20.0)
    assert psnr(clean * 255, estimate * 255, data_range=255) == pytest.approx(20.0)
    per_sample = psnr(
        clean, estimate + np.array([0, 0.1, 0.9])[:, None, None], 1.0, reduction="none"
    )
    np.testing.assert_allclose(per_sample, [20.0, 10 * np.log10(1 / 0.04), 0.0])


def test_psnr_works_on_flat_rows_and_infers_the_range_from_clean():
    clean = np.tile(np.linspace(0, 2, 10), (5, 1))  # range 2
    estimate = clean + 0.2  # MSE 0.04 -> 10 log10(4 / 0.04) = 20 dB
    assert psnr(clean, estimate) == pytest.approx(20.0)


def test_psnr_of_an_exact_copy_is_infinite(images):
    assert np.isinf(psnr(images, images, 1.0))


def test_ssim_of_identical_images_is_one(images):
    assert ssim(images, images, 1.0) == pytest.approx(1.0)
    np.testing.assert_allclose(ssim(images, images, 1.0, reduction="none"), np.ones(4))


def test_ssim_of_constant_images_is_the_luminance_term():
    a, b = 0.2, 0.6
    x, y = np.full((1, 12, 12), a), np.full((1, 12, 12), b)
    c1 = 0.01**2
    # no variance anywhere: the contrast-structure term is C2 / C2 = 1
    assert ssim(x, y, 1.0) == pytest.approx((2 * a * b + c1) / (a**2 + b**2 + c1))


def test_ssim_matches_the_window_by_window_definition(images):
    rng = np.random.default_rng(1)
    noisy = np.clip(images + 0.2 * rng.standard_normal(images.shape), 0, 1)
    expected = [brute_force_ssim(x, y, 1.0) for x, y in zip(images, noisy, strict=True)]
    got = ssim(images, noisy, 1.0, reduction="none")
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    assert 0.0 < got.mean() < 0.9


def test_ssim_averages_channels(images):
    noisy = np.clip(images + 0.1, 0, 1)
    stacked = np.stack([images, images], axis=1)  # (n, 2, H, W): channel 2 reproduced exactly
    stacked_noisy = np.stack([noisy, images], axis=1)
    expected = (ssim(images, noisy, 1.0, reduction="none") + 1.0) / 2
    np.testing.assert_allclose(ssim(stacked, stacked_noisy, 1.0, reduction="none"), expected)


def test_ssim_falls_as_noise_grows(images):
    rng = np.random.default_rng(2)
    scores = [
        ssim(images, np.clip(images + s * rng.standard_normal(images.shape), 0, 1), 1.0)
        for s in (0.05, 0.2, 0.5)
    ]
    assert scores[0] > scores[1] > scores[2]


def test_metrics_are_reachable_lazily_from_the_package():
    assert aekit.metrics.psnr is psnr
    assert "metrics" in dir(aekit)


@pytest.mark.parametrize("metric", [psnr, ssim])
def test_a_shape_mismatch_names_both_shapes(metric, images):
    with pytest.raises(ValueError, match=r"\(4, 16, 14\).*\(4, 14, 16\)"):
        metric(images, images.transpose(0, 2, 1))


@pytest.mark.parametrize("metric", [psnr, ssim])
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data_range": 0.0}, "data_range=0.0 must be positive"),
        ({"reduction": "sum"}, "reduction='sum' is not one of mean, none"),
    ],
)
def test_bad_arguments_are_refused(metric, kwargs, message, images):
    with pytest.raises(ValueError, match=message):
        metric(images, images, **kwargs)


@pytest.mark.parametrize("metric", [psnr, ssim])
def test_bad_data_are_refused(metric, images):
    with pytest.raises(ValueError, match="expected a non-empty batch"):
        metric(images[0, 0], images[0, 0], 1.0)  # one row, no batch axis
    with pytest.raises(ValueError, match="constant"):
        metric(np.ones((2, 12, 12)), np.ones((2, 12, 12)))
    bad = images.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        metric(images, bad, 1.0)


def test_ssim_refuses_flat_rows_and_small_images():
    rows = np.random.default_rng(0).random((3, 64))
    with pytest.raises(ValueError, match=r"got \(3, 64\); reshape flat rows to images"):
        ssim(rows, rows, 1.0)
    with pytest.raises(ValueError, match=r"at least 11x11.*got 8x8"):
        ssim(rows.reshape(3, 8, 8), rows.reshape(3, 8, 8), 1.0)
