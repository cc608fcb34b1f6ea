"""RFM quintile scores and named segments.

Scores: each of recency, frequency and monetary value gets a score 1..5 from its average rank
(ties share a rank, hence a score), ``score = 1 + floor(5 * (rank - 0.5) / n)``. Recency is the
time since the last purchase (``T - recency`` in lifetimes' summary): the most recent customers
score 5. For frequency and monetary value the highest values score 5.

Segments: the usual R-score x FM-score grid, with ``FM = round_half_up((F + M) / 2)``. Rows are
FM from 5 (top) to 1, columns R from 1 to 5; every cell lies inside the commonly published
ranges (Champions R 4-5 / FM 4-5, Loyal R 2-5 / FM 3-5, Potential loyalist R 3-5 / FM 1-3,
New R 4-5 / FM 1, Promising R 3-4 / FM 1, Need attention R 2-3 / FM 2-3, About to sleep
R 2-3 / FM 1-2, At risk R 1-2 / FM 2-5, Can't lose them R 1 / FM 4-5, Hibernating R 1-2 /
FM 1-2, Lost R 1-2 / FM 1-2), overlaps being resolved as shown::

    FM 5 | Can't lose them  At risk      Loyal           Champions           Champions
    FM 4 | Can't lose them  At risk      Loyal           Champions           Champions
    FM 3 | At risk          At risk      Need attention  Loyal               Loyal
    FM 2 | Lost             Hibernating  About to sleep  Potential loyalist  Potential loyalist
    FM 1 | Lost             Hibernating  About to sleep  Promising           New
           R 1              R 2          R 3             R 4                 R 5
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import rankdata

Scores = NDArray[np.int8]


class Segment(IntEnum):
    """Segment codes, in the order of SEGMENT_NAMES."""

    CHAMPIONS = 0
    LOYAL = 1
    POTENTIAL_LOYALIST = 2
    NEW = 3
    PROMISING = 4
    NEED_ATTENTION = 5
    ABOUT_TO_SLEEP = 6
    AT_RISK = 7
    CANT_LOSE_THEM = 8
    HIBERNATING = 9
    LOST = 10


SEGMENT_NAMES: tuple[str, ...] = (
    "Champions",
    "Loyal",
    "Potential loyalist",
    "New",
    "Promising",
    "Need attention",
    "About to sleep",
    "At risk",
    "Can't lose them",
    "Hibernating",
    "Lost",
)

_S = Segment
# _GRID[fm - 1, r - 1]: the table of the module docstring, bottom row first.
_GRID = np.array(
    [
        [_S.LOST, _S.HIBERNATING, _S.ABOUT_TO_SLEEP, _S.PROMISING, _S.NEW],
        [_S.LOST, _S.HIBERNATING, _S.ABOUT_TO_SLEEP, _S.POTENTIAL_LOYALIST, _S.POTENTIAL_LOYALIST],
        [_S.AT_RISK, _S.AT_RISK, _S.NEED_ATTENTION, _S.LOYAL, _S.LOYAL],
        [_S.CANT_LOSE_THEM, _S.AT_RISK, _S.LOYAL, _S.CHAMPIONS, _S.CHAMPIONS],
        [_S.CANT_LOSE_THEM, _S.AT_RISK, _S.LOYAL, _S.CHAMPIONS, _S.CHAMPIONS],
    ],
    dtype=np.int8,
)


@dataclass(frozen=True, slots=True)
class RFMScores:
    """Per-customer scores 1..5 and segment codes (index into SEGMENT_NAMES)."""

    recency: Scores
    frequency: Scores
    monetary: Scores
    fm: Scores
    segment: Scores


def quintile_scores(values: ArrayLike, *, higher_is_better: bool = True) -> Scores:
    """Scores 1..5 by average rank, so that equal values always get the same score."""
    data = np.asarray(values, dtype=np.float64)
    if np.isnan(data).any():
        raise ValueError("cannot score missing (NaN) values")
    if data.size == 0:
        return np.empty(0, dtype=np.int8)
    ranks = rankdata(data if higher_is_better else -data, method="average")
    score = 1 + np.floor(5.0 * (ranks - 0.5) / data.size)
    return score.astype(np.int8)


def segments(recency_score: ArrayLike, fm_score: ArrayLike) -> Scores:
    """Segment code of each (R score, FM score) pair from the grid."""
    r = np.asarray(recency_score, dtype=np.intp)
    fm = np.asarray(fm_score, dtype=np.intp)
    if np.any((r < 1) | (r > 5) | (fm < 1) | (fm > 5)):
        raise ValueError("scores must lie in 1..5")
    return _GRID[fm - 1, r - 1]


def rfm_scores(
    time_since_last_purchase: ArrayLike, frequency: ArrayLike, monetary: ArrayLike
) -> RFMScores:
    """Quintile scores and segments; recency is the time since the last purchase."""
    r = quintile_scores(time_since_last_purchase, higher_is_better=False)
    f = quintile_scores(frequency)
    m = quintile_scores(monetary)
    if not r.shape == f.shape == m.shape:
        raise ValueError("recency, frequency and monetary must have the same length")
    # Mean of F and M rounded half up, computed in integers.
    fm = ((f.astype(np.int16) + m + 1) // 2).astype(np.int8)
    return RFMScores(recency=r, frequency=f, monetary=m, fm=fm, segment=segments(r, fm))
