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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import murmurhash3_32

OTHER = "<other>"  # the label of the unseen input and of a bucket no training level fell in
UNSEEN_MODES = ("input", "bucket", "none")


def bucket_of(level: str, n_buckets: int) -> int:
    """The hash bucket of ``level``: stable across processes and machines."""
    return int(murmurhash3_32(level, seed=0, positive=True)) % n_buckets


@dataclass(frozen=True)
class ColumnLevels:
    """One column's fitted encoding.

    ``levels``: every level seen in fit (most frequent first); ``kept``: the levels with an
    input of their own, in output order; ``buckets``: each hash bucket's most frequent
    training level (None when empty); ``unseen``: where a level not in ``levels`` goes:
    its own last ``"input"``, the first bucket (``"bucket"``, model files of version 1,
    whose one ``other`` input took rare and unseen levels alike) or nowhere (``"none"``,
    all zeros, version 1 columns without rare levels).
    """

    levels: tuple[str, ...]
    kept: tuple[str, ...]
    buckets: tuple[str | None, ...] = ()
    unseen: str = "input"

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

    def to_json(self) -> dict[str, Any]:
        return {
            "levels": list(self.levels),
            "kept": list(self.kept),
            "buckets": list(self.buckets),
            "unseen": self.unseen,
        }

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> ColumnLevels:
        """Check and rebuild a saved column: ``ValueError`` naming what is inconsistent."""
        column = cls(
            tuple(str(v) for v in spec["levels"]),
            tuple(str(v) for v in spec["kept"]),
            tuple(None if b is None else str(b) for b in spec["buckets"]),
            str(spec["unseen"]),
        )
        seen = set(column.levels)
        if len(seen) != len(column.levels) or not set(column.kept) <= seen:
            raise ValueError("saved levels repeat a level or keep one that was never seen")
        if column.unseen not in UNSEEN_MODES:
            raise ValueError(f"unseen={column.unseen!r} must be one of {UNSEEN_MODES}")
        hashed = len(seen) > len(column.kept) or column.unseen == "bucket"
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
    return ColumnLevels(levels, tuple(sorted(levels[:n_kept])), tuple(buckets))


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
            self.columns_ = [ColumnLevels.from_json(spec) for spec in self.levels]
        else:
            self.columns_ = [
                fit_column(values, self.max_categories, self.hash_buckets) for values in columns
            ]
        self.n_features_in_ = len(columns)
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self._positions = [column.positions() for column in self.columns_]
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
        for values, column, positions in zip(columns, self.columns_, self._positions, strict=True):
            codes, distinct = pd.factorize(values, use_na_sentinel=False)  # each value once
            found = pd.Index(column.levels, dtype=object).get_indexer(distinct)  # -1: unseen
            at = positions[found][codes]  # -1 indexes the unseen level's position, last
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
        """The fitted levels as JSON, what ``levels=`` takes back."""
        return [column.to_json() for column in self.columns_]


def _columns(X: Any) -> list[NDArray[Any]]:
    if hasattr(X, "iloc"):
        return [X.iloc[:, j].to_numpy(dtype=object) for j in range(X.shape[1])]
    array = np.asarray(X, dtype=object)
    if array.ndim != 2:
        raise ValueError(f"X must be 2-dimensional (n_samples, n_columns); got {array.shape}")
    return list(array.T)
