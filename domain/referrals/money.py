"""How referral amounts are shown: the installation's currency, formatted for people."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_currency

from domain.settings import get_settings


@dataclass(frozen=True)
class Money:
    """A currency and its number of minor-unit digits."""

    currency: str
    exponent: int

    def format(self, minor: int) -> str:
        """An amount in minor units as a person reads it ("$10.00")."""
        return format_currency(Decimal(minor).scaleb(-self.exponent), self.currency, locale="en")


def settings_money() -> Money:
    """The configured currency of amounts without their own."""
    settings = get_settings()
    return Money(settings.currency, settings.currency_exponent)
