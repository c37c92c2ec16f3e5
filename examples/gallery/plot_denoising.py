"""
Denoising images
================

A denoising autoencoder is trained on corrupted inputs against the clean ones, so it learns to
remove the corruption. In aekit denoising is not a separate model: any architecture becomes a
denoiser with ``noise=`` and ``noise_level=``, and the noise is added during training only.
"""

# %%
# Train a convolutional denoiser
# ------------------------------
# Gaussian noise of standard deviation 0.5 on MNIST digits in [0, 1].
import matplotlib.pyplot as plt

from aekit import Autoencoder, metrics, plots
from aekit.datasets import load_mnist

(X_train, _), (X_test, _) = load_mnist()
X_train, X_test = X_train[:6_000], X_test[:500]

denoiser = Autoencoder(
    "strided_conv",
    latent_dim=32,
    noise="gaussian",
    noise_level=0.5,
    max_epochs=6,
    random_state=0,
).fit(X_train)

# %%
# Denoise test images
# -------------------
# ``corrupt`` adds the noise the model was trained against (seeded); ``denoise`` cleans it up.
noisy = denoiser.corrupt(X_test, random_state=0)
clean = denoiser.denoise(noisy)
psnr_noisy, psnr_clean = metrics.psnr(X_test, noisy), metrics.psnr(X_test, clean)
ssim_noisy, ssim_clean = metrics.ssim(X_test, noisy), metrics.ssim(X_test, clean)
print(f"PSNR: noisy {psnr_noisy:.1f} dB -> denoised {psnr_clean:.1f} dB")
print(f"SSIM: noisy {ssim_noisy:.3f} -> denoised {ssim_clean:.3f}")

# %%
# Noisy, denoised and clean
# -------------------------
# Each column is one test digit, with the PSNR of each row against the clean image.
plt.figure(plots.plot_denoising(noisy, clean, X_test, n=8))

plt.show()
