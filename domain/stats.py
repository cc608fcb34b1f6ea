"""What is stored: counts and net revenue, for `lifecycle stats` and the demo."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.catalog.models import Product
from domain.customers.models import Customer
from domain.events.models import Event
from domain.orders.models import Order, OrderLine, OrderStatus
from domain.staff.models import Staff
from domain.stages.vocabulary import Stage


@dataclass(frozen=True)
class StoreStats:
    """Counts of what is stored; revenue is net of returns, in major units."""

    customers: int
    orders: int
    order_lines: int
    events: int
    products: int
    staff: int
    guest_orders: int
    returns: int
    revenue: Decimal
    currency: str
    stages: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict; revenue as a decimal string so no precision is lost."""
        data = asdict(self)
        data["revenue"] = str(self.revenue)
        return data


def _count(session: Session, column: Any, *where: Any) -> int:
    return int(session.exec(select(func.count(column)).where(*where)).one())


def store_stats(*, session: Session, currency: str, exponent: int) -> StoreStats:
    """Count customers, orders, lines, events and net revenue of completed orders."""
    revenue_minor = session.exec(
        select(func.coalesce(func.sum(Order.total_minor), 0)).where(
            Order.status == OrderStatus.COMPLETED
        )
    ).one()
    rows = session.exec(select(Customer.stage, func.count()).group_by(Customer.stage)).all()
    by_stage = {stage: count for stage, count in rows}
    stages = {str(stage): int(by_stage.get(str(stage), 0)) for stage in Stage}
    return StoreStats(
        customers=_count(session, Customer.id),
        orders=_count(session, Order.id),
        order_lines=_count(session, OrderLine.id),
        events=_count(session, Event.id),
        products=_count(session, Product.id),
        staff=_count(session, Staff.id),
        guest_orders=_count(session, Order.id, col(Order.customer_id).is_(None)),
        returns=_count(session, Order.id, Order.kind == "return"),
        revenue=Decimal(int(revenue_minor or 0)).scaleb(-exponent),
        currency=currency,
        stages=stages,
    )
