"""The gallery's examples are well-formed sphinx-gallery scripts (they are run by the docs build).

Static checks only, in milliseconds: a titled docstring, cells, figures handed to pyplot and
left open, every seed figure shown somewhere, ruff-clean. Run them all for real with
``for f in examples/gallery/plot_*.py; do python "$f"; done`` (each under a minute).
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest

GALLERY = Path(__file__).resolve().parents[1] / "examples" / "gallery"
EXAMPLES = sorted(GALLERY.glob("plot_*.py"))

# what the seed documents show (see ../shared/seeds): each must appear in the gallery
SEED_FIGURES = {
    "architecture": "plot_architecture",
    "input vs reconstruction": "plot_reconstructions",
    "anomaly scores and threshold": "plot_anomaly_scores",
    "2-D latent space next to PCA": "plot_latent_space",
    "loss curves": "plot_loss_curves",
    "denoising effect": "plot_denoising",
    "error distribution": "plot_error_distribution",
}


def test_the_gallery_has_its_examples() -> None:
    assert (GALLERY / "README.txt").is_file()
    assert len(EXAMPLES) >= 11, [p.name for p in EXAMPLES]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_an_example_is_a_gallery_script(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(source), clean=False)
    assert docstring, f"{path.name}: no module docstring"
    lines = docstring.strip("\n").splitlines()
    title, underline = lines[0], lines[1]
    assert re.fullmatch(r"=+", underline) and len(underline) >= len(title), path.name
    assert len(lines) > 3 and lines[2] == "" and lines[3].strip(), f"{path.name}: no paragraph"
    assert source.count("\n# %%") >= 2, f"{path.name}: not split into cells"
    # aekit's figures live outside pyplot: each is handed over (plt.figure(fig)) so that the
    # scraper collects it; figures drawn by hand come from pyplot already
    assert re.search(r"plt\.(figure|subplots)\(", source), f"{path.name}: no figure"
    assert "plt.show()" in source, path.name
    assert "plt.close" not in source and ".savefig(" not in source, path.name
    assert "random_state=0" in source, f"{path.name}: not seeded"


def test_every_seed_figure_is_in_the_gallery() -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in EXAMPLES)
    missing = [name for name, function in SEED_FIGURES.items() if f"{function}(" not in sources]
    assert not missing, missing


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff not installed")
def test_the_gallery_is_ruff_clean() -> None:
    for command in (["ruff", "check", str(GALLERY)], ["ruff", "format", "--check", str(GALLERY)]):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
