"""
A basic autoencoder on MNIST
============================

The classic dense autoencoder: 784 pixels squeezed through layers of 128 and 64 units into a
code of 32 numbers, then expanded back to 784, trained to reproduce its input with a binary
cross-entropy loss. We draw the network it built, compare test images with their
reconstructions, and measure the reconstruction error against PCA with the same 32 numbers.
"""

# %%
# Load a slice of MNIST
# ---------------------
# ``load_mnist`` reads ``mnist.npz`` from ``$AEKIT_DATA`` (it never downloads) and returns
# images of shape ``(n, 28, 28)`` scaled to [0, 1]. A slice keeps this example short.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA

from aekit import Autoencoder, plots
from aekit.datasets import load_mnist

(X_train, y_train), (X_test, y_test) = load_mnist()
X_train, X_test = X_train[:10_000], X_test[:2_000]
print(f"training images {X_train.shape}, test images {X_test.shape}")

# %%
# Fit the autoencoder
# -------------------
# ``hidden_dims`` sets the encoder's widths (the decoder mirrors them), ``latent_dim`` the
# code. With ``loss="bce"`` the network outputs logits and the reconstruction goes through a
# sigmoid, as in the usual Keras recipe.
ae = Autoencoder(
    "dense",
    latent_dim=32,
    model_params={"hidden_dims": (128, 64)},
    loss="bce",
    max_epochs=20,
    random_state=0,
).fit(X_train)

# %%
# The architecture
# ----------------
# :func:`aekit.plots.plot_architecture` draws the fitted network as an hourglass: each box is
# one sample's tensor after a layer, its height on a log scale, so the bottleneck shows.
# (aekit's figures are plain matplotlib ``Figure`` objects, outside pyplot; ``plt.figure(fig)``
# hands one to pyplot so that ``plt.show()`` displays it and the gallery collects it.)
plt.figure(plots.plot_architecture(ae))

# %%
# Input vs reconstruction
# -----------------------
# Test images (top) over their reconstructions (bottom), each with its error.
X_hat = ae.reconstruct(X_test)
plt.figure(plots.plot_reconstructions(X_test, X_hat, n=10))

# %%
# How good is the code?
# ---------------------
# The held-out mean squared error per pixel, next to PCA keeping the same 32 numbers.
ae_mse = float(ae.reconstruction_error(X_test).mean())
flat_train, flat_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
pca = PCA(32, random_state=0).fit(flat_train)
pca_mse = float(np.mean((pca.inverse_transform(pca.transform(flat_test)) - flat_test) ** 2))
print(f"test MSE: autoencoder {ae_mse:.4f}, PCA(32) {pca_mse:.4f} ({ae_mse / pca_mse:.2f}x)")

plt.show()
