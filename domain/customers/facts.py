"""Customer facts derived from orders and events, recomputed set-wise in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, Table, and_, case, func, inspect, or_, select, update
from sqlalchemy.sql import Subquery
from sqlmodel import Session

from domain.customers.models import Customer
from domain.events.models import Event
from domain.orders.models import Order, OrderKind, OrderStatus
from domain.stages.rules import NOT_ENGAGEMENT

CUSTOMER = cast(Table, inspect(Customer).local_table)
ORDER = cast(Table, inspect(Order).local_table)
EVENT = cast(Table, inspect(Event).local_table)
# Ids per statement; well inside SQLite's 32,766 bound parameters.
CHUNK = 5000
# Same rule as the stage machine: signing up or unsubscribing is not engagement.
engaging = EVENT.c.type.not_in(sorted(NOT_ENGAGEMENT))
FACTS = ("first_order_at", "last_order_at", "order_count", "net_revenue_minor", "last_engaged_at")


def refresh_facts(*, session: Session, customer_ids: Sequence[int] | None = None) -> int:
    """Recompute the order and engagement facts of these customers (everybody when None).

    first/last_order_at and order_count count completed sales; net_revenue_minor sums
    completed orders, so returns (negative totals) net out; last_engaged_at is the latest
    event. Only rows whose facts differ are written. Returns how many customers changed.
    """
    if customer_ids is None:
        return _write(session, _everybody(), None)
    ids = sorted(set(customer_ids))
    chunks = (ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK))
    return sum(_write(session, _some(chunk), chunk) for chunk in chunks)


def _everybody() -> Subquery:
    """Facts of all customers: one grouped pass over orders and events (hash aggregates)."""
    sale = ORDER.c.kind == OrderKind.SALE
    orders = (
        select(
            ORDER.c.customer_id,
            func.min(case((sale, ORDER.c.ordered_at))).label("first_order_at"),
            func.max(case((sale, ORDER.c.ordered_at))).label("last_order_at"),
            func.count(case((sale, 1))).label("order_count"),
            func.sum(ORDER.c.total_minor).label("net_revenue_minor"),
        )
        .where(ORDER.c.status == OrderStatus.COMPLETED, ORDER.c.customer_id.is_not(None))
        .group_by(ORDER.c.customer_id)
        .subquery("order_facts")
    )
    events = (
        select(EVENT.c.customer_id, func.max(EVENT.c.occurred_at).label("last_engaged_at"))
        .where(engaging)
        .group_by(EVENT.c.customer_id)
        .subquery("event_facts")
    )
    target = CUSTOMER.alias("target")
    # Outer joins from the customers themselves, so a customer whose orders or events are
    # gone gets empty facts instead of keeping stale ones.
    return (
        select(
            target.c.id,
            orders.c.first_order_at,
            orders.c.last_order_at,
            func.coalesce(orders.c.order_count, 0).label("order_count"),
            func.coalesce(orders.c.net_revenue_minor, 0).label("net_revenue_minor"),
            events.c.last_engaged_at,
        )
        .select_from(
            target.outerjoin(orders, orders.c.customer_id == target.c.id).outerjoin(
                events, events.c.customer_id == target.c.id
            )
        )
        .subquery("facts")
    )


def _some(ids: Sequence[int]) -> Subquery:
    """Facts of a few customers: per-customer look-ups on the (customer_id, ...) indexes."""
    target = CUSTOMER.alias("target")
    completed = and_(ORDER.c.customer_id == target.c.id, ORDER.c.status == OrderStatus.COMPLETED)
    sales = and_(completed, ORDER.c.kind == OrderKind.SALE)
    return (
        select(
            target.c.id,
            select(func.min(ORDER.c.ordered_at))
            .where(sales)
            .scalar_subquery()
            .label("first_order_at"),
            select(func.max(ORDER.c.ordered_at))
            .where(sales)
            .scalar_subquery()
            .label("last_order_at"),
            select(func.count()).where(sales).scalar_subquery().label("order_count"),
            select(func.coalesce(func.sum(ORDER.c.total_minor), 0))
            .where(completed)
            .scalar_subquery()
            .label("net_revenue_minor"),
            select(func.max(EVENT.c.occurred_at))
            .where(EVENT.c.customer_id == target.c.id, engaging)
            .scalar_subquery()
            .label("last_engaged_at"),
        )
        .where(target.c.id.in_(ids))
        .subquery("facts")
    )


def _write(session: Session, facts: Subquery, ids: Sequence[int] | None) -> int:
    statement = update(CUSTOMER)
    if ids is not None:
        # Lets the planner fetch the target rows by primary key instead of scanning them all.
        statement = statement.where(CUSTOMER.c.id.in_(ids))
    statement = (
        statement.where(CUSTOMER.c.id == facts.c.id)
        .where(or_(*(CUSTOMER.c[name].is_distinct_from(facts.c[name]) for name in FACTS)))
        .values({name: facts.c[name] for name in FACTS})
    )
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount
