"""How many threads torch computes with: the CPUs this process may really use, right now.

torch starts one thread per core it sees and keeps them spinning between operations. On a
machine shared with another busy process, or in a container granted fewer CPUs than it
shows, those threads wait on each other and a small network trains at half speed or worse.
While aekit trains or scores, :func:`compute_threads` sets torch's thread count to:

- the user's own setting, whenever there is one (it always wins): :func:`set_threads` (the
  CLI's ``--threads``), ``AEKIT_THREADS``, ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS``, or a
  ``torch.set_num_threads(n)`` made before (seen as a count other than torch's default;
  one equal to it cannot be told apart, so say ``AEKIT_THREADS=n`` to insist);
- otherwise 1 for small work (parameters x batch rows under ``SMALL_WORK``: measured on 2
  cores, a second thread does not pay for its synchronisation there);
- otherwise the usable CPUs (:func:`usable_cpus`: the affinity mask and the cgroup CPU
  quota) less those other processes keep busy (:class:`CpuMeter`, from ``/proc/stat``),
  at least 1. The training loop asks again after every epoch, so a competitor that starts
  or stops mid-run is followed.

The previous count is restored afterwards: aekit leaves torch as it found it.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import torch

SMALL_WORK = 2**21  # parameters x batch rows under which one thread is as fast (measured)
BUSY_SAMPLE_SECONDS = 0.05  # first look at the machine's load, when none is recent
USER_VARIABLES = ("AEKIT_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

_explicit: int | None = None  # set_threads()
_lock = threading.Lock()


def set_threads(n: int | None) -> int | None:
    """Use exactly ``n`` threads for aekit's work in this process (None: choose again).
    Returns the previous setting."""
    global _explicit
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"threads must be a whole number of at least 1; got {n!r}")
    previous, _explicit = _explicit, n
    return previous


def user_threads() -> int | None:
    """The thread count the user asked for, if any (see the module doc)."""
    if _explicit is not None:
        return _explicit
    for name in USER_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            try:
                n = int(value)
            except ValueError:
                raise ValueError(
                    f"{name}={value!r} must be a whole number of threads, such as 1 or 4"
                ) from None
            if n >= 1:
                return n
    current = torch.get_num_threads()
    return None if current in _torch_defaults() else current


def usable_cpus() -> int:
    """CPUs this process may run on: the affinity mask, capped by a cgroup CPU quota."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    quota = _cgroup_quota()
    if quota is not None:
        n = min(n, max(1, math.ceil(quota - 0.05)))  # 1.5 CPUs: two threads still help
    return max(1, n)


class CpuMeter:
    """CPU time used by other processes on our CPUs, between two looks at ``/proc/stat``."""

    def __init__(self) -> None:
        self._cpus = _affinity()
        self._last = self._read()
        self._busy = 0.0

    def others_busy(self, min_seconds: float = BUSY_SAMPLE_SECONDS) -> float:
        """CPUs other processes kept busy since the last look (the previous figure when the
        last look is more recent than ``min_seconds``); 0 where ``/proc/stat`` is absent."""
        now = self._read()
        if now is None or self._last is None:
            return 0.0
        wall = now[0] - self._last[0]
        if wall < min_seconds:
            return self._busy
        busy = (now[1] - self._last[1]) - (now[2] - self._last[2])  # all, less our own
        self._busy = max(0.0, busy / wall)
        self._last = now
        return self._busy

    def _read(self) -> tuple[float, float, float] | None:
        """(wall seconds, busy CPU seconds on our CPUs, this process's CPU seconds)."""
        try:
            lines = Path("/proc/stat").read_text().splitlines()
        except OSError:
            return None
        ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        busy = 0
        for line in lines:
            name, _, rest = line.partition(" ")
            if not name.startswith("cpu") or name == "cpu":
                continue
            if self._cpus is not None and int(name[3:]) not in self._cpus:
                continue
            fields = [int(v) for v in rest.split()]
            busy += sum(fields[:8]) - fields[3] - fields[4]  # less idle and iowait
        own = os.times()
        return time.monotonic(), busy / ticks, own.user + own.system


_meter: CpuMeter | None = None


def choose_threads(work: int) -> int:
    """Threads for ``work`` (parameters x batch rows): the user's, else 1 for small work,
    else the usable CPUs less the busy ones."""
    global _meter
    asked = user_threads()
    if asked is not None:
        return asked
    usable = usable_cpus()
    if work < SMALL_WORK or usable == 1:
        return 1
    with _lock:
        if _meter is None:  # first look: sample the machine for a moment
            _meter = CpuMeter()
            time.sleep(BUSY_SAMPLE_SECONDS)
        others = _meter.others_busy()
    return max(1, min(usable, round(usable - others)))


@contextlib.contextmanager
def compute_threads(work: int) -> Iterator[int]:
    """Run the block with :func:`choose_threads` threads; restore torch's count after."""
    before = torch.get_num_threads()
    chosen = choose_threads(work)
    if chosen != before:
        torch.set_num_threads(chosen)
    try:
        yield chosen
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def work_of(model: torch.nn.Module, rows: int) -> int:
    """Parameters x rows: the size measure ``choose_threads`` takes."""
    return sum(p.numel() for p in model.parameters()) * max(1, rows)


class TrainingThreads:
    """Threads for one training run: chosen at its first batch (whose rows size the work),
    chosen again after every epoch, and torch's own count restored by ``close``."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.n_params = sum(p.numel() for p in model.parameters())
        self.before = torch.get_num_threads()
        self.rows = 0

    def first_batch(self, rows: int) -> None:
        if not self.rows:
            self.rows = rows
            self.epoch_end()

    def epoch_end(self) -> None:
        if self.rows:
            chosen = choose_threads(self.n_params * self.rows)
            if chosen != torch.get_num_threads():
                torch.set_num_threads(chosen)

    def close(self) -> None:
        if torch.get_num_threads() != self.before:
            torch.set_num_threads(self.before)


# --- what the machine and torch say ----------------------------------------------------


def _affinity() -> set[int] | None:
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def _cgroup_quota() -> float | None:
    """CPUs granted by a cgroup quota (v2 ``cpu.max``, v1 ``cpu.cfs_quota_us``), if any."""
    v2 = Path("/sys/fs/cgroup/cpu.max")
    try:
        if v2.is_file():
            quota, period = v2.read_text().split()[:2]
            return None if quota == "max" else int(quota) / int(period)
        v1 = Path("/sys/fs/cgroup/cpu")
        quota_us = int((v1 / "cpu.cfs_quota_us").read_text())
        period_us = int((v1 / "cpu.cfs_period_us").read_text())
        return None if quota_us <= 0 else quota_us / period_us
    except (OSError, ValueError):
        return None


def _torch_defaults() -> set[int]:
    """Thread counts torch picks by itself here: one per logical, physical or allowed core."""
    return {os.cpu_count() or 1, _physical_cores(), len(_affinity() or ())}


def _physical_cores() -> int:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return os.cpu_count() or 1
    cores = set()
    physical = core = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            physical = value.strip()
        elif key == "core id":
            core = value.strip()
            cores.add((physical, core))
    return len(cores) or (os.cpu_count() or 1)
