"""Parquet streams: sharding, holdout, sampling, the shuffle buffer, and a streamed fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aekit import AnomalyDetector, Autoencoder
from aekit.data.loaders import ParquetSource, StreamBatches, is_table_path
from aekit.exceptions import InputError


def write_parts(folder: Path, frame: pd.DataFrame, n_files: int, row_group_size: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, part in enumerate(np.array_split(np.arange(len(frame)), n_files)):
        table = pa.Table.from_pandas(frame.iloc[part].reset_index(drop=True), preserve_index=False)
        pq.write_table(table, folder / f"part-{i:02d}.parquet", row_group_size=row_group_size)
    return folder


@pytest.fixture(scope="module")
def ids(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1000 rows whose column ``i`` is the row's position: 4 files of 2 or 3 row groups."""
    frame = pd.DataFrame({"i": np.arange(1000, dtype=np.float64), "y": np.zeros(1000)})
    return write_parts(tmp_path_factory.mktemp("ids") / "data", frame, 4, 100)


@pytest.fixture(scope="module")
def digits_parquet(
    tmp_path_factory: pytest.TempPathFactory, digits: tuple[np.ndarray, np.ndarray]
) -> tuple[Path, pd.DataFrame]:
    X, _ = digits
    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    return write_parts(tmp_path_factory.mktemp("digits") / "data", frame, 4, 150), frame


def positions(source: ParquetSource, split: str | None = None) -> np.ndarray:
    frames = list(source.frames(split))
    return np.concatenate([f["i"].to_numpy() for f in frames]).astype(int)


def test_a_folder_of_files_is_one_table(ids: Path) -> None:
    source = ParquetSource(ids)
    assert is_table_path(ids) and is_table_path(ids / "part-00.parquet")
    assert source.n_rows == 1000 and len(source.row_groups) == 12  # 4 files x (100+100+50)
    np.testing.assert_array_equal(positions(source), np.arange(1000))  # in file order


@pytest.mark.parametrize("world_size", [2, 3, 5])
def test_shards_are_disjoint_complete_and_balanced(ids: Path, world_size: int) -> None:
    shards = [
        positions(ParquetSource(ids, rank=r, world_size=world_size)) for r in range(world_size)
    ]
    together = np.concatenate(shards)
    assert len(together) == 1000 and len(np.unique(together)) == 1000
    sizes = [len(s) for s in shards]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("world_size", [2, 3, 13, 64])
def test_one_row_group_is_shared_by_row_ranges(tmp_path: Path, world_size: int) -> None:
    """pyarrow's default writes a million rows as one row group: any number of ranks share it."""
    frame = pd.DataFrame({"i": np.arange(1000, dtype=np.float64)})
    path = tmp_path / "one.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    assert pq.ParquetFile(path).num_row_groups == 1
    shards = [
        positions(ParquetSource(path, rank=r, world_size=world_size), None)
        for r in range(world_size)
    ]
    np.testing.assert_array_equal(np.concatenate(shards), np.arange(1000))  # disjoint, complete
    sizes = [len(s) for s in shards]
    assert max(sizes) - min(sizes) <= 1


def test_a_range_cutting_record_batches_reads_exactly_its_rows(ids: Path) -> None:
    source = ParquetSource(ids, rank=1, world_size=3)  # rows 333 .. 665, cutting row groups
    chunks = [
        frame["i"].to_numpy()
        for group in source.shard
        for _, frame in source._frames(group, chunk_rows=7)
    ]
    np.testing.assert_array_equal(np.concatenate(chunks), np.arange(333, 666))


def test_fewer_rows_than_ranks_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "three.parquet"
    pq.write_table(pa.table({"i": [0.0, 1.0, 2.0]}), path)
    with pytest.raises(InputError, match="3 rows, fewer than the 4 ranks"):
        ParquetSource(path, rank=0, world_size=4)


def test_holdout_is_disjoint_seeded_and_the_same_on_every_rank(ids: Path) -> None:
    source = ParquetSource(ids, validation_fraction=0.2, seed=3)
    train, val = positions(source, "train"), positions(source, "validation")
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == 1000
    assert 0.16 < len(val) / 1000 < 0.24
    sharded = [
        positions(
            ParquetSource(ids, validation_fraction=0.2, seed=3, rank=r, world_size=3), "validation"
        )
        for r in range(3)
    ]
    np.testing.assert_array_equal(np.sort(np.concatenate(sharded)), np.sort(val))
    other = positions(ParquetSource(ids, validation_fraction=0.2, seed=4), "validation")
    assert not np.array_equal(np.sort(other), np.sort(val))


def test_sample_is_uniform_of_the_stated_size(ids: Path) -> None:
    source = ParquetSource(ids)
    sample = source.sample(300, seed=0)
    rows = sample["i"].to_numpy().astype(int)
    assert len(rows) == 300 and len(np.unique(rows)) == 300
    assert set(sample.columns) == {"i", "y"}
    np.testing.assert_array_equal(source.sample(300, seed=0)["i"], sample["i"])
    assert abs(rows.mean() - 499.5) < 50  # spread over every file, not the first rows
    assert len(source.sample(5000, seed=0)) == 1000  # capped at the data's size


def test_missing_columns_are_named(ids: Path) -> None:
    with pytest.raises(InputError, match=r"lacks columns \['amount', 'z'\]"):
        ParquetSource(ids, columns=["i", "amount", "z"])
    assert ParquetSource(ids, columns=["i"]).sample(10).columns.tolist() == ["i"]


def test_shuffle_buffer_permutes_within_its_size_and_is_seeded(tmp_path: Path) -> None:
    frame = pd.DataFrame({"i": np.arange(5000, dtype=np.float64)})
    pq.write_table(pa.Table.from_pandas(frame), tmp_path / "one.parquet", row_group_size=5000)
    source = ParquetSource(tmp_path / "one.parquet")

    def epoch(stream: StreamBatches) -> np.ndarray:
        return np.concatenate([b.numpy()[:, 0] for b in stream]).astype(int)

    def identity(f: pd.DataFrame) -> np.ndarray:
        return f.to_numpy(np.float32)

    stream = StreamBatches(source, identity, 64, buffer_rows=1000, seed=1)
    first, second = epoch(stream), epoch(stream)
    assert sorted(first) == list(range(5000)) and sorted(second) == list(range(5000))
    assert not np.array_equal(first, np.arange(5000)) and not np.array_equal(first, second)
    moved = np.abs(np.argsort(first) - np.arange(5000))
    assert moved.max() < 1000 + 64  # a row leaves the buffer it entered
    np.testing.assert_array_equal(
        epoch(StreamBatches(source, identity, 64, buffer_rows=1000, seed=1)), first
    )
    batches = list(StreamBatches(source, identity, 64, buffer_rows=1000, seed=1))
    assert all(len(b) == 64 for b in batches[:-1])
    in_order = epoch(StreamBatches(source, identity, 64, shuffle=False))
    np.testing.assert_array_equal(in_order, np.arange(5000))


def test_streamed_fit_learns_like_the_in_memory_fit(
    digits_parquet: tuple[Path, pd.DataFrame],
) -> None:
    folder, frame = digits_parquet
    params = {"latent_dim": 8, "max_epochs": 10, "random_state": 0}
    streamed = Autoencoder(**params).fit(folder)
    in_memory = Autoencoder(**params).fit(frame)
    assert list(streamed.feature_names_in_) == list(frame.columns)
    assert streamed.n_epochs_ == 10 and len(streamed.history_.val_loss) == 10
    # measured: train loss 0.0125 streamed vs 0.0132 in memory; scores -0.0126 vs -0.0133
    assert streamed.history_.train_loss[-1] == pytest.approx(
        in_memory.history_.train_loss[-1], rel=0.15
    )
    assert streamed.score(frame) == pytest.approx(in_memory.score(frame), rel=0.15)
    assert streamed.history_.train_loss[-1] < 0.3 * streamed.history_.train_loss[0]


def test_streamed_detector_fits_on_a_sample(digits_parquet: tuple[Path, pd.DataFrame]) -> None:
    folder, frame = digits_parquet
    detector = AnomalyDetector(n_estimators=2, random_state=0).set_params(estimator__max_epochs=5)
    detector = detector.fit(str(folder))
    flagged = (detector.predict(frame) == -1).mean()
    assert 0.02 < flagged < 0.10  # contamination="auto": 5 % of the sample
    assert len(detector.calibration_scores_) > 0
    assert list(detector.feature_names_in_) == list(frame.columns)


def test_a_streamed_fit_resumes_exactly(
    digits_parquet: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    folder, frame = digits_parquet
    params = {"latent_dim": 4, "lr_schedule": "constant", "patience": None, "random_state": 0}
    whole = Autoencoder(max_epochs=4, **params).fit(folder)
    Autoencoder(max_epochs=2, **params).fit(folder, checkpoint=tmp_path / "ck.safetensors")
    resumed = Autoencoder(max_epochs=4, **params).fit(folder, resume=tmp_path / "ck.safetensors")
    assert resumed.history_.train_loss == whole.history_.train_loss
    np.testing.assert_array_equal(resumed.transform(frame), whole.transform(frame))
