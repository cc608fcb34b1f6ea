"""Dates and times read the same way in every language the bot speaks."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.formatting import Texts
from bot.i18n import load_catalog

MOMENT = datetime(2026, 12, 7, 3, 19, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "zone", "expected"),
    [
        ("en", "UTC", "Dec 7, 2026, 3:19\u202fAM"),  # CLDR: a narrow space before AM
        ("es", "Europe/Madrid", "7 dic 2026, 4:19"),
        ("ru", "Europe/Moscow", "7 дек. 2026\u202fг., 06:19"),
        ("zh_Hans", "Asia/Shanghai", "2026年12月7日 11:19"),
    ],
)
def test_a_moment_shows_the_date_as_words_and_the_time_in_the_reader_s_zone(
    language: str, zone: str, expected: str
) -> None:
    texts = Texts(language, load_catalog(language), ZoneInfo(zone))
    assert texts.moment(MOMENT) == expected
