"""Importing the CDNOW master layout: one order per row, ids stable across re-imports."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy.engine import Engine

from domain.imports.runner import ImportKind, run_import
from tests.domain.imports.factories import read_rejects, write_lines
from tests.domain.imports.helpers import customers, lines, orders, table_counts

CDNOW = [
    "00001 19970101  1  11.77",
    "00001 19970101  3  10.00",
    "00002 19970112  5  77.00",
    "00003 1997x101  1   1.00",
    "00004 19970101  0   1.00",
    "00005 19970101  1",
    "00006 19970101  1  abc",
]


def test_each_row_is_an_order_and_two_same_day_orders_both_load(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_lines(tmp_path / "CDNOW_master.txt", CDNOW)

    summary = run_import(ImportKind.CDNOW, path, engine=engine)

    assert (summary.rows_read, summary.rows_loaded) == (7, 3)
    assert dict(summary.created) == {"customers": 2, "products": 1, "orders": 3, "lines": 3}
    by_id = orders(engine)
    assert sorted(by_id) == [
        "cdnow:00001:19970101:1",
        "cdnow:00001:19970101:2",
        "cdnow:00002:19970112:1",
    ]
    second = by_id["cdnow:00001:19970101:2"]
    assert (second.ordered_at, second.total_minor) == (datetime(1997, 1, 1, tzinfo=UTC), 1000)
    assert lines(engine, "cdnow:00001:19970101:2") == [(1, "CD", None, 3, Decimal("3.3333"), 1000)]
    first_customer = customers(engine)["00001"]
    assert (first_customer.order_count, first_customer.net_revenue_minor) == (2, 2177)


def test_bad_cdnow_rows_are_rejected_with_their_line_numbers(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_lines(tmp_path / "CDNOW_master.txt", CDNOW)

    summary = run_import(ImportKind.CDNOW, path, engine=engine)

    assert [row[:3] for row in read_rejects(summary.rejects_file)] == [
        ["4", "unparseable date", "date '1997x101' is not a YYYYMMDD date"],
        ["5", "invalid value", "number of CDs 0 is not positive"],
        ["6", "wrong column count", "expected 4 fields, found 3"],
        ["7", "not a number", "dollar amount 'abc' is not a number"],
    ]


def test_importing_cdnow_twice_adds_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "CDNOW_master.txt", CDNOW)
    run_import(ImportKind.CDNOW, path, engine=engine)
    before = table_counts(engine)

    again = run_import(ImportKind.CDNOW, path, engine=engine)

    assert table_counts(engine) == before
    assert (again.rows_loaded, again.skipped["already loaded"]) == (0, 3)
