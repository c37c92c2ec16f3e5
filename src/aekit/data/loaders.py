"""Tables bigger than memory: Parquet files read in row groups and record batches.

A :class:`ParquetSource` is one ``.parquet`` file or a folder of them, seen through
``pyarrow.dataset``. Ranks of a distributed run each take one contiguous, equal range of the
whole table's rows (any files, any row groups: one file of one row group is shared too), read
a row group, or the part of one in their range, at a time. A row's validation membership is a
hash of its position in the whole data set (the same on every rank and every epoch), and
statistics come from a uniform :meth:`~ParquetSource.sample`
read one row group at a time. :class:`StreamBatches` turns a source into shuffled mini-batch
tensors for ``train()``, holding at most ``buffer_rows`` rows. :func:`map_table` streams a
Parquet, CSV or JSON Lines table through a function into a Parquet or CSV file, chunk
by chunk.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from aekit.exceptions import InputError
from aekit.io.atomic import atomic_path

if TYPE_CHECKING:
    from aekit.data.dialect import CsvDialect
    from aekit.data.files import ReadOptions

SAMPLE_ROWS = 100_000  # rows read to fit preprocessing statistics on streamed data
BUFFER_ROWS = 65_536  # rows held by the shuffle buffer
CHUNK_ROWS = 65_536  # rows per record batch read or written
_MIX = np.uint64(0x9E3779B97F4A7C15)


def is_table_path(X: Any) -> bool:
    """Whether ``X`` names a Parquet file or a folder holding Parquet files (a stream)."""
    if not isinstance(X, (str, os.PathLike)):
        return False
    path = Path(X).expanduser()
    if path.is_dir():
        return any(path.glob("*.parquet"))
    return path.suffix.lower() == ".parquet"


@dataclass(frozen=True)
class RowGroup:
    """Rows of one row group of one file, and where they start in the whole data set.

    A whole row group has ``skip=0`` and its full ``n_rows``; a rank whose range cuts a row
    group holds the ``n_rows`` rows after the first ``skip``.
    """

    fragment: Any  # pyarrow.dataset.ParquetFileFragment
    index: int
    start: int
    n_rows: int
    skip: int = 0

    def part(self, first: int, stop: int) -> RowGroup | None:
        """The rows at whole-table positions ``first .. stop - 1`` of this one, if any."""
        lo, hi = max(first, self.start), min(stop, self.start + self.n_rows)
        if lo >= hi:
            return None
        return RowGroup(self.fragment, self.index, lo, hi - lo, self.skip + lo - self.start)


class ParquetSource:
    """A Parquet file or folder, read in row groups; train/validation rows split by hash.

    Parameters
    ----------
    path : str or Path
        A ``.parquet`` file, or a folder whose ``*.parquet`` files (sorted by name) are read.
    columns : sequence of str, optional
        Columns to read; by default all. A missing one raises ``InputError`` naming it.
    validation_fraction : float, default=0.0
        Share of rows held out for validation, chosen by a hash of each row's position.
    seed : int, default=0
        Seeds the holdout hash.
    rank, world_size : int, default 0 and 1
        This process's share: the rows ``rank * n // world_size`` up to
        ``(rank + 1) * n // world_size`` of the ``n`` rows, so shards are disjoint and differ
        by one row at most. Fewer rows than ranks raises ``InputError``.
    """

    def __init__(
        self,
        path: str | Path,
        columns: Sequence[str] | None = None,
        *,
        validation_fraction: float = 0.0,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        import pyarrow.dataset as ds

        self.path = Path(path).expanduser()
        if not self.path.exists():
            raise FileNotFoundError(f"data {str(path)!r} not found")
        files = sorted(self.path.glob("*.parquet")) if self.path.is_dir() else [self.path]
        if not files:
            raise InputError(f"folder {self.path} holds no .parquet files")
        try:
            self.dataset = ds.dataset([str(f) for f in files], format="parquet")
        except (OSError, ValueError) as error:
            raise InputError(f"could not read {self.path} as Parquet: {error}") from None
        available = list(self.dataset.schema.names)
        if columns is None:
            self.columns = available
        else:
            missing = [c for c in columns if c not in available]
            if missing:
                raise InputError(
                    f"{self.path} lacks columns {missing}; it has {available[:20]}"
                    + (" ..." if len(available) > 20 else "")
                )
            self.columns = list(columns)
        self.validation_fraction, self.seed = float(validation_fraction), int(seed)
        self.row_groups = self._row_groups()
        self.n_rows = sum(g.n_rows for g in self.row_groups)
        self.rank, self.world_size = rank, world_size
        self.shard = self._deal(rank, world_size)

    def _row_groups(self) -> list[RowGroup]:
        groups, start = [], 0
        for fragment in self.dataset.get_fragments():
            for info in fragment.row_groups:
                groups.append(RowGroup(fragment, info.id, start, info.num_rows))
                start += info.num_rows
        return groups

    def _deal(self, rank: int, world_size: int) -> list[RowGroup]:
        if world_size == 1:
            return self.row_groups
        if self.n_rows < world_size:
            raise InputError(
                f"{self.path} has {self.n_rows} rows, fewer than the {world_size} ranks "
                f"that share it"
            )
        first, stop = rank * self.n_rows // world_size, (rank + 1) * self.n_rows // world_size
        parts = (group.part(first, stop) for group in self.row_groups)
        return [part for part in parts if part is not None]

    # --- reading ----------------------------------------------------------------------

    def _frames(self, group: RowGroup, chunk_rows: int = CHUNK_ROWS) -> Iterator[tuple[int, Any]]:
        """(first row's position, DataFrame) per record batch of one row group's rows."""
        start, skip, left = group.start, group.skip, group.n_rows
        piece = group.fragment.subset(row_group_ids=[group.index])
        for batch in piece.to_batches(columns=self.columns, batch_size=chunk_rows):
            if skip >= batch.num_rows:  # before this rank's part of the row group
                skip -= batch.num_rows
                continue
            batch = batch.slice(skip, left)
            skip, left = 0, left - batch.num_rows
            if batch.num_rows:
                yield start, batch.to_pandas()
                start += batch.num_rows
            if left == 0:
                break

    def in_validation(self, start: int, n: int) -> NDArray[np.bool_]:
        """Whether each of the rows ``start .. start + n`` is held out (a seeded hash)."""
        if self.validation_fraction <= 0:
            return np.zeros(n, bool)
        with np.errstate(over="ignore"):  # splitmix64: wrap-around is the point
            x = np.arange(start, start + n, dtype=np.uint64) + np.uint64(self.seed) * _MIX
            x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            x = x ^ (x >> np.uint64(31))
        return (x >> np.uint64(11)).astype(np.float64) / 2.0**53 < self.validation_fraction

    def frames(self, split: str | None = None, order: Sequence[int] | None = None) -> Iterator[Any]:
        """This rank's rows as DataFrames: all, ``"train"`` or ``"validation"`` rows.

        ``order`` permutes this rank's row groups (for shuffling).
        """
        groups = self.shard if order is None else [self.shard[i] for i in order]
        for group in groups:
            for start, frame in self._frames(group):
                if split is None:
                    yield frame
                    continue
                held = self.in_validation(start, len(frame))
                keep = held if split == "validation" else ~held
                if keep.all():
                    yield frame
                elif keep.any():
                    yield frame[keep].reset_index(drop=True)

    def sample(self, n: int = SAMPLE_ROWS, seed: int = 0) -> Any:
        """A uniform random sample of ``min(n, n_rows)`` rows of the whole data set
        (every rank draws the same), read one row group at a time, as a DataFrame."""
        import pandas as pd

        n = min(int(n), self.n_rows)
        if n <= 0:
            raise InputError(f"{self.path} holds no rows")
        chosen = np.sort(np.random.default_rng(seed).choice(self.n_rows, n, replace=False))
        parts = []
        for group in self.row_groups:
            lo, hi = np.searchsorted(chosen, [group.start, group.start + group.n_rows])
            if lo == hi:
                continue
            for start, frame in self._frames(group):
                a, b = np.searchsorted(chosen[lo:hi], [start, start + len(frame)])
                if a < b:
                    parts.append(frame.iloc[chosen[lo:hi][a:b] - start])
        return pd.concat(parts, ignore_index=True)


class StreamBatches:
    """Mini-batch tensors over a source's rows, shuffled within a buffer; one pass per iter.

    Each pass visits this rank's row groups in a new seeded order, maps each record batch
    to model space with ``transform`` and fills a buffer of ``buffer_rows`` rows, which is
    permuted and cut into batches (the remainder carried into the next buffer). Memory holds
    one buffer and one record batch. ``shuffle=False`` reads in file order.
    """

    def __init__(
        self,
        source: ParquetSource,
        transform: Callable[[Any], NDArray[np.float32]],
        batch_size: int,
        *,
        split: str | None = None,
        shuffle: bool = True,
        buffer_rows: int = BUFFER_ROWS,
        seed: int = 0,
    ) -> None:
        self.source, self.transform, self.batch_size = source, transform, batch_size
        self.split, self.shuffle, self.buffer_rows, self.seed = split, shuffle, buffer_rows, seed
        self.epoch = 0

    def __iter__(self) -> Iterator[Any]:
        import torch

        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        order = rng.permutation(len(self.source.shard)).tolist() if self.shuffle else None
        capacity = max(self.buffer_rows, 2 * self.batch_size)
        carried: list[NDArray[np.float32]] = []  # the last round's remainder, shuffled
        fresh: list[NDArray[np.float32]] = []
        n_held = 0
        for frame in self.source.frames(self.split, order):
            x = self.transform(frame)
            while len(x):  # a record batch may be larger than the buffer's room
                room = capacity - n_held
                fresh.append(x[:room])
                n_held, x = n_held + len(fresh[-1]), x[room:]
                if n_held >= capacity:
                    full, rest = self._cut(carried, fresh, rng, last=False)
                    yield from (torch.from_numpy(b) for b in full)
                    carried, fresh, n_held = [rest], [], len(rest)
        if n_held:
            full, _ = self._cut(carried, fresh, rng, last=True)
            yield from (torch.from_numpy(b) for b in full)

    def _cut(
        self,
        carried: list[NDArray[np.float32]],
        fresh: list[NDArray[np.float32]],
        rng: np.random.Generator,
        *,
        last: bool,
    ) -> tuple[list[NDArray[np.float32]], NDArray[np.float32]]:
        """Shuffle the fresh rows and cut batches, carried rows first: none waits two rounds."""
        new = np.concatenate(fresh) if fresh else np.concatenate(carried)[:0]
        if self.shuffle:
            new = new[rng.permutation(len(new))]
        x = np.concatenate([*carried, new])
        n_full = len(x) if last else len(x) - len(x) % self.batch_size
        batches = [x[i : i + self.batch_size] for i in range(0, n_full, self.batch_size)]
        return batches, x[n_full:]


# --- streaming a table through a function ---------------------------------------------


def open_table(
    path: str | Path,
    columns: Sequence[str] | None = None,
    text_columns: Sequence[str] = (),
    options: ReadOptions | None = None,
) -> tuple[Iterator[Any], int | None]:
    """(iterator of DataFrames, row count or None) over a Parquet file/folder, a CSV file
    (in the dialect ``options`` gives or sniffing finds) or a JSON Lines file.

    Columns named in ``columns`` are read as float64, those in ``text_columns`` as
    strings (a table model's categories, booleans, dates and identifiers), so every chunk
    has one type.
    """
    from aekit.data.files import CSV_SUFFIXES, JSON_LINES_SUFFIXES, ReadOptions

    path = Path(path).expanduser()
    options = options or ReadOptions()
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES + JSON_LINES_SUFFIXES and not path.is_file():
        raise FileNotFoundError(f"data {str(path)!r} not found")
    if suffix in CSV_SUFFIXES:
        return _csv_chunks(path, options.dialect(path), columns or [], text_columns), None
    if suffix in JSON_LINES_SUFFIXES:
        return _json_lines_chunks(path, options), None
    source = ParquetSource(path)
    return source.frames(), source.n_rows


def _csv_chunks(
    path: Path, dialect: CsvDialect, columns: Sequence[str], text_columns: Sequence[str]
) -> Iterator[Any]:
    import csv

    import pyarrow as pa
    import pyarrow.csv as pcsv

    with open(path, newline="", encoding=dialect.encoding) as f:
        header = next(csv.reader(f, delimiter=dialect.sep, quotechar=dialect.quotechar), [])
    types = {c: pa.float64() for c in columns if c in header}
    types |= {c: pa.string() for c in text_columns if c in header}
    try:
        reader = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(
                block_size=1 << 22, encoding=dialect.encoding.replace("-sig", "")
            ),
            parse_options=pcsv.ParseOptions(delimiter=dialect.sep, quote_char=dialect.quotechar),
            convert_options=pcsv.ConvertOptions(  # an empty field is a gap, as in pandas
                column_types=types, decimal_point=dialect.decimal, strings_can_be_null=True
            ),
        )
    except (OSError, ValueError) as error:  # pyarrow.ArrowInvalid is a ValueError
        raise InputError(f"could not read {path} as CSV ({dialect.describe()}): {error}") from None
    return (batch.to_pandas() for batch in reader if batch.num_rows)


def _json_lines_chunks(path: Path, options: ReadOptions) -> Iterator[Any]:
    import pandas as pd

    reader = pd.read_json(
        path,
        lines=True,
        chunksize=CHUNK_ROWS,
        encoding=options.encoding or "utf-8",
    )
    with reader:  # JSON keeps its own types: numbers stay numbers, text stays text
        try:
            yield from reader
        except (ValueError, TypeError) as error:  # TypeError: lines mixing objects and lists
            raise InputError(f"could not read {path} as JSON Lines: {error}") from None


def map_table(
    source: str | Path,
    output: str | Path,
    fn: Callable[[Any], tuple[list[str], NDArray[Any]]],
    *,
    columns: Sequence[str] | None = None,
    text_columns: Sequence[str] = (),
    options: ReadOptions | None = None,
    quiet: bool = True,
    label: str = "",
    finish: Callable[[], tuple[list[str], Any]] | None = None,
) -> int:
    """Write ``fn(chunk)`` for every chunk of the table ``source`` to ``output``.

    ``fn`` returns (column names, 2-D array or DataFrame); it may return fewer rows than
    the chunk holds, and ``finish()``, called after the last chunk, the rows it held back
    (a series scored offline settles each row a window later). Parquet or CSV by
    ``output``'s extension, written to a hidden temporary file of its own renamed into
    place at the end: a failure leaves no output, and two writers of one path leave one of
    their complete outputs.
    Returns the number of rows read.
    """
    from tqdm.auto import tqdm

    output = Path(output).expanduser()
    frames, total = open_table(source, columns, text_columns, options)
    first = next(frames, None)
    if first is None:
        raise InputError(f"{source} holds no data rows")

    def apply(frame: Any, start: int) -> tuple[list[str], Any]:
        try:
            return fn(frame)
        except ValueError as error:  # say where in the whole table, not the chunk
            where = f" (in the chunk of rows {start}-{start + len(frame) - 1} of {source})"
            raise type(error)(f"{error}{where}") from None

    first_result = apply(first, 0)  # a wrong column fails here, before any progress bar
    frames = itertools.chain([first], frames)
    writer: Any = None
    n_rows = 0
    try:
        bar_options = {"desc": label, "unit": "row", "unit_scale": True}
        with atomic_path(output) as partial, tqdm(total=total, disable=quiet, **bar_options) as bar:
            for k, frame in enumerate(frames):
                names, values = first_result if k == 0 else apply(frame, n_rows)
                writer = _write_part(writer, partial, output, names, values)
                n_rows += len(frame)
                bar.update(len(frame))
            if finish is not None:
                writer = _write_part(writer, partial, output, *finish())
            writer.close()
            writer = None
    except BaseException:
        if writer is not None:
            writer.close()
        raise
    return n_rows


def _write_part(writer: Any, partial: Path, output: Path, names: list[str], values: Any) -> Any:
    """Append one part to the output (opening its writer on the first); the writer."""
    import pyarrow as pa

    if hasattr(values, "columns"):  # typed columns: a table model's, a series' scores
        table = pa.Table.from_pandas(values, preserve_index=False)
    else:
        table = pa.table({n: values[:, i] for i, n in enumerate(names)})
    if writer is None:
        writer = _writer(partial, output, table.schema)
    writer.write_table(table)
    return writer


def _writer(path: Path, output: Path, schema: Any) -> Any:
    suffix = output.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetWriter(path, schema)
    if suffix == ".csv":
        import pyarrow.csv as pcsv

        return pcsv.CSVWriter(path, schema)
    raise InputError(f"cannot stream to {output.name!r}: use .csv or .parquet")
