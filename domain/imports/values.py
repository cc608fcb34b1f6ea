"""Parsing single field values; a bad value raises RowError with the skip reason."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import get_currency_precision, is_currency

from domain.imports.summary import SkipReason
from domain.settings import Settings

INT32_MAX = 2**31 - 1
# OrderLine.unit_price is Numeric(14, 4).
PRICE_LIMIT = Decimal(10) ** 10
PRICE_PLACES = 4
PRICE_STEP = Decimal(1).scaleb(-PRICE_PLACES)
_US_DATETIME = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?")
_FLOAT_ID = re.compile(r"(\d+)\.0+")
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n"}


class RowError(Exception):
    """A field of a row cannot be used; the row goes to the rejects file."""

    def __init__(self, reason: SkipReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def required(value: str, column: str, max_length: int) -> str:
    """The stripped value, which must be present and fit its column."""
    value = value.strip()
    if not value:
        raise RowError(SkipReason.MISSING_FIELD, f"{column} is empty")
    if len(value) > max_length:
        raise _too_long(column, max_length)
    return value


def optional(value: str, column: str, max_length: int) -> str | None:
    """The stripped value, or None when empty; it must fit its column."""
    value = value.strip()
    if len(value) > max_length:
        raise _too_long(column, max_length)
    return value or None


def _too_long(column: str, max_length: int) -> RowError:
    return RowError(SkipReason.BAD_VALUE, f"{column} is longer than {max_length} characters")


def integer(value: str, column: str) -> int:
    """A whole number that fits a 32-bit column."""
    try:
        number = int(value)
    except ValueError:
        raise RowError(
            SkipReason.BAD_NUMBER, f"{column} {value.strip()!r} is not a whole number"
        ) from None
    if abs(number) > INT32_MAX:
        raise RowError(SkipReason.BAD_VALUE, f"{column} {number} is out of range")
    return number


def decimal(value: str, column: str) -> Decimal:
    """A finite decimal number (a dot as decimal separator, no thousands separators)."""
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise RowError(
            SkipReason.BAD_NUMBER, f"{column} {value.strip()!r} is not a number"
        ) from None
    if not number.is_finite():
        raise RowError(SkipReason.BAD_NUMBER, f"{column} {value.strip()!r} is not a number")
    return number


def unit_price(value: str, column: str) -> Decimal:
    """A non-negative price that fits Numeric(14, 4) exactly."""
    price = decimal(value, column)
    if price < 0:
        raise RowError(SkipReason.BAD_VALUE, f"{column} {value.strip()} is negative")
    if price >= PRICE_LIMIT:
        raise RowError(SkipReason.BAD_VALUE, f"{column} {value.strip()} is too large")
    # Most prices have few decimals written out; only the others need the exact check.
    written_out = len(value.partition(".")[2]) <= PRICE_PLACES and "e" not in value.lower()
    if not written_out and price != price.quantize(PRICE_STEP):
        raise RowError(
            SkipReason.BAD_VALUE, f"{column} {value.strip()} has more than {PRICE_PLACES} decimals"
        )
    return price


def to_minor(amount: Decimal, exponent: int) -> int:
    """Minor units of an amount, rounded half to even (banker's rounding)."""
    return int(amount.scaleb(exponent).to_integral_value(rounding=ROUND_HALF_EVEN))


def flag(value: str, column: str) -> bool | None:
    """yes/no, true/false, 1/0 (any case); None when empty."""
    text = value.strip().lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RowError(SkipReason.BAD_VALUE, f"{column} {value.strip()!r} is not yes/no")


def birthday(value: str, column: str) -> date | None:
    """An ISO date (YYYY-MM-DD), or None when empty."""
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RowError(SkipReason.BAD_DATE, f"{column} {text!r} is not a YYYY-MM-DD date") from None


def json_object(value: str, column: str) -> dict[str, Any]:
    """A JSON object; an empty field is an empty object."""
    text = value.strip()
    if not text:
        return {}
    try:
        parsed = json.loads(text)
    except ValueError:
        raise RowError(SkipReason.BAD_VALUE, f"{column} is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise RowError(SkipReason.BAD_VALUE, f"{column} is not a JSON object")
    # PostgreSQL's jsonb cannot hold a NUL character.
    if "\\u0000" in text or "\x00" in text:
        raise RowError(SkipReason.BAD_VALUE, f"{column} contains a NUL character")
    return parsed


def retail_customer_id(value: str) -> str | None:
    """An Online Retail customer id; spreadsheets turned 17850 into 17850.0."""
    text = value.strip()
    if not text:
        return None
    match = _FLOAT_ID.fullmatch(text)
    return match.group(1) if match else text


def zone(name: str) -> tzinfo:
    """The IANA time zone of that name; ValueError when unknown."""
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def currency_exponent(code: str, settings: Settings) -> int:
    """Decimal places of the currency's minor unit; ValueError for an unknown code."""
    if code == settings.currency:
        return settings.currency_exponent
    if len(code) != 3 or not code.isupper() or not is_currency(code):
        raise ValueError(f"unknown currency {code!r} (use an ISO 4217 code like EUR)")
    return int(get_currency_precision(code))


class Timestamps:
    """Parses timestamps to aware UTC; naive ones are read in the import's time zone.

    Rows of one order usually repeat the same text, so the last result is reused.
    """

    def __init__(self, local_zone: tzinfo) -> None:
        self._zone = local_zone
        self._last_text: str | None = None
        self._last_value = datetime.min

    def iso(self, value: str, column: str) -> datetime:
        """ISO 8601: `2024-03-01T10:00:00+01:00`, `2024-03-01 10:00Z`, `2024-03-01`."""
        text = value.strip()
        if text == self._last_text:
            return self._last_value
        if not text:
            raise RowError(SkipReason.MISSING_FIELD, f"{column} is empty")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise RowError(
                SkipReason.BAD_DATE, f"{column} {text!r} is not an ISO 8601 time"
            ) from None
        return self._remember(text, parsed)

    def retail(self, value: str, column: str) -> datetime:
        """Online Retail times: `12/1/2010 8:26` (month first) or ISO `2009-12-01 07:45:00`."""
        text = value.strip()
        if text == self._last_text:
            return self._last_value
        if not text:
            raise RowError(SkipReason.MISSING_FIELD, f"{column} is empty")
        match = _US_DATETIME.fullmatch(text)
        try:
            if match:
                month, day, year, hour, minute, second = match.groups()
                parsed = datetime(
                    int(year), int(month), int(day), int(hour), int(minute), int(second or 0)
                )
            else:
                parsed = datetime.fromisoformat(text)
        except ValueError:
            raise RowError(
                SkipReason.BAD_DATE, f"{column} {text!r} is neither M/D/YYYY H:MM nor ISO 8601"
            ) from None
        return self._remember(text, parsed)

    def day(self, value: str, column: str) -> datetime:
        """A compact date `YYYYMMDD`, at midnight in the import's time zone."""
        text = value.strip()
        if text == self._last_text:
            return self._last_value
        try:
            if len(text) != 8 or not text.isdigit():
                raise ValueError(text)
            parsed = datetime(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            raise RowError(
                SkipReason.BAD_DATE, f"{column} {text!r} is not a YYYYMMDD date"
            ) from None
        return self._remember(text, parsed)

    def _remember(self, text: str, parsed: datetime) -> datetime:
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self._zone)
        value = parsed.astimezone(UTC)
        self._last_text, self._last_value = text, value
        return value
