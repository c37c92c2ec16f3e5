"""Helpers shared by the benchmark scripts: locating data, timing, printing."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def data_dir(explicit: str | None = None) -> Path:
    """``--data``, else ``$AEKIT_DATA``, else ``../shared/data`` beside the repository."""
    if explicit:
        return Path(explicit)
    if os.environ.get("AEKIT_DATA"):
        return Path(os.environ["AEKIT_DATA"])
    return REPO.parent / "shared" / "data"


def median_spread(values: list[float], digits: int = 3) -> str:
    """``median (min-max)`` of repeated measurements; just the value when there is one."""
    median = f"{statistics.median(values):.{digits}f}"
    if len(values) == 1:
        return median
    return f"{median} ({min(values):.{digits}f}-{max(values):.{digits}f})"
