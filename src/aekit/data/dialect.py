"""How a CSV file is written: its separator, decimal mark, quoting and text encoding.

Spreadsheet programs export CSV the way their locale writes numbers: ``1,234.5`` with
commas between fields in English, ``1234,5`` with semicolons in much of Europe, tabs or
pipes elsewhere. :func:`sniff_csv` reads the first ``SNIFF_BYTES`` of a file and decides:

- **encoding**: a UTF-8 byte-order mark gives ``utf-8-sig``; text that decodes as UTF-8 is
  ``utf-8``; anything else is ``latin-1`` (every byte is a character, so it always reads);
- **separator**: of ``,`` ``;`` tab ``|``, the one that splits the lines (quotes respected)
  into the same number of fields, more than one; the most fields wins a tie;
- **decimal mark**: ``,`` when the separator is not a comma and unquoted fields look like
  ``12,5`` while none look like ``12.5``; otherwise ``.``.

Every decision can be forced (``sep=``, ``decimal=``, ``encoding=``); the readers take a
:class:`CsvDialect`. :func:`check_not_one_column` catches the case sniffing cannot fix: a
file read into one column whose values still hold a separator.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aekit.exceptions import InputError

SNIFF_BYTES = 1 << 16
SEPARATORS = (",", ";", "\t", "|")
DECIMALS = (".", ",")
_SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_COMMA_NUMBER = re.compile(r"^[-+]?\d+,\d+([eE][-+]?\d+)?$")
_POINT_NUMBER = re.compile(r"^[-+]?\d*\.\d+([eE][-+]?\d+)?$")


@dataclass(frozen=True)
class CsvDialect:
    """What the CSV readers need to know about a file."""

    sep: str = ","
    decimal: str = "."
    encoding: str = "utf-8"
    quotechar: str = '"'

    def describe(self) -> str:
        return f"{separator_name(self.sep)}-separated, decimal {self.decimal!r}, {self.encoding}"


def separator_name(sep: str) -> str:
    return _SEPARATOR_NAMES.get(sep, repr(sep))


def parse_separator(text: str) -> str:
    """A separator as typed on a command line: the character, or ``tab``, ``\\t``,
    ``comma``, ``semicolon``, ``pipe``."""
    named = {name: sep for sep, name in _SEPARATOR_NAMES.items()} | {"\\t": "\t"}
    sep = named.get(text.lower(), text)
    if len(sep) != 1:
        raise ValueError(
            f"separator {text!r} must be one character (or tab, comma, semicolon, pipe)"
        )
    return sep


def sniff_csv(
    path: str | Path,
    *,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
) -> CsvDialect:
    """The dialect of the CSV file at ``path``; arguments given are kept as they are."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    complete = len(head) < SNIFF_BYTES
    if encoding is None:
        encoding = _encoding(head, complete)
    else:
        _check_encoding(encoding)
    text = _decoded(head, encoding, complete)
    lines = [line for line in text.splitlines() if line.strip()]
    if not complete and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut in the middle
    if sep is None:
        sep = _separator(lines)
    if decimal is None:
        decimal = _decimal(lines, sep)
    elif decimal not in DECIMALS:
        raise InputError(f"decimal mark {decimal!r} must be '.' or ','")
    if decimal == sep:
        raise InputError(f"the decimal mark and the separator are both {sep!r}")
    return CsvDialect(sep, decimal, encoding)


def _check_encoding(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(
            f"unknown text encoding {encoding!r}; use a name such as utf-8 or latin-1"
        ) from None


def _encoding(head: bytes, complete: bool) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=complete)  # a character cut at the end is not an error
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def _decoded(head: bytes, encoding: str, complete: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return str(decoder.decode(head, final=complete))


def _fields(lines: list[str], sep: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO("\n".join(lines)), delimiter=sep, quotechar='"'))


def _separator(lines: list[str]) -> str:
    """The candidate that splits the most lines into one same count of fields (> 1)."""
    if not lines:
        return ","
    best, best_key = ",", (0.0, 0)
    for sep in SEPARATORS:
        try:
            widths = [len(row) for row in _fields(lines, sep)]
        except csv.Error:
            continue
        if not widths:
            continue
        width, count = Counter(widths).most_common(1)[0]
        if width < 2:
            continue
        key = (count / len(widths), width)
        if key > best_key:
            best, best_key = sep, key
    return best


def _decimal(lines: list[str], sep: str) -> str:
    if sep == ",":
        return "."
    comma = point = 0
    for row in _fields(lines[1:], sep):  # the header holds names, not numbers
        for field in row:
            value = field.strip()
            comma += bool(_COMMA_NUMBER.match(value))
            point += bool(_POINT_NUMBER.match(value))
    return "," if comma > 0 and point == 0 else "."


def check_not_one_column(frame: Any, source: str) -> None:
    """Refuse a table read into one text column whose name or values hold a separator:
    the file was read with the wrong separator."""
    if frame.shape[1] != 1:
        return
    name = str(frame.columns[0])
    values = frame.iloc[:50, 0].dropna().astype(str).tolist()
    for sep in SEPARATORS:
        if sep in name and all(sep in v for v in values):
            raise InputError(
                f"{source} was read as one column {name[:60]!r} whose values hold "
                f"{separator_name(sep)}s ({sep!r}): it looks {separator_name(sep)}-separated; "
                f"read it with --sep {_typed(sep)} (sep={sep!r} in Python)"
            )


def _typed(sep: str) -> str:
    return "tab" if sep == "\t" else f"'{sep}'"
