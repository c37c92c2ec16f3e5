"""The README's Python examples run as written (on smaller data where they train long)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import aekit.datasets

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
NEEDS_FILES = ("transactions/", "s3://bucket/")  # blocks that read the user's own files


def test_the_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(
    index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    code = BLOCKS[index]
    if any(name in code for name in NEEDS_FILES):
        compile(code, f"README block {index}", "exec")
        pytest.skip("reads the user's own files; compiled only")
    mnist = aekit.datasets.load_mnist

    def small_mnist(*args: Any, **kwargs: Any) -> Any:  # the same data, fewer images
        (X_train, y_train), (X_test, y_test) = mnist(data_dir, **kwargs)
        return (X_train[:600], y_train[:600]), (X_test[:200], y_test[:200])

    monkeypatch.setattr(aekit.datasets, "load_mnist", small_mnist)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AEKIT_DATA", str(data_dir))  # blocks that read the shared data find it
    code = code.replace("max_epochs=20", "max_epochs=2")  # the MNIST model trains long
    namespace: dict[str, Any] = {}
    exec(compile(code, f"README block {index}", "exec"), namespace)
    if "detector" in namespace:
        assert set(np.unique(namespace["labels"])) <= {-1, 1}
        assert namespace["codes"].shape == (20, 2)
        assert namespace["longer"].get_params()["estimator__max_epochs"] == 40
    if "same" in namespace:
        np.testing.assert_array_equal(
            namespace["same"].transform(namespace["X_test"]), namespace["codes"]
        )
