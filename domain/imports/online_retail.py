"""The UCI "Online Retail" (and "Online Retail II") transaction layout: one row per invoice line.

Invoices whose number starts with "C" are cancellations, stored as returns with negative
quantities and totals. Rows without a customer id are guest sales.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmodel import Session

from domain.imports.layout import ImportContext, reject, wrong_width
from domain.imports.orders import LineIn, OrderGroups, OrderIn, OrderRun, load_orders
from domain.imports.source import Record, header_index
from domain.imports.summary import BatchOutcome, Reject, SkipReason
from domain.imports.values import (
    RowError,
    Timestamps,
    integer,
    optional,
    required,
    retail_customer_id,
    to_minor,
    unit_price,
)
from domain.orders.models import OrderKind, OrderStatus

KIND = "online-retail"
# Accepted spellings per column: Online Retail first, Online Retail II second.
COLUMNS = (
    ("InvoiceNo", "Invoice"),
    ("StockCode",),
    ("Description",),
    ("Quantity",),
    ("InvoiceDate",),
    ("UnitPrice", "Price"),
    ("CustomerID", "Customer ID"),
    ("Country",),
)


class OnlineRetail:
    """Parses and loads Online Retail rows, an invoice at a time."""

    def __init__(self, context: ImportContext, header: Record) -> None:
        index, self.ignored_columns = header_index(KIND, header, COLUMNS, ())
        self._width = len(header.fields)
        self._invoice = index["InvoiceNo"]
        self._sku = index["StockCode"]
        self._description = index["Description"]
        self._quantity = index["Quantity"]
        self._date = index["InvoiceDate"]
        self._price = index["UnitPrice"]
        self._customer = index["CustomerID"]
        self._country = index["Country"]
        self._currency = context.currency
        self._exponent = context.exponent(context.currency)
        self._timestamps = Timestamps(context.zone)
        self._run = OrderRun()

    def parse(self, records: Iterator[Record | Reject]) -> Iterator[OrderIn | Reject]:
        """Whole invoices (their good rows) and the rejects of bad rows, in file order."""
        groups = OrderGroups()
        for record in records:
            if isinstance(record, Reject):
                yield record
                continue
            fields = record.fields
            if len(fields) != self._width:
                yield wrong_width(record, self._width)
                continue
            try:
                invoice = required(fields[self._invoice], "Invoice", 100)
            except RowError as error:
                yield reject(record, error)
                continue
            finished = groups.switch(invoice)
            if finished is not None:
                yield finished
            order = groups.current
            try:
                if order is None:
                    order = self._start(invoice, record)
                else:
                    self._check_same_invoice(order, record)
                line = self._line(record, order.kind)
            except RowError as error:
                yield reject(record, error)
                continue
            groups.current = order
            order.lines.append(line)
        finished = groups.finish()
        if finished is not None:
            yield finished

    def load(self, session: Session, items: list[OrderIn]) -> BatchOutcome:
        """Load a batch of invoices, creating customers and products they name."""
        return load_orders(session, items, self._run, create_customers=True)

    def _start(self, invoice: str, record: Record) -> OrderIn:
        fields = record.fields
        customer = fields[self._customer]
        date = fields[self._date]
        return OrderIn(
            external_id=invoice,
            customer_ref=optional(retail_customer_id(customer) or "", "CustomerID", 100),
            ordered_at=self._timestamps.retail(date, "InvoiceDate"),
            kind=OrderKind.RETURN if invoice[0] in "Cc" else OrderKind.SALE,
            status=OrderStatus.COMPLETED,
            currency=self._currency,
            country=optional(fields[self._country], "Country", 80),
            channel_id=None,
            signature=(customer, date),
        )

    def _check_same_invoice(self, order: OrderIn, record: Record) -> None:
        """A later row of an invoice must name its customer; its time must be readable
        (the invoice keeps its first row's time)."""
        customer, date = record.fields[self._customer], record.fields[self._date]
        first_customer, first_date = order.signature
        if customer != first_customer and retail_customer_id(customer) != order.customer_ref:
            raise RowError(
                SkipReason.INCONSISTENT_ORDER,
                f"CustomerID {customer.strip() or 'none'} differs from the invoice's first row "
                f"({order.customer_ref or 'none'})",
            )
        if date != first_date:
            self._timestamps.retail(date, "InvoiceDate")

    def _line(self, record: Record, kind: str) -> LineIn:
        fields = record.fields
        quantity = integer(fields[self._quantity], "Quantity")
        if quantity == 0:
            raise RowError(SkipReason.BAD_VALUE, "Quantity is 0")
        if (quantity < 0) != (kind == OrderKind.RETURN):
            raise RowError(
                SkipReason.QUANTITY_SIGN,
                f"Quantity {quantity} on a {kind} (only 'C' invoices are returns, with "
                "negative quantities)",
            )
        price = unit_price(fields[self._price], "UnitPrice")
        return LineIn(
            line_no=record.line_no,
            raw=record.raw,
            sku=required(fields[self._sku], "StockCode", 64),
            description=optional(fields[self._description], "Description", 300),
            category=None,
            quantity=quantity,
            unit_price=price,
            total_minor=to_minor(quantity * price, self._exponent),
        )
