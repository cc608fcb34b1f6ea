"""Step timings and JSON-ready figures for a run's params, metrics and timings columns."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from typing import Any

import numpy as np


class StepTimer:
    """Wall seconds per named step, added up when a step runs more than once."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the block under `name`."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def add_seconds(total: dict[str, float], more: Mapping[str, float]) -> None:
    """Add one set of step seconds to another (shards of one phase)."""
    for name, seconds in more.items():
        total[name] = total.get(name, 0.0) + float(seconds)


def plain(value: Any) -> Any:
    """JSON-ready data: numpy values as Python ones, NaN and infinities as None."""
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return [plain(item) for item in value.tolist()]
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def rounded(seconds: Mapping[str, float]) -> dict[str, float]:
    """Seconds to the millisecond, for the timings column."""
    return {name: round(value, 3) for name, value in seconds.items()}
