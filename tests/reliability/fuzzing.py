"""A fuzzing campaign over aekit's public entry points: estimators, data files, the command
line and model files.

Each input is made from a seed (``(target, seed)`` names it, so any failure re-runs alone)
and must end in a correct result or one clear error, within ``TIME_LIMIT`` seconds:

- a result is checked (finite outputs, one row per input row, a written file that reads);
- a clear error is one aekit raised on purpose: an ``AekitError``, a ``ValueError`` or
  ``TypeError`` raised by aekit's own code or scikit-learn's input validation, a missing
  file or folder, ``NotFittedError``; for the command line, exit status 1 with one
  ``aekit: error:`` line, or 2 from argument parsing;
- anything else is a bug: an error from inside numpy, torch, pandas, pyarrow or PIL, a
  traceback from the command line, a hang, a memory blow-up, a temporary or partial output
  file left behind.

    python tests/reliability/fuzzing.py --inputs 10000      # the campaign, with counts
    python tests/reliability/fuzzing.py --target data-files --seed 123 --inputs 1  # one again
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import resource
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: run as a script too
from forging import reforged

TIME_LIMIT = 20.0  # seconds per input
MEMORY_LIMIT_MB = 6000  # peak resident memory of the whole campaign process
AEKIT = str(Path(__file__).resolve().parents[2] / "src" / "aekit")
DELIBERATE = (AEKIT, "sklearn/utils/validation.py", "sklearn/base.py")


class Timeout(Exception):
    pass


class Bug(AssertionError):
    """An outcome that is neither a correct result nor a clear error."""


# --- outcomes ---------------------------------------------------------------------------


def is_clear(error: BaseException) -> bool:
    """Whether ``error`` is one aekit (or scikit-learn's validation) raised on purpose."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils._param_validation import InvalidParameterError

    from aekit.exceptions import AekitError

    if isinstance(error, (AekitError, NotFittedError, InvalidParameterError, _CliError)):
        return len(str(error)) > 10
    if isinstance(error, (FileNotFoundError, IsADirectoryError, NotADirectoryError)):
        return True
    if type(error) in (ValueError, TypeError, PermissionError) and len(str(error)) > 10:
        frames = traceback.extract_tb(error.__traceback__)
        return bool(frames) and any(part in frames[-1].filename for part in DELIBERATE)
    return False


@dataclass
class Report:
    """Counts per target and outcome, and the failures with how to re-run each."""

    counts: collections.Counter[str] = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)
    seconds: collections.Counter[str] = field(default_factory=collections.Counter)

    def table(self) -> str:
        targets = sorted({k.split(":")[0] for k in self.counts})
        lines = [
            "| target | inputs | results | clear errors | bugs | seconds |",
            "|---|--:|--:|--:|--:|--:|",
        ]
        for t in targets:
            n = {o: self.counts[f"{t}:{o}"] for o in ("ok", "error", "bug")}
            lines.append(
                f"| {t} | {sum(n.values())} | {n['ok']} | {n['error']} | {n['bug']} | "
                f"{self.seconds[t]:.0f} |"
            )
        total = sum(self.counts.values())
        lines.append(
            f"| all | {total} | | | {len(self.failures)} | {sum(self.seconds.values()):.0f} |"
        )
        return "\n".join(lines)


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise Timeout(f"no outcome within {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_one(target: str, seed: int, workspace: Path, report: Report) -> str:
    """Run one input; count its outcome; return "ok", "error" or "bug"."""
    folder = workspace / f"{target}-{seed}"
    folder.mkdir()
    started = time.perf_counter()
    try:
        with time_limit(TIME_LIMIT), np.errstate(all="ignore"):
            TARGETS[target](np.random.default_rng(seed), folder)
        outcome = "ok"
    except Bug as error:
        outcome, why = "bug", f"{error}"
    except Timeout as error:
        outcome, why = "bug", f"hang: {error}"
    except Exception as error:
        outcome = "error" if is_clear(error) else "bug"
        why = "".join(traceback.format_exception(error)[-3:]).strip()
    leftovers = [p.name for p in folder.rglob(".*")]
    if leftovers:
        outcome, why = "bug", f"temporary files left: {leftovers}"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if peak > MEMORY_LIMIT_MB:
        outcome, why = "bug", f"peak memory {peak:.0f} MB"
    report.counts[f"{target}:{outcome}"] += 1
    report.seconds[target] += time.perf_counter() - started
    if outcome == "bug":
        report.failures.append(f"{target} seed {seed}: {why}")
    return outcome


def campaign(n_inputs: int, seed: int = 0, targets: list[str] | None = None) -> Report:
    """``n_inputs`` inputs spread over ``targets`` (all by default), seeds from ``seed``."""
    import warnings

    names = targets or list(TARGETS)
    report = Report()
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(n_inputs):
            run_one(names[i % len(names)], seed + i, Path(tmp), report)
    return report


# --- hostile values ---------------------------------------------------------------------

SPECIAL = [0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e308, -1e308, 3.4e38, 1e-310, 2**63]


def numbers(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Floats of ``shape``: mostly ordinary, some special, scales from tiny to huge."""
    x = np.array(rng.normal(size=shape) * 10.0 ** rng.integers(-3, 6))
    if x.size and rng.random() < 0.5:
        k = rng.integers(1, max(2, x.size // 4))
        x.flat[rng.integers(0, x.size, k)] = rng.choice(SPECIAL, k)
    return x


def array(rng: np.random.Generator, width: int | None = None) -> Any:
    """An array-like of random rank, size, dtype and values (or a list, or a scalar)."""
    n = int(rng.choice([0, 1, 2, 3, 5, 17, 60]))
    if width is None:
        ndim = int(rng.choice([0, 1, 2, 2, 2, 3, 4]))
        shape = (n, *(int(rng.integers(0, 9)) for _ in range(max(0, ndim - 1))))[:ndim]
    else:
        shape = (n, int(width + rng.choice([0, 0, 0, -1, 1])))
    x = numbers(rng, shape)
    kind = rng.choice(
        [
            "float32",
            "float64",
            "float16",
            "int64",
            "uint8",
            "bool",
            "complex64",
            "object",
            "str",
            "list",
        ]
    )
    if kind == "object":
        out = x.astype(object)
        if out.size:
            out.flat[rng.integers(0, out.size)] = rng.choice(["a", None, b"x", "1.5"])
        return out
    if kind == "str":
        return x.astype(str)
    if kind == "list":
        return x.tolist()
    if kind == "bool":
        return x > 0
    return x.astype(kind)


TEXTS = [
    "a",
    "b",
    "",
    " ",
    "é",
    "ß",
    "日本",
    "1",
    "1.5",
    "2,5",
    "nan",
    "NULL",
    "True",
    "x" * 300,
    "2024-01-01",
    "2024-13-45",
    "12:00",
    "\x00",
    "a\nb",
    '"',
    "-",
    "inf",
]


def frame(rng: np.random.Generator, n: int | None = None, columns: list[str] | None = None) -> Any:
    """A DataFrame of mixed, gappy, oddly named and oddly typed columns."""
    import pandas as pd

    n = int(rng.choice([0, 1, 2, 8, 40, 120])) if n is None else n
    names = columns or [
        str(rng.choice(["a", "b", "c", "id", "when", "", " ", "é", "1", "a.b", "x" * 50]))
        + str(i) * int(rng.integers(0, 2))
        for i in range(int(rng.integers(0, 7)))
    ]
    data: dict[Any, Any] = {}
    for name in names:
        kind = rng.choice(
            ["float", "int", "bool", "text", "category", "date", "mixed", "empty", "bigint", "tz"]
        )
        if kind == "float":
            data[name] = numbers(rng, (n,))
        elif kind == "int":
            data[name] = rng.integers(-5, 5, n)
        elif kind == "bigint":
            data[name] = rng.integers(-(2**62), 2**62, n)
        elif kind == "bool":
            data[name] = rng.random(n) > 0.5
        elif kind == "text":
            data[name] = rng.choice(TEXTS, n).astype(object)
        elif kind == "category":
            data[name] = pd.Categorical(rng.choice(["u", "v", "w"], n))
        elif kind == "date":
            data[name] = pd.Timestamp("2020-01-01") + pd.to_timedelta(
                rng.integers(0, 10**6, n), "min"
            )
        elif kind == "tz":
            data[name] = pd.date_range("2021-03-28", periods=n, freq="17min", tz="Europe/Paris")
        elif kind == "mixed":
            values = [rng.choice([1, 2.5, "a", None, True, np.nan]) for _ in range(n)]
            data[name] = pd.Series(values, dtype=object)
        else:
            data[name] = pd.Series([None] * n, dtype=object)
    out = pd.DataFrame(data)
    if len(names) != len(set(names)) and len(out.columns) and rng.random() < 0.3:
        out.columns = [names[0]] * len(out.columns)  # duplicate names
    return out


def tiny(kind: str = "dense", **extra: Any) -> dict[str, Any]:
    """Settings for a model that trains in milliseconds."""
    if kind in ("conv", "strided_conv"):
        return {"kind": kind, "latent_dim": 2, "max_epochs": 1, "random_state": 0, **extra}
    return {
        "latent_dim": 2,
        "model_params": {"hidden_dims": (4,)},
        "max_epochs": 1,
        "random_state": 0,
        "verbose": 0,
        **extra,
    }


HOSTILE_PARAMS: dict[str, list[Any]] = {
    "latent_dim": [0, -1, 1.5, "2", None, 10**9, True],
    "batch_size": [0, -3, 1, "auto", "big", 10**9, 2.5],
    "learning_rate": [0.0, -1.0, float("nan"), float("inf"), 1e6, "fast"],
    "max_epochs": [0, -1, 1, 2.5, None],
    "activation": ["relu", "nope", "", None, 3],
    "loss": ["mse", "bce", "l1", "hinge", None],
    "validation_fraction": [0.0, 0.5, 1.0, -0.1, 2.0, float("nan")],
    "noise_level": [0.0, 0.5, -1.0, float("inf")],
    "beta": [0.0, 1.0, -2.0, float("nan")],
    "sparsity": [None, 0.0, 0.1, -1.0],
    "patience": [None, 0, -1, 3],
    "weight_decay": [0.0, -1.0, float("inf")],
}


def checked(result: Any, n: int, what: str) -> None:
    """A result must have one row per input row and finite numbers."""
    values = np.asarray(result.to_numpy() if hasattr(result, "to_numpy") else result)
    if len(values) != n:
        raise Bug(f"{what} gave {len(values)} rows for {n}")
    if values.dtype.kind in "fc" and not np.isfinite(values).all():
        raise Bug(f"{what} gave non-finite values")


# --- targets ----------------------------------------------------------------------------


def fit_target(rng: np.random.Generator, folder: Path) -> None:
    """Fit an estimator with odd settings on odd data, then use it on the same data."""
    from aekit import AnomalyDetector, Autoencoder

    draw = rng.random()
    if draw < 0.3:  # plausible numbers (some special), so that training is reached often
        X = numbers(rng, (int(rng.choice([2, 5, 17, 60])), int(rng.integers(1, 9))))
        if rng.random() < 0.6:
            X = np.nan_to_num(X, nan=0.0, posinf=1.0, neginf=-1.0)
    else:
        X = frame(rng) if draw < 0.6 else array(rng)
    params = tiny(str(rng.choice(["dense", "dense", "conv"])))
    hostile = int(rng.choice([0, 0, 1, 2]))  # half the inputs keep valid settings
    for name in rng.choice(list(HOSTILE_PARAMS), hostile, replace=False):
        params[name] = HOSTILE_PARAMS[name][int(rng.integers(0, len(HOSTILE_PARAMS[name])))]
    if rng.random() < 0.3:
        params["variational"] = True
    if rng.random() < 0.25:
        detector = AnomalyDetector(n_estimators=2, random_state=0)
        member = {k: v for k, v in params.items() if k != "random_state"}
        detector.set_params(**{f"estimator__{k}": v for k, v in member.items()})
        if rng.random() < 0.5:
            checked(detector.fit_predict(X), len(X), "fit_predict")
        else:
            checked(detector.fit(X).decision_function(X), len(X), "decision_function")
        return
    model = Autoencoder(**params)
    if rng.random() < 0.5:
        checked(model.fit_transform(X), len(X), "fit_transform")
    else:
        checked(model.fit(X).transform(X), len(X), "transform")
    checked(model.score_samples(X), len(X), "score_samples")


_FITTED: dict[str, Any] = {}


def fitted(name: str) -> Any:
    """Models fitted once per process: on an array, on a mixed table, a detector, images."""
    if name not in _FITTED:
        import pandas as pd

        from aekit import AnomalyDetector, Autoencoder

        rng = np.random.default_rng(0)
        table = pd.DataFrame(
            {
                "amount": rng.gamma(2, 10, 200),
                "city": rng.choice(["Oslo", "Lima", "Pune"], 200),
                "ok": rng.random(200) > 0.3,
                "when": pd.Timestamp("2024-01-01")
                + pd.to_timedelta(rng.integers(0, 10**6, 200), "min"),
            }
        )
        if name == "array":
            model = Autoencoder(**tiny()).fit(rng.random((80, 6)).astype(np.float32))
        elif name == "vae":
            model = Autoencoder(**tiny(variational=True)).fit(rng.random((80, 6)))
        elif name == "table":
            model = Autoencoder(**tiny()).fit(table)
        elif name == "images":
            model = Autoencoder(**tiny("conv")).fit(rng.random((40, 1, 8, 8)).astype(np.float32))
        else:
            model = AnomalyDetector(n_estimators=2, random_state=0)
            model.set_params(estimator__model_params={"hidden_dims": (4,)}, estimator__max_epochs=1)
            model.fit(table)
        _FITTED[name] = (model, table)
    return _FITTED[name]


METHODS = {  # every public method that takes data
    "array": [
        "transform",
        "inverse_transform",
        "reconstruct",
        "score_samples",
        "score",
        "denoise",
        "corrupt",
        "reconstruction_error",
        "network_inputs",
        "network_outputs",
    ],
    "vae": ["transform", "inverse_transform", "score_samples", "interpolate", "sample"],
    "table": [
        "transform",
        "reconstruct",
        "score_samples",
        "reconstruction_error",
        "network_inputs",
    ],
    "images": ["transform", "reconstruct", "score_samples", "denoise", "corrupt"],
    "detector": [
        "decision_function",
        "predict",
        "pvalues",
        "explain",
        "score_samples",
        "anomaly_score",
        "score_parts",
        "relative_error",
        "code_distance",
        "hidden_distance",
        "network_inputs",
    ],
}
HOSTILE_COUNTS = [0, 1, 3, -1, 2.5, "3", None, True, 10**5, 10**13]


def score_target(rng: np.random.Generator, folder: Path) -> None:
    """A fitted model's methods on odd inputs: wrong widths, types, columns, values."""
    name = str(rng.choice(list(METHODS)))
    model, table = fitted(name)
    method = str(rng.choice(METHODS[name]))
    if name in ("table", "detector"):
        X = _table_like(rng, table)
    elif name == "images":
        X = numbers(rng, (int(rng.integers(0, 4)), 1, 8, int(rng.choice([8, 8, 7]))))
        X = X.astype(rng.choice(["float32", "float64", "int64"]))
    elif method == "inverse_transform":
        X = array(rng, width=2)
    else:
        X = array(rng, width=6) if rng.random() < 0.7 else array(rng)
    if method == "sample":
        n = HOSTILE_COUNTS[int(rng.integers(0, len(HOSTILE_COUNTS)))]
        result = model.sample(n, random_state=int(rng.integers(0, 10)))
        checked(result, int(n), method)
        return
    if method == "interpolate":
        result = model.interpolate(
            X[:1] if np.ndim(X) and len(X) else X,
            X[1:2] if np.ndim(X) else X,
            steps=int(rng.choice([0, 1, 3, -1])),
        )
        checked(result, len(result), method)
        return
    result = getattr(model, method)(X)
    if method == "score":
        if not np.isfinite(result):
            raise Bug(f"score gave {result}")
    elif method == "score_parts":
        for part, values in result.items():
            checked(values, len(X), f"score_parts[{part!r}]")
    else:
        checked(result, len(X), method)


def _table_like(rng: np.random.Generator, table: Any) -> Any:
    X = table.sample(int(rng.choice([0, 1, 5, 30])), random_state=int(rng.integers(1000)))
    index = str(rng.choice(["shuffled", "range", "repeated"]))  # rows count by position
    if index != "shuffled":
        X = X.set_axis([7] * len(X) if index == "repeated" else range(len(X)))
    change = rng.choice(["none", "drop", "extra", "values", "types", "rename", "array", "gaps"])
    column = str(rng.choice(list(X.columns)))
    if change == "drop":
        X = X.drop(columns=[column])
    elif change == "extra":
        X["surprise"] = rng.choice(TEXTS, len(X))
    elif change == "values" and len(X):
        X[column] = rng.choice([*TEXTS, np.nan, np.inf, 1e308, None], len(X))
    elif change == "types":
        X[column] = X[column].astype(str)
    elif change == "rename":
        X = X.rename(columns={column: column.upper()})
    elif change == "array":
        return X.to_numpy()
    elif change == "gaps" and len(X):
        X = X.astype(object)
        X.iloc[rng.integers(0, len(X)), rng.integers(0, X.shape[1])] = None
    return X


def files_target(rng: np.random.Generator, folder: Path) -> None:
    """A data file of any supported kind, well or badly formed; read it, fit, score."""
    from aekit import Autoencoder
    from aekit.data.files import read_data

    path = _write_file(rng, folder)
    data = read_data(path)
    if np.ndim(data) and len(data) and rng.random() < 0.5:
        model = Autoencoder(**tiny("conv" if np.ndim(data) == 4 else "dense")).fit(data)
        checked(model.score_samples(data), len(data), "score_samples")


def _write_file(rng: np.random.Generator, folder: Path) -> Path:

    kind = str(
        rng.choice(
            ["csv", "tsv", "jsonl", "parquet", "npy", "npz", "png", "folder", "xlsx", "bytes"]
        )
    )
    if kind == "bytes":  # random bytes under any name
        suffix = str(rng.choice([".csv", ".parquet", ".npy", ".npz", ".png", ".xlsx", ".jsonl"]))
        path = folder / f"data{suffix}"
        path.write_bytes(rng.bytes(int(rng.integers(0, 2000))))
        return path
    table = frame(rng)
    if kind in ("csv", "tsv"):
        sep = "\t" if kind == "tsv" else str(rng.choice([",", ";", "|", "\t"]))
        text = table.to_csv(index=False, sep=sep)
        if rng.random() < 0.3:  # ragged, truncated or garbled
            lines = text.splitlines()
            if lines:
                lines[int(rng.integers(0, len(lines)))] += sep * int(rng.integers(1, 4)) + "1"
            text = "\n".join(lines)[: int(rng.integers(0, len(text) + 1))]
        encoding = str(rng.choice(["utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1252"]))
        path = folder / f"data.{kind}"
        path.write_bytes(text.encode(encoding, errors="replace"))
        return path
    if kind == "jsonl":
        path = folder / "data.jsonl"
        table = table.loc[:, ~table.columns.duplicated()]
        text = table.to_json(orient="records", lines=True, default_handler=str)
        if rng.random() < 0.3:
            text += rng.choice(['{"a": [1, 2]}', "[1]", "{", "null", '{"a": {"b": 1}}'])
        path.write_text(text)
        return path
    if kind == "parquet":
        path = folder / "data.parquet"
        if rng.random() < 0.3:
            import pyarrow as pa
            import pyarrow.parquet as pq

            odd = pa.table(
                {
                    "nested": pa.array([[1, 2], None, []] * 3),
                    "blob": pa.array([b"\x00", b"", None] * 3),
                    "n": pa.array([1.0, None, 3.0] * 3),
                }
            )
            pq.write_table(odd, path)
        else:
            table.columns = [str(c) for c in table.columns]
            if table.columns.duplicated().any():
                table = table.loc[:, ~table.columns.duplicated()]
            for column in table.columns[[d.kind == "O" for d in table.dtypes]]:
                table[column] = table[column].map(lambda v: None if v is None else str(v))
            table.to_parquet(path)
        if rng.random() < 0.2:
            path.write_bytes(path.read_bytes()[: int(rng.integers(0, path.stat().st_size))])
        return path
    if kind in ("npy", "npz"):
        x = array(rng)
        path = folder / f"data.{kind}"
        with open(path, "wb") as f:
            if kind == "npy":
                np.save(
                    f,
                    np.asarray(x, dtype=object if isinstance(x, list) else None),
                    allow_pickle=True,
                )
            else:
                keys = rng.choice(
                    ["X", "x", "data", "images", "y"], int(rng.integers(0, 3)), replace=False
                )
                np.savez(f, **{str(k): np.asarray(array(rng)) for k in keys})
        if rng.random() < 0.15:
            path.write_bytes(path.read_bytes()[: int(rng.integers(0, path.stat().st_size))])
        return path
    if kind in ("png", "folder"):
        from PIL import Image

        target = folder / "images" if kind == "folder" else folder
        target.mkdir(exist_ok=True)
        for i in range(1 if kind == "png" else int(rng.integers(0, 5))):
            mode = str(rng.choice(["L", "RGB", "RGBA", "P", "1", "I;16", "F"]))
            size = (int(rng.integers(1, 20)), int(rng.integers(1, 20)))
            picture = Image.fromarray(rng.integers(0, 255, size[::-1], dtype=np.uint8)).convert(
                mode
            )
            name = f"{i}.{rng.choice(['png', 'jpg', 'bmp', 'gif', 'tiff'])}"
            try:
                picture.save(target / name)
            except (OSError, ValueError, KeyError):
                (target / name).write_bytes(rng.bytes(50))
        return target if kind == "folder" else next(target.iterdir(), target / "missing.png")
    path = folder / "data.xlsx"
    table.columns = [str(c) for c in table.columns]
    for i, dtype in enumerate(table.dtypes):
        if getattr(dtype, "tz", None) is not None:
            table.isetitem(i, table.iloc[:, i].dt.tz_localize(None))
    table.to_excel(path, index=False, sheet_name=str(rng.choice(["Sheet1", "data", "x"])))
    return path


def cli_target(rng: np.random.Generator, folder: Path) -> None:
    """``aekit`` with arguments drawn from its own parser: valid and hostile values."""
    from aekit.cli.main import build_parser, main

    model_path = folder / "model.safetensors"
    fitted("array")[0].save(model_path)
    data = folder / "data.npy"
    np.save(data, np.random.default_rng(1).random((30, 6)).astype(np.float32))
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    command = str(rng.choice(sorted(commands.choices)))
    sub = commands.choices[command]
    argv = [command]
    output = folder / str(
        rng.choice(
            [
                "out.csv",
                "out.parquet",
                "out.npy",
                "out",
                "out.txt",
                "missing/out.csv",
                "out.html",
                "m.safetensors",
            ]
        )
    )
    pools = {
        "model": [str(model_path), str(data), str(folder), str(folder / "none.safetensors")],
        "data": [str(data), "digits", "digits-images", str(folder), str(model_path), "nope.csv"],
        "output": [str(output)],
    }
    for action in sub._actions:
        if action.dest in ("help", "debug") or not (
            action.required or not action.option_strings or rng.random() < 0.2
        ):
            continue
        value = _value_for(rng, action, pools)
        if action.option_strings:
            argv.append(str(rng.choice(action.option_strings)))
        if value is not None:
            argv.append(value)
    if command == "fit" and "--max-epochs" not in argv:
        argv += ["--max-epochs", "1"]
    if command == "demo":
        return  # trains seven models: covered by its own tests, too slow per input
    stdout, stderr = io.StringIO(), io.StringIO()
    existed = output.exists()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            status = main(argv)
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else 2
        if status not in (0, 2):
            raise Bug(f"aekit {argv} exited {stop.code!r}") from None
    except Exception as error:
        raise Bug(f"aekit {argv} raised {type(error).__name__}: {error}") from None
    errors = [line for line in stderr.getvalue().splitlines() if "error" in line]
    if status == 1 and (len(errors) != 1 or not errors[0].startswith("aekit: error: ")):
        raise Bug(f"aekit {argv} failed without one clear error line: {stderr.getvalue()!r}")
    if status != 0 and output.exists() and not existed:
        raise Bug(f"aekit {argv} failed but left {output}")
    if status == 1:
        raise _CliError(errors[0])


class _CliError(ValueError):
    """A command that ended with one clear error line (counted as a clear error)."""


def _value_for(
    rng: np.random.Generator, action: argparse.Action, pools: dict[str, list[str]]
) -> str | None:
    if action.nargs == 0:
        return None
    if action.dest in pools:
        return str(rng.choice(pools[action.dest]))
    if action.choices:
        return str(rng.choice([*map(str, action.choices), "bogus"]))
    hostile = [
        "0",
        "-1",
        "1",
        "2",
        "1e9",
        "nan",
        "x",
        "",
        "0.5",
        "999999999999999999999",
        "-",
        "tab",
        ";",
        "utf-99",
        "latin-1",
        "none",
        "None",
        "[1,2]",
    ]
    return str(rng.choice(hostile))


_MODELS: dict[str, bytes] = {}


def model_files_target(rng: np.random.Generator, folder: Path) -> None:
    """A valid model file, mutated: bit flips, truncation, header edits (with the checksum
    made right again, as a forger would), swapped or reshaped tensors. Load it and use it."""
    import aekit

    name = str(rng.choice(["array", "vae", "table", "images", "detector"]))
    if name not in _MODELS:
        path = folder / "valid.safetensors"
        fitted(name)[0].save(path)
        _MODELS[name] = path.read_bytes()
    data = bytearray(_MODELS[name])
    how = str(rng.choice(["flip", "truncate", "append", "header", "header", "header", "tensors"]))
    if how == "flip":
        for _ in range(int(rng.integers(1, 9))):
            data[int(rng.integers(0, len(data)))] ^= 1 << int(rng.integers(0, 8))
    elif how == "truncate":
        data = data[: int(rng.integers(0, len(data)))]
    elif how == "append":
        data += rng.bytes(int(rng.integers(1, 100)))
    else:
        data = bytearray(_reforge(rng, bytes(data), how))
    path = folder / "model.safetensors"
    path.write_bytes(bytes(data))
    model = aekit.load(path)
    X = fitted(name)[1] if name in ("table", "detector") else None
    if X is None:
        X = np.random.default_rng(2).random((5, 1, 8, 8) if name == "images" else (5, 6))
    method = "decision_function" if name == "detector" else "score_samples"
    checked(getattr(model, method)(X), len(X), method)


def _reforge(rng: np.random.Generator, data: bytes, how: str) -> bytes:
    """Change the header or the tensors, then rewrite the file with a valid checksum."""
    import torch

    def change(header: dict[str, Any], tensors: dict[str, Any]) -> None:
        if how == "header":
            _mutate_json(rng, header)
            return
        a, b = rng.choice(sorted(tensors), 2)
        edit = rng.choice(["swap", "reshape", "dtype", "drop", "nan"])
        if edit == "swap":
            tensors[a], tensors[b] = tensors[b], tensors[a]
        elif edit == "reshape":
            tensors[a] = tensors[a].reshape(-1)[: max(0, tensors[a].numel() - 1)].clone()
        elif edit == "dtype":
            tensors[a] = tensors[a].to(
                torch.float16 if tensors[a].is_floating_point() else torch.float32
            )
        elif edit == "drop":
            del tensors[a]
        elif tensors[a].is_floating_point():
            tensors[a] = torch.full_like(tensors[a], float("nan"))

    return reforged(data, change)


def _mutate_json(rng: np.random.Generator, node: Any, depth: int = 0) -> None:
    """Change one value somewhere in a JSON tree: delete, retype, or make it absurd."""
    if not isinstance(node, (dict, list)) or not node:
        return
    keys = list(node) if isinstance(node, dict) else list(range(len(node)))
    key = keys[int(rng.integers(0, len(keys)))]
    child = node[key]
    if isinstance(child, (dict, list)) and child and rng.random() < 0.75:
        _mutate_json(rng, child, depth + 1)
        return
    replacement = _absurd(rng)
    if replacement == "delete" and isinstance(node, dict):
        del node[key]
    elif replacement != "delete":
        node[key] = replacement


def _absurd(rng: np.random.Generator) -> Any:
    return ["delete", None, -1, 0, 10**12, 1e308, "x", [], {}, True, "nan", [1, 2], {"a": 1}, 2.5][
        int(rng.integers(0, 14))
    ]


TARGETS: dict[str, Callable[[np.random.Generator, Path], None]] = {
    "fit": fit_target,
    "methods": score_target,
    "data-files": files_target,
    "command-line": cli_target,
    "model-files": model_files_target,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", choices=list(TARGETS), action="append")
    args = parser.parse_args()
    start = time.perf_counter()
    report = campaign(args.inputs, args.seed, args.target)
    print(report.table())
    print(f"{sum(report.counts.values())} inputs in {time.perf_counter() - start:.0f} s")
    for failure in report.failures:
        print("BUG", failure)


if __name__ == "__main__":
    main()
