"""A full scoring run in-process on SQLite and PostgreSQL: one Score per customer, sane values."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from domain.db import unit_of_work
from domain.scoring.models import RunStatus, Score
from domain.scoring.queries import get_run, run_shards, score_count
from domain.scoring.reasons import render_all
from tests.factories import make_customer
from tests.worker.pipeline.factories import Population, add_customer, populate
from worker import runs
from worker.artifacts import MemoryStore
from worker.models import bgnbd, gamma_gamma
from worker.models.rfm import SEGMENT_NAMES

SCORE_COLUMNS = (
    "customer_id, recency_days, frequency, monetary_minor, rfm_r, rfm_f, rfm_m, rfm_segment, "
    "p_alive, expected_purchases_90d, predicted_clv_minor, churn_risk, reactivation_propensity, "
    "next_order_date, reasons, cross_sell"
)


@pytest.fixture
def population(engine: Engine) -> Population:
    """400 customers (the last 20 never buy) with three years of history."""
    return populate(engine, customers=400, seed=3)


def scores(engine: Engine, run_id: int) -> dict[int, dict[str, Any]]:
    """The run's scores by customer id, JSON columns parsed."""
    with Session(engine) as session:
        rows = session.exec(select(Score).where(col(Score.run_id) == run_id)).all()
        return {row.customer_id: row.model_dump(exclude={"id", "run_id"}) for row in rows}


def test_a_run_writes_one_sane_score_per_customer(engine: Engine, population: Population) -> None:
    run_id = runs.start_run(
        as_of=population.as_of, shard_size=150, engine=engine, store=MemoryStore()
    )

    with unit_of_work(engine) as session:
        run = get_run(session=session, run_id=run_id)
        assert run is not None
        shards = run_shards(session=session, run_id=run_id)
        written = score_count(session=session, run_id=run_id)
    assert (run.status, run.shard_count, run.shards_done, run.error) == (
        RunStatus.SUCCEEDED,
        3,
        3,
        None,
    )
    assert [(s.phase, s.status, s.customers) for s in shards] == [
        ("scores", "succeeded", 150),
        ("scores", "succeeded", 150),
        ("scores", "succeeded", 100),
    ]
    assert written == 400
    result = scores(engine, run_id)
    assert sorted(result) == population.customer_ids
    buyers = [result[i] for i in population.customer_ids[:380]]
    prospects = [result[i] for i in population.customer_ids[380:]]
    assert all(
        (p["p_alive"], p["frequency"], p["rfm_segment"], p["churn_risk"], p["reasons"])
        == (None, None, None, None, [])
        for p in prospects
    )
    # Without a history of their own, prospects are offered the most popular products.
    assert len({str(p["cross_sell"]) for p in prospects}) == 1
    assert len(prospects[0]["cross_sell"]) == 5
    products = _product_ids(engine)
    for score in buyers:
        assert 0.0 <= score["p_alive"] <= 1.0
        assert score["expected_purchases_90d"] >= 0.0
        assert score["predicted_clv_minor"] >= 0
        assert 0.0 <= score["churn_risk"] <= 1.0
        assert {score["rfm_r"], score["rfm_f"], score["rfm_m"]} <= {1, 2, 3, 4, 5}
        assert score["rfm_segment"] in SEGMENT_NAMES
        assert score["frequency"] >= 1
        assert score["next_order_date"] >= population.as_of
        assert (score["reactivation_propensity"] is not None) == (score["recency_days"] >= 180)
        assert len(score["reasons"]) <= 3
        # Stored as what was found, put in words when read (in any shipped language).
        assert all(set(reason) == {"feature", "raises", "value"} for reason in score["reasons"])
        assert all(text for text in render_all(score["reasons"], "ru"))
        assert 1 <= len(score["cross_sell"]) <= 5
        for entry in score["cross_sell"]:
            assert set(entry) == {"product_id", "due_in_days"}
            assert entry["product_id"] in products
            assert entry["due_in_days"] is None or entry["due_in_days"] >= 0
    # Quintiles over the buyers: every score level is used.
    assert {s["rfm_r"] for s in buyers} == {1, 2, 3, 4, 5}


def test_the_run_records_each_models_validation(engine: Engine, population: Population) -> None:
    run_id = runs.start_run(
        as_of=population.as_of, shard_size=150, engine=engine, store=MemoryStore()
    )

    with unit_of_work(engine) as session:
        run = get_run(session=session, run_id=run_id)
        assert run is not None
    assert set(run.params["bgnbd"]) == {"r", "alpha", "a", "b"}
    assert set(run.params["gamma_gamma"]) == {"p", "q", "v"}
    assert run.metrics["bgnbd"]["customers"] == 380
    assert run.metrics["bgnbd"]["log_likelihood"] < 0
    propensity = run.metrics["propensity"]
    assert 0.5 < propensity["auc"] <= 1.0 and 0.5 < propensity["recency_auc"] <= 1.0
    assert propensity["lift_top_decile"] > 1.0
    assert set(run.metrics["cross_sell"]) == {"customers", "k", "hit_rate", "popularity_hit_rate"}
    assert run.metrics["cross_sell"]["k"] == 5
    assert run.metrics["next_order"]["median_abs_error_days"] > 0
    assert run.metrics["next_order"]["naive_median_abs_error_days"] > 0
    assert set(run.timings) >= {"features", "fit", "scores", "finish", "total"}
    channels = run.metrics["channels"]
    assert sum(row["customers"] for row in channels["acquisition"]) == 400
    assert channels["acquisition"][-1]["channel_id"] is None
    revenue = channels["attribution"]["revenue_minor"]
    assert revenue == _sales_total(engine, population)
    assert (
        abs(sum(r["first_touch_minor"] for r in channels["attribution"]["channels"]) - revenue)
        <= 12
    )


def test_rerunning_a_run_leaves_exactly_one_set_of_scores(
    engine: Engine, population: Population
) -> None:
    store = MemoryStore()
    run_id = runs.start_run(as_of=population.as_of, shard_size=150, engine=engine, store=store)
    first = scores(engine, run_id)

    runs.launch(runs.full_plan(run_id, engine=engine), engine=engine, store=store)

    with unit_of_work(engine) as session:
        assert score_count(session=session, run_id=run_id) == 400
        run = get_run(session=session, run_id=run_id)
        assert run is not None and (run.status, run.shards_done) == (RunStatus.SUCCEEDED, 3)
    assert scores(engine, run_id) == first
    with engine.connect() as connection:
        duplicates = connection.execute(
            text(
                "SELECT count(*) FROM (SELECT customer_id FROM score WHERE run_id = :run "
                "GROUP BY customer_id HAVING count(*) > 1) d"
            ),
            {"run": run_id},
        ).scalar_one()
    assert duplicates == 0


def test_shard_size_does_not_change_any_score(engine: Engine, population: Population) -> None:
    one = runs.start_run(
        as_of=population.as_of, shard_size=1000, engine=engine, store=MemoryStore()
    )
    many = runs.start_run(as_of=population.as_of, shard_size=37, engine=engine, store=MemoryStore())

    with unit_of_work(engine) as session:
        counts = [run_shards(session=session, run_id=run_id) for run_id in (one, many)]
    assert [len(shards) for shards in counts] == [1, 11]
    assert scores(engine, one) == scores(engine, many)


def test_a_hand_built_customer_gets_the_models_values(
    engine: Engine, population: Population
) -> None:
    # Sales 400, 250 and 100 days before the as-of date, one partial return.
    customer = add_customer(
        engine,
        as_of=population.as_of,
        orders=[(400.5, 3000), (250.25, 5000), (240.0, -1000), (100.75, 4000)],
    )
    run_id = runs.start_run(
        as_of=population.as_of, shard_size=150, engine=engine, store=MemoryStore()
    )

    score = scores(engine, run_id)[customer]
    with unit_of_work(engine) as session:
        run = get_run(session=session, run_id=run_id)
        assert run is not None
    purchases = bgnbd.BGNBDParams(**run.params["bgnbd"])
    spend = gamma_gamma.GammaGammaParams(**run.params["gamma_gamma"])
    # Whole days: first purchase on day -401, repeats on -251 and -101, observed to day -1.
    x, t_x, age = np.array([2.0]), np.array([300.0]), np.array([400.0])
    clv = gamma_gamma.customer_lifetime_value(
        purchases, spend, x, t_x, age, np.array([4500.0]), months=12, discount_rate=0.01
    )
    assert (score["frequency"], score["monetary_minor"], score["recency_days"]) == (3, 11000, 100)
    assert score["p_alive"] == pytest.approx(bgnbd.p_alive(purchases, x, t_x, age)[0], rel=1e-12)
    assert score["expected_purchases_90d"] == pytest.approx(
        bgnbd.conditional_expected_purchases(purchases, 90.0, x, t_x, age)[0], rel=1e-12
    )
    assert score["predicted_clv_minor"] == round(float(clv[0]))
    assert score["next_order_date"] >= population.as_of
    assert score["next_order_date"] < population.as_of + timedelta(days=400)


def _product_ids(engine: Engine) -> set[int]:
    with engine.connect() as connection:
        return set(connection.execute(text("SELECT id FROM product")).scalars())


def _sales_total(engine: Engine, population: Population) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT SUM(total_minor) FROM orders WHERE kind = 'sale' AND total_minor > 0")
            ).scalar_one()
        )


def test_a_business_without_sales_gets_empty_scores_and_says_why(engine: Engine) -> None:
    with Session(engine) as session:
        for _ in range(5):
            make_customer(session)
        session.commit()

    run_id = runs.start_run(as_of=date(2025, 1, 1), engine=engine, store=MemoryStore())

    with unit_of_work(engine) as session:
        run = get_run(session=session, run_id=run_id)
        assert run is not None
    assert (run.status, run.shard_count, run.shards_done) == (RunStatus.SUCCEEDED, 1, 1)
    assert {name: run.metrics[name] for name in ("bgnbd", "next_order", "cross_sell")} == {
        "bgnbd": {"skipped": "no customer has a sale"},
        "next_order": {"skipped": "no customer has a sale"},
        "cross_sell": {"skipped": "no order lines with known products"},
    }
    written = scores(engine, run_id)
    assert len(written) == 5
    assert {
        (s["p_alive"], s["churn_risk"], str(s["reasons"]), str(s["cross_sell"]))
        for s in written.values()
    } == {(None, None, "[]", "[]")}
