"""The documentation site as a reader gets it: links resolve, pages render, images decode.

Needs the built site: ``python -m sphinx -W --keep-going -b html docs docs/_build/html``,
then ``pytest -m docs tests/docs``. Screenshots go to ``build/docs-check/``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from browser import CHROMIUM_FLAGS, chromium

pytestmark = pytest.mark.docs

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "docs" / "_build" / "html"
SHOTS = REPO / "build" / "docs-check"
BUILD = "python -m sphinx -W --keep-going -b html docs docs/_build/html"
EXTERNAL = ("http:", "https:", "mailto:", "data:", "javascript:", "tel:")


class _Page(HTMLParser):
    """A page's anchors (``id``, ``name``) and the URLs it points at (``href``, ``src``)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: set[str] = set()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name") and tag != "meta":
                self.anchors.add(value)
            elif name in ("href", "src"):
                self.urls.append(value)


@pytest.fixture(scope="module")
def pages() -> dict[Path, _Page]:
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site in {SITE}; build it first with: {BUILD}")
    parsed = {}
    for path in sorted(SITE.rglob("*.html")):
        if any(part.startswith(("_", ".")) for part in path.relative_to(SITE).parts[:-1]):
            continue  # _static, _sources, .doctrees: not pages
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        parsed[path] = page
    return parsed


def test_the_site_has_its_sections(pages):
    names = {path.relative_to(SITE).as_posix() for path in pages}
    for expected in (
        "index.html",
        "search.html",
        "user_guide/index.html",
        "user_guide/command_line.html",
        "user_guide/benchmarks.html",
        "auto_examples/index.html",
        "api/index.html",
        "api/generated/aekit.Autoencoder.html",
    ):
        assert expected in names
    assert (SITE / "searchindex.js").is_file()  # the search box works offline


def test_internal_links_and_anchors_resolve(pages):
    broken = []
    for path, page in pages.items():
        for url in page.urls:
            if url.startswith(EXTERNAL) or url.startswith("//"):
                continue
            parts = urlsplit(url)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            where = f"{path.relative_to(SITE)}: {url}"
            if not target.is_file():
                broken.append(f"{where} (no file {target})")
            elif parts.fragment and target.suffix == ".html":
                anchors = pages[target].anchors if target in pages else _anchors(target)
                if unquote(parts.fragment) not in anchors:
                    broken.append(f"{where} (no anchor #{parts.fragment})")
    assert not broken, f"{len(broken)} broken links:\n" + "\n".join(broken[:50])


def _anchors(path: Path) -> set[str]:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page.anchors


def _browse(browser: str, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tempfile.mkdtemp()
    try:
        return subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "HOME": profile},
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _images(browser: str, path: Path) -> tuple[Path, tuple[int, int] | None]:
    """(decoded, total) images as docs/_static/image-check.js records them on <body>."""
    dom = _browse(browser, "--virtual-time-budget=5000", "--dump-dom", path.as_uri()).stdout
    found = re.search(r'data-images-decoded="(\d+)" data-images-total="(\d+)"', dom)
    return path, None if found is None else (int(found[1]), int(found[2]))


def test_every_page_loads_and_its_images_decode(pages):
    browser = chromium()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(pool.map(lambda path: _images(browser, path), pages))
    silent = [str(path.relative_to(SITE)) for path, counts in results.items() if counts is None]
    assert not silent, f"image-check.js did not run (the page did not load?) on: {silent}"
    undecoded = {
        str(path.relative_to(SITE)): counts
        for path, counts in results.items()
        if counts is not None and counts[0] != counts[1]
    }
    assert not undecoded, f"images that did not decode (decoded, total): {undecoded}"
    benchmarks = results[SITE / "user_guide" / "benchmarks.html"]
    assert benchmarks is not None and benchmarks[1] >= 6  # the bench_*.png figures


def test_screenshots_are_not_blank(pages):
    browser = chromium()
    examples = sorted((SITE / "auto_examples").glob("plot_*.html"))
    gallery = examples[0] if examples else SITE / "auto_examples" / "index.html"
    SHOTS.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {SHOTS}")
    from PIL import Image

    for name, page in (("front", SITE / "index.html"), ("gallery", gallery)):
        shot = SHOTS / f"{name}.png"
        shot.unlink(missing_ok=True)
        _browse(browser, "--window-size=1200,2000", f"--screenshot={shot}", page.as_uri())
        assert shot.is_file(), f"Chromium wrote no screenshot of {page}"
        assert shot.stat().st_size > 30_000, f"{shot} looks blank"
        with Image.open(shot) as image:
            assert image.size == (1200, 2000)
            colours = len(image.convert("L").getcolors(maxcolors=100_000) or [])
            assert colours > 50, f"{shot} has {colours} grey levels: a blank page?"


def test_search_works_offline(pages):
    browser = chromium()
    url = (SITE / "search.html").as_uri() + "?q=contamination"
    dom = _browse(browser, "--virtual-time-budget=8000", "--dump-dom", url).stdout
    found = re.search(r"found (\d+) pages? matching", dom)
    assert found is not None and int(found[1]) > 0, "the search page found nothing"
    assert 'href="user_guide/thresholds.html' in dom
