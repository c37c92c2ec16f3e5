"""
Autoencoder features for a classifier
=====================================

An autoencoder trained without labels compresses each image into a short code; a classifier
can then learn from the code instead of the pixels. Here 32 aekit features and 32 principal
components of the same MNIST images feed the same logistic regression, and we compare the
test accuracy.
"""

# %%
# Learn 32 features without labels
# --------------------------------
import matplotlib.pyplot as plt
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from aekit import Autoencoder, plots
from aekit.datasets import load_mnist

(X_train, y_train), (X_test, y_test) = load_mnist(images=False)  # flat rows of 784 pixels
X_train, y_train = X_train[:5_000], y_train[:5_000]
X_test, y_test = X_test[:2_000], y_test[:2_000]

features = {
    "aekit": Autoencoder(latent_dim=32, max_epochs=8, random_state=0),
    "PCA": PCA(32, random_state=0),
}

# %%
# The same classifier on each
# ---------------------------
# ``Autoencoder`` is a scikit-learn transformer, so it goes in a ``Pipeline`` like PCA.
classifiers = {}
for name, transformer in features.items():
    classifier = make_pipeline(transformer, StandardScaler(), LogisticRegression(max_iter=1000))
    classifiers[name] = classifier.fit(X_train, y_train)
    print(f"{name} features: test accuracy {classifier.score(X_test, y_test):.4f}")

# %%
# Where each one errs
# -------------------
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
for ax, (name, classifier) in zip(axes, classifiers.items(), strict=True):
    ConfusionMatrixDisplay.from_estimator(
        classifier, X_test, y_test, ax=ax, colorbar=False, normalize="true", values_format=".2f"
    )
    ax.set_title(f"{name} features (32)")

# %%
# The 32-D codes, projected
# -------------------------
# :func:`aekit.plots.plot_latent_space` projects codes larger than 2-D on their first two
# principal components, beside PCA of the pixels.
codes = classifiers["aekit"][0].transform(X_test)
plt.figure(plots.plot_latent_space(codes, X_test, labels=y_test))

plt.show()
