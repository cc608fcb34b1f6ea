"""Channel quality — which channels bring the best customers — and revenue attribution.

Per acquisition channel (where a customer came from; −1 when unknown, reported in an extra last
slot) and per touch channel (every channel that reached a customer): how many customers, how
many of those reached before their first purchase went on to buy, how many bought again, and the
mean predicted CLV and churn risk of the customers it brought to their first purchase.

Revenue attribution splits every sale over the touches of the same customer in the
`lookback_days` up to and including the moment of the sale: all to the first touch, all to the
last, or evenly (linear). Sales without a touch go to the extra last slot ("direct"), so each
scheme sums to the revenue exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from worker.models.features import Touches, Transactions, group_starts, sum_by

LOOKBACK_DAYS = 30.0


@dataclass(frozen=True, slots=True)
class ChannelQuality:
    """Per-channel counts, rates and means (NaN where a rate has no denominator)."""

    customers: NDArray[np.int64]
    prospects: NDArray[np.int64]
    buyers: NDArray[np.int64]
    repeat_buyers: NDArray[np.int64]
    conversion_rate: NDArray[np.float64]
    repeat_rate: NDArray[np.float64]
    mean_predicted_clv: NDArray[np.float64]
    mean_churn_risk: NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Attribution:
    """Revenue per channel under three schemes; the last slot holds sales without a touch."""

    revenue: float
    first_touch: NDArray[np.float64]
    last_touch: NDArray[np.float64]
    linear: NDArray[np.float64]


def acquisition_quality(
    tx: Transactions,
    acquisition_channel: NDArray[np.int64],
    *,
    n_channels: int,
    predicted_clv: NDArray[np.float64],
    churn_risk: NDArray[np.float64],
) -> ChannelQuality:
    """Quality of each acquisition channel; customers with channel −1 fill the last slot."""
    channel = np.asarray(acquisition_channel, dtype=np.int64)
    if channel.shape != (tx.n_customers,):
        raise ValueError("acquisition_channel must have one entry per customer")
    if channel.size and (channel.min() < -1 or channel.max() >= n_channels):
        raise ValueError(f"acquisition channels must lie in [-1, {n_channels})")
    slot = np.where(channel < 0, n_channels, channel)
    sales, _ = _sales(tx)
    everyone = np.arange(tx.n_customers)
    # Every acquired customer started as a prospect of the channel that brought them.
    return _quality(slot, everyone, everyone, sales, n_channels + 1, predicted_clv, churn_risk)


def touch_quality(
    tx: Transactions,
    touches: Touches,
    *,
    predicted_clv: NDArray[np.float64],
    churn_risk: NDArray[np.float64],
) -> ChannelQuality:
    """Quality of each touch channel, counting each customer once per channel.

    A customer is a prospect of a channel when its first touch came at or before their first
    purchase (or they never bought); conversion is measured over those prospects only.
    """
    if touches.n_customers != tx.n_customers:
        raise ValueError("touches and transactions must cover the same customers")
    sales, first_sale = _sales(tx)
    key = touches.customer * touches.n_channels + touches.channel
    # Rows are in time order within a customer, so a stable sort puts each (customer, channel)
    # run's first touch at its start.
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = group_starts(sorted_key)
    pair, first_row = sorted_key[starts], order[starts]
    customer = pair // touches.n_channels
    channel = pair % touches.n_channels
    first_touch = touches.t[first_row]
    before_buying = ~(first_sale[customer] < first_touch)
    return _quality(
        channel,
        customer,
        customer[before_buying],
        sales,
        touches.n_channels,
        predicted_clv,
        churn_risk,
        prospect_channel=channel[before_buying],
    )


def attribute_revenue(
    tx: Transactions, touches: Touches, *, lookback_days: float = LOOKBACK_DAYS
) -> Attribution:
    """First-touch, last-touch and linear attribution of sales to touch channels."""
    if touches.n_customers != tx.n_customers:
        raise ValueError("touches and transactions must cover the same customers")
    sale = tx.amount > 0
    cust, t, amount = tx.customer[sale], tx.t[sale], tx.amount[sale]
    slots = touches.n_channels + 1
    direct = touches.n_channels
    if touches.t.size == 0:
        everything = np.zeros(slots)
        everything[direct] = amount.sum()
        return Attribution(float(amount.sum()), everything, everything.copy(), everything.copy())

    # One sorted key per (customer, time): customers sit `span` days apart, so a window of one
    # customer can never reach into the next.
    origin = float(min(t.min(initial=np.inf), touches.t.min()))
    latest = float(max(t.max(initial=-np.inf), touches.t.max()))
    span = latest - origin + lookback_days + 1.0
    touch_key = touches.customer * span + (touches.t - origin)
    sale_key = cust * span + (t - origin)
    lo = np.searchsorted(touch_key, sale_key - lookback_days, side="left")
    hi = np.searchsorted(touch_key, sale_key, side="right")
    count = hi - lo
    touched = count > 0

    # lo and hi − 1 are valid rows wherever a sale has touches; clipping only guards the rest.
    first = np.where(touched, touches.channel[np.minimum(lo, touches.t.size - 1)], direct)
    last = np.where(touched, touches.channel[np.maximum(hi - 1, 0)], direct)
    run_start = np.cumsum(count) - count
    touch_row = np.repeat(lo - run_start, count) + np.arange(count.sum())
    share = np.repeat(amount[touched] / count[touched], count[touched])
    linear = sum_by(touches.channel[touch_row], share, slots)
    linear[direct] += amount[~touched].sum()
    return Attribution(
        revenue=float(amount.sum()),
        first_touch=sum_by(first, amount, slots),
        last_touch=sum_by(last, amount, slots),
        linear=linear,
    )


def _sales(tx: Transactions) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Sales count and first sale time (inf when none) of each customer."""
    sale = tx.amount > 0
    cust, t = tx.customer[sale], tx.t[sale]
    count = np.bincount(cust, minlength=tx.n_customers)
    first = np.full(tx.n_customers, np.inf)
    has = count > 0
    first[has] = t[(np.cumsum(count) - count)[has]]
    return count, first


def _quality(
    channel: NDArray[np.int64],
    customer: NDArray[np.int64],
    prospect: NDArray[np.int64],
    sales: NDArray[np.int64],
    slots: int,
    predicted_clv: NDArray[np.float64],
    churn_risk: NDArray[np.float64],
    prospect_channel: NDArray[np.int64] | None = None,
) -> ChannelQuality:
    """Counts and means over (channel, customer) memberships; prospects may be a subset."""
    n = sales.size
    clv = np.asarray(predicted_clv, dtype=np.float64)
    churn = np.asarray(churn_risk, dtype=np.float64)
    if clv.shape != (n,) or churn.shape != (n,):
        raise ValueError("predicted_clv and churn_risk must have one entry per customer")
    prospect_channel = channel if prospect_channel is None else prospect_channel
    converted = sales[prospect] > 0
    buyer_channel = prospect_channel[converted]
    buyer = prospect[converted]
    prospects = np.bincount(prospect_channel, minlength=slots)
    buyers = np.bincount(buyer_channel, minlength=slots)
    repeat_buyers = np.bincount(buyer_channel[sales[buyer] > 1], minlength=slots)
    return ChannelQuality(
        customers=np.bincount(channel, minlength=slots),
        prospects=prospects,
        buyers=buyers,
        repeat_buyers=repeat_buyers,
        conversion_rate=_rate(buyers, prospects),
        repeat_rate=_rate(repeat_buyers, buyers),
        mean_predicted_clv=_nanmean_by(buyer_channel, clv[buyer], slots),
        mean_churn_risk=_nanmean_by(buyer_channel, churn[buyer], slots),
    )


def _rate(
    numerator: NDArray[np.int64] | NDArray[np.float64],
    denominator: NDArray[np.int64] | NDArray[np.float64],
) -> NDArray[np.float64]:
    out = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _nanmean_by(
    group: NDArray[np.int64], values: NDArray[np.float64], slots: int
) -> NDArray[np.float64]:
    known = ~np.isnan(values)
    total = sum_by(group[known], values[known], slots)
    return _rate(total, np.bincount(group[known], minlength=slots))
