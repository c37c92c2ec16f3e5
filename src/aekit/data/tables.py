"""Mixed tables (numbers, booleans, categories, gaps) to float32 rows and back.

``TablePreprocessor`` is a thin owner of a scikit-learn ``ColumnTransformer``:

- numeric columns: median imputation, then ``RobustScaler(unit_variance=True)`` (median and
  interquartile range, so one outlier does not squash the rest); a column whose
  interquartile range is zero is scaled by its standard deviation instead, and a constant
  one by 1;
- boolean columns: 0/1, gaps filled with the most frequent value;
- a ``MissingIndicator`` input (0/1) for each numeric or boolean column that had gaps in
  training (a column without gaps in training gets none, and a gap there at scoring time is
  imputed silently);
- date-time columns (typed, or text in one date format): calendar inputs,
  ``aekit.data.calendar`` (time of day, day of week, season as sine/cosine pairs, each
  when the training rows span its whole cycle; a column spanning less than a day is
  left out);
- categorical columns (string, object, category, or any column named in ``categorical=``):
  ``aekit.data.levels.LevelEncoder``, one-hot with an explicit input for unseen levels. A
  column with at most ``max_categories=20`` levels in fit gets one input per level; a
  column with more ("many levels") keeps its 19 most frequent levels as their own inputs
  and hashes every other level seen in fit into ``hash_buckets=8`` bucket inputs
  (``murmurhash3_32``, stable across processes). Every categorical column has one more
  input, ``<unseen>``, for a level never seen in fit, so that an unseen level is told
  apart from a rare seen one and stands out to a detector. A gap is its own level,
  ``"<missing>"`` (a gap in a column that had none in fit counts as unseen).

Each training column gets a role (``aekit.data.roles``): the kinds above, or left out:
identifiers (keys) and free text with a ``UserWarning`` naming them, ``ignore=`` columns,
and columns that hold no value at all (with a ``UserWarning``). Left-out columns may be
absent when scoring. ``describe_columns`` gives every role with its reason. Fitted
state is saved as JSON and float64 arrays (``to_state`` / ``from_state``), never pickled.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import RobustScaler

from aekit.data.calendar import CalendarEncoder, choose_features, decode
from aekit.data.calendar import describe as describe_calendar
from aekit.data.levels import OTHER as OTHER  # what inverse_transform writes for unseen
from aekit.data.levels import LevelEncoder
from aekit.data.roles import Role, column_role, parse_dates
from aekit.data.validation import check_column_names, shown_names
from aekit.exceptions import InputError

MISSING = "<missing>"  # the level a gap in a categorical column becomes
MAX_CATEGORIES = 20
HASH_BUCKETS = 8
# 4: many levels kept by a filter; 3: column roles, date-times; 2: LevelEncoder (hashed
# buckets); 1: OneHot
STATE_VERSION = 4
_TRUE = {True, "True", "true", "TRUE", "1", "yes"}
_FALSE = {False, "False", "false", "FALSE", "0", "no"}


def _inputs(n: int) -> str:
    return f"{n} input" + ("" if n == 1 else "s")


def is_table(X: Any) -> bool:
    """Whether ``X`` is a DataFrame that needs this preprocessing: non-numbers, gaps, or
    an integer column that is an identifier (see ``aekit.data.roles``)."""
    if not (hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "isna")):
        return False
    if any(getattr(dt, "kind", "O") not in "biuf" for dt in X.dtypes):
        return True
    if bool(X.isna().to_numpy().any()):
        return True
    return any(
        column_role(X.iloc[:, j], str(name)).role == "identifier"
        for j, (name, dt) in enumerate(zip(X.columns, X.dtypes, strict=True))
        if getattr(dt, "kind", "O") in "iu"
    )


class TablePreprocessor:
    """A DataFrame's columns to one float32 row per sample, and back (see the module doc).

    Parameters
    ----------
    categorical : list of str, optional
        Columns to one-hot encode whatever their dtype (integer codes, say).
    ignore : list of str, optional
        Columns to drop; they may be present or absent at scoring time.
    max_categories : int, default=20
        Levels a categorical column may have and keep one input each; a column with more
        keeps its ``max_categories - 1`` most frequent levels and hashes the rest.
    hash_buckets : int, default=8
        Bucket inputs for the rarer seen levels of a column with many levels.

    Attributes
    ----------
    columns_ : list of str
        The columns used, in order (identifiers, free text, ignored and empty columns
        and too-short date-times left out).
    dtypes_ : dict of str to str
        Each used column's dtype in fit.
    kinds_ : dict of str to str
        "numeric", "boolean", "categorical" or "datetime".
    roles_ : dict of str to aekit.data.roles.Role
        Every training column's role and the reason for it, in the table's order.
    dropped_ : list of str
        Training columns without any value, dropped.
    transformer_ : ColumnTransformer
    """

    def __init__(
        self,
        categorical: list[str] | None = None,
        ignore: list[str] | None = None,
        max_categories: int = MAX_CATEGORIES,
        hash_buckets: int = HASH_BUCKETS,
    ) -> None:
        self.categorical = list(categorical or [])
        self.ignore = list(ignore or [])
        self.max_categories = max_categories
        self.hash_buckets = hash_buckets

    # --- fitting -----------------------------------------------------------------------

    def fit(self, frame: Any) -> TablePreprocessor:
        """Learn column kinds, imputation values, scales and levels from ``frame``."""
        for option, value, least in (
            ("max_categories", self.max_categories, 2),
            ("hash_buckets", self.hash_buckets, 1),
        ):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < least:
                raise ValueError(f"{option}={value!r} must be an integer >= {least}")
        frame = _as_frame(frame)
        check_column_names(frame)
        names = [str(c) for c in frame.columns]
        if len(frame) == 0:
            raise InputError("X has 0 samples; at least 1 is needed")
        for option, listed in (("categorical", self.categorical), ("ignore", self.ignore)):
            unknown = [c for c in listed if c not in names]
            if unknown:
                raise InputError(
                    f"{option}= names columns {shown_names(unknown)} that X does not have; "
                    f"its columns are {shown_names(names)}"
                )
        by_name = dict(zip(names, frame.columns, strict=True))
        self.roles_ = {n: self._role(frame[by_name[n]], n) for n in names}
        unsupported = [
            f"{n!r} ({frame[by_name[n]].dtype})"
            for n, r in self.roles_.items()
            if r.role == "unsupported"
        ]
        if unsupported:
            raise InputError(
                f"X has columns of unsupported types: {', '.join(unsupported)}; convert them "
                f"to numbers or strings, or pass them in ignore="
            )
        self._warn_left_out()
        self.dropped_ = [n for n, r in self.roles_.items() if r.role == "empty"]
        self.kinds_ = {n: r.role for n, r in self.roles_.items() if r.used}
        self.columns_ = list(self.kinds_)
        self.dtypes_ = {n: str(frame[by_name[n]].dtype) for n in self.columns_}
        prepared = self._prepare(frame)
        self._choose_calendar(prepared)
        if not self.columns_:
            raise InputError(
                "X has no usable columns: "
                + "; ".join(f"{n!r} is {r.role} ({r.reason})" for n, r in self.roles_.items())
            )
        prepared = prepared[self.columns_]
        gappy = [n for n in self.columns_ if self.kinds_[n] in _GAPPY and prepared[n].isna().any()]
        self.transformer_ = self._build(gappy)
        self.transformer_.fit(prepared)
        self._guard_scales(prepared)
        return self

    def _role(self, series: Any, name: str) -> Role:
        if name in self.ignore:
            return Role("ignored", "ignore=")
        if series.isna().all():
            return Role("empty", "no value at all")
        if name in self.categorical:
            return Role("categorical", "categorical=")
        return column_role(series, name, max_categories=int(self.max_categories))

    def _warn_left_out(self) -> None:
        for role, what, fix in (
            ("empty", "training columns without any value", ""),
            ("identifier", "identifier columns", "; name them in categorical= to use them"),
            ("text", "free-text columns", "; name them in categorical= to use them"),
        ):
            names = [n for n, r in self.roles_.items() if r.role == role]
            if names:
                reasons = ", ".join(f"{n!r} ({self.roles_[n].reason})" for n in names[:20])
                warnings.warn(f"leaving out {what}: {reasons}{fix}", UserWarning, stacklevel=4)

    def _choose_calendar(self, prepared: Any) -> None:
        """Pick each date-time column's calendar features; leave out those with none."""
        for name in self._of_kind("datetime"):
            values = prepared[name].to_numpy(dtype="datetime64[ns]")
            features = choose_features(values)
            role = self.roles_[name]
            if not features:
                del self.kinds_[name]
                self.columns_.remove(name)
                del self.dtypes_[name]
            self.roles_[name] = Role(
                "datetime",
                f"{role.reason}; {describe_calendar(features, values)}",
                role.date_format,
            )

    def _build(
        self,
        gappy: list[str],
        levels: list[dict[str, Any]] | None = None,
        calendar: list[list[str]] | None = None,
    ) -> ColumnTransformer:
        numeric, boolean, categorical, datetime = (self._of_kind(k) for k in _KINDS)
        parts: list[tuple[str, Any, list[str]]] = []
        if numeric:
            steps = [
                ("impute", SimpleImputer(strategy="median")),
                ("scale", RobustScaler(unit_variance=True)),
            ]
            parts.append(("numeric", Pipeline(steps), numeric))
        if gappy:
            parts.append(("missing", MissingIndicator(features="all"), gappy))
        if boolean:
            parts.append(("boolean", SimpleImputer(strategy="most_frequent"), boolean))
        if categorical:
            encoder = LevelEncoder(int(self.max_categories), int(self.hash_buckets), levels)
            parts.append(("categorical", encoder, categorical))
        if datetime:
            parts.append(("datetime", CalendarEncoder(calendar), datetime))
        return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)

    def _guard_scales(self, prepared: Any) -> None:
        """Zero interquartile range: scale by the standard deviation (1 for a constant)."""
        numeric = self._of_kind("numeric")
        if not numeric:
            return
        pipeline = self.transformer_.named_transformers_["numeric"]
        imputed = pipeline.named_steps["impute"].transform(prepared[numeric])
        q1, q3 = np.percentile(imputed, [25, 75], axis=0)
        std = imputed.std(axis=0)
        scaler = pipeline.named_steps["scale"]
        guarded = np.where(std > 0, std, 1.0)
        scaler.scale_ = np.where(q3 > q1, scaler.scale_, guarded).astype(np.float64)

    def _of_kind(self, kind: str) -> list[str]:
        return [n for n in self.columns_ if self.kinds_[n] == kind]

    # --- transforming ------------------------------------------------------------------

    def check_columns(self, frame: Any) -> None:
        """Raise ``InputError`` listing the missing and the unexpected columns of ``frame``."""
        if not (hasattr(frame, "columns") and hasattr(frame, "dtypes")):
            raise InputError(
                f"this model was fitted on a table with columns {shown_names(self.columns_)}; "
                f"give a pandas DataFrame with those columns, not {type(frame).__name__}"
            )
        names = [str(c) for c in frame.columns]
        missing = [n for n in self.columns_ if n not in names]
        allowed = set(self.columns_) | set(self.ignore) | set(self.dropped_) | set(self.roles_)
        extra = [n for n in names if n not in allowed]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing columns {shown_names(missing)}")
            if extra:
                parts.append(f"unexpected columns {shown_names(extra)}")
            raise InputError(
                f"X does not match the training columns: {'; '.join(parts)} "
                f"(expected {shown_names(self.columns_)})"
            )

    def transform(self, frame: Any) -> NDArray[np.float32]:
        """Encoded rows ``(n_samples, n_features_out_)``, float32."""
        self.check_columns(frame)
        out = self.transformer_.transform(self._prepare(frame))
        return np.ascontiguousarray(out, dtype=np.float32)

    def fit_transform(self, frame: Any) -> NDArray[np.float32]:
        return self.fit(frame).transform(frame)

    def prepared(self, frame: Any) -> Any:
        """The values ``transform`` encodes: the used columns in order, numbers and booleans
        as float64 (NaN for gaps), categories as strings (``"<missing>"`` for gaps),
        date-times as datetime64 (NaT for gaps)."""
        self.check_columns(frame)
        return self._prepare(frame)

    def typical_rows(self, n: int) -> Any:
        """``n`` copies of a typical row of the used columns, with their fit dtypes: each
        number's median, each boolean's and each category's most frequent value, and
        2000-01-01 for a date-time (its values are not kept). An example of the input."""
        import pandas as pd

        values: dict[str, Any] = {}
        for part in self.parts():
            if part.kind == "numeric":
                values |= dict(zip(part.columns, part.statistics["median"], strict=True))
            elif part.kind == "boolean":
                values |= {
                    c: bool(v) for c, v in zip(part.columns, part.statistics["fill"], strict=True)
                }
            elif part.kind == "categorical":
                levels = part.statistics["columns"]
                values |= {c: lv.levels[0] for c, lv in zip(part.columns, levels, strict=True)}
            elif part.kind == "datetime":
                values |= {c: pd.Timestamp("2000-01-01") for c in part.columns}
        frame = pd.DataFrame({c: [values[c]] * n for c in self.columns_})
        for name in self.columns_:
            if self.kinds_[name] == "numeric":
                with contextlib.suppress(TypeError, ValueError):
                    frame[name] = frame[name].astype(self.dtypes_[name])
        return frame

    def parts(self) -> list[TablePart]:
        """The encoding part by part, in the order of the encoded inputs, with its fitted
        statistics: what it takes to compute ``transform`` elsewhere (``aekit.export``)."""
        named = self.transformer_.named_transformers_
        out = []
        for name, _, columns in self.transformer_.transformers_:
            if name == "remainder":
                continue
            step = named[name]
            statistics: dict[str, Any] = {}
            if name == "numeric":
                impute, scale = step.named_steps["impute"], step.named_steps["scale"]
                statistics = {
                    "median": np.asarray(impute.statistics_, np.float64),
                    "center": np.asarray(scale.center_, np.float64),
                    "scale": np.asarray(scale.scale_, np.float64),
                }
            elif name == "boolean":
                statistics = {"fill": np.asarray(step.statistics_, np.float64)}
            elif name in ("categorical", "datetime"):
                statistics = {"columns": list(step.columns_)}
            out.append(TablePart(name, [str(c) for c in columns], statistics))
        return out

    def _prepare(self, frame: Any) -> Any:
        """The used columns in order: numbers and booleans as float64 (NaN for gaps),
        categories as strings (``"<missing>"`` for gaps), date-times as datetime64 (NaT)."""
        import pandas as pd

        frame = frame.reset_index(drop=True)  # rows by position: any index, even duplicated
        by_name = {str(c): c for c in frame.columns}
        columns: dict[str, Any] = {}
        for name in self.columns_:
            series = frame[by_name[name]]
            kind = self.kinds_[name]
            if kind == "numeric":
                columns[name] = _numbers(series, name)
            elif kind == "boolean":
                columns[name] = _booleans(series, name)
            elif kind == "datetime":
                columns[name] = _dates(series, name, self.roles_[name].date_format)
            else:
                columns[name] = _levels(series)
        return pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))

    # --- the way back ------------------------------------------------------------------

    @property
    def n_features_out_(self) -> int:
        return int(sum(len(v) for v in self.feature_groups.values()))

    @property
    def feature_groups(self) -> dict[str, list[int]]:
        """Each used column's encoded inputs: its value (or its one-hot levels, hash
        buckets and unseen input) and its missing indicator."""
        groups: dict[str, list[int]] = {n: [] for n in self.columns_}
        slices = self.transformer_.output_indices_
        for name, _, cols in self.transformer_.transformers_:
            if name not in slices or name == "remainder":
                continue
            start = slices[name].start
            if name in ("categorical", "datetime"):
                encoder = self.transformer_.named_transformers_[name]
                for col, column in zip(cols, encoder.columns_, strict=True):
                    groups[col] += list(range(start, start + column.width))
                    start += column.width
            else:
                for i, col in enumerate(cols):
                    groups[col].append(start + i)
        return {n: sorted(v) for n, v in groups.items()}

    def encoded_names(self) -> list[str]:
        """The name of each encoded input (``amount``, ``city_paris``, ...), in order."""
        return [str(n) for n in self.transformer_.get_feature_names_out()]

    def describe_columns(self) -> dict[str, str]:
        """Every training column's role in words, in the table's order: a used column's
        kind and inputs (``"categorical (28 inputs: 19 levels, 8 hash buckets, unseen)"``),
        a left-out one's role and reason (``"identifier, left out: a distinct value in
        100% of rows"``)."""
        return {
            row["column"]: (
                f"{row['role']} ({_inputs(row['inputs'])}{': ' if row['how'] else ''}{row['how']})"
                if row["inputs"]
                else f"{row['role']}, left out: {row['how']}"
            )
            for row in self.column_roles()
        }

    def column_roles(self) -> list[dict[str, Any]]:
        """One row per training column, in the table's order: ``column``, ``role``,
        ``inputs`` (0 for a column left out) and ``how`` (the encoding or the reason)."""
        groups = self.feature_groups
        levels = {}
        if "categorical" in self.transformer_.named_transformers_:
            encoder = self.transformer_.named_transformers_["categorical"]
            levels = dict(zip(self._of_kind("categorical"), encoder.columns_, strict=True))
        rows = []
        for name, role in self.roles_.items():
            how = role.reason
            if name in levels and levels[name].buckets:
                column = levels[name]
                how += f": {len(column.kept)} levels, {len(column.buckets)} hash buckets, unseen"
            inputs = len(groups[name]) if name in groups else 0
            rows.append({"column": name, "role": role.role, "inputs": inputs, "how": how})
        return rows

    def roles_table(self) -> str:
        """``column_roles`` as aligned text, one line per column, for a terminal."""
        rows = self.column_roles()
        width = max(len("column"), *(len(r["column"]) for r in rows))
        role = max(len("role"), *(len(r["role"]) for r in rows))
        lines = [f"{'column':{width}s}  {'role':{role}s}  {'inputs':>6s}  how"]
        for r in rows:
            how = r["how"] if r["inputs"] else f"left out: {r['how']}"
            line = f"{r['column']:{width}s}  {r['role']:{role}s}  {r['inputs']:6d}  {how}"
            lines.append(line.rstrip())
        return "\n".join(lines)

    @property
    def identifiers_(self) -> list[str]:
        """The training columns left out as identifiers (keys to join results back on)."""
        return [n for n, r in self.roles_.items() if r.role == "identifier"]

    def group_matrix(self) -> NDArray[np.float64]:
        """``(n_features_out_, n_columns)`` 0/1 matrix: encoded errors @ it = per-column sums."""
        matrix = np.zeros((self.n_features_out_, len(self.columns_)))
        for j, indices in enumerate(self.feature_groups.values()):
            matrix[indices, j] = 1.0
        return matrix

    def _levels_out(self) -> list[list[str]]:
        """Each categorical column's input labels, in output order: its kept levels, each
        hash bucket's most frequent training level, and ``OTHER`` for the unseen input."""
        if "categorical" not in self.transformer_.named_transformers_:
            return []
        encoder = self.transformer_.named_transformers_["categorical"]
        return [column.labels() for column in encoder.columns_]

    def inverse_transform(self, rows: Any) -> Any:
        """Encoded rows back to a DataFrame with the used columns and their dtypes.

        Numbers are unscaled (a gap comes back where the missing indicator is above 0.5,
        for float columns), booleans are thresholded at 0.5, and each categorical column
        takes the label of its highest-scoring input: a kept level, a hash bucket's most
        frequent training level, ``"<other>"`` for the unseen input (and for a bucket no
        training level fell in), a gap for ``"<missing>"``. A date-time column comes back
        as its calendar positions, one float column each (``"when.hour"`` in hours,
        ``"when.weekday"`` 0 = Monday, ``"when.day_of_year"``).
        """
        import pandas as pd

        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != self.n_features_out_:
            raise InputError(
                f"encoded rows must have shape (n_samples, {self.n_features_out_}); "
                f"got {rows.shape}"
            )
        groups = self.feature_groups
        slices = self.transformer_.output_indices_
        named = self.transformer_.named_transformers_
        out: dict[str, Any] = {}
        numeric = self._of_kind("numeric")
        if numeric:
            values = (
                named["numeric"].named_steps["scale"].inverse_transform(rows[:, slices["numeric"]])
            )
            for i, name in enumerate(numeric):
                out[name] = self._restore_number(values[:, i], name, rows, groups[name])
        for i, name in enumerate(self._of_kind("boolean")):
            flags = rows[:, slices["boolean"].start + i] > 0.5
            gap = self._gap(name, rows, groups[name])
            if gap is None:
                out[name] = pd.Series(
                    flags, dtype="bool" if self.dtypes_[name] == "bool" else "boolean"
                )
            else:
                out[name] = pd.array(np.where(gap, None, flags), dtype="boolean")
        for name, levels in zip(self._of_kind("categorical"), self._levels_out(), strict=True):
            chosen = np.asarray(levels, dtype=object)[rows[:, groups[name]].argmax(axis=1)]
            out[name] = _restore_levels(chosen, self.dtypes_[name])
        calendar = named["datetime"].columns_ if "datetime" in named else []
        for name, column in zip(self._of_kind("datetime"), calendar, strict=True):
            for feature, values in decode(rows[:, groups[name]], column).items():
                out[f"{name}.{feature}"] = values
        return pd.DataFrame(
            {
                n: out[n]
                for c in self.columns_
                for n in ([c] if c in out else [k for k in out if k.startswith(f"{c}.")])
            }
        )

    def _gap(self, name: str, rows: NDArray[np.float64], group: list[int]) -> Any:
        """Where the missing indicator of ``name`` says a gap, or None without one."""
        if "missing" not in self.transformer_.named_transformers_:
            return None
        gappy = self._gappy()
        if name not in gappy:
            return None
        start = self.transformer_.output_indices_["missing"].start
        return rows[:, start + gappy.index(name)] > 0.5

    def _gappy(self) -> list[str]:
        for name, _, cols in self.transformer_.transformers_:
            if name == "missing":
                return list(cols)
        return []

    def _restore_number(
        self, values: NDArray[np.float64], name: str, rows: NDArray[np.float64], group: list[int]
    ) -> Any:
        import pandas as pd

        dtype = self.dtypes_[name]
        gap = self._gap(name, rows, group)
        if dtype in _NUMPY_INTS:  # never had gaps: numpy integers cannot hold them
            return pd.Series(np.round(values)).astype(dtype)
        if gap is not None:
            values = np.where(gap, np.nan, values)
        try:
            return pd.Series(values).astype(dtype)
        except (TypeError, ValueError):
            return pd.Series(values)

    # --- model files -------------------------------------------------------------------

    def to_state(self) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
        """JSON-ready settings and levels, and the fitted statistics as float64 arrays (and
        the uint8 bits of any seen-levels filter)."""
        named = self.transformer_.named_transformers_
        state: dict[str, Any] = {
            "version": STATE_VERSION,
            "categorical": self.categorical,
            "ignore": self.ignore,
            "max_categories": int(self.max_categories),
            "hash_buckets": int(self.hash_buckets),
            "columns": self.columns_,
            "kinds": self.kinds_,
            "dtypes": self.dtypes_,
            "dropped": self.dropped_,
            "gappy": self._gappy(),
            "roles": {
                n: {"role": r.role, "reason": r.reason, "date_format": r.date_format}
                for n, r in self.roles_.items()
            },
        }
        arrays: dict[str, NDArray[Any]] = {}
        if "numeric" in named:
            steps = named["numeric"].named_steps
            arrays["numeric.median"] = np.asarray(steps["impute"].statistics_, np.float64)
            arrays["numeric.center"] = np.asarray(steps["scale"].center_, np.float64)
            arrays["numeric.scale"] = np.asarray(steps["scale"].scale_, np.float64)
        if "boolean" in named:
            arrays["boolean.fill"] = np.asarray(named["boolean"].statistics_, np.float64)
        if "categorical" in named:
            state["categories"] = named["categorical"].to_state()
            seen = named["categorical"].arrays().items()
            arrays |= {f"categorical.{j}.seen": bits for j, bits in seen}
        if "datetime" in named:
            state["calendar"] = named["datetime"].to_state()
        return state, arrays

    @classmethod
    def from_state(
        cls, state: dict[str, Any], arrays: dict[str, NDArray[Any]]
    ) -> TablePreprocessor:
        """Rebuild a fitted preprocessor from ``to_state``'s output (or a version 1 state).

        The ``ColumnTransformer`` is fitted on two synthetic rows with the same columns and
        the saved levels, then given the saved statistics, so its outputs equal the
        original's bit for bit.
        """
        version = state.get("version")
        if version not in range(1, STATE_VERSION + 1):
            raise ValueError(
                f"unknown table preprocessor state version {version!r} "
                f"(this aekit reads versions 1 to {STATE_VERSION})"
            )
        self = cls(
            state["categorical"],
            state["ignore"],
            int(state["max_categories"]),
            int(state.get("hash_buckets", HASH_BUCKETS)),
        )
        self.columns_ = list(state["columns"])
        self.kinds_ = dict(state["kinds"])
        self.dtypes_ = dict(state["dtypes"])
        self.dropped_ = list(state["dropped"])
        self.roles_ = _roles_of(state)
        levels = _levels_of_version_1(state) if version == 1 else state.get("categories")
        if levels is not None:  # each filter's bits, saved as a tensor, back with its column
            levels = [
                spec | {"seen_bits": arrays[f"categorical.{j}.seen"]}
                if f"categorical.{j}.seen" in arrays
                else spec
                for j, spec in enumerate(levels)
            ]
        self.transformer_ = self._build(list(state["gappy"]), levels, state.get("calendar"))
        self.transformer_.fit(self._synthetic(list(state["gappy"])))
        named = self.transformer_.named_transformers_
        if "numeric" in named:
            steps = named["numeric"].named_steps
            _restore(steps["impute"], "statistics_", arrays["numeric.median"])
            _restore(steps["scale"], "center_", arrays["numeric.center"])
            _restore(steps["scale"], "scale_", arrays["numeric.scale"])
        if "boolean" in named:
            _restore(named["boolean"], "statistics_", arrays["boolean.fill"])
        return self

    def _synthetic(self, gappy: list[str]) -> Any:
        """Two rows with the used columns, enough for every part to fit (the categorical
        levels come from ``levels=``, the statistics are replaced after)."""
        import pandas as pd

        columns: dict[str, Any] = {}
        for name in self.columns_:
            if self.kinds_[name] == "categorical":
                columns[name] = np.asarray(["a", "b"], dtype=object)
            elif self.kinds_[name] == "datetime":
                columns[name] = np.asarray(["2000-01-01", "2001-01-01"], dtype="datetime64[ns]")
            else:
                columns[name] = np.asarray([np.nan if name in gappy else 0.0, 1.0])
        return pd.DataFrame(columns)


@dataclass(frozen=True)
class TablePart:
    """One part of a table's encoding (``TablePreprocessor.parts``): ``kind`` is "numeric"
    (``statistics``: median, center, scale: imputed, then ``(x - center) / scale``),
    "missing" (a 0/1 input per column: is it a gap), "boolean" (``fill`` for gaps),
    "categorical" (``columns``: each column's ``ColumnLevels``) or "datetime" (``columns``:
    each column's ``CalendarColumn``)."""

    kind: str
    columns: list[str]
    statistics: dict[str, Any]


def _roles_of(state: dict[str, Any]) -> dict[str, Role]:
    """A saved state's roles; states before version 3 only knew used, ignored and empty
    columns (in that order: the table's own order was not saved)."""
    if "roles" in state:
        return {
            str(n): Role(r["role"], r["reason"], r.get("date_format"))
            for n, r in state["roles"].items()
        }
    roles = {n: Role(k, "") for n, k in state["kinds"].items()}
    roles |= {n: Role("ignored", "ignore=") for n in state["ignore"]}
    return roles | {n: Role("empty", "no value at all") for n in state["dropped"]}


def _levels_of_version_1(state: dict[str, Any]) -> list[dict[str, Any]]:
    """A version 1 state's OneHotEncoder levels as LevelEncoder columns with the same
    outputs: the kept levels, then one ``other`` input shared by rare and unseen levels
    (a column without rare levels had none: an unseen level gave all zeros)."""
    out = []
    for levels, rare in zip(state.get("levels", []), state.get("infrequent", []), strict=True):
        rare_set = set(rare or [])
        out.append(
            {
                "levels": levels,
                "kept": [v for v in levels if v not in rare_set],
                "buckets": [None] if rare_set else [],
                "unseen": "bucket" if rare_set else "none",
            }
        )
    return out


_KINDS = ("numeric", "boolean", "categorical", "datetime")
_GAPPY = ("numeric", "boolean")  # kinds whose gaps get a missing indicator
_NUMPY_INTS = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}


def _as_frame(X: Any) -> Any:
    if not (hasattr(X, "columns") and hasattr(X, "dtypes")):
        raise InputError(f"a table needs a pandas DataFrame, not {type(X).__name__}")
    return X


def _check_converted(series: Any, converted: Any, name: str, was: str, fix: str) -> None:
    """Raise ``InputError`` naming the rows where a value of ``series`` did not convert
    (``converted`` is missing where ``series`` is not)."""
    bad = series.notna().to_numpy() & converted.isna().to_numpy()
    if bad.any():
        raise InputError(
            f"column {name!r} was {was} in fit but holds values such as "
            f"{series[bad].iloc[0]!r} (rows {np.flatnonzero(bad)[:5].tolist()}); {fix}"
        )


def _numbers(series: Any, name: str) -> NDArray[np.float64]:
    import pandas as pd

    values = pd.to_numeric(series, errors="coerce")
    fix = f"fix them or refit with categorical=[{name!r}]"
    _check_converted(series, values, name, "numeric", fix)
    out = np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    if np.isinf(out).any():
        rows = np.flatnonzero(np.isinf(out))[:5].tolist()
        raise InputError(f"column {name!r} holds infinity (rows {rows}); clip or drop it first")
    return out


def _restore(step: Any, attribute: str, saved: NDArray[Any]) -> None:
    """Give a step fitted on synthetic rows its saved statistics, which must be as many."""
    values = np.asarray(saved, np.float64)
    fitted = np.shape(getattr(step, attribute))
    if values.shape != fitted:
        raise ValueError(
            f"saved {type(step).__name__}.{attribute} has shape {values.shape}; "
            f"the columns need {fitted}"
        )
    setattr(step, attribute, values)


def _dates(series: Any, name: str, date_format: str | None) -> Any:
    parsed = parse_dates(series, date_format)
    was = f"dates ({date_format or 'typed'})"
    _check_converted(series, parsed, name, was, "fix them or leave the column out")
    return parsed


def _booleans(series: Any, name: str) -> NDArray[np.float64]:
    present = series.notna().to_numpy()
    out = np.full(len(series), np.nan)
    for i, value in zip(np.flatnonzero(present), series[present], strict=True):
        key = value if isinstance(value, (bool, int, str, np.bool_, np.integer)) else None
        if key is not None and key in _TRUE:
            out[i] = 1.0
        elif key is not None and key in _FALSE:
            out[i] = 0.0
        else:
            raise InputError(
                f"column {name!r} was boolean in fit but holds {value!r} (row {i}); "
                f"expected True or False"
            )
    return out


def _levels(series: Any) -> NDArray[Any]:
    values = series.astype(object).to_numpy()
    gaps = series.isna().to_numpy()
    return np.asarray([MISSING if g else str(v) for v, g in zip(values, gaps, strict=True)], object)


def _restore_levels(chosen: NDArray[Any], dtype: str) -> Any:
    import pandas as pd

    series = pd.Series(chosen, dtype=object).where(chosen != MISSING, None)
    if dtype == "category":
        return series.astype("category")
    if dtype.startswith("str"):
        return series.astype(dtype)
    if dtype in _NUMPY_INTS or dtype.startswith("float"):
        numbers = pd.to_numeric(series, errors="coerce")
        if numbers.notna().sum() == series.notna().sum():
            try:
                return numbers.astype(dtype)
            except (TypeError, ValueError):
                return numbers
    return series
