"""Behaviour events: opens, clicks, visits, views and carts around each customer's journey."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from domain.channels.models import ChannelCode
from domain.demo.archetypes import A, Archetype, C
from domain.demo.baskets import KIND_SALE, Orders, Shopper
from domain.demo.catalog import CATEGORY_CODES, Catalogue
from domain.demo.journeys import main_categories, phase_at
from domain.demo.purchases import Purchases
from domain.demo.sampling import (
    DAY,
    BoolArray,
    FloatArray,
    IntArray,
    at_daytime,
    pick,
    pick_within,
)
from domain.events.models import EventType

EVENT_TYPES: tuple[EventType, ...] = (
    EventType.EMAIL_OPEN,
    EventType.EMAIL_CLICK,
    EventType.VISIT,
    EventType.CATEGORY_VIEW,
    EventType.PRODUCT_VIEW,
    EventType.CART_ADD,
    EventType.UNSUBSCRIBE,
)
E = {event_type: i for i, event_type in enumerate(EVENT_TYPES)}
MINUTE = 60
MAX_BACKGROUND = 60
RECENT_CART_SHARE = 0.04
RECENT_BROWSE_SHARE = 0.03
BROWSE_BURST = 3

# Background engagement, per 30 days of each customer's engagement window.
_RATE: dict[Archetype, float] = {
    Archetype.LEAD: 0.8,
    Archetype.ONE_TIME_RECENT: 0.7,
    Archetype.ONE_TIME_OLD: 0.25,
    Archetype.REPEAT: 0.4,
    Archetype.VIP: 0.8,
    Archetype.DECLINER: 0.3,
    Archetype.SLEEPER: 0.25,
    Archetype.LOST: 0.25,
    Archetype.REACTIVATED: 1.2,
}
_BACKGROUND_MIX = {
    EventType.EMAIL_OPEN: 0.36,
    EventType.EMAIL_CLICK: 0.07,
    EventType.VISIT: 0.22,
    EventType.CATEGORY_VIEW: 0.16,
    EventType.PRODUCT_VIEW: 0.13,
    EventType.CART_ADD: 0.06,
}
_ACTIVE = (
    Archetype.LEAD,
    Archetype.ONE_TIME_RECENT,
    Archetype.REPEAT,
    Archetype.VIP,
    Archetype.REACTIVATED,
)

# What an event's properties say: a kind and a value, rendered to JSON once per distinct pair.
P_NONE, P_CAMPAIGN, P_CATEGORY, P_PRODUCT, P_CART, P_UNSUBSCRIBE, P_WIN_BACK = range(7)
_VALUE_SPAN = 10_000_000
_CART_UNITS = 10
WIN_BACK_CAMPAIGN = "we-miss-you"


@dataclass(frozen=True)
class Engagement:
    """Per-customer traits the events depend on."""

    shopper: Shopper
    utc_offset: IntArray
    email_granted: BoolArray
    opted_out_at: IntArray


@dataclass(frozen=True)
class Events:
    """Events of a block, ascending in time; properties already rendered as JSON text."""

    customer: IntArray
    type: IntArray
    channel: IntArray
    time: IntArray
    properties: np.ndarray


@dataclass
class _EventParts:
    """Events collected part by part, as parallel arrays per part."""

    customer: list[IntArray]
    type: list[IntArray]
    channel: list[IntArray]
    time: list[IntArray]
    prop_kind: list[IntArray]
    prop_value: list[IntArray]

    def add(
        self,
        customer: IntArray,
        type_: IntArray,
        channel: IntArray,
        time: IntArray,
        prop_kind: IntArray,
        prop_value: IntArray,
    ) -> None:
        self.customer.append(customer)
        self.type.append(type_)
        self.channel.append(channel)
        self.time.append(time)
        self.prop_kind.append(prop_kind)
        self.prop_value.append(prop_value)


def _windows(
    rng: np.random.Generator,
    traits: Engagement,
    purchases: Purchases,
    now: int,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Start, end and rate (per 30 days) of each customer's background engagement."""
    shopper = traits.shopper
    n = len(shopper.archetype)
    arch = shopper.archetype
    is_ = {key: arch == A[key] for key in Archetype}
    last = purchases.last_time()
    days = rng.random((3, n))
    tenure = (now - shopper.created_at) / DAY
    rhythm = purchases.rhythm_days
    lead_back = np.where(days[0] < 0.45, days[1] * 14, 14 + days[1] * np.maximum(tenure - 14, 0))
    end_days_ago = np.select(
        [
            is_[Archetype.LEAD],
            is_[Archetype.ONE_TIME_RECENT] | is_[Archetype.REACTIVATED],
            is_[Archetype.REPEAT],
            is_[Archetype.VIP],
        ],
        [lead_back, days[1] * 10, days[1] * 15, days[1] * 7],
        default=0.0,
    )
    after_last_days = np.select(
        [
            is_[Archetype.ONE_TIME_OLD],
            is_[Archetype.DECLINER],
            is_[Archetype.SLEEPER],
            is_[Archetype.LOST],
        ],
        [days[1] * 90, rhythm * (0.3 + 0.7 * days[1]), days[1] * 45, days[1] * 20],
        default=-1.0,
    )
    end = np.where(
        after_last_days >= 0,
        last + (after_last_days * DAY).astype(np.int64),
        now - (end_days_ago * DAY).astype(np.int64),
    )
    start = shopper.created_at.copy()
    woke = is_[Archetype.REACTIVATED]
    start[woke] = purchases.woke_at[woke] - ((3 + 22 * days[2][woke]) * DAY).astype(np.int64)
    start = np.maximum(start, shopper.created_at)
    end = np.clip(end, start, now - MINUTE)
    rate = np.zeros(n)
    for key, value in _RATE.items():
        rate[is_[key]] = value
    return start, end, rate


def _browsed(
    rng: np.random.Generator,
    shopper: Shopper,
    catalogue: Catalogue,
    customer: IntArray,
    time: IntArray,
) -> tuple[IntArray, IntArray]:
    """Category and an active product each customer would look at, given their journey."""
    phase = phase_at(time, shopper.birth[customer], shopper.is_parent[customer])
    category = main_categories(
        rng, phase, np.zeros(len(time), dtype=bool), shopper.favourite[customer]
    )
    return category, pick_within(rng, catalogue.active_by_category, category)


def _web_channel(shopper: Shopper, customer: IntArray) -> IntArray:
    app = shopper.channel[customer] == C[ChannelCode.APP]
    return np.where(app, C[ChannelCode.APP], C[ChannelCode.WEB]).astype(np.int64)


def _background(
    rng: np.random.Generator,
    traits: Engagement,
    purchases: Purchases,
    catalogue: Catalogue,
    now: int,
    parts: _EventParts,
) -> None:
    shopper = traits.shopper
    start, end, rate = _windows(rng, traits, purchases, now)
    counts = rng.poisson(rate * (end - start) / (30 * DAY))
    is_lead = shopper.archetype == A[Archetype.LEAD]
    counts = np.minimum(np.where(is_lead, np.maximum(counts, 1), counts), MAX_BACKGROUND)
    customer = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    span = (end - start)[customer]
    raw = start[customer] + (rng.random(len(customer)) * span).astype(np.int64)
    time = at_daytime(rng, raw, traits.utc_offset[customer], now)
    time = np.maximum(time, shopper.created_at[customer] + MINUTE)
    type_ = np.array([E[key] for key in _BACKGROUND_MIX])[
        pick(rng, list(_BACKGROUND_MIX.values()), len(customer))
    ]
    no_email = ~traits.email_granted[customer]
    emailish = (type_ == E[EventType.EMAIL_OPEN]) | (type_ == E[EventType.EMAIL_CLICK])
    type_ = np.where(emailish & no_email, E[EventType.VISIT], type_)
    emailish &= ~no_email
    category, product = _browsed(rng, shopper, catalogue, customer, time)
    units = 1 + rng.poisson(catalogue.extra_units[category])
    month = time.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
    prop_kind = np.select(
        [
            emailish,
            type_ == E[EventType.CATEGORY_VIEW],
            type_ == E[EventType.PRODUCT_VIEW],
            type_ == E[EventType.CART_ADD],
        ],
        [P_CAMPAIGN, P_CATEGORY, P_PRODUCT, P_CART],
        default=P_NONE,
    )
    prop_value = np.select(
        [
            prop_kind == P_CAMPAIGN,
            prop_kind == P_CATEGORY,
            prop_kind == P_PRODUCT,
            prop_kind == P_CART,
        ],
        [month, category, product, product * _CART_UNITS + np.minimum(units, _CART_UNITS - 1)],
        default=0,
    )
    channel = np.where(emailish, C[ChannelCode.EMAIL], _web_channel(shopper, customer))
    parts.add(customer, type_, channel, time, prop_kind, prop_value)

    # Reactivated customers woke up by clicking the win-back email.
    woke = np.flatnonzero(shopper.archetype == A[Archetype.REACTIVATED])
    woke = woke[traits.email_granted[woke]]
    parts.add(
        woke,
        np.full(len(woke), E[EventType.EMAIL_CLICK]),
        np.full(len(woke), C[ChannelCode.EMAIL]),
        np.maximum(start[woke], shopper.created_at[woke] + MINUTE),
        np.full(len(woke), P_WIN_BACK),
        np.zeros(len(woke), dtype=np.int64),
    )


def _around_orders(
    rng: np.random.Generator, orders: Orders, created_at: IntArray, parts: _EventParts
) -> None:
    """Visit, product view and cart add minutes before each online sale, on the same day."""
    online = np.flatnonzero(orders.online & (orders.kind == KIND_SALE))
    first_line = orders.first_line[online]
    product = orders.line_product[first_line]
    units = np.minimum(orders.line_quantity[first_line], _CART_UNITS - 1)
    customer = orders.customer[online]
    day_start = (orders.time[online] // DAY) * DAY
    floor = np.maximum(day_start, created_at[customer] + MINUTE)
    steps = (
        (EventType.VISIT, 0.3, (10, 40), P_NONE, np.zeros(len(online), dtype=np.int64)),
        (EventType.PRODUCT_VIEW, 0.25, (3, 10), P_PRODUCT, product),
        (EventType.CART_ADD, 0.7, (1, 3), P_CART, product * _CART_UNITS + units),
    )
    for event_type, share, (lo, hi), kind, value in steps:
        chosen = rng.random(len(online)) < share
        before = rng.integers(lo * MINUTE, hi * MINUTE, len(online))
        time = np.maximum(orders.time[online] - before, floor)
        parts.add(
            customer[chosen],
            np.full(int(chosen.sum()), E[event_type]),
            orders.channel[online][chosen],
            time[chosen],
            np.full(int(chosen.sum()), kind),
            value[chosen],
        )


def _recent(
    rng: np.random.Generator,
    traits: Engagement,
    catalogue: Catalogue,
    now: int,
    parts: _EventParts,
) -> None:
    """Fresh carts and category browsing in the last days, for triggers to act on."""
    shopper = traits.shopper
    active = np.isin(shopper.archetype, [A[key] for key in _ACTIVE])
    u = rng.random(len(active))
    carts = np.flatnonzero(active & (u < RECENT_CART_SHARE))
    cart_time = now - rng.integers(DAY // 24, 3 * DAY, len(carts))
    cart_time = np.maximum(cart_time, shopper.created_at[carts] + MINUTE)
    category, product = _browsed(rng, shopper, catalogue, carts, cart_time)
    units = 1 + rng.poisson(catalogue.extra_units[category])
    parts.add(
        carts,
        np.full(len(carts), E[EventType.CART_ADD]),
        _web_channel(shopper, carts),
        cart_time,
        np.full(len(carts), P_CART),
        product * _CART_UNITS + np.minimum(units, _CART_UNITS - 1),
    )
    browsers = np.flatnonzero(
        active & (u >= RECENT_CART_SHARE) & (u < RECENT_CART_SHARE + RECENT_BROWSE_SHARE)
    )
    first = now - rng.integers(DAY // 12, 7 * DAY, len(browsers))
    first = np.maximum(first, shopper.created_at[browsers] + MINUTE)
    category, _ = _browsed(rng, shopper, catalogue, browsers, first)
    customer = np.repeat(browsers, BROWSE_BURST)
    # The views spread over up to two days after the first, and stay in the past.
    room = np.minimum(2 * DAY, now - MINUTE - np.repeat(first, BROWSE_BURST))
    time = np.repeat(first, BROWSE_BURST) + (rng.random(len(customer)) * room).astype(np.int64)
    parts.add(
        customer,
        np.full(len(customer), E[EventType.CATEGORY_VIEW]),
        _web_channel(shopper, customer),
        time,
        np.full(len(customer), P_CATEGORY),
        np.repeat(category, BROWSE_BURST),
    )
    opted_out = np.flatnonzero(traits.opted_out_at > 0)
    parts.add(
        opted_out,
        np.full(len(opted_out), E[EventType.UNSUBSCRIBE]),
        np.full(len(opted_out), C[ChannelCode.EMAIL]),
        traits.opted_out_at[opted_out],
        np.full(len(opted_out), P_UNSUBSCRIBE),
        np.zeros(len(opted_out), dtype=np.int64),
    )


def _followed_by_order(
    orders: Orders, customer: IntArray, time: IntArray, type_: IntArray, linked: BoolArray
) -> BoolArray:
    """Carts (not placed right before an order) that an order followed within a day."""
    sale = orders.kind == KIND_SALE
    span = np.int64(1) << 34
    keys = np.sort(orders.customer[sale] * span + orders.time[sale])
    cart = (type_ == E[EventType.CART_ADD]) & ~linked
    probe = customer * span + time
    at = np.searchsorted(keys, probe)
    nxt = keys[np.minimum(at, len(keys) - 1)] if len(keys) else probe - 1
    prv = keys[np.maximum(at - 1, 0)] if len(keys) else probe - 1
    same_customer_next = (at < len(keys)) & (nxt // span == customer)
    same_customer_prev = (at > 0) & (prv // span == customer)
    followed = same_customer_next & ((nxt % span) - time < DAY)
    same_day_before = same_customer_prev & ((prv % span) // DAY == time // DAY)
    same_day_after = same_customer_next & ((nxt % span) // DAY == time // DAY)
    return cart & (followed | same_day_before | same_day_after)


def _render(catalogue: Catalogue, kind: int, value: int) -> str:
    if kind == P_CAMPAIGN:
        month = np.datetime64(value, "M").astype(str)
        return json.dumps({"campaign": f"newsletter-{month}"})
    if kind == P_WIN_BACK:
        return json.dumps({"campaign": WIN_BACK_CAMPAIGN})
    if kind == P_CATEGORY:
        return json.dumps({"category": CATEGORY_CODES[value]})
    if kind in (P_PRODUCT, P_CART):
        product = value // _CART_UNITS if kind == P_CART else value
        properties: dict[str, object] = {
            "product_id": int(catalogue.ids[product]),
            "sku": catalogue.sku[product],
            "category": CATEGORY_CODES[int(catalogue.category[product])],
        }
        if kind == P_CART:
            properties["quantity"] = value % _CART_UNITS
        return json.dumps(properties)
    if kind == P_UNSUBSCRIBE:
        return json.dumps({"channel": str(ChannelCode.EMAIL)})
    return json.dumps({})


def draw_events(
    rng: np.random.Generator,
    traits: Engagement,
    purchases: Purchases,
    orders: Orders,
    catalogue: Catalogue,
    now: int,
) -> Events:
    """Every event of a block of customers, ascending in time."""
    parts = _EventParts([], [], [], [], [], [])
    _around_orders(rng, orders, traits.shopper.created_at, parts)
    linked_count = sum(len(part) for part in parts.customer)
    _background(rng, traits, purchases, catalogue, now, parts)
    _recent(rng, traits, catalogue, now, parts)
    customer = np.concatenate(parts.customer).astype(np.int64)
    type_ = np.concatenate(parts.type).astype(np.int64)
    # Sign-ups within the last minute could push an event to `now`; history ends before it.
    time = np.minimum(np.concatenate(parts.time).astype(np.int64), now - 1)
    prop_kind = np.concatenate(parts.prop_kind).astype(np.int64)
    prop_value = np.concatenate(parts.prop_value).astype(np.int64)
    linked = np.arange(len(customer)) < linked_count
    # A cart an order followed that day was not abandoned: it was only a look.
    looked = _followed_by_order(orders, customer, time, type_, linked)
    type_ = np.where(looked, E[EventType.PRODUCT_VIEW], type_)
    prop_value = np.where(looked, prop_value // _CART_UNITS, prop_value)
    prop_kind = np.where(looked, P_PRODUCT, prop_kind)
    keys, inverse = np.unique(prop_kind * _VALUE_SPAN + prop_value, return_inverse=True)
    rendered = np.array(
        [_render(catalogue, int(key // _VALUE_SPAN), int(key % _VALUE_SPAN)) for key in keys],
        dtype=object,
    )
    order = np.lexsort((type_, customer, time))
    return Events(
        customer=customer[order],
        type=type_[order],
        channel=np.concatenate(parts.channel).astype(np.int64)[order],
        time=time[order],
        properties=rendered[inverse.reshape(-1)][order],
    )
