"""
A 2-D latent space next to PCA
==============================

With a code of two numbers an autoencoder is a non-linear alternative to PCA for drawing data
in the plane. Here both see the 1,797 scikit-learn digits without their labels; colouring the
points by digit afterwards shows how well each keeps the classes apart.
"""

# %%
# Fit a 2-D autoencoder
# ---------------------
import matplotlib.pyplot as plt
from sklearn.decomposition import PCA
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from aekit import Autoencoder, plots
from aekit.datasets import load_digits

X, y = load_digits()  # 1797 rows of 64 pixels in [0, 1]
ae = Autoencoder(latent_dim=2, max_epochs=100, random_state=0).fit(X)
Z = ae.transform(X)

# %%
# How well do two numbers keep the digits apart?
# ----------------------------------------------
# The 5-fold accuracy of a 5-nearest-neighbour classifier on each 2-D projection.
knn = KNeighborsClassifier(5)
ae_accuracy = cross_val_score(knn, Z, y, cv=5).mean()
pca_accuracy = cross_val_score(knn, PCA(2, random_state=0).fit_transform(X), y, cv=5).mean()
print(f"5-NN accuracy in 2-D: autoencoder {ae_accuracy:.3f}, PCA {pca_accuracy:.3f}")

# %%
# The latent space beside PCA
# ---------------------------
# :func:`aekit.plots.plot_latent_space` draws the codes and, given the data, PCA's projection.
plt.figure(plots.plot_latent_space(Z, X, labels=y))

plt.show()
