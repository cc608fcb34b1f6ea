"""Field parsing: timestamps, money, ids and flags, with the skip reason of each bad value."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain.imports.summary import SkipReason
from domain.imports.values import (
    RowError,
    Timestamps,
    currency_exponent,
    integer,
    json_object,
    retail_customer_id,
    to_minor,
    unit_price,
)
from domain.settings import Settings


def test_retail_times_are_month_first_and_read_in_the_import_zone() -> None:
    london = Timestamps(ZoneInfo("Europe/London"))

    assert london.retail("12/1/2010 8:26", "InvoiceDate") == datetime(
        2010, 12, 1, 8, 26, tzinfo=UTC
    )
    assert london.retail("6/9/2011 13:05", "InvoiceDate") == datetime(2011, 6, 9, 12, 5, tzinfo=UTC)
    assert london.retail("2009-12-01 07:45:00", "InvoiceDate") == datetime(
        2009, 12, 1, 7, 45, tzinfo=UTC
    )


def test_iso_times_keep_their_offset_and_naive_ones_take_the_import_zone() -> None:
    utc = Timestamps(UTC)

    assert utc.iso("2024-03-01T10:00:00+01:00", "at") == datetime(2024, 3, 1, 9, tzinfo=UTC)
    assert utc.iso("2024-03-01T10:00:00Z", "at") == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert utc.iso("2024-03-01 10:00", "at") == datetime(2024, 3, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize("text", ["13/45/2010 8:26", "yesterday", "2010-02-30 10:00"])
def test_unreadable_retail_times_are_bad_dates(text: str) -> None:
    with pytest.raises(RowError) as caught:
        Timestamps(UTC).retail(text, "InvoiceDate")

    assert caught.value.reason is SkipReason.BAD_DATE


def test_an_empty_time_is_a_missing_field() -> None:
    with pytest.raises(RowError) as caught:
        Timestamps(UTC).iso(" ", "ordered_at")

    assert caught.value.reason is SkipReason.MISSING_FIELD


def test_minor_units_round_half_to_even() -> None:
    assert to_minor(Decimal("0.125"), 2) == 12
    assert to_minor(Decimal("0.135"), 2) == 14
    assert to_minor(Decimal(12) * Decimal("0.001"), 2) == 1
    assert to_minor(Decimal(-6) * Decimal("2.55"), 2) == -1530
    assert to_minor(Decimal("1500"), 0) == 1500


def test_prices_keep_four_decimals_and_refuse_more_or_negative() -> None:
    assert unit_price("0.001", "UnitPrice") == Decimal("0.001")
    assert unit_price("2.55000", "UnitPrice") == Decimal("2.55")

    for text, reason in [
        ("0.00001", SkipReason.BAD_VALUE),
        ("-11062.06", SkipReason.BAD_VALUE),
        ("2,55", SkipReason.BAD_NUMBER),
        ("NaN", SkipReason.BAD_NUMBER),
    ]:
        with pytest.raises(RowError) as caught:
            unit_price(text, "UnitPrice")
        assert caught.value.reason is reason, text


def test_quantities_are_whole_numbers_of_a_32_bit_column() -> None:
    assert integer("-12", "Quantity") == -12
    with pytest.raises(RowError) as caught:
        integer("1.5", "Quantity")
    assert caught.value.reason is SkipReason.BAD_NUMBER
    with pytest.raises(RowError) as caught:
        integer("3000000000", "Quantity")
    assert caught.value.reason is SkipReason.BAD_VALUE


def test_spreadsheet_customer_ids_lose_their_decimal_zero() -> None:
    assert retail_customer_id("17850.0") == "17850"
    assert retail_customer_id(" 17850 ") == "17850"
    assert retail_customer_id("17850.5") == "17850.5"
    assert retail_customer_id("") is None


def test_currency_exponents_come_from_settings_or_iso_4217() -> None:
    settings = Settings(currency="GBP", currency_exponent=2)

    assert currency_exponent("GBP", settings) == 2
    assert currency_exponent("JPY", settings) == 0
    assert currency_exponent("BHD", settings) == 3
    with pytest.raises(ValueError, match="unknown currency 'XYZ'"):
        currency_exponent("XYZ", settings)


def test_properties_must_be_a_json_object() -> None:
    assert json_object('{"a": [1, 2]}', "properties") == {"a": [1, 2]}
    assert json_object("", "properties") == {}
    for text in ("[1, 2]", "{not json", '{"a": "\\u0000"}'):
        with pytest.raises(RowError) as caught:
            json_object(text, "properties")
        assert caught.value.reason is SkipReason.BAD_VALUE, text
