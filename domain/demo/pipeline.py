"""Produce items in a worker thread a bounded distance ahead of their consumer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from queue import Full, Queue
from typing import TypeVar

T = TypeVar("T")
_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class _End:
    error: BaseException | None = None


@contextmanager
def read_ahead(items: Iterator[T], depth: int) -> Iterator[Iterator[T]]:
    """Iterate `items` in a worker thread, at most `depth` items ahead of the caller.

    The caller gets the items in order and any error of the producer re-raised; leaving the
    block early stops the producer instead of leaving it blocked on a full queue.
    """
    queue: Queue[T | _End] = Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(item: T | _End) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=_POLL_SECONDS)
            except Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand_over(item):
                    return
        except BaseException as error:
            hand_over(_End(error))
            return
        hand_over(_End())

    def consume() -> Iterator[T]:
        while not isinstance(item := queue.get(), _End):
            yield item
        if item.error is not None:
            raise item.error

    worker = threading.Thread(target=produce, name="demo-data-producer", daemon=True)
    worker.start()
    try:
        yield consume()
    finally:
        stop.set()
        worker.join()
