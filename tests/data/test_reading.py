"""Table files as people have them: CSV in any dialect, workbooks, JSON Lines; read whole
and streamed in chunks, with the same values."""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aekit.data.dialect import CsvDialect, parse_separator, sniff_csv
from aekit.data.files import ReadOptions, read_data, read_table
from aekit.data.loaders import open_table
from aekit.exceptions import InputError


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """Numbers with decimals and thousands, text with accents, separators inside quotes."""
    rng = np.random.default_rng(0)
    n = 120
    return pd.DataFrame(
        {
            "city": rng.choice(["Zürich", "São Paulo", "Kraków", "Paris, FR"], n),
            "amount": rng.normal(1500, 400, n).round(2),
            "rate": rng.random(n).round(4),
            "count": rng.integers(0, 50, n),
            "note": rng.choice(["a;b", "c|d", "plain", 'say "hi"'], n),
        }
    )


DIALECTS = {  # name: (to_csv options, the encoding written, the dialect expected)
    "comma": ({"sep": ","}, "utf-8", CsvDialect(",", ".", "utf-8")),
    "semicolon, decimal comma": ({"sep": ";", "decimal": ","}, "utf-8", CsvDialect(";", ",")),
    "tab": ({"sep": "\t"}, "utf-8", CsvDialect("\t", ".", "utf-8")),
    "pipe, decimal comma": ({"sep": "|", "decimal": ","}, "utf-8", CsvDialect("|", ",")),
    "semicolon, Latin-1": (
        {"sep": ";", "decimal": ","},
        "latin-1",
        CsvDialect(";", ",", "latin-1"),
    ),
    "comma, byte-order mark": ({"sep": ","}, "utf-8-sig", CsvDialect(",", ".", "utf-8-sig")),
}


def _write(frame: pd.DataFrame, path: Path, options: dict[str, str], encoding: str) -> Path:
    frame.to_csv(path, index=False, encoding=encoding, **options)
    return path


@pytest.mark.parametrize("name", list(DIALECTS))
def test_every_dialect_is_detected_and_read_whole_and_streamed(
    name: str, frame: pd.DataFrame, tmp_path: Path
) -> None:
    options, encoding, expected = DIALECTS[name]
    path = _write(frame, tmp_path / "table.csv", options, encoding)
    if encoding == "utf-8-sig":
        assert path.read_bytes().startswith(codecs.BOM_UTF8)
    assert sniff_csv(path) == expected
    read = read_data(path)
    pd.testing.assert_frame_equal(read, frame, check_dtype=False)
    chunks, _ = open_table(path, ["amount", "rate", "count"], ["city", "note"])
    streamed = pd.concat(list(chunks), ignore_index=True)
    np.testing.assert_array_equal(streamed["amount"].to_numpy(), frame["amount"].to_numpy())
    assert streamed["city"].tolist() == frame["city"].tolist()
    assert streamed["note"].tolist() == frame["note"].tolist()


def test_the_skab_files_are_read_as_numbers(data_dir: Path) -> None:
    path = data_dir / "timeseries" / "skab" / "other" / "1.csv"
    if not path.is_file():
        pytest.skip(f"SKAB not found at {path}")
    table = read_table(path)
    assert sniff_csv(path).sep == ";"
    assert table.shape[1] == 11
    assert all(table[c].dtype.kind == "f" for c in table.columns if c != "datetime")


def test_forced_options_win_over_sniffing(frame: pd.DataFrame, tmp_path: Path) -> None:
    path = _write(frame, tmp_path / "t.csv", {"sep": ";", "decimal": ","}, "latin-1")
    forced = ReadOptions(sep=";", decimal=",", encoding="latin-1")
    pd.testing.assert_frame_equal(read_data(path, options=forced), frame, check_dtype=False)
    as_points = read_data(path, options=ReadOptions(decimal="."))
    assert as_points["amount"].dtype.kind not in "if"  # "1234,5" is text with a "." mark
    with pytest.raises(InputError, match="unknown text encoding 'klingon'"):
        read_data(path, options=ReadOptions(encoding="klingon"))
    with pytest.raises(InputError, match="decimal mark and the separator are both ','"):
        read_data(path, options=ReadOptions(sep=",", decimal=","))
    assert parse_separator("tab") == "\t" and parse_separator(";") == ";"
    with pytest.raises(ValueError, match="one character"):
        parse_separator(";;")


def test_a_file_read_into_one_column_names_the_separator(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("a;b;c\n1;2;3\n4;5;6\n")
    with pytest.raises(InputError, match=r"hold semicolons \(';'\).*--sep ';'"):
        read_data(path, options=ReadOptions(sep=","))
    assert read_data(path).shape == (2, 3)  # sniffed, it reads as three columns
    single = tmp_path / "single.csv"
    single.write_text("value\n1.5\n2.5\n")
    assert read_data(single).shape == (2, 1)  # one real column is fine


def test_workbooks_by_sheet_name_or_index(frame: pd.DataFrame, tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        frame.iloc[:5].to_excel(writer, sheet_name="summary", index=False)
        frame.to_excel(writer, sheet_name="orders", index=False)
    assert len(read_data(path)) == 5  # the first sheet by default
    for sheet in ("orders", 1, "1"):
        read = read_data(path, options=ReadOptions(sheet=sheet))
        pd.testing.assert_frame_equal(read, frame, check_dtype=False)
    with pytest.raises(InputError, match=r"no sheet 'missing'; its sheets are \['summary'"):
        read_data(path, options=ReadOptions(sheet="missing"))
    with pytest.raises(InputError, match="has 2 sheets"):
        read_data(path, options=ReadOptions(sheet=5))


def test_a_workbook_without_openpyxl_names_the_extra(
    frame: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    path = tmp_path / "book.xlsx"
    path.write_bytes(b"PK")  # never opened: the check comes first
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "openpyxl" else real(name)
    )
    with pytest.raises(InputError, match=r"pip install 'aekit\[excel\]'"):
        read_data(path)


def test_json_lines_whole_and_streamed(frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    frame.to_json(path, orient="records", lines=True, force_ascii=False)
    pd.testing.assert_frame_equal(read_data(path), frame, check_dtype=False)
    chunks, total = open_table(path)
    assert total is None
    pd.testing.assert_frame_equal(pd.concat(list(chunks), ignore_index=True), frame)
    broken = tmp_path / "broken.ndjson"
    broken.write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(InputError, match=r"could not read .*broken\.ndjson as ndjson"):
        read_data(broken)
    mixed = tmp_path / "mixed.jsonl"  # found by the property tests: a raw TypeError before
    mixed.write_text('{"a": 0}\n[0]\n')
    with pytest.raises(InputError, match=r"could not read .*mixed\.jsonl as jsonl"):
        read_data(mixed)
    with pytest.raises(InputError, match=r"could not read .*mixed\.jsonl as JSON Lines"):
        list(open_table(mixed)[0])


def test_a_corrupt_workbook_is_one_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")  # found by the property tests
    with pytest.raises(InputError, match=r"book\.xlsx is not a readable \.xlsx workbook"):
        read_data(path)


def test_rows_longer_than_the_header_are_refused_not_shifted(tmp_path: Path) -> None:
    path = tmp_path / "short_header.csv"  # pandas took column 1 as the index: names shifted
    path.write_text("a,b\n1,2,3\n4,5,6\n")
    with pytest.raises(InputError, match=r"more fields than the header's 2 names"):
        read_data(path)


def test_a_truncated_npz_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "arrays.npz"
    np.savez(path, X=np.zeros((5, 3)))
    path.write_bytes(path.read_bytes()[:40])  # found by the fuzzing campaign: BadZipFile
    with pytest.raises(InputError, match=r"could not read .*arrays\.npz as npz"):
        read_data(path)


def test_empty_and_unsupported_files_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("a;b\n")
    with pytest.raises(InputError, match="holds no data rows"):
        read_data(empty)
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputError, match=r"unsupported data file 'old.xls'.*save it as .xlsx"):
        read_data(old)
