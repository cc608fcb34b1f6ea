"""End to end: the real bot Application, polling the Telegram emulator on loopback, answering
from the real GraphQL API served by uvicorn on loopback over the test PostgreSQL database."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.app import build_application, running
from bot.settings import BotSettings
from domain.clock import utcnow
from domain.db import unit_of_work
from domain.referrals.models import Referral
from domain.stages.models import StageChange
from tests.bot.conftest import serve_api
from tests.bot.factories import linked_staff, referral_offer, vip_customer
from tests.e2e.telegram.harness import TelegramClient

pytestmark = pytest.mark.parametrize("engine", ["postgres"], indirect=True)

ANN = 5001


@pytest.fixture
def api_url(engine: Engine) -> Iterator[str]:
    """The API under uvicorn on a free loopback port."""
    with serve_api(engine) as url:
        yield url


def settings_for(telegram: TelegramClient, api_url: str, token: str) -> BotSettings:
    """What `lifecycle bot` would read from the environment, pointed at loopback."""
    return BotSettings(
        bot_api_url=api_url,
        bot_api_token=token,
        telegram_token=telegram.token,
        telegram_base_url=telegram.emulator.url,
        bot_staff_cache_seconds=0,
    )


def referrals_of(engine: Engine, customer_id: int) -> list[Referral]:
    with Session(engine) as session:
        return list(session.exec(select(Referral).where(col(Referral.referrer_id) == customer_id)))


async def test_staff_opens_a_card_reads_history_and_a_double_tap_refers_once(
    engine: Engine, telegram: TelegramClient, api_url: str, token: str
) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    customer_id = vip_customer(engine, staff_id)
    offer_id = referral_offer(engine)

    async with running(build_application(settings_for(telegram, api_url, token))):
        ann = telegram.user(ANN, "Ann")
        await ann.send(f"/customer {customer_id}")
        card = await ann.next_reply()
        history_query = await ann.press(card, f"hist:{customer_id}")
        history = await ann.next_reply()
        await ann.press(card, text="Referral offer")
        dialog = await ann.next_reply()
        send = f"refgo:{customer_id}:{offer_id}:email"
        first_tap = await ann.press(dialog, send)
        second_tap = await ann.press(dialog, send)
        sent = await ann.next_edit(dialog.message_id)
        repeated = await ann.next_edit(dialog.message_id)
        first_answer = await ann.callback_answer(first_tap)
        second_answer = await ann.callback_answer(second_tap)

    assert card.text is not None
    assert card.text.splitlines()[0] == f"👤 Maria Lopez (#{customer_id})"
    assert "Stage: Loyal / VIP since" in card.text
    assert "RFM segment: Champions" in card.text
    assert "P(alive): 92%" in card.text
    assert "Predicted CLV: $1,234.50" in card.text
    assert "Next order expected: Dec 5, 2026" in card.text
    assert "Consent: Email ✓ · SMS ✗" in card.text
    assert "Owner: Ann Seller" in card.text
    assert "  • bought 2 times in 30 days" in card.text
    labels = [[b.text for b in row] for row in card.reply_markup.inline_keyboard]  # type: ignore[union-attr]
    assert labels == [["Cross-sell", "Reactivate"], ["Referral offer", "History"]]
    assert history.text is not None and history.text.startswith("History of Maria Lopez")
    assert dialog.text is not None
    assert dialog.text.startswith("Send Maria Lopez the referral offer “Give 10, get 10”?")
    referrals = referrals_of(engine, customer_id)
    assert len(referrals) == 1
    assert sent.text is not None and sent.text.startswith("Referral offer sent by Email.")
    assert f"Code: {referrals[0].code}" in sent.text
    assert f"Link: {referrals[0].share_url}" in sent.text
    assert repeated.text is not None
    assert repeated.text.startswith("This referral offer was already sent (same button)")
    assert first_answer["text"] == "Referral offer sent"
    assert second_answer["text"] == "Referral offer sent"
    assert history_query
    assert await telegram.unanswered_callbacks() == []


async def test_a_channel_without_consent_is_refused_in_plain_words(
    engine: Engine, telegram: TelegramClient, api_url: str, token: str
) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    customer_id = vip_customer(engine, staff_id)
    offer_id = referral_offer(engine)

    async with running(build_application(settings_for(telegram, api_url, token))):
        ann = telegram.user(ANN, "Ann")
        await ann.send(f"/refer {customer_id}")
        dialog = await ann.next_reply()
        tap = await ann.press(dialog, f"refgo:{customer_id}:{offer_id}:sms")
        refused = await ann.next_edit(dialog.message_id)
        answer = await ann.callback_answer(tap)

    assert refused.text is not None
    assert refused.text.startswith("⛔ No consent: Maria Lopez opted out of SMS.")
    assert refused.reply_markup is not None  # another channel may still be tried
    assert answer["text"] == "Not sent"
    assert referrals_of(engine, customer_id) == []


async def test_an_unknown_telegram_user_gets_one_polite_refusal(
    engine: Engine, telegram: TelegramClient, api_url: str, token: str
) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    customer_id = vip_customer(engine, staff_id)

    async with running(build_application(settings_for(telegram, api_url, token))):
        mallory = telegram.user(6666, "Mallory")
        await mallory.send(f"/customer {customer_id}")
        refusal = await mallory.next_reply()
        await mallory.send("Maria")
        await mallory.send("/help")
        ann = telegram.user(ANN, "Ann")
        await ann.send("/help")  # processed after Mallory's messages: they are all handled
        await ann.next_reply()

    assert refusal.text == (
        "Sorry, this assistant is only for the sales team. If you are on the team, "
        "ask an admin for a link code and send /start CODE."
    )
    assert [m.text for m in await mallory.messages()] == [refusal.text]


async def test_the_api_being_down_gives_the_friendly_error(
    engine: Engine, telegram: TelegramClient, token: str
) -> None:
    linked_staff(engine, ANN)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    down = f"http://127.0.0.1:{closed.getsockname()[1]}/graphql"  # bound, never listening
    try:
        async with running(build_application(settings_for(telegram, down, token))):
            ann = telegram.user(ANN, "Ann", language_code="es")
            await ann.send("/customer 1")
            reply = await ann.next_reply()
    finally:
        closed.close()

    assert reply.text == "El servicio no está disponible ahora. Inténtalo de nuevo en un minuto."


async def test_commands_are_registered_per_language(
    engine: Engine, telegram: TelegramClient, api_url: str, token: str
) -> None:
    async with running(build_application(settings_for(telegram, api_url, token))):
        english = await telegram.commands()
        russian = await telegram.commands(language_code="ru")

    assert [c.command for c in english][:3] == ["today", "find", "customer"]
    assert english[0].description == "who to contact today"
    assert russian[0].description == "с кем связаться сегодня"
    assert "score" not in [c.command for c in english]


async def test_a_reply_longer_than_telegram_allows_comes_in_pages(
    engine: Engine, telegram: TelegramClient, api_url: str, token: str
) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    customer_id = vip_customer(engine, staff_id)
    with unit_of_work(engine) as session:
        for day in range(60):
            session.add(
                StageChange(
                    customer_id=customer_id,
                    from_stage="repeat" if day % 2 else "loyal",
                    to_stage="loyal" if day % 2 else "repeat",
                    reason=f"move {day:03d}: " + "spending went over or under the VIP line",
                    changed_at=utcnow() - timedelta(days=300 - day),
                )
            )

    async with running(build_application(settings_for(telegram, api_url, token))):
        ann = telegram.user(ANN, "Ann")
        await ann.send(f"/customer {customer_id}")
        card = await ann.next_reply()
        query = await ann.press(card, text="History")
        first = await ann.next_reply()
        second = await ann.next_reply()
        answer = await ann.callback_answer(query)

    assert first.text is not None and second.text is not None
    assert len(first.text) <= 4096 and len(second.text) <= 4096
    assert first.text.startswith("History of Maria Lopez")
    assert "move 000:" in first.text and "move 059:" in second.text
    assert second.text.rstrip().endswith("$100.00")
    assert answer == {"callback_query_id": query}
