"""The shop itself, written once per demo: sales staff and an admin, the catalogue, the offers."""

from __future__ import annotations

import numpy as np

from domain.demo.catalog import CATEGORY_CODES, Catalogue
from domain.demo.people import FIRST_NAMES, LANGUAGES, LAST_NAMES
from domain.demo.rows import Rows, bools, ids, ints, texts, times
from domain.demo.sampling import DAY
from domain.referrals.models import OfferKind
from domain.staff.models import StaffRole

MIN_SALES_STAFF = 3
MAX_SALES_STAFF = 50
CUSTOMERS_PER_SALES_PERSON = 2_000
STAFF_TIMEZONES = {
    "en": "Europe/London",
    "es": "Europe/Madrid",
    "zh": "Asia/Shanghai",
    "ru": "Europe/Moscow",
}

# code, name, kind, description, referrer reward (minor units), referee benefit, days, uses
OFFERS: tuple[tuple[str, str, OfferKind, str, int, str, int, int], ...] = (
    (
        "GIVE10GET10",
        "Give 10, get 10",
        OfferKind.REFERRAL,
        "Invite a friend: they get 10 off their first order, you get 10 when they buy.",
        1000,
        "10 off first order",
        30,
        5,
    ),
    (
        "WEMISSYOU15",
        "We miss you: 15% off",
        OfferKind.REACTIVATION,
        "15% off the next order for customers we have not seen in a while.",
        0,
        "15% off next order",
        14,
        1,
    ),
    (
        "NEXTSTEP20",
        "Next step: 20% off toddler formula",
        OfferKind.CROSS_SELL,
        "20% off the first toddler formula order for families moving on from infant formula.",
        0,
        "20% off toddler formula",
        21,
        1,
    ),
)


def sales_staff_count(customers: int) -> int:
    """How many sales people a business of this size has."""
    return min(MAX_SALES_STAFF, max(MIN_SALES_STAFF, customers // CUSTOMERS_PER_SALES_PERSON))


def staff_rows(*, first_id: int, customers: int, now: int) -> tuple[Rows, np.ndarray]:
    """Sales staff speaking the four languages in turn, then one admin; and their languages."""
    count = sales_staff_count(customers)
    names, emails, languages = [], [], []
    for k in range(count):
        language = LANGUAGES[k % len(LANGUAGES)]
        first_native, first_latin = FIRST_NAMES[language][(k // len(LANGUAGES) * 3 + k) % 20]
        last_native, last_latin = LAST_NAMES[language][(k * 7) % 20]
        if language == "zh":
            names.append(last_native + first_native)
        else:
            names.append(f"{first_native} {last_native}")
        emails.append(f"{first_latin}.{last_latin}.{k + 1}@staff.example.com")
        languages.append(language)
    names.append("Demo Admin")
    emails.append("admin@staff.example.com")
    languages.append("en")
    total = count + 1
    rows: Rows = {
        "id": ids(first_id + np.arange(total)),
        "name": texts(np.array(names, dtype=object)),
        "email": texts(np.array(emails, dtype=object)),
        "role": texts(
            np.array([str(StaffRole.SALES)] * count + [str(StaffRole.ADMIN)], dtype=object)
        ),
        "language": texts(np.array(languages, dtype=object)),
        "timezone": texts(np.array([STAFF_TIMEZONES[lang] for lang in languages], dtype=object)),
        "active": bools(np.ones(total, dtype=bool)),
        "created_at": times(np.full(total, now - 3 * 365 * DAY)),
    }
    sales_languages = np.array(
        [LANGUAGES.index(lang) for lang in languages[:count]], dtype=np.int64
    )
    return rows, sales_languages


def product_rows(catalogue: Catalogue) -> Rows:
    """The catalogue as product rows."""
    return {
        "id": ids(catalogue.ids),
        "sku": texts(np.array(catalogue.sku, dtype=object)),
        "name": texts(np.array(catalogue.name, dtype=object)),
        "category": texts(np.array(CATEGORY_CODES, dtype=object)[catalogue.category]),
        "price_minor": ints(catalogue.price_minor),
        "active": bools(catalogue.active),
    }


def offer_rows(*, now: int) -> Rows:
    """The referral, reactivation and cross-sell offers."""
    columns = list(zip(*OFFERS, strict=True))
    count = len(OFFERS)
    return {
        "id": ids(np.arange(1, count + 1)),
        "code": texts(np.array(columns[0], dtype=object)),
        "name": texts(np.array(columns[1], dtype=object)),
        "kind": texts(np.array([str(kind) for kind in columns[2]], dtype=object)),
        "description": texts(np.array(columns[3], dtype=object)),
        "referrer_reward_minor": ints(np.array(columns[4])),
        "referee_benefit": texts(np.array(columns[5], dtype=object)),
        "valid_days": ints(np.array(columns[6])),
        "max_uses": ints(np.array(columns[7])),
        "active": bools(np.ones(count, dtype=bool)),
        "created_at": times(np.full(count, now - 400 * DAY)),
    }
