"""Sphinx configuration of aekit's documentation site.

Build (offline, warnings are errors):

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent


def shared_data() -> Path:
    """``shared/data`` beside the repository; from a git worktree (whose ``.git`` is a file
    naming ``MAIN/.git/worktrees/NAME``), beside the main checkout when not beside it."""
    beside = REPO.parent / "shared" / "data"
    git = REPO / ".git"
    if not beside.is_dir() and git.is_file():
        gitdir = Path(git.read_text().removeprefix("gitdir:").strip())
        main = (REPO / gitdir).resolve().parents[2]
        if (main.parent / "shared" / "data").is_dir():
            return main.parent / "shared" / "data"
    return beside


# The gallery's examples read real data and never download: point them at the shared data
# beside the repository unless the caller chose a folder, and draw without a display.
os.environ.setdefault("AEKIT_DATA", str(shared_data()))
os.environ.setdefault("MPLBACKEND", "Agg")

sys.path.insert(0, str(DOCS / "_ext"))

import aekit  # noqa: E402

project = "aekit"
author = "the aekit authors"
copyright = "the aekit authors"
release = aekit.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "aekit_docs",  # docs/_ext: the command-line and benchmarks pages, written at build time
]

exclude_patterns = ["_build", "_generated", "auto_examples/*.ipynb", "**/*.py", "**/*.md5"]
templates_path = ["_templates"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"

# --- API reference ---
autosummary_generate = True
autosummary_ignore_module_all = False  # a module's __all__ says what is public
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
autodoc_default_options = {"member-order": "groupwise"}
numpydoc_show_class_members = False  # members come from autodoc, once
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# --- gallery ---
sphinx_gallery_conf = {
    "examples_dirs": "../examples/gallery",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # run every plot_*.py
    "image_scrapers": ("matplotlib",),
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "write_computation_times": False,  # its page pulls jQuery and DataTables from CDNs
}

# --- HTML ---
html_theme = "pydata_sphinx_theme"
html_title = f"aekit {release}"
html_static_path = ["_static"]
html_js_files = ["image-check.js"]  # tests/docs/test_site.py reads what it writes on <body>
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
    "icon_links": [],
    "show_prev_next": True,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}


# --- docstrings as reStructuredText ---

_TYPE_LINE = re.compile(r"^(\s*[\w*, ]+ : )(.+)$")


def escape_shapes(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """Escape shape expressions in numpydoc's type lines before numpydoc reads them.

    ``X_decoded : ndarray of shape (n_samples, *sample_shape_)`` is plain text to a reader,
    but reStructuredText takes ``*`` for emphasis and a trailing ``_`` for a link.
    """
    for i, line in enumerate(lines):
        match = _TYPE_LINE.match(line)
        if match:
            kind = re.sub(r"(?<![\\*])\*(?!\*)", r"\\*", match.group(2))
            kind = re.sub(r"(\w)_(?=[\s),\]]|$)", r"\1\\_", kind)
            lines[i] = match.group(1) + kind


def skip_member(app: Any, what: str, name: str, obj: Any, skip: bool, options: Any) -> bool | None:
    """Leave out scikit-learn's generated metadata-routing setters (``set_fit_request``...)."""
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def setup(app: Any) -> None:
    app.connect("autodoc-process-docstring", escape_shapes, priority=400)  # before numpydoc
    app.connect("autodoc-skip-member", skip_member)
