"""Seeded synthetic behaviour with real structure, for the scoring-model tests.

`purchase_histories` draws customers the way BG/NBD-style models assume they behave: each has
their own rhythm (gamma-distributed gaps around a personal mean), a chance to drop out after
every purchase, their own basket size and return habit, and engagement events that mostly stop
when they drop out. `journey_baskets` draws category baskets with life-stage sequences
(maternity → infant formula → toddler formula → children's skincare, with months between the
steps), items bought together, and a popular background.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from worker.models.features import (
    Events,
    Lines,
    Transactions,
    make_events,
    make_lines,
    make_transactions,
)

START_DAY = 19_000.0  # 2022-01-08
GAP_SHAPE = 3.0


@dataclass(frozen=True)
class Behaviour:
    """Transactions, order lines (category per line) and engagement events of one population."""

    tx: Transactions
    lines: Lines
    events: Events
    end: float


def purchase_histories(
    n_customers: int = 20_000,
    *,
    seed: int = 0,
    years: float = 3.0,
    n_categories: int = 12,
    prospects: int = 0,
) -> Behaviour:
    """Customers with personal rhythms, drop-out, spend, returns, categories and engagement.

    The last `prospects` customers engage but never buy.
    """
    rng = np.random.default_rng(seed)
    end = START_DAY + 365.0 * years
    n = n_customers
    birth = START_DAY + rng.uniform(0, end - START_DAY - 30, n)
    mean_gap = rng.lognormal(np.log(45), 0.6, n)
    dropout = rng.beta(1.2, 8.0, n)
    purchases = np.minimum(rng.geometric(dropout), 200)
    log_spend = rng.normal(np.log(5_000), 0.5, n)
    return_habit = rng.beta(1.0, 12.0, n)
    engagement_rate = rng.gamma(2.0, 0.02, n)

    cust = np.repeat(np.arange(n), purchases)
    starts = np.cumsum(purchases) - purchases
    gaps = rng.gamma(GAP_SHAPE, mean_gap[cust] / GAP_SHAPE)
    gaps[starts] = 0.0
    elapsed = np.cumsum(gaps)
    t = birth[cust] + elapsed - np.repeat(elapsed[starts], purchases)
    # A customer drops out some rhythm after their final purchase; engagement mostly stops there.
    last_purchase = t[starts + purchases - 1]
    death = last_purchase + rng.gamma(GAP_SHAPE, mean_gap / GAP_SHAPE)

    seen = (t < end) & (cust < n - prospects)
    cust, t = cust[seen], t[seen]
    amount = np.round(rng.lognormal(log_spend[cust], 0.35))
    returned = rng.random(cust.size) < return_habit[cust]
    return_t = t[returned] + rng.uniform(2, 20, returned.sum())
    in_window = return_t < end
    tx = make_transactions(
        np.r_[cust, cust[returned][in_window]],
        np.r_[t, return_t[in_window]],
        np.r_[amount, -np.round(amount[returned][in_window] / 2)],
        n_customers=n,
    )

    lines_per_order = 1 + rng.poisson(0.8, cust.size)
    line_order = np.repeat(np.arange(cust.size), lines_per_order)
    popularity = 1.0 / np.arange(1, n_categories + 1)
    lines = make_lines(
        cust[line_order],
        line_order,
        rng.choice(n_categories, size=line_order.size, p=popularity / popularity.sum()),
        t[line_order],
        n_customers=n,
        n_items=n_categories,
    )
    return Behaviour(tx, lines, _engagement(rng, birth, death, engagement_rate, end), end)


def _engagement(
    rng: np.random.Generator,
    birth: NDArray[np.float64],
    death: NDArray[np.float64],
    rate: NDArray[np.float64],
    end: float,
) -> Events:
    alive_until = np.minimum(death, end)
    alive_count = rng.poisson(rate * (alive_until - birth))
    dead_count = rng.poisson(0.1 * rate * np.maximum(end - death, 0))
    n = birth.size
    alive_cust = np.repeat(np.arange(n), alive_count)
    dead_cust = np.repeat(np.arange(n), dead_count)
    alive_t = rng.uniform(birth[alive_cust], alive_until[alive_cust])
    dead_t = rng.uniform(death[dead_cust], end)
    return make_events(np.r_[alive_cust, dead_cust], np.r_[alive_t, dead_t], n_customers=n)


ITEM_NAMES: tuple[str, ...] = (
    "maternity wear",
    "infant formula",
    "toddler formula",
    "children's skincare",
    "espresso machine",
    "coffee beans",
    "descaler",
    "running shoes",
    "sports socks",
    "energy gels",
    "pasta",
    "pasta sauce",
    "shampoo",
    "conditioner",
    "printer",
    "printer ink",
    "milk",
    "bread",
    "eggs",
    "apples",
    "cheese",
    "rice",
    "tea",
    "chocolate",
)
# Life-stage journeys: each step follows the previous one after a lag drawn from (low, high) days.
JOURNEYS: tuple[tuple[tuple[int, float, float], ...], ...] = (
    ((0, 0, 0), (1, 90, 270), (2, 240, 420), (3, 300, 500)),
    ((4, 0, 0), (5, 7, 30), (6, 120, 240)),
    ((7, 0, 0), (8, 14, 60), (9, 30, 120)),
)
BUNDLES: tuple[tuple[int, int], ...] = ((10, 11), (12, 13), (14, 15))
EVERYDAY = np.arange(16, len(ITEM_NAMES))


@dataclass(frozen=True)
class Baskets:
    """Order lines over named items."""

    lines: Lines
    item_names: tuple[str, ...]
    end: float


def journey_baskets(n_customers: int = 6_000, *, seed: int = 0, years: float = 3.0) -> Baskets:
    """Category baskets with life-stage sequences, bundles and an everyday background."""
    rng = np.random.default_rng(seed)
    end = START_DAY + 365.0 * years
    everyday_weights = 1.0 / np.arange(1, EVERYDAY.size + 1) ** 0.8
    everyday_weights /= everyday_weights.sum()
    orders: list[tuple[int, float, list[int]]] = []
    for customer in range(n_customers):
        start = START_DAY + rng.uniform(0, 365.0 * years * 0.6)
        if rng.random() < 0.75:
            journey = JOURNEYS[rng.integers(len(JOURNEYS))]
            t = start
            for item, low, high in journey:
                t += rng.uniform(low, high)
                basket = [item]
                if rng.random() < 0.4:
                    basket.append(int(rng.choice(EVERYDAY, p=everyday_weights)))
                orders.append((customer, t, basket))
                if rng.random() > 0.85:
                    break
        for _ in range(rng.poisson(2.5)):
            basket = [int(item) for item in rng.choice(EVERYDAY, 2, p=everyday_weights)]
            if rng.random() < 0.3:
                first, second = BUNDLES[rng.integers(len(BUNDLES))]
                basket.append(first)
                if rng.random() < 0.7:
                    basket.append(second)
            orders.append((customer, start + rng.uniform(0, 365.0 * years * 0.9), basket))
    orders = [order for order in orders if order[1] < end]
    counts = [len(set(basket)) for _, _, basket in orders]
    return Baskets(
        make_lines(
            np.repeat([customer for customer, _, _ in orders], counts),
            np.repeat(np.arange(len(orders)), counts),
            [item for _, _, basket in orders for item in sorted(set(basket))],
            np.repeat([t for _, t, _ in orders], counts),
            n_customers=n_customers,
            n_items=len(ITEM_NAMES),
        ),
        ITEM_NAMES,
        end,
    )


def with_customer(behaviour: Behaviour, days: list[float], amounts: list[float]) -> Behaviour:
    """The same population plus one hand-built customer (the last index), one line per order."""
    tx, lines, events = behaviour.tx, behaviour.lines, behaviour.events
    newcomer = tx.n_customers
    n = newcomer + 1
    first_order = int(lines.order.max()) + 1
    return Behaviour(
        make_transactions(
            np.r_[tx.customer, [newcomer] * len(days)],
            np.r_[tx.t, days],
            np.r_[tx.amount, amounts],
            n_customers=n,
        ),
        make_lines(
            np.r_[lines.customer, [newcomer] * len(days)],
            np.r_[lines.order, first_order + np.arange(len(days))],
            np.r_[lines.item, np.zeros(len(days), dtype=np.int64)],
            np.r_[lines.t, days],
            n_customers=n,
            n_items=lines.n_items,
        ),
        make_events(events.customer, events.t, n_customers=n),
        behaviour.end,
    )


def with_shopper(baskets: Baskets, orders: list[tuple[float, list[int]]]) -> Baskets:
    """The same baskets plus one hand-built customer (the last index) with the given orders."""
    lines = baskets.lines
    newcomer = lines.n_customers
    first_order = int(lines.order.max()) + 1
    counts = [len(items) for _, items in orders]
    return Baskets(
        make_lines(
            np.r_[lines.customer, [newcomer] * sum(counts)],
            np.r_[lines.order, np.repeat(first_order + np.arange(len(orders)), counts)],
            np.r_[lines.item, [item for _, items in orders for item in items]],
            np.r_[lines.t, np.repeat([t for t, _ in orders], counts)],
            n_customers=newcomer + 1,
            n_items=lines.n_items,
        ),
        baskets.item_names,
        baskets.end,
    )
