"""Cross-sell structure: what a shopper buys at each phase of a family's journey, and together.

Parents move through phases anchored on the baby's birth: maternity during pregnancy, infant
formula from birth (3-9 months after the maternity purchases), toddler formula a year later,
skincare for the parent from half a year in. Other shoppers buy general lines around a
favourite category. Extra lines of an order follow co-purchase affinity with its main line.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from domain.demo.catalog import CATEGORY_CODES, CATEGORY_INDEX
from domain.demo.sampling import DAY, BoolArray, FloatArray, IntArray, pick_per_row


class Phase(IntEnum):
    """Where a shopper is on the family journey when they buy."""

    GENERAL = 0
    PREGNANCY = 1
    NEWBORN = 2
    INFANT = 3
    TODDLER = 4


PREGNANCY_DAYS = 280
NEWBORN_DAYS = 180
INFANT_DAYS = 365
TODDLER_DAYS = 3 * 365

_PHASE_MIX: dict[Phase, dict[str, float]] = {
    Phase.GENERAL: {
        "household": 0.25,
        "snacks": 0.2,
        "health": 0.15,
        "skincare": 0.15,
        "toys": 0.15,
        "baby_clothing": 0.1,
    },
    Phase.PREGNANCY: {
        "maternity": 0.55,
        "health": 0.12,
        "gear": 0.12,
        "baby_clothing": 0.1,
        "feeding": 0.06,
        "household": 0.05,
    },
    Phase.NEWBORN: {
        "infant_formula": 0.4,
        "diapers": 0.25,
        "feeding": 0.1,
        "baby_skincare": 0.1,
        "baby_clothing": 0.08,
        "health": 0.04,
        "gear": 0.03,
    },
    Phase.INFANT: {
        "infant_formula": 0.35,
        "diapers": 0.2,
        "skincare": 0.12,
        "toys": 0.1,
        "baby_skincare": 0.08,
        "baby_clothing": 0.08,
        "feeding": 0.04,
        "snacks": 0.03,
    },
    Phase.TODDLER: {
        "toddler_formula": 0.35,
        "toys": 0.14,
        "skincare": 0.12,
        "snacks": 0.12,
        "diapers": 0.1,
        "baby_clothing": 0.08,
        "baby_skincare": 0.05,
        "health": 0.04,
    },
}

# The category that opens a phase: the first order in it always has this main line.
_PHASE_OPENER: dict[Phase, str] = {
    Phase.PREGNANCY: "maternity",
    Phase.NEWBORN: "infant_formula",
    Phase.TODDLER: "toddler_formula",
}

_AFFINITY: dict[str, dict[str, float]] = {
    "maternity": {"health": 0.3, "baby_clothing": 0.25, "skincare": 0.25, "feeding": 0.2},
    "infant_formula": {"feeding": 0.35, "diapers": 0.35, "baby_skincare": 0.3},
    "toddler_formula": {"snacks": 0.4, "diapers": 0.3, "toys": 0.3},
    "feeding": {"infant_formula": 0.5, "baby_skincare": 0.5},
    "diapers": {"baby_skincare": 0.5, "infant_formula": 0.3, "household": 0.2},
    "baby_skincare": {"diapers": 0.5, "skincare": 0.5},
    "skincare": {"health": 0.4, "baby_skincare": 0.3, "household": 0.3},
    "toys": {"baby_clothing": 0.5, "snacks": 0.3, "gear": 0.2},
    "baby_clothing": {"toys": 0.6, "diapers": 0.4},
    "gear": {"toys": 0.5, "baby_clothing": 0.5},
    "household": {"snacks": 0.5, "health": 0.5},
    "snacks": {"household": 0.6, "toddler_formula": 0.4},
    "health": {"skincare": 0.5, "household": 0.5},
}

AFFINITY_SHARE = 0.6
FAVOURITE_SHARE = 0.5


def _matrix(rows: list[dict[str, float]]) -> FloatArray:
    matrix = np.zeros((len(rows), len(CATEGORY_CODES)))
    for r, weights in enumerate(rows):
        for code, weight in weights.items():
            matrix[r, CATEGORY_INDEX[code]] = weight
    return matrix


PHASE_WEIGHTS = _matrix([_PHASE_MIX[phase] for phase in Phase])
AFFINITY_WEIGHTS = _matrix([_AFFINITY[code] for code in CATEGORY_CODES])
GENERAL_CATEGORIES = np.flatnonzero(PHASE_WEIGHTS[Phase.GENERAL] > 0).astype(np.int64)
_OPENERS = np.full(len(Phase), -1, dtype=np.int64)
for _phase, _code in _PHASE_OPENER.items():
    _OPENERS[_phase] = CATEGORY_INDEX[_code]


def phase_at(times: IntArray, birth: IntArray, is_parent: BoolArray) -> IntArray:
    """The journey phase at each time, for shoppers with the given birth anchors."""
    age = (times - birth) / DAY
    phase = np.full(len(times), Phase.GENERAL, dtype=np.int64)
    parent = is_parent
    phase[parent & (age >= -PREGNANCY_DAYS) & (age < 0)] = Phase.PREGNANCY
    phase[parent & (age >= 0) & (age < NEWBORN_DAYS)] = Phase.NEWBORN
    phase[parent & (age >= NEWBORN_DAYS) & (age < INFANT_DAYS)] = Phase.INFANT
    phase[parent & (age >= INFANT_DAYS) & (age < TODDLER_DAYS)] = Phase.TODDLER
    return phase


def main_categories(
    rng: np.random.Generator,
    phase: IntArray,
    opens_phase: BoolArray,
    favourite: IntArray,
) -> IntArray:
    """The main category of each order: phase openers first, favourites for general shoppers."""
    drawn = pick_per_row(rng, PHASE_WEIGHTS, phase)
    general = phase == Phase.GENERAL
    likes_favourite = general & (rng.random(len(phase)) < FAVOURITE_SHARE)
    drawn = np.where(likes_favourite, favourite, drawn)
    opener = _OPENERS[phase]
    return np.where(opens_phase & (opener >= 0), opener, drawn)


def extra_categories(rng: np.random.Generator, main: IntArray, phase: IntArray) -> IntArray:
    """Categories of further lines: mostly bought-together with the main line, else the phase's."""
    affine = pick_per_row(rng, AFFINITY_WEIGHTS, main)
    independent = pick_per_row(rng, PHASE_WEIGHTS, phase)
    return np.where(rng.random(len(main)) < AFFINITY_SHARE, affine, independent)
