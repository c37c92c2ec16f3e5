"""The scikit-learn handwritten digits: 1,797 images of 8x8, bundled, no download."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def load_digits(*, images: bool = False) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """The digits as float32 in [0, 1] (the 0-16 grey levels divided by 16), with labels.

    Parameters
    ----------
    images : bool, default=False
        Return ``X`` as images of shape (1797, 8, 8) instead of rows of 64.

    Returns
    -------
    X : ndarray of shape (1797, 64) or (1797, 8, 8)
    y : ndarray of shape (1797,), the digit 0-9

    Examples
    --------
    >>> from aekit.datasets import load_digits
    >>> X, y = load_digits(images=True)
    >>> X.shape, X.dtype, float(X.max())
    ((1797, 8, 8), dtype('float32'), 1.0)
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    X = (bunch.images if images else bunch.data).astype(np.float32) / 16.0
    return X, bunch.target.astype(np.int64)
