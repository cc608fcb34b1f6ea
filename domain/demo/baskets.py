"""What each order holds: sales (some cancelled), their lines, and returns of bought goods."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from domain.demo.archetypes import (
    BASKET_FACTOR,
    CHANNELS,
    ONLINE_ORDER_CHANNELS,
    ORDER_CHANNEL_WEIGHTS,
    A,
    Archetype,
)
from domain.demo.catalog import Catalogue
from domain.demo.journeys import extra_categories, main_categories, phase_at
from domain.demo.purchases import Purchases
from domain.demo.sampling import (
    DAY,
    HOUR,
    BoolArray,
    FloatArray,
    IntArray,
    pick_per_row,
    pick_within,
    position_in_group,
)

CANCEL_SHARE = 0.012
RETURN_SHARE = 0.03
MAX_LINES = 6
MAX_UNITS = 6
RECENT_DAYS = 365

# Mean number of lines beyond the first, per archetype (VIPs fill bigger baskets).
_EXTRA_LINES: dict[Archetype, float] = {
    Archetype.VIP: 1.6,
    Archetype.REPEAT: 1.0,
    Archetype.REACTIVATED: 1.0,
    Archetype.DECLINER: 0.9,
    Archetype.SLEEPER: 0.8,
    Archetype.LOST: 0.7,
}
_EXTRA_LINES_DEFAULT = 0.6
_ONLINE = np.array([code in ONLINE_ORDER_CHANNELS for code in CHANNELS])

KIND_SALE, KIND_RETURN = 0, 1
STATUS_COMPLETED, STATUS_CANCELLED = 0, 1


@dataclass(frozen=True)
class Shopper:
    """Per-customer traits the baskets depend on."""

    archetype: IntArray
    channel: IntArray
    created_at: IntArray
    is_parent: BoolArray
    birth: IntArray
    favourite: IntArray


@dataclass(frozen=True)
class Orders:
    """All orders of a block, ascending in time; lines grouped by order in the same order."""

    customer: IntArray
    time: IntArray
    channel: IntArray
    kind: IntArray
    status: IntArray
    total_minor: IntArray
    online: BoolArray
    line_order: IntArray
    line_no: IntArray
    line_product: IntArray
    line_quantity: IntArray
    line_total_minor: IntArray

    @property
    def first_line(self) -> IntArray:
        """Index of every order's first line."""
        return np.flatnonzero(self.line_no == 1)


def _opens_phase(customer: IntArray, phase: IntArray) -> BoolArray:
    """Whether each order (grouped by customer, ascending) is its customer's first in its phase."""
    opens = np.ones(len(customer), dtype=bool)
    opens[1:] = (customer[1:] != customer[:-1]) | (phase[1:] != phase[:-1])
    return opens


def _products(
    rng: np.random.Generator,
    catalogue: Catalogue,
    category: IntArray,
    recent: BoolArray,
    premium: BoolArray,
) -> IntArray:
    """A product of each category: only active ones lately; premium shoppers take the dearer."""
    chosen = np.where(
        recent,
        pick_within(rng, catalogue.active_by_category, category),
        pick_within(rng, catalogue.by_category, category),
    )
    other = np.where(
        recent,
        pick_within(rng, catalogue.active_by_category, category),
        pick_within(rng, catalogue.by_category, category),
    )
    dearer = np.where(catalogue.price_minor[other] > catalogue.price_minor[chosen], other, chosen)
    return np.where(premium, dearer, chosen)


def draw_orders(
    rng: np.random.Generator,
    purchases: Purchases,
    shopper: Shopper,
    catalogue: Catalogue,
    now: int,
) -> Orders:
    """Orders with lines following the journeys, plus cancelled attempts and returns."""
    completed_customer, completed_time = purchases.customer, purchases.time
    phase_completed = phase_at(
        completed_time, shopper.birth[completed_customer], shopper.is_parent[completed_customer]
    )
    opens_completed = _opens_phase(completed_customer, phase_completed)

    # A few sales were cancelled: an extra attempt shortly before a completed one.
    cancelled = np.flatnonzero(rng.random(len(completed_time)) < CANCEL_SHARE)
    cancel_customer = completed_customer[cancelled]
    cancel_time = completed_time[cancelled] - rng.integers(HOUR, 2 * DAY, len(cancelled))
    cancel_time = np.maximum(cancel_time, shopper.created_at[cancel_customer] + 60)

    customer = np.concatenate((completed_customer, cancel_customer))
    time = np.concatenate((completed_time, cancel_time))
    status = np.concatenate(
        (
            np.full(len(completed_time), STATUS_COMPLETED, dtype=np.int64),
            np.full(len(cancelled), STATUS_CANCELLED, dtype=np.int64),
        )
    )
    opens = np.concatenate((opens_completed, np.zeros(len(cancelled), dtype=bool)))
    phase = phase_at(time, shopper.birth[customer], shopper.is_parent[customer])
    channel = pick_per_row(rng, ORDER_CHANNEL_WEIGHTS, shopper.channel[customer])
    main = main_categories(rng, phase, opens, shopper.favourite[customer])

    archetype = shopper.archetype[customer]
    extra_lines = np.full(len(A), _EXTRA_LINES_DEFAULT)
    for key, mean in _EXTRA_LINES.items():
        extra_lines[A[key]] = mean
    basket = BASKET_FACTOR[shopper.channel[customer]]
    line_counts = np.minimum(1 + rng.poisson(extra_lines[archetype] * basket), MAX_LINES)
    line_order = np.repeat(np.arange(len(time), dtype=np.int64), line_counts)
    line_no = position_in_group(line_counts) + 1
    category = np.where(
        line_no == 1,
        main[line_order],
        extra_categories(rng, main[line_order], phase[line_order]),
    )
    recent = time[line_order] >= now - RECENT_DAYS * DAY
    vip = archetype[line_order] == A[Archetype.VIP]
    product = _products(rng, catalogue, category, recent, vip)
    unit_mean: FloatArray = catalogue.extra_units[category] * np.where(vip, 1.5, 1.0)
    quantity = np.minimum(1 + rng.poisson(unit_mean), MAX_UNITS)
    line_total = quantity * catalogue.price_minor[product]
    total = np.bincount(line_order, weights=line_total, minlength=len(time)).astype(np.int64)

    # Returns give back the first line of a completed sale a few days to a month later.
    first_lines = np.flatnonzero(line_no == 1)
    return_after = rng.integers(2 * DAY, 30 * DAY, len(completed_time))
    returned = np.flatnonzero(
        (rng.random(len(completed_time)) < RETURN_SHARE) & (completed_time + return_after < now)
    )
    returned_line = first_lines[returned]

    all_customer = np.concatenate((customer, customer[returned]))
    all_time = np.concatenate((time, completed_time[returned] + return_after[returned]))
    all_channel = np.concatenate((channel, channel[returned]))
    all_kind = np.concatenate(
        (np.full(len(time), KIND_SALE), np.full(len(returned), KIND_RETURN))
    ).astype(np.int64)
    all_status = np.concatenate((status, np.full(len(returned), STATUS_COMPLETED, dtype=np.int64)))
    all_total = np.concatenate((total, -line_total[returned_line]))
    all_line_order = np.concatenate((line_order, len(time) + np.arange(len(returned))))
    all_line_no = np.concatenate((line_no, np.ones(len(returned), dtype=np.int64)))
    all_product = np.concatenate((product, product[returned_line]))
    all_quantity = np.concatenate((quantity, -quantity[returned_line]))
    all_line_total = np.concatenate((line_total, -line_total[returned_line]))

    # Ids follow time, as they would in a live shop; lines follow their orders.
    by_time = np.lexsort((all_kind, all_customer, all_time))
    rank = np.empty_like(by_time)
    rank[by_time] = np.arange(len(by_time))
    line_rank = rank[all_line_order]
    by_line = np.lexsort((all_line_no, line_rank))
    return Orders(
        customer=all_customer[by_time],
        time=all_time[by_time],
        channel=all_channel[by_time],
        kind=all_kind[by_time],
        status=all_status[by_time],
        total_minor=all_total[by_time],
        online=_ONLINE[all_channel[by_time]],
        line_order=line_rank[by_line],
        line_no=all_line_no[by_line],
        line_product=all_product[by_line],
        line_quantity=all_quantity[by_line],
        line_total_minor=all_line_total[by_line],
    )
