"""Small input files for import tests: rows with sensible defaults and keyword overrides."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

RETAIL_HEADER = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
RETAIL_II_HEADER = [
    "Invoice",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "Price",
    "Customer ID",
    "Country",
]
CUSTOMER_HEADER = [
    "external_id",
    "name",
    "email",
    "phone",
    "birthday",
    "language",
    "timezone",
    "country",
    "acquisition_channel",
    "owner_email",
    "consent_email",
    "consent_sms",
]
ORDER_HEADER = [
    "order_id",
    "customer_id",
    "ordered_at",
    "kind",
    "status",
    "sku",
    "description",
    "category",
    "quantity",
    "unit_price",
    "currency",
    "channel",
]
EVENT_HEADER = ["customer_id", "type", "occurred_at", "channel", "idempotency_key", "properties"]


def retail_row(
    invoice: str = "536365",
    sku: str = "85123A",
    description: str = "WHITE HANGING HEART T-LIGHT HOLDER",
    quantity: str = "6",
    date: str = "12/1/2010 8:26",
    price: str = "2.55",
    customer: str = "17850.0",
    country: str = "United Kingdom",
) -> list[str]:
    """One Online Retail row (fields in RETAIL_HEADER order)."""
    return [invoice, sku, description, quantity, date, price, customer, country]


def customer_row(external_id: str = "C1", **overrides: str) -> dict[str, str]:
    """One customers-layout row."""
    row = {name: "" for name in CUSTOMER_HEADER}
    row.update(
        external_id=external_id,
        name=f"Customer {external_id}",
        email=f"{external_id.lower()}@example.com",
        consent_email="yes",
    )
    row.update(overrides)
    return row


def order_row(order_id: str = "O1", **overrides: str) -> dict[str, str]:
    """One orders-layout row (one line of an order)."""
    row = {name: "" for name in ORDER_HEADER}
    row.update(
        order_id=order_id,
        customer_id="C1",
        ordered_at="2024-03-01T10:00:00Z",
        kind="sale",
        status="completed",
        sku="SKU-1",
        description="Blue mug",
        category="kitchen",
        quantity="2",
        unit_price="4.50",
    )
    row.update(overrides)
    return row


def event_row(customer_id: str = "C1", **overrides: str) -> dict[str, str]:
    """One events-layout row."""
    row = {name: "" for name in EVENT_HEADER}
    row.update(
        customer_id=customer_id,
        type="email_open",
        occurred_at="2024-03-02T09:00:00+01:00",
        channel="email",
        properties='{"campaign": "spring"}',
    )
    row.update(overrides)
    return row


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[str] | dict[str, str]],
    *,
    encoding: str = "utf-8",
) -> Path:
    """A CSV file with the header and rows (lists in header order, or dicts by column)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header] if isinstance(row, dict) else row)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_lines(path: Path, lines: Sequence[str | bytes]) -> Path:
    """A file of raw lines (bytes are written as they are), one per line."""
    path.write_bytes(
        b"".join((line if isinstance(line, bytes) else line.encode()) + b"\n" for line in lines)
    )
    return path


def read_rejects(path: Path) -> list[list[str]]:
    """The rejects file's rows without its header: [line, reason, detail, raw]."""
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.reader(file))[1:]
