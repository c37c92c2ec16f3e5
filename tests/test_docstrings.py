"""The public API's docstrings follow numpydoc: they parse without warnings, every public
function and method documents each of its parameters and what it returns, and every class
and module-level function has Examples (methods show theirs in their class's Examples).
Those Examples run in tests/test_doctests.py."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from numpydoc.docscrape import NumpyDocString

import aekit

SKIPPED = {"get_params", "set_params"}  # scikit-learn's own, documented there
EXTRA_MODULES = ("aekit.mlflow", "aekit.export")
EXTRA_NAMES = {"aekit.mlflow": ("save_model", "log_model", "load_model")}


def public_objects() -> Iterator[tuple[str, Any]]:
    import importlib

    for name in aekit.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(aekit, name)
        if inspect.ismodule(obj):
            for member in obj.__all__:
                yield f"aekit.{name}.{member}", getattr(obj, member)
            continue
        yield f"aekit.{name}", obj
        if inspect.isclass(obj):
            for method, function in inspect.getmembers(obj, inspect.isfunction):
                own = function.__qualname__.startswith(obj.__name__ + ".")
                if own and not method.startswith("_") and method not in SKIPPED:
                    yield f"aekit.{name}.{method}", function
    for module_name in EXTRA_MODULES:
        module = importlib.import_module(module_name)
        names = EXTRA_NAMES.get(module_name, getattr(module, "__all__", ()))
        for member in names:
            if callable(getattr(module, member)):
                yield f"{module_name}.{member}", getattr(module, member)


OBJECTS = dict(public_objects())


def parsed(obj: Any) -> NumpyDocString:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpydoc warns on a malformed section
        return NumpyDocString(inspect.getdoc(obj) or "")


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_public_docstring_follows_numpydoc(name: str) -> None:
    obj = OBJECTS[name]
    doc = parsed(obj)
    assert doc["Summary"], f"{name} has no summary line"
    is_method = "." in obj.__qualname__
    if inspect.isclass(obj):
        assert doc["Examples"], f"{name} has no Examples"
        return
    wanted = [p for p in inspect.signature(obj).parameters if p not in ("self", "cls")]
    documented = {part.strip().lstrip("*") for p in doc["Parameters"] for part in p.name.split(",")}
    missing = [p for p in wanted if p not in documented]
    assert not missing, f"{name} does not document {missing}"
    assert doc["Returns"] or doc["Yields"], f"{name} does not say what it returns"
    if not is_method:
        assert doc["Examples"], f"{name} has no Examples"
