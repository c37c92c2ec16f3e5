"""The training loop: history, early stopping, divergence, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit import Autoencoder
from aekit.exceptions import NonFiniteLossError
from aekit.models import build_model
from aekit.training import TensorBatches, TrainSettings, train


def test_history_records_each_term_per_epoch(digits_split):
    train_X, _ = digits_split
    ae = Autoencoder(latent_dim=4, variational=True, sparsity=0.01, max_epochs=3, random_state=0)
    history = ae.fit(train_X).history_
    assert history.n_epochs == 3
    assert len(history.val_loss) == 3
    assert set(history.train_terms) == {"reconstruction", "kl", "sparsity"}
    assert set(history.val_terms) == {"reconstruction", "kl", "sparsity"}
    total = sum(history.train_terms[t][-1] for t in history.train_terms)
    assert history.train_loss[-1] == pytest.approx(total, rel=1e-4)
    assert history.fit_seconds > 0
    assert history.learning_rate[0] > history.learning_rate[-1]  # cosine schedule decays


def test_early_stopping_stops_and_restores_the_best_epoch(digits_split):
    train_X, held_out = digits_split
    # a learning rate this high makes validation loss bounce: the best epoch is not the last
    ae = Autoencoder(
        latent_dim=4,
        max_epochs=40,
        patience=2,
        learning_rate=0.05,
        lr_schedule="constant",
        random_state=0,
    ).fit(train_X)
    history = ae.history_
    assert history.stopped_early
    assert history.n_epochs < 40
    assert history.best_epoch == int(np.argmin(history.val_loss))
    assert history.n_epochs - 1 - history.best_epoch > 2  # waited out the patience
    # the kept weights are the best epoch's: re-evaluating them gives its validation loss
    ae2 = Autoencoder(
        latent_dim=4,
        max_epochs=history.best_epoch + 1,
        patience=None,
        learning_rate=0.05,
        lr_schedule="constant",
        random_state=0,
    ).fit(train_X)
    assert np.allclose(ae.transform(held_out), ae2.transform(held_out), atol=1e-6)


def test_non_finite_loss_names_the_epoch_and_suggests_a_lower_rate(network_config):
    model = build_model("dense", network_config((4,), 2), init="glorot")
    with torch.no_grad():
        model.head.linear.weight.fill_(float("nan"))
    x = torch.rand(32, 4)
    settings = TrainSettings(
        max_epochs=3,
        learning_rate=3e-3,
        weight_decay=0.0,
        lr_schedule="constant",
        max_grad_norm=None,
        patience=None,
        noise=None,
        noise_level=0.1,
        noise_clip=None,
        trim_fraction=0.0,
        device=torch.device("cpu"),
        seed=0,
    )
    with pytest.raises(NonFiniteLossError, match=r"at epoch 1; try a lower learning_rate"):
        train(model, TensorBatches(x, 8), settings)


VARIATIONAL_SEEDED = {
    "latent_dim": 3,
    "max_epochs": 3,
    "noise": "masking",
    "dropout": 0.1,
    "variational": True,
    "random_state": 7,
}


def test_same_seed_gives_bit_identical_results(digits_split, pinned_threads):
    train_X, held_out = digits_split
    params = VARIATIONAL_SEEDED
    first = Autoencoder(**params).fit(train_X)
    second = Autoencoder(**params).fit(train_X)
    assert np.array_equal(first.transform(held_out), second.transform(held_out))
    assert first.history_.train_loss == second.history_.train_loss
    other = Autoencoder(**{**params, "random_state": 8}).fit(train_X)
    assert not np.array_equal(first.transform(held_out), other.transform(held_out))


def test_same_seed_at_another_thread_count_agrees_to_rounding(digits_split, pinned_threads):
    train_X, held_out = digits_split
    two = Autoencoder(**VARIATIONAL_SEEDED).fit(train_X).transform(held_out)
    pinned_threads(1)
    one = Autoencoder(**VARIATIONAL_SEEDED).fit(train_X).transform(held_out)
    np.testing.assert_allclose(one, two, rtol=0, atol=1e-5)


def test_fit_leaves_the_global_torch_seed_alone(digits_split):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    Autoencoder(max_epochs=1, random_state=0).fit(digits_split[0][:100])
    assert torch.equal(torch.rand(3), expected)


def test_progress_bar_shows_only_when_verbose(digits_split, capsys):
    Autoencoder(max_epochs=2, random_state=0, verbose=1).fit(digits_split[0][:200])
    assert "epoch" in capsys.readouterr().err
    Autoencoder(max_epochs=2, random_state=0, verbose=0).fit(digits_split[0][:200])
    assert capsys.readouterr().err == ""


def test_callbacks_can_stop_training(digits_split):
    seen = []

    def stop_after_two(history, model):
        seen.append(history.n_epochs)
        return history.n_epochs == 2

    ae = Autoencoder(max_epochs=10, random_state=0).fit(
        digits_split[0][:200], callbacks=[stop_after_two]
    )
    assert ae.history_.n_epochs == 2
    assert seen == [1, 2]
