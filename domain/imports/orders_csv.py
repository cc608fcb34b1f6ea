"""Lifecycle's own orders CSV: one row per order line, the rows of an order together."""

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
    to_minor,
    unit_price,
)
from domain.orders.models import OrderKind, OrderStatus

KIND = "orders"
REQUIRED = (
    ("order_id",),
    ("customer_id",),
    ("ordered_at",),
    ("sku",),
    ("quantity",),
    ("unit_price",),
)
OPTIONAL = ("kind", "status", "description", "category", "currency", "channel", "country")
# Fields that belong to the order, so every row of an order must repeat them unchanged.
ORDER_FIELDS = ("customer_id", "ordered_at", "kind", "status", "currency", "channel", "country")
_KINDS = {"": OrderKind.SALE, "sale": OrderKind.SALE, "return": OrderKind.RETURN}
_STATUSES = {
    "": OrderStatus.COMPLETED,
    "completed": OrderStatus.COMPLETED,
    "cancelled": OrderStatus.CANCELLED,
    "canceled": OrderStatus.CANCELLED,
}


class OrdersCsv:
    """Parses and loads the orders layout; customers must exist already."""

    def __init__(self, context: ImportContext, header: Record) -> None:
        self._index, self.ignored_columns = header_index(KIND, header, REQUIRED, OPTIONAL)
        self._width = len(header.fields)
        self._context = context
        self._timestamps = Timestamps(context.zone)
        self._run = OrderRun()

    def parse(self, records: Iterator[Record | Reject]) -> Iterator[OrderIn | Reject]:
        """Whole orders (their good rows) and the rejects of bad rows, in file order."""
        groups = OrderGroups()
        for record in records:
            if isinstance(record, Reject):
                yield record
                continue
            if len(record.fields) != self._width:
                yield wrong_width(record, self._width)
                continue
            try:
                order_id = required(self._get(record, "order_id"), "order_id", 100)
            except RowError as error:
                yield reject(record, error)
                continue
            finished = groups.switch(order_id)
            if finished is not None:
                yield finished
            signature = tuple(self._get(record, name).strip() for name in ORDER_FIELDS)
            try:
                order = groups.current or self._start(order_id, signature)
                line = self._line(record, order)
            except RowError as error:
                yield reject(record, error)
                continue
            if groups.current is None:
                groups.current = order
            elif signature != order.signature:
                column = next(
                    name
                    for name, mine, first in zip(
                        ORDER_FIELDS, signature, order.signature, strict=True
                    )
                    if mine != first
                )
                detail = f"{column} differs from the order's first row"
                yield Reject(record.line_no, SkipReason.INCONSISTENT_ORDER, detail, record.raw)
                continue
            order.lines.append(line)
        finished = groups.finish()
        if finished is not None:
            yield finished

    def load(self, session: Session, items: list[OrderIn]) -> BatchOutcome:
        """Load a batch of orders; orders of unknown customers are rejected."""
        return load_orders(session, items, self._run, create_customers=False)

    def _get(self, record: Record, name: str) -> str:
        position = self._index.get(name)
        return "" if position is None else record.fields[position]

    def _start(self, order_id: str, signature: tuple[str, ...]) -> OrderIn:
        values = dict(zip(ORDER_FIELDS, signature, strict=True))
        kind = _KINDS.get(values["kind"].lower())
        if kind is None:
            raise RowError(SkipReason.BAD_VALUE, f"kind {values['kind']!r} is not sale or return")
        status = _STATUSES.get(values["status"].lower())
        if status is None:
            raise RowError(
                SkipReason.BAD_VALUE, f"status {values['status']!r} is not completed or cancelled"
            )
        currency = values["currency"].upper() or self._context.currency
        self._context.exponent(currency)
        return OrderIn(
            external_id=order_id,
            customer_ref=optional(values["customer_id"], "customer_id", 100),
            ordered_at=self._timestamps.iso(values["ordered_at"], "ordered_at"),
            kind=kind,
            status=status,
            currency=currency,
            country=optional(values["country"], "country", 80),
            channel_id=self._context.channel_id(values["channel"], "channel")
            if values["channel"]
            else None,
            signature=signature,
        )

    def _line(self, record: Record, order: OrderIn) -> LineIn:
        quantity = integer(self._get(record, "quantity"), "quantity")
        if quantity == 0:
            raise RowError(SkipReason.BAD_VALUE, "quantity is 0")
        if (quantity < 0) != (order.kind == OrderKind.RETURN):
            raise RowError(
                SkipReason.QUANTITY_SIGN,
                f"quantity {quantity} on a {order.kind} (sales are positive, returns negative)",
            )
        price = unit_price(self._get(record, "unit_price"), "unit_price")
        return LineIn(
            line_no=record.line_no,
            raw=record.raw,
            sku=required(self._get(record, "sku"), "sku", 64),
            description=optional(self._get(record, "description"), "description", 300),
            category=optional(self._get(record, "category"), "category", 100),
            quantity=quantity,
            unit_price=price,
            total_minor=to_minor(quantity * price, self._context.exponent(order.currency)),
        )
