"""A delivery run end to end with scripted adapters, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from domain.contact.models import ContactLog, ContactOutcome
from domain.contact.service import set_consent
from domain.outbox.delivery import (
    DeliveryConfig,
    DeliveryCounts,
    DeliveryFailure,
    RateLimited,
    Receipt,
    deliver_all,
    deliver_due,
)
from domain.outbox.models import OutboxMessage, OutboxStatus
from tests.domain.outbox.factories import NOON, Recorder, make_message, queue_customer_email
from tests.factories import grant_consent, make_customer, make_staff

CONFIG = DeliveryConfig(max_attempts=3, backoff_base=timedelta(minutes=1), jitter=0.0)


def _run(
    engine: Engine, at: datetime = NOON, batch_size: int = 10, **adapters: Recorder
) -> DeliveryCounts:
    return deliver_due(
        engine=engine,
        adapters=adapters,
        batch_size=batch_size,
        config=CONFIG,
        clock=lambda: at,
        rng=random.Random(0),
    )


def _row(session: Session, message: OutboxMessage) -> OutboxMessage:
    session.expire_all()
    row = session.get(OutboxMessage, message.id)
    assert row is not None
    return row


def test_due_messages_are_sent_and_marked_with_the_receipt(
    engine: Engine, session: Session
) -> None:
    message = make_message(session, subject="Hello", body="Welcome back", dedupe_key="k:1")
    session.commit()
    log = Recorder(Receipt("provider-7"))

    counts = _run(engine, log=log)

    row = _row(session, message)
    assert counts == DeliveryCounts(sent=1)
    assert [(m.id, m.subject, m.body, m.dedupe_key, m.attempt) for m in log.sent] == [
        (message.id, "Hello", "Welcome back", "k:1", 1)
    ]
    assert (row.status, row.sent_at, row.provider_message_id, row.attempts) == (
        OutboxStatus.SENT,
        NOON,
        "provider-7",
        1,
    )
    assert _run(engine, at=NOON + timedelta(days=1), log=log) == DeliveryCounts()
    assert len(log.sent) == 1


def test_a_failing_message_is_retried_with_backoff_then_dead(
    engine: Engine, session: Session
) -> None:
    message = make_message(session)
    session.commit()
    refusing = Recorder(*[DeliveryFailure("smtp 550 5.1.1: recipient refused")] * 3)

    first = _run(engine, log=refusing)
    too_early = _run(engine, at=NOON + timedelta(seconds=59), log=refusing)
    second = _run(engine, at=NOON + timedelta(minutes=1), log=refusing)
    third = _run(engine, at=NOON + timedelta(minutes=3), log=refusing)

    row = _row(session, message)
    assert (first, too_early, second, third) == (
        DeliveryCounts(retried=1),
        DeliveryCounts(),
        DeliveryCounts(retried=1),
        DeliveryCounts(dead=1),
    )
    assert (row.status, row.attempts, row.last_error) == (
        OutboxStatus.DEAD,
        3,
        "smtp 550 5.1.1: recipient refused",
    )


def test_an_adapter_crash_is_retried_and_its_text_is_not_stored(
    engine: Engine, session: Session
) -> None:
    message = make_message(session, recipient="ann@example.com")
    session.commit()
    crashing = Recorder(ValueError("cannot encode ann@example.com"))

    counts = _run(engine, log=crashing)

    row = _row(session, message)
    assert counts == DeliveryCounts(retried=1)
    assert (row.status, row.last_error) == (OutboxStatus.PENDING, "log adapter error: ValueError")


def test_rate_limit_defers_the_adapters_batch_without_costing_attempts(
    engine: Engine, session: Session
) -> None:
    limited = [make_message(session, adapter="telegram") for _ in range(3)]
    other = make_message(session, adapter="log")
    session.commit()
    telegram = Recorder(RateLimited("telegram 429: Too Many Requests", retry_after=7))
    log = Recorder()

    counts = _run(engine, telegram=telegram, log=log)

    assert counts == DeliveryCounts(sent=1, deferred=3)
    assert [m.id for m in telegram.sent] == [limited[0].id]  # the rest were not even tried
    assert [m.id for m in log.sent] == [other.id]
    rows = [_row(session, m) for m in limited]
    assert {(r.status, r.attempts, r.next_attempt_at, r.last_error) for r in rows} == {
        (OutboxStatus.PENDING, 0, NOON + timedelta(seconds=7), "telegram 429: Too Many Requests")
    }
    assert _run(engine, at=NOON + timedelta(seconds=6), telegram=telegram) == DeliveryCounts()
    later = _run(engine, at=NOON + timedelta(seconds=7), telegram=telegram)
    assert later == DeliveryCounts(sent=3)


def test_messages_for_adapters_not_configured_wait_in_the_outbox(
    engine: Engine, session: Session
) -> None:
    message = make_message(session, adapter="email")
    session.commit()

    counts = _run(engine, log=Recorder())

    assert counts == DeliveryCounts()
    assert _row(session, message).status == OutboxStatus.PENDING


def test_an_opt_out_after_queueing_cancels_the_message_and_blocks_the_touch(
    engine: Engine, session: Session
) -> None:
    customer = make_customer(session, name="Ann Example")
    grant_consent(session, customer, "email")
    message = queue_customer_email(session, customer, at=NOON)
    assert customer.id is not None
    set_consent(
        session=session,
        customer_id=customer.id,
        channel_code="email",
        granted=False,
        source="unsubscribe link",
        at=NOON - timedelta(minutes=5),
    )
    session.commit()
    email = Recorder()

    counts = _run(engine, email=email)

    row = _row(session, message)
    touch = session.exec(select(ContactLog).where(ContactLog.outbox_id == message.id)).one()
    assert counts == DeliveryCounts(cancelled=1)
    assert email.sent == []
    assert (row.status, row.last_error, row.sent_at) == (
        OutboxStatus.CANCELLED,
        "not sent: opted_out",
        None,
    )
    assert (touch.outcome, touch.reason_code, touch.reason) == (
        ContactOutcome.BLOCKED,
        "opted_out",
        "not delivered: Ann Example opted out of email on 2026-11-25",
    )


def test_a_consenting_customer_gets_the_message_even_in_quiet_hours(
    engine: Engine, session: Session
) -> None:
    customer = make_customer(session)
    grant_consent(session, customer, "email")
    night = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
    message = queue_customer_email(session, customer, at=night)
    session.commit()
    email = Recorder()

    counts = _run(engine, at=night, email=email)

    assert counts == DeliveryCounts(sent=1)
    assert [m.recipient for m in email.sent] == [customer.email]
    assert _row(session, message).status == OutboxStatus.SENT


def test_a_customer_message_without_a_channel_is_cancelled(
    engine: Engine, session: Session
) -> None:
    customer = make_customer(session)
    message = make_message(session, customer_id=customer.id, adapter="log", payload={})
    session.commit()
    log = Recorder()

    counts = _run(engine, log=log)

    assert counts == DeliveryCounts(cancelled=1)
    assert (log.sent, _row(session, message).last_error) == ([], "not sent: no_channel")


def test_staff_alerts_go_to_the_staff_members_current_telegram_id(
    engine: Engine, session: Session
) -> None:
    linked = make_staff(session, telegram_user_id=424242)
    unlinked = make_staff(session)
    to_linked = make_message(session, adapter="telegram", staff_id=linked.id, recipient="")
    to_unlinked = make_message(session, adapter="telegram", staff_id=unlinked.id, recipient="")
    session.commit()
    telegram = Recorder()

    counts = _run(engine, telegram=telegram)

    assert counts == DeliveryCounts(sent=1, dead=1)
    assert [(m.id, m.recipient) for m in telegram.sent] == [(to_linked.id, "424242")]
    row = _row(session, to_unlinked)
    assert (row.status, row.attempts, row.last_error) == (
        OutboxStatus.DEAD,
        1,
        "staff member has no linked Telegram account",
    )


@pytest.mark.parametrize("batch_size", [1, 3, 10])
def test_deliver_all_drains_every_due_message_in_batches(
    engine: Engine, session: Session, batch_size: int
) -> None:
    for _ in range(7):
        make_message(session)
    session.commit()
    log = Recorder()

    counts = deliver_all(
        engine=engine, adapters={"log": log}, batch_size=batch_size, clock=lambda: NOON
    )

    assert counts == DeliveryCounts(sent=7)
    assert len({m.id for m in log.sent}) == 7


def test_alerts_to_staff_who_left_are_cancelled(engine: Engine, session: Session) -> None:
    former = make_staff(session, telegram_user_id=434343, active=False)
    message = make_message(session, adapter="telegram", staff_id=former.id, recipient="")
    session.commit()
    telegram = Recorder()

    counts = _run(engine, telegram=telegram)

    assert counts == DeliveryCounts(cancelled=1)
    assert (telegram.sent, _row(session, message).last_error) == ([], "not sent: staff_inactive")


def test_a_customer_message_for_an_unknown_channel_is_cancelled(
    engine: Engine, session: Session
) -> None:
    customer = make_customer(session)
    message = make_message(
        session, customer_id=customer.id, adapter="log", payload={"channel": "carrier_pigeon"}
    )
    session.commit()

    counts = _run(engine, log=Recorder())

    assert counts == DeliveryCounts(cancelled=1)
    assert _row(session, message).last_error == "not sent: unknown_channel"
