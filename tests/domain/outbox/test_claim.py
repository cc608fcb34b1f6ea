"""Claiming due rows and recording results, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.db import unit_of_work
from domain.outbox.delivery import (
    DeliveryConfig,
    DeliveryFailure,
    MessageNotFound,
    NotDead,
    Outgoing,
    Receipt,
    bury_expired,
    claim_due,
    list_messages,
    mark_failed,
    mark_sent,
    release,
    retry_dead,
)
from domain.outbox.models import OutboxMessage, OutboxStatus
from tests.domain.outbox.factories import NOON, make_message

CONFIG = DeliveryConfig(
    max_attempts=3,
    lease=timedelta(minutes=5),
    backoff_base=timedelta(minutes=1),
    backoff_max=timedelta(minutes=10),
    jitter=0.0,
)
ADAPTERS = ("log", "email")


def _claim(
    engine: Engine, *, now: datetime = NOON, limit: int = 10, adapters: tuple[str, ...] = ADAPTERS
) -> list[Outgoing]:
    with unit_of_work(engine) as session:
        return claim_due(session=session, adapters=adapters, now=now, limit=limit, config=CONFIG)


def _row(session: Session, message_id: int | None) -> OutboxMessage:
    session.expire_all()
    row = session.get(OutboxMessage, message_id)
    assert row is not None
    return row


def test_claim_takes_due_rows_oldest_first_and_leases_them(
    engine: Engine, session: Session
) -> None:
    later = make_message(session, next_attempt_at=NOON - timedelta(minutes=1))
    first = make_message(session, next_attempt_at=NOON - timedelta(minutes=5))
    make_message(session, next_attempt_at=NOON + timedelta(seconds=1))  # not due yet
    make_message(session, adapter="telegram")  # no adapter for it in this run
    make_message(session, status=OutboxStatus.SENT)
    make_message(session, status=OutboxStatus.DEAD)
    make_message(session, status=OutboxStatus.CANCELLED)
    session.commit()

    claimed = _claim(engine, limit=1)
    rest = _claim(engine)

    assert [m.id for m in claimed] == [first.id]
    assert [m.id for m in rest] == [later.id]
    assert (claimed[0].attempt, claimed[0].recipient, claimed[0].dedupe_key) == (
        1,
        first.recipient,
        first.dedupe_key,
    )
    row = _row(session, first.id)
    assert (row.status, row.attempts, row.next_attempt_at) == (
        OutboxStatus.SENDING,
        1,
        NOON + CONFIG.lease,
    )


def test_a_leased_row_is_taken_again_only_after_its_lease_ran_out(
    engine: Engine, session: Session
) -> None:
    message = make_message(session)
    session.commit()
    _claim(engine)

    within_lease = _claim(engine, now=NOON + CONFIG.lease - timedelta(seconds=1))
    after_lease = _claim(engine, now=NOON + CONFIG.lease)

    assert within_lease == []
    assert [(m.id, m.attempt) for m in after_lease] == [(message.id, 2)]
    row = _row(session, message.id)
    assert row.last_error == "previous sender stopped (lease expired)"
    assert row.next_attempt_at == NOON + 2 * CONFIG.lease


def test_concurrent_claimers_never_take_the_same_row(engine: Engine, session: Session) -> None:
    ids = {make_message(session).id for _ in range(60)}
    session.commit()
    taken: list[list[int | None]] = []

    def sender() -> None:
        mine: list[int | None] = []
        while batch := _claim(engine, limit=4):
            mine.extend(m.id for m in batch)
        taken.append(mine)

    threads = [threading.Thread(target=sender) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    everything = [i for mine in taken for i in mine]
    assert len(taken) == 6
    assert sorted(everything) == sorted(ids)  # each row exactly once


def test_an_open_claim_skips_on_postgres_and_makes_sqlite_wait(
    engine: Engine, session: Session
) -> None:
    ids = [make_message(session).id for _ in range(4)]
    session.commit()
    second: list[int | None] = []
    waited: list[float] = []

    def other_sender() -> None:
        started = time.monotonic()
        second.extend(m.id for m in _claim(engine))
        waited.append(time.monotonic() - started)

    with unit_of_work(engine) as first_sender:
        first = claim_due(session=first_sender, adapters=ADAPTERS, now=NOON, limit=2, config=CONFIG)
        thread = threading.Thread(target=other_sender)
        thread.start()
        thread.join(timeout=0.5)  # long enough for PostgreSQL to answer
        first_open = thread.is_alive()
    thread.join(timeout=30)

    assert [m.id for m in first] == ids[:2]
    assert second == ids[2:]
    if engine.dialect.name == "postgresql":
        # SKIP LOCKED: the other sender took the unlocked rows without waiting.
        assert not first_open and waited[0] < 0.5
    else:
        # One writer at a time: the other sender waited for the commit, then saw the rows taken.
        assert first_open and waited[0] >= 0.5


def test_mark_sent_records_the_receipt_once(engine: Engine, session: Session) -> None:
    make_message(session)
    session.commit()
    [message] = _claim(engine)
    sent_at = NOON + timedelta(seconds=3)

    with unit_of_work(engine) as uow:
        first = mark_sent(session=uow, message=message, receipt=Receipt("m-1"), at=sent_at)
    with unit_of_work(engine) as uow:
        again = mark_sent(session=uow, message=message, receipt=Receipt("m-2"), at=NOON)

    row = _row(session, message.id)
    assert (first, again) == (True, False)
    assert (row.status, row.sent_at, row.provider_message_id, row.attempts) == (
        OutboxStatus.SENT,
        sent_at,
        "m-1",
        1,
    )


def test_failures_back_off_exponentially_then_go_dead(engine: Engine, session: Session) -> None:
    make_message(session)
    session.commit()
    now = NOON
    waits = []
    outcomes = []
    for _ in range(CONFIG.max_attempts):
        [message] = _claim(engine, now=now)
        with unit_of_work(engine) as uow:
            outcome = mark_failed(
                session=uow,
                message=message,
                failure=DeliveryFailure("smtp 451: DataError"),
                now=now,
                config=CONFIG,
                rng=random.Random(1),
            )
        outcomes.append(outcome.value)
        row = _row(session, message.id)
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at

    assert outcomes == ["retried", "retried", "dead"]
    assert waits[:2] == [timedelta(minutes=1), timedelta(minutes=2)]
    assert (row.status, row.attempts, row.last_error) == (
        OutboxStatus.DEAD,
        3,
        "smtp 451: DataError",
    )
    assert _claim(engine, now=now + timedelta(days=1)) == []


def test_a_permanent_failure_goes_dead_at_once(engine: Engine, session: Session) -> None:
    make_message(session)
    session.commit()
    [message] = _claim(engine)

    with unit_of_work(engine) as uow:
        outcome = mark_failed(
            session=uow,
            message=message,
            failure=DeliveryFailure("telegram 403: Forbidden", permanent=True),
            now=NOON,
            config=CONFIG,
            rng=random.Random(1),
        )

    row = _row(session, message.id)
    assert (outcome.value, row.status, row.attempts) == ("dead", OutboxStatus.DEAD, 1)


def test_a_sender_whose_lease_ran_out_cannot_overwrite_the_new_senders_state(
    engine: Engine, session: Session
) -> None:
    make_message(session)
    session.commit()
    [stale] = _claim(engine)
    [fresh] = _claim(engine, now=NOON + CONFIG.lease)

    with unit_of_work(engine) as uow:
        mark_failed(
            session=uow,
            message=stale,
            failure=DeliveryFailure("smtp connection failed: TimeoutError"),
            now=NOON + CONFIG.lease,
            config=CONFIG,
            rng=random.Random(1),
        )
        released = release(session=uow, message=stale, until=NOON, reason="late")

    row = _row(session, fresh.id)
    assert released is False
    assert (row.status, row.attempts, row.next_attempt_at) == (
        OutboxStatus.SENDING,
        2,
        NOON + 2 * CONFIG.lease,
    )


def test_release_gives_the_attempt_back(engine: Engine, session: Session) -> None:
    make_message(session)
    session.commit()
    [message] = _claim(engine)
    until = NOON + timedelta(seconds=30)

    with unit_of_work(engine) as uow:
        release(session=uow, message=message, until=until, reason="telegram 429: Too Many Requests")

    row = _row(session, message.id)
    assert (row.status, row.attempts, row.next_attempt_at, row.last_error) == (
        OutboxStatus.PENDING,
        0,
        until,
        "telegram 429: Too Many Requests",
    )


def test_rows_whose_senders_died_every_attempt_are_buried(engine: Engine, session: Session) -> None:
    message = make_message(session)
    session.commit()
    for attempt in range(CONFIG.max_attempts):
        _claim(engine, now=NOON + attempt * CONFIG.lease)
    after_last_lease = NOON + CONFIG.max_attempts * CONFIG.lease

    with unit_of_work(engine) as uow:
        buried = bury_expired(session=uow, adapters=ADAPTERS, now=after_last_lease, config=CONFIG)

    row = _row(session, message.id)
    assert buried == 1
    assert (row.status, row.attempts, row.last_error) == (
        OutboxStatus.DEAD,
        3,
        "no sender confirmed it in 3 attempts (lease expired)",
    )


def test_retry_dead_moves_a_dead_message_back_with_fresh_attempts(
    engine: Engine, session: Session
) -> None:
    dead = make_message(session, status=OutboxStatus.DEAD, attempts=5, last_error="smtp 550")
    sent = make_message(session, status=OutboxStatus.SENT)
    session.commit()
    assert dead.id is not None and sent.id is not None
    retry_at = NOON + timedelta(hours=2)

    with unit_of_work(engine) as uow:
        retry_dead(session=uow, message_id=dead.id, now=retry_at)
    with (
        pytest.raises(NotDead, match="is sent; only dead messages are retried"),
        unit_of_work(engine) as uow,
    ):
        retry_dead(session=uow, message_id=sent.id, now=retry_at)
    with (
        pytest.raises(MessageNotFound, match="no outbox message with id 999999"),
        unit_of_work(engine) as uow,
    ):
        retry_dead(session=uow, message_id=999999, now=retry_at)

    row = _row(session, dead.id)
    assert (row.status, row.attempts, row.next_attempt_at) == (
        OutboxStatus.PENDING,
        0,
        retry_at,
    )
    assert [m.id for m in _claim(engine, now=retry_at)] == [dead.id]


def test_list_messages_shows_newest_first_and_filters_by_status(
    engine: Engine, session: Session
) -> None:
    old_dead = make_message(session, status=OutboxStatus.DEAD)
    make_message(session, status=OutboxStatus.SENT)
    new_dead = make_message(session, status=OutboxStatus.DEAD)
    session.commit()

    with unit_of_work(engine) as uow:
        dead = [m.id for m in list_messages(session=uow, status="dead")]
        everything = list_messages(session=uow, limit=2)

    assert dead == [new_dead.id, old_dead.id]
    assert len(everything) == 2 and everything[0].id == new_dead.id
