"""record_events: bad events reported and skipped, duplicates counted, effects set-wise."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from domain.customers.models import Customer
from domain.customers.service import ValidationFailed
from domain.db import unit_of_work
from domain.events.models import Event
from domain.events.service import (
    MAX_BATCH,
    CartCheck,
    NewEvent,
    RecordEventsResult,
    RejectedEvent,
    record_events,
)
from domain.stages.models import StageChange
from domain.suggestions.models import Suggestion
from tests.domain.stages.factories import id_of
from tests.factories import channel, grant_consent, make_customer, make_event

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def ago(hours: float) -> datetime:
    return AT - timedelta(hours=hours)


def event(
    customer: Customer | None, key: str, type: str = "email_click", **overrides: Any
) -> NewEvent:
    values: dict[str, Any] = {
        "idempotency_key": key,
        "type": type,
        "occurred_at": ago(1),
        "customer_id": customer.id if customer else None,
    }
    values.update(overrides)
    return NewEvent(**values)


def record(session: Session, *events: NewEvent) -> RecordEventsResult:
    return record_events(session=session, events=events, at=AT)


def stored_keys(session: Session) -> list[str]:
    return list(session.scalars(select(col(Event.idempotency_key)).order_by(col(Event.id))))


def test_good_events_are_stored_and_bad_ones_reported_by_index_and_field(
    session: Session,
) -> None:
    ada = make_customer(session, external_id="ada", stage="repeat")
    result = record(
        session,
        event(ada, "k1", channel="email", properties={"campaign": "winter"}),
        event(None, "k2", customer_id=999_999),
        event(None, "k3", "visit", customer_external_id="ada", channel="web"),
        event(ada, "k4", "Opened Mail"),
        event(ada, "k5", channel="pigeon"),
        event(ada, "k6", occurred_at=AT + timedelta(minutes=10)),
        event(ada, " "),
        event(None, "k8", customer_external_id="nobody"),
        event(ada, "k9", properties=["not", "an", "object"]),
        event(ada, "k10", properties={"note": "a\x00b"}),
        event(ada, "k11", customer_external_id="ada"),
    )

    assert (result.inserted, result.duplicates) == (2, 0)
    assert result.rejected == [
        RejectedEvent(1, "customer", "no customer with id 999999"),
        RejectedEvent(3, "type", "type 'Opened Mail' is not an event name like cart_add"),
        RejectedEvent(4, "channel", "no channel with code 'pigeon'"),
        RejectedEvent(5, "occurred_at", "occurred_at 2026-11-25T12:10:00+00:00 is in the future"),
        RejectedEvent(6, "idempotency_key", "idempotency_key must be 1 to 200 characters"),
        RejectedEvent(7, "customer", "no customer with external id nobody"),
        RejectedEvent(8, "properties", "properties must be a JSON object"),
        RejectedEvent(9, "properties", "properties contains a NUL character"),
        RejectedEvent(10, "customer", "give either the customer's id or external id"),
    ]
    rows = session.scalars(select(Event).order_by(col(Event.id))).all()
    assert [
        (e.idempotency_key, e.customer_id, e.type, e.channel_id, e.properties) for e in rows
    ] == [
        ("k1", ada.id, "email_click", channel(session, "email").id, {"campaign": "winter"}),
        ("k3", ada.id, "visit", channel(session, "web").id, {}),
    ]


def test_stored_events_keep_their_moment_to_the_microsecond_and_nested_properties(
    session: Session,
) -> None:
    ada = make_customer(session)
    moment = datetime(2026, 11, 25, 13, 14, 15, 123_456, tzinfo=timezone(timedelta(hours=2)))
    nested = {"items": [{"sku": "Ü-1", "qty": 2}], "note": 'a "quote"', "ratio": 0.25}

    record(session, event(ada, "k1", occurred_at=moment, properties=nested))

    stored = session.scalars(select(Event)).one()
    assert stored.occurred_at == moment
    assert stored.occurred_at.utcoffset() == timedelta(0)
    assert stored.properties == nested
    assert stored.created_at == AT


def test_duplicates_in_the_batch_and_already_stored_are_counted_not_applied(
    session: Session,
) -> None:
    ada = make_customer(session, stage="repeat")
    make_event(session, ada, "visit", at=ago(30), idempotency_key="old")

    first = record(session, event(ada, "new"), event(ada, "new", "visit"), event(ada, "old"))
    again = record(session, event(ada, "new"), event(ada, "old"))

    assert (first.inserted, first.duplicates, again.inserted, again.duplicates) == (1, 2, 0, 2)
    assert stored_keys(session) == ["old", "new"]
    assert session.scalar(select(func.count()).select_from(Event)) == 2


def test_a_prospect_becomes_a_lead_at_the_first_engagement_and_keeps_the_latest(
    session: Session,
) -> None:
    pia = make_customer(session, created_at=ago(100), stage_since=ago(100))
    result = record(
        session,
        event(pia, "e1", "signup", occurred_at=ago(10)),
        event(pia, "e2", "email_click", occurred_at=ago(3)),
        event(pia, "e3", "visit", occurred_at=ago(5)),
    )

    assert [
        (c.customer_id, c.from_stage, c.to_stage, c.reason, c.changed_at)
        for c in result.stage_changes
    ] == [(pia.id, "prospect", "lead", "engaged, no order yet", ago(5))]
    session.refresh(pia)
    assert (pia.stage, pia.stage_since, pia.last_engaged_at) == ("lead", ago(5), ago(3))


def test_signup_and_unsubscribe_are_stored_but_are_no_engagement(session: Session) -> None:
    pia = make_customer(session)
    result = record(session, event(pia, "s1", "signup"), event(pia, "u1", "unsubscribe"))

    assert (result.inserted, result.stage_changes) == (2, [])
    session.refresh(pia)
    assert (pia.stage, pia.last_engaged_at) == ("prospect", None)


def test_a_sleeping_buyer_who_clicks_is_at_risk_and_a_sleeping_lead_a_lead_again(
    session: Session,
) -> None:
    buyer = make_customer(
        session,
        stage="sleeping",
        stage_since=AT - timedelta(days=20),
        first_order_at=AT - timedelta(days=400),
        last_order_at=AT - timedelta(days=380),
        order_count=2,
        net_revenue_minor=9_000,
    )
    lead = make_customer(
        session,
        stage="sleeping",
        stage_since=AT - timedelta(days=20),
        last_engaged_at=AT - timedelta(days=400),
    )

    result = record(session, event(buyer, "b1", occurred_at=ago(2)), event(lead, "l1", "visit"))

    moves = {c.customer_id: (c.from_stage, c.to_stage) for c in result.stage_changes}
    assert moves == {buyer.id: ("sleeping", "at_risk"), lead.id: ("sleeping", "lead")}


def test_other_customers_only_get_last_engaged_at_raised_never_lowered(
    session: Session,
) -> None:
    fresh = make_customer(session, stage="repeat", last_engaged_at=ago(48))
    recent = make_customer(session, stage="loyal", last_engaged_at=ago(1))

    result = record(
        session,
        event(fresh, "f1", occurred_at=ago(30)),
        event(fresh, "f2", occurred_at=ago(6)),
        event(recent, "r1", occurred_at=ago(20)),
    )

    assert (result.inserted, result.stage_changes) == (3, [])
    assert (fresh.last_engaged_at, recent.last_engaged_at) == (ago(6), ago(1))
    assert session.scalar(select(func.count()).select_from(StageChange)) == 0


def test_a_cart_already_due_becomes_a_suggestion_and_a_fresh_one_a_check_for_later(
    session: Session,
) -> None:
    late = make_customer(session, stage="repeat", timezone="UTC")
    fresh = make_customer(session, stage="repeat", timezone="America/New_York")
    for customer in (late, fresh):
        grant_consent(session, customer, "email")

    result = record(
        session,
        event(late, "c1", "cart_add", occurred_at=ago(30), properties={"quantity": 2}),
        event(fresh, "c2", "cart_add", occurred_at=ago(1)),
    )

    [made] = session.scalars(select(Suggestion))
    assert result.new_suggestion_ids == [made.id]
    assert (made.customer_id, made.type) == (late.id, "abandoned_cart")
    # 11:00 UTC is 06:00 in New York: the cart is due at the end of that local day.
    assert fresh.id is not None
    assert result.cart_checks == [CartCheck(fresh.id, datetime(2026, 11, 26, 5, 0, tzinfo=UTC))]


def test_a_batch_beyond_the_limit_is_refused_whole(session: Session) -> None:
    ada = make_customer(session)
    events = [event(ada, f"k{n}") for n in range(MAX_BATCH + 1)]
    with pytest.raises(ValidationFailed) as refused:
        record(session, *events)
    assert (refused.value.field, refused.value.message) == (
        "events",
        f"a batch may hold at most {MAX_BATCH} events",
    )
    assert stored_keys(session) == []


def test_overlapping_batches_recorded_at_once_both_commit_without_deadlock(
    engine: Engine,
) -> None:
    with unit_of_work(engine) as session:
        ids = [id_of(make_customer(session)) for _ in range(60)]
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def record_batch(name: str, order: list[int]) -> None:
        try:
            batch = [
                NewEvent(f"{name}-{n}", "visit", AT - timedelta(minutes=1), customer_id=c)
                for n, c in enumerate(order)
            ]
            with unit_of_work(engine) as session:
                start.wait(timeout=10)
                record_events(session=session, events=batch, at=AT)
        except BaseException as exc:  # reported below, from the test's thread
            failures.append(exc)

    threads = [
        threading.Thread(target=record_batch, args=("up", ids)),
        threading.Thread(target=record_batch, args=("down", ids[::-1])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 120
        stages = session.scalars(select(col(Customer.stage)).where(col(Customer.id).in_(ids)))
        assert set(stages) == {"lead"}
