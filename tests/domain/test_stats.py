"""`lifecycle stats` figures: counts, guest orders, and revenue net of returns."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session

from domain.orders.models import OrderKind, OrderStatus
from domain.stats import store_stats
from tests.factories import make_customer, make_event, make_order


def test_stats_count_rows_and_net_returns_out_of_revenue(session: Session) -> None:
    buyer = make_customer(session, stage="repeat")
    make_customer(session)
    make_order(session, buyer, total_minor=10_050)
    make_order(session, buyer, total_minor=-2_525, kind=OrderKind.RETURN)
    make_order(session, buyer, total_minor=99_999, status=OrderStatus.CANCELLED)
    make_order(session, None, total_minor=1_000)
    make_event(session, buyer, "visit")
    session.commit()

    stats = store_stats(session=session, currency="GBP", exponent=2)

    assert stats.customers == 2
    assert stats.orders == 4
    assert stats.order_lines == 4
    assert stats.events == 1
    assert stats.guest_orders == 1
    assert stats.returns == 1
    assert stats.revenue == Decimal("85.25")
    assert stats.as_json()["revenue"] == "85.25"
    assert stats.stages["repeat"] == 1
    assert stats.stages["prospect"] == 1
    assert sum(stats.stages.values()) == 2
