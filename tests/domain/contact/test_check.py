"""check() and record_touch() against the database: consent, opt-out, caps, quiet hours, lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from domain.contact import service as contact_service
from domain.contact.config import ContactPolicyConfig
from domain.contact.errors import UnknownChannel, UnknownCustomer
from domain.contact.models import ContactLog, ContactOutcome
from domain.contact.policy import ContactDecision, ContactReason
from domain.contact.service import check, record_touch, set_consent
from domain.customers.models import Consent
from tests.factories import channel, grant_consent, make_customer, make_staff

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def sent_touch(
    session: Session,
    customer_id: int,
    at: datetime,
    kind: str = "campaign",
    channel_code: str = "email",
) -> ContactLog:
    return record_touch(
        session=session,
        customer_id=customer_id,
        channel_code=channel_code,
        kind=kind,
        outcome=ContactOutcome.SENT,
        reason="test touch",
        at=at,
    )


def test_customer_with_email_consent_may_be_emailed(session: Session) -> None:
    anna = make_customer(session, name="Anna")
    grant_consent(session, anna, "email")
    decision = check(
        session=session, customer_id=anna.id, channel_code="email", at=AT, kind="campaign"
    )
    assert decision == ContactDecision(True, ContactReason.OK, "may be contacted now")


def test_no_consent_on_the_channel_refuses(session: Session) -> None:
    anna = make_customer(session, name="Anna")
    grant_consent(session, anna, "sms")
    decision = check(
        session=session, customer_id=anna.id, channel_code="email", at=AT, kind="journey"
    )
    assert (decision.allowed, decision.reason_code, decision.reason) == (
        False,
        ContactReason.NO_CONSENT,
        "no email consent",
    )


def test_opt_out_wins_immediately_even_for_service_messages(session: Session) -> None:
    anna = make_customer(session, name="Anna")
    set_consent(
        session=session,
        customer_id=anna.id,
        channel_code="email",
        granted=True,
        source="signup",
        at=AT - timedelta(days=30),
    )
    set_consent(
        session=session,
        customer_id=anna.id,
        channel_code="email",
        granted=False,
        source="unsubscribe link",
        at=AT - timedelta(minutes=1),
    )
    decision = check(
        session=session, customer_id=anna.id, channel_code="email", at=AT, kind="service"
    )
    assert decision.reason_code is ContactReason.OPTED_OUT
    assert decision.reason == "Anna opted out of email on 2026-11-25"


def test_cap_counts_sent_marketing_touches_across_channels(session: Session) -> None:
    anna = make_customer(session, name="Anna")
    grant_consent(session, anna, "email")
    grant_consent(session, anna, "sms")
    sent_touch(session, anna.id, AT - timedelta(days=5), channel_code="sms")
    sent_touch(session, anna.id, AT - timedelta(days=2), kind="cross_sell")
    decision = check(
        session=session, customer_id=anna.id, channel_code="email", at=AT, kind="campaign"
    )
    assert decision == ContactDecision(
        False,
        ContactReason.CAPPED,
        "already contacted twice this week (cap 2 per 7 days)",
        AT + timedelta(days=2),
    )


def test_held_back_and_service_touches_do_not_count_toward_the_cap(session: Session) -> None:
    anna = make_customer(session, name="Anna")
    grant_consent(session, anna, "email")
    sent_touch(session, anna.id, AT - timedelta(days=5), kind="service")
    sent_touch(session, anna.id, AT - timedelta(days=4))
    for outcome in (ContactOutcome.DEFERRED, ContactOutcome.DROPPED, ContactOutcome.BLOCKED):
        record_touch(
            session=session,
            customer_id=anna.id,
            channel_code="email",
            kind="campaign",
            outcome=outcome,
            reason="held",
            at=AT - timedelta(days=3),
        )
    decision = check(
        session=session, customer_id=anna.id, channel_code="email", at=AT, kind="campaign"
    )
    assert decision.allowed


def test_touches_older_than_the_window_do_not_count(session: Session) -> None:
    anna = make_customer(session, name="Anna")
    grant_consent(session, anna, "email")
    sent_touch(session, anna.id, AT - timedelta(days=8))
    sent_touch(session, anna.id, AT - timedelta(days=7))
    decision = check(
        session=session, customer_id=anna.id, channel_code="email", at=AT, kind="campaign"
    )
    assert decision.allowed


def test_quiet_hours_use_the_customers_zone(session: Session) -> None:
    anna = make_customer(session, name="Anna", timezone="America/Los_Angeles")
    grant_consent(session, anna, "email")
    decision = check(
        session=session, customer_id=anna.id, channel_code="email", at=AT, kind="journey"
    )
    assert decision == ContactDecision(
        False,
        ContactReason.QUIET_HOURS,
        "it is 04:00 for Anna (America/Los_Angeles); quiet hours are 21:00–09:00",
        datetime(2026, 11, 25, 17, 0, tzinfo=UTC),
    )


def test_customer_without_zone_uses_the_configured_default(session: Session) -> None:
    anna = make_customer(session, name="Anna", timezone=None)
    grant_consent(session, anna, "email")
    config = ContactPolicyConfig(default_timezone="Asia/Tokyo")
    decision = check(
        session=session,
        customer_id=anna.id,
        channel_code="email",
        at=AT,
        kind="journey",
        config=config,
    )
    assert decision.reason_code is ContactReason.QUIET_HOURS
    assert decision.retry_at == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)


def test_lost_customer_gets_no_campaign_but_a_transactional_message(session: Session) -> None:
    bob = make_customer(session, name="Bob", stage="lost")
    grant_consent(session, bob, "email")
    campaign = check(
        session=session, customer_id=bob.id, channel_code="email", at=AT, kind="campaign"
    )
    receipt = check(
        session=session, customer_id=bob.id, channel_code="email", at=AT, kind="transactional"
    )
    assert campaign.reason_code is ContactReason.CUSTOMER_LOST
    assert receipt.allowed


def test_channel_that_is_not_contactable_is_refused(session: Session) -> None:
    anna = make_customer(session)
    decision = check(
        session=session, customer_id=anna.id, channel_code="offline_store", at=AT, kind="campaign"
    )
    assert decision.reason_code is ContactReason.CHANNEL_NOT_CONTACTABLE
    assert decision.reason == "Offline store cannot carry messages to customers"


def test_unknown_customer_and_channel_are_errors(session: Session) -> None:
    anna = make_customer(session)
    with pytest.raises(UnknownCustomer):
        check(
            session=session,
            customer_id=anna.id + 1000,
            channel_code="email",
            at=AT,
            kind="campaign",
        )
    with pytest.raises(UnknownChannel):
        check(session=session, customer_id=anna.id, channel_code="pigeon", at=AT, kind="campaign")


def test_record_touch_writes_the_log_row_with_the_kinds_default_priority(session: Session) -> None:
    anna = make_customer(session)
    staff = make_staff(session)
    row = record_touch(
        session=session,
        customer_id=anna.id,
        channel_code="sms",
        kind="journey",
        outcome="deferred",
        reason="birthday greeting deferred",
        reason_code=ContactReason.LOWER_PRIORITY,
        retry_at=AT + timedelta(hours=24),
        staff_id=staff.id,
        at=AT,
    )
    stored = session.scalars(select(ContactLog).where(ContactLog.id == row.id)).one()
    assert (
        stored.channel_id,
        stored.kind,
        stored.priority,
        stored.outcome,
        stored.reason,
        stored.reason_code,
        stored.retry_at,
        stored.staff_id,
        stored.at,
    ) == (
        channel(session, "sms").id,
        "journey",
        70,
        "deferred",
        "birthday greeting deferred",
        "lower_priority",
        AT + timedelta(hours=24),
        staff.id,
        AT,
    )


def test_set_consent_records_the_change_and_its_time(session: Session) -> None:
    anna = make_customer(session)
    first = set_consent(
        session=session,
        customer_id=anna.id,
        channel_code="email",
        granted=True,
        source="signup form",
        at=AT - timedelta(days=10),
    )
    again = set_consent(
        session=session,
        customer_id=anna.id,
        channel_code="email",
        granted=True,
        source="csv import",
        at=AT - timedelta(days=1),
    )
    opted_out = set_consent(
        session=session,
        customer_id=anna.id,
        channel_code="email",
        granted=False,
        source="unsubscribe link",
        at=AT,
    )
    session.commit()
    rows = session.scalars(select(Consent).where(Consent.customer_id == anna.id)).all()
    assert first.id == again.id == opted_out.id
    assert [(r.granted, r.source, r.updated_at) for r in rows] == [(False, "unsubscribe link", AT)]


def test_set_consent_keeps_the_date_when_nothing_changes(session: Session) -> None:
    anna = make_customer(session)
    set_consent(
        session=session,
        customer_id=anna.id,
        channel_code="sms",
        granted=True,
        source="signup form",
        at=AT - timedelta(days=10),
    )
    row = set_consent(
        session=session,
        customer_id=anna.id,
        channel_code="sms",
        granted=True,
        source="csv import",
        at=AT,
    )
    assert (row.source, row.updated_at) == ("signup form", AT - timedelta(days=10))


def test_set_consent_for_unknown_customer_is_an_error(session: Session) -> None:
    with pytest.raises(UnknownCustomer):
        set_consent(
            session=session,
            customer_id=999_999,
            channel_code="email",
            granted=True,
            source="x",
            at=AT,
        )


def test_set_consent_racing_a_first_answer_updates_the_row_that_won(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna = make_customer(session)
    grant_consent(session, anna, "email")
    session.commit()
    real = contact_service._consent
    calls: list[int] = []

    def miss_first(session: Session, customer_id: int, channel_id: int) -> Consent | None:
        calls.append(customer_id)
        return None if len(calls) == 1 else real(session, customer_id, channel_id)

    monkeypatch.setattr(contact_service, "_consent", miss_first)
    row = set_consent(
        session=session,
        customer_id=anna.id,
        channel_code="email",
        granted=False,
        source="unsubscribe link",
        at=AT,
    )
    session.commit()
    rows = session.scalars(select(Consent).where(Consent.customer_id == anna.id)).all()
    assert [(r.id, r.granted, r.updated_at) for r in rows] == [(row.id, False, AT)]
