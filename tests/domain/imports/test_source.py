"""Reading files: encoding detection, records with line numbers, headers, the rejects file."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.imports.errors import LayoutMismatch
from domain.imports.source import (
    Record,
    RejectsFile,
    Source,
    detect_encoding,
    header_index,
)
from domain.imports.summary import Reject, SkipReason
from tests.domain.imports.factories import read_rejects, write_lines


def test_a_file_with_only_latin1_accents_is_read_as_latin1(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "a.csv", ["a,b", "CAF\xc9,1".encode("latin-1")])

    assert detect_encoding(path) == "latin-1"


def test_utf8_files_and_plain_ascii_are_read_as_utf8(tmp_path: Path) -> None:
    assert detect_encoding(write_lines(tmp_path / "u.csv", ["a,b", "CAFÉ,1"])) == "utf-8"
    assert detect_encoding(write_lines(tmp_path / "p.csv", ["a,b", "cafe,1"])) == "utf-8"


def test_a_utf8_file_with_a_stray_latin1_line_stays_utf8_and_rejects_that_line(
    tmp_path: Path,
) -> None:
    path = write_lines(tmp_path / "m.csv", ["a,b", "CAFÉ,1", b"CAF\xc9,2", "ok,3"])

    with Source(path, detect_encoding(path)) as source:
        records = list(source.csv_records())

    assert [r.line_no for r in records] == [1, 2, 3, 4]
    assert isinstance(records[1], Record) and records[1].fields == ["CAFÉ", "1"]
    assert records[2] == Reject(3, SkipReason.UNDECODABLE, "not valid utf-8", "CAF\udcc9,2")


def test_records_carry_their_first_line_and_raw_text_across_quoted_newlines(
    tmp_path: Path,
) -> None:
    path = write_lines(tmp_path / "q.csv", ["a,b", '1,"two', 'lines"', "", "3,x\x00y"])

    with Source(path, "utf-8") as source:
        records = list(source.csv_records())

    assert records == [
        Record(1, "a,b", ["a", "b"]),
        Record(2, '1,"two\nlines"', ["1", "two\nlines"]),
        Reject(5, SkipReason.BAD_VALUE, "the row has a NUL character", "3,x\x00y"),
    ]


def test_blank_separated_records_number_every_line(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "cd.txt", ["00001  19970101  1  11.77", "", "00002 19970112 5 77"]
    )

    with Source(path, "utf-8") as source:
        records = list(source.whitespace_records())

    assert records == [
        Record(1, "00001  19970101  1  11.77", ["00001", "19970101", "1", "11.77"]),
        Record(3, "00002 19970112 5 77", ["00002", "19970112", "5", "77"]),
    ]


def test_headers_match_loosely_and_report_missing_and_extra_columns() -> None:
    header = Record(1, "", ["Invoice", "customer id", "Price", "Notes"])

    index, ignored = header_index(
        "x", header, [("InvoiceNo", "Invoice"), ("CustomerID",), ("UnitPrice", "Price")], ()
    )

    assert index == {"InvoiceNo": 0, "CustomerID": 1, "UnitPrice": 2}
    assert ignored == ["Notes"]
    with pytest.raises(LayoutMismatch) as caught:
        header_index("online-retail", header, [("StockCode",), ("Quantity",)], ())
    assert caught.value.missing == ["StockCode", "Quantity"]
    assert str(caught.value) == (
        "the header does not match the online-retail layout: missing column(s): StockCode, Quantity"
    )


def test_rejects_are_written_in_line_order_with_undecodable_bytes_shown_as_escapes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "in.csv.rejects.csv"

    with RejectsFile(path) as rejects:
        rejects.write(
            [
                Reject(9, SkipReason.BAD_DATE, "InvoiceDate 'x' is neither", "1,x"),
                Reject(3, SkipReason.UNDECODABLE, "not valid utf-8", "CAF\udcc9,2"),
            ]
        )

    assert read_rejects(path) == [
        ["3", "undecodable bytes", "not valid utf-8", "CAF\\xc9,2"],
        ["9", "unparseable date", "InvoiceDate 'x' is neither", "1,x"],
    ]


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_column_name(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffexternal_id,name\nC1,Zoë\n".encode())

    with Source(path, detect_encoding(path)) as source:
        records = list(source.csv_records())

    assert records == [
        Record(1, "external_id,name", ["external_id", "name"]),
        Record(2, "C1,Zoë", ["C1", "Zoë"]),
    ]
