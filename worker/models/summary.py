"""RFM summary (frequency, recency, T, monetary_value) from a transaction log.

The definitions are those of lifetimes' ``summary_data_from_transaction_data``:

* timestamps are truncated to periods (``"D"`` days, ``"W"`` weeks starting on Monday, which is
  pandas' ``W``/``W-SUN`` period); every transaction of a customer in one period collapses into a
  single period purchase whose amount is the sum of the amounts;
* transactions in periods after the observation end are dropped (the end's own period is kept);
* ``frequency`` is the number of repeat periods (distinct periods minus one), ``recency`` the
  number of periods between the first and the last purchase, ``T`` the number of periods between
  the first purchase and the observation end;
* ``monetary_value`` is the mean amount of the repeat periods (the first period is left out), 0
  when ``frequency`` is 0.

Integer timestamps are days since 1970-01-01, so weekly periods line up with pandas' periods of
the same dates. Everything is sort-based and vectorised: one ``np.sort`` of a packed
(customer, period, row) key, then difference masks and ``np.add.reduceat``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Freq = Literal["D", "W"]

# 1970-01-01 is a Thursday: shifting by 3 days makes floor division start weeks on Monday.
_WEEK_SHIFT = 3


@dataclass(frozen=True, slots=True)
class RFMSummary:
    """Per-customer summary, one entry per customer, sorted by customer id."""

    customer: NDArray[np.int64]
    frequency: NDArray[np.int64]
    recency: NDArray[np.float64]
    T: NDArray[np.float64]
    monetary_value: NDArray[np.float64] | None


def to_days(timestamp: ArrayLike) -> NDArray[np.int64]:
    """Days since 1970-01-01 of datetime64 values (floored) or of integer day numbers."""
    values = np.asarray(timestamp)
    if np.issubdtype(values.dtype, np.datetime64):
        return values.astype("datetime64[D]").astype(np.int64)
    if not np.issubdtype(values.dtype, np.integer):
        raise TypeError(f"timestamps must be datetime64 or integer days, not {values.dtype}")
    return values.astype(np.int64, copy=False)


def to_periods(days: NDArray[np.int64], freq: Freq) -> NDArray[np.int64]:
    """Period numbers of day numbers: the day itself for "D", Monday-based weeks for "W"."""
    if freq == "D":
        return days
    if freq == "W":
        return (days + _WEEK_SHIFT) // 7
    raise ValueError(f"freq must be 'D' or 'W', not {freq!r}")


def summary_from_transactions(
    customer: ArrayLike,
    timestamp: ArrayLike,
    amount: ArrayLike | None = None,
    *,
    freq: Freq = "D",
    observation_end: int | np.datetime64 | None = None,
) -> RFMSummary:
    """Build the per-customer RFM summary of a transaction log, as lifetimes does."""
    cust = np.asarray(customer).astype(np.int64, copy=False)
    period = to_periods(to_days(timestamp), freq)
    values = None if amount is None else _amount_array(amount)
    if cust.shape != period.shape or cust.ndim != 1:
        raise ValueError("customer and timestamp must be 1-D arrays of the same length")
    if values is not None and values.shape != cust.shape:
        raise ValueError("amount must have the same length as customer")
    if cust.size == 0:
        return _empty(values is not None)

    if observation_end is None:
        end = int(period.max())
    else:
        end = int(to_periods(to_days(np.asarray(observation_end)), freq))
        kept = period <= end
        if not kept.all():
            cust, period = cust[kept], period[kept]
            values = None if values is None else values[kept]
            if cust.size == 0:
                return _empty(values is not None)

    period_customer, period_number, period_amount = _collapse_periods(cust, period, values)

    new_customer = np.empty(period_customer.size, dtype=bool)
    new_customer[0] = True
    np.not_equal(period_customer[1:], period_customer[:-1], out=new_customer[1:])
    starts = np.flatnonzero(new_customer)
    ends = np.append(starts[1:], period_customer.size) - 1
    first = period_number[starts]
    frequency = (ends - starts).astype(np.int64)

    monetary = None
    if period_amount is not None:
        # The first period is not a repeat purchase: zero it before summing per customer.
        period_amount[starts] = 0
        repeat_total = np.add.reduceat(period_amount, starts).astype(np.float64)
        monetary = np.divide(
            repeat_total, frequency, out=np.zeros(frequency.size), where=frequency > 0
        )
    return RFMSummary(
        customer=period_customer[starts],
        frequency=frequency,
        recency=(period_number[ends] - first).astype(np.float64),
        T=(end - first).astype(np.float64),
        monetary_value=monetary,
    )


def _amount_array(amount: ArrayLike) -> NDArray[np.float64] | NDArray[np.int64]:
    values = np.asarray(amount)
    # Integer minor units are summed exactly in int64; only the final mean is a float.
    if np.issubdtype(values.dtype, np.integer) or values.dtype == np.bool_:
        return values.astype(np.int64, copy=False)
    return values.astype(np.float64, copy=False)


def _empty(with_amount: bool) -> RFMSummary:
    return RFMSummary(
        customer=np.empty(0, dtype=np.int64),
        frequency=np.empty(0, dtype=np.int64),
        recency=np.empty(0),
        T=np.empty(0),
        monetary_value=np.empty(0) if with_amount else None,
    )


def _collapse_periods(
    cust: NDArray[np.int64],
    period: NDArray[np.int64],
    amount: NDArray[np.float64] | NDArray[np.int64] | None,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64] | NDArray[np.int64] | None]:
    """Distinct (customer, period) pairs in sorted order, with the summed amount of each."""
    cmin, pmin = int(cust.min()), int(period.min())
    # Bit fields rather than a product: shifts and masks undo them much faster than // and %.
    period_bits = (int(period.max()) - pmin).bit_length()
    if (int(cust.max()) - cmin).bit_length() + period_bits > 62:
        return _collapse_periods_lexsort(cust, period, amount)

    # In-place steps: at ten million rows every fresh temporary costs page faults.
    key = cust - cmin
    key <<= period_bits
    key |= period - pmin
    order = None
    if amount is None:
        key = np.sort(key)
    elif not _is_sorted(key):
        key, order = _sort_with_order(key)
    new_period = np.empty(key.size, dtype=bool)
    new_period[0] = True
    np.not_equal(key[1:], key[:-1], out=new_period[1:])
    starts = np.flatnonzero(new_period)
    period_key = key[starts]
    period_amount = None
    if amount is not None:
        ordered = amount if order is None else amount[order]
        period_amount = np.add.reduceat(ordered, starts)
    period_mask = (1 << period_bits) - 1
    return (period_key >> period_bits) + cmin, (period_key & period_mask) + pmin, period_amount


def _collapse_periods_lexsort(
    cust: NDArray[np.int64],
    period: NDArray[np.int64],
    amount: NDArray[np.float64] | NDArray[np.int64] | None,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64] | NDArray[np.int64] | None]:
    """Slower path for customer ids too spread out to pack with the period into one int64."""
    order = np.lexsort((period, cust))
    cust, period = cust[order], period[order]
    new_period = np.empty(cust.size, dtype=bool)
    new_period[0] = True
    new_period[1:] = (cust[1:] != cust[:-1]) | (period[1:] != period[:-1])
    starts = np.flatnonzero(new_period)
    period_amount = None if amount is None else np.add.reduceat(amount[order], starts)
    return cust[starts], period[starts], period_amount


def _is_sorted(key: NDArray[np.int64]) -> bool:
    return bool(np.all(key[1:] >= key[:-1]))


def _sort_with_order(key: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
    """Sorted keys and the permutation that sorts them."""
    row_bits = max(int(key.size - 1).bit_length(), 1)
    if int(key.max()).bit_length() + row_bits <= 63:
        # Packing the row number under the key turns an argsort into a plain sort, ~4x faster.
        packed = key << row_bits
        packed |= np.arange(key.size, dtype=np.int64)
        packed.sort()
        order = (packed & ((1 << row_bits) - 1)).astype(np.intp, copy=False)
        packed >>= row_bits
        return packed, order
    order = np.argsort(key)
    return key[order], order
