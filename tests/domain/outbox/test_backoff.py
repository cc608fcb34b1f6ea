"""Backoff between attempts and the delivery settings' checks: pure, no database."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from domain.outbox.delivery import DeliveryConfig, backoff

EXACT = DeliveryConfig(
    backoff_base=timedelta(seconds=30), backoff_max=timedelta(minutes=5), jitter=0.0
)


def test_backoff_doubles_from_the_base_and_stops_at_the_cap() -> None:
    waits = [backoff(attempt, EXACT, random.Random(0)).total_seconds() for attempt in range(1, 7)]

    assert waits == [30, 60, 120, 240, 300, 300]


def test_jitter_stays_within_its_fraction_and_spreads_retries() -> None:
    config = DeliveryConfig(backoff_base=timedelta(seconds=100), jitter=0.2)
    rng = random.Random(7)

    waits = [backoff(1, config, rng).total_seconds() for _ in range(1000)]

    assert 80 <= min(waits) < 82 and 118 < max(waits) <= 120
    assert len({round(w) for w in waits}) == 41  # every whole second from 80 to 120 occurs


def test_a_huge_attempt_number_does_not_overflow() -> None:
    assert backoff(10_000, EXACT, random.Random(0)) == timedelta(minutes=5)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"max_attempts": 0}, "max_attempts must be at least 1"),
        ({"lease": timedelta(0)}, "lease and backoff_base must be positive"),
        ({"backoff_max": timedelta(seconds=1)}, "backoff_max must not be shorter"),
        ({"jitter": 1.0}, "jitter must be a fraction"),
    ],
)
def test_config_refuses_settings_that_cannot_work(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DeliveryConfig(**values)  # type: ignore[arg-type]
