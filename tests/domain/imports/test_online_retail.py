"""Importing the UCI Online Retail layout into SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from domain.imports.errors import BatchFailed, LayoutMismatch
from domain.imports.runner import ImportKind, run_import
from domain.imports.summary import ImportSummary
from domain.orders.models import OrderKind
from tests.domain.imports.factories import (
    RETAIL_HEADER,
    RETAIL_II_HEADER,
    read_rejects,
    retail_row,
    write_csv,
    write_lines,
)
from tests.domain.imports.helpers import (
    customers,
    lines,
    orders,
    products,
    refusing_boom,
    table_counts,
)


def import_retail(engine: Engine, path: Path, **options: object) -> ImportSummary:
    summary = run_import(ImportKind.ONLINE_RETAIL, path, engine=engine, **options)  # type: ignore[arg-type]
    assert summary.rows_read == summary.rows_loaded + sum(summary.skipped.values())
    return summary


def test_invoices_become_orders_with_lines_customers_and_products(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "retail.csv",
        RETAIL_HEADER,
        [
            retail_row(),
            retail_row(sku="71053", description="WHITE METAL LANTERN", quantity="8", price="3.39"),
            retail_row(
                invoice="536366",
                sku="22633",
                description="HAND WARMER",
                date="12/1/2010 8:28",
                price="1.85",
                customer="13047.0",
                country="France",
            ),
        ],
    )

    summary = import_retail(engine, path)

    assert (summary.rows_read, summary.rows_loaded, summary.rejected) == (3, 3, 0)
    assert dict(summary.created) == {"customers": 2, "products": 3, "orders": 2, "lines": 3}
    assert summary.encoding == "utf-8"
    by_id = orders(engine)
    first = by_id["536365"]
    assert first.ordered_at == datetime(2010, 12, 1, 8, 26, tzinfo=UTC)
    assert (first.kind, first.status, first.currency, first.country) == (
        "sale",
        "completed",
        "USD",
        "United Kingdom",
    )
    assert first.total_minor == 1530 + 2712
    assert lines(engine, "536365") == [
        (1, "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, Decimal("2.55"), 1530),
        (2, "71053", "WHITE METAL LANTERN", 8, Decimal("3.39"), 2712),
    ]
    people = customers(engine)
    assert sorted(people) == ["13047", "17850"]
    assert first.customer_id == people["17850"].id
    assert people["13047"].country == "France"
    assert products(engine)["22633"] == "HAND WARMER"


def test_cancellations_are_returns_with_negative_totals_netted_in_the_facts(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "retail.csv",
        RETAIL_HEADER,
        [
            retail_row(quantity="6", price="2.55"),
            retail_row(invoice="C536379", quantity="-2", price="2.55", date="12/1/2010 9:41"),
        ],
    )

    summary = import_retail(engine, path)

    assert (summary.return_rows, summary.created["returns"], summary.rejected) == (1, 1, 0)
    cancellation = orders(engine)["C536379"]
    assert (cancellation.kind, cancellation.total_minor) == (OrderKind.RETURN, -510)
    assert lines(engine, "C536379") == [
        (1, "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", -2, Decimal("2.55"), -510)
    ]
    customer = customers(engine)["17850"]
    assert (customer.order_count, customer.net_revenue_minor) == (1, 1530 - 510)
    assert (
        customer.first_order_at
        == customer.last_order_at
        == datetime(2010, 12, 1, 8, 26, tzinfo=UTC)
    )


def test_rows_without_customer_are_guest_orders_counted_apart(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "retail.csv",
        RETAIL_HEADER,
        [
            retail_row(invoice="536544", customer=""),
            retail_row(invoice="536544", sku="21773", customer=""),
            retail_row(invoice="536545"),
        ],
    )

    summary = import_retail(engine, path)

    assert summary.guest_rows == 2
    assert orders(engine)["536544"].customer_id is None
    assert list(customers(engine)) == ["17850"]


def test_importing_the_same_file_twice_adds_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "retail.csv",
        RETAIL_HEADER,
        [retail_row(), retail_row(sku="71053"), retail_row(invoice="C536379", quantity="-1")],
    )
    import_retail(engine, path)
    before = table_counts(engine)

    again = import_retail(engine, path)

    assert table_counts(engine) == before
    assert (again.rows_read, again.rows_loaded, again.rejected) == (3, 0, 0)
    assert dict(again.skipped) == {"already loaded": 3}
    assert sum(again.created.values()) == 0
    assert again.facts_changed == 0


def test_a_latin1_file_is_detected_and_its_accents_kept(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "retail.csv",
        RETAIL_HEADER,
        [
            retail_row(description="CAFÉ SET OF 3 £5"),
            retail_row(invoice="536366", country="Österreich"),
        ],
        encoding="latin-1",
    )

    summary = import_retail(engine, path)

    assert (summary.encoding, summary.rows_loaded) == ("latin-1", 2)
    assert products(engine)["85123A"] == "CAFÉ SET OF 3 £5"
    assert orders(engine)["536366"].country == "Österreich"


def test_the_online_retail_ii_header_and_iso_times_are_understood(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "retail2.csv",
        RETAIL_II_HEADER,
        [retail_row(invoice="489434", date="2009-12-01 07:45:00", customer="13085")],
    )

    summary = import_retail(engine, path)

    assert summary.rows_loaded == 1
    order = orders(engine)["489434"]
    assert order.ordered_at == datetime(2009, 12, 1, 7, 45, tzinfo=UTC)
    assert order.customer_id == customers(engine)["13085"].id


def test_sub_cent_prices_are_kept_exactly_and_line_totals_rounded_half_even(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "retail.csv",
        RETAIL_HEADER,
        [
            retail_row(quantity="12", price="0.001"),
            retail_row(sku="B", quantity="5", price="0.125"),
        ],
    )

    import_retail(engine, path)

    assert [(q, p, t) for _, _, _, q, p, t in lines(engine, "536365")] == [
        (12, Decimal("0.0010"), 1),
        (5, Decimal("0.1250"), 62),
    ]
    assert orders(engine)["536365"].total_minor == 63


def test_bad_rows_go_to_the_rejects_file_and_the_good_rows_load(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "retail.csv",
        RETAIL_HEADER,
        [
            retail_row(),
            retail_row(sku="B", date="13/45/2010 8:26"),
            retail_row(sku="C", quantity="six"),
            retail_row(sku="D", price="2,55"),
            ["536365", "E", "SHORT ROW", "1"],
            retail_row(sku=""),
            retail_row(invoice="536366", quantity="-3"),
            retail_row(invoice="C536367", quantity="3"),
            retail_row(invoice="536368", price="-11062.06", customer=""),
            retail_row(invoice="536369", sku="G"),
        ],
    )

    summary = import_retail(engine, path)

    assert (summary.rows_read, summary.rows_loaded, summary.rejected) == (10, 2, 8)
    assert dict(summary.skipped) == {
        "unparseable date": 1,
        "not a number": 2,
        "wrong column count": 1,
        "missing required field": 1,
        "quantity sign does not match the order kind": 2,
        "invalid value": 1,
    }
    assert summary.rejects_file == tmp_path / "retail.csv.rejects.csv"
    assert [row[:3] for row in read_rejects(summary.rejects_file)] == [
        [
            "3",
            "unparseable date",
            "InvoiceDate '13/45/2010 8:26' is neither M/D/YYYY H:MM nor ISO 8601",
        ],
        ["4", "not a number", "Quantity 'six' is not a whole number"],
        ["5", "not a number", "UnitPrice '2,55' is not a number"],
        ["6", "wrong column count", "expected 8 fields, found 4"],
        ["7", "missing required field", "StockCode is empty"],
        [
            "8",
            "quantity sign does not match the order kind",
            "Quantity -3 on a sale (only 'C' invoices are returns, with negative quantities)",
        ],
        [
            "9",
            "quantity sign does not match the order kind",
            "Quantity 3 on a return (only 'C' invoices are returns, with negative quantities)",
        ],
        ["10", "invalid value", "UnitPrice -11062.06 is negative"],
    ]
    assert read_rejects(summary.rejects_file)[3][3] == "536365,E,SHORT ROW,1"
    assert sorted(orders(engine)) == ["536365", "536369"]
    assert [line[1] for line in lines(engine, "536365")] == ["85123A"]


def test_undecodable_bytes_are_rejected_when_the_encoding_is_given(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_lines(
        tmp_path / "retail.csv",
        [
            ",".join(RETAIL_HEADER),
            "536365,A,CAFÉ,1,12/1/2010 8:26,1.00,17850,France",
            b"536365,B,CAF\xc9,1,12/1/2010 8:26,1.00,17850,France",
        ],
    )

    summary = import_retail(engine, path, encoding="utf-8")

    assert (summary.rows_loaded, dict(summary.skipped)) == (1, {"undecodable bytes": 1})
    assert read_rejects(summary.rejects_file) == [
        [
            "3",
            "undecodable bytes",
            "not valid utf-8",
            "536365,B,CAF\\xc9,1,12/1/2010 8:26,1.00,17850,France",
        ]
    ]


@pytest.mark.parametrize("batch_size", [1, 100])
def test_an_invoice_that_comes_back_later_in_the_file_is_rejected_not_merged(
    engine: Engine, tmp_path: Path, batch_size: int
) -> None:
    path = write_csv(
        tmp_path / "retail.csv",
        RETAIL_HEADER,
        [retail_row(), retail_row(invoice="536366"), retail_row(sku="LATE"), retail_row(sku="L2")],
    )

    summary = import_retail(engine, path, rejects_path=tmp_path / "bad.csv", batch_size=batch_size)

    assert dict(summary.skipped) == {"order seen earlier in the file": 2}
    assert [row[:3] for row in read_rejects(tmp_path / "bad.csv")] == [
        [line, "order seen earlier in the file", detail]
        for line in ("4", "5")
        for detail in ["order 536365 appeared earlier in the file, before other orders"]
    ]
    assert [line[1] for line in lines(engine, "536365")] == ["85123A"]


def test_a_row_naming_another_customer_than_its_invoice_is_rejected(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "retail.csv",
        RETAIL_HEADER,
        [
            retail_row(customer="17850.0"),
            retail_row(sku="B", customer="17850"),
            retail_row(sku="C", customer="13047"),
        ],
    )

    summary = import_retail(engine, path)

    assert summary.rows_loaded == 2
    assert read_rejects(summary.rejects_file)[0][:3] == [
        "4",
        "differs from the first row of its order",
        "CustomerID 13047 differs from the invoice's first row (17850)",
    ]


def test_batches_end_only_between_invoices(engine: Engine, tmp_path: Path) -> None:
    rows = [retail_row(invoice=str(536365 + n // 3), sku=f"S{n}") for n in range(9)]
    path = write_csv(tmp_path / "retail.csv", RETAIL_HEADER, rows)
    progress: list[int] = []

    summary = import_retail(engine, path, batch_size=2, progress=progress.append)

    assert summary.batches == 3
    assert len(progress) == 3 and progress[-1] == path.stat().st_size
    assert [len(lines(engine, str(536365 + n))) for n in range(3)] == [3, 3, 3]


def test_a_header_of_another_layout_is_refused_naming_the_missing_columns(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "x.csv", ["Invoice", "StockCode", "Qty", "Price"], [])

    with pytest.raises(
        LayoutMismatch,
        match=r"missing column\(s\): Description, Quantity, "
        r"InvoiceDate, CustomerID or Customer ID, Country",
    ):
        import_retail(engine, path)


def test_a_failing_batch_rolls_back_whole_and_a_rerun_resumes(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "retail.csv",
        RETAIL_HEADER,
        [
            retail_row(invoice="536365", sku="A"),
            retail_row(invoice="536365", sku="B"),
            retail_row(invoice="536366", sku="C", customer="13047"),
            retail_row(invoice="536366", sku="BOOM", customer="13047"),
            retail_row(invoice="536367", sku="D"),
        ],
    )

    with refusing_boom(engine) as lift, pytest.raises(BatchFailed) as caught:
        import_retail(engine, path, batch_size=2)

    assert str(caught.value).startswith(
        "the batch of lines 4-5 failed and was rolled back (1 earlier batch(es) stay committed; "
        "rerun the same import to resume): "
    )
    assert "refused BOOM" in str(caught.value)
    assert caught.value.summary.rows_loaded == 2
    assert sorted(orders(engine)) == ["536365"]
    assert sorted(customers(engine)) == ["17850"]
    assert sorted(products(engine)) == ["A", "B"]
    assert customers(engine)["17850"].order_count == 1

    lift()
    rerun = import_retail(engine, path, batch_size=2)

    assert (rerun.rows_loaded, dict(rerun.skipped)) == (3, {"already loaded": 2})
    assert sorted(orders(engine)) == ["536365", "536366", "536367"]
    assert [line[1] for line in lines(engine, "536366")] == ["C", "BOOM"]
    assert customers(engine)["17850"].order_count == 2
