"""Importing Lifecycle's orders layout: one row per line, orders of known customers only."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.imports.runner import ImportKind, ImportSummary, run_import
from tests.domain.imports.factories import ORDER_HEADER, order_row, read_rejects, write_csv
from tests.domain.imports.helpers import customers, lines, orders, products, table_counts
from tests.factories import channel, make_customer


def import_orders(engine: Engine, path: Path) -> ImportSummary:
    summary = run_import(ImportKind.ORDERS, path, engine=engine, currency="EUR")
    assert summary.rows_read == summary.rows_loaded + sum(summary.skipped.values())
    return summary


def known_customers(engine: Engine, *external_ids: str) -> None:
    with Session(engine) as session:
        for external_id in external_ids:
            make_customer(session, external_id=external_id)
        session.commit()


def test_orders_load_with_lines_returns_guests_and_cancellations(
    engine: Engine, tmp_path: Path
) -> None:
    known_customers(engine, "C1")
    path = write_csv(
        tmp_path / "orders.csv",
        ORDER_HEADER,
        [
            order_row("O1", channel="web"),
            order_row(
                "O1",
                channel="web",
                sku="SKU-2",
                description="Teapot",
                quantity="1",
                unit_price="30",
            ),
            order_row(
                "O2",
                kind="return",
                quantity="-1",
                ordered_at="2024-03-05T10:00:00+01:00",
                currency="usd",
            ),
            order_row("O3", customer_id=""),
            order_row("O4", status="cancelled", unit_price="100"),
        ],
    )

    summary = import_orders(engine, path)

    assert (summary.rows_loaded, summary.guest_rows, summary.return_rows) == (5, 1, 1)
    assert dict(summary.created) == {"products": 2, "orders": 4, "returns": 1, "lines": 5}
    by_id = orders(engine)
    sale = by_id["O1"]
    assert (sale.total_minor, sale.currency, sale.ordered_at) == (
        900 + 3000,
        "EUR",
        datetime(2024, 3, 1, 10, tzinfo=UTC),
    )
    with Session(engine) as session:
        assert sale.channel_id == channel(session, "web").id
    assert lines(engine, "O1") == [
        (1, "SKU-1", "Blue mug", 2, Decimal("4.50"), 900),
        (2, "SKU-2", "Teapot", 1, Decimal("30"), 3000),
    ]
    refund = by_id["O2"]
    assert (refund.kind, refund.total_minor, refund.currency) == ("return", -450, "USD")
    assert refund.ordered_at == datetime(2024, 3, 5, 9, tzinfo=UTC)
    assert by_id["O3"].customer_id is None
    assert by_id["O4"].status == "cancelled"
    assert products(engine) == {"SKU-1": "Blue mug", "SKU-2": "Teapot"}
    ana = customers(engine)["C1"]
    assert (ana.order_count, ana.net_revenue_minor) == (1, 3900 - 450)
    assert ana.last_order_at == datetime(2024, 3, 1, 10, tzinfo=UTC)


def test_every_row_of_an_order_of_an_unknown_customer_is_rejected(
    engine: Engine, tmp_path: Path
) -> None:
    known_customers(engine, "C1")
    path = write_csv(
        tmp_path / "orders.csv",
        ORDER_HEADER,
        [order_row("O1"), order_row("O2", customer_id="C9"), order_row("O2", customer_id="C9")],
    )

    summary = import_orders(engine, path)

    assert dict(summary.skipped) == {"unknown customer": 2}
    assert [row[:3] for row in read_rejects(summary.rejects_file)] == [
        ["3", "unknown customer", "customer 'C9' does not exist (import customers first)"],
        ["4", "unknown customer", "customer 'C9' does not exist (import customers first)"],
    ]
    assert sorted(orders(engine)) == ["O1"]


def test_rows_that_contradict_their_order_are_rejected(engine: Engine, tmp_path: Path) -> None:
    known_customers(engine, "C1")
    path = write_csv(
        tmp_path / "orders.csv",
        ORDER_HEADER,
        [
            order_row("O1"),
            order_row("O1", sku="SKU-2", ordered_at="2024-03-02T10:00:00Z"),
            order_row("O2", kind="exchange"),
            order_row("O3", quantity="-1"),
            order_row("O4", channel="fax"),
            order_row("O5", currency="ZZZ"),
            order_row("O1", sku="SKU-3"),
        ],
    )

    summary = import_orders(engine, path)

    assert summary.rows_loaded == 1
    assert [row[:3] for row in read_rejects(summary.rejects_file)] == [
        [
            "3",
            "differs from the first row of its order",
            "ordered_at differs from the order's first row",
        ],
        ["4", "invalid value", "kind 'exchange' is not sale or return"],
        [
            "5",
            "quantity sign does not match the order kind",
            "quantity -1 on a sale (sales are positive, returns negative)",
        ],
        ["6", "unknown channel", "channel 'fax' is not a channel code"],
        ["7", "invalid value", "unknown currency 'ZZZ' (use an ISO 4217 code like EUR)"],
        [
            "8",
            "order seen earlier in the file",
            "order O1 appeared earlier in the file, before other orders",
        ],
    ]


def test_importing_the_same_orders_twice_adds_nothing(engine: Engine, tmp_path: Path) -> None:
    known_customers(engine, "C1")
    path = write_csv(
        tmp_path / "orders.csv", ORDER_HEADER, [order_row("O1"), order_row("O1", sku="B")]
    )
    import_orders(engine, path)
    before = table_counts(engine)

    again = import_orders(engine, path)

    assert table_counts(engine) == before
    assert (again.rows_loaded, dict(again.skipped)) == (0, {"already loaded": 2})
