"""The domain's catalogs translate every sentence it says, with the same placeholders."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from babel.messages.pofile import read_po
from babel.support import NullTranslations

from domain.scoring.reasons import render, stored
from domain.triggers.reasons import RENDERERS
from domain.wording import TRANSLATED, Words, load_catalog, po_path

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
# Every branch of every score reason and suggestion reason.
FINDINGS = [
    stored(feature, raises, value)
    for feature, raises, values in [
        ("recency_days", True, [3.0, 30.0, 200.0, 900.0]),
        ("recency_days", False, [213.0]),
        ("frequency", True, [1.0, 5.0]),
        ("frequency", False, [1.0]),
        ("monetary", True, [2.5]),
        ("spend_12m", True, [12.0]),
        ("tenure_days", True, [800.0]),
        ("mean_interval_days", True, [42.0]),
        ("mean_interval_days", False, [42.0]),
        ("overdue_ratio", True, [0.5, 2.6]),
        ("spend_trend", False, [math.nan, math.inf, -1.0, -0.6, 0.4]),
        ("returns_share", False, [0.0, 0.25]),
        ("engagement_90d", True, [0.0, 1.0, 5.0]),
        ("category_breadth", True, [4.0]),
        ("category_breadth", False, [1.0]),
    ]
    for value in values
]
SUGGESTIONS: list[tuple[str, dict[str, Any]]] = [
    ("abandoned_cart", {"items": 1, "categories": ["toys"], "day": "2026-12-07", "zone": "UTC"}),
    ("abandoned_cart", {"items": 3, "categories": ["a", "b", "c"], "day": "2026-12-06"}),
    ("abandoned_cart", {"items": 2, "categories": ["a", "b"], "day": "2026-12-01"}),
    ("category_interest", {"category": "toys", "views": 3, "within_days": 7}),
    ("first_order", {"day": "2026-12-08", "zone": "UTC"}),
    ("sleeping_high_value", {"since": "2026-09-03", "clv_minor": 120_000, "spent_minor": 1}),
    ("sleeping_high_value", {"since": "2026-09-03", "clv_minor": None, "spent_minor": 5_000}),
    ("birthday", {"day": "2026-12-07", "leapling": False, "zone": "UTC"}),
    ("birthday", {"day": "2026-12-15", "leapling": True, "zone": "UTC"}),
    ("days_after_first_order", {"days": 180, "first_order": "2026-06-10"}),
    ("holiday", {"name": "Winter sale", "on": "2026-12-20", "action": "send the sale link"}),
]


class Recorder(NullTranslations):
    """A catalog that notes every message asked of it that it does not have."""

    def __init__(self, catalog: Any) -> None:
        super().__init__()
        self.catalog = catalog
        self.missing: set[str] = set()

    def gettext(self, message: str) -> str:
        if message not in self.catalog._catalog:
            self.missing.add(message)
        return str(self.catalog.gettext(message))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if (singular, 0) not in self.catalog._catalog:
            self.missing.add(singular)
        return str(self.catalog.ngettext(singular, plural, n))


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_sentence_said_is_in_the_catalog(language: str) -> None:
    recorder = Recorder(load_catalog(language))
    reader = Words(language, recorder)
    for finding in FINDINGS:
        assert render(finding, reader)
    for key, args in SUGGESTIONS:
        assert RENDERERS[key](args, reader, NOW)
    assert recorder.missing == set()


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_translation_keeps_the_placeholders_and_plural_forms(language: str) -> None:
    with po_path(language).open("rb") as source:
        catalog = read_po(source, locale=language)
    messages = [message for message in catalog if message.id]
    assert messages
    for message in messages:
        plural = not isinstance(message.id, str)
        ids = list(message.id) if plural else [message.id]
        strings = list(message.string) if plural else [message.string]
        assert len(strings) == (catalog.num_plurals if plural else 1), ids[0]
        wanted = set(re.findall(r"{\w+}", ids[-1]))
        for string in strings:
            assert string, f"{language}: {ids[0]!r} is not translated"
            assert set(re.findall(r"{\w+}", string)) == wanted, (language, ids[0], string)
