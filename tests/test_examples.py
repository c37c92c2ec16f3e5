"""Every example runs as a user runs it, and prints what it promises."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_example(name, *args, data_dir):
    # one thread: the quick runs use tiny models, and a second process competing for the
    # same cores as pytest makes OpenMP threads spin rather than work
    env = {**os.environ, "AEKIT_DATA": str(data_dir), "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / name), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_mnist_features_quick(data_dir):
    out = run_example("mnist_features.py", "--quick", data_dir=data_dir)
    found = dict(re.findall(r"^(aekit|PCA).*test accuracy (\d\.\d+)", out, flags=re.M))
    assert found.keys() == {"aekit", "PCA"}, out
    for name, value in found.items():
        assert 0.3 < float(value) <= 1.0, (name, out)  # well above chance (0.1) even when quick
    difference = re.search(r"difference \(aekit - PCA\): ([+-]\d\.\d+)", out)
    assert difference is not None, out
    assert float(difference.group(1)) == round(float(found["aekit"]) - float(found["PCA"]), 4)
