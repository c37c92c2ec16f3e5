"""Where data sets are looked for: an explicit path, ``$AEKIT_DATA``, the user cache."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$AEKIT_CACHE``, else ``$XDG_CACHE_HOME/aekit``, else ``~/.cache/aekit``."""
    if os.environ.get("AEKIT_CACHE"):
        return Path(os.environ["AEKIT_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "aekit"


def candidate_paths(relative: str, data_home: str | Path | None = None) -> list[Path]:
    """Places to look for ``relative`` (such as ``mnist/mnist.npz``), first match wins."""
    places: list[Path] = []
    if data_home is not None:
        places.append(Path(data_home).expanduser())
    if os.environ.get("AEKIT_DATA"):
        places.append(Path(os.environ["AEKIT_DATA"]).expanduser())
    places.append(cache_dir())
    return [place / relative for place in places]
