"""Behaviour arrays (flat, sorted by customer then time) and per-customer features at a cutoff.

Every array here is CSR-like: one row per transaction, line, event or touch, sorted by the dense
customer index (0 … n_customers − 1 within a shard) and then by time. Times are days since
1970-01-01 as float64 (integer day numbers and datetime64 values are converted by `as_days`).

Features at a cutoff t0 read only rows with t < t0; the label "ordered within the horizon H"
reads sales with t0 ≤ t < t0 + H. The two windows are half-open and touch without a gap, so a
model trained at t0 (labels before t0 + H) and evaluated at t0 + H has learned nothing from the
outcomes it is judged on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

SECONDS_PER_DAY = 86_400.0
HALF_YEAR_DAYS = 182.5
YEAR_DAYS = 365.0
ENGAGEMENT_WINDOW_DAYS = 90.0


def as_days(values: ArrayLike) -> NDArray[np.float64]:
    """Days since 1970-01-01 of datetime64 values or of numeric day numbers, as float64."""
    arr = np.asarray(values)
    if np.issubdtype(arr.dtype, np.datetime64):
        return arr.astype("datetime64[s]").astype(np.int64) / SECONDS_PER_DAY
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"times must be datetime64 or numeric days, not {arr.dtype}")
    return arr.astype(np.float64, copy=False)


@dataclass(frozen=True, slots=True)
class Transactions:
    """Orders (positive amounts) and returns (negative amounts), sorted by customer then time."""

    customer: NDArray[np.int64]
    t: NDArray[np.float64]
    amount: NDArray[np.float64]
    n_customers: int

    def before(self, cutoff: float) -> Transactions:
        """The rows strictly before the cutoff (still sorted)."""
        keep = self.t < cutoff
        return Transactions(self.customer[keep], self.t[keep], self.amount[keep], self.n_customers)


@dataclass(frozen=True, slots=True)
class Lines:
    """Order lines: which item (product or category index) a customer bought in which order."""

    customer: NDArray[np.int64]
    order: NDArray[np.int64]
    item: NDArray[np.int64]
    t: NDArray[np.float64]
    n_customers: int
    n_items: int

    def before(self, cutoff: float) -> Lines:
        """The lines strictly before the cutoff (still sorted)."""
        keep = self.t < cutoff
        return self.select(keep)

    def select(self, keep: NDArray[np.bool_]) -> Lines:
        """The lines where the mask is true (still sorted)."""
        return Lines(
            self.customer[keep],
            self.order[keep],
            self.item[keep],
            self.t[keep],
            self.n_customers,
            self.n_items,
        )


@dataclass(frozen=True, slots=True)
class Adoptions:
    """One row per (customer, item) ever bought, sorted by customer then item."""

    customer: NDArray[np.int64]
    item: NDArray[np.int64]
    first: NDArray[np.float64]
    last: NDArray[np.float64]
    n_customers: int
    n_items: int

    def select(self, keep: NDArray[np.bool_]) -> Adoptions:
        """The rows where the mask is true (still sorted)."""
        return Adoptions(
            self.customer[keep],
            self.item[keep],
            self.first[keep],
            self.last[keep],
            self.n_customers,
            self.n_items,
        )


@dataclass(frozen=True, slots=True)
class Events:
    """Engagement events (opens, clicks, visits, views, carts) sorted by customer then time."""

    customer: NDArray[np.int64]
    t: NDArray[np.float64]
    n_customers: int


@dataclass(frozen=True, slots=True)
class Touches:
    """Marketing touches: which channel reached a customer when, sorted by customer then time."""

    customer: NDArray[np.int64]
    t: NDArray[np.float64]
    channel: NDArray[np.int64]
    n_customers: int
    n_channels: int


def make_transactions(
    customer: ArrayLike, t: ArrayLike, amount: ArrayLike, *, n_customers: int
) -> Transactions:
    """Validate and sort a transaction log (amounts in minor units; returns negative)."""
    cust, days = _customer_and_days(customer, t, n_customers)
    values = np.asarray(amount, dtype=np.float64)
    _same_length(cust, values, "amount")
    order = _order_by_customer_time(cust, days)
    if order is not None:
        cust, days, values = cust[order], days[order], values[order]
    return Transactions(cust, days, values, n_customers)


def make_lines(
    customer: ArrayLike,
    order: ArrayLike,
    item: ArrayLike,
    t: ArrayLike,
    *,
    n_customers: int,
    n_items: int,
) -> Lines:
    """Validate and sort order lines by customer, time and order."""
    cust, days = _customer_and_days(customer, t, n_customers)
    orders = np.asarray(order, dtype=np.int64)
    items = np.asarray(item, dtype=np.int64)
    _same_length(cust, orders, "order")
    _same_length(cust, items, "item")
    if items.size and (items.min() < 0 or items.max() >= n_items):
        raise ValueError(f"item indices must lie in [0, {n_items})")
    if cust.size and not _is_sorted_by(cust, days, orders):
        sort = np.lexsort((orders, days, cust))
        cust, days, orders, items = cust[sort], days[sort], orders[sort], items[sort]
    return Lines(cust, orders, items, days, n_customers, n_items)


def adoptions(lines: Lines) -> Adoptions:
    """First and last purchase time of every (customer, item) in the lines."""
    key = lines.customer * lines.n_items + lines.item
    # Stable on rows already in time order: each key's run starts at its first purchase.
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = group_starts(sorted_key)
    ends = np.r_[starts[1:], sorted_key.size][: starts.size] - 1
    t = lines.t[order]
    unique_key = sorted_key[starts]
    return Adoptions(
        customer=unique_key // lines.n_items,
        item=unique_key % lines.n_items,
        first=t[starts],
        last=t[ends],
        n_customers=lines.n_customers,
        n_items=lines.n_items,
    )


def make_events(customer: ArrayLike, t: ArrayLike, *, n_customers: int) -> Events:
    """Validate and sort engagement events."""
    cust, days = _customer_and_days(customer, t, n_customers)
    order = _order_by_customer_time(cust, days)
    if order is not None:
        cust, days = cust[order], days[order]
    return Events(cust, days, n_customers)


def make_touches(
    customer: ArrayLike, t: ArrayLike, channel: ArrayLike, *, n_customers: int, n_channels: int
) -> Touches:
    """Validate and sort marketing touches."""
    cust, days = _customer_and_days(customer, t, n_customers)
    chan = np.asarray(channel, dtype=np.int64)
    _same_length(cust, chan, "channel")
    if chan.size and (chan.min() < 0 or chan.max() >= n_channels):
        raise ValueError(f"channel indices must lie in [0, {n_channels})")
    order = _order_by_customer_time(cust, days)
    if order is not None:
        cust, days, chan = cust[order], days[order], chan[order]
    return Touches(cust, days, chan, n_customers, n_channels)


@dataclass(frozen=True, slots=True)
class CustomerFeatures:
    """Per-customer behaviour at a cutoff; NaN where a feature is undefined for a customer."""

    cutoff: float
    has_orders: NDArray[np.bool_]
    recency_days: NDArray[np.float64]
    frequency: NDArray[np.float64]
    monetary: NDArray[np.float64]
    spend_12m: NDArray[np.float64]
    tenure_days: NDArray[np.float64]
    mean_interval_days: NDArray[np.float64]
    overdue_ratio: NDArray[np.float64]
    spend_trend: NDArray[np.float64]
    spend_change: NDArray[np.float64]
    returns_share: NDArray[np.float64]
    engagement_90d: NDArray[np.float64]
    category_breadth: NDArray[np.float64]

    def column(self, name: str) -> NDArray[np.float64]:
        """One model feature array by name."""
        if name not in MODEL_FEATURES:
            raise KeyError(f"{name!r} is not a model feature")
        value: NDArray[np.float64] = getattr(self, name)
        return value


# The features a propensity model reads, in column order. `spend_change` is kept for reason
# texts; `spend_trend` carries the same signal, bounded to [−1, 1].
MODEL_FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "spend_12m",
    "tenure_days",
    "mean_interval_days",
    "overdue_ratio",
    "spend_trend",
    "returns_share",
    "engagement_90d",
    "category_breadth",
)


def customer_features(
    tx: Transactions,
    *,
    cutoff: float,
    adopted: Adoptions | None = None,
    events: Events | None = None,
) -> CustomerFeatures:
    """Features of every customer from the rows strictly before the cutoff.

    `adopted` (from `adoptions(lines)`, built once for every cutoff) gives category breadth;
    `events` give engagement. Without them those features are NaN.
    """
    n = tx.n_customers
    past = tx.t < cutoff
    sale = past & (tx.amount > 0)
    ret = past & (tx.amount < 0)

    sale_cust, sale_t, sale_amount = tx.customer[sale], tx.t[sale], tx.amount[sale]
    count = np.bincount(sale_cust, minlength=n)
    has_orders = count > 0
    ends = np.cumsum(count)
    starts = ends - count
    first = np.full(n, np.nan)
    last = np.full(n, np.nan)
    # Rows are sorted by customer then time, so each customer's first and last sale sit at the
    # edges of its slice.
    first[has_orders] = sale_t[starts[has_orders]]
    last[has_orders] = sale_t[ends[has_orders] - 1]

    gross = sum_by(sale_cust, sale_amount, n)
    returned = -sum_by(tx.customer[ret], tx.amount[ret], n)
    recent = sale_t >= cutoff - HALF_YEAR_DAYS
    prior = ~recent & (sale_t >= cutoff - YEAR_DAYS)
    spend_recent = sum_by(sale_cust[recent], sale_amount[recent], n)
    spend_prior = sum_by(sale_cust[prior], sale_amount[prior], n)

    frequency = count.astype(np.float64)
    tenure = cutoff - first
    recency = cutoff - last
    repeat = count > 1
    mean_interval = _divide(last - first, frequency - 1, repeat)
    both = spend_recent + spend_prior
    return CustomerFeatures(
        cutoff=float(cutoff),
        has_orders=has_orders,
        recency_days=recency,
        frequency=np.where(has_orders, frequency, np.nan),
        monetary=np.where(has_orders, gross - returned, np.nan),
        spend_12m=np.where(has_orders, spend_recent + spend_prior, np.nan),
        tenure_days=tenure,
        mean_interval_days=mean_interval,
        # A zero mean interval (several orders on one day) has no rhythm to be overdue on.
        overdue_ratio=_divide(recency, mean_interval, repeat & (mean_interval > 0)),
        spend_trend=_divide(spend_recent - spend_prior, both, has_orders & (both > 0)),
        spend_change=_divide(spend_recent - spend_prior, spend_prior, spend_prior > 0),
        returns_share=_divide(returned, gross, has_orders & (gross > 0)),
        engagement_90d=_engagement(events, cutoff, n, has_orders),
        category_breadth=_breadth(adopted, cutoff, n, has_orders),
    )


def ordered_within(tx: Transactions, *, cutoff: float, horizon: float) -> NDArray[np.bool_]:
    """Whether each customer placed a sale in [cutoff, cutoff + horizon)."""
    window = (tx.t >= cutoff) & (tx.t < cutoff + horizon) & (tx.amount > 0)
    return np.bincount(tx.customer[window], minlength=tx.n_customers) > 0


def first_sale_from(tx: Transactions, *, cutoff: float, horizon: float) -> NDArray[np.float64]:
    """Time of each customer's first sale in [cutoff, cutoff + horizon), NaN when none."""
    window = (tx.t >= cutoff) & (tx.t < cutoff + horizon) & (tx.amount > 0)
    cust, t = tx.customer[window], tx.t[window]
    first = np.full(tx.n_customers, np.nan)
    starts = group_starts(cust)
    first[cust[starts]] = t[starts]
    return first


def sum_by(
    index: NDArray[np.int64], weights: NDArray[np.float64], length: int
) -> NDArray[np.float64]:
    """Sum of the weights per index value 0 … length − 1."""
    # numpy's stubs type bincount as integer even with float weights.
    out: NDArray[np.float64] = np.bincount(index, weights=weights, minlength=length)  # type: ignore[assignment]
    return out


def distinct(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """Sorted distinct values; a plain sort beats numpy's hash-based unique on int64 keys."""
    ordered = np.sort(values)
    return ordered[group_starts(ordered)]


def group_starts(sorted_keys: NDArray[np.int64]) -> NDArray[np.int64]:
    """Indices where a new run of equal values begins in a sorted array."""
    if sorted_keys.size == 0:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])


def _engagement(
    events: Events | None, cutoff: float, n: int, has_orders: NDArray[np.bool_]
) -> NDArray[np.float64]:
    if events is None:
        return np.full(n, np.nan)
    if events.n_customers != n:
        raise ValueError("events and transactions must cover the same customers")
    window = (events.t < cutoff) & (events.t >= cutoff - ENGAGEMENT_WINDOW_DAYS)
    counts = np.bincount(events.customer[window], minlength=n).astype(np.float64)
    return np.where(has_orders, counts, np.nan)


def _breadth(
    adopted: Adoptions | None, cutoff: float, n: int, has_orders: NDArray[np.bool_]
) -> NDArray[np.float64]:
    if adopted is None:
        return np.full(n, np.nan)
    if adopted.n_customers != n:
        raise ValueError("adoptions and transactions must cover the same customers")
    counts = np.bincount(adopted.customer[adopted.first < cutoff], minlength=n)
    return np.where(has_orders, counts.astype(np.float64), np.nan)


def _divide(
    numerator: NDArray[np.float64], denominator: NDArray[np.float64], where: NDArray[np.bool_]
) -> NDArray[np.float64]:
    out = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=where)
    return out


def _customer_and_days(
    customer: ArrayLike, t: ArrayLike, n_customers: int
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    cust = np.asarray(customer, dtype=np.int64)
    days = as_days(t)
    if cust.ndim != 1:
        raise ValueError("customer must be a 1-D array")
    _same_length(cust, days, "t")
    if cust.size and (cust.min() < 0 or cust.max() >= n_customers):
        raise ValueError(f"customer indices must lie in [0, {n_customers})")
    if np.isnan(days).any():
        raise ValueError("times must not be NaN")
    return cust, days


def _same_length(reference: NDArray[np.int64], other: NDArray[np.generic], name: str) -> None:
    if other.shape != reference.shape:
        raise ValueError(f"{name} must have the same length as customer")


def _order_by_customer_time(
    cust: NDArray[np.int64], days: NDArray[np.float64]
) -> NDArray[np.intp] | None:
    """The permutation sorting rows by (customer, time), or None when already sorted."""
    if cust.size == 0 or _is_sorted_by(cust, days):
        return None
    return np.lexsort((days, cust))


def _is_sorted_by(*keys: NDArray[np.generic]) -> bool:
    """Whether rows are sorted lexicographically by the keys (first key most significant)."""
    tied = np.ones(keys[0].size - 1, dtype=bool)
    for key in keys:
        step = np.diff(key)
        if np.any(tied & (step < 0)):
            return False
        tied &= step == 0
    return True
