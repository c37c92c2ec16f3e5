"""Data sets load from local files only; a missing file says where it was looked for."""

from __future__ import annotations

import urllib.request

import numpy as np
import pytest

from aekit.datasets import load_digits, load_mnist


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a loader tried to download")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def test_digits_are_unit_range_rows_or_images():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    images, _ = load_digits(images=True)
    assert images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(images.reshape(-1, 64), X)


def test_mnist_from_a_path(data_dir):
    (X_train, y_train), (X_test, y_test) = load_mnist(data_dir / "mnist" / "mnist.npz")
    assert X_train.shape == (60000, 28, 28) and X_test.shape == (10000, 28, 28)
    assert X_train.dtype == np.float32 and X_train.min() >= 0.0 and X_train.max() == 1.0
    assert y_train.shape == (60000,) and y_test.shape == (10000,)


def test_mnist_from_aekit_data(data_dir, monkeypatch):
    monkeypatch.setenv("AEKIT_DATA", str(data_dir))
    (X_train, _), _ = load_mnist(images=False)
    assert X_train.shape == (60000, 784)


def test_missing_mnist_lists_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("AEKIT_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("AEKIT_CACHE", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match=r"looked in .*data/mnist/mnist.npz.*fetch_mnist"):
        load_mnist()


def test_foreign_npz_is_refused(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, images=np.zeros(3))
    with pytest.raises(ValueError, match=r"not a Keras-layout mnist\.npz: missing"):
        load_mnist(path)
