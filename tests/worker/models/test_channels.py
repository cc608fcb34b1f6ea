"""Channel quality and revenue attribution, exact on a hand-built example."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from tests.worker.models.factories_behaviour import purchase_histories
from worker.models.channels import acquisition_quality, attribute_revenue, touch_quality
from worker.models.features import Touches, Transactions, make_touches, make_transactions

WEB, EMAIL, SOCIAL = 0, 1, 2
NAN = float("nan")
CLV = np.array([500.0, 100.0, NAN, 300.0, 2_000.0, 0.0])
CHURN = np.array([0.2, 0.8, NAN, 0.1, 0.5, NAN])


def _shop() -> Transactions:
    # 0 buys twice, 1 once, 2 never, 3 three times, 4 once, 5 only returns something.
    return make_transactions(
        [0, 0, 1, 3, 3, 3, 4, 5],
        [10.0, 50.0, 20.0, 5.0, 15.0, 25.0, 30.0, 40.0],
        [100, 200, 300, 50, 50, 50, 1_000, -100],
        n_customers=6,
    )


def _touches() -> Touches:
    return make_touches(
        [0, 0, 0, 1, 2, 3],
        [8.0, 9.0, 45.0, 25.0, 1.0, 5.0],
        [EMAIL, WEB, SOCIAL, EMAIL, SOCIAL, WEB],
        n_customers=6,
        n_channels=3,
    )


def _listed(values: NDArray[np.float64]) -> list[float | None]:
    return [None if np.isnan(v) else round(float(v), 6) for v in values]


def test_acquisition_quality_of_a_hand_built_shop() -> None:
    quality = acquisition_quality(
        _shop(),
        np.array([WEB, WEB, EMAIL, EMAIL, -1, WEB]),
        n_channels=3,
        predicted_clv=CLV,
        churn_risk=CHURN,
    )

    # Slots: web, email, social, unknown.
    assert quality.customers.tolist() == [3, 2, 0, 1]
    assert quality.prospects.tolist() == [3, 2, 0, 1]
    assert quality.buyers.tolist() == [2, 1, 0, 1]
    assert quality.repeat_buyers.tolist() == [1, 1, 0, 0]
    assert _listed(quality.conversion_rate) == [round(2 / 3, 6), 0.5, None, 1.0]
    assert _listed(quality.repeat_rate) == [0.5, 1.0, None, 0.0]
    assert _listed(quality.mean_predicted_clv) == [300.0, 300.0, None, 2_000.0]
    assert _listed(quality.mean_churn_risk) == [0.5, 0.1, None, 0.5]


def test_touch_quality_converts_only_customers_reached_before_they_first_bought() -> None:
    quality = touch_quality(_shop(), _touches(), predicted_clv=CLV, churn_risk=CHURN)

    assert quality.customers.tolist() == [2, 2, 2]
    # Email reached customer 1 after their first order, social reached customer 0 after theirs.
    assert quality.prospects.tolist() == [2, 1, 1]
    assert quality.buyers.tolist() == [2, 1, 0]
    assert quality.repeat_buyers.tolist() == [2, 1, 0]
    assert _listed(quality.conversion_rate) == [1.0, 1.0, 0.0]
    assert _listed(quality.repeat_rate) == [1.0, 1.0, None]
    assert _listed(quality.mean_predicted_clv) == [400.0, 500.0, None]
    assert _listed(quality.mean_churn_risk) == [0.15, 0.2, None]


def test_attribution_of_a_hand_built_shop() -> None:
    attribution = attribute_revenue(_shop(), _touches(), lookback_days=30.0)

    # Slots: web, email, social, direct. Returns are not revenue to attribute.
    assert attribution.revenue == 1_750.0
    assert attribution.first_touch.tolist() == [150.0, 100.0, 200.0, 1_300.0]
    assert attribution.last_touch.tolist() == [250.0, 0.0, 200.0, 1_300.0]
    assert attribution.linear.tolist() == [200.0, 50.0, 200.0, 1_300.0]


def test_a_touch_outside_the_lookback_window_earns_nothing() -> None:
    attribution = attribute_revenue(_shop(), _touches(), lookback_days=1.0)

    # In reach: customer 0's web visit a day before their first order, and customer 3's on the
    # day of theirs; customer 0's email two days before is not.
    assert attribution.linear.tolist() == [150.0, 0.0, 0.0, 1_600.0]


def test_every_scheme_sums_to_the_revenue() -> None:
    population = purchase_histories(3_000, seed=4)
    rng = np.random.default_rng(4)
    n_touches = 40_000
    touches = make_touches(
        rng.integers(0, 3_000, n_touches),
        rng.uniform(population.tx.t.min() - 60, population.end, n_touches),
        rng.integers(0, 5, n_touches),
        n_customers=3_000,
        n_channels=5,
    )

    attribution = attribute_revenue(population.tx, touches)

    revenue = population.tx.amount[population.tx.amount > 0].sum()
    assert attribution.revenue == revenue
    for scheme in (attribution.first_touch, attribution.last_touch, attribution.linear):
        assert scheme.sum() == pytest.approx(revenue, rel=1e-12)
        assert 0 < scheme[-1] < revenue
