"""Staff alerts through the Bot API: the emulator for sendMessage, a scripted server for errors."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.outbox.delivery import DeliveryConfig, DeliveryCounts, deliver_due
from domain.outbox.models import OutboxMessage, OutboxStatus
from tests.domain.outbox.factories import NOON, make_message
from tests.e2e.telegram.harness import TelegramClient
from tests.factories import make_staff
from tests.worker.delivery.conftest import ScriptedApi, free_port
from worker.delivery.telegram import TelegramAdapter

CONFIG = DeliveryConfig(max_attempts=3, backoff_base=timedelta(minutes=1), jitter=0.0)
TOKEN = "123456:secret-token-value"


def _run(engine: Engine, adapter: TelegramAdapter, at: datetime = NOON) -> DeliveryCounts:
    return deliver_due(
        engine=engine,
        adapters={"telegram": adapter},
        config=CONFIG,
        clock=lambda: at,
        rng=random.Random(0),
    )


def _row(session: Session, message: OutboxMessage) -> OutboxMessage:
    session.expire_all()
    row = session.get(OutboxMessage, message.id)
    assert row is not None
    return row


def _alert(session: Session, telegram_user_id: int | None = 5550001) -> OutboxMessage:
    staff = make_staff(session, telegram_user_id=telegram_user_id)
    return make_message(
        session,
        adapter="telegram",
        recipient="",
        staff_id=staff.id,
        subject="Ann is waking up",
        body="She opened the reactivation offer. Call her today?",
    )


async def test_a_staff_alert_arrives_in_the_staff_members_chat(
    engine: Engine, session: Session, telegram: TelegramClient
) -> None:
    message = _alert(session, telegram_user_id=5550001)
    session.commit()
    staff_member = telegram.user(5550001, "Sam")
    await staff_member.send("/start")  # Telegram knows a private chat once the user wrote
    adapter = TelegramAdapter(base_url=telegram.emulator.url, token=telegram.token)

    counts = _run(engine, adapter)
    reply = await staff_member.next_reply()
    adapter.close()

    assert counts == DeliveryCounts(sent=1)
    assert reply.chat.id == 5550001
    assert reply.text == "Ann is waking up\n\nShe opened the reactivation offer. Call her today?"
    row = _row(session, message)
    assert (row.status, row.provider_message_id) == (OutboxStatus.SENT, str(reply.message_id))


def test_429_defers_the_alert_for_retry_after_then_it_goes_out(
    engine: Engine, session: Session, scripted_api: ScriptedApi
) -> None:
    message = _alert(session, telegram_user_id=5550002)
    session.commit()
    scripted_api.script += [
        (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 7",
                "parameters": {"retry_after": 7},
            },
        ),
        (200, {"ok": True, "result": {"message_id": 91, "chat": {"id": 5550002}}}),
    ]
    adapter = TelegramAdapter(base_url=scripted_api.url, token=TOKEN)

    limited = _run(engine, adapter)
    row = _row(session, message)
    deferred = (row.status, row.attempts, row.next_attempt_at, row.last_error)
    too_early = _run(engine, adapter, at=NOON + timedelta(seconds=6))
    after_wait = _run(engine, adapter, at=NOON + timedelta(seconds=7))
    adapter.close()

    assert (limited, too_early, after_wait) == (
        DeliveryCounts(deferred=1),
        DeliveryCounts(),
        DeliveryCounts(sent=1),
    )
    assert deferred == (
        OutboxStatus.PENDING,
        0,
        NOON + timedelta(seconds=7),
        "telegram 429: Too Many Requests: retry after 7",
    )
    assert [path for path, _ in scripted_api.requests] == [f"/bot{TOKEN}/sendMessage"] * 2
    assert scripted_api.requests[0][1]["chat_id"] == 5550002
    row = _row(session, message)
    assert (row.status, row.attempts, row.provider_message_id) == (OutboxStatus.SENT, 1, "91")


def test_a_blocked_bot_is_a_permanent_failure(
    engine: Engine, session: Session, scripted_api: ScriptedApi
) -> None:
    message = _alert(session)
    session.commit()
    scripted_api.script.append(
        (
            403,
            {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            },
        )
    )
    adapter = TelegramAdapter(base_url=scripted_api.url, token=TOKEN)

    counts = _run(engine, adapter)
    adapter.close()

    row = _row(session, message)
    assert counts == DeliveryCounts(dead=1)
    assert (row.status, row.last_error) == (
        OutboxStatus.DEAD,
        "telegram 403: Forbidden: bot was blocked by the user",
    )


def test_a_server_error_is_retried(
    engine: Engine, session: Session, scripted_api: ScriptedApi
) -> None:
    message = _alert(session)
    session.commit()
    scripted_api.script.append(
        (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
    )
    adapter = TelegramAdapter(base_url=scripted_api.url, token=TOKEN)

    counts = _run(engine, adapter)
    adapter.close()

    row = _row(session, message)
    assert counts == DeliveryCounts(retried=1)
    assert (row.status, row.last_error) == (OutboxStatus.PENDING, "telegram 502: Bad Gateway")


def test_an_unreachable_api_is_retried_and_the_token_stays_out_of_the_error(
    engine: Engine, session: Session
) -> None:
    message = _alert(session)
    session.commit()
    adapter = TelegramAdapter(base_url=f"http://127.0.0.1:{free_port()}", token=TOKEN)

    counts = _run(engine, adapter)
    adapter.close()

    row = _row(session, message)
    assert counts == DeliveryCounts(retried=1)
    assert (row.status, row.last_error) == (
        OutboxStatus.PENDING,
        "telegram transport error: ConnectError",
    )
