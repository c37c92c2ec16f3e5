"""MNIST from a local Keras-layout ``mnist.npz``; downloaded only by ``fetch_mnist``."""

from __future__ import annotations

import hashlib
import urllib.request
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from aekit.datasets._paths import cache_dir, candidate_paths
from aekit.io.atomic import write_atomically

RELATIVE_PATH = "mnist/mnist.npz"
URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"  # Keras' file
KEYS = ("x_train", "y_train", "x_test", "y_test")

Split = tuple[NDArray[np.float32], NDArray[np.int64]]


def find_mnist(path: str | Path | None = None) -> Path:
    """The first ``mnist.npz`` found: ``path`` (a file or a folder), ``$AEKIT_DATA``, the cache."""
    if path is not None and Path(path).expanduser().is_file():
        return Path(path).expanduser()
    places = candidate_paths(RELATIVE_PATH, path)
    if path is not None:
        places.insert(1, Path(path).expanduser() / "mnist.npz")
    for place in places:
        if place.is_file():
            return place
    looked = ", ".join(str(p) for p in places)
    raise FileNotFoundError(
        f"mnist.npz not found (looked in {looked}); pass its path, set AEKIT_DATA to the folder "
        f"holding mnist/mnist.npz, or call aekit.datasets.fetch_mnist() on a machine with internet"
    )


def load_mnist(path: str | Path | None = None, *, images: bool = True) -> tuple[Split, Split]:
    """The MNIST digits, Keras layout: ``(X_train, y_train), (X_test, y_test)``.

    Images are float32 in [0, 1] (grey levels divided by 255). Nothing is downloaded.

    Parameters
    ----------
    path : str or Path, optional
        ``mnist.npz`` itself or a folder holding it (or ``mnist/mnist.npz``).
    images : bool, default=True
        Shape (n, 28, 28); False gives rows of 784.

    Returns
    -------
    (X_train, y_train), (X_test, y_test) : tuple of two (ndarray, ndarray) pairs
        Images float32 in [0, 1], ``(60000, 28, 28)`` and ``(10000, 28, 28)`` (rows of 784
        with ``images=False``), and their digits.

    Examples
    --------
    With ``$AEKIT_DATA`` pointing at a folder holding ``mnist/mnist.npz``:

    >>> from aekit.datasets import load_mnist
    >>> (X_train, y_train), (X_test, y_test) = load_mnist()
    >>> X_train.shape, X_test.shape
    ((60000, 28, 28), (10000, 28, 28))
    """
    file = find_mnist(path)
    try:
        with np.load(file, allow_pickle=False) as data:
            missing = [k for k in KEYS if k not in data.files]
            if missing:
                raise ValueError(f"{file} is not a Keras-layout mnist.npz: missing {missing}")
            arrays = {k: data[k] for k in KEYS}
    except (OSError, EOFError) as error:
        raise ValueError(f"{file} could not be read as an .npz file: {error}") from None

    def prepare(raw: NDArray[np.uint8], y: NDArray[np.integer]) -> Split:
        x = raw.astype(np.float32) / np.float32(255.0)
        return (x if images else x.reshape(len(x), -1)), y.astype(np.int64)

    return prepare(arrays["x_train"], arrays["y_train"]), prepare(
        arrays["x_test"], arrays["y_test"]
    )


def fetch_mnist(data_home: str | Path | None = None) -> Path:
    """Download ``mnist.npz`` into ``data_home`` (default: the cache), checking its SHA-256.

    Only this function touches the network; it does nothing if the file is already there.

    Parameters
    ----------
    data_home : str or Path, optional
        Where to keep the file; the user cache (``aekit.datasets`` module doc) by default.

    Returns
    -------
    path : Path
        The checked ``mnist.npz``.

    Examples
    --------
    On a machine with internet, once; later ``load_mnist()`` finds the file offline:

    >>> from aekit.datasets import fetch_mnist
    >>> fetch_mnist()  # doctest: +SKIP
    PosixPath('/home/me/.cache/aekit/mnist/mnist.npz')
    """
    target = Path(data_home).expanduser() if data_home else cache_dir()
    target = target / RELATIVE_PATH
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(URL, timeout=60) as response:
        data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        raise ValueError(f"downloaded {URL} has SHA-256 {digest}, expected {SHA256}; not saved")
    write_atomically(target, data)
    return target
