"""Factories for test rows: sensible defaults, keyword overrides, flushed but not committed."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from domain.catalog.models import Product
from domain.channels.models import Channel
from domain.clock import utcnow
from domain.customers.models import Consent, Customer
from domain.events.models import Event
from domain.orders.models import Order, OrderKind, OrderLine, OrderStatus
from domain.staff.models import Staff

_seq = itertools.count(1)


def channel(session: Session, code: str) -> Channel:
    """The seeded channel with this code."""
    found = session.exec(select(Channel).where(Channel.code == code)).one()
    return found


def make_staff(session: Session, **overrides: Any) -> Staff:
    """A sales person."""
    n = next(_seq)
    values: dict[str, Any] = {"name": f"Staff {n}", "email": f"staff{n}@example.com"}
    values.update(overrides)
    row = Staff(**values)
    session.add(row)
    session.flush()
    return row


def make_customer(session: Session, **overrides: Any) -> Customer:
    """A customer with a unique external id, email and phone."""
    n = next(_seq)
    values: dict[str, Any] = {
        "external_id": f"C{n:06d}",
        "name": f"Customer {n}",
        "email": f"customer{n}@example.com",
        "phone": f"+1555{n:07d}",
    }
    values.update(overrides)
    row = Customer(**values)
    session.add(row)
    session.flush()
    return row


def grant_consent(session: Session, customer: Customer, code: str, granted: bool = True) -> Consent:
    """Record the customer's consent (or refusal) for a channel."""
    assert customer.id is not None
    channel_id = channel(session, code).id
    assert channel_id is not None
    row = Consent(customer_id=customer.id, channel_id=channel_id, granted=granted)
    session.add(row)
    session.flush()
    return row


def make_product(session: Session, **overrides: Any) -> Product:
    """An active product."""
    n = next(_seq)
    values: dict[str, Any] = {
        "sku": f"SKU{n}",
        "name": f"Product {n}",
        "category": "general",
        "price_minor": 1000,
    }
    values.update(overrides)
    row = Product(**values)
    session.add(row)
    session.flush()
    return row


def make_order(
    session: Session,
    customer: Customer | None,
    *,
    at: datetime | None = None,
    total_minor: int = 5000,
    kind: str = OrderKind.SALE,
    status: str = OrderStatus.COMPLETED,
    products: list[Product] | None = None,
    **overrides: Any,
) -> Order:
    """A completed order (or return) with one line per product (or one generic line)."""
    n = next(_seq)
    values: dict[str, Any] = {
        "external_id": f"O{n:07d}",
        "customer_id": customer.id if customer else None,
        "ordered_at": at or utcnow(),
        "kind": kind,
        "status": status,
        "total_minor": total_minor,
    }
    values.update(overrides)
    order = Order(**values)
    session.add(order)
    session.flush()
    assert order.id is not None
    items = products or []
    share = total_minor // max(len(items), 1)
    for i, product in enumerate(items or [None], start=1):
        session.add(
            OrderLine(
                order_id=order.id,
                line_no=i,
                product_id=product.id if product else None,
                sku=product.sku if product else "GENERIC",
                quantity=1 if kind == OrderKind.SALE else -1,
                unit_price=Decimal(abs(share)) / 100,
                line_total_minor=share,
            )
        )
    session.flush()
    return order


def make_event(
    session: Session, customer: Customer, type: str, *, at: datetime | None = None, **overrides: Any
) -> Event:
    """A behaviour event with a unique idempotency key."""
    n = next(_seq)
    values: dict[str, Any] = {
        "customer_id": customer.id,
        "type": type,
        "occurred_at": at or utcnow(),
        "idempotency_key": f"evt-{n}",
        "properties": {},
    }
    values.update(overrides)
    row = Event(**values)
    session.add(row)
    session.flush()
    return row


def days_ago(days: float, *, now: datetime | None = None) -> datetime:
    """A UTC timestamp `days` before now."""
    return (now or utcnow()) - timedelta(days=days)


def birthday_in(days: int, *, today: date | None = None, born: int = 1990) -> date:
    """A birthday falling `days` from today (in year `born`)."""
    target = (today or utcnow().date()) + timedelta(days=days)
    return target.replace(year=born)
