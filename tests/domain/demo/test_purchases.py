"""The purchase process: every archetype buys with the rhythm and recency it stands for."""

from __future__ import annotations

import numpy as np
import pytest

from domain.demo.archetypes import ARCHETYPES, A, Archetype
from domain.demo.purchases import Purchases, draw_purchases
from domain.demo.sampling import DAY, group_starts

NOW = 1_795_000_000  # 2026-11-17 UTC
PER_ARCHETYPE = 400
SLACK = 1.0  # purchases move to a plausible hour of their day, so up to a day either way


@pytest.fixture(scope="module")
def drawn() -> tuple[np.ndarray, Purchases]:
    archetype = np.repeat(np.arange(len(ARCHETYPES), dtype=np.int64), PER_ARCHETYPE)
    rng = np.random.default_rng(11)
    n = len(archetype)
    purchases = draw_purchases(rng, archetype, np.ones(n), np.zeros(n, dtype=np.int64), NOW)
    return archetype, purchases


def _of(archetype: np.ndarray, key: Archetype) -> np.ndarray:
    return np.flatnonzero(archetype == A[key])


def _recency_days(purchases: Purchases) -> np.ndarray:
    return (NOW - purchases.last_time()) / DAY


def _gaps_days(purchases: Purchases, customer: int) -> np.ndarray:
    start = group_starts(purchases.counts)[customer]
    times = purchases.time[start : start + purchases.counts[customer]]
    return np.diff(times) / DAY


def test_prospects_and_leads_never_buy_and_one_time_buyers_buy_once(
    drawn: tuple[np.ndarray, Purchases],
) -> None:
    archetype, purchases = drawn
    for key in (Archetype.PROSPECT, Archetype.LEAD):
        assert purchases.counts[_of(archetype, key)].max() == 0
    for key in (Archetype.ONE_TIME_RECENT, Archetype.ONE_TIME_OLD):
        assert set(purchases.counts[_of(archetype, key)]) == {1}
    recency = _recency_days(purchases)
    assert recency[_of(archetype, Archetype.ONE_TIME_RECENT)].max() <= 75 + SLACK
    assert recency[_of(archetype, Archetype.ONE_TIME_OLD)].min() >= 150 - SLACK


def test_every_purchase_lies_in_the_past_grouped_by_customer_in_time_order(
    drawn: tuple[np.ndarray, Purchases],
) -> None:
    _, purchases = drawn
    assert purchases.time.max() < NOW
    assert np.all(np.diff(purchases.customer) >= 0)
    same = purchases.customer[1:] == purchases.customer[:-1]
    assert np.all(np.diff(purchases.time)[same] >= 0)
    assert len(purchases.time) == purchases.counts.sum()


def test_alive_buyers_last_bought_within_their_rhythm(drawn: tuple[np.ndarray, Purchases]) -> None:
    archetype, purchases = drawn
    recency = _recency_days(purchases)
    rhythm = purchases.rhythm_days
    for key, minimum in ((Archetype.REPEAT, 2), (Archetype.VIP, 6)):
        rows = _of(archetype, key)
        assert purchases.counts[rows].min() >= minimum
        assert np.all(recency[rows] <= 0.9 * rhythm[rows] + SLACK)


def test_vips_buy_more_often_and_more_times_than_repeat_buyers(
    drawn: tuple[np.ndarray, Purchases],
) -> None:
    archetype, purchases = drawn
    vip, repeat = _of(archetype, Archetype.VIP), _of(archetype, Archetype.REPEAT)
    assert np.median(purchases.rhythm_days[vip]) < np.median(purchases.rhythm_days[repeat]) / 1.5
    assert purchases.counts[vip].mean() > 2 * purchases.counts[repeat].mean()


def test_decliners_slow_down_and_are_two_to_three_rhythms_overdue(
    drawn: tuple[np.ndarray, Purchases],
) -> None:
    archetype, purchases = drawn
    rows = _of(archetype, Archetype.DECLINER)
    recency = _recency_days(purchases)[rows]
    rhythm = purchases.rhythm_days[rows]
    assert np.all(recency >= 2 * rhythm - SLACK)
    assert np.all(recency <= 3 * rhythm + SLACK)
    slowing = [
        gaps[-1] / np.median(gaps[:-3])
        for gaps in (_gaps_days(purchases, c) for c in rows)
        if len(gaps) >= 6
    ]
    assert np.median(slowing) > 1.5


def test_sleepers_and_lost_customers_are_long_past_their_rhythm(
    drawn: tuple[np.ndarray, Purchases],
) -> None:
    archetype, purchases = drawn
    recency = _recency_days(purchases)
    rhythm = purchases.rhythm_days
    sleepers = _of(archetype, Archetype.SLEEPER)
    assert np.all(recency[sleepers] >= np.maximum(3.5 * rhythm[sleepers], 120) - SLACK)
    lost = _of(archetype, Archetype.LOST)
    assert np.all(recency[lost] >= np.maximum(8 * rhythm[lost], 400) - SLACK)
    assert np.all(purchases.counts[np.concatenate((sleepers, lost))] >= 2)


def test_reactivated_customers_bought_again_after_a_long_sleep(
    drawn: tuple[np.ndarray, Purchases],
) -> None:
    archetype, purchases = drawn
    rows = _of(archetype, Archetype.REACTIVATED)
    recency = _recency_days(purchases)
    assert recency[rows].max() <= 45 + SLACK
    for customer in rows:
        gaps = _gaps_days(purchases, customer)
        longest = int(np.argmax(gaps))
        # The sleep is the gap into the first purchase after it, at most two purchases ago.
        assert longest >= len(gaps) - 2
        assert gaps[longest] >= max(5 * purchases.rhythm_days[customer], 200) - 2 * SLACK
        start = group_starts(purchases.counts)[customer]
        assert purchases.woke_at[customer] == purchases.time[start + longest + 1]


def test_only_repeating_archetypes_have_a_rhythm(drawn: tuple[np.ndarray, Purchases]) -> None:
    archetype, purchases = drawn
    has_rhythm = {ARCHETYPES[a] for a in np.unique(archetype[purchases.rhythm_days > 0])}
    assert has_rhythm == {
        Archetype.REPEAT,
        Archetype.VIP,
        Archetype.DECLINER,
        Archetype.SLEEPER,
        Archetype.REACTIVATED,
        Archetype.LOST,
    }
