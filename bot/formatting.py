"""Words, amounts and dates in the reader's language: one `Texts` per reply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time, get_datetime_format
from babel.numbers import format_currency, format_percent
from babel.support import Translations

from bot.i18n import N_

STAGES = {
    "PROSPECT": N_("Prospect"),
    "LEAD": N_("Lead"),
    "FIRST_TIME_BUYER": N_("First-time buyer"),
    "REPEAT": N_("Repeat customer"),
    "LOYAL": N_("Loyal / VIP"),
    "AT_RISK": N_("At risk"),
    "SLEEPING": N_("Sleeping"),
    "REACTIVATED": N_("Reactivated"),
    "LOST": N_("Lost"),
}
SEGMENTS = {
    "Champions": N_("Champions"),
    "Loyal": N_("Loyal"),
    "Potential loyalist": N_("Potential loyalist"),
    "New": N_("New"),
    "Promising": N_("Promising"),
    "Need attention": N_("Need attention"),
    "About to sleep": N_("About to sleep"),
    "At risk": N_("At risk"),
    "Can't lose them": N_("Can't lose them"),
    "Hibernating": N_("Hibernating"),
    "Lost": N_("Lost"),
}
SUGGESTION_TYPES = {
    "birthday": N_("Birthday"),
    "days_after_first_order": N_("Check-in after the first order"),
    "holiday": N_("Holiday"),
    "abandoned_cart": N_("Abandoned cart"),
    "category_interest": N_("Cross-sell moment"),
    "first_order": N_("First order"),
    "sleeping_high_value": N_("High value, asleep"),
}
CHANNELS = {
    "email": N_("Email"),
    "sms": N_("SMS"),
    "app": N_("App push"),
    "messaging": N_("Messaging app"),
}


def zone(name: str | None) -> ZoneInfo:
    """The named time zone, or UTC when it is unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class Texts:
    """Translations and formats for one reader: language, time zone and currency."""

    language: str
    translations: Translations
    timezone: ZoneInfo
    currency: str = "USD"
    currency_exponent: int = 2

    def _(self, message: str) -> str:
        """The message in the reader's language."""
        return self.translations.gettext(message)

    def label(self, table: dict[str, str], code: str | None) -> str:
        """A code's translated name from one of the tables above; unknown codes as they are."""
        if code is None:
            return "—"
        return self._(table[code]) if code in table else code

    def stage(self, code: str) -> str:
        """A lifecycle stage's name."""
        return self.label(STAGES, code)

    def money(self, minor: int) -> str:
        """An amount in minor units, e.g. '$1,234.50' or '1 234,50 $'."""
        amount = Decimal(minor).scaleb(-self.currency_exponent)
        return format_currency(amount, self.currency, locale=self.language)

    def day(self, value: date) -> str:
        """A date, e.g. 'Nov 25, 2026'."""
        return format_date(value, format="medium", locale=self.language)

    def moment(self, value: datetime) -> str:
        """A date and time in the reader's time zone, e.g. 'Dec 7, 2026, 3:19 AM'.

        The date as `day` writes it (a short numeric date reads ambiguously across
        countries), the time to the minute, joined as the language joins them.
        """
        local = value.astimezone(self.timezone)
        joined = get_datetime_format("medium", locale=self.language)
        day = format_date(local, format="medium", locale=self.language)
        time = format_time(local, format="short", tzinfo=self.timezone, locale=self.language)
        return str(joined).replace("{1}", day).replace("{0}", time)

    def percent(self, value: float) -> str:
        """A share, e.g. '87%'."""
        return format_percent(value, locale=self.language)
