"""Threads on a shared machine: idle vs one competing busy process, torch's count vs aekit's.

Two jobs, each a fresh process as a user runs it: ``aekit demo`` (wall time of the whole
command) and one epoch of the classic 784-128-64-32 MNIST network on the 60k training
images (the fit's own time). Each runs on an idle machine and beside one busy process
(a Python loop spinning one core), with

- ``torch's count``: ``AEKIT_THREADS`` set to the cores torch sees, which is what every
  aekit before thread choice did (torch's default, one thread per core, spinning);
- ``aekit's choice``: nothing set, so aekit picks (``aekit.training.threads``).

Conditions alternate within each round, so all see the same machine. The figure that
matters is *contended / idle* for the same setting; the bar is 1.5x or less.

    python bench/threads.py                 # 3 rounds, about 6 minutes on 2 cores
    python -m bench --only threads
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, data_dir

EPOCH = """
import sys, time
sys.path.insert(0, {bench!r})
from classic_mnist import CLASSIC
from aekit import Autoencoder
from aekit.datasets import load_mnist
(X, _), _ = load_mnist({mnist!r})
start = time.perf_counter()
Autoencoder(**CLASSIC, max_epochs=1, random_state=0, verbose=0).fit(X)
print(time.perf_counter() - start)
"""
SETTINGS = ("torch's count", "aekit's choice")
CONDITIONS = ("idle", "one busy process")


def _environment(setting: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env.pop("AEKIT_THREADS", None)
    if setting == "torch's count":
        import torch

        env["AEKIT_THREADS"] = str(torch.get_num_threads())
    return env


def _demo(setting: str, folder: Path) -> float:
    aekit = Path(sys.executable).parent / "aekit"
    command = [str(aekit), "demo", "-o", str(folder / "demo"), "--quiet"]
    start = time.perf_counter()
    subprocess.run(command, env=_environment(setting), check=True, capture_output=True)
    return time.perf_counter() - start


def _epoch(setting: str, mnist: Path) -> float:
    code = EPOCH.format(bench=str(Path(__file__).resolve().parent), mnist=str(mnist))
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=_environment(setting),
        check=True,
        capture_output=True,
        text=True,
    )
    return float(done.stdout.split()[-1])


def _busy() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def run(data: Path, rounds: int = 3) -> dict[str, Any]:
    """Seconds per (job, setting, condition), medians over ``rounds``, and the ratios."""
    mnist = data / "mnist" / "mnist.npz"
    jobs = {"aekit demo": lambda s, f: _demo(s, f), "MNIST epoch": lambda s, f: _epoch(s, mnist)}
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for condition in CONDITIONS:
                competitor = _busy() if condition != "idle" else None
                try:
                    for job, fn in jobs.items():
                        for setting in SETTINGS:
                            seconds = fn(setting, Path(tmp))
                            times.setdefault(f"{job}|{setting}|{condition}", []).append(seconds)
                            print(f"round {r + 1}: {job}, {setting}, {condition}: {seconds:.2f} s")
                finally:
                    if competitor is not None:
                        competitor.kill()
                        competitor.wait()
    rows = []
    for job in jobs:
        for setting in SETTINGS:
            idle = statistics.median(times[f"{job}|{setting}|idle"])
            busy = statistics.median(times[f"{job}|{setting}|one busy process"])
            rows.append(
                {
                    "job": job,
                    "setting": setting,
                    "idle": idle,
                    "contended": busy,
                    "ratio": busy / idle,
                    "times": {c: times[f"{job}|{setting}|{c}"] for c in CONDITIONS},
                }
            )
    return {"rows": rows, "rounds": rounds, "cpus": os.cpu_count()}


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"Seconds, medians of {results['rounds']} rounds on {results['cpus']} cores; "
        "*contended*: beside one busy process spinning a core. *torch's count*: one thread "
        "per core (every aekit before thread choice); *aekit's choice*: nothing set. "
        "Bar: contended / idle at most 1.5x.",
        "",
        "| job | threads | idle (s) | contended (s) | contended / idle |",
        "|---|---|---:|---:|---:|",
    ]
    for r in results["rows"]:
        lines.append(
            f"| {r['job']} | {r['setting']} | {r['idle']:.2f} | {r['contended']:.2f} | "
            f"{r['ratio']:.2f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data")
    args = parser.parse_args()
    results = run(data_dir(args.data), args.rounds)
    print(markdown(results))
    out = REPO / "build" / "threads.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
