"""Gettext catalogs of the bot (bot/texts/<language>/LC_MESSAGES/bot.po), loaded at start-up.

The .po files are compiled in memory when loaded, so there is no build step to remember.
Replies follow the Telegram user's language, else the staff member's, else English.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

TEXTS_DIR = Path(__file__).resolve().parent / "texts"
DOMAIN = "bot"
DEFAULT_LANGUAGE = "en"
LANGUAGES = ("en", "es", "ru", "zh_Hans")
# Telegram's setMyCommands takes two-letter codes; English is the default (no code).
COMMAND_LANGUAGES = {"en": None, "es": "es", "ru": "ru", "zh_Hans": "zh"}
# Chinese tags that mean simplified script; traditional (zh-tw, zh-hant...) is not shipped.
SIMPLIFIED_CHINESE = {"zh", "zh-cn", "zh-sg", "zh-hans", "zh-hans-cn", "zh-hans-sg"}


def N_(message: str) -> str:
    """Mark a message for extraction where it is translated later (tables, descriptions)."""
    return message


def po_path(language: str, directory: Path = TEXTS_DIR) -> Path:
    """Where a language's catalog lives."""
    return directory / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_catalog(language: str, directory: Path = TEXTS_DIR) -> Translations:
    """One language's catalog, compiled in memory."""
    with po_path(language, directory).open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def load_catalogs(directory: Path = TEXTS_DIR) -> dict[str, Translations]:
    """Every shipped language's catalog."""
    return {language: load_catalog(language, directory) for language in LANGUAGES}


def shipped_language(tag: str | None) -> str | None:
    """The shipped language a Telegram/IETF language tag asks for, if any."""
    if not tag:
        return None
    tag = tag.strip().lower().replace("_", "-")
    if tag.startswith("zh"):
        return "zh_Hans" if tag in SIMPLIFIED_CHINESE else None
    primary = tag.split("-", 1)[0]
    return primary if primary in LANGUAGES else None


def reply_language(telegram_tag: str | None, staff_language: str | None) -> str:
    """The Telegram user's language, else the staff member's, else English."""
    return shipped_language(telegram_tag) or shipped_language(staff_language) or DEFAULT_LANGUAGE
