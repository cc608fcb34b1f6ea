"""The read-ahead that overlaps rendering with writing."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from domain.demo.pipeline import read_ahead


def test_items_arrive_in_order() -> None:
    with read_ahead(iter(range(100)), depth=3) as items:
        assert list(items) == list(range(100))


def test_a_producer_error_reaches_the_consumer_after_the_items_before_it() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("block 3 could not be built")

    received = []
    with pytest.raises(ValueError, match="block 3"), read_ahead(failing(), depth=2) as items:
        for item in items:
            received.append(item)
    assert received == [1, 2]


def test_leaving_early_stops_the_producer_at_most_depth_items_ahead() -> None:
    produced = []

    def counting() -> Iterator[int]:
        for n in range(1000):
            produced.append(n)
            yield n

    with read_ahead(counting(), depth=2) as items:
        assert next(items) == 0
    assert len(produced) <= 5
    assert not any(t.name == "demo-data-producer" for t in threading.enumerate())
