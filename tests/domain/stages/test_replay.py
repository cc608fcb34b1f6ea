"""Replay from scratch agrees with the incremental path (fast path + decay passes)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlmodel import Session

from domain.customers.models import Customer
from domain.scoring.models import Score, ScoringRun
from domain.stages.config import LifecycleConfig, StagesConfig, load_config
from domain.stages.decay import decay_pass
from domain.stages.errors import CustomerNotFound
from domain.stages.queries import history
from domain.stages.replay import Change, Engaged, MarkedLost, Ordered, replay_customer
from domain.stages.service import mark_lost, on_event_recorded, on_order_recorded
from domain.stages.vocabulary import Stage
from tests.domain.stages.factories import day, make_contact, make_scores
from tests.domain.stages.strategies import START, Decay, Step, configs, timelines
from tests.factories import make_event, make_order

RETAIL = load_config("consumer_retail")


def _apply(session: Session, customer: Customer, step: Step, config: LifecycleConfig) -> None:
    assert customer.id is not None
    if isinstance(step, Ordered):
        make_order(
            session,
            customer,
            at=step.at,
            total_minor=step.total_minor,
            kind=step.kind,
            status=step.status,
        )
        on_order_recorded(session=session, customer_id=customer.id, at=step.at, config=config)
    elif isinstance(step, Engaged):
        make_event(session, customer, step.event_type, at=step.at)
        on_event_recorded(
            session=session,
            customer_id=customer.id,
            event_type=step.event_type,
            at=step.at,
            config=config,
        )
    elif isinstance(step, Decay):
        decay_pass(session=session, as_of=step.at, config=config)
    elif customer.stage == Stage.SLEEPING:
        mark_lost(session=session, customer_id=customer.id, at=step.at, reason=step.reason)


def _story() -> list[Step]:
    return [
        Engaged(day(1), "email_open"),
        Ordered(day(10), 6_000),
        Ordered(day(41), 6_000),
        Ordered(day(72), 6_000),
        Ordered(day(80), -2_000, kind="return"),
        Engaged(day(300), "visit"),
        Ordered(day(420), 9_000),
        Ordered(day(430), 9_000, status="cancelled"),
        Ordered(day(440), 9_000),
    ]


def test_replay_retraces_the_fast_path_change_for_change(session: Session) -> None:
    customer = make_contact(session)
    assert customer.id is not None
    for step in _story():
        _apply(session, customer, step, RETAIL)
    replayed = replay_customer(
        session=session, customer_id=customer.id, as_of=day(440), config=RETAIL
    )
    recorded = [
        Change(Stage(c.from_stage or ""), Stage(c.to_stage), c.reason, c.changed_at)
        for c in history(session=session, customer_id=customer.id)
    ]
    assert replayed.changes == recorded
    assert [(c.previous, c.current) for c in recorded] == [
        (Stage.PROSPECT, Stage.LEAD),
        (Stage.LEAD, Stage.FIRST_TIME_BUYER),
        (Stage.FIRST_TIME_BUYER, Stage.REPEAT),
        (Stage.REPEAT, Stage.SLEEPING),
        (Stage.SLEEPING, Stage.AT_RISK),
        (Stage.AT_RISK, Stage.SLEEPING),
        (Stage.SLEEPING, Stage.REACTIVATED),
    ]
    assert (replayed.stage, replayed.since) == (Stage.REACTIVATED, day(420))


def test_replay_ends_where_decay_passes_and_a_lost_mark_led(session: Session) -> None:
    customer = make_contact(session)
    assert customer.id is not None
    steps: list[Step] = [
        *_story()[:5],
        Decay(day(120)),
        Decay(day(200)),
        MarkedLost(day(260), "no answer to the reactivation offer"),
        Engaged(day(300), "visit"),
        Decay(day(400)),
    ]
    for step in steps:
        _apply(session, customer, step, RETAIL)
    assert customer.stage == Stage.LOST
    replayed = replay_customer(
        session=session, customer_id=customer.id, as_of=day(400), config=RETAIL
    )
    assert (replayed.stage, replayed.since) == (Stage.LOST, day(260))


def test_replaying_an_unknown_customer_is_reported(session: Session) -> None:
    with pytest.raises(CustomerNotFound):
        replay_customer(session=session, customer_id=404, as_of=day(1), config=RETAIL)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    config=configs(),
    steps=timelines(max_steps=8, strictly_increasing=True),
    score=st.one_of(st.none(), st.tuples(st.floats(0.0, 1.0), st.integers(0, 1200))),
    extra=st.integers(0, 800),
)
def test_the_incremental_path_and_replay_from_scratch_agree_on_the_database(
    session: Session,
    config: StagesConfig,
    steps: list[Step],
    score: tuple[float, int] | None,
    extra: int,
) -> None:
    lifecycle = LifecycleConfig(stages=config)
    try:
        session.execute(delete(Score))
        session.execute(delete(ScoringRun))
        customer = make_contact(session, created_at=START, stage_since=START)
        assert customer.id is not None
        if score is not None:
            p_alive, days = score
            scored = date(START.year, START.month, START.day) + timedelta(days=days)
            make_scores(session, {customer.id: p_alive}, as_of=scored)
        for step in steps:
            _apply(session, customer, step, lifecycle)
        as_of = steps[-1].at + timedelta(days=extra)
        decay_pass(session=session, as_of=as_of, config=lifecycle)
        replayed = replay_customer(
            session=session, customer_id=customer.id, as_of=as_of, config=lifecycle
        )
        assert replayed.stage == customer.stage
    finally:
        session.rollback()
