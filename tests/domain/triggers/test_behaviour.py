"""Behaviour-based triggers: abandoned carts, category interest, first orders, sleeping VIPs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from domain.events.models import EventType
from domain.reactivation.offers import ensure_default_offer
from domain.scoring.models import RunStatus
from domain.stages.vocabulary import Stage
from domain.suggestions.models import Suggestion
from domain.triggers.config import (
    AbandonedCartTrigger,
    SleepingHighValueTrigger,
    TriggersConfig,
)
from domain.triggers.service import run_triggers
from domain.triggers.vocabulary import TriggerType
from tests.domain.triggers.factories import make_score
from tests.factories import (
    grant_consent,
    make_customer,
    make_event,
    make_order,
    make_product,
    make_staff,
)

AS_OF = datetime(2026, 12, 1, 10, tzinfo=UTC)


def _by_customer(session: Session) -> dict[int, Suggestion]:
    return {s.customer_id: s for s in session.scalars(select(Suggestion))}


def test_cart_left_yesterday_without_an_order_is_followed_up(session: Session) -> None:
    formula = make_product(session, category="Infant formula")
    owner = make_staff(session)
    # 16:00 in Berlin on 30 Nov: the local day ended at 23:00 UTC without an order.
    left = make_customer(session, owner_id=owner.id, timezone="Europe/Berlin")
    grant_consent(session, left, "email")
    make_event(
        session,
        left,
        EventType.CART_ADD,
        at=datetime(2026, 11, 30, 15, tzinfo=UTC),
        properties={"sku": formula.sku},
    )
    make_event(
        session,
        left,
        EventType.CART_ADD,
        at=datetime(2026, 11, 30, 15, 5, tzinfo=UTC),
        properties={"product_id": formula.id},
    )
    today = make_customer(session, owner_id=owner.id)
    grant_consent(session, today, "email")
    make_event(session, today, EventType.CART_ADD, at=datetime(2026, 12, 1, 8, tzinfo=UTC))
    bought = make_customer(session, owner_id=owner.id)
    grant_consent(session, bought, "email")
    make_event(session, bought, EventType.CART_ADD, at=datetime(2026, 11, 30, 9, tzinfo=UTC))
    make_order(session, bought, at=datetime(2026, 11, 30, 20, tzinfo=UTC))
    stale = make_customer(session, owner_id=owner.id)
    grant_consent(session, stale, "email")
    make_event(session, stale, EventType.CART_ADD, at=AS_OF - timedelta(days=5))

    result = run_triggers(session=session, as_of=AS_OF, types=[TriggerType.ABANDONED_CART])

    made = _by_customer(session)
    assert result.created == {"abandoned_cart": 1}
    assert list(made) == [left.id]
    assert made[left.id].reason == (
        "Added 2 items (Infant formula) to the cart yesterday and didn't order"
    )
    assert made[left.id].dedupe_key == f"cart:{left.id}:2026-11-30"
    assert made[left.id].staff_id == owner.id
    assert made[left.id].priority == 80
    assert made[left.id].expires_at == AS_OF + timedelta(hours=72)


def test_cart_deadline_in_hours_fires_the_same_day(session: Session) -> None:
    customer = make_customer(session)
    grant_consent(session, customer, "email")
    make_event(
        session,
        customer,
        EventType.CART_ADD,
        at=datetime(2026, 12, 1, 7, tzinfo=UTC),
        properties={"category": "Toys", "quantity": 3},
    )
    make_event(
        session,
        customer,
        EventType.CART_ADD,
        at=datetime(2026, 12, 1, 7, 30, tzinfo=UTC),
        properties={"category": "Books"},
    )
    make_event(
        session,
        customer,
        EventType.CART_ADD,
        at=datetime(2026, 12, 1, 7, 40, tzinfo=UTC),
        properties={"category": "Games"},
    )
    config = TriggersConfig(abandoned_cart=AbandonedCartTrigger(hours=2))

    run_triggers(session=session, as_of=AS_OF, config=config, types=[TriggerType.ABANDONED_CART])

    [made] = _by_customer(session).values()
    assert made.reason == (
        "Added 5 items (Toys, Books and 1 more) to the cart today and didn't order"
    )
    assert made.dedupe_key == f"cart:{customer.id}:2026-12-01"


def test_repeated_category_views_without_purchase_suggest_a_product(session: Session) -> None:
    toys = make_product(session, category="Toys")
    curious = make_customer(session)
    browsing = make_customer(session)
    bought = make_customer(session)
    for customer in (curious, browsing, bought):
        grant_consent(session, customer, "email")
    for n in range(4):
        make_event(
            session,
            curious,
            EventType.CATEGORY_VIEW,
            at=AS_OF - timedelta(days=n),
            properties={"category": "Toys"},
        )
    for n in range(3):
        make_event(
            session,
            curious,
            EventType.CATEGORY_VIEW,
            at=AS_OF - timedelta(hours=n),
            properties={"category": "Books"},
        )
        make_event(
            session,
            bought,
            EventType.CATEGORY_VIEW,
            at=AS_OF - timedelta(hours=n),
            properties={"category": "Toys"},
        )
    for n in range(2):
        make_event(
            session,
            browsing,
            EventType.CATEGORY_VIEW,
            at=AS_OF - timedelta(hours=n),
            properties={"category": "Toys"},
        )
    make_order(session, bought, at=AS_OF - timedelta(days=2), products=[toys])

    result = run_triggers(session=session, as_of=AS_OF, types=[TriggerType.CATEGORY_INTEREST])
    again = run_triggers(
        session=session, as_of=AS_OF + timedelta(days=1), types=[TriggerType.CATEGORY_INTEREST]
    )

    made = _by_customer(session)
    assert result.created == {"category_interest": 1}
    assert again.created == {"category_interest": 0}
    assert list(made) == [curious.id]
    assert made[curious.id].reason == (
        "Viewed Toys 4 times in the last 7 days without buying from it — suggest a product from it"
    )
    assert made[curious.id].dedupe_key == f"category:{curious.id}:Toys:2026-12-01"


def test_first_order_asks_for_onboarding_once(session: Session) -> None:
    new = make_customer(session, first_order_at=AS_OF - timedelta(days=1), order_count=1)
    old = make_customer(session, first_order_at=AS_OF - timedelta(days=10), order_count=1)
    for customer in (new, old):
        grant_consent(session, customer, "email")

    result = run_triggers(session=session, as_of=AS_OF, types=[TriggerType.FIRST_ORDER])

    made = _by_customer(session)
    assert result.created == {"first_order": 1}
    assert list(made) == [new.id]
    assert made[new.id].reason == "First order yesterday — welcome them and help them get started"
    assert made[new.id].dedupe_key == f"first_order:{new.id}"


def test_sleeping_customer_in_the_top_value_share_is_flagged(session: Session) -> None:
    offer = ensure_default_offer(session=session)
    since = datetime(2026, 3, 3, tzinfo=UTC)
    for n in range(1, 9):
        make_customer(session, order_count=1, net_revenue_minor=n * 1000, stage=Stage.REPEAT)
    top = make_customer(
        session, order_count=3, net_revenue_minor=10_000, stage=Stage.SLEEPING, stage_since=since
    )
    below = make_customer(
        session, order_count=3, net_revenue_minor=9_000, stage=Stage.SLEEPING, stage_since=since
    )
    awake = make_customer(session, order_count=3, net_revenue_minor=20_000, stage=Stage.REPEAT)
    for customer in (top, below, awake):
        grant_consent(session, customer, "email")
    # Eleven buyers: the top 10% are the two highest values (20,000 and 10,000).

    result = run_triggers(session=session, as_of=AS_OF, types=[TriggerType.SLEEPING_HIGH_VALUE])

    made = _by_customer(session)
    assert result.created == {"sleeping_high_value": 1}
    assert list(made) == [top.id]
    assert made[top.id].reason == (
        "Asleep since 3 Mar 2026 after spending $100.00 — worth a personal call to win them back"
    )
    assert made[top.id].dedupe_key == f"sleeping_high_value:{top.id}:2026-03-03"
    assert made[top.id].offer_id == offer.id


def test_sleeping_value_uses_the_latest_successful_score(session: Session) -> None:
    since = datetime(2026, 5, 1, tzinfo=UTC)
    predicted = make_customer(
        session, order_count=1, net_revenue_minor=500, stage=Stage.SLEEPING, stage_since=since
    )
    failed_run = make_customer(
        session, order_count=1, net_revenue_minor=500, stage=Stage.SLEEPING, stage_since=since
    )
    for customer in (predicted, failed_run):
        grant_consent(session, customer, "email")
    make_score(session, predicted, predicted_clv_minor=10)
    make_score(session, predicted, predicted_clv_minor=80_000)
    make_score(session, failed_run, predicted_clv_minor=90_000, status=RunStatus.FAILED)
    config = TriggersConfig(
        sleeping_high_value=SleepingHighValueTrigger(top_percent=None, min_value_minor=50_000)
    )

    run_triggers(
        session=session, as_of=AS_OF, config=config, types=[TriggerType.SLEEPING_HIGH_VALUE]
    )

    made = _by_customer(session)
    assert list(made) == [predicted.id]
    assert made[predicted.id].reason == (
        "Asleep since 1 May 2026; predicted to be worth $800.00"
        " — worth a personal call to win them back"
    )
    assert made[predicted.id].offer_id is None
