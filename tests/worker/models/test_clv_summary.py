"""RFM summary of a transaction log: same numbers as lifetimes, from numpy arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes.utils import summary_data_from_transaction_data
from numpy.typing import NDArray

from worker.models.summary import RFMSummary, summary_from_transactions

FIRST_DAY = 18_262  # 2020-01-01


def transaction_log(
    seed: int, rows: int = 20_000, customers: int = 3_000, days: int = 400
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Random log: sparse customer ids, day numbers, cent-rounded amounts, unsorted."""
    rng = np.random.default_rng(seed)
    customer = rng.integers(0, customers, rows) * 7 + 1_000
    day = FIRST_DAY + rng.integers(0, days, rows)
    amount = rng.gamma(2.0, 15.0, rows).round(2)
    return customer, day, amount


def lifetimes_summary(
    customer: NDArray[np.int64],
    day: NDArray[np.int64],
    amount: NDArray[np.float64] | None,
    freq: str,
    observation_end: int | None,
) -> pd.DataFrame:
    frame = pd.DataFrame({"customer": customer, "date": pd.to_datetime(day, unit="D")})
    if amount is not None:
        frame["amount"] = amount
    return summary_data_from_transaction_data(
        frame,
        "customer",
        "date",
        None if amount is None else "amount",
        observation_period_end=None
        if observation_end is None
        else pd.Timestamp(observation_end, unit="D"),
        freq=freq,
    )


def assert_same_as_lifetimes(ours: RFMSummary, theirs: pd.DataFrame) -> None:
    np.testing.assert_array_equal(ours.customer, theirs.index.to_numpy())
    for column in ("frequency", "recency", "T"):
        np.testing.assert_array_equal(getattr(ours, column), theirs[column].to_numpy(), column)
    if "monetary_value" in theirs:
        assert ours.monetary_value is not None
        np.testing.assert_allclose(ours.monetary_value, theirs["monetary_value"], rtol=1e-12)
    else:
        assert ours.monetary_value is None


@pytest.mark.parametrize("freq", ["D", "W"])
@pytest.mark.parametrize("observation_end", [None, FIRST_DAY + 300])
def test_summary_with_amounts_equals_lifetimes(freq: str, observation_end: int | None) -> None:
    customer, day, amount = transaction_log(seed=1)
    ours = summary_from_transactions(
        customer, day, amount, freq=freq, observation_end=observation_end
    )
    assert_same_as_lifetimes(ours, lifetimes_summary(customer, day, amount, freq, observation_end))


@pytest.mark.parametrize("freq", ["D", "W"])
def test_summary_without_amounts_equals_lifetimes(freq: str) -> None:
    customer, day, _ = transaction_log(seed=2)
    ours = summary_from_transactions(customer, day, freq=freq)
    assert_same_as_lifetimes(ours, lifetimes_summary(customer, day, None, freq, None))


def test_datetime64_timestamps_are_truncated_to_their_day() -> None:
    customer, day, amount = transaction_log(seed=3, rows=2_000, customers=300)
    seconds = np.random.default_rng(3).integers(0, 86_400, day.size)
    stamps = (day * 86_400 + seconds).astype("datetime64[s]")
    from_stamps = summary_from_transactions(customer, stamps, amount)
    from_days = summary_from_transactions(customer, day, amount)
    for field in ("customer", "frequency", "recency", "T", "monetary_value"):
        np.testing.assert_array_equal(getattr(from_stamps, field), getattr(from_days, field))


def test_purchases_in_one_period_collapse_into_one_with_summed_amount() -> None:
    # Customer 5: day 0 (x2), day 3 (x2, 10 + 30), day 10 (6). Customer 9: one day only.
    customer = np.array([5, 5, 5, 5, 5, 9, 9])
    day = FIRST_DAY + np.array([0, 0, 3, 3, 10, 4, 4])
    amount = np.array([1.0, 2.0, 10.0, 30.0, 6.0, 8.0, 8.0])
    summary = summary_from_transactions(customer, day, amount, observation_end=FIRST_DAY + 12)
    np.testing.assert_array_equal(summary.customer, [5, 9])
    np.testing.assert_array_equal(summary.frequency, [2, 0])
    np.testing.assert_array_equal(summary.recency, [10, 0])
    np.testing.assert_array_equal(summary.T, [12, 8])
    assert summary.monetary_value is not None
    np.testing.assert_array_equal(summary.monetary_value, [(40.0 + 6.0) / 2, 0.0])


def test_weeks_run_from_monday_to_sunday() -> None:
    # Sunday 2020-01-05 closes a week; Monday 01-06 and Sunday 01-12 share the next one.
    sunday, monday, next_sunday = FIRST_DAY + 4, FIRST_DAY + 5, FIRST_DAY + 11
    summary = summary_from_transactions(
        np.array([1, 1, 1]), np.array([sunday, monday, next_sunday]), freq="W"
    )
    np.testing.assert_array_equal(summary.frequency, [1])
    np.testing.assert_array_equal(summary.recency, [1])


def test_transactions_after_the_observation_end_are_dropped() -> None:
    customer = np.array([1, 1, 2])
    day = FIRST_DAY + np.array([0, 20, 15])
    summary = summary_from_transactions(customer, day, observation_end=FIRST_DAY + 10)
    np.testing.assert_array_equal(summary.customer, [1])
    np.testing.assert_array_equal(summary.frequency, [0])
    np.testing.assert_array_equal(summary.T, [10])


def test_integer_minor_units_are_summed_exactly() -> None:
    big = 10**15  # cents: float64 sums of several such values would round
    customer = np.array([1, 1, 1, 1])
    day = FIRST_DAY + np.array([0, 1, 1, 2])
    amount = np.array([7, big + 1, big + 2, 2], dtype=np.int64)
    summary = summary_from_transactions(customer, day, amount)
    assert summary.monetary_value is not None
    assert summary.monetary_value[0] == (2 * big + 3 + 2) / 2


def test_sorted_and_shuffled_logs_give_the_same_summary() -> None:
    customer, day, amount = transaction_log(seed=4)
    order = np.lexsort((day, customer))
    shuffled = summary_from_transactions(customer, day, amount)
    ordered = summary_from_transactions(customer[order], day[order], amount[order])
    for field in ("customer", "frequency", "recency", "T"):
        np.testing.assert_array_equal(getattr(ordered, field), getattr(shuffled, field))
    assert ordered.monetary_value is not None and shuffled.monetary_value is not None
    np.testing.assert_allclose(ordered.monetary_value, shuffled.monetary_value, rtol=1e-12)


def test_customer_ids_spread_over_the_whole_int64_range() -> None:
    customer, day, amount = transaction_log(seed=5, rows=3_000, customers=200)
    dense = summary_from_transactions(customer, day, amount)
    # Ids too far apart to pack with the day into one int64 key.
    spread = (customer - 1_000) * (2**52) - 2**62
    wide = summary_from_transactions(spread, day, amount)
    np.testing.assert_array_equal(wide.customer, (dense.customer - 1_000) * (2**52) - 2**62)
    for field in ("frequency", "recency", "T"):
        np.testing.assert_array_equal(getattr(wide, field), getattr(dense, field))
    assert wide.monetary_value is not None and dense.monetary_value is not None
    np.testing.assert_allclose(wide.monetary_value, dense.monetary_value, rtol=1e-12)


def test_empty_log_gives_an_empty_summary() -> None:
    summary = summary_from_transactions(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    assert summary.customer.size == 0
    assert summary.monetary_value is not None and summary.monetary_value.size == 0
