"""The bulk passes: set-wise SQL that agrees with the pure rules, on both databases."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, select, update
from sqlmodel import Session, col

from domain.customers.facts import refresh_facts
from domain.customers.models import Customer
from domain.scoring.models import RunStatus
from domain.stages import decay
from domain.stages.config import LifecycleConfig, StagesConfig, load_config
from domain.stages.decay import decay_pass, recompute_all
from domain.stages.hooks import Moved, register
from domain.stages.models import StageChange
from domain.stages.queries import history
from domain.stages.rules import Facts, Position, propose
from domain.stages.transitions import is_allowed
from domain.stages.vocabulary import Stage
from tests.domain.stages.factories import (
    T0,
    day,
    id_of,
    make_contact,
    make_scores,
    make_with_facts,
)
from tests.domain.stages.strategies import configs
from tests.factories import make_order

RETAIL = load_config("consumer_retail")


def _facts(customer: Customer) -> Facts:
    return Facts(
        first_order_at=customer.first_order_at,
        last_order_at=customer.last_order_at,
        order_count=customer.order_count,
        net_revenue_minor=customer.net_revenue_minor,
        last_engaged_at=customer.last_engaged_at,
    )


def _changes(session: Session) -> dict[int, tuple[str | None, str, str, object]]:
    rows = session.scalars(select(StageChange).order_by(col(StageChange.id)))
    return {c.customer_id: (c.from_stage, c.to_stage, c.reason, c.changed_at) for c in rows}


def test_the_decay_pass_gives_every_customer_the_stage_reason_and_date_of_the_pure_rules(
    session: Session,
) -> None:
    customers = [
        make_with_facts(session, stage=Stage.LEAD, since=5, engaged=5),
        make_with_facts(session, stage=Stage.LEAD, since=50, engaged=50),
        make_with_facts(
            session, stage=Stage.FIRST_TIME_BUYER, since=250, first=250, last=250, orders=1
        ),
        make_with_facts(
            session, stage=Stage.FIRST_TIME_BUYER, since=100, first=100, last=100, orders=1
        ),
        make_with_facts(session, stage=Stage.REPEAT, since=301, first=0, last=301, orders=8),
        make_with_facts(session, stage=Stage.REPEAT, since=280, first=180, last=280, orders=5),
        make_with_facts(session, stage=Stage.LOYAL, since=300, first=0, last=300, orders=9),
        # At risk since day 275; the one who engaged on day 365 stays at risk.
        make_with_facts(
            session, stage=Stage.AT_RISK, since=275, first=100, last=200, orders=3, engaged=365
        ),
        make_with_facts(session, stage=Stage.AT_RISK, since=275, first=100, last=200, orders=3),
        make_with_facts(session, stage=Stage.REACTIVATED, since=170, first=0, last=170, orders=2),
        make_with_facts(session, stage=Stage.REACTIVATED, since=350, first=0, last=350, orders=3),
    ]
    as_of = day(370.25)
    expected = {}
    for customer in customers:
        verdict = propose(
            Position(Stage(customer.stage), customer.stage_since),
            _facts(customer),
            as_of=as_of,
            config=RETAIL.stages,
        )
        if verdict is not None:
            expected[customer.id] = (customer.stage, verdict.stage, verdict.reason, verdict.at)

    result = decay_pass(session=session, as_of=as_of, config=RETAIL)

    assert _changes(session) == expected
    assert result.changes == {
        (Stage.LEAD, Stage.SLEEPING): 1,
        (Stage.FIRST_TIME_BUYER, Stage.AT_RISK): 1,
        (Stage.FIRST_TIME_BUYER, Stage.SLEEPING): 1,
        (Stage.REPEAT, Stage.AT_RISK): 1,
        (Stage.AT_RISK, Stage.SLEEPING): 1,
        (Stage.LOYAL, Stage.AT_RISK): 1,
        (Stage.REACTIVATED, Stage.REPEAT): 1,
        (Stage.REPEAT, Stage.SLEEPING): 1,
    }
    assert result.changed == 8
    assert result.held == {}
    assert {c.stage for c in customers if c.id in expected} == {
        str(stage) for _, stage, _, _ in expected.values()
    }


def test_the_decay_pass_words_its_reasons_like_the_fast_path(session: Session) -> None:
    customer = make_with_facts(session, stage=Stage.REPEAT, since=93, first=0, last=93, orders=4)
    reactivated = make_with_facts(
        session, stage=Stage.REACTIVATED, since=100, first=0, last=100, orders=3
    )
    decay_pass(session=session, as_of=day(93 + 94), config=RETAIL)
    assert _changes(session) == {
        customer.id: (
            "repeat",
            "sleeping",
            "no order for 94 days, 3.0× their usual 31-day rhythm",
            day(93 + 93),
        ),
        reactivated.id: (
            "reactivated",
            "at_risk",
            "no order for 87 days, 1.7× their usual 50-day rhythm",
            day(175),
        ),
    }


def test_prospects_sleepers_and_lost_customers_are_left_alone_and_a_second_pass_is_a_no_op(
    session: Session,
) -> None:
    make_contact(session)
    make_with_facts(session, stage=Stage.SLEEPING, since=186, first=0, last=93, orders=4)
    make_with_facts(session, stage=Stage.LOST, since=200, first=0, last=93, orders=4)
    make_with_facts(session, stage=Stage.REPEAT, since=93, first=0, last=93, orders=4)
    first = decay_pass(session=session, as_of=day(400), config=RETAIL)
    second = decay_pass(session=session, as_of=day(400), config=RETAIL)
    assert first.changes == {(Stage.REPEAT, Stage.SLEEPING): 1}
    assert second.changes == {}
    assert len(_changes(session)) == 1


def test_the_pass_uses_p_alive_of_the_latest_succeeded_run_only(session: Session) -> None:
    low = make_with_facts(session, stage=Stage.REPEAT, since=93, first=0, last=93, orders=4)
    high = make_with_facts(session, stage=Stage.REPEAT, since=93, first=0, last=93, orders=4)
    assert low.id is not None and high.id is not None
    make_scores(session, {low.id: 0.9, high.id: 0.9}, as_of=date(2024, 4, 20))
    make_scores(session, {low.id: 0.05, high.id: 0.5}, as_of=date(2024, 4, 30))  # day 120
    make_scores(
        session, {low.id: 0.9, high.id: 0.01}, as_of=date(2024, 5, 1), status=RunStatus.FAILED
    )
    decay_pass(session=session, as_of=day(125), config=RETAIL)
    assert _changes(session) == {
        low.id: ("repeat", "sleeping", "P(alive) 5%, below the 20% threshold", day(120))
    }


def test_hooks_receive_every_moved_customer_set_wise(session: Session) -> None:
    sleepers = [
        make_with_facts(session, stage=Stage.REPEAT, since=93, first=0, last=93, orders=4)
        for _ in range(3)
    ]
    make_with_facts(session, stage=Stage.LEAD, since=5, engaged=5)
    received: list[tuple[Stage, Stage, list[int]]] = []

    def remember(session: Session, moved: Moved) -> None:
        ids = sorted(row[0] for row in session.execute(moved.rows))
        received.append((moved.previous, moved.current, ids))

    unregister = register(remember, previous=Stage.REPEAT, current=Stage.SLEEPING)
    try:
        decay_pass(session=session, as_of=day(400), config=RETAIL)
    finally:
        unregister()
    assert received == [(Stage.REPEAT, Stage.SLEEPING, sorted(id_of(c) for c in sleepers))]


def test_recompute_all_classifies_imported_histories_and_wakes_sleepers_who_bought(
    session: Session,
) -> None:
    imported = make_contact(session)
    sleeper = make_with_facts(session, stage=Stage.SLEEPING, since=186, first=0, last=93, orders=4)
    for at in (0, 31, 62, 93):
        make_order(session, imported, at=day(at), total_minor=5_000)
        make_order(session, sleeper, at=day(at), total_minor=5_000)
    make_order(session, sleeper, at=day(300), total_minor=5_000)
    assert imported.id is not None and sleeper.id is not None
    refresh_facts(session=session, customer_ids=[imported.id, sleeper.id])

    assert decay_pass(session=session, as_of=day(301), config=RETAIL).changes == {}
    result = recompute_all(session=session, as_of=day(301), config=RETAIL)

    assert result.changes == {
        (Stage.PROSPECT, Stage.SLEEPING): 1,
        (Stage.SLEEPING, Stage.REACTIVATED): 1,
    }
    assert _changes(session) == {
        imported.id: (
            "prospect",
            "sleeping",
            "no order for 208 days, 6.7× their usual 31-day rhythm",
            day(186),
        ),
        sleeper.id: ("sleeping", "reactivated", "ordered again after sleeping", day(301)),
    }


def test_facts_that_went_backwards_hold_the_customer_where_the_table_allows_no_move(
    session: Session,
) -> None:
    # Both orders of a repeat buyer were cancelled after the fact: the rules say prospect.
    customer = make_with_facts(session, stage=Stage.REPEAT, since=20)
    result = recompute_all(session=session, as_of=day(30), config=RETAIL)
    assert result.changes == {}
    assert result.held == {(Stage.REPEAT, Stage.PROSPECT): 1}
    session.refresh(customer)
    assert customer.stage == Stage.REPEAT
    assert history(session=session, customer_id=id_of(customer)) == []


def test_a_prospect_created_after_as_of_is_classified_at_as_of(session: Session) -> None:
    customer = make_contact(session, created_at=day(500), stage_since=day(500))
    customer.last_engaged_at = day(100)
    session.add(customer)
    session.flush()
    recompute_all(session=session, as_of=day(200), config=RETAIL)
    assert _changes(session) == {
        customer.id: ("prospect", "lead", "engaged, no order yet", day(200))
    }


def test_the_same_facts_decay_on_consumer_but_not_on_b2b_rhythms(session: Session) -> None:
    make_with_facts(session, stage=Stage.FIRST_TIME_BUYER, since=0, first=0, last=0, orders=1)
    b2b = decay_pass(session=session, as_of=day(100), config=load_config("b2b_small"))
    retail = decay_pass(session=session, as_of=day(100), config=RETAIL)
    assert b2b.changes == {}
    assert retail.changes == {(Stage.FIRST_TIME_BUYER, Stage.AT_RISK): 1}


def test_customers_loaded_before_the_pass_see_their_new_stage(session: Session) -> None:
    customer = make_with_facts(session, stage=Stage.LOYAL, since=93, first=0, last=93, orders=4)
    decay_pass(session=session, as_of=day(400), config=RETAIL)
    assert (customer.stage, customer.stage_since) == (Stage.SLEEPING, day(186))


_SECONDS = st.integers(0, 1_200 * 86_400)


@st.composite
def _customer_specs(draw: st.DrawFn) -> dict[str, Any]:
    """Facts and a stage, not necessarily consistent with each other: SQL must agree anyway."""
    orders = draw(st.integers(0, 8))
    first = draw(_SECONDS) if orders else None
    last = first + draw(st.integers(0, 400 * 86_400)) if first is not None and orders > 1 else first
    return {
        "stage": draw(st.sampled_from(list(Stage))),
        "since": draw(_SECONDS),
        "first": first,
        "last": last,
        "orders": orders,
        "revenue": draw(st.integers(-10_000, 200_000)),
        "engaged": draw(st.none() | _SECONDS),
        "micros": draw(st.integers(0, 999_999)),
        "p_alive": draw(st.none() | st.floats(0.0, 1.0)),
    }


def _at(seconds: int | None, micros: int) -> datetime | None:
    return None if seconds is None else T0 + timedelta(seconds=seconds, microseconds=micros)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    config=configs(),
    specs=st.lists(_customer_specs(), min_size=1, max_size=25),
    as_of_seconds=_SECONDS,
    scored_days=st.integers(0, 1_200),
)
def test_the_set_wise_sql_agrees_with_the_pure_rules_on_any_facts(
    session: Session,
    config: StagesConfig,
    specs: list[dict[str, Any]],
    as_of_seconds: int,
    scored_days: int,
) -> None:
    as_of = T0 + timedelta(seconds=as_of_seconds, microseconds=123_456)
    scored = date(T0.year, T0.month, T0.day) + timedelta(days=scored_days)
    try:
        expected_changes, expected_held = {}, Counter[tuple[Stage, Stage]]()
        customers = []
        for spec in specs:
            micros = spec["micros"]
            customer = make_contact(
                session,
                stage=spec["stage"],
                stage_since=_at(spec["since"], micros),
                first_order_at=_at(spec["first"], micros),
                last_order_at=_at(spec["last"], micros),
                order_count=spec["orders"],
                net_revenue_minor=spec["revenue"],
                last_engaged_at=_at(spec["engaged"], 0),
            )
            customers.append((customer, spec["p_alive"]))
        run = make_scores(
            session,
            {id_of(c): p for c, p in customers if p is not None},
            as_of=scored,
        )
        scored_at = datetime.combine(run.as_of, time(), tzinfo=UTC)
        for customer, p_alive in customers:
            facts = replace(
                _facts(customer),
                p_alive=p_alive,
                p_alive_at=scored_at if p_alive is not None else None,
            )
            position = Position(Stage(customer.stage), customer.stage_since)
            verdict = propose(position, facts, as_of=as_of, config=config)
            if verdict is None:
                continue
            if is_allowed(position.stage, verdict.stage):
                expected_changes[customer.id] = (
                    customer.stage,
                    verdict.stage,
                    verdict.reason,
                    verdict.at,
                )
            else:
                expected_held[(position.stage, verdict.stage)] += 1

        result = recompute_all(session=session, as_of=as_of, config=LifecycleConfig(stages=config))

        assert _changes(session) == expected_changes
        assert result.held == dict(expected_held)
    finally:
        session.rollback()


def test_a_customer_moved_by_the_fast_path_during_the_pass_keeps_the_newer_stage(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    overtaken = make_with_facts(session, stage=Stage.REPEAT, since=93, first=0, last=93, orders=4)
    decayed = make_with_facts(session, stage=Stage.REPEAT, since=93, first=0, last=93, orders=4)
    move_customers = decay._move_customers

    def order_committed_meanwhile(session: Session, decision: Table) -> int:
        session.execute(
            update(Customer)
            .where(col(Customer.id) == overtaken.id)
            .values(stage=Stage.REACTIVATED, stage_since=day(399))
        )
        return move_customers(session, decision)

    monkeypatch.setattr(decay, "_move_customers", order_committed_meanwhile)
    result = decay_pass(session=session, as_of=day(400), config=RETAIL)

    assert result.changes == {(Stage.REPEAT, Stage.SLEEPING): 1}
    assert set(_changes(session)) == {decayed.id}
    assert (overtaken.stage, overtaken.stage_since) == (Stage.REACTIVATED, day(399))


def test_a_failing_hook_undoes_the_whole_pass(session: Session) -> None:
    customer = make_with_facts(session, stage=Stage.REPEAT, since=93, first=0, last=93, orders=4)
    session.commit()

    def broken(session: Session, moved: Moved) -> None:
        raise RuntimeError("suggestions are down")

    unregister = register(broken, current=Stage.SLEEPING)
    try:
        with pytest.raises(RuntimeError, match="suggestions are down"):
            decay_pass(session=session, as_of=day(400), config=RETAIL)
    finally:
        unregister()
    session.rollback()
    session.refresh(customer)
    assert customer.stage == Stage.REPEAT
    assert _changes(session) == {}
    # The pass can run again in the same session once rolled back.
    assert decay_pass(session=session, as_of=day(400), config=RETAIL).changed == 1
