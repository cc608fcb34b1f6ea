"""Recording one order (or return) as it happens, and everything that follows from it.

An order is stored once per external id: a repeat returns the stored order and does
nothing more. Money is exact: prices are Decimals, each line total is converted to minor
units with half-to-even rounding, the order total is the sum of its lines. In the same
transaction the customer's facts and stage move, a referee's first paid order converts
their referral, and a first order creates the onboarding suggestion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import case, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.catalog.models import Product
from domain.channels.models import Channel
from domain.clock import as_utc
from domain.customers.models import Customer
from domain.customers.service import (
    ValidationFailed,
    check_not_future,
    resolve_customer,
)
from domain.imports.store import PRODUCT, ids_by, insert_new
from domain.imports.values import PRICE_LIMIT, PRICE_PLACES, PRICE_STEP, currency_exponent, to_minor
from domain.orders.models import Order, OrderKind, OrderLine, OrderStatus
from domain.orders.queries import order_by_external_id
from domain.referrals.conversion import on_order_paid
from domain.referrals.results import ReferralConverted
from domain.settings import get_settings
from domain.stages.config import LifecycleConfig
from domain.stages.models import StageChange
from domain.stages.service import on_order_recorded
from domain.triggers.config import TriggersConfig
from domain.triggers.service import on_first_order

MAX_LINES = 500
# Quantities are stored in a 32-bit column.
MAX_QUANTITY = 2**31 - 1


@dataclass(frozen=True)
class NewOrderLine:
    """A product line as the caller sends it: a positive quantity, a price per item."""

    sku: str
    quantity: int
    unit_price: Decimal
    description: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class RecordOrderResult:
    """The order as stored, whether this call stored it, and what followed from it."""

    order: Order
    created: bool
    stage_changes: list[StageChange]
    referral: ReferralConverted | None
    new_suggestion_ids: list[int]


@dataclass(frozen=True)
class _Line:
    sku: str
    description: str | None
    category: str | None
    quantity: int
    unit_price: Decimal
    total_minor: int


def record_order(
    *,
    session: Session,
    external_id: str,
    ordered_at: datetime,
    lines: Sequence[NewOrderLine],
    at: datetime,
    customer_id: int | None = None,
    customer_external_id: str | None = None,
    kind: str = OrderKind.SALE,
    status: str = OrderStatus.COMPLETED,
    channel: str | None = None,
    currency: str | None = None,
    country: str | None = None,
    config: LifecycleConfig | None = None,
    triggers: TriggersConfig | None = None,
) -> RecordOrderResult:
    """Store a new order of a customer (by id or external id) and apply its follow-ups.

    A return (`kind` "return") takes positive quantities and is stored negative. Bad input
    raises ValidationFailed naming the field; an unknown customer raises CustomerUnknown.
    """
    at = as_utc(at)
    key = (external_id or "").strip()
    if not key or len(key) > 100:
        raise ValidationFailed("external_id", "external_id must be 1 to 100 characters")
    order_kind = _choice(OrderKind, kind, "kind")
    order_status = _choice(OrderStatus, status, "status")
    moment = check_not_future(ordered_at, at=at, field="ordered_at")
    code = (currency or get_settings().currency).strip().upper()
    try:
        exponent = currency_exponent(code, get_settings())
    except ValueError as exc:
        raise ValidationFailed("currency", str(exc)) from None
    checked = _lines(lines, order_kind, exponent)
    channel_id = _channel_id(session, channel)
    if country is not None and len(country.strip()) > 80:
        raise ValidationFailed("country", "country is longer than 80 characters")
    customer = resolve_customer(
        session=session, customer_id=customer_id, external_id=customer_external_id
    )
    assert customer.id is not None

    existing = order_by_external_id(session=session, external_id=key)
    if existing is not None:
        return _repeat(existing, customer)
    # Locked before the insert, whose foreign-key check share-locks the customer: locked only
    # later (by the stage fast path), two orders of one customer would wait on each other.
    session.execute(
        select(col(Customer.id)).where(col(Customer.id) == customer.id).with_for_update()
    )
    product_ids = _products(session, checked)
    order = Order(
        external_id=key,
        customer_id=customer.id,
        channel_id=channel_id,
        ordered_at=moment,
        kind=order_kind,
        status=order_status,
        total_minor=sum(line.total_minor for line in checked),
        currency=code,
        country=(country or "").strip() or customer.country,
        created_at=at,
    )
    try:
        with session.begin_nested():
            session.add(order)
    except IntegrityError:
        # Stored by a concurrent call since our look-up.
        stored = order_by_external_id(session=session, external_id=key)
        if stored is None:
            raise
        return _repeat(stored, customer)
    assert order.id is not None
    session.add_all(
        OrderLine(
            order_id=order.id,
            line_no=line_no,
            product_id=product_ids[line.sku],
            sku=line.sku,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            line_total_minor=line.total_minor,
        )
        for line_no, line in enumerate(checked, start=1)
    )
    session.flush()
    return _follow_up(session, order, customer.id, at, config, triggers)


def _follow_up(
    session: Session,
    order: Order,
    customer_id: int,
    at: datetime,
    config: LifecycleConfig | None,
    triggers: TriggersConfig | None,
) -> RecordOrderResult:
    """Facts and stage, referral conversion, the first-order suggestion."""
    assert order.id is not None
    changes = on_order_recorded(
        session=session, customer_id=customer_id, at=order.ordered_at, config=config
    )
    paid = order.kind == OrderKind.SALE and order.status == OrderStatus.COMPLETED
    referral = (
        on_order_paid(session=session, customer_id=customer_id, order_id=order.id, at=at)
        if paid
        else None
    )
    new_ids: list[int] = []
    customer = session.get(Customer, customer_id)
    assert customer is not None
    if paid and customer.order_count == 1:
        new_ids = on_first_order(
            session=session, customer_id=customer_id, at=at, config=triggers
        ).suggestion_ids
    return RecordOrderResult(
        order=order,
        created=True,
        stage_changes=changes,
        referral=referral,
        new_suggestion_ids=new_ids,
    )


def _repeat(order: Order, customer: Customer) -> RecordOrderResult:
    if order.customer_id != customer.id:
        raise ValidationFailed(
            "external_id", f"order {order.external_id} is already recorded for another customer"
        )
    return RecordOrderResult(
        order=order, created=False, stage_changes=[], referral=None, new_suggestion_ids=[]
    )


def _choice(kind: Any, value: str, field: str) -> str:
    try:
        return str(kind(value))
    except ValueError:
        allowed = ", ".join(str(member) for member in kind)
        raise ValidationFailed(field, f"{field} {value!r} is not one of {allowed}") from None


def _lines(lines: Sequence[NewOrderLine], kind: str, exponent: int) -> list[_Line]:
    if not lines:
        raise ValidationFailed("lines", "an order needs at least one line")
    if len(lines) > MAX_LINES:
        raise ValidationFailed("lines", f"an order may have at most {MAX_LINES} lines")
    # A return gives money and goods back: its lines and total are negative.
    sign = -1 if kind == OrderKind.RETURN else 1
    checked = []
    for n, line in enumerate(lines):
        where = f"lines[{n}]"
        sku = line.sku.strip()
        if not sku or len(sku) > 64:
            raise ValidationFailed(f"{where}.sku", "sku must be 1 to 64 characters")
        if not 0 < line.quantity <= MAX_QUANTITY:
            raise ValidationFailed(f"{where}.quantity", "quantity must be a positive whole number")
        price = line.unit_price
        if not price.is_finite() or not 0 <= price < PRICE_LIMIT:
            raise ValidationFailed(
                f"{where}.unit_price", f"unit_price must be between 0 and {PRICE_LIMIT}"
            )
        if price != price.quantize(PRICE_STEP):
            raise ValidationFailed(
                f"{where}.unit_price", f"unit_price {price} has more than {PRICE_PLACES} decimals"
            )
        description = _optional(line.description, f"{where}.description", 300)
        category = _optional(line.category, f"{where}.category", 100)
        quantity = sign * line.quantity
        checked.append(
            _Line(
                sku=sku,
                description=description,
                category=category,
                quantity=quantity,
                unit_price=price,
                total_minor=to_minor(price * quantity, exponent),
            )
        )
    return checked


def _optional(value: str | None, field: str, max_length: int) -> str | None:
    text = (value or "").strip()
    if len(text) > max_length:
        raise ValidationFailed(field, f"{field} is longer than {max_length} characters")
    return text or None


def _channel_id(session: Session, code: str | None) -> int | None:
    text = (code or "").strip()
    if not text:
        return None
    channel_id = session.exec(select(Channel.id).where(col(Channel.code) == text)).first()
    if channel_id is None:
        raise ValidationFailed("channel", f"no channel with code {text!r}")
    return channel_id


def _products(session: Session, lines: Sequence[_Line]) -> dict[str, int]:
    """Product ids by SKU, creating the products not known yet (named after the line)."""
    wanted: dict[str, dict[str, Any]] = {}
    for line in lines:
        row = wanted.setdefault(
            line.sku, {"sku": line.sku, "name": line.sku, "category": line.category}
        )
        if line.description and row["name"] == line.sku:
            row["name"] = line.description
        row["category"] = row["category"] or line.category
    created = insert_new(session, PRODUCT, list(wanted.values()), ["sku"])
    known = ids_by(session, PRODUCT.c.sku, [sku for sku in wanted if sku not in created])
    # Known products without a category learn it from the order.
    categories = {
        sku: row["category"] for sku, row in wanted.items() if sku in known and row["category"]
    }
    if categories:
        session.execute(
            update(Product)
            .where(col(Product.sku).in_(sorted(categories)), col(Product.category).is_(None))
            .values(category=case(categories, value=col(Product.sku)))
        )
    return {**created, **known}
