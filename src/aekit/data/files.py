"""Read data from the files people have and write results in the format a path names.

Reading: tables (``.csv`` and ``.tsv`` in any dialect :mod:`aekit.data.dialect` detects,
``.xlsx`` workbooks with the ``excel`` extra, ``.jsonl`` / ``.ndjson`` JSON Lines,
``.parquet``), arrays (``.npy``, ``.npz`` with ``key``), a folder of PNG/JPEG images, or a
built-in name (``digits``, ``mnist``, ``mnist-test``). Writing: ``.csv``,
``.parquet``, ``.npy``, ``.npz``, ``.png`` (one grid of images) or a folder (one PNG per
image). Every write is atomic: a failure leaves no half-written output behind.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import math
import os
import shutil
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from aekit.data.dialect import CsvDialect, check_not_one_column, sniff_csv
from aekit.exceptions import InputError
from aekit.io.atomic import is_file, replace_folder

BUILTIN = ("digits", "digits-images", "mnist", "mnist-test")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
CSV_SUFFIXES = (".csv", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
TABLE_SUFFIXES = (*CSV_SUFFIXES, *EXCEL_SUFFIXES, *JSON_LINES_SUFFIXES, ".parquet")
ARRAY_SUFFIXES = (".npy", ".npz")


@dataclass(frozen=True)
class ReadOptions:
    """How to read a table file; None means detect (``sep``, ``decimal``, ``encoding``:
    CSV) or the first (``sheet``: a workbook's sheet, by name or 0-based index).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from aekit import ReadOptions, read_table
    >>> path = Path(tempfile.mkdtemp()) / "levels.csv"
    >>> _ = path.write_text("a|b\\n1|2\\n3|4\\n")
    >>> read_table(path, ReadOptions(sep="|")).shape
    (2, 2)
    """

    sep: str | None = None
    decimal: str | None = None
    encoding: str | None = None
    sheet: str | int | None = None

    def dialect(self, path: Path) -> CsvDialect:
        """The CSV dialect of ``path``: these options, the rest detected.

        Parameters
        ----------
        path : Path
            A CSV or other delimited text file.

        Returns
        -------
        dialect : CsvDialect
        """
        return sniff_csv(path, sep=self.sep, decimal=self.decimal, encoding=self.encoding)


def read_data(
    spec: str | Path, *, key: str | None = None, options: ReadOptions | None = None
) -> Any:
    """Samples from ``spec``: an ndarray, or a pandas DataFrame for tables with named columns."""
    name = str(spec)
    if name in BUILTIN and not Path(name).exists():
        return _builtin(name)
    path = Path(name).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"data {name!r} not found: give a table ({', '.join(TABLE_SUFFIXES)}), an array "
            f"(.npy, .npz), a folder of images, or one of {', '.join(BUILTIN)}"
        )
    if path.is_dir():
        return read_image_folder(path)
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return read_table(path, options or ReadOptions())
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False)
        if suffix == ".npz":
            return _read_npz(path, key)
        if suffix in IMAGE_SUFFIXES:
            return read_images([path])
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        if isinstance(error, InputError):
            raise
        raise InputError(f"could not read {path} as {suffix[1:]}: {error}") from None
    hint = "; save it as .xlsx" if suffix == ".xls" else ""
    raise InputError(
        f"unsupported data file {path.name!r}: expected one of "
        f"{', '.join(TABLE_SUFFIXES + ARRAY_SUFFIXES + IMAGE_SUFFIXES)} or a folder of "
        f"images{hint}"
    )


def read_table(path: str | Path, options: ReadOptions | None = None) -> Any:
    """A table file as a pandas DataFrame: CSV/TSV (dialect detected unless ``options``
    says), an Excel workbook's sheet, JSON Lines or Parquet. A file read into one column
    whose values hold a separator is refused, naming the separator.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` or ``.tsv``, ``.xlsx`` or ``.xlsm``, ``.jsonl`` or ``.ndjson``, or
        ``.parquet`` file.
    options : ReadOptions, optional
        Separator, decimal mark, encoding or sheet, where detection should not decide.

    Returns
    -------
    table : pandas.DataFrame

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from aekit import read_table
    >>> path = Path(tempfile.mkdtemp()) / "orders.csv"
    >>> _ = path.write_text("city;amount\\nParis;3,5\\nLyon;12,0\\n")
    >>> read_table(path)  # the separator and the decimal comma are detected
        city  amount
    0  Paris     3.5
    1   Lyon    12.0
    """
    path = Path(path).expanduser()
    options = options or ReadOptions()
    suffix = path.suffix.lower()
    if not path.is_file():
        raise FileNotFoundError(f"data {str(path)!r} not found")
    try:
        if suffix in CSV_SUFFIXES:
            frame = _read_csv(path, options.dialect(path))
        elif suffix in EXCEL_SUFFIXES:
            frame = _read_excel(path, options.sheet)
        elif suffix in JSON_LINES_SUFFIXES:
            frame = _pandas("reading JSON Lines").read_json(
                path, lines=True, encoding=options.encoding or "utf-8"
            )
        elif suffix == ".parquet":
            frame = _pandas("reading Parquet").read_parquet(path)
        else:
            raise InputError(f"{path.name!r} is not a table: expected {', '.join(TABLE_SUFFIXES)}")
    except (ValueError, TypeError, OSError, EOFError, UnicodeDecodeError) as error:
        if isinstance(error, InputError):  # TypeError: JSON lines mixing objects and lists
            raise
        raise InputError(f"could not read {path} as {suffix[1:]}: {error}") from None
    if hasattr(frame, "columns"):
        if frame.empty:
            raise InputError(f"{path} holds no data rows")
        check_not_one_column(frame, str(path))
    return frame


def _builtin(name: str) -> NDArray[np.float32]:
    from aekit.datasets import load_digits, load_mnist

    if name.startswith("digits"):
        return load_digits(images=name == "digits-images")[0]
    (train, _), (test, _) = load_mnist()
    return test if name == "mnist-test" else train


def _pandas(why: str) -> Any:
    try:
        import pandas
    except ImportError:
        raise InputError(f"{why} needs pandas and pyarrow: pip install 'aekit[tables]'") from None
    return pandas


def _read_csv(path: Path, dialect: CsvDialect) -> Any:
    try:
        import pandas
    except ImportError:  # plain numbers still work without pandas
        with open(path, newline="", encoding=dialect.encoding) as f:
            rows = list(csv.reader(f, delimiter=dialect.sep, quotechar=dialect.quotechar))
        has_header = bool(rows) and not _is_number(rows[0][0])
        rows = rows[1:] if has_header else rows
        if dialect.decimal != ".":
            rows = [[v.replace(dialect.decimal, ".") for v in row] for row in rows]
        return np.asarray(rows, dtype=np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pandas.errors.ParserWarning)
        frame = pandas.read_csv(
            path,
            sep=dialect.sep,
            decimal=dialect.decimal,
            encoding=dialect.encoding,
            quotechar=dialect.quotechar,
            index_col=False,  # never the first column as the index, shifting every name
        )
    if any("header or names does not match" in str(w.message) for w in caught):
        check_not_one_column(frame.iloc[:0], str(path))  # a header 'a;b' read with sep=','
        raise InputError(
            f"could not read {path}: its rows hold more fields than the header's "
            f"{len(frame.columns)} names (a header cell missing, or a {dialect.sep!r} at the "
            f"end of each row); fix the header or the rows"
        )
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return frame


def _read_excel(path: Path, sheet: str | int | None) -> Any:
    pandas = _pandas("reading Excel workbooks")
    if importlib.util.find_spec("openpyxl") is None:
        raise InputError(f"reading {path.name} needs openpyxl: pip install 'aekit[excel]'")
    try:
        book = pandas.ExcelFile(path, engine="openpyxl")
    except Exception as error:  # openpyxl's errors on a foreign file: zip, XML, key errors
        raise InputError(f"{path} is not a readable .xlsx workbook: {error}") from None
    with book:
        names = [str(n) for n in book.sheet_names]
        if sheet is None:
            sheet = 0
        elif isinstance(sheet, str) and sheet not in names and sheet.isdigit():
            sheet = int(sheet)
        if isinstance(sheet, int) and not 0 <= sheet < len(names):
            raise InputError(f"{path} has {len(names)} sheets {names}; no sheet {sheet}")
        if isinstance(sheet, str) and sheet not in names:
            raise InputError(f"{path} has no sheet {sheet!r}; its sheets are {names}")
        try:
            return pandas.read_excel(book, sheet_name=sheet)
        except Exception as error:
            raise InputError(f"could not read sheet {sheet!r} of {path}: {error}") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_npz(path: Path, key: str | None) -> NDArray[Any]:
    with np.load(path, allow_pickle=False) as archive:
        names = list(archive.files)
        if key is None:
            if len(names) == 1:
                key = names[0]
            elif "X" in names:
                key = "X"
            else:
                raise InputError(f"{path} holds arrays {names}; choose one with --key")
        if key not in names:
            raise InputError(f"{path} has no array {key!r}; it holds {names}")
        return np.asarray(archive[key])


def read_image_folder(folder: Path) -> NDArray[np.float32]:
    """Every PNG/JPEG in ``folder`` (sorted by name) as float32 in [0, 1]."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InputError(f"folder {folder} holds no .png or .jpg images")
    return read_images(files)


def read_images(files: list[Path]) -> NDArray[np.float32]:
    """Images of one size: (n, H, W) when all are grey, else (n, 3, H, W)."""
    from PIL import Image, UnidentifiedImageError

    pictures = []
    for file in files:
        try:
            with Image.open(file) as image:
                image.load()
                pictures.append(image.copy())
        except (UnidentifiedImageError, OSError) as error:
            raise InputError(f"{file} is not a readable image: {error}") from None
    grey = all(p.mode in ("L", "1", "I;16", "I") for p in pictures)
    arrays = [
        np.asarray(p.convert("L" if grey else "RGB"), dtype=np.float32) / 255.0 for p in pictures
    ]
    sizes = {a.shape for a in arrays}
    if len(sizes) > 1:
        raise InputError(f"images differ in size {sorted(sizes)}; resize them to one size first")
    stacked = np.stack(arrays)
    return stacked if grey else stacked.transpose(0, 3, 1, 2).copy()


# --- writing --------------------------------------------------------------------------


def write_data(
    path: str | Path,
    data: Any,
    *,
    columns: list[str] | None = None,
    key: str = "X",
) -> Path:
    """Write ``data`` in the format ``path``'s extension names; a path without one is a folder
    of PNG images. Nothing is left behind if writing fails. ``data`` is an array, or a
    pandas DataFrame (its own columns and dtypes) for ``.csv`` and ``.parquet``."""
    path = check_writable(path, folder=Path(path).suffix == "")
    suffix = path.suffix.lower()
    if hasattr(data, "columns") and hasattr(data, "to_csv"):
        if suffix not in (".csv", ".parquet"):
            raise InputError(
                f"cannot write {path.name!r}: a table with named columns of mixed types is "
                f"written as .csv or .parquet"
            )
        write_bytes_atomically(path, _frame_bytes(data, suffix))
        return path
    if suffix == "":
        _write_image_folder(path, data)
        return path
    if suffix == ".npy":
        buffer = io.BytesIO()
        np.save(buffer, data, allow_pickle=False)
        payload = buffer.getvalue()
    elif suffix == ".npz":
        buffer = io.BytesIO()
        np.savez_compressed(buffer, allow_pickle=False, **{key: data})
        payload = buffer.getvalue()
    elif suffix in (".csv", ".parquet"):
        payload = _table_bytes(data, columns, suffix)
    elif suffix == ".png":
        payload = _png_bytes(image_grid(as_images(data)))
    else:
        raise InputError(
            f"cannot write {path.name!r}: use .csv, .parquet, .npy, .npz, .png or a folder name"
        )
    write_bytes_atomically(path, payload)
    return path


def check_writable(path: str | Path, *, folder: bool = False) -> Path:
    """Fail before any work is done if ``path`` cannot be written."""
    path = Path(path).expanduser()
    if not path.parent.is_dir():
        raise InputError(f"cannot write {path}: folder {path.parent} does not exist")
    if path.is_dir() and not folder:
        raise InputError(f"cannot write {path}: it is a directory")
    if not os.access(path.parent, os.W_OK):
        raise InputError(f"cannot write {path}: no permission to write in {path.parent}")
    return path


def write_bytes_atomically(path: Path, payload: bytes) -> None:
    """Readers see the old file or the new one, never half of one."""
    from aekit.io.atomic import write_atomically

    try:
        write_atomically(path, payload)
    except PermissionError:
        raise InputError(f"cannot write {path}: permission denied") from None


def _table_bytes(data: NDArray[Any], columns: list[str] | None, suffix: str) -> bytes:
    flat = data.reshape(len(data), -1) if data.ndim > 1 else data.reshape(-1, 1)
    names = columns or [f"x{i}" for i in range(flat.shape[1])]
    if suffix == ".parquet":
        pandas = _pandas("writing Parquet")
        buffer = io.BytesIO()
        pandas.DataFrame(flat, columns=names).to_parquet(buffer, index=False)
        return buffer.getvalue()
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(names)
    for row in flat:
        writer.writerow([_format_cell(v) for v in row])
    return text.getvalue().encode()


def _frame_bytes(frame: Any, suffix: str) -> bytes:
    if suffix == ".parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    return str(frame.to_csv(index=False, float_format="%.9g", lineterminator="\n")).encode()


def _format_cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.9g}"
    return str(value)


def as_images(data: NDArray[Any]) -> NDArray[np.float32]:
    """(n, H, W) or (n, C, H, W); square flat rows (784 -> 28x28) become images."""
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 2:
        side = math.isqrt(data.shape[1])
        if side * side != data.shape[1]:
            raise InputError(
                f"rows of {data.shape[1]} values are not square images; write .csv, .npy or .npz"
            )
        data = data.reshape(len(data), side, side)
    if data.ndim not in (3, 4):
        raise InputError(f"cannot draw data of shape {data.shape} as images")
    return data


def _to_uint8(image: NDArray[np.float32]) -> NDArray[np.uint8]:
    low, high = (0.0, 1.0) if image.min() >= 0 and image.max() <= 1 else (image.min(), image.max())
    scaled = (image - low) / max(high - low, 1e-12)
    return np.asarray(np.clip(scaled * 255 + 0.5, 0, 255), dtype=np.uint8)


def image_grid(images: NDArray[np.float32], columns: int | None = None) -> NDArray[np.uint8]:
    """Tile images into one uint8 picture (H, W) or (H, W, 3) with 1-pixel gaps."""
    if images.ndim == 4:
        images = images.transpose(0, 2, 3, 1)
        if images.shape[-1] == 1:
            images = images[..., 0]
    n = len(images)
    columns = columns or min(n, max(1, math.ceil(math.sqrt(n))))
    rows = math.ceil(n / columns)
    h, w = images.shape[1:3]
    grid = np.zeros((rows * (h + 1) - 1, columns * (w + 1) - 1, *images.shape[3:]), np.uint8)
    pixels = _to_uint8(images)
    for i in range(n):
        r, c = divmod(i, columns)
        grid[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = pixels[i]
    return grid


def _png_bytes(pixels: NDArray[np.uint8]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _write_image_folder(folder: Path, data: NDArray[Any]) -> None:
    images = as_images(data)
    if images.ndim == 4:
        images = images.transpose(0, 2, 3, 1)
        if images.shape[-1] == 1:
            images = images[..., 0]
    pixels = _to_uint8(images)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        width = len(str(len(pixels)))
        for i, picture in enumerate(pixels):
            (staging / f"{i:0{width}d}.png").write_bytes(_png_bytes(picture))
        if is_file(folder):
            raise InputError(f"cannot write images to {folder}: it is a file")
        replace_folder(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
