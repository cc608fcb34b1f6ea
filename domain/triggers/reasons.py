"""Suggestion reasons as what the trigger found, put in the reader's words when read.

A trigger stores a key (which sentence) and arguments (what fills it: days, counts,
categories, amounts, a time zone) next to the English it wrote at the time. Read later and
in another language, "yesterday" is still right: days are told relative to the reading day
in the customer's time zone. Suggestions without a key keep their stored English.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from domain.clock import utcnow
from domain.settings import get_settings
from domain.triggers.wording import zone
from domain.wording import Words, words

Render = Callable[[dict[str, Any], Words, datetime], str]


def render(
    key: str | None,
    args: dict[str, Any] | None,
    stored: str,
    language: str | None,
    now: datetime | None = None,
) -> str:
    """The reason in the language a tag asks for; the stored text when there is no key."""
    renderer = RENDERERS.get(key or "")
    if renderer is None or args is None:
        return stored
    try:
        return renderer(args, words(language), now or utcnow())
    except (KeyError, TypeError, ValueError):
        return stored  # arguments of an older shape: the English written then


def _today(args: dict[str, Any], now: datetime) -> date:
    return now.astimezone(zone(args.get("zone"))).date()


def _day(value: str) -> date:
    return date.fromisoformat(value)


def _money(w: Words, minor: int) -> str:
    settings = get_settings()
    return w.money(minor, settings.currency, settings.currency_exponent)


def _count(w: Words, n: int, singular: str, plural: str) -> str:
    return w.n_(singular, plural, n).format(n=w.number(n))


def abandoned_cart(args: dict[str, Any], w: Words, now: datetime) -> str:
    """'Added 2 items (toys) to the cart yesterday and didn't order'."""
    what = _count(w, args["items"], "{n} item", "{n} items")
    if args.get("categories"):
        what += f" ({w.listing(args['categories'])})"
    when = w.relative_day(_day(args["day"]), _today(args, now))
    return w._("Added {what} to the cart {when} and didn't order").format(what=what, when=when)


def category_interest(args: dict[str, Any], w: Words, now: datetime) -> str:
    """'Viewed toys 3 times in the last 7 days without buying from it — ...'."""
    return w._(
        "Viewed {category} {times} in the last {days} without buying from it"
        " — suggest a product from it"
    ).format(
        category=args["category"],
        times=_count(w, args["views"], "{n} time", "{n} times"),
        days=_count(w, args["within_days"], "{n} day", "{n} days"),
    )


def first_order(args: dict[str, Any], w: Words, now: datetime) -> str:
    """'First order yesterday — welcome them and help them get started'."""
    when = w.relative_day(_day(args["day"]), _today(args, now))
    return w._("First order {when} — welcome them and help them get started").format(when=when)


def sleeping_high_value(args: dict[str, Any], w: Words, now: datetime) -> str:
    """'Asleep since 3 Sep 2026; predicted to be worth $1,200.00 — worth a personal call ...'."""
    since = w.day_month_year(_day(args["since"]))
    if args.get("clv_minor") is not None:
        return w._(
            "Asleep since {date}; predicted to be worth {money}"
            " — worth a personal call to win them back"
        ).format(date=since, money=_money(w, args["clv_minor"]))
    return w._(
        "Asleep since {date} after spending {money} — worth a personal call to win them back"
    ).format(date=since, money=_money(w, args["spent_minor"]))


def birthday(args: dict[str, Any], w: Words, now: datetime) -> str:
    """'Birthday tomorrow (8 Dec) — send a birthday treat'."""
    day = _day(args["day"])
    ahead = (day - _today(args, now)).days
    shown = w.day_month(day)
    if 0 <= ahead <= 1:
        when = w._("{relative} ({day})").format(
            relative=w.relative_day(day, _today(args, now)), day=shown
        )
    else:
        when = w._("on {day}").format(day=shown)
    if args.get("leapling"):
        return w._("Birthday {when} (born 29 Feb) — send a birthday treat").format(when=when)
    return w._("Birthday {when} — send a birthday treat").format(when=when)


def days_after_first_order(args: dict[str, Any], w: Words, now: datetime) -> str:
    """'180 days since their first order (3 Jun 2026) — check in and suggest ...'."""
    return w.n_(
        "{n} day since their first order ({date}) — check in and suggest what to buy next",
        "{n} days since their first order ({date}) — check in and suggest what to buy next",
        args["days"],
    ).format(n=w.number(args["days"]), date=w.day_month_year(_day(args["first_order"])))


def holiday(args: dict[str, Any], w: Words, now: datetime) -> str:
    """'Mother's Day on 10 May — send a gift idea' (name and action as configured)."""
    return w._("{name} on {day} — {action}").format(
        name=args["name"], day=w.day_month(_day(args["on"])), action=args["action"]
    )


RENDERERS: dict[str, Render] = {
    "abandoned_cart": abandoned_cart,
    "category_interest": category_interest,
    "first_order": first_order,
    "sleeping_high_value": sleeping_high_value,
    "birthday": birthday,
    "days_after_first_order": days_after_first_order,
    "holiday": holiday,
}
