"""When each customer buys: a BG/NBD-like process shaped by the customer's archetype.

Every buyer gets a purchase rate from a gamma distribution (their personal rhythm is its
inverse) and log-normal gaps around that rhythm. Alive buyers (repeat, VIP) keep buying up to
now; the others drop out after a geometric number of purchases whose dropout probability comes
from a beta distribution, and their last purchase sits as far in the past as their archetype
says, measured in their own rhythm. Decliners slow down before stopping; reactivated buyers
resume after a long sleep.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from domain.demo.archetypes import A, Archetype
from domain.demo.sampling import (
    DAY,
    FloatArray,
    IntArray,
    at_daytime,
    group_starts,
    position_in_group,
)

MAX_ORDERS = 80
HISTORY_DAYS = 900
TENURE_DAYS = 720

# Purchase-rate gamma (shape, mean rhythm in days) and the clip of the rhythm, per archetype.
_RHYTHM: dict[Archetype, tuple[float, float, float, float]] = {
    Archetype.REPEAT: (3.0, 60.0, 20.0, 180.0),
    Archetype.VIP: (4.0, 25.0, 8.0, 45.0),
    Archetype.DECLINER: (3.0, 60.0, 20.0, 150.0),
    Archetype.SLEEPER: (3.0, 60.0, 20.0, 150.0),
    Archetype.REACTIVATED: (3.0, 50.0, 20.0, 100.0),
    Archetype.LOST: (3.0, 60.0, 20.0, 90.0),
}
# Beta(a, b) of the dropout probability after each purchase, for buyers who stop.
_DROPOUT: dict[Archetype, tuple[float, float]] = {
    Archetype.DECLINER: (2.0, 10.0),
    Archetype.SLEEPER: (2.0, 8.0),
    Archetype.REACTIVATED: (2.0, 8.0),
    Archetype.LOST: (2.0, 5.0),
}
# Decliners' last gaps stretch (last gap first): they buy ever more slowly.
_SLOWDOWN = (1.8, 1.5, 1.25)


@dataclass(frozen=True)
class Purchases:
    """Completed sales per customer, grouped by customer and ascending in time.

    `rhythm_days` is 0 for customers who never buy twice; `woke_at` is the first purchase
    after the long sleep of reactivated customers and 0 for everybody else.
    """

    customer: IntArray
    time: IntArray
    counts: IntArray
    rhythm_days: FloatArray
    woke_at: IntArray

    def first_time(self) -> IntArray:
        """Each customer's first purchase time, 0 for customers who never buy."""
        return self._at_position(group_starts(self.counts))

    def last_time(self) -> IntArray:
        """Each customer's last purchase time, 0 for customers who never buy."""
        return self._at_position(group_starts(self.counts) + self.counts - 1)

    def _at_position(self, position: IntArray) -> IntArray:
        has = self.counts > 0
        found = np.zeros(len(self.counts), dtype=np.int64)
        found[has] = self.time[position[has]]
        return found


def _by_archetype(
    archetype: IntArray, table: Mapping[Archetype, tuple[float, ...]], i: int
) -> FloatArray:
    column = np.ones(len(A))
    for key, values in table.items():
        column[A[key]] = values[i]
    return column[archetype]


def _rhythms(rng: np.random.Generator, archetype: IntArray, frequency: FloatArray) -> FloatArray:
    shape = _by_archetype(archetype, _RHYTHM, 0)
    mean_days = _by_archetype(archetype, _RHYTHM, 1)
    # A gamma rate with mean 1/mean_days; the rhythm is the inverse of the rate.
    rate = rng.gamma(shape, 1.0 / (shape * mean_days)) * frequency
    lo = _by_archetype(archetype, _RHYTHM, 2)
    hi = _by_archetype(archetype, _RHYTHM, 3)
    has_rhythm = np.isin(archetype, [A[key] for key in _RHYTHM])
    return np.where(has_rhythm, np.clip(1.0 / rate, lo, hi), 0.0)


def _counts(
    rng: np.random.Generator, archetype: IntArray, rhythm: FloatArray
) -> tuple[IntArray, IntArray]:
    n = len(archetype)
    rhythm = np.maximum(rhythm, 1.0)  # one-time buyers have none; their count is fixed anyway
    is_ = {key: archetype == A[key] for key in Archetype}
    dropout = rng.beta(_by_archetype(archetype, _DROPOUT, 0), _by_archetype(archetype, _DROPOUT, 1))
    survived = rng.geometric(np.clip(dropout, 0.02, 0.98)).astype(np.int64)
    span = rng.uniform(0.1, 1.0, n) * TENURE_DAYS / rhythm
    repeat = 2 + rng.poisson(span)
    vip = 6 + rng.poisson(np.maximum(span, 0.3 * TENURE_DAYS / rhythm))
    woken = 1 + (rng.random(n) < 0.4).astype(np.int64)
    counts = np.zeros(n, dtype=np.int64)
    counts[is_[Archetype.ONE_TIME_RECENT] | is_[Archetype.ONE_TIME_OLD]] = 1
    counts = np.where(is_[Archetype.REPEAT], repeat, counts)
    counts = np.where(is_[Archetype.VIP], vip, counts)
    counts = np.where(is_[Archetype.DECLINER], 3 + survived, counts)
    counts = np.where(is_[Archetype.SLEEPER] | is_[Archetype.LOST], 1 + survived, counts)
    counts = np.where(is_[Archetype.REACTIVATED], 1 + survived + woken, counts)
    minimum = np.select(
        [is_[Archetype.VIP], is_[Archetype.DECLINER], is_[Archetype.REACTIVATED]],
        [6, 4, 2 + woken],
        default=np.minimum(counts, 2),
    )
    # History stays within a few years: no more purchases than the rhythm allows.
    ceiling = np.maximum(minimum, (HISTORY_DAYS / rhythm).astype(np.int64) + minimum)
    counts = np.clip(counts, minimum, np.minimum(ceiling, MAX_ORDERS))
    new = np.where(is_[Archetype.REACTIVATED], woken, 0)
    return counts.astype(np.int64), new.astype(np.int64)


def _recency_days(rng: np.random.Generator, archetype: IntArray, rhythm: FloatArray) -> FloatArray:
    n = len(archetype)
    is_ = {key: archetype == A[key] for key in Archetype}
    return np.select(
        [
            is_[Archetype.ONE_TIME_RECENT],
            is_[Archetype.ONE_TIME_OLD],
            is_[Archetype.REPEAT] | is_[Archetype.VIP],
            is_[Archetype.DECLINER],
            is_[Archetype.SLEEPER],
            is_[Archetype.LOST],
            is_[Archetype.REACTIVATED],
        ],
        [
            rng.uniform(1, 75, n),
            rng.uniform(150, 900, n),
            rhythm * rng.uniform(0.05, 0.9, n),
            rhythm * rng.uniform(2.0, 3.0, n),
            np.maximum(rhythm * rng.uniform(3.5, 7.0, n), 120),
            np.maximum(rhythm * rng.uniform(8.0, 12.0, n), rng.uniform(400, 700, n)),
            rng.uniform(2, 45, n),
        ],
        default=0.0,
    )


def draw_purchases(
    rng: np.random.Generator,
    archetype: IntArray,
    frequency: FloatArray,
    utc_offset: IntArray,
    now: int,
) -> Purchases:
    """Completed-sale times (seconds since the epoch, before `now`) for every customer."""
    n = len(archetype)
    rhythm = _rhythms(rng, archetype, frequency)
    counts, woken = _counts(rng, archetype, rhythm)
    recency = _recency_days(rng, archetype, rhythm)
    customer = np.repeat(np.arange(n, dtype=np.int64), counts)
    position = position_in_group(counts)
    from_end = counts[customer] - 1 - position
    mu = rhythm[customer]
    sigma = rng.uniform(0.2, 0.6, n)[customer]
    gaps = mu * np.exp(sigma * rng.standard_normal(len(customer)) - sigma**2 / 2)
    gaps = np.clip(gaps, 1.0, 3.0 * mu)
    declining = archetype[customer] == A[Archetype.DECLINER]
    for k, factor in enumerate(_SLOWDOWN):
        gaps = np.where(declining & (from_end == k), gaps * factor, gaps)
    old = counts[customer] - woken[customer]
    reactivated = archetype[customer] == A[Archetype.REACTIVATED]
    sleep = np.maximum(mu * rng.uniform(5.0, 9.0, len(customer)), 200.0)
    gaps = np.where(reactivated & (position == old), sleep, gaps)
    gaps = np.where(reactivated & (position == old + 1), rng.uniform(7, 30, len(customer)), gaps)
    gaps[position == 0] = 0.0
    # Each purchase lies the sum of the later gaps before the last one.
    running = np.cumsum(gaps)
    starts = group_starts(counts)
    has = counts > 0
    before_group = np.zeros(n)
    before_group[has] = running[starts[has]] - gaps[starts[has]]
    within = running - np.repeat(before_group, counts)
    total = np.zeros(n)
    total[has] = running[starts[has] + counts[has] - 1] - before_group[has]
    after = total[customer] - within
    seconds = now - ((recency[customer] + after) * DAY).astype(np.int64)
    times = at_daytime(rng, seconds, utc_offset[customer], now)
    woke_at = np.zeros(n, dtype=np.int64)
    first_new = reactivated & (position == old)
    woke_at[customer[first_new]] = times[first_new]
    order = np.lexsort((times, customer))
    return Purchases(
        customer=customer[order],
        time=times[order],
        counts=counts,
        rhythm_days=rhythm,
        woke_at=woke_at,
    )
