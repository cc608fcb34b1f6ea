"""Words for readers of other languages: the domain's own gettext catalogs and number formats.

What the domain says to people (why a customer scored as they did) is written in English
and translated at reading time from `domain/texts/<language>/LC_MESSAGES/domain.po`,
compiled in memory when first needed. Languages are those the sales assistant speaks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.dates import format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import NullTranslations, Translations

TEXTS_DIR = Path(__file__).resolve().parent / "texts"
DOMAIN = "domain"
ENGLISH = "en"
TRANSLATED = ("es", "ru", "zh_Hans")
# Chinese tags that mean simplified script; traditional (zh-tw, zh-hant...) is not shipped.
SIMPLIFIED_CHINESE = {"zh", "zh-cn", "zh-sg", "zh-hans", "zh-hans-cn", "zh-hans-sg"}


def language_of(tag: str | None) -> str:
    """The shipped language a language tag ('es', 'ru-RU', 'zh-Hans') asks for; else English."""
    if not tag:
        return ENGLISH
    tag = tag.strip().lower().replace("_", "-")
    if tag.startswith("zh"):
        return "zh_Hans" if tag in SIMPLIFIED_CHINESE else ENGLISH
    primary = tag.split("-", 1)[0]
    return primary if primary in TRANSLATED else ENGLISH


def po_path(language: str, directory: Path = TEXTS_DIR) -> Path:
    """Where a language's catalog lives."""
    return directory / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_po(path: Path, language: str, domain: str) -> Translations:
    """A gettext catalog read from its .po file and compiled in memory (no .mo build step)."""
    with path.open("rb") as source:
        catalog = read_po(source, locale=language, domain=domain)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=domain)


def load_catalog(language: str, directory: Path = TEXTS_DIR) -> NullTranslations:
    """One language's catalog of the domain's sentences (English needs none)."""
    if language == ENGLISH:
        return NullTranslations()
    return compile_po(po_path(language, directory), language, DOMAIN)


@dataclass(frozen=True)
class Words:
    """Translations and number formats for one language."""

    language: str
    translations: NullTranslations

    def _(self, message: str) -> str:
        """The message in this language."""
        return self.translations.gettext(message)

    def n_(self, singular: str, plural: str, count: float) -> str:
        """The singular or plural message for `count` (a fraction reads like a plural)."""
        whole = int(count) if float(count).is_integer() else 2
        return self.translations.ngettext(singular, plural, whole)

    def number(self, value: float, decimals: int = 1) -> str:
        """A number with up to `decimals` decimals, e.g. '2.6' or '2,6'."""
        pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
        return format_decimal(value, format=pattern, locale=self.language)

    def percent(self, share: float) -> str:
        """A share as a whole percentage, e.g. '60%' or '60 %'."""
        return format_percent(share, locale=self.language)

    def day_month(self, day: date) -> str:
        """'3 Dec' (as the language writes a day of a month)."""
        if self.language == ENGLISH:
            return f"{day.day} {day:%b}"
        return format_skeleton("MMMd", day, locale=self.language)

    def day_month_year(self, day: date) -> str:
        """'3 Dec 2026' (as the language writes a date)."""
        if self.language == ENGLISH:
            return f"{day.day} {day:%b} {day.year}"
        return format_skeleton("yMMMd", day, locale=self.language)

    def relative_day(self, day: date, today: date) -> str:
        """'today', 'yesterday', 'tomorrow' or 'on 3 Dec'."""
        words = {0: "today", -1: "yesterday", 1: "tomorrow"}
        word = words.get((day - today).days)
        if word is not None:
            return self._(word)
        return self._("on {day}").format(day=self.day_month(day))

    def listing(self, names: Sequence[str], shown: int = 2) -> str:
        """'A', 'A and B', 'A, B and 3 more'."""
        if len(names) <= 1:
            return "".join(names)
        if len(names) <= shown:
            return self._("{first} and {last}").format(first=", ".join(names[:-1]), last=names[-1])
        return self._("{first} and {n} more").format(
            first=", ".join(names[:shown]), n=self.number(len(names) - shown)
        )

    def money(self, minor: int, currency: str, exponent: int) -> str:
        """An amount in minor units, e.g. '$1,234.50' or '1234,50 US$'."""
        amount = Decimal(minor).scaleb(-exponent)
        return format_currency(amount, currency, locale=self.language)


@lru_cache(maxsize=8)
def words(tag: str | None = None) -> Words:
    """The words of the shipped language a tag asks for (English when none matches)."""
    language = language_of(tag)
    return Words(language, load_catalog(language))
