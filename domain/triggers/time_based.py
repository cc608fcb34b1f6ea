"""Time-based triggers: birthdays, N days after the first order, dated holidays."""

from __future__ import annotations

import re
from calendar import isleap
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import String, case, cast, exists, extract, literal, null, select
from sqlmodel import col

from domain.columns import IdType, JsonType, UTCDateTime
from domain.customers.models import Customer
from domain.stages.vocabulary import Stage
from domain.suggestions.models import Suggestion, SuggestionStatus
from domain.triggers.config import Holiday
from domain.triggers.context import TriggerContext
from domain.triggers.vocabulary import TriggerType
from domain.triggers.wording import clip, day_month, day_month_year, relative_day
from domain.triggers.writer import Written, insert_from_select, insert_rows

FEB_29 = 229


def start_of_day_after(day: date) -> datetime:
    """Midnight UTC after `day`: when a suggestion about that day stops being useful."""
    return datetime.combine(day + timedelta(days=1), time(), UTC)


def celebrated_on(born: date, year: int) -> date:
    """The day a birthday is celebrated in `year`; 29 Feb falls on 28 Feb in common years."""
    if (born.month, born.day) == (2, 29) and not isleap(year):
        return date(year, 2, 28)
    return born.replace(year=year)


def next_birthday(born: date, today: date) -> date:
    """The first day, today or later, on which the birthday is celebrated."""
    this_year = celebrated_on(born, today.year)
    return this_year if this_year >= today else celebrated_on(born, today.year + 1)


def birthday(ctx: TriggerContext) -> list[Written]:
    """Suggest a birthday treat for birthdays within the configured days ahead."""
    cfg = ctx.config.birthday
    today = ctx.as_of.date()
    days = [today + timedelta(days=n) for n in range(cfg.days_ahead + 1)]
    month_days = {d.month * 100 + d.day for d in days}
    if any((d.month, d.day) == (2, 28) and not isleap(d.year) for d in days):
        month_days.add(FEB_29)
    month_day = extract("month", col(Customer.birthday)) * 100 + extract(
        "day", col(Customer.birthday)
    )
    query = ctx.candidates(col(Customer.birthday).label("birthday")).where(
        col(Customer.birthday).is_not(None), month_day.in_(sorted(month_days))
    )
    offer_id = ctx.offer_id(cfg.offer_code)
    rows = []
    for candidate in ctx.rows(query):
        born: date = candidate["birthday"]
        day = next_birthday(born, today)
        ahead = (day - today).days
        if ahead > cfg.days_ahead:
            continue
        when = (
            f"on {day_month(day)}"
            if ahead > 1
            else f"{relative_day(day, today)} ({day_month(day)})"
        )
        leapling = " (born 29 Feb)" if (born.month, born.day) != (day.month, day.day) else ""
        rows.append(
            ctx.row(
                candidate,
                type=TriggerType.BIRTHDAY,
                reason=f"Birthday {when}{leapling} — send a birthday treat",
                reason_args={
                    "day": day.isoformat(),
                    "leapling": bool(leapling),
                    "zone": "UTC",  # birthdays are counted in UTC days (as_of.date())
                },
                dedupe_key=f"birthday:{candidate['customer_id']}:{day.year}",
                base_priority=cfg.priority,
                offer_id=offer_id,
                expires_at=start_of_day_after(day),
            )
        )
    return insert_rows(session=ctx.session, rows=rows)


def days_after_first_order(ctx: TriggerContext) -> list[Written]:
    """Check in with customers whose first order was the configured number of days ago."""
    cfg = ctx.config.days_after_first_order
    mark = ctx.as_of - timedelta(days=cfg.days)
    query = ctx.candidates(col(Customer.first_order_at).label("first_order_at")).where(
        col(Customer.first_order_at) > mark - timedelta(days=cfg.grace_days),
        col(Customer.first_order_at) <= mark,
    )
    offer_id = ctx.offer_id(cfg.offer_code)
    rows = [
        ctx.row(
            candidate,
            type=TriggerType.DAYS_AFTER_FIRST_ORDER,
            reason=(
                f"{cfg.days} days since their first order "
                f"({day_month_year(candidate['first_order_at'].date())})"
                " — check in and suggest what to buy next"
            ),
            reason_args={
                "days": cfg.days,
                "first_order": candidate["first_order_at"].date().isoformat(),
            },
            dedupe_key=f"days_after_first_order:{candidate['customer_id']}:{cfg.days}",
            base_priority=cfg.priority,
            offer_id=offer_id,
            expires_at=ctx.as_of + timedelta(days=cfg.expires_after_days),
        )
        for candidate in ctx.rows(query)
    ]
    return insert_rows(session=ctx.session, rows=rows)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]


def _holiday(ctx: TriggerContext, holiday: Holiday) -> list[Written]:
    # One INSERT ... SELECT: a holiday can reach every active customer, so no rows pass
    # through Python; the reason is the same for everybody.
    offer_id = ctx.offer_id(holiday.offer_code)
    boosted = ctx.priority(holiday.priority, Stage.LOYAL)
    dedupe_key = (
        literal("holiday:")
        + cast(col(Customer.id), String)
        + literal(f":{holiday.on.isoformat()}:{_slug(holiday.name)}")
    )
    reason = clip(f"{holiday.name} on {day_month(holiday.on)} — {holiday.action}")
    # Skipping keys already taken here, not only by ON CONFLICT, keeps hourly re-runs over
    # an audience of millions to an index probe per customer.
    taken = exists(select(col(Suggestion.id)).where(col(Suggestion.dedupe_key) == dedupe_key))
    query = ctx.base(
        col(Customer.id),
        col(Customer.owner_id),
        literal(str(TriggerType.HOLIDAY), String),
        literal(reason, String),
        literal(str(TriggerType.HOLIDAY), String),
        literal(
            {"name": holiday.name, "on": holiday.on.isoformat(), "action": holiday.action},
            JsonType,
        ),
        cast(null(), IdType) if offer_id is None else literal(offer_id, IdType),
        ctx.channel_id,
        case((col(Customer.stage) == Stage.LOYAL, boosted), else_=holiday.priority),
        literal(str(SuggestionStatus.OPEN), String),
        dedupe_key,
        literal(ctx.as_of, UTCDateTime),
        literal(start_of_day_after(holiday.on), UTCDateTime),
    ).where(col(Customer.stage).in_([str(stage) for stage in holiday.stages]), ~taken)
    names = [
        "customer_id",
        "staff_id",
        "type",
        "reason",
        "reason_key",
        "reason_args",
        "offer_id",
        "channel_id",
        "priority",
        "status",
        "dedupe_key",
        "created_at",
        "expires_at",
    ]
    return insert_from_select(session=ctx.session, names=names, query=query)


def holidays(ctx: TriggerContext) -> list[Written]:
    """Announce each configured holiday to its audience during its lead time."""
    today = ctx.as_of.date()
    written: list[Written] = []
    for holiday in ctx.config.holidays:
        if holiday.on - timedelta(days=holiday.lead_days) <= today <= holiday.on:
            written.extend(_holiday(ctx, holiday))
    return written
