"""The gettext catalogs: every message of the code is translated in every shipped language."""

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, TEXTS_DIR, load_catalog, po_path, reply_language

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "N_": None}


def code_messages() -> set[str]:
    """Message ids marked in the bot and in the digest job (which reads the same catalogs)."""
    found = [
        message
        for _, _, message, _, _ in extract_from_dir(
            ROOT / "bot", method_map=[("**.py", "python")], keywords=KEYWORDS
        )
    ]
    digests = ROOT / "worker" / "jobs" / "digests.py"
    found += [message for _, message, _, _ in extract_from_file("python", digests, KEYWORDS)]
    # Plural forms would come as tuples; the bot words its messages without them.
    assert all(isinstance(message, str) for message in found)
    return {str(message) for message in found}


def read(language: str) -> Catalog:
    with po_path(language).open("rb") as source:
        return read_po(source, locale=language)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_in_the_code_is_translated(language: str) -> None:
    catalog = read(language)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert sorted(code_messages() - translated) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogs_hold_no_message_the_code_no_longer_uses(language: str) -> None:
    ids = {m.id for m in read(language) if m.id}
    assert sorted(ids - code_messages()) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders_of_their_message(language: str) -> None:
    mismatched = [
        (m.id, m.string)
        for m in read(language)
        if m.id and placeholders(str(m.id)) != placeholders(str(m.string))
    ]
    assert mismatched == []


def test_the_template_lists_exactly_the_code_messages() -> None:
    with (TEXTS_DIR / "bot.pot").open("rb") as source:
        template = read_po(source)
    assert {m.id for m in template if m.id} == code_messages()


def test_catalogs_load_and_translate() -> None:
    assert load_catalog("es").gettext("Cancel") == "Cancelar"
    assert load_catalog("ru").gettext("Cancel") == "Отмена"
    assert load_catalog("zh_Hans").gettext("Cancel") == "取消"
    assert load_catalog("en").gettext("Cancel") == "Cancel"


@pytest.mark.parametrize(
    ("telegram", "staff", "expected"),
    [
        ("es", "en", "es"),
        ("es-MX", None, "es"),
        ("ru", "es", "ru"),
        ("zh-hans", None, "zh_Hans"),
        ("zh-CN", None, "zh_Hans"),
        ("zh-TW", "ru", "ru"),
        ("de", "es", "es"),
        ("de", "fr", "en"),
        (None, None, "en"),
        (None, "zh", "zh_Hans"),
    ],
)
def test_reply_language_follows_telegram_then_staff_then_english(
    telegram: str | None, staff: str | None, expected: str
) -> None:
    assert reply_language(telegram, staff) == expected
