"""Journey touches meeting mass campaigns: the higher goes, the other is deferred or dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from domain.contact.collisions import PlannedTouch, TouchAction, resolve_collisions
from domain.contact.models import ContactLog, ContactOutcome
from domain.contact.policy import ContactReason
from domain.contact.service import record_touch
from domain.customers.models import Customer
from tests.factories import grant_consent, make_customer

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def customer_with_email(session: Session, name: str) -> Customer:
    customer = make_customer(session, name=name)
    grant_consent(session, customer, "email")
    return customer


def festival(customer: Customer, valid_for: timedelta, channel_code: str = "email") -> PlannedTouch:
    return PlannedTouch(
        key=f"festival:{customer.id}",
        customer_id=customer.id,
        channel_code=channel_code,
        kind="campaign",
        valid_until=AT + valid_for,
    )


def birthday(customer: Customer, channel_code: str = "email") -> PlannedTouch:
    return PlannedTouch(
        key=f"birthday:{customer.id}",
        customer_id=customer.id,
        channel_code=channel_code,
        kind="journey",
        valid_until=AT + timedelta(days=1),
    )


def log_rows(
    session: Session, customer: Customer
) -> list[tuple[str, str, str, str | None, datetime | None]]:
    rows = session.scalars(
        select(ContactLog).where(ContactLog.customer_id == customer.id).order_by(ContactLog.id)
    )
    return [(r.kind, r.outcome, r.reason, r.reason_code, r.retry_at) for r in rows]


def test_birthday_goes_and_the_festival_is_deferred_to_the_next_free_slot(session: Session) -> None:
    anna = customer_with_email(session, "Anna")
    plans = resolve_collisions(
        session=session, touches=[festival(anna, timedelta(days=3)), birthday(anna)], at=AT
    )
    assert [(p.touch.key, p.action, p.send_at) for p in plans] == [
        (f"festival:{anna.id}", TouchAction.DEFER, AT + timedelta(hours=24)),
        (f"birthday:{anna.id}", TouchAction.SEND, AT),
    ]
    assert log_rows(session, anna) == [
        (
            "campaign",
            ContactOutcome.DEFERRED,
            "campaign message deferred to 2026-11-26 12:00 UTC: Anna already gets a journey "
            "message within 24 hours (priority 70, this one 30)",
            ContactReason.LOWER_PRIORITY,
            AT + timedelta(hours=24),
        )
    ]


def test_festival_without_a_later_slot_in_its_validity_is_dropped(session: Session) -> None:
    anna = customer_with_email(session, "Anna")
    plans = resolve_collisions(
        session=session, touches=[festival(anna, timedelta(hours=12)), birthday(anna)], at=AT
    )
    assert [(p.action, p.send_at) for p in plans] == [
        (TouchAction.DROP, None),
        (TouchAction.SEND, AT),
    ]
    assert log_rows(session, anna) == [
        (
            "campaign",
            ContactOutcome.DROPPED,
            "campaign message dropped, no allowed slot before it expires: Anna already gets a "
            "journey message within 24 hours (priority 70, this one 30)",
            ContactReason.LOWER_PRIORITY,
            None,
        )
    ]


def test_deferral_also_waits_for_the_cap(session: Session) -> None:
    cara = customer_with_email(session, "Cara")
    record_touch(
        session=session,
        customer_id=cara.id,
        channel_code="email",
        kind="cross_sell",
        outcome=ContactOutcome.SENT,
        reason="earlier offer",
        at=AT - timedelta(days=2),
    )
    plans = resolve_collisions(
        session=session, touches=[birthday(cara), festival(cara, timedelta(days=7))], at=AT
    )
    assert [(p.action, p.send_at, p.decision.reason_code) for p in plans] == [
        (TouchAction.SEND, AT, ContactReason.OK),
        (TouchAction.DEFER, AT + timedelta(days=5), ContactReason.CAPPED),
    ]


def test_a_touch_without_consent_is_blocked_and_the_other_goes(session: Session) -> None:
    dan = customer_with_email(session, "Dan")
    plans = resolve_collisions(
        session=session,
        touches=[birthday(dan, channel_code="sms"), festival(dan, timedelta(days=3))],
        at=AT,
    )
    assert [(p.action, p.send_at) for p in plans] == [
        (TouchAction.BLOCK, None),
        (TouchAction.SEND, AT),
    ]
    assert log_rows(session, dan) == [
        (
            "journey",
            ContactOutcome.BLOCKED,
            "journey message not sent: no SMS consent",
            "no_consent",
            None,
        )
    ]


def test_customers_are_resolved_independently(session: Session) -> None:
    anna = customer_with_email(session, "Anna")
    ben = customer_with_email(session, "Ben")
    plans = resolve_collisions(
        session=session,
        touches=[
            festival(anna, timedelta(days=3)),
            festival(ben, timedelta(days=3)),
            birthday(anna),
        ],
        at=AT,
    )
    assert [p.action for p in plans] == [TouchAction.DEFER, TouchAction.SEND, TouchAction.SEND]
    assert log_rows(session, ben) == []


def test_lost_customer_gets_no_campaign_from_the_batch(session: Session) -> None:
    lost = make_customer(session, name="Lou", stage="lost")
    grant_consent(session, lost, "email")
    plans = resolve_collisions(session=session, touches=[festival(lost, timedelta(days=3))], at=AT)
    assert (plans[0].action, plans[0].decision.reason_code) == (
        TouchAction.BLOCK,
        ContactReason.CUSTOMER_LOST,
    )
