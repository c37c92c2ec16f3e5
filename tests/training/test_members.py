"""A detector's members trained together as one stack: each as it would train alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import aekit.estimators.outlier as outlier
from aekit import AnomalyDetector, Autoencoder
from aekit.models import build_model
from aekit.models.stacked import MemberStack, member_term
from aekit.training import History
from aekit.training.members import MemberBatches, MemberEarlyStopping


def cardio(data_dir: Path) -> np.ndarray:
    with np.load(data_dir / "adbench" / "6_cardio.npz") as data:
        return data["X"].astype(np.float32)


def dense_networks(network_config, n: int = 3, latent_dim: int = 2, **changes) -> list:
    networks = []
    for seed in range(n):
        torch.manual_seed(seed)
        config = network_config((12,), latent_dim, **{"activation": "tanh", **changes})
        networks.append(build_model("dense", config, init="torch"))
    return networks


def one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the detector train its members one after another, as before stacks."""
    monkeypatch.setattr(outlier, "stacks", lambda kind, config: False)


def test_members_trained_together_equal_members_trained_one_by_one(data_dir, monkeypatch):
    X = cardio(data_dir)

    def fit() -> AnomalyDetector:
        detector = AnomalyDetector(n_estimators=3, random_state=7)
        return detector.set_params(estimator__max_epochs=4, estimator__patience=1).fit(X)

    together = fit()
    one_by_one(monkeypatch)
    alone = fit()
    for a, b in zip(together.estimators_, alone.estimators_, strict=True):
        assert a.history_.best_epoch == b.history_.best_epoch
        assert a.history_.n_epochs == b.history_.n_epochs
        np.testing.assert_allclose(a.history_.train_loss, b.history_.train_loss, rtol=1e-4)
        for name, value in a.model_.state_dict().items():
            torch.testing.assert_close(value, b.model_.state_dict()[name], rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(together.score_samples(X), alone.score_samples(X), rtol=1e-4)
    assert together.offset_ == pytest.approx(alone.offset_, rel=1e-4)


def test_a_stack_holds_each_members_weights_and_gives_them_back(network_config):
    networks = dense_networks(network_config, dropout=0.1)
    stack = MemberStack.of(networks)
    assert stack is not None and stack.n_members == 3
    for k, network in enumerate(networks):
        state = stack.member_state(k)
        assert state.keys() == network.state_dict().keys()
        for name, value in network.state_dict().items():
            torch.testing.assert_close(state[name], value, rtol=0, atol=0)
    others = dense_networks(network_config, dropout=0.1)[::-1]
    stack.load_members([n.state_dict() for n in others])
    stack.unstack_into(networks)
    for mine, theirs in zip(networks, others, strict=True):
        for name, value in theirs.state_dict().items():
            torch.testing.assert_close(mine.state_dict()[name], value, rtol=0, atol=0)


def test_each_members_loss_and_gradient_is_its_own(network_config):
    networks = dense_networks(network_config)
    stack = MemberStack.of(networks)
    assert stack is not None
    x = torch.randn(3, 16, 12)
    terms = stack.training_loss(x, x)
    terms["loss"].backward()
    for k, network in enumerate(networks):
        own = network.training_loss(x[k], x[k])
        torch.testing.assert_close(terms[member_term(k)], own["loss"], rtol=1e-5, atol=1e-7)
        own["loss"].backward()
        first = network.encoder[1][0].weight.grad
        torch.testing.assert_close(stack.weights[0].grad[k], first.T, rtol=1e-4, atol=1e-6)


def test_a_trimmed_loss_is_each_members_own_trimmed_loss(network_config):
    networks = dense_networks(network_config)
    stack = MemberStack.of(networks)
    assert stack is not None
    x = torch.randn(3, 16, 12)
    x[:, :3] *= 10  # three far-out rows in every member's batch: the ones trimmed
    terms = stack.training_loss(x, x, 0.25)
    for k, network in enumerate(networks):
        own = network.training_loss(x[k], x[k], 0.25)
        torch.testing.assert_close(terms[member_term(k)], own["loss"], rtol=1e-5, atol=1e-7)
        assert own["loss"] < network.training_loss(x[k], x[k])["loss"]


def test_gradients_are_clipped_per_member(network_config):
    networks = dense_networks(network_config)
    stack = MemberStack.of(networks)
    assert stack is not None
    x = torch.randn(3, 16, 12)
    scales = torch.tensor([1.0, 100.0, 1e-3]).view(3, 1, 1)  # one member far over the limit
    stack.training_loss(x * scales, x * scales)["loss"].backward()
    expected = []
    for k, network in enumerate(networks):
        network.load_state_dict(stack.member_state(k))
        network.training_loss(x[k] * scales[k], x[k] * scales[k])["loss"].backward()
        torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
        expected.append(network.encoder[1][0].weight.grad.T)
    stack.clip_gradients(1.0)
    for k in range(3):
        torch.testing.assert_close(stack.weights[0].grad[k], expected[k], rtol=1e-4, atol=1e-7)


def test_only_plain_dense_networks_of_one_shape_stack(network_config):
    assert MemberStack.of(dense_networks(network_config, variational=True)) is None
    assert MemberStack.of(dense_networks(network_config, sparsity=0.1)) is None
    mixed = dense_networks(network_config, n=1) + dense_networks(network_config, n=1, latent_dim=3)
    assert MemberStack.of(mixed) is None
    conv = build_model("conv", network_config((1, 8, 8), 2), init="torch")
    assert MemberStack.of([conv]) is None


def test_member_batches_are_each_members_own_rows_in_its_own_order():
    x = torch.arange(40.0).reshape(20, 2)
    rows = torch.tensor([[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]])
    generators = [torch.Generator().manual_seed(s) for s in (0, 1)]
    batches = list(MemberBatches(x, rows, 2, generators=generators))
    assert len(batches) == 3 and batches[0].shape == (2, 2, 2) and batches[-1].shape == (2, 1, 2)
    for k, seed in enumerate((0, 1)):
        order = torch.randperm(5, generator=torch.Generator().manual_seed(seed))
        alone = x[rows[k]][order]
        torch.testing.assert_close(torch.cat([b[k] for b in batches]), alone)


def test_each_member_keeps_its_best_epoch_and_stops_after_its_own_patience(network_config):
    stack = MemberStack.of(dense_networks(network_config, n=2))
    assert stack is not None
    stopping = MemberEarlyStopping(patience=1, n_members=2)
    history = History()
    losses = [(1.0, 1.0), (0.5, 2.0), (0.4, 3.0), (0.3, 4.0)]  # member 1 is best at epoch 0
    snapshots = []
    stopped = []
    for first, second in losses:
        with torch.no_grad():
            for p in stack.parameters():
                p.add_(1.0)  # weights change every epoch
        snapshots.append({k: v.clone() for k, v in stack.state_dict().items()})
        history.record({"loss": first + second, "member0": first, "member1": second}, None, 0.1)
        stopped.append(stopping(history, stack))
    assert stopping.best_epochs == [3, 0] and stopping.stopped_at == [None, 3]  # 2 > patience
    assert stopped == [False, False, False, False]  # member 0 never stopped
    stopping.restore(stack)
    for name, value in stack.state_dict().items():
        torch.testing.assert_close(value[0], snapshots[3][name][0])
        torch.testing.assert_close(value[1], snapshots[0][name][1])


def test_members_that_do_not_stack_still_train_one_by_one(data_dir):
    X = cardio(data_dir)[:600]
    member = Autoencoder(sparsity=1e-3)
    detector = AnomalyDetector(member, n_estimators=2, random_state=0)
    detector.set_params(estimator__max_epochs=2).fit(X)
    assert len(detector.estimators_) == 2 and np.isfinite(detector.score_samples(X)).all()
    assert [m.history_.n_epochs for m in detector.estimators_] == [2, 2]
