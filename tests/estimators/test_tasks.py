"""The tasks on top of ``Autoencoder``: denoising, generation, features for a classifier."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit import Autoencoder
from aekit.exceptions import InputError
from aekit.metrics import psnr

# --- denoising -------------------------------------------------------------------------


def add_noise(X, std, seed=0):
    noise = np.random.default_rng(seed).standard_normal(X.shape).astype(np.float32)
    return np.clip(X + std * noise, 0.0, 1.0)


def test_a_denoiser_raises_psnr_over_its_noisy_input_on_held_out_digits(digits_split):
    train_X, test_X = digits_split
    ae = Autoencoder(
        latent_dim=16,
        noise="gaussian",
        noise_level=0.3,
        max_epochs=10,
        random_state=0,
    ).fit(train_X)
    noisy = add_noise(test_X, 0.3)
    denoised = ae.denoise(noisy)
    assert denoised.shape == test_X.shape and denoised.dtype == np.float32
    gain = psnr(test_X, denoised, 1.0) - psnr(test_X, noisy, 1.0)
    assert gain > 1.5, gain  # decibels, over a noisy input at about 13 dB
    per_sample = psnr(test_X, denoised, 1.0, reduction="none") - psnr(
        test_X, noisy, 1.0, reduction="none"
    )
    assert (per_sample > 0).mean() > 0.8


def test_denoise_is_the_reconstruction_in_the_data_units(digits):
    X = digits[0][:300] * 16.0  # grey levels 0-16: scaled per feature, not in [0, 1]
    ae = Autoencoder(latent_dim=8, noise="gaussian", noise_level=0.3, max_epochs=3).fit(X)
    denoised = ae.denoise(X)
    np.testing.assert_array_equal(denoised, ae.reconstruct(X))
    assert abs(denoised.mean() - X.mean()) < 1.5


def test_denoise_warns_on_a_model_fitted_without_noise(digits):
    ae = Autoencoder(latent_dim=4, max_epochs=1, random_state=0).fit(digits[0][:200])
    with pytest.warns(UserWarning, match="fitted without noise"):
        ae.denoise(digits[0][:5])


# --- generation ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vae_images():
    """A small VAE fitted on 8x8 digit images in grey levels 0-16."""
    from aekit.datasets import load_digits

    X = load_digits(images=True)[0][:600] * 16.0
    vae = Autoencoder(
        latent_dim=4, variational=True, beta=0.25, batch_size=32, max_epochs=10, random_state=0
    ).fit(X)
    return vae, X


def test_samples_have_the_sample_shape_and_the_data_units(vae_images):
    vae, X = vae_images
    samples = vae.sample(40, random_state=0)
    assert samples.shape == (40, 8, 8)
    assert samples.dtype == np.float32
    assert np.isfinite(samples).all()
    assert samples.min() >= 0.0 and samples.max() <= 16.0 + 1e-4  # sigmoid, unscaled
    assert samples.max() > 8.0  # strokes in grey levels, not in [0, 1]
    assert abs(samples.mean() - X.mean()) < 2.0
    np.testing.assert_array_equal(samples, vae.sample(40, random_state=0))


@pytest.mark.parametrize("method", ["linear", "spherical"])
def test_interpolate_runs_from_one_reconstruction_to_the_other(vae_images, method):
    vae, X = vae_images
    a, b = X[0], X[1]  # a 0 and a 1
    path = vae.interpolate(a, b, steps=6, method=method)
    assert path.shape == (6, 8, 8)
    ends = vae.reconstruct(np.stack([a, b]))
    np.testing.assert_allclose(path[0], ends[0], atol=1e-3)
    np.testing.assert_allclose(path[-1], ends[1], atol=1e-3)
    # the path goes somewhere: inner points differ from both ends
    span = np.abs(ends[0] - ends[1]).mean()
    to_a = np.abs(path - ends[0]).reshape(6, -1).mean(axis=1)
    to_b = np.abs(path - ends[1]).reshape(6, -1).mean(axis=1)
    assert to_a[1:-1].max() > 0.3 * span and to_b[1:-1].max() > 0.3 * span, (to_a, to_b, span)
    assert np.isfinite(path).all()


def test_interpolate_works_without_a_variational_model(digits):
    X = digits[0][:300]
    ae = Autoencoder(latent_dim=4, max_epochs=2, random_state=0).fit(X)
    path = ae.interpolate(X[3].reshape(1, 64), X[4], steps=3)
    assert path.shape == (3, 64)
    np.testing.assert_allclose(path[[0, -1]], ae.reconstruct(X[3:5]), atol=1e-5)
    np.testing.assert_array_equal(path, ae.interpolate(X[3], X[4], steps=3))  # deterministic
    assert np.isfinite(path).all()


def test_interpolate_errors(vae_images):
    vae, X = vae_images
    with pytest.raises(ValueError, match="steps=1 must be an integer >= 2"):
        vae.interpolate(X[0], X[1], steps=1)
    with pytest.raises(ValueError, match="method='cubic'"):
        vae.interpolate(X[0], X[1], method="cubic")
    with pytest.raises(InputError, match=r"b must be one sample of shape \(8, 8\).*\(2, 8, 8\)"):
        vae.interpolate(X[0], X[1:3])


# --- features and pretraining ----------------------------------------------------------


@pytest.fixture(scope="module")
def dense_features():
    from aekit.datasets import load_digits

    X, y = load_digits()
    X = X * 16.0  # standard scaling: the module must carry non-trivial statistics
    ae = Autoencoder(latent_dim=8, max_epochs=10, random_state=0).fit(X[:1400])
    return ae, X, y


def test_encoder_module_matches_transform(dense_features):
    ae, X, _ = dense_features
    encoder = ae.encoder_module()
    with torch.no_grad():
        codes = encoder(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(codes, ae.transform(X), rtol=1e-5, atol=1e-5)


def test_encoder_module_of_a_conv_vae_on_images_matches_transform(digit_images):
    ae = Autoencoder(
        "conv", latent_dim=3, variational=True, model_params={"channels": (4,)}, max_epochs=1
    )
    ae.fit(digit_images[:200])
    with torch.no_grad():
        codes = ae.encoder_module()(torch.from_numpy(digit_images[:50])).numpy()
    np.testing.assert_allclose(codes, ae.transform(digit_images[:50]), rtol=1e-5, atol=1e-5)


def test_encoder_module_is_an_independent_trainable_copy(dense_features):
    ae, X, _ = dense_features
    encoder = ae.encoder_module()
    params = list(encoder.parameters())
    assert params and all(p.requires_grad for p in params)
    assert {"offset", "scale"} <= dict(encoder.named_buffers()).keys()
    encoder(torch.from_numpy(X[:10])).square().sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in params)
    assert params[0].grad.abs().sum() > 0  # gradients reach the first layer
    before = ae.transform(X[:10])
    with torch.no_grad():
        for p in params:
            p.add_(1.0)
    np.testing.assert_array_equal(ae.transform(X[:10]), before)


def test_encoder_module_fine_tunes_under_a_linear_head(dense_features):
    ae, X, y = dense_features
    x, target = torch.from_numpy(X[:1400]), torch.from_numpy(y[:1400])
    torch.manual_seed(0)
    encoder = ae.encoder_module().train()
    classifier = torch.nn.Sequential(encoder, torch.nn.Linear(ae.latent_dim, 10))
    optimizer = torch.optim.Adam(classifier.parameters(), lr=1e-2)
    first_layer = next(encoder.parameters()).detach().clone()
    losses = []
    for _ in range(30):
        loss = torch.nn.functional.cross_entropy(classifier(x), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
    assert not torch.equal(first_layer, next(encoder.parameters()))  # the encoder itself moved


def test_encoder_module_refuses_another_sample_shape(dense_features):
    ae, X, _ = dense_features
    with pytest.raises(ValueError, match=r"samples of shape \(64,\).*\(5, 8, 8\)"):
        ae.encoder_module()(torch.from_numpy(X[:5].reshape(5, 8, 8)))
