"""Categorical columns to 0/1 inputs: exact levels, hashed buckets, and an unseen input.

``LevelEncoder`` gives each column of strings its own group of one-hot inputs:

- a column with at most ``max_categories`` levels in fit: one input per level;
- a column with more ("many levels"): its ``max_categories - 1`` most frequent levels
  (ties broken by the level's text) one input each, and every other level seen in fit one
  of ``hash_buckets`` bucket inputs, ``murmurhash3_32(level, seed=0, positive=True) %
  hash_buckets``: the same bucket in every process and on every machine (Python's
  ``hash()`` is salted per process);
- in both, one more input for a level never seen in fit ("unseen"): a detector sees an
  unseen level as an input that was always 0 in training, so it scores as unusual.

Each bucket remembers its most frequent training level (``labels`` gives it back for the
way back). The fitted levels are plain JSON (``to_state``, and the ``levels=`` parameter
to rebuild an encoder from them), never pickled.

A model file stays small whatever the data: a column keeps at most ``STORED_LEVELS`` of its
most frequent levels by name; the rest of the levels seen in fit are remembered only by a
Bloom filter (:class:`SeenFilter`, a bit array saved as a tensor, ``arrays()``), which says
whether a level was seen (it goes to its hash bucket) or not (the unseen input). A level
never seen is taken for a seen one with probability ``FILTER_ERROR`` (0.1%) while the
filter is within ``FILTER_MAX_BITS``; past that (over 2 million levels not stored by name)
the error grows slowly, and the file does not.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import murmurhash3_32

OTHER = "<other>"  # the label of the unseen input and of a bucket no training level fell in
UNSEEN_MODES = ("input", "bucket", "none")
STORED_LEVELS = 1000  # levels of a column stored by name (at least max_categories - 1)
FILTER_ERROR = 0.001  # chance that the Bloom filter takes an unseen level for a seen one
FILTER_MAX_BITS = 2**25  # 4 MiB per column at most, whatever the number of levels
_FILTER_CHUNK = 65_536  # levels hashed at once (bounds the temporary arrays)


def bucket_of(level: str, n_buckets: int) -> int:
    """The hash bucket of ``level``: stable across processes and machines."""
    return int(murmurhash3_32(level, seed=0, positive=True)) % n_buckets


@dataclass(frozen=True, eq=False)
class SeenFilter:
    """A Bloom filter of levels: ``bits`` (uint8, ``n_bits`` of them used) and
    ``n_hashes`` positions per level by double hashing two seeded ``murmurhash3_32``."""

    bits: NDArray[np.uint8]
    n_bits: int
    n_hashes: int

    @classmethod
    def of(cls, levels: Sequence[str]) -> SeenFilter:
        """A filter holding ``levels``, sized for ``FILTER_ERROR`` (within ``FILTER_MAX_BITS``)."""
        n = max(len(levels), 1)
        wanted = math.ceil(-n * math.log(FILTER_ERROR) / math.log(2) ** 2)
        n_bits = max(64, min(wanted, FILTER_MAX_BITS))
        n_hashes = max(1, round(n_bits / n * math.log(2)))
        seen = cls(np.zeros((n_bits + 7) // 8, np.uint8), n_bits, min(n_hashes, 16))
        for i in range(0, len(levels), _FILTER_CHUNK):
            at = seen._positions(levels[i : i + _FILTER_CHUNK]).ravel()
            np.bitwise_or.at(seen.bits, at >> 3, (1 << (at & 7)).astype(np.uint8))
        return seen

    @classmethod
    def from_array(cls, bits: NDArray[Any], n_bits: int, n_hashes: int) -> SeenFilter:
        """A saved filter, checked: ``ValueError`` when the array does not fit its settings."""
        bits = np.asarray(bits)
        if bits.dtype != np.uint8 or bits.shape != ((int(n_bits) + 7) // 8,) or n_hashes < 1:
            raise ValueError(
                f"a seen-levels filter of {n_bits} bits and {n_hashes} hashes does not match "
                f"its array of shape {bits.shape} and dtype {bits.dtype}"
            )
        return cls(bits, int(n_bits), int(n_hashes))

    def contains(self, levels: Sequence[str]) -> NDArray[np.bool_]:
        """Whether each level may have been seen (False: certainly never seen)."""
        out = np.ones(len(levels), bool)
        for i in range(0, len(levels), _FILTER_CHUNK):
            at = self._positions(levels[i : i + _FILTER_CHUNK])
            hit = (self.bits[at >> 3] >> (at & 7).astype(np.uint8)) & 1
            out[i : i + len(at)] = hit.all(axis=1)
        return out

    def _positions(self, levels: Sequence[str]) -> NDArray[np.int64]:
        """(len(levels), n_hashes) bit positions: (h1 + i * h2) mod n_bits."""
        h1 = np.fromiter((murmurhash3_32(v, seed=1, positive=True) for v in levels), np.int64)
        h2 = np.fromiter((murmurhash3_32(v, seed=2, positive=True) for v in levels), np.int64)
        i = np.arange(self.n_hashes, dtype=np.int64)
        return np.asarray((h1[:, None] + i * (h2[:, None] | 1)) % self.n_bits, np.int64)


@dataclass(frozen=True)
class ColumnLevels:
    """One column's fitted encoding.

    ``levels``: the levels seen in fit, most frequent first: all of them, or the first
    ``STORED_LEVELS`` when ``seen`` holds the rest; ``kept``: the levels with an input of
    their own, in output order; ``buckets``: each hash bucket's most frequent training level
    (None when empty); ``unseen``: where a level never seen goes: its own last
    ``"input"``, the first bucket (``"bucket"``, model files of version 1, whose one
    ``other`` input took rare and unseen levels alike) or nowhere (``"none"``, all zeros,
    version 1 columns without rare levels); ``seen``: the levels seen in fit but not in
    ``levels`` (None: ``levels`` holds them all); ``n_levels``: how many were seen.
    """

    levels: tuple[str, ...]
    kept: tuple[str, ...]
    buckets: tuple[str | None, ...] = ()
    unseen: str = "input"
    seen: SeenFilter | None = None
    n_levels: int = -1  # -1: len(levels)

    @property
    def n_seen(self) -> int:
        """How many distinct levels the column had in fit."""
        return len(self.levels) if self.n_levels < 0 else self.n_levels

    @property
    def width(self) -> int:
        return len(self.kept) + len(self.buckets) + (self.unseen == "input")

    def labels(self) -> list[str]:
        """What each input stands for on the way back: a level, a bucket's most
        frequent level, or ``OTHER``."""
        unseen = [OTHER] if self.unseen == "input" else []
        return [*self.kept, *(OTHER if b is None else b for b in self.buckets), *unseen]

    def positions(self) -> NDArray[np.intp]:
        """Each level's input (in ``levels`` order), then the unseen level's (-1: none)."""
        own = {level: i for i, level in enumerate(self.kept)}
        start = len(self.kept)
        out = [
            own[level] if level in own else start + bucket_of(level, len(self.buckets))
            for level in self.levels
        ]
        unseen = {"input": self.width - 1, "bucket": start, "none": -1}[self.unseen]
        return np.asarray([*out, unseen], dtype=np.intp)

    @functools.cached_property
    def _lookup(self) -> tuple[Any, NDArray[np.intp]]:
        import pandas as pd

        return pd.Index(self.levels, dtype=object), self.positions()

    def inputs_of(self, values: NDArray[Any]) -> NDArray[np.intp]:
        """Each value's input within this column's group (-1: none, an unseen level of a
        version 1 column that had no rare levels)."""
        index, positions = self._lookup
        found = index.get_indexer(values)  # -1: not stored by name
        at: NDArray[np.intp] = positions[found]  # -1 indexes the unseen level's input, last
        if self.seen is not None and (found < 0).any():
            missing = np.flatnonzero(found < 0)
            texts = [str(v) for v in values[missing]]
            seen = self.seen.contains(texts)
            at[missing[seen]] = [
                len(self.kept) + bucket_of(t, len(self.buckets))
                for t, s in zip(texts, seen, strict=True)
                if s
            ]
        return at

    def to_json(self) -> dict[str, Any]:
        """The column as JSON; a ``seen`` filter's bits go to a tensor (``LevelEncoder.arrays``)."""
        spec: dict[str, Any] = {
            "levels": list(self.levels),
            "kept": list(self.kept),
            "buckets": list(self.buckets),
            "unseen": self.unseen,
        }
        if self.seen is not None:
            spec["n_levels"] = self.n_seen
            spec["seen"] = {"n_bits": self.seen.n_bits, "n_hashes": self.seen.n_hashes}
        return spec

    @classmethod
    def from_json(cls, spec: dict[str, Any], seen_bits: NDArray[Any] | None = None) -> ColumnLevels:
        """Check and rebuild a saved column: ``ValueError`` naming what is inconsistent."""
        seen = None
        if "seen" in spec:
            if seen_bits is None:
                raise ValueError("saved levels name a seen-levels filter but its bits are missing")
            settings = spec["seen"]
            seen = SeenFilter.from_array(seen_bits, settings["n_bits"], settings["n_hashes"])
        column = cls(
            tuple(str(v) for v in spec["levels"]),
            tuple(str(v) for v in spec["kept"]),
            tuple(None if b is None else str(b) for b in spec["buckets"]),
            str(spec["unseen"]),
            seen,
            int(spec.get("n_levels", -1)),
        )
        stored = set(column.levels)
        if len(stored) != len(column.levels) or not set(column.kept) <= stored:
            raise ValueError("saved levels repeat a level or keep one that was never seen")
        if column.unseen not in UNSEEN_MODES:
            raise ValueError(f"unseen={column.unseen!r} must be one of {UNSEEN_MODES}")
        hashed = len(stored) > len(column.kept) or column.unseen == "bucket" or seen is not None
        if hashed and not column.buckets:
            raise ValueError("saved levels have rare levels but no bucket to put them in")
        return column


def fit_column(values: NDArray[Any], max_categories: int, hash_buckets: int) -> ColumnLevels:
    """Count the levels of one column of strings and choose its encoding."""
    import pandas as pd

    counts = pd.Series(values, dtype=object).value_counts(sort=False)
    ranked = sorted(zip(counts.index, counts.to_numpy(), strict=True), key=lambda p: (-p[1], p[0]))
    levels = tuple(str(level) for level, _ in ranked)
    if len(levels) <= max_categories:
        return ColumnLevels(levels, tuple(sorted(levels)))
    n_kept = max_categories - 1
    buckets: list[str | None] = [None] * hash_buckets
    for level in levels[n_kept:]:  # most frequent first: the first to land is the bucket's own
        bucket = bucket_of(level, hash_buckets)
        if buckets[bucket] is None:
            buckets[bucket] = level
            if None not in buckets:
                break
    n_stored = max(STORED_LEVELS, n_kept)
    if len(levels) <= n_stored:
        return ColumnLevels(levels, tuple(sorted(levels[:n_kept])), tuple(buckets))
    seen = SeenFilter.of(levels[n_stored:])  # the rarer levels, by filter only
    kept = tuple(sorted(levels[:n_kept]))
    return ColumnLevels(levels[:n_stored], kept, tuple(buckets), "input", seen, len(levels))


class LevelEncoder(TransformerMixin, BaseEstimator):
    """One-hot inputs for the levels of string columns, rare ones hashed (see the module doc).

    Parameters
    ----------
    max_categories : int, default=20
        Levels a column may have and still get one input per level.
    hash_buckets : int, default=8
        Bucket inputs of a column with more levels, for its rarer seen levels.
    levels : list of dict, default=None
        Fitted levels per column, as ``to_state`` gives them; None learns them in ``fit``.

    Attributes
    ----------
    columns_ : list of ColumnLevels
        Each column's levels and inputs.
    n_features_in_ : int
    """

    def __init__(
        self,
        max_categories: int = 20,
        hash_buckets: int = 8,
        levels: list[dict[str, Any]] | None = None,
    ) -> None:
        self.max_categories = max_categories
        self.hash_buckets = hash_buckets
        self.levels = levels

    def fit(self, X: Any, y: object = None) -> LevelEncoder:
        """Learn each column's levels (or take them from ``levels=``)."""
        columns = _columns(X)
        if self.levels is not None:
            if len(self.levels) != len(columns):
                raise ValueError(
                    f"levels= describes {len(self.levels)} columns but X has {len(columns)}"
                )
            self.columns_ = [
                ColumnLevels.from_json(spec, spec.get("seen_bits")) for spec in self.levels
            ]
        else:
            self.columns_ = [
                fit_column(values, self.max_categories, self.hash_buckets) for values in columns
            ]
        self.n_features_in_ = len(columns)
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        return self

    def transform(self, X: Any) -> NDArray[np.float64]:
        """``(n_samples, sum of the columns' widths)`` 0/1 rows, float64."""
        import pandas as pd

        columns = _columns(X)
        if len(columns) != len(self.columns_):
            raise ValueError(
                f"X has {len(columns)} columns; the encoder was fitted on {len(self.columns_)}"
            )
        n = len(columns[0]) if columns else 0
        out = np.zeros((n, sum(c.width for c in self.columns_)))
        rows = np.arange(n)
        start = 0
        for values, column in zip(columns, self.columns_, strict=True):
            codes, distinct = pd.factorize(values, use_na_sentinel=False)  # each value once
            at = column.inputs_of(np.asarray(distinct, dtype=object))[codes]
            if column.unseen == "none":  # version 1 files: an unseen level is all zeros
                hit = at >= 0
                out[rows[hit], start + at[hit]] = 1.0
            else:
                out[rows, start + at] = 1.0
            start += column.width
        return out

    def get_feature_names_out(self, input_features: Any = None) -> NDArray[Any]:
        names = (
            [str(f) for f in input_features]
            if input_features is not None
            else [str(f) for f in getattr(self, "feature_names_in_", [])]
            or [f"x{i}" for i in range(len(self.columns_))]
        )
        out = []
        for name, column in zip(names, self.columns_, strict=True):
            out += [f"{name}_{level}" for level in column.kept]
            out += [f"{name}_<bucket {i}>" for i in range(len(column.buckets))]
            out += [f"{name}_<unseen>"] if column.unseen == "input" else []
        return np.asarray(out, dtype=object)

    def to_state(self) -> list[dict[str, Any]]:
        """The fitted levels as JSON, what ``levels=`` takes back (with ``arrays()``' bits
        as each column's ``"seen_bits"``)."""
        return [column.to_json() for column in self.columns_]

    def arrays(self) -> dict[int, NDArray[np.uint8]]:
        """Each column's seen-levels filter bits, by column position (columns with all
        their levels stored by name have none)."""
        return {j: c.seen.bits for j, c in enumerate(self.columns_) if c.seen is not None}


def _columns(X: Any) -> list[NDArray[Any]]:
    if hasattr(X, "iloc"):
        return [X.iloc[:, j].to_numpy(dtype=object) for j in range(X.shape[1])]
    array = np.asarray(X, dtype=object)
    if array.ndim != 2:
        raise ValueError(f"X must be 2-dimensional (n_samples, n_columns); got {array.shape}")
    return list(array.T)
