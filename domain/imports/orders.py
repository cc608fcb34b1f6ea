"""Orders read from any layout, kept whole, and loaded a batch at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from domain.clock import utcnow
from domain.imports.store import (
    CUSTOMER,
    ORDER,
    ORDER_LINE,
    PRODUCT,
    IdMemo,
    chunked,
    insert_all,
    insert_new,
)
from domain.imports.summary import BatchOutcome, Reject, SkipReason
from domain.orders.models import OrderKind


@dataclass(slots=True)
class LineIn:
    """One product line of an order, as parsed from one row."""

    line_no: int
    raw: str
    sku: str
    description: str | None
    category: str | None
    quantity: int
    unit_price: Decimal
    total_minor: int


@dataclass(slots=True)
class OrderIn:
    """An order with all its lines; `signature` holds the order-level fields as first read."""

    external_id: str
    customer_ref: str | None
    ordered_at: datetime
    kind: str
    status: str
    currency: str
    country: str | None
    channel_id: int | None
    signature: tuple[str, ...] = ()
    lines: list[LineIn] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Rows of the file this order was read from."""
        return len(self.lines)

    @property
    def first_line(self) -> int:
        """Line number of its first row."""
        return self.lines[0].line_no

    @property
    def last_line(self) -> int:
        """Line number of its last row."""
        return self.lines[-1].line_no


class OrderGroups:
    """Gathers consecutive rows with the same order id into one order.

    Rows of an order must be contiguous: an id that comes back later starts a new group,
    which the loader refuses as "seen earlier in the file" (see load_orders). No ids are
    remembered here, so memory stays flat however many orders the file holds.
    """

    def __init__(self) -> None:
        self._current_id: str | None = None
        self.current: OrderIn | None = None

    def switch(self, order_id: str) -> OrderIn | None:
        """Move to the order of the next row; returns the order that row finished, if any."""
        if order_id == self._current_id:
            return None
        self._current_id = order_id
        return self.finish()

    def finish(self) -> OrderIn | None:
        """End the current order; returns it when it has lines left to load."""
        finished, self.current = self.current, None
        return finished if finished is not None and finished.lines else None


def reject_row(line: LineIn, reason: SkipReason, detail: str) -> Reject:
    """A reject for one line of an order."""
    return Reject(line.line_no, reason, detail, line.raw)


class OrderRun:
    """What an orders import keeps between batches: its start and the ids it resolved."""

    def __init__(self) -> None:
        # Orders created at or after this instant were created by this run.
        self.started_at = utcnow()
        self.customers = IdMemo(CUSTOMER.c.external_id)
        self.products = IdMemo(PRODUCT.c.sku)


def load_orders(
    session: Session, orders: Sequence[OrderIn], run: OrderRun, *, create_customers: bool
) -> BatchOutcome:
    """Insert the batch's new customers, products, orders and lines; orders stored by an
    earlier import (same external id) are left alone and their rows counted as already
    loaded, while an order id this import has already seen is refused (never merged).

    With `create_customers` unknown customer ids become new customers (keeping the
    order's country); otherwise the rows of their orders are rejected.
    """
    outcome = BatchOutcome()
    orders = _first_of_each_id(orders, outcome)
    new_customers: dict[str, dict[str, Any]] = {}
    for order in orders:
        if order.customer_ref is not None and order.customer_ref not in new_customers:
            new_customers[order.customer_ref] = {
                "external_id": order.customer_ref,
                "country": order.country,
            }
    customer_ids, created = run.customers.ids(
        session, new_customers if create_customers else None, new_customers.keys()
    )
    outcome.created["customers"] += created

    known: list[OrderIn] = []
    for order in orders:
        if order.customer_ref is None or order.customer_ref in customer_ids:
            known.append(order)
        else:
            detail = f"customer {order.customer_ref!r} does not exist (import customers first)"
            outcome.rejects.extend(
                reject_row(line, SkipReason.UNKNOWN_CUSTOMER, detail) for line in order.lines
            )
    products: dict[str, dict[str, Any]] = {}
    for order in known:
        for line in order.lines:
            product = products.get(line.sku)
            if product is None:
                products[line.sku] = {
                    "sku": line.sku,
                    "name": line.description or line.sku,
                    "category": line.category,
                }
            elif line.description and product["name"] == line.sku:
                product["name"] = line.description
    product_ids, created = run.products.ids(session, products, products.keys())
    outcome.created["products"] += created

    order_rows = [
        {
            "external_id": order.external_id,
            "customer_id": customer_ids[order.customer_ref] if order.customer_ref else None,
            "channel_id": order.channel_id,
            "ordered_at": order.ordered_at,
            "kind": order.kind,
            "status": order.status,
            "total_minor": sum(line.total_minor for line in order.lines),
            "currency": order.currency,
            "country": order.country,
        }
        for order in known
    ]
    order_ids = insert_new(session, ORDER, order_rows, ["external_id"])
    this_run = _created_since(
        session, [o.external_id for o in known if o.external_id not in order_ids], run.started_at
    )
    line_rows: list[dict[str, Any]] = []
    for order in known:
        if order.customer_ref is not None:
            outcome.customer_ids.add(customer_ids[order.customer_ref])
        order_id = order_ids.get(order.external_id)
        if order.external_id in this_run:
            _refuse_repeat(order, outcome)
            continue
        if order_id is None:
            outcome.already_loaded += order.rows
            continue
        outcome.loaded += order.rows
        outcome.created["orders"] += 1
        if order.kind == OrderKind.RETURN:
            outcome.created["returns"] += 1
            outcome.return_rows += order.rows
        if order.customer_ref is None:
            outcome.guest_rows += order.rows
        line_rows.extend(
            {
                "order_id": order_id,
                "line_no": line_no,
                "product_id": product_ids[line.sku],
                "sku": line.sku,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "line_total_minor": line.total_minor,
            }
            for line_no, line in enumerate(order.lines, start=1)
        )
    insert_all(session, ORDER_LINE, line_rows)
    outcome.created["lines"] += len(line_rows)
    return outcome


def _first_of_each_id(orders: Sequence[OrderIn], outcome: BatchOutcome) -> list[OrderIn]:
    """The batch's orders, refusing any whose id came earlier in the same batch."""
    seen: set[str] = set()
    firsts: list[OrderIn] = []
    for order in orders:
        if order.external_id in seen:
            _refuse_repeat(order, outcome)
        else:
            seen.add(order.external_id)
            firsts.append(order)
    return firsts


def _refuse_repeat(order: OrderIn, outcome: BatchOutcome) -> None:
    detail = f"order {order.external_id} appeared earlier in the file, before other orders"
    outcome.rejects.extend(
        reject_row(line, SkipReason.SEEN_EARLIER, detail) for line in order.lines
    )


def _created_since(session: Session, external_ids: Sequence[str], since: datetime) -> set[str]:
    """Which of these orders were created at or after `since` (by this import run)."""
    found: set[str] = set()
    for chunk in chunked(external_ids):
        statement = select(ORDER.c.external_id).where(
            ORDER.c.external_id.in_(chunk), ORDER.c.created_at >= since
        )
        found.update(session.scalars(statement))
    return found
