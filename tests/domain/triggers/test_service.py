"""Running triggers: dedupe across runs, alerts, narrowing, fast paths and config checks."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlmodel import Session

from domain.events.models import EventType
from domain.stages.vocabulary import Stage
from domain.suggestions.models import Suggestion
from domain.triggers.config import (
    AbandonedCartTrigger,
    BirthdayTrigger,
    Holiday,
    SleepingHighValueTrigger,
    TriggersConfig,
)
from domain.triggers.errors import TriggerError, UnknownOffer
from domain.triggers.service import check_cart, on_cart_added, on_first_order, run_triggers
from domain.triggers.vocabulary import TriggerType
from tests.factories import channel, grant_consent, make_customer, make_event, make_staff

AS_OF = datetime(2026, 12, 1, 10, tzinfo=UTC)
ALL_TYPES = {str(t): 0 for t in TriggerType if t is not TriggerType.HOLIDAY}


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Suggestion)) or 0


def _seed_every_trigger(session: Session) -> None:
    owner = make_staff(session)
    customers = [
        make_customer(session, owner_id=owner.id, birthday=date(1990, 12, 2)),
        make_customer(session, owner_id=owner.id, first_order_at=AS_OF - timedelta(days=181)),
        make_customer(session, owner_id=owner.id, first_order_at=AS_OF - timedelta(hours=5)),
        make_customer(
            session,
            owner_id=owner.id,
            stage=Stage.SLEEPING,
            order_count=2,
            net_revenue_minor=90_000,
        ),
    ]
    carter = make_customer(session, owner_id=owner.id, stage=Stage.REPEAT)
    make_event(session, carter, EventType.CART_ADD, at=AS_OF - timedelta(days=1))
    for n in range(3):
        make_event(
            session,
            carter,
            EventType.CATEGORY_VIEW,
            at=AS_OF - timedelta(hours=n),
            properties={"category": "Toys"},
        )
    for customer in [*customers, carter]:
        grant_consent(session, customer, "email")


def test_running_twice_creates_nothing_new(session: Session) -> None:
    _seed_every_trigger(session)
    config = TriggersConfig(holidays=[Holiday(name="Sale", on=date(2026, 12, 3))])

    first = run_triggers(session=session, as_of=AS_OF, config=config)
    second = run_triggers(session=session, as_of=AS_OF + timedelta(hours=1), config=config)

    assert first.created == {
        "birthday": 1,
        "days_after_first_order": 1,
        "holiday": 1,
        "abandoned_cart": 1,
        "category_interest": 1,
        "first_order": 1,
        "sleeping_high_value": 1,
    }
    assert second.created == {**ALL_TYPES, "holiday": 0}
    assert second.suggestion_ids == []
    assert _count(session) == 7
    assert sorted(first.suggestion_ids) == sorted(session.scalars(select(Suggestion.id)))


def test_a_vips_abandoned_cart_is_alert_worthy(session: Session) -> None:
    vip = make_customer(session, stage=Stage.LOYAL)
    regular = make_customer(session, stage=Stage.REPEAT)
    for customer in (vip, regular):
        grant_consent(session, customer, "email")
        make_event(session, customer, EventType.CART_ADD, at=AS_OF - timedelta(days=1))

    result = run_triggers(session=session, as_of=AS_OF, types=[TriggerType.ABANDONED_CART])

    priorities = dict(session.execute(select(Suggestion.customer_id, Suggestion.priority)).all())
    [alert] = result.alert_ids
    assert priorities == {vip.id: 95, regular.id: 80}
    assert session.get(Suggestion, alert).customer_id == vip.id


def test_customer_without_owner_gets_an_unassigned_suggestion(session: Session) -> None:
    orphan = make_customer(session, birthday=date(1990, 12, 2))
    grant_consent(session, orphan, "email")

    run_triggers(session=session, as_of=AS_OF, types=[TriggerType.BIRTHDAY])

    [made] = session.scalars(select(Suggestion))
    assert (made.customer_id, made.staff_id) == (orphan.id, None)


def test_channel_follows_the_configured_preference(session: Session) -> None:
    both = make_customer(session, birthday=date(1990, 12, 2))
    grant_consent(session, both, "email")
    grant_consent(session, both, "sms")
    config = TriggersConfig(channels=["sms", "email"])

    run_triggers(session=session, as_of=AS_OF, config=config, types=[TriggerType.BIRTHDAY])

    [made] = session.scalars(select(Suggestion))
    assert made.channel_id == channel(session, "sms").id


def test_customer_ids_narrow_every_trigger(session: Session) -> None:
    picked = make_customer(session, birthday=date(1990, 12, 2))
    other = make_customer(session, birthday=date(1990, 12, 2))
    for customer in (picked, other):
        grant_consent(session, customer, "email")

    result = run_triggers(session=session, as_of=AS_OF, customer_ids=[picked.id])

    [made] = session.scalars(select(Suggestion))
    assert made.customer_id == picked.id
    assert result.created["birthday"] == 1


def test_disabled_trigger_does_not_run(session: Session) -> None:
    customer = make_customer(session, birthday=date(1990, 12, 2))
    grant_consent(session, customer, "email")
    config = TriggersConfig(birthday=BirthdayTrigger(enabled=False))

    result = run_triggers(session=session, as_of=AS_OF, config=config)

    assert "birthday" not in result.created
    assert _count(session) == 0


def test_unknown_offer_code_in_config_is_an_error(session: Session) -> None:
    config = TriggersConfig(birthday=BirthdayTrigger(offer_code="NOPE"))

    with pytest.raises(UnknownOffer, match="'NOPE'"):
        run_triggers(session=session, as_of=AS_OF, config=config, types=[TriggerType.BIRTHDAY])


def test_first_order_fast_path_creates_the_onboarding_suggestion(session: Session) -> None:
    customer = make_customer(session, first_order_at=AS_OF, order_count=1)
    grant_consent(session, customer, "email")

    result = on_first_order(session=session, customer_id=customer.id, at=AS_OF)
    again = on_first_order(session=session, customer_id=customer.id, at=AS_OF)

    [made] = session.scalars(select(Suggestion))
    assert result.suggestion_ids == [made.id]
    assert again.suggestion_ids == []
    assert made.reason == "First order today — welcome them and help them get started"


def test_cart_fast_path_says_when_to_check_and_check_creates_it(session: Session) -> None:
    customer = make_customer(session, timezone="America/New_York")
    grant_consent(session, customer, "email")
    added = datetime(2026, 12, 1, 15, tzinfo=UTC)
    make_event(session, customer, EventType.CART_ADD, at=added)

    due = on_cart_added(session=session, customer_id=customer.id, at=added)
    in_hours = on_cart_added(
        session=session,
        customer_id=customer.id,
        at=added,
        config=TriggersConfig(abandoned_cart=AbandonedCartTrigger(hours=4)),
    )
    early = check_cart(session=session, customer_id=customer.id, as_of=due - timedelta(minutes=1))
    on_time = check_cart(session=session, customer_id=customer.id, as_of=due)

    assert due == datetime(2026, 12, 2, 5, tzinfo=UTC)
    assert in_hours == datetime(2026, 12, 1, 19, tzinfo=UTC)
    assert early.suggestion_ids == []
    assert on_time.created == {"abandoned_cart": 1}
    [made] = session.scalars(select(Suggestion))
    assert made.reason == "Added 1 item to the cart yesterday and didn't order"


def test_cart_fast_path_for_an_unknown_customer_is_an_error(session: Session) -> None:
    with pytest.raises(TriggerError, match="customer 999 does not exist"):
        on_cart_added(session=session, customer_id=999, at=AS_OF)


def test_config_rejects_unknown_keys_and_needs_a_value_threshold() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        TriggersConfig.model_validate({"birthday": {"days_ahaed": 3}})
    with pytest.raises(ValidationError, match="top_percent, min_value_minor or both"):
        SleepingHighValueTrigger(top_percent=None, min_value_minor=None)


def test_config_defaults_match_the_documented_ones() -> None:
    config = TriggersConfig()
    assert config.birthday.days_ahead == 7
    assert config.days_after_first_order.days == 180
    assert config.abandoned_cart.hours is None
    assert config.holidays == []
    assert config.category_interest.min_views == 3
    assert config.sleeping_high_value.top_percent == 10.0


def test_config_section_reads_from_toml() -> None:
    section = tomllib.loads(
        """
        channels = ["email"]
        [birthday]
        days_ahead = 3
        [[holidays]]
        name = "Singles' Day"
        on = 2026-11-11
        stages = ["repeat", "loyal"]
        """
    )

    config = TriggersConfig.model_validate(section)

    assert config.birthday.days_ahead == 3
    assert config.holidays == [
        Holiday(name="Singles' Day", on=date(2026, 11, 11), stages=[Stage.REPEAT, Stage.LOYAL])
    ]
    with pytest.raises(ValidationError, match="valid integer"):
        TriggersConfig.model_validate({"birthday": {"days_ahead": "3"}})
