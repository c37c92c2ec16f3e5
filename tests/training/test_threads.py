"""Thread choice: the user's setting wins, small work gets one thread, busy CPUs are left
alone, torch's count is restored, and the CLI's --threads reaches torch."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import torch

from aekit.training import threads


@pytest.fixture(autouse=True)
def no_user_setting(monkeypatch: pytest.MonkeyPatch):
    for name in threads.USER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    before = torch.get_num_threads()
    previous = threads.set_threads(None)
    yield
    threads.set_threads(previous)
    torch.set_num_threads(before)


BIG = 100 * threads.SMALL_WORK


def test_the_users_setting_always_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    threads.set_threads(3)
    assert threads.choose_threads(BIG) == 3 and threads.choose_threads(1) == 3
    threads.set_threads(None)
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    assert threads.choose_threads(1) == 5
    monkeypatch.setenv("AEKIT_THREADS", "2")  # aekit's own variable first
    assert threads.choose_threads(1) == 2
    monkeypatch.setenv("AEKIT_THREADS", "two")
    with pytest.raises(ValueError, match="AEKIT_THREADS='two' must be a whole number"):
        threads.choose_threads(1)
    with pytest.raises(ValueError, match="at least 1"):
        threads.set_threads(0)


def test_a_torch_set_num_threads_made_before_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "_torch_defaults", lambda: {2})
    torch.set_num_threads(7)  # not a count torch picks by itself: the user's
    assert threads.user_threads() == 7 and threads.choose_threads(BIG) == 7
    with threads.compute_threads(1):
        assert torch.get_num_threads() == 7


def test_small_work_gets_one_thread_and_the_count_is_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(threads, "usable_cpus", lambda: 4)
    monkeypatch.setattr(threads, "_torch_defaults", lambda: {torch.get_num_threads()})
    before = torch.get_num_threads()
    with threads.compute_threads(threads.SMALL_WORK - 1) as chosen:
        assert chosen == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


class FakeMeter:
    def __init__(self, busy: float) -> None:
        self.busy = busy

    def others_busy(self, min_seconds: float = 0.0) -> float:
        return self.busy


@pytest.mark.parametrize(("busy", "expected"), [(0.0, 4), (0.4, 4), (1.0, 3), (2.6, 1), (9, 1)])
def test_busy_cpus_are_left_to_their_processes(
    monkeypatch: pytest.MonkeyPatch, busy: float, expected: int
) -> None:
    monkeypatch.setattr(threads, "usable_cpus", lambda: 4)
    monkeypatch.setattr(threads, "_torch_defaults", lambda: {torch.get_num_threads()})
    monkeypatch.setattr(threads, "_meter", FakeMeter(busy))
    assert threads.choose_threads(BIG) == expected


def test_the_meter_sees_a_busy_process_and_not_our_own_work() -> None:
    if not threads.Path("/proc/stat").is_file():
        pytest.skip("no /proc/stat here")
    meter = threads.CpuMeter()
    end = time.perf_counter() + 0.3
    while time.perf_counter() < end:  # our own busy loop does not count
        pass
    assert meter.others_busy() < 0.5
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)  # let it start
        meter.others_busy()
        time.sleep(0.4)
        busy = meter.others_busy()
    finally:
        spinner.kill()
        spinner.wait()
    assert busy > 0.6, busy  # one core's worth, less what the scheduler shares out


def test_usable_cpus_follow_affinity_and_a_cgroup_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setattr(threads, "_cgroup_quota", lambda: None)
    assert threads.usable_cpus() == 4
    monkeypatch.setattr(threads, "_cgroup_quota", lambda: 1.0)  # a container granted 1 CPU
    assert threads.usable_cpus() == 1
    monkeypatch.setattr(threads, "_cgroup_quota", lambda: 2.5)
    assert threads.usable_cpus() == 3


def test_cgroup_files_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    cpu_max = tmp_path / "cpu.max"
    real_path = threads.Path

    def fake(path: str):
        return cpu_max if path == "/sys/fs/cgroup/cpu.max" else real_path(path)

    monkeypatch.setattr(threads, "Path", fake)
    cpu_max.write_text("150000 100000\n")
    assert threads._cgroup_quota() == 1.5
    cpu_max.write_text("max 100000\n")
    assert threads._cgroup_quota() is None


def test_training_restores_torchs_count(monkeypatch: pytest.MonkeyPatch, digits_split) -> None:
    from aekit import Autoencoder

    monkeypatch.setattr(threads, "_torch_defaults", lambda: {torch.get_num_threads()})
    seen: list[int] = []
    monkeypatch.setattr(threads, "choose_threads", lambda work: seen.append(work) or 1)
    before = torch.get_num_threads()
    Autoencoder(max_epochs=3, random_state=0, verbose=0).fit(digits_split[0][:300])
    assert torch.get_num_threads() == before
    assert len(seen) >= 3 and len(set(seen)) == 1  # the first batch, then every epoch


def test_the_cli_threads_option_reaches_torch(tmp_path) -> None:
    code = """
import sys, torch
import aekit.training.threads as t
from aekit.cli.main import main
seen = []
real = t.choose_threads
t.choose_threads = lambda work: seen.append(real(work)) or seen[-1]
main(["fit", "digits", "-o", sys.argv[1], "--max-epochs", "1", "--quiet", "--threads", "1"])
print(set(seen), t.user_threads() is None or t.user_threads() != 1)
"""
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "m.safetensors")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[-2] == "{1} True"  # 1 thread, and unset after the command
    bad = subprocess.run(
        [sys.executable, "-m", "aekit", "fit", "digits", "-o", "x", "--threads", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "at least 1, got '0'" in bad.stderr
