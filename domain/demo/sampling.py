"""Vectorised sampling helpers shared by the demo generators."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DAY = 86_400
HOUR = 3_600

# Relative activity per local hour of day: quiet at night, peaks in the evening.
_HOURLY_ACTIVITY = np.array(
    [1.0, 0.5, 0.3, 0.2, 0.2, 0.3, 0.8, 2.0, 3.0, 4.0, 4.5, 5.0,
     5.5, 5.0, 4.5, 4.5, 5.0, 5.5, 6.0, 7.0, 7.5, 6.5, 4.5, 2.5]
)  # fmt: skip
_HOURLY_CDF = np.cumsum(_HOURLY_ACTIVITY) / _HOURLY_ACTIVITY.sum()


def blank(values: np.ndarray[Any, Any], where: BoolArray) -> np.ndarray[Any, Any]:
    """An object-array copy of the values with None where the mask is set."""
    out = values.astype(object)
    out[where] = None
    return out


def normalised(weights: npt.ArrayLike) -> FloatArray:
    """Weights scaled to sum to one along the last axis."""
    array = np.asarray(weights, dtype=np.float64)
    return array / array.sum(axis=-1, keepdims=True)


def pick(rng: np.random.Generator, weights: npt.ArrayLike, size: int) -> IntArray:
    """`size` indices drawn with the given (unnormalised) weights."""
    return rng.choice(len(np.asarray(weights)), size=size, p=normalised(weights)).astype(np.int64)


def pick_per_row(rng: np.random.Generator, weights: FloatArray, rows: IntArray) -> IntArray:
    """For each entry of `rows`, an index drawn from that row of a weight matrix."""
    cdf = np.cumsum(weights, axis=1)
    cdf /= cdf[:, -1:]
    drawn = (rng.random(len(rows))[:, None] >= cdf[rows]).sum(axis=1)
    return np.minimum(drawn, weights.shape[1] - 1).astype(np.int64)


def pick_within(rng: np.random.Generator, pools: list[IntArray], which: IntArray) -> IntArray:
    """For each entry of `which`, a uniformly drawn member of pool `pools[which]`."""
    sizes = np.array([len(pool) for pool in pools], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    flat = np.concatenate(pools)
    offsets = (rng.random(len(which)) * sizes[which]).astype(np.int64)
    return flat[starts[which] + offsets]


def group_starts(counts: IntArray) -> IntArray:
    """Index of the first member of each group in a flat array grouped by `counts`."""
    return np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)


def position_in_group(counts: IntArray) -> IntArray:
    """0-based position of every member within its group, for a flat grouped array."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(group_starts(counts), counts)


def at_daytime(
    rng: np.random.Generator, times: IntArray, utc_offset: IntArray, before: int
) -> IntArray:
    """The same local calendar days at a plausible local hour, all strictly before `before`."""
    local_day = (times + utc_offset) // DAY
    hour = np.searchsorted(_HOURLY_CDF, rng.random(len(times)), side="right")
    seconds = hour * HOUR + rng.integers(0, HOUR, len(times))
    moved = local_day * DAY + seconds - utc_offset
    # Moving within the last local day can cross `before`; take the day before instead.
    return np.where(moved >= before, moved - DAY, moved).astype(np.int64)
