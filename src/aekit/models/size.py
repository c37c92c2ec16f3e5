"""Refuse a network too large for this machine before allocating it.

A ``latent_dim`` of a million (a typo, or a forged model file) would otherwise allocate
tens of GB and end in the kernel's out-of-memory killer, not an error message.
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch
from torch import nn

BYTES_PER_VALUE = 4  # float32
TRAINING_COPIES = 4  # weights, gradients and Adam's two moments


def parameter_count(build: type[nn.Module], *args: object) -> int:
    """Parameters of ``build(*args)``, counted on the meta device (nothing allocated);
    remembered for hashable arguments (an ensemble builds one configuration many times)."""
    try:
        return _remembered_count(build, *args)  # type: ignore[arg-type]
    except TypeError:  # unhashable arguments
        return _count(build, *args)


def _count(build: type[nn.Module], *args: object) -> int:
    with torch.device("meta"):
        return sum(p.numel() for p in build(*args).parameters())


_remembered_count = functools.lru_cache(maxsize=64)(_count)


def available_memory() -> int | None:
    """Bytes this process may still allocate: the kernel's MemAvailable, capped by a
    cgroup (container) limit; None where neither can be read."""
    limits: list[int] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                limits.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        cgroup = Path("/sys/fs/cgroup")
        limit = (cgroup / "memory.max").read_text().strip()
        if limit != "max":
            limits.append(int(limit) - int((cgroup / "memory.current").read_text()))
    except (OSError, ValueError):
        pass
    return min(limits) if limits else None


def check_fits(n_parameters: int, what: str) -> None:
    """Raise ``ValueError`` when training ``n_parameters`` needs more than the free memory."""
    check_memory(
        n_parameters * BYTES_PER_VALUE * TRAINING_COPIES,
        f"{what} has {n_parameters:,} parameters: training needs",
        "(weights, gradients and Adam's two moments)",
    )


def check_memory(
    need: int,
    what: str,
    detail: str = "",
    advice: str = "choose a smaller latent_dim or smaller layers",
) -> None:
    """Raise ``ValueError`` when ``need`` bytes are more than the free memory; the message
    reads ``{what} {need} GB {detail}, more than the ... available``."""
    free = available_memory()
    if free is not None and need > free:
        raise ValueError(
            f"{what} {need / 1e9:.1f} GB{' ' + detail if detail else ''}, more than the "
            f"{free / 1e9:.1f} GB of memory available; {advice}"
        )
