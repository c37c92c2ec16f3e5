"""
Generating digits with a variational autoencoder
================================================

A variational autoencoder (VAE) learns a code whose distribution is pulled towards a standard
normal, so that decoding random normal codes gives new, plausible samples, and a straight path
between two codes decodes to a smooth morph. In aekit any architecture becomes variational
with ``variational=True`` (``beta`` weighs the KL term).
"""

# %%
# Fit a VAE with a 2-D code
# -------------------------
# ``loss="bce"`` suits pixels in [0, 1].
import matplotlib.pyplot as plt

from aekit import Autoencoder, plots
from aekit.datasets import load_mnist

(X_train, y_train), (X_test, y_test) = load_mnist()
X_train = X_train[:10_000]

vae = Autoencoder(latent_dim=2, variational=True, loss="bce", max_epochs=10, random_state=0).fit(
    X_train
)
history = vae.history_
print(
    f"final validation loss {history.val_loss[history.best_epoch]:.2f} "
    f"(terms: {', '.join(history.val_terms)})"
)

# %%
# Samples from the prior
# ----------------------
# ``sample`` draws codes from N(0, I) and decodes them, in the data's shape.
samples = vae.sample(30, random_state=0)
print(f"samples {samples.shape}, pixel range {samples.min():.2f} to {samples.max():.2f}")
plt.figure(plots.plot_samples(samples))

# %%
# A latent interpolation
# ----------------------
# From a test "1" to a test "7": ``interpolate`` encodes both (to their mean codes), cuts the
# straight path between them into steps, and decodes each point.
one, seven = X_test[y_test == 1][0], X_test[y_test == 7][0]
plt.figure(plots.plot_interpolation(vae.interpolate(one, seven, steps=10)))

# %%
# The whole latent plane
# ----------------------
# Decodes of a regular grid over the 2-D code, from -3 to 3 standard deviations.
plt.figure(plots.plot_latent_manifold(vae, grid=15))

plt.show()
