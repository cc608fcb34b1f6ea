"""The shared factories write rows both databases accept."""

from __future__ import annotations

from sqlmodel import Session

from tests.factories import days_ago, grant_consent, make_customer, make_event, make_order


def test_factories_create_a_customer_with_order_consent_and_event(session: Session) -> None:
    customer = make_customer(session)
    order = make_order(session, customer, at=days_ago(3), total_minor=1234)
    consent = grant_consent(session, customer, "email")
    event = make_event(session, customer, "email_open")
    session.commit()
    assert order.customer_id == customer.id
    assert order.ordered_at.tzinfo is not None
    assert consent.granted is True
    assert event.idempotency_key.startswith("evt-")
