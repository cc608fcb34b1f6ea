"""One block of demo customers with everything they did, as rows ready to write.

Customers are generated a block at a time so memory stays bounded; each block draws from its
own random streams, seeded by (seed, block number), so the data depends only on the seed,
the customer count, the as-of date and the configured currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from domain.channels.models import ChannelCode
from domain.demo.archetypes import (
    CHANNEL_SHARE_WEIGHTS,
    FREQUENCY_FACTOR,
    MIX_WEIGHTS,
    A,
    Archetype,
    C,
)
from domain.demo.baskets import (
    KIND_RETURN,
    KIND_SALE,
    STATUS_CANCELLED,
    STATUS_COMPLETED,
    Orders,
    Shopper,
    draw_orders,
)
from domain.demo.catalog import Catalogue
from domain.demo.engagement import EVENT_TYPES, Engagement, Events, draw_events
from domain.demo.journeys import GENERAL_CATEGORIES
from domain.demo.people import (
    LANGUAGES,
    LOCALE_LANGUAGE,
    LOCALE_OFFSET,
    LOCALES,
    draw_consent,
    draw_identity,
    draw_locales,
)
from domain.demo.purchases import Purchases, draw_purchases
from domain.demo.rows import NULL_TIME, Rows, bools, dates, decimals, ids, ints, jsons, texts, times
from domain.demo.sampling import (
    DAY,
    HOUR,
    BoolArray,
    IntArray,
    at_daytime,
    blank,
    pick,
    pick_per_row,
    pick_within,
)
from domain.orders.models import OrderKind, OrderStatus
from domain.stages.rules import counts_as_engagement
from domain.stages.vocabulary import Stage

ENGAGING_TYPE = np.array([counts_as_engagement(t) for t in EVENT_TYPES], dtype=bool)

PARENT_SHARE = 0.6
EXPECTING_SHARE = 0.65
UNOWNED_SHARE = 0.2
NO_TIMEZONE_SHARE = 0.04
_REFERRERS = (Archetype.REPEAT, Archetype.VIP, Archetype.REACTIVATED, Archetype.DECLINER)


@dataclass(frozen=True)
class Setting:
    """What every block shares: the clock, the catalogue, channel and staff ids, the currency."""

    now: int
    as_of: date
    catalogue: Catalogue
    channel_ids: IntArray
    staff_ids: IntArray
    staff_language: IntArray
    currency: str
    currency_exponent: int


@dataclass(frozen=True)
class FirstIds:
    """The first id each table's rows of a block take."""

    customer: int
    consent: int
    orders: int
    order_line: int
    event: int


@dataclass(frozen=True)
class Block:
    """Rows per table (in insert order) and the archetype of each customer row."""

    tables: dict[str, Rows]
    archetype: IntArray


def _created_at(
    rng: np.random.Generator,
    purchases: Purchases,
    utc_offset: IntArray,
    now: int,
) -> IntArray:
    """Sign-up time: shortly (sometimes long) before the first order, or any time for non-buyers."""
    n = len(purchases.counts)
    first = purchases.first_time()
    buyers = purchases.counts > 0
    browsing_days = np.where(rng.random(n) < 0.8, rng.exponential(5, n), rng.exponential(60, n))
    tenure_days = 1 + 1000 * rng.random(n) ** 1.3
    joined = at_daytime(rng, now - (tenure_days * DAY).astype(np.int64), utc_offset, now)
    return np.where(buyers, first - HOUR - (browsing_days * DAY).astype(np.int64), joined)


def _relabel(purchases: Purchases, order: IntArray) -> Purchases:
    """The same purchases with customers renumbered so that customer `order[i]` becomes `i`."""
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    customer = rank[purchases.customer]
    by_customer = np.lexsort((purchases.time, customer))
    return Purchases(
        customer=customer[by_customer],
        time=purchases.time[by_customer],
        counts=purchases.counts[order],
        rhythm_days=purchases.rhythm_days[order],
        woke_at=purchases.woke_at[order],
    )


def _referrers(
    rng: np.random.Generator,
    archetype: IntArray,
    channel: IntArray,
    created_at: IntArray,
    first_order: IntArray,
    customer_ids: IntArray,
) -> IntArray:
    """For customers who came by referral, a happy customer who had bought before they joined."""
    candidates = np.flatnonzero(np.isin(archetype, [A[key] for key in _REFERRERS]))
    candidates = candidates[np.argsort(first_order[candidates], kind="stable")]
    referees = np.flatnonzero(channel == C[ChannelCode.REFERRAL])
    eligible = np.searchsorted(first_order[candidates], created_at[referees] - DAY)
    chosen = (rng.random(len(referees)) * eligible).astype(np.int64)
    referrer = np.zeros(len(archetype), dtype=np.int64)
    has = eligible > 0
    referrer[referees[has]] = customer_ids[candidates[chosen[has]]]
    return referrer


def _owners(
    rng: np.random.Generator, locale: IntArray, archetype: IntArray, setting: Setting
) -> IntArray:
    """A sales person speaking the customer's language; some prospects and leads have none."""
    pools = []
    for language in range(len(LANGUAGES)):
        speakers = setting.staff_ids[setting.staff_language == language]
        pools.append(speakers if len(speakers) else setting.staff_ids)
    owner = pick_within(rng, pools, LOCALE_LANGUAGE[locale])
    early = np.isin(archetype, [A[Archetype.PROSPECT], A[Archetype.LEAD]])
    return np.where(early & (rng.random(len(owner)) < UNOWNED_SHARE), 0, owner)


def _facts(
    orders: Orders, events: Events, n: int
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray]:
    """first/last order, order count, net revenue and last engagement per customer."""
    completed = orders.status == STATUS_COMPLETED
    sale = completed & (orders.kind == KIND_SALE)
    count = np.bincount(orders.customer[sale], minlength=n).astype(np.int64)
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, orders.customer[sale], orders.time[sale])
    last = np.full(n, NULL_TIME, dtype=np.int64)
    np.maximum.at(last, orders.customer[sale], orders.time[sale])
    first = np.where(count > 0, first, NULL_TIME)
    # Sums of integer minor units stay exact in float64 far beyond any customer's revenue.
    revenue = np.bincount(
        orders.customer[completed], weights=orders.total_minor[completed], minlength=n
    )
    # As domain.customers.facts defines it: the latest event that counts as engagement.
    counts = ENGAGING_TYPE[events.type]
    engaged = np.full(n, NULL_TIME, dtype=np.int64)
    np.maximum.at(engaged, events.customer[counts], events.time[counts])
    return first, last, count, np.rint(revenue).astype(np.int64), engaged


def _prefixed(prefix: np.ndarray | str, numbers: IntArray, width: int) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(numbers.astype(str), width)).astype(object)


def build_block(*, seed: int, number: int, size: int, first: FirstIds, setting: Setting) -> Block:
    """Customers `first.customer ..` with their consent, orders, lines and events."""
    streams = np.random.SeedSequence([seed, number]).spawn(7)
    r_who, r_buy, r_who2, r_basket, r_ident, r_consent, r_events = (
        np.random.default_rng(stream) for stream in streams
    )
    now, catalogue = setting.now, setting.catalogue
    channel = pick(r_who, CHANNEL_SHARE_WEIGHTS, size)
    archetype = pick_per_row(r_who, MIX_WEIGHTS, channel)
    locale = draw_locales(r_who, size)
    purchases = draw_purchases(
        r_buy, archetype, FREQUENCY_FACTOR[channel], LOCALE_OFFSET[locale], now
    )
    created = _created_at(r_who2, purchases, LOCALE_OFFSET[locale], now)

    # Ids follow sign-up time within the block, so referrers always precede their referees.
    order = np.lexsort((np.arange(size), created))
    channel, archetype, locale, created = (
        channel[order],
        archetype[order],
        locale[order],
        created[order],
    )
    purchases = _relabel(purchases, order)
    offset = LOCALE_OFFSET[locale]
    customer_ids = first.customer + np.arange(size, dtype=np.int64)

    first_sale = purchases.first_time()
    anchor = np.where(purchases.counts > 0, first_sale, created)
    expecting = r_basket.random(size) < EXPECTING_SHARE
    birth = np.where(
        expecting,
        anchor + r_basket.integers(90 * DAY, 270 * DAY, size),
        anchor - r_basket.integers(0, 400 * DAY, size),
    )
    shopper = Shopper(
        archetype=archetype,
        channel=channel,
        created_at=created,
        is_parent=r_basket.random(size) < PARENT_SHARE,
        birth=birth,
        favourite=GENERAL_CATEGORIES[r_basket.integers(0, len(GENERAL_CATEGORIES), size)],
    )
    orders = draw_orders(r_basket, purchases, shopper, catalogue, now)
    identity = draw_identity(
        r_ident, customer_ids, locale, archetype == A[Archetype.PROSPECT], setting.as_of
    )
    has_email: BoolArray = identity.email != None  # noqa: E711 (elementwise)
    has_phone: BoolArray = identity.phone != None  # noqa: E711 (elementwise)
    consent = draw_consent(
        r_consent,
        archetype=archetype,
        channel=channel,
        has_email=has_email,
        has_phone=has_phone,
        created_at=created,
        now=now,
    )
    traits = Engagement(shopper, offset, consent.email_granted, consent.opted_out_at)
    events = draw_events(r_events, traits, purchases, orders, catalogue, now)
    referrer = _referrers(r_who2, archetype, channel, created, first_sale, customer_ids)
    owner = _owners(r_who2, locale, archetype, setting)
    first_order, last_order, order_count, revenue, engaged = _facts(orders, events, size)

    language = np.array(LANGUAGES, dtype=object)[LOCALE_LANGUAGE[locale]]
    zone = np.array([entry[2] for entry in LOCALES], dtype=object)[locale]
    zone = blank(zone, r_who2.random(size) < NO_TIMEZONE_SHARE)
    country = np.array([entry[1] for entry in LOCALES], dtype=object)[locale]
    customers: Rows = {
        "id": ids(customer_ids),
        "external_id": texts(_prefixed("CUST-", customer_ids, 8)),
        "name": texts(identity.name),
        "email": texts(identity.email),
        "phone": texts(identity.phone),
        "birthday": dates(identity.birthday),
        "language": texts(language),
        "timezone": texts(zone),
        "country": texts(country),
        "acquisition_channel_id": ids(setting.channel_ids[channel]),
        "owner_id": ids(owner),
        "referred_by_id": ids(referrer),
        "created_at": times(created),
        "stage": texts(np.full(size, str(Stage.PROSPECT), dtype=object)),
        "stage_since": times(created),
        "first_order_at": times(first_order),
        "last_order_at": times(last_order),
        "order_count": ints(order_count),
        "net_revenue_minor": ints(revenue),
        "last_engaged_at": times(engaged),
    }
    consents: Rows = {
        "id": ids(first.consent + np.arange(len(consent.customer))),
        "customer_id": ids(customer_ids[consent.customer]),
        "channel_id": ids(setting.channel_ids[consent.channel]),
        "granted": bools(consent.granted),
        "source": texts(consent.source),
        "updated_at": times(consent.updated_at),
    }
    order_ids = first.orders + np.arange(len(orders.time), dtype=np.int64)
    is_return = orders.kind == KIND_RETURN
    order_rows: Rows = {
        "id": ids(order_ids),
        "external_id": texts(_prefixed(np.where(is_return, "RT-", "SO-"), order_ids, 9)),
        "customer_id": ids(customer_ids[orders.customer]),
        "channel_id": ids(setting.channel_ids[orders.channel]),
        "ordered_at": times(orders.time),
        "kind": texts(np.where(is_return, str(OrderKind.RETURN), str(OrderKind.SALE))),
        "status": texts(
            np.where(
                orders.status == STATUS_CANCELLED,
                str(OrderStatus.CANCELLED),
                str(OrderStatus.COMPLETED),
            )
        ),
        "total_minor": ints(orders.total_minor),
        "currency": texts(np.full(len(order_ids), setting.currency, dtype=object)),
        "country": texts(country[orders.customer]),
        "created_at": times(orders.time),
    }
    product = orders.line_product
    line_rows: Rows = {
        "id": ids(first.order_line + np.arange(len(product), dtype=np.int64)),
        "order_id": ids(order_ids[orders.line_order]),
        "line_no": ints(orders.line_no),
        "product_id": ids(catalogue.ids[product]),
        "sku": texts(np.array(catalogue.sku, dtype=object)[product]),
        "description": texts(np.array(catalogue.name, dtype=object)[product]),
        "quantity": ints(orders.line_quantity),
        "unit_price": decimals(catalogue.price_minor[product], setting.currency_exponent),
        "line_total_minor": ints(orders.line_total_minor),
    }
    event_ids = first.event + np.arange(len(events.time), dtype=np.int64)
    event_rows: Rows = {
        "id": ids(event_ids),
        "customer_id": ids(customer_ids[events.customer]),
        "type": texts(np.array([str(t) for t in EVENT_TYPES], dtype=object)[events.type]),
        "channel_id": ids(setting.channel_ids[events.channel]),
        "occurred_at": times(events.time),
        "properties": jsons(events.properties),
        "idempotency_key": texts(_prefixed("demo-e-", event_ids, 10)),
        "created_at": times(events.time),
    }
    return Block(
        tables={
            "customer": customers,
            "consent": consents,
            "orders": order_rows,
            "order_line": line_rows,
            "event": event_rows,
        },
        archetype=archetype,
    )
