"""Every registered kind honours the model contract; each variant does its job."""

from __future__ import annotations

import pytest
import torch

from aekit import Autoencoder
from aekit.losses import trimmed_mean
from aekit.models import build_model, list_models, model_class, register
from aekit.models.base import BaseAE
from aekit.models.corruption import check_noise, corrupt


@pytest.mark.parametrize("kind", list_models())
def test_every_kind_learns_digits(kind, digit_images):
    ae = Autoencoder(kind, latent_dim=8, max_epochs=6, random_state=0).fit(digit_images)
    assert ae.history_.train_loss[-1] < 0.7 * ae.history_.train_loss[0]
    assert ae.transform(digit_images).shape == (len(digit_images), 8)
    assert ae.reconstruct(digit_images).shape == digit_images.shape


IMAGE_KINDS = ("conv", "strided_conv")


@pytest.mark.parametrize("kind", IMAGE_KINDS)
@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 8, 8), (3, 5, 7), (2, 2, 2), (1, 31, 17)])
def test_image_kinds_handle_image_sizes(kind, shape, network_config):
    model = build_model(kind, network_config(shape, 3), init="torch")
    x = torch.rand(4, *shape)
    assert model(x).shape == x.shape
    assert model.encode(x).shape == (4, 3)


def test_conv_trains_on_one_tiny_image_at_a_time(network_config):
    """One 2x2 image gives 1x1 maps: one value per channel, which batch statistics cannot
    normalise; the norm falls back on its running statistics instead of failing."""
    model = build_model("conv", network_config((1, 2, 2), 2), init="torch").train()
    x = torch.rand(1, 1, 2, 2)
    out = model(x)
    out.sum().backward()
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_image_kinds_refuse_flat_rows_with_a_hint(kind, network_config):
    with pytest.raises(ValueError, match=rf"kind='{kind}' needs images.*kind='dense'"):
        build_model(kind, network_config((64,), 2), init="torch")


@pytest.mark.parametrize(
    ("side", "channels"),
    [(8, (16,)), (28, (16, 32)), (32, (16, 32)), (64, (16, 32, 64)), (224, (16, 32, 64, 128, 256))],
)
def test_conv_depth_and_width_follow_the_image_size(side, channels, network_config):
    model = build_model("conv", network_config((3, side, side), 4), init="torch")
    assert model.config.channels == channels
    smallest = side
    for _ in channels:
        smallest = (smallest + 1) // 2
    assert 4 <= smallest <= 8  # the last maps are small, never a single pixel


@pytest.mark.parametrize(
    ("latent", "hidden", "hidden_dims", "learning_rate"),
    [
        (2, None, (512, 256), 1e-3),
        (8, None, (512, 256), 1e-3),
        (9, None, (), 3e-3),
        (32, None, (), 3e-3),
        (2, (), (), 3e-3),
        (32, (64,), (64,), 1e-3),
    ],
)
def test_conv_reads_small_codes_through_fully_connected_layers(
    latent, hidden, hidden_dims, learning_rate, network_config
):
    """Codes of at most 8 values get (512, 256) before them by default (their 2-D codes
    separate the digits better), and layers before the code train at 1e-3."""
    settings = {} if hidden is None else {"hidden_dims": hidden}
    model = build_model("conv", network_config((1, 28, 28), latent, **settings), init="torch")
    assert model.config.hidden_dims == hidden_dims
    assert model.config.learning_rate() == pytest.approx(learning_rate)
    widths = [m.out_features for m in model.encoder.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == list(hidden_dims)


@pytest.mark.parametrize(
    ("kind", "latent", "learning_rate", "expected"),
    [
        ("conv", 2, "auto", 1e-3),
        ("conv", 16, "auto", 3e-3),
        ("dense", 2, "auto", 3e-3),
        ("conv", 2, 0.02, 0.02),
    ],
)
def test_auto_learning_rate_is_the_networks_own(
    kind, latent, learning_rate, expected, digit_images
):
    ae = Autoencoder(
        kind, latent_dim=latent, learning_rate=learning_rate, max_epochs=1, random_state=0
    )
    ae.fit(digit_images[:64] if kind == "conv" else digit_images[:64].reshape(64, -1))
    assert ae.history_.learning_rate[0] == pytest.approx(expected)
    assert ae.get_params()["learning_rate"] == learning_rate


def _checkerboard(model: BaseAE, latent: int) -> float:
    """Share of a fresh decoder's output energy at the highest frequency (a 2x2 pattern)."""
    torch.manual_seed(0)
    with torch.no_grad():
        out = model.decode_raw(torch.randn(64, latent))
    out = out - out.mean(dim=(-2, -1), keepdim=True)
    spectrum = torch.fft.fft2(out).abs() ** 2
    h, w = out.shape[-2:]
    nyquist = spectrum[..., h // 2, :].sum() + spectrum[..., :, w // 2].sum()
    return float(nyquist / spectrum.sum())


def test_conv_upsampling_starts_free_of_checkerboards(network_config):
    """Nearest-neighbour upsampling then a convolution (and the ICNR-initialised pixel
    shuffle) leave no 2x2 pattern; transposed convolutions of stride 2 do."""
    config = network_config((1, 28, 28), 8)
    torch.manual_seed(0)
    conv = _checkerboard(build_model("conv", config, init="torch"), 8)
    strided = _checkerboard(build_model("strided_conv", config, init="torch"), 8)
    assert conv < 0.01 and strided > 0.1, (conv, strided)  # measured: 0.0 and 0.33


def test_dense_mirrors_its_encoder(network_config):
    config = network_config((20,), 3, hidden_dims=(16, 8))
    model = build_model("dense", config, init="glorot")
    encoder = [m.out_features for m in model.encoder.modules() if isinstance(m, torch.nn.Linear)]
    decoder = [m.out_features for m in model.decoder.modules() if isinstance(m, torch.nn.Linear)]
    assert encoder == [16, 8]
    assert decoder == [8, 16, 20]
    assert model.head.linear.out_features == 3


def test_variational_head_adds_a_weighted_kl_term(network_config):
    config = network_config((10,), 2, variational=True)
    x = torch.rand(8, 10)
    torch.manual_seed(0)
    terms = build_model("dense", config, init="glorot").training_loss(x, x)
    torch.manual_seed(0)
    doubled = build_model("dense", {**config, "beta": 2.0}, init="glorot").training_loss(x, x)
    assert set(terms) == {"reconstruction", "kl", "loss"}
    assert doubled["kl"].item() == pytest.approx(2 * terms["kl"].item(), rel=1e-5)
    assert terms["loss"].item() == pytest.approx(
        terms["reconstruction"].item() + terms["kl"].item(), rel=1e-6
    )


def test_variational_code_is_the_mean_at_inference(network_config):
    model = build_model("dense", network_config((6,), 2, variational=True), init="glorot")
    model.eval()
    x = torch.rand(5, 6)
    assert torch.equal(model.encode(x), model.encode(x))


@pytest.mark.parametrize("penalty", ["l1", "kl"])
def test_sparsity_term(penalty, network_config):
    config = network_config((10,), 4, sparsity=0.5, sparsity_penalty=penalty)
    model = build_model("dense", config, init="glorot")
    terms = model.training_loss(torch.rand(8, 10), torch.rand(8, 10))
    assert terms["sparsity"].item() > 0


@pytest.mark.parametrize("noise", ["gaussian", "masking", "salt_pepper"])
def test_corruption_changes_inputs_but_not_the_original(noise):
    x = torch.full((200, 50), 0.5)
    noisy = corrupt(x, noise, 0.3, torch.Generator().manual_seed(0), clip=(0.0, 1.0))
    assert torch.equal(x, torch.full((200, 50), 0.5))
    changed = (noisy != x).float().mean().item()
    assert changed == pytest.approx(1.0 if noise == "gaussian" else 0.3, abs=0.03)
    assert noisy.min() >= 0 and noisy.max() <= 1


def test_corruption_settings_are_checked():
    with pytest.raises(ValueError, match="noise='blur' is not one of"):
        check_noise("blur", 0.1)
    with pytest.raises(ValueError, match=r"noise_level=1.5 must be in \(0, 1\)"):
        check_noise("masking", 1.5)


def test_registry_names_the_available_kinds():
    available = "available: conv, dense, recurrent, strided_conv, temporal_conv"
    with pytest.raises(ValueError, match=f"unknown model kind 'vae'; {available}"):
        model_class("vae")
    with pytest.raises(ValueError, match="already registered"):
        register("dense")(type("Again", (BaseAE,), {}))


def test_unknown_configuration_keys_are_refused(network_config):
    with pytest.raises(ValueError, match="unknown 'dense' configuration keys: colour"):
        build_model("dense", network_config((4,), 2, colour="red"), init="glorot")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("activation", "swish2", "activation='swish2' is not one of"),
        ("loss", "hinge", "loss='hinge' is not one of"),
        ("latent_dim", 0, "latent_dim=0 must be a positive integer"),
    ],
)
def test_bad_configuration_values(key, value, message, network_config):
    with pytest.raises(ValueError, match=message):
        build_model("dense", network_config((4,), 2) | {key: value}, init="glorot")


def test_bce_needs_a_sigmoid_output(network_config):
    with pytest.raises(ValueError, match="loss='bce' needs output_activation='sigmoid'"):
        build_model("dense", network_config((4,), 2, loss="bce"), init="glorot")


def test_weight_init_schemes(network_config) -> None:
    config = network_config((6,), 2, hidden_dims=(8,))
    glorot = build_model("dense", config, init="glorot")
    linears = [m for m in glorot.modules() if isinstance(m, torch.nn.Linear)]
    assert all(float(m.bias.abs().max()) == 0.0 for m in linears)  # Glorot: zero biases
    torch.manual_seed(0)
    default = build_model("dense", config, init="torch")
    linears = [m for m in default.modules() if isinstance(m, torch.nn.Linear)]
    assert all(float(m.bias.abs().max()) > 0.0 for m in linears)  # PyTorch: uniform biases
    with pytest.raises(ValueError, match="unknown weight init 'he'"):
        build_model("dense", config, init="he")


def test_trimmed_mean_leaves_out_the_largest_share():
    losses = torch.tensor([[1.0, 2.0, 3.0, 100.0], [4.0, 4.0, 4.0, 4.0]])
    assert torch.equal(trimmed_mean(losses, 0.0), losses.mean(-1))
    torch.testing.assert_close(trimmed_mean(losses, 0.25), torch.tensor([2.0, 4.0]))
    torch.testing.assert_close(trimmed_mean(losses, 0.99), torch.tensor([1.0, 4.0]))  # one stays


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_a_trimmed_training_loss_drops_the_worst_samples_but_keeps_the_penalty(
    loss, network_config
):
    config = network_config((10,), 2, variational=True, loss=loss, output_activation="sigmoid")
    x = torch.rand(8, 10)
    x_far = x.clone()
    x_far[0] = 1.0 - x_far[0].round()  # one row the network reconstructs far worse
    model = build_model("dense", config, init="glorot")
    torch.manual_seed(0)
    whole = model.training_loss(x_far, x_far)
    torch.manual_seed(0)
    trimmed = model.training_loss(x_far, x_far, 0.125)  # one row of eight
    assert trimmed["reconstruction"] < whole["reconstruction"]
    assert trimmed["kl"].item() == pytest.approx(whole["kl"].item(), rel=1e-6)
    torch.manual_seed(0)
    untrimmed = model.training_loss(x_far, x_far, 0.0)
    assert torch.equal(untrimmed["loss"], whole["loss"])
