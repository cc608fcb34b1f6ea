"""Read-only look-ups of orders: the latest of many customers at once, and their lines."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.orders.models import Order, OrderLine


def recent_orders(
    *, session: Session, customer_ids: Collection[int], per_customer: int
) -> dict[int, list[Order]]:
    """Each customer's latest orders (newest first), at most `per_customer` each."""
    rank = (
        func.row_number()
        .over(
            partition_by=col(Order.customer_id),
            order_by=(col(Order.ordered_at).desc(), col(Order.id).desc()),
        )
        .label("rank")
    )
    ranked = (
        select(col(Order.id).label("id"), rank)
        .where(col(Order.customer_id).in_(sorted(set(customer_ids))))
        .subquery()
    )
    statement = (
        select(Order)
        .join(ranked, col(Order.id) == ranked.c.id)
        .where(ranked.c.rank <= per_customer)
        .order_by(col(Order.customer_id), col(Order.ordered_at).desc(), col(Order.id).desc())
    )
    found: dict[int, list[Order]] = defaultdict(list)
    for order in session.exec(statement):
        assert order.customer_id is not None
        found[order.customer_id].append(order)
    return found


def lines_of(*, session: Session, order_ids: Collection[int]) -> dict[int, list[OrderLine]]:
    """The lines of these orders, in line order."""
    found: dict[int, list[OrderLine]] = defaultdict(list)
    statement = (
        select(OrderLine)
        .where(col(OrderLine.order_id).in_(sorted(set(order_ids))))
        .order_by(col(OrderLine.order_id), col(OrderLine.line_no))
    )
    for line in session.exec(statement):
        found[line.order_id].append(line)
    return found


def order_by_external_id(*, session: Session, external_id: str) -> Order | None:
    """The order with this external id, if stored."""
    return session.exec(select(Order).where(col(Order.external_id) == external_id)).first()
