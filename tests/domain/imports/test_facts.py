"""Refreshing customer facts set-wise from orders and events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from domain.customers import facts
from domain.customers.facts import refresh_facts
from domain.orders.models import OrderKind, OrderStatus
from tests.factories import make_customer, make_event, make_order

D1 = datetime(2024, 1, 10, 9, tzinfo=UTC)
D2 = datetime(2024, 2, 10, 9, tzinfo=UTC)
D3 = datetime(2024, 3, 10, 9, tzinfo=UTC)
D4 = datetime(2024, 4, 10, 9, tzinfo=UTC)


def test_facts_count_completed_sales_net_returns_and_take_the_latest_event(
    session: Session,
) -> None:
    ana = make_customer(session)
    make_order(session, ana, at=D2, total_minor=5000)
    make_order(session, ana, at=D1, total_minor=3000)
    make_order(session, ana, at=D3, total_minor=-1000, kind=OrderKind.RETURN)
    make_order(session, ana, at=D4, total_minor=9999, status=OrderStatus.CANCELLED)
    make_event(session, ana, "visit", at=D2)
    make_event(session, ana, "email_open", at=D3)
    session.commit()

    changed = refresh_facts(session=session, customer_ids=[ana.id])  # type: ignore[list-item]
    session.commit()
    session.refresh(ana)

    assert changed == 1
    assert (ana.first_order_at, ana.last_order_at) == (D1, D2)
    assert (ana.order_count, ana.net_revenue_minor, ana.last_engaged_at) == (2, 7000, D3)


def test_stale_facts_of_a_customer_without_orders_are_cleared(session: Session) -> None:
    bo = make_customer(session, order_count=4, net_revenue_minor=800, first_order_at=D1)
    session.commit()

    changed = refresh_facts(session=session)
    session.commit()
    session.refresh(bo)

    assert changed == 1
    assert (bo.order_count, bo.net_revenue_minor, bo.first_order_at) == (0, 0, None)


def test_only_the_given_customers_are_refreshed_and_a_second_run_changes_nothing(
    session: Session,
) -> None:
    ana = make_customer(session)
    bo = make_customer(session)
    make_order(session, ana, at=D1, total_minor=100)
    make_order(session, bo, at=D1, total_minor=200)
    session.commit()

    first = refresh_facts(session=session, customer_ids=[ana.id])  # type: ignore[list-item]
    second = refresh_facts(session=session, customer_ids=[ana.id, bo.id])  # type: ignore[list-item]
    third = refresh_facts(session=session)
    session.commit()

    assert (first, second, third) == (1, 1, 0)


def test_many_ids_are_refreshed_in_chunks(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(facts, "CHUNK", 2)
    people = [make_customer(session) for _ in range(5)]
    for n, person in enumerate(people):
        make_order(session, person, at=D1, total_minor=100 * (n + 1))
    session.commit()

    changed = refresh_facts(session=session, customer_ids=[p.id for p in people])  # type: ignore[misc]
    session.commit()

    assert changed == 5
    for n, person in enumerate(people):
        session.refresh(person)
        assert (person.order_count, person.net_revenue_minor) == (1, 100 * (n + 1))
