"""Churn and reactivation propensity: features at a cutoff, back-tested quality, reasons."""

from __future__ import annotations

import numpy as np
import pytest

from domain.scoring.reasons import duration
from domain.wording import words
from tests.worker.models.factories_behaviour import Behaviour, purchase_histories, with_customer
from worker.models.features import (
    MODEL_FEATURES,
    CustomerFeatures,
    adoptions,
    as_days,
    customer_features,
    make_events,
    make_lines,
    make_transactions,
    ordered_within,
)
from worker.models.propensity import (
    Reasons,
    backtest_propensity,
    reason_text,
    render_reasons,
    run_propensity,
    top_decile_lift,
)

HORIZON = 90.0


@pytest.fixture(scope="module")
def population() -> Behaviour:
    return purchase_histories(20_000, seed=0, prospects=200)


def _template(feature: str, *, raises: bool) -> int:
    return 2 * MODEL_FEATURES.index(feature) + int(raises)


def _same(left: CustomerFeatures, right: CustomerFeatures) -> bool:
    for name in CustomerFeatures.__dataclass_fields__:
        mine, theirs = getattr(left, name), getattr(right, name)
        if isinstance(mine, np.ndarray):
            if not np.array_equal(mine, theirs, equal_nan=mine.dtype.kind == "f"):
                return False
        elif mine != theirs:
            return False
    return True


def test_model_beats_recency_alone_on_a_later_cutoff(population: Behaviour) -> None:
    _, metrics = backtest_propensity(
        population.tx,
        train_cutoff=population.end - 2 * HORIZON,
        eval_cutoff=population.end - HORIZON,
        horizon=HORIZON,
        lines=population.lines,
        events=population.events,
    )

    assert metrics.customers == 18_681
    assert metrics.auc > metrics.recency_auc + 0.01
    assert metrics.lift_top_decile > metrics.recency_lift_top_decile > 1.0
    # Recalibrated on lapsed customers, the reactivation propensity matches their real rate.
    assert metrics.reactivation_auc > 0.85
    assert metrics.reactivation_mean_predicted == pytest.approx(
        metrics.reactivation_observed_rate, abs=0.005
    )


def test_features_ignore_everything_from_the_cutoff_on(population: Behaviour) -> None:
    cutoff = population.end - 200
    full = customer_features(
        population.tx,
        cutoff=cutoff,
        adopted=adoptions(population.lines),
        events=population.events,
    )
    events = population.events
    early = events.t < cutoff
    truncated = customer_features(
        population.tx.before(cutoff),
        cutoff=cutoff,
        adopted=adoptions(population.lines.before(cutoff)),
        events=make_events(events.customer[early], events.t[early], n_customers=20_000),
    )

    assert _same(full, truncated)
    assert not _same(full, customer_features(population.tx, cutoff=cutoff + 1))


def test_backtest_refuses_training_labels_that_reach_past_the_evaluation_cutoff(
    population: Behaviour,
) -> None:
    with pytest.raises(ValueError, match="would see its own future"):
        backtest_propensity(
            population.tx,
            train_cutoff=population.end - 150,
            eval_cutoff=population.end - HORIZON,
            horizon=HORIZON,
        )


def test_features_of_a_hand_built_customer() -> None:
    tx = make_transactions(
        [0, 0, 0, 0, 0, 0, 1],
        [0.0, 100.0, 250.0, 300.0, 310.0, 400.0, 50.0],
        [1_000, 2_000, 3_000, 4_000, -1_000, 9_999, 500],
        n_customers=3,
    )
    lines = make_lines(
        [0, 0, 0, 0],
        [1, 2, 2, 3],
        [4, 4, 7, 1],
        [0.0, 100.0, 100.0, 250.0],
        n_customers=3,
        n_items=9,
    )
    events = make_events([0, 0, 0, 1], [300.0, 320.0, 390.0, 60.0], n_customers=3)

    f = customer_features(tx, cutoff=400.0, adopted=adoptions(lines), events=events)

    assert f.has_orders.tolist() == [True, True, False]
    assert f.recency_days[:2].tolist() == [100.0, 350.0]
    assert f.frequency[:2].tolist() == [4.0, 1.0]
    assert f.monetary[:2].tolist() == [9_000.0, 500.0]
    assert f.tenure_days[:2].tolist() == [400.0, 350.0]
    assert f.mean_interval_days[0] == 100.0
    assert f.overdue_ratio[0] == 1.0
    # Last half-year [217.5, 400): 7 000; the one before [35, 217.5): 2 000.
    assert f.spend_12m[0] == 9_000.0
    assert f.spend_trend[0] == pytest.approx(5_000 / 9_000)
    assert f.spend_change[0] == 2.5
    assert f.returns_share[0] == 0.1
    assert f.engagement_90d[:2].tolist() == [2.0, 0.0]
    assert f.category_breadth[:2].tolist() == [3.0, 0.0]
    assert np.isnan(f.mean_interval_days[1]) and np.isnan(f.overdue_ratio[1])
    assert all(np.isnan(f.column(name)[2]) for name in MODEL_FEATURES)
    assert ordered_within(tx, cutoff=400.0, horizon=30.0).tolist() == [True, False, False]
    assert ordered_within(tx, cutoff=300.0, horizon=100.0).tolist() == [True, False, False]
    assert ordered_within(tx, cutoff=301.0, horizon=99.0).tolist() == [False, False, False]


def test_datetimes_become_days_since_1970() -> None:
    stamps = np.array(["1970-01-02T12:00", "2024-03-01T00:00"], dtype="datetime64[m]")

    assert as_days(stamps).tolist() == [1.5, 19_783.0]
    assert as_days([3, 4]).tolist() == [3.0, 4.0]


def test_silent_regular_buyer_gets_churn_reasons_in_plain_words(population: Behaviour) -> None:
    as_of = population.end
    every_six_weeks = [as_of - 213 - 42 * i for i in range(9, -1, -1)]
    behaviour = with_customer(population, every_six_weeks, [6_000.0] * 10)
    customer = behaviour.tx.n_customers - 1

    run = run_propensity(
        behaviour.tx, as_of=as_of, horizon=HORIZON, lines=behaviour.lines, events=behaviour.events
    )

    assert run.scores.churn_risk[customer] > 0.9
    assert run.scores.lapsed[customer]
    assert 0 < run.scores.reactivation[customer] < 0.1
    assert render_reasons(run.scores.reasons, customer) == [
        "5.1× past their usual gap between orders",
        "silent for 7 months",
        "no visits, opens or clicks in the last 90 days",
    ]


def test_customers_without_orders_get_no_scores(population: Behaviour) -> None:
    run = run_propensity(population.tx, as_of=population.end, horizon=HORIZON)
    features = customer_features(population.tx, cutoff=population.end)
    prospects = ~features.has_orders

    assert prospects.sum() == 200
    assert np.isnan(run.scores.churn_risk[prospects]).all()
    assert (run.scores.reasons.template[prospects] == -1).all()
    assert not np.isnan(run.scores.churn_risk[~prospects]).any()
    np.testing.assert_allclose((run.scores.churn_risk + run.scores.p_order)[~prospects], 1.0)
    # Reactivation belongs to lapsed customers only: six months or more without an order.
    assert np.array_equal(~np.isnan(run.scores.reactivation), features.recency_days >= 180)


def test_reason_templates_read_as_a_sales_person_would_say_them() -> None:
    assert reason_text(_template("recency_days", raises=False), 213) == "silent for 7 months"
    assert reason_text(_template("recency_days", raises=True), 9) == "last ordered 9 days ago"
    assert reason_text(_template("mean_interval_days", raises=False), 42) == (
        "used to buy every 6 weeks"
    )
    assert reason_text(_template("spend_12m", raises=True), 3.0) == (
        "spent 3× the average in the last 12 months"
    )
    assert reason_text(_template("frequency", raises=False), 1) == "only 1 order so far"
    assert reason_text(_template("overdue_ratio", raises=True), 2.6) == (
        "2.6× past their usual gap between orders"
    )
    assert reason_text(_template("overdue_ratio", raises=False), 0.8) == (
        "still within their usual gap between orders"
    )
    assert reason_text(_template("spend_trend", raises=False), -0.6) == (
        "spend down 60% on the 6 months before"
    )
    assert reason_text(_template("returns_share", raises=False), 0.25) == (
        "returned 25% of what they bought"
    )
    assert reason_text(_template("category_breadth", raises=True), 4) == "buys from 4 categories"
    assert duration(800, words()) == "2.2 years"


def test_render_reasons_skips_empty_slots() -> None:
    reasons = Reasons(
        template=np.array([[_template("tenure_days", raises=True), -1, -1]], dtype=np.int16),
        value=np.array([[365.0, np.nan, np.nan]]),
    )

    assert render_reasons(reasons, 0) == ["customer for 12 months"]


def test_top_decile_lift_shares_ties_at_the_threshold() -> None:
    labels = np.array([True, False] * 5 + [False] * 10)
    scores = np.r_[np.ones(10), np.zeros(10)]

    # Two of the ten tied customers fit in the top decile; half of the tied ones bought.
    assert top_decile_lift(labels, scores) == pytest.approx(0.5 / 0.25)
