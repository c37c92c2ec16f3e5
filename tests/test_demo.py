"""The main job, end to end: ``aekit demo`` offline, its reports opened in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from browser import CHROMIUM_FLAGS, chromium

REPORTS = {
    "reduction": [
        "model",
        "metrics",
        "architecture",
        "training",
        "reconstruction",
        "latent",
        "errors",
    ],
    "anomaly": [
        "model",
        "metrics",
        "architecture",
        "training",
        "reconstruction",
        "latent",
        "errors",
        "anomaly",
    ],
    "denoising": [
        "model",
        "metrics",
        "architecture",
        "training",
        "reconstruction",
        "latent",
        "errors",
        "denoising",
    ],
    "generation": [
        "model",
        "metrics",
        "architecture",
        "training",
        "reconstruction",
        "latent",
        "errors",
        "generation",
    ],
    "series": ["model", "metrics", "anomaly", "latent", "training"],
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "out"
    result = subprocess.run(
        [sys.executable, "-m", "aekit", "demo", "-o", str(folder)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert f"demo results written to {folder / 'index.html'}" in result.stdout
    return folder


def test_demo_writes_reports_models_and_summary(demo):
    import aekit

    summary = json.loads((demo / "summary.json").read_text())
    assert [entry["name"] for entry in summary] == list(REPORTS)
    index = (demo / "index.html").read_text()
    for name, expected in REPORTS.items():
        assert f'href="{name}.html"' in index
        page = (demo / f"{name}.html").read_text()
        assert re.findall(r'<section id="([a-z]+)">', page) == expected
        assert type(aekit.load(demo / f"{name}.safetensors")).__name__ in (
            "Autoencoder",
            "AnomalyDetector",
            "TimeSeriesDetector",
        )


@pytest.mark.parametrize("name", list(REPORTS))
def test_reports_render_in_a_browser(demo, name, tmp_path):
    browser = chromium()
    url = (demo / f"{name}.html").as_uri()
    profile = tempfile.mkdtemp()
    env = {**os.environ, "HOME": profile}
    dom = subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    ).stdout
    status = re.search(r'id="aekit-status"[^>]*data-loaded="(\d+)" data-total="(\d+)"', dom)
    assert status is not None, "the page's load script did not run"
    loaded, total = map(int, status.groups())
    assert total == len(REPORTS[name]) - 2 + (name == "anomaly") + 2 * (name == "generation")
    assert loaded == total  # every embedded figure decoded
    for section in REPORTS[name]:
        assert f'<section id="{section}">' in dom
    shot = tmp_path / f"{name}.png"
    subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--window-size=1200,3000",
            f"--screenshot={shot}",
            url,
        ],
        capture_output=True,
        timeout=120,
        env=env,
    )
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1200, 3000)
        assert len(image.convert("L").getcolors(maxcolors=100_000) or []) > 50
