"""Next order date: own rhythm shrunk toward the population, judged on held-out next orders."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from tests.worker.models.factories_behaviour import (
    GAP_SHAPE,
    Behaviour,
    purchase_histories,
    with_customer,
)
from worker.models.features import make_transactions
from worker.models.next_order import (
    GapPrior,
    evaluate_next_order,
    fit_gap_prior,
    predict_next_order,
    purchase_rhythm,
)

PRIOR = GapPrior(shape=3.0, alpha=3.3, beta=40.0, customers=0)


@pytest.fixture(scope="module")
def population() -> Behaviour:
    return purchase_histories(20_000, seed=0, prospects=200)


def test_predictions_beat_last_order_plus_the_population_mean_gap(population: Behaviour) -> None:
    metrics = evaluate_next_order(population.tx, cutoff=population.end - 180, horizon=180)

    assert metrics.customers == 7_213
    assert metrics.median_abs_error_days < 0.8 * metrics.naive_median_abs_error_days
    assert metrics.naive_gap_days == pytest.approx(41.05, abs=0.01)


def test_fit_recovers_how_regular_the_gaps_are(population: Behaviour) -> None:
    prior = fit_gap_prior(purchase_rhythm(population.tx, cutoff=population.end))

    assert prior.shape == pytest.approx(GAP_SHAPE, rel=0.05)
    # The population's typical gap, β / (α − 1) per unit of shape, is near the drawn 45 days.
    assert prior.shape * prior.beta / (prior.alpha - 1) == pytest.approx(50, rel=0.1)


def test_regular_buyer_is_expected_on_their_own_rhythm(population: Behaviour) -> None:
    cutoff = population.end - 180
    monthly = [cutoff - 10 - 30 * i for i in range(19, -1, -1)]
    behaviour = with_customer(population, monthly, [2_000.0] * 20)
    rhythm = purchase_rhythm(behaviour.tx, cutoff=cutoff)

    predicted = predict_next_order(rhythm, fit_gap_prior(rhythm), cutoff=cutoff)

    assert predicted[-1] - cutoff == pytest.approx(20, abs=2)


def test_purchase_rhythm_counts_distinct_sale_days() -> None:
    tx = make_transactions(
        [0, 0, 0, 0, 1, 2],
        [10.2, 10.7, 13.5, 20.0, 5.0, 1.0],
        [100, 100, 100, 100, 100, -500],
        n_customers=4,
    )

    rhythm = purchase_rhythm(tx, cutoff=30.0)

    assert rhythm.days.tolist() == [3, 1, 0, 0]
    assert rhythm.first[:2].tolist() == [10.0, 5.0]
    assert rhythm.last[:2].tolist() == [20.0, 5.0]
    assert rhythm.log_gap_sum[0] == pytest.approx(math.log(3) + math.log(7))


def test_one_time_buyers_share_a_population_default_and_prospects_get_none() -> None:
    tx = make_transactions([0, 1, 2], [5.0, 5.0, 25.0], [100, 100, 100], n_customers=4)

    predicted = predict_next_order(purchase_rhythm(tx, cutoff=30.0), PRIOR, cutoff=30.0)

    assert predicted[0] == predicted[1]
    # The gap is beta-prime(s, α) scaled by β; 25 days of it have passed.
    gap = stats.betaprime(PRIOR.shape, PRIOR.alpha, scale=PRIOR.beta)
    expected = 5.0 + gap.isf(gap.sf(25.0) / 2)
    assert predicted[0] == pytest.approx(expected, abs=0.05)  # the table is good to an hour
    # Five days of silence say less about a slow rhythm than 25 do: a shorter expected gap.
    assert predicted[2] > 30 and predicted[2] - 25 < predicted[0] - 5
    assert np.isnan(predicted[3])


def test_long_silence_pushes_the_date_out_but_never_before_the_cutoff() -> None:
    tx = make_transactions([0, 0, 1, 1], [0.0, 30.0, 0.0, 30.0], [1, 1, 1, 1], n_customers=2)
    rhythm = purchase_rhythm(tx, cutoff=40.0)
    soon = predict_next_order(rhythm, PRIOR, cutoff=40.0)
    late = predict_next_order(rhythm, PRIOR, cutoff=400.0)

    assert soon[0] == soon[1] > 40.0
    assert late[0] > 400.0 + (soon[0] - 40.0)


def test_a_log_without_sales_gives_every_customer_zero_purchase_days() -> None:
    empty = make_transactions(
        np.array([], dtype=np.int64), np.array([]), np.array([]), n_customers=3
    )

    rhythm = purchase_rhythm(empty, cutoff=100.0)

    assert rhythm.days.tolist() == [0, 0, 0]
    assert np.isnan(rhythm.first).all()


def test_a_tiny_shop_fits_a_finite_prior_without_numeric_warnings() -> None:
    tx = make_transactions(
        np.array([0, 0, 1, 1, 1]),
        np.array([1.0, 5.0, 2.0, 3.0, 40.0]),
        np.full(5, 5.0),
        n_customers=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prior = fit_gap_prior(purchase_rhythm(tx, cutoff=100.0))

    assert prior.customers == 2
    assert all(np.isfinite([prior.shape, prior.alpha, prior.beta]))
