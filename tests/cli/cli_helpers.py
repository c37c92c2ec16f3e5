"""The one way the CLI tests run ``aekit``: a process of its own, as a user runs it (forked
from a warm interpreter: ``warm_cli``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import warm_cli


def aekit(
    *args: str, cwd: Path, check: bool = True, warnings: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m aekit ARGS`` in ``cwd``; raise with its stderr when ``check`` fails.
    Python's warnings are silenced unless ``warnings`` (aekit's own then print as a user
    sees them)."""
    env = {**os.environ, "PYTHONWARNINGS": "default" if warnings else "ignore"}
    status, stdout, stderr = warm_cli.run(list(args), cwd, env, timeout=300)
    result = subprocess.CompletedProcess(
        [sys.executable, "-m", "aekit", *args], status, stdout, stderr
    )
    if check and result.returncode != 0:
        raise AssertionError(f"aekit {' '.join(args)} failed:\n{result.stderr}")
    return result


# what ``aekit score`` writes for a detector with a calibration split, in order
DETECTOR_COLUMNS = [
    "anomaly_score",
    "relative_error",
    "code_distance",
    "hidden_distance",
    "p_value",
    "is_anomaly",
]
