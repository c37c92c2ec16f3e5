"""``python -m aekit`` in a process of its own, forked from an interpreter that has already
imported torch and scikit-learn.

Each command still runs as a user runs it: a new process, with its own argv, working folder,
environment, stdout, stderr and exit status, through ``aekit``'s ``__main__``. What it
shares is the start-up: importing torch and scikit-learn takes about three seconds of
every command on 2 cores, which was most of the command-line tests' time. Set
``AEKIT_TEST_COLD_CLI=1`` to start every command from a fresh interpreter instead.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

# The server: imports the slow libraries once, then for each request (a JSON line on
# stdin) forks a child that runs the command, and answers with the child's pid, then its
# wait status (JSON lines on stdout).
SERVER = r"""
import json, os, runpy, sys, traceback, warnings
import numpy, torch, sklearn.base, pandas  # the slow imports, done once
import aekit.cli.main

def child(request):
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
    warnings.resetwarnings()
    warnings.simplefilter(request["warnings"])
    sys.argv = ["aekit", *request["args"]]
    code = 0
    try:
        runpy.run_module("aekit", run_name="__main__", alter_sys=True)
    except SystemExit as stop:  # as the interpreter treats it
        if stop.code is None:
            code = 0
        elif isinstance(stop.code, int):
            code = stop.code
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        try:
            child(request)
        finally:
            os._exit(70)
    os.write(1, (json.dumps({"pid": pid}) + "\n").encode())
    _, status = os.waitpid(pid, 0)
    os.write(1, (json.dumps({"status": os.waitstatus_to_exitcode(status)}) + "\n").encode())
"""

_lock = threading.Lock()
_server: subprocess.Popen[bytes] | None = None


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[int, str, str]:
    """``(exit status, stdout, stderr)`` of ``python -m aekit ARGS`` (see the module doc)."""
    if os.environ.get("AEKIT_TEST_COLD_CLI") or not hasattr(os, "fork"):
        done = subprocess.run(
            [sys.executable, "-m", "aekit", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return done.returncode, done.stdout, done.stderr
    with _lock, tempfile.TemporaryDirectory() as tmp:
        out, err = Path(tmp, "stdout"), Path(tmp, "stderr")
        server = _started()
        request = {
            "args": args,
            "cwd": str(cwd),
            "env": env,
            "stdout": str(out),
            "stderr": str(err),
            "warnings": env.get("PYTHONWARNINGS", "default"),
        }
        assert server.stdin is not None
        server.stdin.write((json.dumps(request) + "\n").encode())
        server.stdin.flush()
        pid = _answer(server, 60.0)["pid"]
        try:
            status = _answer(server, timeout)["status"]
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)
            _answer(server, 60.0)
            raise subprocess.TimeoutExpired(["aekit", *args], timeout) from None
        return status, out.read_text(), err.read_text()


def _started() -> subprocess.Popen[bytes]:
    global _server
    if _server is None or _server.poll() is not None:
        _server = subprocess.Popen(
            [sys.executable, "-c", SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,  # unbuffered: select() then sees every answer line
        )
        atexit.register(_stop, _server)
    return _server


def _answer(server: subprocess.Popen[bytes], timeout: float) -> dict[str, int]:
    assert server.stdout is not None
    ready, _, _ = select.select([server.stdout], [], [], timeout)
    if not ready:
        raise TimeoutError
    line = server.stdout.readline()
    if not line:
        raise RuntimeError("the warm aekit server ended; rerun with AEKIT_TEST_COLD_CLI=1")
    answer: dict[str, int] = json.loads(line)
    return answer


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)
