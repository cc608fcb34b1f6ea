"""Time-based triggers: birthdays (29 Feb too), N days after the first order, holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from domain.stages.vocabulary import Stage
from domain.suggestions.models import Suggestion
from domain.triggers.config import Holiday, TriggersConfig
from domain.triggers.service import run_triggers
from domain.triggers.time_based import celebrated_on, next_birthday
from domain.triggers.vocabulary import TriggerType
from tests.domain.triggers.factories import make_offer
from tests.factories import channel, grant_consent, make_customer, make_staff

AS_OF = datetime(2026, 12, 1, 10, tzinfo=UTC)


def _suggestions(session: Session) -> list[Suggestion]:
    return list(session.scalars(select(Suggestion).order_by(Suggestion.id)))


def test_29_february_is_celebrated_on_28_february_in_common_years() -> None:
    born = date(2000, 2, 29)
    assert celebrated_on(born, 2027) == date(2027, 2, 28)
    assert celebrated_on(born, 2028) == date(2028, 2, 29)
    assert next_birthday(born, date(2027, 3, 1)) == date(2028, 2, 29)
    assert next_birthday(date(1990, 1, 2), date(2026, 12, 28)) == date(2027, 1, 2)


def test_birthday_within_the_week_suggests_a_treat_to_the_owner(session: Session) -> None:
    owner = make_staff(session)
    soon = make_customer(session, owner_id=owner.id, birthday=date(1990, 12, 3))
    later = make_customer(session, owner_id=owner.id, birthday=date(1990, 12, 10))
    silent = make_customer(session, owner_id=owner.id, birthday=date(1990, 12, 3))
    lost = make_customer(session, owner_id=owner.id, birthday=date(1990, 12, 3), stage=Stage.LOST)
    for customer in (soon, later, lost):
        grant_consent(session, customer, "email")
    grant_consent(session, silent, "email", granted=False)

    result = run_triggers(session=session, as_of=AS_OF, types=[TriggerType.BIRTHDAY])

    [made] = _suggestions(session)
    assert result.created == {"birthday": 1}
    assert result.suggestion_ids == [made.id]
    assert made.customer_id == soon.id
    assert made.staff_id == owner.id
    assert made.type == "birthday"
    assert made.reason == "Birthday on 3 Dec — send a birthday treat"
    assert made.dedupe_key == f"birthday:{soon.id}:2026"
    assert made.channel_id == channel(session, "email").id
    assert made.priority == 60
    assert made.created_at == AS_OF
    assert made.expires_at == datetime(2026, 12, 4, tzinfo=UTC)


def test_birthday_today_and_across_new_year(session: Session) -> None:
    today = make_customer(session, birthday=date(1985, 12, 28))
    new_year = make_customer(session, birthday=date(1985, 1, 2))
    for customer in (today, new_year):
        grant_consent(session, customer, "sms")
    as_of = datetime(2026, 12, 28, 8, tzinfo=UTC)

    run_triggers(session=session, as_of=as_of, types=[TriggerType.BIRTHDAY])

    made = {s.customer_id: s for s in _suggestions(session)}
    assert made[today.id].reason == "Birthday today (28 Dec) — send a birthday treat"
    assert made[today.id].dedupe_key == f"birthday:{today.id}:2026"
    assert made[new_year.id].reason == "Birthday on 2 Jan — send a birthday treat"
    assert made[new_year.id].dedupe_key == f"birthday:{new_year.id}:2027"
    assert made[new_year.id].channel_id == channel(session, "sms").id


def test_leap_day_birthday_fires_on_28_february_in_common_years(session: Session) -> None:
    leapling = make_customer(session, birthday=date(2000, 2, 29))
    grant_consent(session, leapling, "email")

    run_triggers(
        session=session, as_of=datetime(2027, 2, 25, tzinfo=UTC), types=[TriggerType.BIRTHDAY]
    )
    run_triggers(
        session=session, as_of=datetime(2028, 2, 25, tzinfo=UTC), types=[TriggerType.BIRTHDAY]
    )

    assert [(s.reason, s.dedupe_key) for s in _suggestions(session)] == [
        (
            "Birthday on 28 Feb (born 29 Feb) — send a birthday treat",
            f"birthday:{leapling.id}:2027",
        ),
        ("Birthday on 29 Feb — send a birthday treat", f"birthday:{leapling.id}:2028"),
    ]


def test_days_after_first_order_fires_once_within_its_grace(session: Session) -> None:
    due = make_customer(session, first_order_at=AS_OF - timedelta(days=180, hours=2))
    early = make_customer(session, first_order_at=AS_OF - timedelta(days=100))
    stale = make_customer(session, first_order_at=AS_OF - timedelta(days=200))
    for customer in (due, early, stale):
        grant_consent(session, customer, "email")

    result = run_triggers(session=session, as_of=AS_OF, types=[TriggerType.DAYS_AFTER_FIRST_ORDER])

    [made] = _suggestions(session)
    assert result.created == {"days_after_first_order": 1}
    assert made.customer_id == due.id
    assert made.reason == (
        "180 days since their first order (4 Jun 2026) — check in and suggest what to buy next"
    )
    assert made.dedupe_key == f"days_after_first_order:{due.id}:180"
    assert made.expires_at == AS_OF + timedelta(days=14)


def test_holiday_reaches_its_audience_during_the_lead_time(session: Session) -> None:
    offer = make_offer(session, code="FESTIVAL", kind="retention")
    owner = make_staff(session)
    repeat = make_customer(session, owner_id=owner.id, stage=Stage.REPEAT)
    vip = make_customer(session, owner_id=owner.id, stage=Stage.LOYAL)
    prospect = make_customer(session, owner_id=owner.id, stage=Stage.PROSPECT)
    unreachable = make_customer(session, owner_id=owner.id, stage=Stage.REPEAT)
    for customer in (repeat, vip, prospect):
        grant_consent(session, customer, "messaging")
    festival = Holiday(
        name="Singles' Day", on=date(2026, 12, 12), lead_days=14, offer_code="FESTIVAL"
    )
    later = Holiday(name="New Year", on=date(2027, 1, 1), lead_days=7)
    config = TriggersConfig(holidays=[festival, later])

    result = run_triggers(session=session, as_of=AS_OF, config=config, types=[TriggerType.HOLIDAY])

    made = {s.customer_id: s for s in _suggestions(session)}
    assert result.created == {"holiday": 2}
    assert sorted(made) == sorted([repeat.id, vip.id])
    assert unreachable.id not in made
    assert made[repeat.id].reason == "Singles' Day on 12 Dec — a good moment for a seasonal offer"
    assert made[repeat.id].dedupe_key == f"holiday:{repeat.id}:2026-12-12:singles-day"
    assert made[repeat.id].offer_id == offer.id
    assert made[repeat.id].staff_id == owner.id
    assert made[repeat.id].channel_id == channel(session, "messaging").id
    assert made[repeat.id].priority == 30
    assert made[vip.id].priority == 45
    assert made[vip.id].created_at == AS_OF
    assert made[vip.id].expires_at == datetime(2026, 12, 13, tzinfo=UTC)
