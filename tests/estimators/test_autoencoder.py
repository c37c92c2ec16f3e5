"""``Autoencoder``: quality on real data, the scikit-learn contract, and clear errors."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from aekit import Autoencoder
from aekit.estimators.autoencoder import FLOAT32_CHECK_LIMITS
from aekit.exceptions import InputError


def held_out_mse(model, train_X, test_X):
    model.fit(train_X)
    return float(np.mean((model.inverse_transform(model.transform(test_X)) - test_X) ** 2))


def test_dense_beats_pca_at_the_same_latent_size(digits_split):
    train_X, test_X = digits_split
    ae_mse = held_out_mse(Autoencoder(latent_dim=8, max_epochs=40, random_state=0), *digits_split)
    pca_mse = held_out_mse(PCA(n_components=8), train_X, test_X)
    assert ae_mse < 0.85 * pca_mse, (ae_mse, pca_mse)


def psnr(clean, estimate):
    return 10 * np.log10(1.0 / np.mean((clean - estimate) ** 2))


def test_denoising_raises_psnr_over_the_noisy_input(digits_split):
    train_X, test_X = digits_split
    ae = Autoencoder(
        latent_dim=16, noise="gaussian", noise_level=0.3, max_epochs=40, random_state=0
    ).fit(train_X)
    noisy = np.clip(test_X + 0.3 * np.random.default_rng(0).standard_normal(test_X.shape), 0, 1)
    noisy = noisy.astype(np.float32)
    gain = psnr(test_X, ae.reconstruct(noisy)) - psnr(test_X, noisy)
    assert gain > 3.0, gain  # decibels


def test_sparsity_lowers_the_mean_latent_activation(digits_split):
    train_X, test_X = digits_split
    params = {"latent_dim": 16, "max_epochs": 15, "random_state": 0}
    plain = Autoencoder(**params).fit(train_X)
    sparse = Autoencoder(**params, sparsity=0.1).fit(train_X)
    plain_activity = np.abs(plain.transform(test_X)).mean()
    sparse_activity = np.abs(sparse.transform(test_X)).mean()
    assert sparse_activity < 0.5 * plain_activity, (sparse_activity, plain_activity)


def test_vae_samples_are_finite_and_in_the_data_range(digits_split):
    train_X, _ = digits_split
    vae = Autoencoder(latent_dim=4, variational=True, max_epochs=10, random_state=0).fit(train_X)
    samples = vae.sample(50, random_state=0)
    assert samples.shape == (50, 64)
    assert samples.dtype == np.float32
    assert np.isfinite(samples).all()
    assert samples.min() >= 0.0 and samples.max() <= 1.0  # sigmoid output, min-max scaled data
    assert np.array_equal(samples, vae.sample(50, random_state=0))
    assert samples.std(axis=0).mean() > 0.01  # not one image fifty times


def test_sample_needs_a_variational_model(digits_split):
    ae = Autoencoder(max_epochs=1, random_state=0).fit(digits_split[0][:100])
    with pytest.raises(ValueError, match="needs a variational model"):
        ae.sample(3)


def test_sample_counts_are_checked_before_allocating(digits_split):
    vae = Autoencoder(variational=True, max_epochs=1, random_state=0).fit(digits_split[0][:100])
    with pytest.raises(ValueError, match=r"sample\(10000000000000\) needs .* draw fewer"):
        vae.sample(10**13)  # found by the fuzzing campaign: a MemoryError from numpy
    with pytest.raises(ValueError, match="n_samples=True must be a positive integer"):
        vae.sample(True)


def test_images_in_images_out(digit_images):
    for kind in ("dense", "conv"):
        ae = Autoencoder(kind, latent_dim=4, max_epochs=2, random_state=0).fit(digit_images)
        assert ae.sample_shape_ == (8, 8)
        assert ae.reconstruct(digit_images[:5]).shape == (5, 8, 8)
        assert ae.reconstruct(digit_images[:5].reshape(5, 64)).shape == (5, 64)
        assert ae.inverse_transform(np.zeros((2, 4))).shape == (2, 8, 8)
        assert ae.reconstruction_error(digit_images[:5], per_feature=True).shape == (5, 8, 8)
    channels = np.repeat(digit_images[:60, None], 3, axis=1)  # (n, 3, 8, 8)
    ae = Autoencoder("conv", max_epochs=1, random_state=0).fit(channels)
    assert ae.reconstruct(channels).shape == channels.shape


def test_scaling_is_undone_on_the_way_out():
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((400, 5)) * [1, 10, 100, 1000, 0.01] + [0, 5, -50, 1e4, 3]).astype(
        np.float32
    )
    ae = Autoencoder(latent_dim=5, max_epochs=30, random_state=0).fit(X)
    assert ae.scaler_.method == "standard"
    X_hat = ae.reconstruct(X)
    relative = np.abs(X_hat - X).mean(axis=0) / X.std(axis=0)
    assert (relative < 0.5).all(), relative  # every feature near its own scale, not another's


def test_reconstruction_error_is_the_squared_difference(digits_split):
    train_X, test_X = digits_split
    ae = Autoencoder(max_epochs=2, random_state=0).fit(train_X)
    expected = np.mean((ae.reconstruct(test_X) - test_X) ** 2, axis=1)
    np.testing.assert_allclose(ae.reconstruction_error(test_X), expected, rtol=1e-4, atol=1e-7)
    per_feature = ae.reconstruction_error(test_X, per_feature=True)
    np.testing.assert_allclose(per_feature.mean(axis=1), expected, rtol=1e-4, atol=1e-7)
    assert ae.score(test_X) == pytest.approx(-expected.mean(), rel=1e-4)


def test_pandas_in_keeps_feature_names(digits_split):
    frame = pd.DataFrame(digits_split[0][:300], columns=[f"px{i}" for i in range(64)])
    ae = Autoencoder(latent_dim=3, max_epochs=2, random_state=0).fit(frame)
    assert list(ae.feature_names_in_) == list(frame.columns)
    assert list(ae.get_feature_names_out()) == ["autoencoder0", "autoencoder1", "autoencoder2"]
    ae.set_output(transform="pandas")
    codes = ae.transform(frame)
    assert isinstance(codes, pd.DataFrame)
    assert list(codes.columns) == ["autoencoder0", "autoencoder1", "autoencoder2"]


def test_works_in_a_pipeline_and_grid_search(digits):
    X, y = digits
    pipe = make_pipeline(
        Autoencoder(latent_dim=8, max_epochs=5, random_state=0), LogisticRegression(max_iter=500)
    )
    pipe.fit(X[:1000], y[:1000])
    assert pipe.score(X[1000:], y[1000:]) > 0.6
    search = GridSearchCV(
        Autoencoder(max_epochs=20, random_state=0), {"latent_dim": [2, 8]}, cv=2
    ).fit(X[:600])
    assert search.best_params_ == {"latent_dim": 8}  # a bigger code reconstructs better


@parametrize_with_checks(
    [Autoencoder(max_epochs=2)], expected_failed_checks=lambda _: FLOAT32_CHECK_LIMITS
)
def test_scikit_learn_contract(estimator, check):
    check(estimator)


def test_outputs_do_not_depend_on_the_batch_beyond_float32_rounding(digits_split):
    from aekit import AnomalyDetector

    train, test = digits_split
    for model in (
        Autoencoder(max_epochs=2, random_state=0).fit(train),
        AnomalyDetector(random_state=0).set_params(estimator__max_epochs=2).fit(train),
    ):
        method = model.decision_function if hasattr(model, "offset_") else model.transform
        whole = method(test)
        parts = np.concatenate([method(test[i : i + 7]) for i in range(0, len(test), 7)])
        np.testing.assert_allclose(parts, whole, rtol=1e-5, atol=1e-6)


# --- errors ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(digits_split):
    return Autoencoder(latent_dim=2, max_epochs=1, random_state=0).fit(digits_split[0][:200])


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.array([[0.0, np.nan], [1.0, 2.0]]), r"NaN or infinity .* feature 1 \(rows \[0\]\)"),
        (np.array([[0.0, np.inf], [1.0, 2.0]]), "NaN or infinity"),
        (np.array([[1e39, 0.0], [1.0, 2.0]]), "beyond float32's range"),
        (np.zeros(5), "Expected 2D array, got 1D array"),
        (np.zeros((0, 3)), "0 sample"),
        (np.array([["a", "b"], ["c", "d"]]), "X must hold numbers"),
        (np.zeros((2, 1, 1, 3, 3)), r"expected rows .* or images"),
        (np.zeros((4, 6, 0, 5)), r"samples of shape \(6, 0, 5\), which hold no values"),  # fuzzing
        ([[1.0, 2.0], [3.0]], "rectangular"),
        (pd.DataFrame(index=range(5)), "5 rows and no columns"),  # fuzzing
        (pd.DataFrame(np.zeros((3, 2)), columns=["a", "a"]), "duplicate column names 'a'"),
    ],
)
def test_bad_input_to_fit_gets_a_clear_value_error(X, match):
    with pytest.raises(ValueError, match=match):
        Autoencoder(max_epochs=1).fit(X)


def test_a_network_larger_than_memory_is_refused_before_allocating(digits_split):
    started = time.perf_counter()  # found by the fuzzing campaign: latent_dim=10**6 took 15 GB
    with pytest.raises(ValueError, match=r"latent_dim=1000000000 has [\d,]+ parameters: .* GB"):
        Autoencoder(latent_dim=10**9, max_epochs=1).fit(digits_split[0][:50])
    assert time.perf_counter() - started < 5


def test_a_range_beyond_float32_is_refused_by_minmax_scaling():
    X = np.array([[3.3e38, 0.0], [-3.3e38, 1.0]])  # a range of 6.6e38 is inf in float32
    with pytest.raises(ValueError, match=r"minmax scaling needs .* finite, non-zero scale"):
        Autoencoder(max_epochs=1, scale="minmax").fit(X)


def test_strings_and_gaps_in_a_frame_go_through_the_table_preprocessing():
    frame = pd.DataFrame({"amount": [1.0, 2.0, None, 4.0], "city": ["a", "b", "c", None]})
    ae = Autoencoder(max_epochs=1, random_state=0).fit(frame)
    assert ae.preprocessor_ is not None and list(ae.feature_names_in_) == ["amount", "city"]
    numeric = Autoencoder(max_epochs=1, random_state=0).fit(frame[["amount"]].fillna(0.0))
    assert numeric.preprocessor_ is None


def test_nan_in_a_named_column_is_reported_by_name():
    numeric = Autoencoder(max_epochs=1).fit(
        pd.DataFrame({"amount": [1.0, 2, 3], "fee": [1.0, 2, 3]})
    )
    frame = pd.DataFrame({"amount": [1.0, 2.0, 3.0], "fee": [0.1, None, 0.3]})
    with pytest.raises(InputError, match=r"column 'fee' \(rows \[1\]\)"):
        numeric.transform(frame)


def test_wrong_feature_count_after_fit(fitted):
    with pytest.raises(ValueError, match="X has 10 features, but Autoencoder is expecting 64"):
        fitted.transform(np.zeros((3, 10)))
    with pytest.raises(ValueError, match=r"samples of shape \(5, 5\) \(25 values\)"):
        fitted.reconstruct(np.zeros((3, 5, 5)))
    with pytest.raises(ValueError, match=r"codes must have shape \(n_samples, 2\)"):
        fitted.inverse_transform(np.zeros((3, 3)))


def test_conv_on_rows_says_to_reshape(digits_split):
    with pytest.raises(ValueError, match="kind='conv' needs images"):
        Autoencoder("conv", max_epochs=1).fit(digits_split[0][:50])


def test_a_kind_setting_passed_as_a_parameter_names_its_kinds():
    with pytest.raises(TypeError, match=r"blocks is a setting of kind 'conv': pass model_params"):
        Autoencoder("conv", blocks=2)
    with pytest.raises(TypeError, match=r"channels is a setting of kind 'conv', 'strided_conv'"):
        Autoencoder("conv", channels=(8,))


def test_bce_on_standardised_data_is_refused():
    X = np.random.default_rng(0).standard_normal((50, 4))
    with pytest.raises(InputError, match=r"loss='bce' needs data in \[0, 1\] after scaling"):
        Autoencoder(loss="bce", max_epochs=1).fit(X)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"latent_dim": 0}, "'latent_dim' parameter of Autoencoder must be an int in the range"),
        ({"kind": "vae"}, "'kind' parameter of Autoencoder must be a str among"),
        ({"noise": "blur"}, "'noise' parameter"),
        ({"activation": "swish2"}, "'activation' parameter"),
        ({"model_params": {"hidden_dims": (8,)}, "kind": "conv"}, None),
        ({"model_params": {"channels": (8,)}}, "kind='dense' has no setting 'channels'"),
        ({"model_params": {"hidden_dims": (0,)}}, r"hidden_dims=\(0,\) must be positive"),
        ({"model_params": ["hidden_dims"]}, "'model_params' parameter of Autoencoder must be"),
    ],
)
def test_bad_parameters_are_named(params, match, digits_split, digit_images):
    X = digit_images if params.get("kind") == "conv" else digits_split[0][:50]
    if match is None:  # valid: conv takes hidden_dims for its dense part
        Autoencoder(max_epochs=1, **params).fit(X)
        return
    with pytest.raises(ValueError, match=match):
        Autoencoder(max_epochs=1, **params).fit(X)


def test_methods_before_fit_raise_not_fitted():
    with pytest.raises(NotFittedError):
        Autoencoder().transform(np.zeros((2, 3)))


def test_extreme_but_finite_values_get_a_clear_error_not_nan(fitted):
    row = np.full((1, 64), 3e38, np.float32)  # finite in float32, but overflows in the network
    with pytest.raises(InputError, match=r"network overflowed on rows \[0\]"):
        fitted.transform(row)
    errors = fitted.reconstruction_error(np.full((1, 64), 1e3, np.float32))
    assert np.isfinite(errors).all() and errors.dtype == np.float64
