"""Plain words for suggestion reasons: dates, amounts and lists a sales person reads at a glance."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import format_currency

from domain.settings import get_settings

REASON_MAX = 500


def day_month(day: date) -> str:
    """'3 Dec'."""
    return f"{day.day} {day:%b}"


def day_month_year(day: date) -> str:
    """'3 Dec 2026'."""
    return f"{day.day} {day:%b} {day.year}"


def relative_day(day: date, today: date) -> str:
    """'today', 'yesterday', 'tomorrow' or 'on 3 Dec'."""
    words = {0: "today", -1: "yesterday", 1: "tomorrow"}
    return words.get((day - today).days, f"on {day_month(day)}")


def count_of(n: int, noun: str) -> str:
    """'1 item', '2 items'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def listing(names: Sequence[str], shown: int = 2) -> str:
    """'A', 'A and B', 'A, B and 3 more'."""
    if len(names) <= 1:
        return "".join(names)
    if len(names) <= shown:
        return f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{', '.join(names[:shown])} and {len(names) - shown} more"


def money(minor: int) -> str:
    """An amount in the configured currency, e.g. '$1,234.50'."""
    settings = get_settings()
    amount = Decimal(minor).scaleb(-settings.currency_exponent)
    return format_currency(amount, settings.currency, locale="en_US")


def zone(name: str | None) -> ZoneInfo:
    """The customer's time zone, else the configured default, else UTC."""
    for candidate in (name, get_settings().default_timezone):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def clip(reason: str) -> str:
    """The reason, cut to fit its column."""
    return reason if len(reason) <= REASON_MAX else reason[: REASON_MAX - 1] + "…"
