"""What each column of a table is for: a feature of some kind, or something to leave out.

Tables as people keep them hold more than features. :func:`column_role` looks at one
training column and names its role, with the reason in words:

- ``numeric``, ``boolean``, ``categorical``: model inputs (see ``aekit.data.tables``);
- ``datetime``: typed date-times, or text that parses as dates in one format (most
  values of a sample of up to ``SNIFF_VALUES``), made calendar inputs by
  ``aekit.data.calendar`` (or left out when too short a span);
- ``identifier``: a key, not a measurement, left out with a warning (and carried through
  to ``aekit score``'s output): an integer or text column named like a key (``id``,
  ``order_id``, ``customerId``, ``uuid``, ``key``, ...) with more distinct values than
  ``max_categories``, a text column with a distinct value in at least
  ``IDENTIFIER_SHARE`` of its rows (with ``MIN_ROWS`` rows or more), or an integer
  column that counts rows (every value distinct, one constant step apart);
- ``text``: free text (at least ``TEXT_CHARS`` characters on average, mostly with
  spaces, mostly distinct), left out with a warning.

``categorical=`` forces a column to be categorical and ``ignore=`` leaves it out
("ignored"), whatever it looks like; a column with no value at all is ``empty``.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

FEATURE_ROLES = ("numeric", "boolean", "categorical", "datetime")
LEFT_OUT_ROLES = ("identifier", "text", "ignored", "empty")
MIN_ROWS = 50
IDENTIFIER_SHARE = 0.95
TEXT_CHARS = 30
SNIFF_VALUES = 200
_KEY_NAME = re.compile(r"(^|[_\s.\-])(id|key|uuid|guid|idx)$", re.IGNORECASE)
_CAMEL_KEY = re.compile(r"[a-z0-9](Id|ID|Key|Uuid|UUID)$")
_TRUE_FALSE = (bool, np.bool_)


@dataclass(frozen=True)
class Role:
    """A column's role and why; ``date_format`` for text dates (``strftime`` codes)."""

    role: str
    reason: str
    date_format: str | None = None

    @property
    def used(self) -> bool:
        return self.role in FEATURE_ROLES


def is_key_name(name: str) -> bool:
    """Whether ``name`` reads like a key: ``id``, ``order_id``, ``customerId``, ``uuid``."""
    return bool(_KEY_NAME.search(name) or _CAMEL_KEY.search(name))


def column_role(series: Any, name: str, *, max_categories: int = 20) -> Role:
    """The role of the training column ``series`` (see the module doc)."""
    dtype = series.dtype
    kind = getattr(dtype, "kind", "O")
    dtype_name = str(dtype)
    if dtype_name in ("bool", "boolean"):
        return Role("boolean", "true/false values")
    if kind == "M" or dtype_name.startswith("datetime64"):
        return Role("datetime", "typed date-times")
    if kind in "iu":
        return _integer_role(series, name, max_categories)
    if kind == "f":
        return Role("numeric", "numbers")
    if dtype_name == "category":
        return Role("categorical", "categorical dtype")
    if kind in "OSU" or dtype_name.startswith("str"):
        return _text_role(series, name, max_categories)
    return Role("unsupported", f"dtype {dtype_name}")


def _integer_role(series: Any, name: str, max_categories: int) -> Role:
    values = series.dropna().to_numpy()
    n, distinct = len(values), len(np.unique(values))
    if is_key_name(name) and distinct > max_categories:
        return Role("identifier", f"named like a key, {distinct} distinct values")
    if n >= MIN_ROWS and distinct == n:
        steps = np.unique(np.diff(values.astype(np.int64)))
        if len(steps) == 1 and steps[0] != 0:
            return Role("identifier", "counts rows (every value distinct, one step apart)")
    return Role("numeric", "integers")


def _text_role(series: Any, name: str, max_categories: int) -> Role:
    present = series.dropna()
    if len(present) and all(isinstance(v, _TRUE_FALSE) for v in present):
        return Role("boolean", "true/false values")
    if len(present) == 0:
        return Role("categorical", "text")
    text = present.astype(str)
    distinct = int(text.nunique())
    date_format = text_date_format(text)
    if date_format is not None:
        return Role("datetime", f"text dates ({date_format})", date_format)
    sample = text.iloc[:: max(1, len(text) // SNIFF_VALUES)]
    lengths = sample.str.len()
    spaced = sample.str.contains(r"\s", regex=True).mean()
    if lengths.mean() >= TEXT_CHARS and spaced >= 0.5 and distinct >= 0.5 * len(text):
        return Role("text", f"free text, {lengths.mean():.0f} characters on average")
    if len(text) >= MIN_ROWS and distinct >= IDENTIFIER_SHARE * len(text):
        share = distinct / len(text)
        return Role("identifier", f"a distinct value in {share:.0%} of rows")
    if is_key_name(name) and distinct > max_categories:
        return Role("identifier", f"named like a key, {distinct} distinct values")
    return Role("categorical", "text")


def text_date_format(text: Any) -> str | None:
    """The one date format most of a sample of ``text`` (a Series of str) parses in."""
    from pandas.tseries.api import guess_datetime_format

    sample = text.drop_duplicates().iloc[:SNIFF_VALUES]
    first = str(sample.iloc[0]).strip()
    if not 6 <= len(first) <= 40 or not any(c.isdigit() for c in first):
        return None
    if not any(c in first for c in "-/.:T "):
        return None  # "20200101" is as likely a number as a date
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        date_format = guess_datetime_format(first)
    if date_format is None:
        return None
    parsed = parse_dates(sample, date_format)
    return date_format if parsed.notna().mean() >= 0.95 else None


def parse_dates(values: Any, date_format: str | None) -> Any:
    """``values`` (a Series) as naive datetime64[ns] in their own wall-clock time; NaT
    where a value does not parse. Time zones are dropped after conversion to the
    values' own offset (a reading at 09:00+02:00 is at 09:00). Dates beyond what
    nanoseconds hold (before 1677, after 2262) are NaT too."""
    import pandas as pd

    if str(values.dtype).startswith("datetime64") or getattr(values.dtype, "kind", "") == "M":
        parsed = values
    else:
        text = values.astype(object).where(values.notna(), None)
        try:
            parsed = pd.to_datetime(text, format=date_format, errors="coerce")
        except ValueError:  # offsets that differ between rows
            parsed = pd.to_datetime(text, format=date_format, errors="coerce", utc=True)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    if parsed.dtype != "datetime64[ns]":  # years before 1677 or after 2262 do not fit in ns
        parsed = parsed.where(parsed.between(pd.Timestamp.min, pd.Timestamp.max))
    return parsed.astype("datetime64[ns]")
