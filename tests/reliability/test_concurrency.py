"""Concurrent use with real processes: one complete file per path, whole models for readers."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import aekit
from aekit import Autoencoder

SECONDS = 1.5  # how long the processes race, all starting at the same moment


@pytest.fixture(scope="module")
def two_models(digits_split, tmp_path_factory):
    """Two different small models saved as files, and the data they score."""
    folder = tmp_path_factory.mktemp("models")
    X = digits_split[1][:200]
    paths = []
    for seed in (0, 1):
        path = folder / f"model{seed}.safetensors"
        Autoencoder(latent_dim=4, max_epochs=1, random_state=seed).fit(digits_split[0][:300]).save(
            path
        )
        paths.append(path)
    np.save(folder / "X.npy", X)
    return paths, folder / "X.npy"


# Each child sets up (imports, loads its models), then its first call of racing() says it is
# ready and waits at the gate for the others; the race clock starts when all are there, so a
# slow machine shortens no child's race.
RACE = """
import os, pathlib, time
import aekit.io, aekit.cli.main
_gate = pathlib.Path(__race__[0])
_stop = None
def racing():
    global _stop
    if _stop is None:
        (_gate / str(os.getpid())).touch()
        while len(list(_gate.iterdir())) < __race__[1]:
            time.sleep(0.005)
        _stop = time.time() + __race__[2]
    return time.time() < _stop
"""


def _start(code: str, *args: str, at: tuple[Path, int]) -> subprocess.Popen[str]:
    race = f"__race__ = ({str(at[0])!r}, {at[1]}, {SECONDS!r})\n{RACE}"
    return subprocess.Popen(
        [sys.executable, "-c", race + textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _gate(folder: Path, n: int = 2) -> tuple[Path, int]:
    """A starting gate for ``n`` children: each waits there until all have imported aekit."""
    gate = folder / "gate"
    gate.mkdir()
    return gate, n


def _finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=240)
    assert process.returncode == 0, err
    return out


def _no_leftovers(folder: Path) -> None:
    shutil.rmtree(folder / "gate")
    hidden = [p.name for p in folder.iterdir() if p.name.startswith(".")]
    assert hidden == [], f"temporary files left behind: {hidden}"


SAVE_LOOP = """
    import sys, aekit
    model = aekit.load(sys.argv[1])
    while racing():
        model.save(sys.argv[2])
"""


def test_two_processes_saving_one_path_leave_one_whole_model(two_models, tmp_path):
    (first, second), X_path = two_models
    target = tmp_path / "shared.safetensors"
    at = _gate(tmp_path)
    writers = [_start(SAVE_LOOP, str(p), str(target), at=at) for p in (first, second)]
    for writer in writers:
        _finish(writer)
    X = np.load(X_path)
    result = aekit.load(target).transform(X)
    expected = [aekit.load(p).transform(X) for p in (first, second)]
    assert any(np.array_equal(result, e) for e in expected)
    _no_leftovers(tmp_path)


READ_LOOP = """
    import sys, numpy as np, aekit
    X = np.load(sys.argv[2])
    aekit.load(sys.argv[1]).score_samples(X)  # first-call costs before the race
    while racing():
        scores = aekit.load(sys.argv[1]).score_samples(X)
        print(" ".join(repr(float(s)) for s in scores[:5]))
"""


def test_scoring_while_the_model_is_replaced_reads_a_whole_model(two_models, tmp_path):
    (first, second), X_path = two_models
    target = tmp_path / "live.safetensors"
    aekit.load(first).save(target)
    at = _gate(tmp_path)
    reader = _start(READ_LOOP, str(target), str(X_path), at=at)
    swap = """
        import sys, aekit
        models = [aekit.load(sys.argv[1]), aekit.load(sys.argv[2])]
        i = 0
        while racing():
            models[i % 2].save(sys.argv[3])
            i += 1
        print(i)
    """
    writer = _start(swap, str(first), str(second), str(target), at=at)
    lines = _finish(reader).split()
    assert int(_finish(writer)) > 10
    X = np.load(X_path)
    allowed = [aekit.load(p).score_samples(X)[:5] for p in (first, second)]
    seen = np.array([float(v) for v in lines]).reshape(-1, 5)
    assert len(seen) > 10
    for row in seen:  # every load gave the first model or the second, never a mixture
        assert any(np.array_equal(row, a.astype(np.float64)) for a in allowed), row
    _no_leftovers(tmp_path)


def test_two_cli_runs_writing_one_output_leave_one_complete_file(two_models, tmp_path):
    import pandas as pd

    (first, second), X_path = two_models
    X = np.load(X_path)
    data = tmp_path / "data.npy"
    np.save(data, np.tile(X, (20, 1)))
    output = tmp_path / "scores.csv"
    loop = """
        import sys
        from aekit.cli.main import main
        while racing():
            main(["score", sys.argv[1], sys.argv[2], "-o", sys.argv[3], "--quiet"])
    """
    at = _gate(tmp_path)
    runs = [_start(loop, str(m), str(data), str(output), at=at) for m in (first, second)]
    for run in runs:
        _finish(run)
    written = pd.read_csv(output)
    assert len(written) == 20 * len(X)
    candidates = [aekit.load(m).score_samples(np.tile(X, (20, 1))) for m in (first, second)]
    column = written["reconstruction_error"].to_numpy()
    assert any(np.allclose(column, -c, rtol=1e-5) for c in candidates)
    _no_leftovers(tmp_path)


def test_two_processes_writing_one_image_folder_leave_one_whole_set(tmp_path):
    loop = """
        import sys, numpy as np
        from aekit.data.files import write_data
        images = np.full((12, 8, 8), float(sys.argv[2]), dtype=np.float32)
        while racing():
            write_data(sys.argv[1], images)
    """
    folder = tmp_path / "pictures"
    at = _gate(tmp_path)
    writers = [_start(loop, str(folder), value, at=at) for value in ("0.0", "1.0")]
    for writer in writers:
        _finish(writer)
    from PIL import Image

    pixels = {int(np.asarray(Image.open(p)).mean()) for p in sorted(folder.iterdir())}
    assert len(list(folder.iterdir())) == 12
    assert pixels in ({0}, {255})  # every picture from the same writer
    _no_leftovers(tmp_path)


def test_a_folder_replaced_by_another_writer_is_not_taken_for_a_file(tmp_path):
    """The race CI once hit: between two checks the other writer had moved the folder aside."""
    from aekit.data.files import write_data
    from aekit.exceptions import InputError
    from aekit.io.atomic import is_file

    folder = tmp_path / "pictures"
    assert not is_file(folder)  # missing (mid-replacement): not a file
    folder.mkdir()
    assert not is_file(folder)
    images = np.zeros((3, 8, 8), dtype=np.float32)
    write_data(folder, images)
    assert len(list(folder.iterdir())) == 3

    a_file = tmp_path / "a-file"
    a_file.write_text("keep me")
    with pytest.raises(InputError, match="it is a file"):
        write_data(a_file, images)  # no suffix: a folder of pictures
    assert a_file.read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
