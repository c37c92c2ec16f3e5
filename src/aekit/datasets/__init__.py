"""Data sets: the scikit-learn digits (bundled) and MNIST (read from a local file)."""

from aekit.datasets.digits import load_digits
from aekit.datasets.mnist import fetch_mnist, load_mnist

__all__ = ["fetch_mnist", "load_digits", "load_mnist"]
