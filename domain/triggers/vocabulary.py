"""The kinds of trigger; each one's value is the `type` of the suggestions it creates."""

from __future__ import annotations

from enum import StrEnum


class TriggerType(StrEnum):
    """Why a suggestion was made."""

    BIRTHDAY = "birthday"
    DAYS_AFTER_FIRST_ORDER = "days_after_first_order"
    HOLIDAY = "holiday"
    ABANDONED_CART = "abandoned_cart"
    CATEGORY_INTEREST = "category_interest"
    FIRST_ORDER = "first_order"
    SLEEPING_HIGH_VALUE = "sleeping_high_value"
