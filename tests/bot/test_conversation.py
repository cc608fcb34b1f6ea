"""The conversation's flows over the real API (in-process), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.conversation import Conversation, Sender
from bot.handlers import admin
from bot.replies import Reply
from domain.clock import utcnow
from domain.contact.models import ContactLog
from domain.db import unit_of_work
from domain.scoring.models import Score, ScoringRun
from domain.scoring.reasons import stored
from domain.settings import get_settings
from domain.staff.models import StaffRole
from domain.stages.models import StageChange
from domain.suggestions.models import Suggestion
from tests.api.factories import make_offer, make_run
from tests.bot.factories import linked_staff, open_suggestion, referral_offer, vip_customer
from tests.factories import channel, days_ago, make_customer

ANN = 5001


def ann(message_id: int = 1, language: str | None = "en") -> Sender:
    return Sender(user_id=ANN, chat_id=ANN, language_code=language, message_id=message_id)


def button_data(reply: Reply) -> list[str]:
    return [button.data for row in reply.buttons for button in row]


async def test_the_card_shows_stage_scores_orders_consent_owner_and_reasons(
    engine: Engine, conversation: Conversation
) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    customer_id = vip_customer(engine, staff_id)

    reply = await conversation.command(ann(), "customer", [str(customer_id)])

    lines = reply.text.splitlines()
    assert lines[0] == f"👤 Maria Lopez (#{customer_id})"
    assert lines[1] == "maria@example.com · +15550001111"
    assert lines[2].startswith("Stage: Loyal / VIP since ")
    assert lines[3:8] == [
        "RFM segment: Champions",
        "P(alive): 92%",
        "Predicted CLV: $1,234.50",
        "Next order expected: Dec 5, 2026",
        "Orders: 2 · net revenue $250.00",
    ]
    assert lines[8] == "Last orders:"
    assert lines[9].endswith(" — $150.00") and lines[10].endswith(" — $100.00")
    assert lines[11:] == [
        "Consent: Email ✓ · SMS ✗",
        "Owner: Ann Seller",
        "Why:",
        "  • bought 2 times in 30 days",
        "  • spends twice the average",
        "  • opens every email",
    ]
    assert button_data(reply) == [
        f"xs:{customer_id}",
        f"wake:{customer_id}",
        f"ref:{customer_id}",
        f"hist:{customer_id}",
    ]


async def test_the_card_speaks_the_telegram_users_language(
    engine: Engine, conversation: Conversation
) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    customer_id = vip_customer(engine, staff_id)

    reply = await conversation.command(ann(language="es"), "customer", [str(customer_id)])

    assert "Segmento RFM: Campeones" in reply.text
    assert "CLV previsto: 1.234,50\xa0US$" in reply.text
    assert [b.label for row in reply.buttons for b in row] == [
        "Venta cruzada",
        "Reactivar",
        "Oferta de recomendación",
        "Historial",
    ]


async def test_typed_text_matching_one_customer_opens_the_card(
    engine: Engine, conversation: Conversation
) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    customer_id = vip_customer(engine, staff_id)

    reply = await conversation.text(ann(), "maria@exa")

    assert reply.text.startswith(f"👤 Maria Lopez (#{customer_id})")


async def test_ambiguous_text_offers_choices_and_never_guesses(
    engine: Engine, conversation: Conversation
) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    first = vip_customer(engine, staff_id)
    with unit_of_work(engine) as session:
        second = make_customer(session, name="Mariano Ruiz", email="mr@example.com").id

    reply = await conversation.text(ann(), "Mari")

    assert reply.text.splitlines()[0] == "Customers matching “Mari” — pick one:"
    assert button_data(reply) == [f"card:{first}", f"card:{second}"]


async def test_text_matching_nobody_says_so(engine: Engine, conversation: Conversation) -> None:
    linked_staff(engine, ANN)

    reply = await conversation.text(ann(), "Zebedee")

    assert reply.text == "No customer matches “Zebedee”."
    assert reply.buttons == ()


async def test_find_by_number_lists_that_customer_first(
    engine: Engine, conversation: Conversation
) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    customer_id = vip_customer(engine, staff_id)

    reply = await conversation.command(ann(), "find", [str(customer_id)])

    assert button_data(reply)[0] == f"card:{customer_id}"


async def test_accepting_a_suggestion_records_it_and_a_second_tap_changes_nothing(
    engine: Engine, conversation: Conversation
) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    customer_id = vip_customer(engine, staff_id)
    first = open_suggestion(engine, customer_id, staff_id, priority=90, reason="cart left")
    second = open_suggestion(engine, customer_id, staff_id, priority=40, reason="birthday")

    listing = await conversation.command(ann(), "suggestions", [])
    accepted = await conversation.press(ann(message_id=77), f"sugok:{first}:0")
    again = await conversation.press(ann(message_id=77), f"sugok:{first}:0")
    dismissed = await conversation.press(ann(message_id=77), f"sugno:{second}:0")

    assert listing.text.splitlines()[:3] == [
        "Your open suggestions:",
        "1. Maria Lopez — Birthday",
        "   cart left",
    ]
    assert button_data(listing)[:2] == [f"sugok:{first}:0", f"sugno:{first}:0"]
    assert (accepted.toast, accepted.edit) == ("Accepted — good luck!", True)
    assert accepted.text.splitlines()[:2] == ["Accepted — good luck!", "Your open suggestions:"]
    assert again.toast == "Accepted — good luck!"
    assert dismissed.text == "Dismissed.\nNo open suggestions. Well done!"
    with Session(engine) as session:
        statuses = {s: session.get(Suggestion, s).status for s in (first, second)}  # type: ignore[union-attr]
    assert statuses == {first: "accepted", second: "dismissed"}


async def test_today_ranks_my_contacts_with_why_and_what_to_offer(
    engine: Engine, conversation: Conversation
) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    customer_id = vip_customer(engine, staff_id)
    open_suggestion(engine, customer_id, staff_id, priority=30, reason="birthday in 3 days")
    open_suggestion(
        engine,
        customer_id,
        staff_id,
        type="abandoned_cart",
        priority=95,
        reason="left 2 items in the cart today",
    )

    reply = await conversation.command(ann(), "today", [])

    assert reply.text.splitlines() == [
        "To contact today (2):",
        "1. Maria Lopez — Abandoned cart",
        "   Why: left 2 items in the cart today",
        "   Suggested: remind them of the cart",
        "2. Maria Lopez — Birthday",
        "   Why: birthday in 3 days",
        "   Suggested: send birthday wishes",
    ]
    assert button_data(reply) == [f"card:{customer_id}", f"card:{customer_id}"]


async def test_today_pages_with_buttons(engine: Engine, conversation: Conversation) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    customer_id = vip_customer(engine, staff_id)
    for priority in range(50, 57):
        open_suggestion(engine, customer_id, staff_id, priority=priority, reason=f"p{priority}")

    first = await conversation.command(ann(), "today", [])
    second = await conversation.press(ann(message_id=5), "today:3")
    last = await conversation.press(ann(message_id=5), "today:6")

    assert [line for line in first.text.splitlines() if "Why" in line] == [
        "   Why: p56",
        "   Why: p55",
        "   Why: p54",
    ]
    assert button_data(first)[-1] == "today:3"
    assert second.edit and button_data(second)[-2:] == ["today:0", "today:6"]
    assert [line for line in last.text.splitlines() if "Why" in line] == ["   Why: p50"]
    assert button_data(last)[-1] == "today:3"


async def test_cross_sell_lists_next_best_products_with_timing(
    engine: Engine, conversation: Conversation
) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    customer_id = vip_customer(engine, staff_id)

    reply = await conversation.command(ann(), "crosssell", [str(customer_id)])

    assert reply.text.splitlines() == [
        "Next best products for Maria Lopez:",
        "1. Green tea (40%) — in about 20 days",
        "Next order expected: Dec 5, 2026",
    ]


async def test_admin_commands_are_refused_to_sales_staff(
    engine: Engine, conversation: Conversation
) -> None:
    linked_staff(engine, ANN, role=StaffRole.SALES)

    reply = await conversation.command(ann(), "score", [])

    assert reply.text == "This command is for admins."


async def test_help_lists_admin_commands_only_to_admins(
    engine: Engine, conversation: Conversation
) -> None:
    linked_staff(engine, ANN, role=StaffRole.ADMIN)
    linked_staff(engine, 5002, name="Bo Sales")

    admin_help = await conversation.command(ann(), "help", [])
    sales_help = await conversation.command(Sender(5002, 5002, "en", 1), "help", [])

    assert "/score — start a scoring run (admin)" in admin_help.text.splitlines()
    assert "/score" not in sales_help.text
    assert sales_help.text.splitlines()[1] == "/today — who to contact today"


async def test_a_stale_button_is_answered_gracefully(
    engine: Engine, conversation: Conversation
) -> None:
    linked_staff(engine, ANN)

    reply = await conversation.press(ann(), "offer:old-format")

    assert reply == Reply("", toast="This button is out of date.")


async def test_a_button_about_a_missing_customer_says_nothing_was_found(
    engine: Engine, conversation: Conversation
) -> None:
    linked_staff(engine, ANN)

    reply = await conversation.press(ann(), "card:999999")

    assert (reply.text, reply.toast) == ("Nothing found with that number.", "Not found")


async def test_unknown_commands_point_to_help(engine: Engine, conversation: Conversation) -> None:
    linked_staff(engine, ANN)

    reply = await conversation.command(ann(language="ru"), "fly", [])

    assert reply.text == "Я не знаю такой команды. Отправьте /help, чтобы увидеть список."


async def test_an_unknown_user_is_refused_once_then_left_alone(
    engine: Engine, conversation: Conversation, caplog: pytest.LogCaptureFixture
) -> None:
    stranger = Sender(user_id=987654321, chat_id=987654321, language_code="zh-hans", message_id=1)

    first = await conversation.command(stranger, "customer", ["1"])
    second = await conversation.text(stranger, "Maria")

    assert first.text.startswith("抱歉，此助手仅供销售团队使用。")
    assert second.text == ""
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 2
    assert all("987654321" not in line and "Maria" not in line for line in refusals)


async def test_start_with_a_link_code_links_the_telegram_account(
    engine: Engine, conversation: Conversation
) -> None:
    _, code = linked_staff(engine, None, name="Carla New")
    newcomer = Sender(user_id=7007, chat_id=7007, language_code="en", message_id=3)

    linked = await conversation.command(newcomer, "start", [code])
    hello = await conversation.command(newcomer, "start", [])
    reused = await conversation.command(
        Sender(user_id=7008, chat_id=7008, language_code="en", message_id=4), "start", [code]
    )

    assert (
        linked.text == "Welcome, Carla New! Your Telegram account is linked. Send /help to begin."
    )
    assert hello.text == "Hello, Carla New! Send /help to see what I can do."
    assert reused.text == "This code is not valid or has expired. Ask an admin for a new one."


async def test_reactivate_lists_only_my_sleeping_customers_best_first(
    engine: Engine, conversation: Conversation
) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    other_id, _ = linked_staff(engine, 5002, name="Bo Sales")
    asleep = {"stage": "sleeping", "last_order_at": days_ago(200)}
    small = vip_customer(engine, staff_id, name="Small Sleeper", email="s@example.com", **asleep)
    big = vip_customer(engine, staff_id, name="Big Sleeper", email="b@example.com", **asleep)
    vip_customer(engine, other_id, name="Not Mine", email="n@example.com", **asleep)
    with unit_of_work(engine) as session:
        for customer_id, clv in ((small, 10_000), (big, 200_000)):
            score = session.exec(select(Score).where(col(Score.customer_id) == customer_id)).one()
            score.predicted_clv_minor = clv
            score.reactivation_propensity = 0.5
        make_offer(session, name="Come back: 15% off", kind="reactivation")

    reply = await conversation.command(ann(), "reactivate", [])

    assert reply.text.splitlines() == [
        "Your best reactivation candidates:",
        "1. Big Sleeper — expected value $1,000.00",
        "   bought 2 times in 30 days",
        "   Offer: Come back: 15% off",
        "2. Small Sleeper — expected value $50.00",
        "   bought 2 times in 30 days",
        "   Offer: Come back: 15% off",
    ]
    assert button_data(reply) == [f"card:{big}", f"card:{small}"]


async def test_reactivate_pages_through_my_candidates(
    engine: Engine, conversation: Conversation
) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    other_id, _ = linked_staff(engine, 5002, name="Bo Sales")
    asleep = {"stage": "sleeping", "last_order_at": days_ago(200)}
    ids = {}
    for n, owner in enumerate([staff_id, other_id, staff_id, staff_id, staff_id], start=1):
        ids[n] = vip_customer(
            engine, owner, name=f"Sleeper {n}", email=f"s{n}@example.com", **asleep
        )
    with unit_of_work(engine) as session:
        for n, customer_id in ids.items():
            score = session.exec(select(Score).where(col(Score.customer_id) == customer_id)).one()
            score.predicted_clv_minor = 10_000 * n
            score.reactivation_propensity = 0.5

    first = await conversation.command(ann(), "reactivate", [])
    second = await conversation.press(ann(message_id=9), "react:3")
    stale = await conversation.press(ann(message_id=9), "react:30")

    assert [line for line in first.text.splitlines() if "—" in line] == [
        "1. Sleeper 5 — expected value $250.00",
        "2. Sleeper 4 — expected value $200.00",
        "3. Sleeper 3 — expected value $150.00",
    ]
    assert button_data(first)[-1] == "react:3"
    assert [line for line in second.text.splitlines() if "—" in line] == [
        "4. Sleeper 1 — expected value $50.00"
    ]
    assert button_data(second) == [f"card:{ids[1]}", "react:0"]
    assert stale.text == first.text


async def test_funnel_counts_stages_and_this_weeks_moves(
    engine: Engine, conversation: Conversation
) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    loyal = vip_customer(engine, staff_id)
    vip_customer(engine, staff_id, stage="repeat", email="r@example.com")
    with unit_of_work(engine) as session:
        session.add(
            StageChange(
                customer_id=loyal,
                from_stage="repeat",
                to_stage="loyal",
                reason="spent over the VIP line",
                changed_at=utcnow() - timedelta(minutes=5),
            )
        )

    reply = await conversation.command(ann(), "funnel", [])

    lines = reply.text.splitlines()
    assert lines[:3] == [
        "Customers per stage (2 in all):",
        "  Repeat customer: 1",
        "  Loyal / VIP: 1",
    ]
    assert lines[3].startswith("Moves since ")
    assert lines[4:] == ["  Repeat customer → Loyal / VIP: 1"]


async def test_score_queues_a_run_and_reports_back_when_it_ends(
    engine: Engine, conversation: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin, "POLL_SECONDS", 0.05)
    staff_id, _ = linked_staff(engine, ANN, role=StaffRole.ADMIN)
    vip_customer(engine, staff_id)

    queued = await conversation.command(ann(message_id=12), "score", [])
    assert queued.follow_up is not None
    ended = await asyncio.wait_for(queued.follow_up(), timeout=120)

    with Session(engine) as session:
        run = session.exec(select(ScoringRun).order_by(col(ScoringRun.id).desc())).first()
    assert run is not None
    assert queued.text == f"Scoring run #{run.id} is queued. I will tell you when it finishes."
    assert run.status == "succeeded", run.error
    assert ended.text == f"Scoring run #{run.id} finished: {run.shards_done} shards scored."


async def test_a_referral_refusal_says_why_in_plain_words(
    engine: Engine, conversation: Conversation
) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    prospect = vip_customer(engine, staff_id, stage="prospect")
    capped = vip_customer(engine, staff_id, email="capped@example.com")
    offer_id = referral_offer(engine)
    with unit_of_work(engine) as session:
        email = channel(session, "email").id
        assert email is not None
        for hours in (30, 20):
            session.add(
                ContactLog(
                    customer_id=capped,
                    channel_id=email,
                    kind="campaign",
                    outcome="sent",
                    at=utcnow() - timedelta(hours=hours),
                )
            )

    not_eligible = await conversation.press(ann(message_id=8), f"refgo:{prospect}:{offer_id}:email")
    too_often = await conversation.press(ann(message_id=9), f"refgo:{capped}:{offer_id}:email")

    assert not_eligible.text.splitlines()[0] == (
        "⛔ Not eligible: Maria Lopez is Prospect, a stage that does not get referral offers."
    )
    first_line = too_often.text.splitlines()[0]
    assert first_line.startswith(
        "⛔ Capped: Maria Lopez was contacted too often this week; try again after "
    )
    assert (not_eligible.toast, too_often.toast) == ("Not sent", "Not sent")


async def test_status_shows_the_latest_runs_their_failures_queues_and_outbox(
    engine: Engine, conversation: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    linked_staff(engine, ANN, role=StaffRole.ADMIN)
    with unit_of_work(engine) as session:
        make_run(session, shard_count=4, shards_done=4)
        make_run(session, status="failed", shard_count=4, shards_done=1, error="shard 2: timeout")

    reply = await conversation.command(ann(), "status", [])

    lines = reply.text.splitlines()
    assert lines[0] == "Latest scoring runs:"
    assert lines[1] == "  #2 Nov 1, 2026: failed 1/4 · shard 2: timeout"
    assert lines[2] == "  #1 Nov 1, 2026: succeeded 4/4"
    assert lines[3:] == [
        "Job queues:",
        "  none: jobs run in-process (no Redis)",
        "Outbox: 0 waiting, 0 sending, 0 dead",
    ]


async def test_a_spanish_reader_sees_why_in_spanish(
    engine: Engine, conversation: Conversation
) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    customer_id = vip_customer(engine, staff_id)
    with unit_of_work(engine) as session:
        score = session.exec(select(Score).where(col(Score.customer_id) == customer_id)).one()
        score.reasons = [stored("mean_interval_days", True, 42.0), stored("frequency", True, 2.0)]

    reply = await conversation.command(ann(language="es"), "customer", [str(customer_id)])

    lines = reply.text.splitlines()
    why = lines.index("Por qué:")
    assert lines[why + 1 : why + 3] == [
        "  • compra cada 6 semanas de media",
        "  • ha pedido 2 veces",
    ]


async def test_today_tells_a_russian_reader_why_in_russian(
    engine: Engine, conversation: Conversation
) -> None:
    staff_id, _ = linked_staff(engine, ANN)
    customer_id = vip_customer(engine, staff_id)
    open_suggestion(
        engine,
        customer_id,
        staff_id,
        type="days_after_first_order",
        reason="180 days since their first order (10 Jun 2026) — check in and ...",
        reason_key="days_after_first_order",
        reason_args={"days": 180, "first_order": "2026-06-10"},
    )

    reply = await conversation.command(ann(language="ru"), "today", [])

    assert (
        "   Почему: 180 дней с первого заказа (10 июн. 2026\u202fг.) — свяжитесь и предложите, "
        "что купить дальше" in reply.text.splitlines()
    )
