"""The digest and alert jobs: outbox rows for staff in their language, once per day / suggestion."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from domain.db import get_engine, unit_of_work
from domain.outbox.models import OutboxMessage, OutboxStatus
from domain.settings import get_settings
from domain.staff.models import Staff
from tests.bot.factories import linked_staff, open_suggestion, referral_offer, vip_customer
from tests.e2e.telegram.harness import TelegramClient
from worker.delivery.settings import get_delivery_settings
from worker.jobs.digests import enqueue_alerts, enqueue_digests, send_digests

EIGHT = time(8, 0)
# 07:30 UTC is 08:30 in Madrid (UTC+1 in November), 02:30 in New York and 23:30 the day
# before in Los Angeles.
MORNING = datetime(2026, 11, 25, 7, 30, tzinfo=UTC)


def set_timezone(engine: Engine, staff_id: int, zone: str) -> None:
    with unit_of_work(engine) as session:
        staff = session.get(Staff, staff_id)
        assert staff is not None
        staff.timezone = zone


def outbox(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def digests(engine: Engine, now: datetime) -> dict[str, int]:
    with unit_of_work(engine) as session:
        counts = enqueue_digests(session=session, now=now, digest_time=EIGHT)
    return vars(counts)


def test_the_digest_is_queued_once_per_local_day_in_the_staff_language(engine: Engine) -> None:
    staff_id, _ = linked_staff(engine, 5001, name="Lucía", language="es")
    set_timezone(engine, staff_id, "Europe/Madrid")
    customer_id = vip_customer(engine, staff_id)
    offer_id = referral_offer(engine)
    open_suggestion(engine, customer_id, staff_id, priority=30, reason="birthday in 3 days")
    open_suggestion(
        engine, customer_id, staff_id, priority=95, reason="left 2 items", offer_id=offer_id
    )

    first = digests(engine, MORNING)
    again = digests(engine, MORNING.replace(hour=9))

    assert first == {
        "queued": 1,
        "already_queued": 0,
        "not_yet": 0,
        "too_late": 0,
        "nothing_to_say": 0,
    }
    assert again == {
        "queued": 0,
        "already_queued": 1,
        "not_yet": 0,
        "too_late": 0,
        "nothing_to_say": 0,
    }
    (message,) = outbox(engine)
    assert (message.adapter, message.recipient, message.staff_id) == ("telegram", "5001", staff_id)
    assert message.customer_id is None
    assert message.dedupe_key == f"digest:{staff_id}:2026-11-25"
    assert message.body.splitlines() == [
        "¡Buenos días, Lucía! Tus contactos de hoy (2):",
        f"1. Maria Lopez (#{customer_id}) — left 2 items",
        "   Oferta: Give 10, get 10",
        f"2. Maria Lopez (#{customer_id}) — birthday in 3 days",
        "Envía /today al bot para ver la lista con botones.",
    ]


def test_no_digest_outside_the_local_window_or_without_anything_to_say(engine: Engine) -> None:
    early_id, _ = linked_staff(engine, 5001, name="Early")
    set_timezone(engine, early_id, "America/New_York")
    open_suggestion(engine, vip_customer(engine, early_id), early_id)
    late_id, _ = linked_staff(engine, 5003, name="Late")
    set_timezone(engine, late_id, "America/Los_Angeles")
    open_suggestion(engine, vip_customer(engine, late_id, email="l@example.com"), late_id)
    idle_id, _ = linked_staff(engine, 5002, name="Idle")
    set_timezone(engine, idle_id, "Europe/Madrid")
    unlinked_id, _ = linked_staff(engine, None, name="Unlinked")
    open_suggestion(engine, vip_customer(engine, unlinked_id, email="u@example.com"), unlinked_id)

    counts = digests(engine, MORNING)

    assert counts == {
        "queued": 0,
        "already_queued": 0,
        "not_yet": 1,
        "too_late": 1,
        "nothing_to_say": 1,
    }
    assert outbox(engine) == []


def test_the_next_local_day_gets_a_new_digest(engine: Engine) -> None:
    staff_id, _ = linked_staff(engine, 5001)
    open_suggestion(engine, vip_customer(engine, staff_id), staff_id)

    digests(engine, MORNING.replace(hour=8))
    digests(engine, MORNING.replace(day=26, hour=8))

    assert [m.dedupe_key for m in outbox(engine)] == [
        f"digest:{staff_id}:2026-11-25",
        f"digest:{staff_id}:2026-11-26",
    ]


def test_an_alert_goes_to_the_suggestions_owner_once(engine: Engine) -> None:
    staff_id, _ = linked_staff(engine, 5001, language="ru")
    customer_id = vip_customer(engine, staff_id)
    suggestion_id = open_suggestion(
        engine, customer_id, staff_id, type="abandoned_cart", reason="VIP left a cart"
    )

    with unit_of_work(engine) as session:
        first = enqueue_alerts(session=session, suggestion_ids=[suggestion_id])
    with unit_of_work(engine) as session:
        enqueue_alerts(session=session, suggestion_ids=[suggestion_id])

    (message,) = outbox(engine)
    assert first == 1
    assert (message.recipient, message.staff_id, message.customer_id) == ("5001", staff_id, None)
    assert message.dedupe_key == f"alert:suggestion:{suggestion_id}"
    assert message.payload["customer_id"] == customer_id
    assert message.body.splitlines() == [
        f"🔔 Maria Lopez (#{customer_id}): VIP left a cart",
        f"Отправьте /customer {customer_id}, чтобы открыть карточку.",
    ]


@pytest.fixture
def job_environment(
    engine: Engine, telegram: TelegramClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """What a worker process reads from its environment: this database, this bot, no Redis."""
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("REDIS_URL", "")
    monkeypatch.setenv("TELEGRAM_TOKEN", telegram.token)
    monkeypatch.setenv("TELEGRAM_BASE_URL", telegram.emulator.base_url)
    monkeypatch.setenv("DIGEST_TIME", "08:00")
    caches = (get_settings, get_engine, get_delivery_settings)
    for cached in caches:
        cached.cache_clear()
    yield
    get_engine().dispose()
    for cached in caches:
        cached.cache_clear()


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
async def test_the_digest_job_delivers_through_the_bot_api(
    engine: Engine, telegram: TelegramClient, job_environment: None
) -> None:
    staff_id, _ = linked_staff(engine, 5001)
    customer_id = vip_customer(engine, staff_id)
    open_suggestion(engine, customer_id, staff_id, reason="birthday in 3 days")
    ann = telegram.user(5001, "Ann")
    await ann.send("/start")  # Telegram lets a bot write only to users who wrote to it

    counts = send_digests(as_of=MORNING.replace(hour=9))
    digest = await ann.next_reply()

    assert counts == {
        "queued": 1,
        "already_queued": 0,
        "not_yet": 0,
        "too_late": 0,
        "nothing_to_say": 0,
    }
    assert digest.text == (
        "Good morning, Ann Seller! Your contacts for today (1):\n"
        f"1. Maria Lopez (#{customer_id}) — birthday in 3 days\n"
        "Send /today to the bot for the list with buttons."
    )
    (message,) = outbox(engine)
    assert message.status == OutboxStatus.SENT
    assert message.provider_message_id == str(digest.message_id)


def test_an_alert_tells_why_in_the_staff_language(engine: Engine) -> None:
    staff_id, _ = linked_staff(engine, 5001, language="es")
    customer_id = vip_customer(engine, staff_id)
    suggestion_id = open_suggestion(
        engine,
        customer_id,
        staff_id,
        type="category_interest",
        reason="Viewed toys 3 times in the last 7 days without buying from it — ...",
        reason_key="category_interest",
        reason_args={"category": "toys", "views": 3, "within_days": 7},
    )

    with unit_of_work(engine) as session:
        enqueue_alerts(session=session, suggestion_ids=[suggestion_id])

    (message,) = outbox(engine)
    assert message.body.splitlines()[0] == (
        f"🔔 Maria Lopez (#{customer_id}): Vio toys 3 veces en los últimos 7 días sin comprar"
        " de ahí — sugiérele un producto"
    )
