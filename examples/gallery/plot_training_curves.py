"""
Training curves and the reconstruction error
============================================

Every fitted model keeps its loss per epoch in ``history_``: the training loss, the loss on a
held-out validation split (``validation_fraction``), and the epoch whose weights were kept
when early stopping (``patience``) ends training. After training, the distribution of the
reconstruction error tells which samples and which pixels the model reconstructs worst.
"""

# %%
# Fit with a validation split and early stopping
# ----------------------------------------------
import matplotlib.pyplot as plt
import numpy as np

from aekit import Autoencoder, plots
from aekit.datasets import load_digits

X, y = load_digits(images=True)  # (1797, 8, 8) in [0, 1]
ae = Autoencoder(
    latent_dim=8, max_epochs=150, validation_fraction=0.2, patience=10, random_state=0
).fit(X)
history = ae.history_
print(
    f"{ae.n_epochs_} epochs; best epoch {history.best_epoch + 1}: "
    f"training loss {history.train_loss[history.best_epoch]:.4f}, "
    f"validation loss {history.val_loss[history.best_epoch]:.4f}"
)

# %%
# Loss curves
# -----------
plt.figure(plots.plot_loss_curves(history))

# %%
# The reconstruction-error distribution
# -------------------------------------
# Per sample (histogram) and per pixel (heat map): the squared error of every value.
errors = ae.reconstruction_error(X, per_feature=True)
per_sample = errors.mean(axis=(1, 2))
print(f"mean squared error per pixel {errors.mean():.4f}; worst sample {per_sample.max():.4f}")
plt.figure(plots.plot_error_distribution(errors))

# %%
# The worst-reconstructed digits are the unusual ones: reconstruction error is the simplest
# anomaly score.
worst = np.argsort(per_sample)[::-1][:8]
plt.figure(plots.plot_reconstructions(X[worst], ae.reconstruct(X[worst]), n=8))

plt.show()
