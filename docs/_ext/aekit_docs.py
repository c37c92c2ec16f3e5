"""Pages written at build time, so that they never drift from what they describe.

- ``_generated/cli.rst``: each ``aekit`` command's ``--help``, from ``build_parser()``;
- ``_generated/benchmarks.rst``: ``docs/benchmarks.json`` rendered by the benchmark runner's
  own ``markdown()`` (``bench/__main__.py``, which writes ``docs/benchmarks.md`` the same way),
  converted to reStructuredText.

The user guide's pages include them; ``_generated/`` is git-ignored.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[1]
REPO = DOCS.parent
GENERATED = DOCS / "_generated"
HELP_WIDTH = "88"  # columns argparse wraps help at: the same text on every machine


# --- the command line ---


def cli_rst() -> str:
    """Every command's help, as ``aekit COMMAND --help`` prints it."""
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_WIDTH
    try:
        from aekit.cli.main import build_parser

        parser = build_parser()
        lines = [".. This file is written by docs/_ext/aekit_docs.py; do not edit.", ""]
        lines += _help_block("aekit --help", parser.format_help())
        subcommands = next(
            action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
        )
        for name, sub in subcommands.choices.items():
            title = f"aekit {name}"
            lines += [title, "-" * len(title), ""]
            lines += _help_block(f"aekit {name} --help", sub.format_help())
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    return "\n".join(lines) + "\n"


def _help_block(command: str, text: str) -> list[str]:
    body = [f"   {line}".rstrip() for line in f"$ {command}\n{text}".splitlines()]
    return [".. code-block:: text", "", *body, ""]


# --- the benchmarks ---


def benchmarks_rst() -> str:
    """The bars and every section's tables and figure, from ``docs/benchmarks.json``."""
    report: dict[str, Any] = json.loads((DOCS / "benchmarks.json").read_text())
    # the runner puts bench/ first on sys.path, where plots.py, tables.py, threads.py... would
    # shadow other modules for the rest of the build (the gallery runs in this process)
    path, modules = list(sys.path), set(sys.modules)
    try:
        spec = importlib.util.spec_from_file_location(
            "aekit_bench_runner", REPO / "bench" / "__main__.py"
        )
        if spec is None or spec.loader is None:
            raise RuntimeError("cannot import bench/__main__.py")
        runner = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(runner)
        text = runner.markdown(report)
    finally:
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if Path(origin).parent == REPO / "bench":
                del sys.modules[name]
    header = ".. This file is written by docs/_ext/aekit_docs.py; do not edit.\n\n"
    return header + markdown_to_rst(text)


def markdown_to_rst(text: str) -> str:
    """The Markdown the benchmark runner writes: headings, paragraphs, pipe tables, images.

    The first-level heading is dropped (the including page has its title); ``##`` becomes a
    section and ``###`` a subsection of that page.
    """
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = re.match(r"(#+) (.*)", line)
        image = re.fullmatch(r"!\[(.*)\]\((.*)\)", line.strip())
        if heading:
            level = len(heading.group(1))
            if level > 1:
                title = inline(heading.group(2))
                out += [title, "-~^"[min(level, 4) - 2] * len(title), ""]
        elif image:
            out += [f".. figure:: /{image.group(2)}", f"   :alt: {image.group(1)}", ""]
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            out += table(rows)
            continue
        elif line.strip():
            paragraph = []
            while i < len(lines) and lines[i].strip() and not re.match(r"[#|]|!\[", lines[i]):
                paragraph.append(lines[i].strip())
                i += 1
            out += [inline(" ".join(paragraph)), ""]
            continue
        i += 1
    return "\n".join(out) + "\n"


def table(rows: list[str]) -> list[str]:
    """A pipe table as a ``list-table`` (its second row is the alignment row)."""
    cells = [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows]
    header, body = cells[0], [row for row in cells[2:]]
    out = [".. list-table::", "   :header-rows: 1", "   :class: aekit-bench-table", ""]
    for row in [header, *body]:
        for j, cell in enumerate(row):
            text = inline(cell)
            out.append(f"   {'* -' if j == 0 else '  -'} {text}".rstrip())
    return [*out, ""]


_SPECIAL = re.compile(r"([\\`*_|\[\]<>])")
_TOKEN = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*|\[([^\]]+)\]\(([^)]+)\)")


def inline(text: str) -> str:
    """Markdown inline markup (code, bold, emphasis, links) as reStructuredText; every other
    character that reStructuredText would read as markup is escaped."""
    parts: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        parts.append(_escape(text[position : match.start()]))
        code, strong, emphasis, label, url = match.groups()
        if code is not None:
            markup = f"``{code}``"
        elif strong is not None:
            markup = f"**{_escape(strong)}**"
        elif emphasis is not None:
            markup = f"*{_escape(emphasis)}*"
        else:
            markup = f"`{_escape(label)} <{url}>`__"
        before = text[match.start() - 1] if match.start() > 0 else " "
        after = text[match.end()] if match.end() < len(text) else " "
        # inline markup must stand apart from words: an escaped space joins it invisibly
        parts.append(("" if _apart(before) else "\\ ") + markup + ("" if _apart(after) else "\\ "))
        position = match.end()
    parts.append(_escape(text[position:]))
    return "".join(parts)


def _apart(char: str) -> bool:
    return char.isspace() or char in "-.,:;!?'\")]}/"  # only punctuation rst accepts


def _escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


# --- Sphinx ---


def write_pages(app: Any) -> None:
    GENERATED.mkdir(exist_ok=True)
    for name, render in (("cli.rst", cli_rst), ("benchmarks.rst", benchmarks_rst)):
        path = GENERATED / name
        text = render()
        if not path.is_file() or path.read_text() != text:  # unchanged: no rebuild
            path.write_text(text)


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", write_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
