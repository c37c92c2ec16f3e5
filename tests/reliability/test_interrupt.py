"""Training that survives faults: signals, checkpoints, resuming, divergence."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import aekit
from aekit import AnomalyDetector, Autoencoder
from aekit.datasets import load_digits
from aekit.exceptions import ModelFileError, NonFiniteLossError

FIT = ["--latent-dim", "4", "--max-epochs", "4", "--patience", "none", "--seed", "3", "--quiet"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aekit", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def big_digits(tmp_path_factory) -> Path:
    """About 40k rows, so that one epoch lasts long enough to be interrupted."""
    folder = tmp_path_factory.mktemp("interrupt")
    X, _ = load_digits()
    noise = np.random.default_rng(0).uniform(0, 0.05, (22 * len(X), 64))
    np.save(folder / "data.npy", np.clip(np.tile(X, (22, 1)) + noise, 0, 1).astype(np.float32))
    return folder


def interrupt_after_first_checkpoint(
    folder: Path, signum: int, extra: tuple[str, ...] | list[str] = ()
) -> subprocess.Popen[str]:
    checkpoint = folder / "ck.safetensors"
    checkpoint.unlink(missing_ok=True)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aekit",
            "fit",
            "data.npy",
            "-o",
            "model.safetensors",
            "--checkpoint",
            "ck.safetensors",
            *extra,
            *FIT,
        ],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while not checkpoint.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.05)
    process.send_signal(signum)
    return process


def test_sigint_saves_the_best_model_and_resume_matches_an_uninterrupted_run(big_digits):
    process = interrupt_after_first_checkpoint(big_digits, signal.SIGINT)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 128 + signal.SIGINT, err
    assert "stopping after the current step" in err
    assert "interrupted after 1 epochs" in out
    assert "saved the best model so far (epoch 1)" in out and "--resume ck.safetensors" in out
    interrupted = aekit.load(big_digits / "model.safetensors")
    assert interrupted.history_.n_epochs == 1 and interrupted.history_.interrupted

    resumed = run(
        "fit",
        "data.npy",
        "-o",
        "resumed.safetensors",
        "--resume",
        "ck.safetensors",
        *FIT,
        cwd=big_digits,
    )
    assert resumed.returncode == 0, resumed.stderr
    full = run("fit", "data.npy", "-o", "full.safetensors", *FIT, cwd=big_digits)
    assert full.returncode == 0, full.stderr
    a = aekit.load(big_digits / "resumed.safetensors")
    b = aekit.load(big_digits / "full.safetensors")
    assert a.history_.n_epochs == b.history_.n_epochs == 4
    assert a.history_.train_loss == b.history_.train_loss
    for (name, x), (_, y) in zip(
        a.model_.state_dict().items(), b.model_.state_dict().items(), strict=True
    ):
        assert torch.equal(x, y), name


def test_sigterm_also_stops_cleanly(big_digits):
    process = interrupt_after_first_checkpoint(big_digits, signal.SIGTERM)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "saved the best model so far" in out
    assert aekit.load(big_digits / "model.safetensors").history_.interrupted


def test_resume_with_other_settings_is_refused(big_digits, tmp_path):
    X = np.load(big_digits / "data.npy")[:500]
    Autoencoder(latent_dim=2, max_epochs=1, random_state=0).fit(
        X, checkpoint=tmp_path / "ck.safetensors"
    )
    with pytest.raises(ValueError, match="made with other settings: latent_dim=2 there, 3 here"):
        Autoencoder(latent_dim=3, max_epochs=2, random_state=0).fit(
            X, resume=tmp_path / "ck.safetensors"
        )
    finished = tmp_path / "done.safetensors"
    Autoencoder(latent_dim=2, max_epochs=1, random_state=0).fit(X).save(finished)
    with pytest.raises(ValueError, match="a finished model, not a training checkpoint"):
        Autoencoder(latent_dim=2, max_epochs=2, random_state=0).fit(X, resume=finished)


def test_divergence_keeps_the_last_good_checkpoint(tmp_path):
    X, _ = load_digits()
    checkpoint = tmp_path / "ck.safetensors"

    def poison(history, model):  # from epoch 3 on, the decoder's output turns to NaN
        if history.n_epochs == 2:
            model.decoder.register_forward_hook(lambda module, inputs, out: out * float("nan"))
        return False

    with pytest.raises(NonFiniteLossError, match="at epoch 3"):
        Autoencoder(max_epochs=5, random_state=0).fit(X, checkpoint=checkpoint, callbacks=[poison])
    kept = aekit.load(checkpoint)
    assert kept.history_.n_epochs == 2
    assert np.isfinite(kept.transform(X)).all()


def test_stop_event_from_python_keeps_the_best_weights():
    X, _ = load_digits()
    stop = threading.Event()

    def stop_at_three(history, model):
        if history.n_epochs == 3:
            stop.set()
        return False

    ae = Autoencoder(max_epochs=20, random_state=0).fit(X, stop=stop, callbacks=[stop_at_three])
    assert ae.history_.interrupted and ae.history_.n_epochs == 3
    assert np.isfinite(ae.transform(X)).all()


def test_no_signal_handlers_leak_after_fit(big_digits):
    before = signal.getsignal(signal.SIGINT)
    from aekit.cli.main import main

    assert (
        main(
            [
                "fit",
                str(big_digits / "data.npy"),
                "-o",
                str(big_digits / "inproc.safetensors"),
                "--max-epochs",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    assert signal.getsignal(signal.SIGINT) is before
    os.remove(big_digits / "inproc.safetensors")


# --- detectors: member by member ---------------------------------------------------------

DETECTOR = ["--detector", "--n-estimators", "3", "--max-samples", "20000", "--batch-size", "64"]


def detector_weights(detector: AnomalyDetector) -> list[dict[str, torch.Tensor]]:
    return [member.model_.state_dict() for member in detector.estimators_]


def assert_same_detector(a: AnomalyDetector, b: AnomalyDetector, X: np.ndarray) -> None:
    assert len(a.estimators_) == len(b.estimators_)
    for first, second in zip(detector_weights(a), detector_weights(b), strict=True):
        for name, value in first.items():
            assert torch.equal(value, second[name]), name
    for x, y in zip(a.estimators_, b.estimators_, strict=True):
        assert x.history_.train_loss == y.history_.train_loss
    np.testing.assert_array_equal(a.score_samples(X), b.score_samples(X))
    assert a.offset_ == b.offset_


def test_a_detector_checkpoints_with_one_member_or_more(tmp_path):
    """Before, ``AnomalyDetector(n_estimators=1).fit(X, checkpoint=...)`` failed with
    ``AttributeError: offset_`` (it saved a half-fitted detector)."""
    X, _ = load_digits()
    for n in (1, 2):
        checkpoint = tmp_path / f"ck{n}.safetensors"
        detector = AnomalyDetector(n_estimators=n, random_state=0)
        detector.set_params(estimator__max_epochs=3).fit(X, checkpoint=checkpoint)
        saved = aekit.load(checkpoint)  # the last checkpoint is the finished detector
        assert_same_detector(saved, detector, X)
        again = AnomalyDetector(n_estimators=n, random_state=0).set_params(estimator__max_epochs=3)
        assert_same_detector(again.fit(X, resume=checkpoint), detector, X)


def test_a_detector_resumes_mid_member_to_the_uninterrupted_result(tmp_path):
    """Members that do not stack (a sparsity penalty) train one after another: stopped in
    the second, the detector keeps the first and the second's best weights so far."""
    X, _ = load_digits()
    checkpoint, stop = tmp_path / "ck.safetensors", threading.Event()
    epochs: list[int] = []

    def stop_in_the_second_member(history, model):
        epochs.append(history.n_epochs)
        if len(epochs) == 6 + 2:  # the first member's 6 epochs, then 2 of the second's
            stop.set()
        return False

    def make() -> AnomalyDetector:
        return AnomalyDetector(n_estimators=3, random_state=4).set_params(
            estimator__max_epochs=6, estimator__patience=None, estimator__sparsity=1e-4
        )

    interrupted = make().fit(
        X, checkpoint=checkpoint, stop=stop, callbacks=[stop_in_the_second_member]
    )
    assert interrupted.interrupted_ and len(interrupted.estimators_) == 2
    assert interrupted.estimators_[1].history_.interrupted
    assert np.isfinite(interrupted.score_samples(X)).all()  # usable as it is
    with pytest.raises(ModelFileError, match="unfinished detector"):
        aekit.load(checkpoint)
    resumed = make().fit(X, resume=checkpoint)
    assert not resumed.interrupted_
    assert_same_detector(resumed, make().fit(X), X)


def test_a_detector_trained_together_resumes_to_the_uninterrupted_result(tmp_path):
    """The default members train together: stopped mid-way, every member keeps its best
    weights so far; resumed from the checkpoint, the detector is the uninterrupted one."""
    X, _ = load_digits()
    checkpoint, stop = tmp_path / "ck.safetensors", threading.Event()
    calls: list[int] = []

    def stop_after_three_epochs(history, model):
        calls.append(history.n_epochs)  # once per member per epoch
        if len(calls) == 3 * 3:
            stop.set()
        return False

    def make() -> AnomalyDetector:
        return AnomalyDetector(n_estimators=3, random_state=4).set_params(
            estimator__max_epochs=6, estimator__patience=None
        )

    interrupted = make().fit(
        X, checkpoint=checkpoint, stop=stop, callbacks=[stop_after_three_epochs], checkpoint_every=2
    )
    assert calls == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert interrupted.interrupted_ and len(interrupted.estimators_) == 3
    assert all(m.history_.interrupted and m.history_.n_epochs == 3 for m in interrupted.estimators_)
    assert np.isfinite(interrupted.score_samples(X)).all()  # usable as it is
    with pytest.raises(ModelFileError, match="unfinished detector"):
        aekit.load(checkpoint)
    resumed = make().fit(X, resume=checkpoint)
    assert not resumed.interrupted_
    assert [m.history_.n_epochs for m in resumed.estimators_] == [6, 6, 6]
    assert_same_detector(resumed, make().fit(X), X)


def test_a_callback_stops_one_member_of_those_trained_together():
    X, _ = load_digits()

    def stop_the_second_at_two(history, model):
        return history.n_epochs == 2 and stop_the_second_at_two.calls % 3 == 1

    def counting(history, model):
        result = stop_the_second_at_two(history, model)
        stop_the_second_at_two.calls += 1
        return result

    stop_the_second_at_two.calls = 0
    detector = AnomalyDetector(n_estimators=3, random_state=0).set_params(
        estimator__max_epochs=4, estimator__patience=None
    )
    detector.fit(X, callbacks=[counting])
    assert [m.history_.n_epochs for m in detector.estimators_] == [4, 2, 4]
    assert detector.estimators_[1].history_.best_epoch <= 1


def test_a_detector_resume_with_other_settings_is_refused(tmp_path):
    X, _ = load_digits()
    checkpoint = tmp_path / "ck.safetensors"
    AnomalyDetector(n_estimators=1, random_state=0).set_params(estimator__max_epochs=1).fit(
        X, checkpoint=checkpoint
    )
    other = AnomalyDetector(n_estimators=1, random_state=0).set_params(
        estimator__max_epochs=1, estimator__latent_dim=3
    )
    with pytest.raises(ValueError, match="estimator__latent_dim=2 there, 3 here"):
        other.fit(X, resume=checkpoint)
    with pytest.raises(ValueError, match="holds an AnomalyDetector, not an Autoencoder"):
        Autoencoder(max_epochs=1).fit(X, resume=checkpoint)


def test_sigint_stops_a_detector_and_resume_matches_an_uninterrupted_run(big_digits):
    process = interrupt_after_first_checkpoint(big_digits, signal.SIGINT, DETECTOR)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 128 + signal.SIGINT, err
    assert "interrupted after" in out and "of 3 networks" in out, out
    assert "saved the detector so far" in out and "--resume ck.safetensors" in out
    interrupted = aekit.load(big_digits / "model.safetensors")
    assert interrupted.interrupted_
    fit = ["fit", "data.npy", *DETECTOR, *FIT]
    resumed = run(*fit, "-o", "resumed.safetensors", "--resume", "ck.safetensors", cwd=big_digits)
    assert resumed.returncode == 0, resumed.stderr
    full = run(*fit, "-o", "full.safetensors", cwd=big_digits)
    assert full.returncode == 0, full.stderr
    X = np.load(big_digits / "data.npy")[:2000]
    a = aekit.load(big_digits / "resumed.safetensors")
    b = aekit.load(big_digits / "full.safetensors")
    assert not a.interrupted_ and len(a.estimators_) == 3
    assert_same_detector(a, b, X)
