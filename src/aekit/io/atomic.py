"""Atomic writes: a reader sees the old file or the new one whole, never half of one.

Every file aekit writes (models, scores, reports, image folders) is written to a hidden
temporary name of its own in the target's folder, then renamed over the target. Each writer
gets a unique temporary name (``mkstemp``), so two processes writing the same path at once
each rename a complete file, and the last rename wins; neither can write into the other's
temporary file. A failure removes the temporary file and leaves the target as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    with atomic_path(path) as partial, open(partial, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A fresh temporary path beside ``path``; renamed onto ``path`` when the block succeeds.

    The caller writes the temporary file (any writer that takes a path); an exception in the
    block removes it and leaves ``path`` untouched.
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    partial = Path(name)
    try:
        os.chmod(partial, 0o666 & ~_umask())  # as open() would have created it
        yield partial
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def replace_folder(staging: Path, folder: Path, attempts: int = 20) -> None:
    """Move the finished folder ``staging`` onto ``folder``, replacing what was there.

    A folder cannot be renamed over a non-empty one, so the old folder is first renamed
    aside (to a unique name) and removed after. With two writers racing, each retries until
    its own rename lands: the folder is always one writer's complete output.
    """
    for _ in range(attempts):
        try:
            os.replace(staging, folder)
            return
        except OSError:
            if is_file(folder):
                raise
            if not folder.is_dir():
                continue  # moved aside by the other writer between our steps: try again
        aside = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".old", dir=folder.parent))
        try:
            os.replace(folder, aside / "old")
        except FileNotFoundError:
            pass  # another writer moved it first
        finally:
            shutil.rmtree(aside, ignore_errors=True)
    raise OSError(f"could not replace {folder}: other processes kept writing it")


def is_file(path: Path) -> bool:
    """Whether ``path`` is something other than a folder, read in one ``stat``.

    One call, so that a folder another writer is replacing (gone for an instant, then back)
    never reads as a file, as ``exists() and not is_dir()`` can.
    """
    try:
        return not stat.S_ISDIR(os.stat(path).st_mode)
    except FileNotFoundError:
        return False


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
