"""Engagements of a batch applied set-wise end exactly where the one-customer fast path does."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import Session, col

from domain.customers.models import Customer
from domain.stages.config import EngagementResponse, LifecycleConfig, StagesConfig, load_config
from domain.stages.errors import CustomerNotFound
from domain.stages.models import StageChange
from domain.stages.service import on_engagements, on_event_recorded
from domain.stages.vocabulary import Stage
from tests.domain.stages.factories import T0, day, id_of, make_contact, make_scores, make_with_facts
from tests.domain.stages.strategies import configs

RETAIL = load_config("consumer_retail")
_SECONDS = st.integers(0, 1_200 * 86_400)


@st.composite
def _specs(draw: st.DrawFn) -> dict[str, Any]:
    """A customer's stage and facts (not always consistent) and the moment they engage."""
    orders = draw(st.integers(0, 6))
    first = draw(_SECONDS) if orders else None
    last = first + draw(st.integers(0, 400 * 86_400)) if first is not None and orders > 1 else first
    # Mostly the stages an engagement moves by itself, but any stage must come out the same.
    stage = draw(st.sampled_from([Stage.PROSPECT, Stage.SLEEPING] * 3 + list(Stage)))
    return {
        "stage": stage,
        "since": draw(_SECONDS),
        "first": first,
        "last": last,
        "orders": orders,
        "revenue": draw(st.integers(0, 200_000)),
        "engaged": draw(st.none() | _SECONDS),
        "event": draw(_SECONDS),
        "micros": draw(st.integers(0, 999_999)),
        "p_alive": draw(st.none() | st.floats(0.0, 1.0)),
    }


def _customer(session: Session, spec: dict[str, Any]) -> Customer:
    def at(seconds: int | None) -> Any:
        if seconds is None:
            return None
        return T0 + timedelta(seconds=seconds, microseconds=spec["micros"])

    return make_contact(
        session,
        stage=spec["stage"],
        stage_since=at(spec["since"]),
        first_order_at=at(spec["first"]),
        last_order_at=at(spec["last"]),
        order_count=spec["orders"],
        net_revenue_minor=spec["revenue"],
        last_engaged_at=at(spec["engaged"]),
    )


def _outcome(session: Session, customer_id: int) -> tuple[Any, ...]:
    customer = session.get_one(Customer, customer_id, populate_existing=True)
    history = session.scalars(
        select(StageChange)
        .where(col(StageChange.customer_id) == customer_id)
        .order_by(col(StageChange.id))
    )
    return (
        customer.stage,
        customer.stage_since,
        customer.last_engaged_at,
        [(c.from_stage, c.to_stage, c.reason, c.changed_at) for c in history],
    )


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    config=configs(),
    specs=st.lists(_specs(), min_size=1, max_size=20),
    scored_days=st.integers(0, 1_200),
)
def test_a_batch_of_engagements_moves_each_customer_as_the_one_by_one_fast_path_does(
    session: Session, config: StagesConfig, specs: list[dict[str, Any]], scored_days: int
) -> None:
    lifecycle = LifecycleConfig(stages=config)
    try:
        pairs = [(_customer(session, spec), _customer(session, spec), spec) for spec in specs]
        make_scores(
            session,
            {
                id_of(customer): spec["p_alive"]
                for batch_one, one_by_one, spec in pairs
                for customer in (batch_one, one_by_one)
                if spec["p_alive"] is not None
            },
            as_of=date(2024, 1, 1) + timedelta(days=scored_days),
        )
        moments = {id_of(batch): T0 + timedelta(seconds=spec["event"]) for batch, _, spec in pairs}

        changes = on_engagements(session=session, first=moments, config=lifecycle)
        for _, customer, spec in pairs:
            on_event_recorded(
                session=session,
                customer_id=id_of(customer),
                event_type="page_view",
                at=T0 + timedelta(seconds=spec["event"]),
                config=lifecycle,
            )

        for batch, one_by_one, _ in pairs:
            assert _outcome(session, id_of(batch)) == _outcome(session, id_of(one_by_one))
        assert {change.customer_id for change in changes} <= set(moments)
        assert len(changes) == sum(len(_outcome(session, id_of(b))[3]) for b, _, _ in pairs)
    finally:
        session.rollback()


def test_sleepers_and_prospects_of_one_batch_wake_each_at_their_own_moment(
    session: Session,
) -> None:
    rescue = RETAIL.stages.sleeping.model_copy(update={"on_engagement": EngagementResponse.AT_RISK})
    config = LifecycleConfig(stages=RETAIL.stages.model_copy(update={"sleeping": rescue}))
    prospect = make_contact(session)
    sleeper = make_with_facts(
        session, stage=Stage.SLEEPING, since=200, first=10, last=100, orders=3, revenue=9_000
    )
    lead = make_with_facts(session, stage=Stage.SLEEPING, since=150, engaged=50)

    changes = on_engagements(
        session=session,
        first={id_of(prospect): day(3), id_of(sleeper): day(230), id_of(lead): day(240)},
        config=config,
    )

    moves = {(c.customer_id, c.from_stage, c.to_stage, c.changed_at) for c in changes}
    assert moves == {
        (id_of(prospect), Stage.PROSPECT, Stage.LEAD, day(3)),
        (id_of(sleeper), Stage.SLEEPING, Stage.AT_RISK, day(230)),
        (id_of(lead), Stage.SLEEPING, Stage.LEAD, day(240)),
    }
    assert session.get_one(Customer, id_of(sleeper)).last_engaged_at == day(230)


def test_an_unknown_customer_in_the_batch_is_refused_before_anything_moves(
    session: Session,
) -> None:
    prospect = make_contact(session)

    with pytest.raises(CustomerNotFound):
        on_engagements(
            session=session, first={id_of(prospect): day(1), 999_999_999: day(1)}, config=RETAIL
        )

    assert session.scalars(select(StageChange)).all() == []
