"""The command line, the report and the demo use the estimators' public API only."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "aekit"
CLIENTS = [*sorted((SRC / "cli").glob("*.py")), *sorted((SRC / "reporting").glob("*.py"))]
CLIENTS.append(SRC / "demo.py")
PRIVATE = re.compile(r"(?<!self)(?<![\w.])(\w+)\._[a-z]\w*")  # name._private, self._x allowed
DUCK = re.compile(r"hasattr\((?:model|estimator|est|detector|network)\b")


def test_clients_call_no_private_attribute_of_another_object() -> None:
    found = []
    for path in CLIENTS:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            code = line.split("#", 1)[0]
            if code.lstrip().startswith(("from ", "import ")):
                continue  # modules of the package itself
            found += [f"{path.name}:{number}: {m.group(0)}" for m in PRIVATE.finditer(code)]
    assert not found, "\n".join(found)


def test_clients_recognise_a_detector_by_its_tags_not_by_hasattr() -> None:
    found = [
        f"{path.name}: {line.strip()}"
        for path in CLIENTS
        for line in path.read_text().splitlines()
        if DUCK.search(line)
    ]
    assert not found, "\n".join(found)
