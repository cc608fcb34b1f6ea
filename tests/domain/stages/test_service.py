"""The fast path: orders, events and lost marks move one customer right away."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from domain.customers.models import Customer
from domain.orders.models import OrderKind, OrderStatus
from domain.scoring.models import RunStatus
from domain.stages.config import EngagementResponse, LifecycleConfig, load_config
from domain.stages.decay import decay_pass
from domain.stages.errors import CustomerNotFound, TransitionNotAllowed
from domain.stages.models import StageChange
from domain.stages.service import mark_lost, on_event_recorded, on_order_recorded
from domain.stages.vocabulary import Stage
from tests.domain.stages.factories import day, make_contact, make_scores
from tests.factories import make_event, make_order

RETAIL = load_config("consumer_retail")


def order(
    session: Session,
    customer: Customer,
    at: float,
    total: int = 5_000,
    *,
    kind: str = OrderKind.SALE,
    status: str = OrderStatus.COMPLETED,
    config: LifecycleConfig = RETAIL,
) -> list[tuple[str | None, str, str, object]]:
    """Record an order `at` days after T0 through the fast path; the changes it caused."""
    assert customer.id is not None
    make_order(session, customer, at=day(at), total_minor=total, kind=kind, status=status)
    changes = on_order_recorded(session=session, customer_id=customer.id, at=day(at), config=config)
    return _plain(changes)


def event(
    session: Session,
    customer: Customer,
    at: float,
    event_type: str = "email_click",
    *,
    config: LifecycleConfig = RETAIL,
) -> list[tuple[str | None, str, str, object]]:
    """Record an event `at` days after T0 through the fast path; the changes it caused."""
    assert customer.id is not None
    make_event(session, customer, event_type, at=day(at))
    changes = on_event_recorded(
        session=session, customer_id=customer.id, event_type=event_type, at=day(at), config=config
    )
    return _plain(changes)


def _plain(changes: list[StageChange]) -> list[tuple[str | None, str, str, object]]:
    return [(c.from_stage, c.to_stage, c.reason, c.changed_at) for c in changes]


def monthly_buyer(session: Session) -> Customer:
    """Four orders 31 days apart (days 0 to 93): a repeat buyer with a 31-day rhythm."""
    customer = make_contact(session)
    for at in (0, 31, 62, 93):
        order(session, customer, at)
    return customer


def test_an_engagement_event_makes_a_prospect_a_lead_but_a_signup_does_not(
    session: Session,
) -> None:
    customer = make_contact(session)
    assert event(session, customer, 2, "signup") == []
    assert customer.last_engaged_at is None
    assert event(session, customer, 3, "email_open") == [
        ("prospect", "lead", "engaged, no order yet", day(3))
    ]
    assert customer.last_engaged_at == day(3)


def test_a_first_order_records_the_facts_and_makes_a_first_time_buyer(session: Session) -> None:
    customer = make_contact(session)
    assert order(session, customer, 10, 4_500) == [
        ("prospect", "first_time_buyer", "first order", day(10))
    ]
    assert (customer.first_order_at, customer.last_order_at) == (day(10), day(10))
    assert (customer.order_count, customer.net_revenue_minor) == (1, 4_500)
    assert (customer.stage, customer.stage_since) == (Stage.FIRST_TIME_BUYER, day(10))


def test_a_cancelled_order_counts_for_nothing_and_a_second_order_makes_a_repeat_buyer(
    session: Session,
) -> None:
    customer = make_contact(session)
    order(session, customer, 10)
    assert order(session, customer, 20, status=OrderStatus.CANCELLED) == []
    assert (customer.order_count, customer.net_revenue_minor) == (1, 5_000)
    assert order(session, customer, 30) == [("first_time_buyer", "repeat", "2 orders", day(30))]


def test_a_return_below_the_vip_threshold_makes_a_loyal_customer_repeat(
    session: Session,
) -> None:
    customer = make_contact(session)
    for at in (0, 10, 20, 30):
        order(session, customer, at, 10_000)
    assert order(session, customer, 40, 10_000) == [
        ("repeat", "loyal", "5 orders, net revenue at the VIP threshold", day(40))
    ]
    assert order(session, customer, 45, -1, kind=OrderKind.RETURN) == [
        ("loyal", "repeat", "5 orders", day(45))
    ]
    assert (customer.order_count, customer.net_revenue_minor) == (5, 49_999)


def test_a_buyer_long_past_their_sleeping_point_who_buys_is_reactivated_without_a_decay_pass(
    session: Session,
) -> None:
    customer = monthly_buyer(session)
    assert order(session, customer, 300) == [
        ("repeat", "sleeping", "no order for 207 days, 6.6× their usual 31-day rhythm", day(186)),
        ("sleeping", "reactivated", "ordered again after sleeping", day(300)),
    ]


def test_a_sleeping_buyer_who_clicks_is_at_risk_for_the_engagement_window(
    session: Session,
) -> None:
    customer = monthly_buyer(session)
    decay_pass(session=session, as_of=day(200), config=RETAIL)
    assert customer.stage == Stage.SLEEPING
    assert event(session, customer, 210) == [
        (
            "sleeping",
            "at_risk",
            "no order for 117 days, 3.7× their usual 31-day rhythm, but engaged 0 days ago",
            day(210),
        )
    ]
    result = decay_pass(session=session, as_of=day(241), config=RETAIL)
    assert result.changes == {(Stage.AT_RISK, Stage.SLEEPING): 1}
    assert (customer.stage, customer.stage_since) == (Stage.SLEEPING, day(240))


def test_a_sleeping_buyer_who_clicks_stays_asleep_when_configured_to_stay(
    session: Session,
) -> None:
    sleeping = RETAIL.stages.sleeping.model_copy(update={"on_engagement": EngagementResponse.STAY})
    config = RETAIL.model_copy(
        update={"stages": RETAIL.stages.model_copy(update={"sleeping": sleeping})}
    )
    customer = monthly_buyer(session)
    decay_pass(session=session, as_of=day(200), config=config)
    assert event(session, customer, 210, config=config) == []
    assert customer.stage == Stage.SLEEPING


def test_a_reactivated_customer_becomes_repeat_after_two_further_orders(
    session: Session,
) -> None:
    customer = monthly_buyer(session)
    order(session, customer, 300)
    assert order(session, customer, 310) == []
    assert order(session, customer, 320) == [
        ("reactivated", "repeat", "settled after reactivation: 7 orders", day(320))
    ]


def test_mark_lost_moves_a_sleeping_customer_whose_next_order_reactivates_them(
    session: Session,
) -> None:
    customer = monthly_buyer(session)
    assert customer.id is not None
    decay_pass(session=session, as_of=day(200), config=RETAIL)
    change = mark_lost(
        session=session, customer_id=customer.id, at=day(230), reason="no answer to the offer"
    )
    assert (change.from_stage, change.to_stage, change.changed_at) == ("sleeping", "lost", day(230))
    assert event(session, customer, 240) == []
    assert order(session, customer, 400) == [
        ("lost", "reactivated", "ordered again after being lost", day(400))
    ]


def test_mark_lost_refuses_a_customer_who_is_not_sleeping(session: Session) -> None:
    customer = monthly_buyer(session)
    assert customer.id is not None
    with pytest.raises(TransitionNotAllowed, match="repeat → lost"):
        mark_lost(session=session, customer_id=customer.id, at=day(100), reason="x")


def test_the_fast_path_uses_p_alive_of_the_latest_succeeded_run(session: Session) -> None:
    customer = monthly_buyer(session)
    assert customer.id is not None
    make_scores(session, {customer.id: 0.1}, as_of=date(2024, 4, 30))  # day 120
    make_scores(session, {customer.id: 0.9}, as_of=date(2024, 5, 5), status=RunStatus.FAILED)
    assert event(session, customer, 130, "unsubscribe") == [
        ("repeat", "sleeping", "P(alive) 10%, below the 20% threshold", day(120))
    ]


def test_a_late_order_is_applied_no_earlier_than_the_current_stage_began(
    session: Session,
) -> None:
    customer = monthly_buyer(session)
    decay_pass(session=session, as_of=day(150), config=RETAIL)
    assert (customer.stage, customer.stage_since) == (Stage.AT_RISK, day(139.5))
    assert order(session, customer, 130) == [("at_risk", "repeat", "5 orders", day(139.5))]


def test_an_unknown_customer_is_reported(session: Session) -> None:
    with pytest.raises(CustomerNotFound, match="no customer with id 999"):
        on_event_recorded(session=session, customer_id=999, event_type="visit", at=day(1))
