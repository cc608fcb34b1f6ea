"""The catalogue and the family journey that drives cross-sell."""

from __future__ import annotations

import numpy as np

from domain.demo.catalog import CATEGORY_CODES, CATEGORY_INDEX, build_catalogue
from domain.demo.journeys import Phase, main_categories, phase_at
from domain.demo.sampling import DAY


def test_catalogue_has_143_products_13_discontinued_and_active_ones_in_every_category() -> None:
    catalogue = build_catalogue()
    assert len(catalogue.sku) == 143
    assert len(set(catalogue.sku)) == 143
    assert int((~catalogue.active).sum()) == 13
    assert all(len(pool) > 0 for pool in catalogue.active_by_category)
    assert catalogue.sku[0] == "MAT-001"
    assert catalogue.name[0] == "Bloom Maternity jeans"
    assert int(catalogue.price_minor[0]) == 4999
    assert np.all(catalogue.price_minor % 100 == 99)


def test_parents_move_from_pregnancy_to_toddler_phases_around_the_birth() -> None:
    birth = 1_700_000_000
    offsets = np.array([-300, -100, 10, 200, 400, 1200])
    times = birth + offsets * DAY
    parent = phase_at(times, np.full(6, birth), np.ones(6, dtype=bool))
    assert parent.tolist() == [
        Phase.GENERAL,
        Phase.PREGNANCY,
        Phase.NEWBORN,
        Phase.INFANT,
        Phase.TODDLER,
        Phase.GENERAL,
    ]
    other = phase_at(times, np.full(6, birth), np.zeros(6, dtype=bool))
    assert set(other.tolist()) == {Phase.GENERAL}


def test_the_first_order_of_a_phase_opens_it_with_maternity_infant_or_toddler_formula() -> None:
    rng = np.random.default_rng(3)
    phase = np.array([Phase.PREGNANCY, Phase.NEWBORN, Phase.TODDLER] * 100, dtype=np.int64)
    opened = main_categories(rng, phase, np.ones(300, dtype=bool), np.zeros(300, dtype=np.int64))
    names = [CATEGORY_CODES[c] for c in opened[:3]]
    assert names == ["maternity", "infant_formula", "toddler_formula"]
    assert len(set(opened.reshape(100, 3)[:, 1].tolist())) == 1
    later = main_categories(rng, phase, np.zeros(300, dtype=bool), np.zeros(300, dtype=np.int64))
    newborn = later[phase == Phase.NEWBORN]
    assert CATEGORY_INDEX["maternity"] not in newborn.tolist()
    assert len(set(newborn.tolist())) > 3
